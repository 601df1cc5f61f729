// Command oss computes a quarter's One Stop Shop (Union scheme) VAT return
// from a CSV of distance sales and the ECB's euro reference rates.
//
//	go run ./examples/oss -sales sales.csv -ecb eurofxref-hist.xml \
//		-quarter 2026Q3 -vat SE556737043101 -out oss-out
//
// The sales CSV has a header row and these columns (order free, extra
// columns ignored):
//
//	date       invoice date, YYYY-MM-DD
//	country    member state of consumption (ISO code or VAT prefix)
//	currency   ISO 4217 code of the amounts
//	rate       VAT rate in percent (25.5 for 25.5 %)
//	net        taxable amount excluding VAT; negative for a credit
//	vat        VAT amount; empty to compute it from net and rate
//	services   "true" for electronically supplied services (optional)
//	corrects   the quarter (2026Q2) a credit or correction belongs to, when
//	           it corrects a sale declared in an earlier return (optional)
//	reference  invoice number (optional)
//
// It writes oss-return.csv and oss-return.json to -out and prints a summary.
package main

import (
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/vat"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "oss:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("oss", flag.ContinueOnError)
	salesPath := fs.String("sales", "", "CSV of sales (required)")
	ecbPath := fs.String("ecb", "", "ECB eurofxref XML, daily or historical (required)")
	quarter := fs.String("quarter", "", "the return's quarter, e.g. 2026Q3 (required)")
	vatNo := fs.String("vat", "", "the seller's VAT number in the member state of identification (required)")
	out := fs.String("out", "oss-out", "output directory")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *salesPath == "" || *ecbPath == "" || *quarter == "" || *vatNo == "" {
		return errors.New("-sales, -ecb, -quarter and -vat are required")
	}
	q, err := vat.ParseQuarter(*quarter)
	if err != nil {
		return err
	}
	number, err := vat.NormalizeNumber(*vatNo)
	if err != nil {
		return err
	}
	sales, err := readSales(*salesPath, q)
	if err != nil {
		return err
	}
	f, err := os.Open(*ecbPath)
	if err != nil {
		return err
	}
	defer f.Close()
	rates, err := vat.ParseECB(f)
	if err != nil {
		return err
	}
	ret, err := vat.BuildOSSReturn(number, q, sales, rates)
	if err != nil {
		return err
	}
	csvOut, err := ret.CSV()
	if err != nil {
		return err
	}
	jsonOut, err := ret.JSON()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	for name, b := range map[string][]byte{"oss-return.csv": csvOut, "oss-return.json": jsonOut} {
		if err := os.WriteFile(filepath.Join(*out, name), b, 0o644); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "OSS return %s for %s, due %s\n", ret.Period, ret.VATNumber, ret.Due)
	for _, l := range ret.Lines {
		fmt.Fprintf(stdout, "  %-2s %-8s %5s %%  taxable %12s  VAT %10s\n", l.Country, l.Supply, l.RatePercent, l.Taxable.Amount.StringFixed(2), l.VAT.Amount.StringFixed(2))
	}
	for _, c := range ret.Corrections {
		fmt.Fprintf(stdout, "  correction of %s %-2s VAT %10s\n", c.Period, c.Country, c.VAT.Amount.StringFixed(2))
	}
	fmt.Fprintf(stdout, "  total VAT %s EUR; written to %s\n", ret.TotalVAT.Amount.StringFixed(2), *out)
	return nil
}

// readSales reads the sales CSV into OSS rows, naming the line of any error.
func readSales(path string, q vat.Quarter) ([]vat.OSSSale, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: header: %w", path, err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.ToLower(strings.TrimSpace(h))] = i
	}
	for _, need := range []string{"date", "country", "currency", "rate", "net"} {
		if _, ok := col[need]; !ok {
			return nil, fmt.Errorf("%s: no %q column", path, need)
		}
	}
	var sales []vat.OSSSale
	for line := 2; ; line++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return sales, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		get := func(name string) string {
			if i, ok := col[name]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		s, err := parseSale(get, q)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		sales = append(sales, s)
	}
}

func parseSale(get func(string) string, q vat.Quarter) (vat.OSSSale, error) {
	date, err := commerce.ParseDate(get("date"))
	if err != nil {
		return vat.OSSSale{}, err
	}
	rate, err := commerce.ParseAmount(get("rate"))
	if err != nil {
		return vat.OSSSale{}, fmt.Errorf("rate: %w", err)
	}
	net, err := commerce.ParseMoney(get("net"), get("currency"))
	if err != nil {
		return vat.OSSSale{}, fmt.Errorf("net: %w", err)
	}
	s := vat.OSSSale{Country: get("country"), RatePercent: rate, Taxable: net, Reference: get("reference"),
		Services: get("services") == "true", Period: vat.QuarterOf(date)}
	if v := get("vat"); v != "" {
		if s.VAT, err = commerce.ParseMoney(v, get("currency")); err != nil {
			return vat.OSSSale{}, fmt.Errorf("vat: %w", err)
		}
	} else {
		a, err := vat.FromNet(net, rate)
		if err != nil {
			return vat.OSSSale{}, err
		}
		s.VAT = a.VAT
	}
	if c := get("corrects"); c != "" {
		if s.Period, err = vat.ParseQuarter(c); err != nil {
			return vat.OSSSale{}, fmt.Errorf("corrects: %w", err)
		}
	} else if s.Period != q {
		return vat.OSSSale{}, fmt.Errorf("dated %s, outside %s, and not marked as correcting an earlier quarter", date, q)
	}
	return s, nil
}
