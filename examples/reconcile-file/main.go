// Command reconcile-file reconciles a Klarna settlement report against the
// invoices of the ERP, offline, from two files, and writes the payout
// vouchers as SIE for the accounting program and a report of every
// transaction: the accountant's month-end job without any connection to
// Klarna or the ERP.
//
//	go run ./examples/reconcile-file -klarna settlement.csv -invoices invoices.csv \
//		[-bank bank.csv] [-out reconcile-out] [-receivable 1580]
//
// The Klarna report is the payout-with-transactions CSV from Klarna's
// merchant portal or Settlements API, read with klarna.ParsePayoutReport
// (semicolon separated, columns by name; -amounts major when its amounts
// are decimals rather than minor units). Its rows may belong to several
// payouts; each payment_reference is one payout.
//
// The invoices CSV has a header row and these columns (order free, extra
// columns ignored); an invoice with several VAT rates has one row per rate:
//
//	number      invoice or credit invoice number
//	kind        invoice (default) or credit
//	credits     for a credit invoice, the number of the invoice it credits
//	order       the shop's order number (Klarna's merchant_reference1)
//	date        issue date, YYYY-MM-DD
//	currency    ISO 4217 code
//	vat_rate    VAT rate in percent
//	net         amount excluding VAT, positive also on credit invoices
//	vat         VAT amount; empty to compute it from net and rate
//	reference   the Klarna order id, if the ERP kept it (optional)
//	customer    the customer's name (optional)
//	country     the customer's country, ISO code (optional)
//	scheme      domestic (default), oss_union, reverse_charge or export
//
// The bank CSV (optional) has the columns payment_reference, date and
// amount: the deposits on the bank statement. With it every payout is
// booked on its bank date and checked against the deposit; without it the
// payout is the sum of its rows, dated the day after its last row, which
// the report says.
//
// Output in -out: vouchers.si (SIE 4I), reconciliation.json,
// reconciliation.csv and summary.txt, which is also printed. The exit
// status is 1 when a payout could not be booked.
package main

import (
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/klarna"
	"github.com/knyt/knyt/reconcile"
	"github.com/knyt/knyt/reconcile/sie"
	"github.com/knyt/knyt/vat"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "reconcile-file:", err)
		}
		os.Exit(1)
	}
}

type options struct {
	klarna, invoices, bank, out string
	company, orgNumber          string
	receivable, ecb             string
	major                       bool
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	var o options
	fs := flag.NewFlagSet("reconcile-file", flag.ContinueOnError)
	fs.SetOutput(stdout)
	fs.StringVar(&o.klarna, "klarna", "", "Klarna payout-with-transactions CSV (required)")
	fs.StringVar(&o.invoices, "invoices", "", "invoices CSV (required)")
	fs.StringVar(&o.bank, "bank", "", "bank deposits CSV: payment_reference, date, amount")
	fs.StringVar(&o.out, "out", "reconcile-out", "output directory")
	fs.StringVar(&o.company, "company", "Exempel AB", "company name for the SIE file")
	fs.StringVar(&o.orgNumber, "orgnr", "", "organisation number for the SIE file")
	fs.StringVar(&o.receivable, "receivable", "", "receivable account Klarna sales are booked to (default 1686, BAS 2026)")
	fs.StringVar(&o.ecb, "ecb", "", "ECB eurofxref XML, for payouts or invoices not in SEK")
	amounts := fs.String("amounts", "minor", "amounts in the Klarna report: minor (öre) or major (kronor)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.klarna == "" || o.invoices == "" {
		return errors.New("-klarna and -invoices are required")
	}
	switch *amounts {
	case "minor":
	case "major":
		o.major = true
	default:
		return fmt.Errorf("-amounts %q: want minor or major", *amounts)
	}

	rows, err := readKlarna(o.klarna, o.major)
	if err != nil {
		return err
	}
	invoices, err := readInvoices(o.invoices)
	if err != nil {
		return err
	}
	var bank map[string]deposit
	if o.bank != "" {
		if bank, err = readBank(o.bank); err != nil {
			return err
		}
	}
	payouts, notes, err := buildPayouts(rows, bank)
	if err != nil {
		return err
	}

	opts := []reconcile.Option{reconcile.WithSeries("K")}
	plan := reconcile.DefaultAccountPlan()
	if o.receivable != "" {
		plan.Receivable = o.receivable
	}
	opts = append(opts, reconcile.WithAccountPlan(plan))
	if o.ecb != "" {
		f, err := os.Open(o.ecb)
		if err != nil {
			return err
		}
		rates, err := vat.ParseECB(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", o.ecb, err)
		}
		opts = append(opts, reconcile.WithFXRates(rates))
	}
	r, err := reconcile.New(opts...)
	if err != nil {
		return err
	}
	res, err := r.Run(ctx, reconcile.Input{Payouts: payouts, Invoices: invoices})
	if err != nil {
		return err
	}
	return write(o, res, notes, stdout)
}

// write writes the SIE file and the reports, and prints the summary.
func write(o options, res *reconcile.Result, notes []string, stdout io.Writer) error {
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}
	plan := sie.BAS2026()
	if o.receivable != "" {
		if _, ok := plan[o.receivable]; !ok {
			plan[o.receivable] = sie.Account{Name: "Fordringar på betalningsförmedlare"}
		}
	}
	var first commerce.Date
	for _, v := range res.Vouchers {
		if first.IsZero() || v.Date.After(first) {
			first = v.Date
		}
	}
	if first.IsZero() {
		first = commerce.DateOf(time.Now())
	}
	f, err := os.Create(filepath.Join(o.out, "vouchers.si"))
	if err != nil {
		return err
	}
	_, err = sie.NewWriter(plan, sie.WithDefaultSeries("K")).Write(f, sie.Header{Program: "knyt reconcile-file", Version: "1",
		Generated: first, Company: o.company, OrgNumber: o.orgNumber}, res.Vouchers)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("vouchers.si: %w", err)
	}
	for name, fn := range map[string]func(io.Writer) error{"reconciliation.json": res.WriteJSON, "reconciliation.csv": res.WriteCSV} {
		f, err := os.Create(filepath.Join(o.out, name))
		if err != nil {
			return err
		}
		err = fn(f)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	var sum strings.Builder
	sum.WriteString(res.SummaryText())
	for _, n := range notes {
		sum.WriteString("note: " + n + "\n")
	}
	if err := os.WriteFile(filepath.Join(o.out, "summary.txt"), []byte(sum.String()), 0o644); err != nil {
		return err
	}
	fmt.Fprint(stdout, sum.String())
	fmt.Fprintf(stdout, "wrote vouchers.si, reconciliation.json, reconciliation.csv and summary.txt to %s\n", o.out)
	if n := res.Summary.PayoutsNotBooked; n > 0 {
		return fmt.Errorf("%d payouts not booked; see reconciliation.json", n)
	}
	return nil
}

func readKlarna(path string, major bool) ([]klarna.Transaction, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	format := klarna.DefaultReportFormat
	format.MajorUnits = major
	rows, err := format.Parse(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return rows, nil
}

type deposit struct {
	date   time.Time
	amount decimal.Decimal
}

// buildPayouts groups the report's rows by payout and makes each a
// canonical payout, checked against its bank deposit when there is one.
func buildPayouts(rows []klarna.Transaction, bank map[string]deposit) ([]commerce.Payout, []string, error) {
	groups := map[string][]klarna.Transaction{}
	var refs []string
	for _, r := range rows {
		if r.PaymentReference == "" {
			return nil, nil, fmt.Errorf("klarna report: a %s row of order %s has no payment_reference", r.Type, r.OrderID)
		}
		if _, ok := groups[r.PaymentReference]; !ok {
			refs = append(refs, r.PaymentReference)
		}
		groups[r.PaymentReference] = append(groups[r.PaymentReference], r)
	}
	slices.Sort(refs)
	var out []commerce.Payout
	var notes []string
	for _, ref := range refs {
		g := groups[ref]
		cur, err := commerce.ParseCurrency(g[0].CurrencyCode)
		if err != nil {
			return nil, nil, fmt.Errorf("klarna payout %s: %w", ref, err)
		}
		// The rows' own sum: what the payout is when nothing else says.
		probe := klarna.Payout{PaymentReference: ref, CurrencyCode: cur.Code(), MerchantSettlementType: klarna.SettlementNet}
		var sum int64
		last := time.Time{}
		for _, r := range g {
			tx, _, err := klarna.MapTransaction(ref, r)
			if err != nil {
				return nil, nil, fmt.Errorf("klarna payout %s: %w", ref, err)
			}
			n, err := tx.Net.Minor()
			if err != nil {
				return nil, nil, fmt.Errorf("klarna payout %s: %w", ref, err)
			}
			sum += n
			for _, t := range []time.Time{r.CaptureDate, r.SaleDate} {
				if t.After(last) {
					last = t
				}
			}
		}
		probe.Totals.SettlementAmount = sum
		if d, ok := bank[ref]; ok {
			m, err := commerce.ParseMoney(d.amount.String(), cur.Code())
			if err != nil {
				return nil, nil, fmt.Errorf("bank deposit %s: %w", ref, err)
			}
			if probe.Totals.SettlementAmount, err = m.Minor(); err != nil {
				return nil, nil, fmt.Errorf("bank deposit %s: %w", ref, err)
			}
			probe.PayoutDate = d.date
		} else {
			probe.PayoutDate = last.AddDate(0, 0, 1)
			notes = append(notes, fmt.Sprintf("payout %s: no bank deposit given; booked as the rows' sum %s on %s (assumed)",
				ref, commerce.FromMinor(sum, cur), commerce.DateOf(probe.PayoutDate)))
		}
		p, unknown, err := klarna.NormalizePayout(probe, g)
		var mismatch *klarna.SettlementMismatchError
		if errors.As(err, &mismatch) {
			// Booked all the same: reconcile reports the difference and
			// books nothing it cannot balance.
			notes = append(notes, fmt.Sprintf("payout %s: the bank deposit %s differs from the rows' sum %s", ref, mismatch.Settlement, mismatch.Sum))
		} else if err != nil {
			return nil, nil, err
		}
		for _, u := range unknown {
			notes = append(notes, fmt.Sprintf("payout %s: unknown Klarna type %s kept as %s", ref, u.ProviderType, u.Kind))
		}
		p.Status = commerce.PayoutPaid
		out = append(out, p)
	}
	return out, notes, nil
}

// table reads a CSV with a header into rows addressed by column name.
type table struct {
	path string
	col  map[string]int
	rows [][]string
}

func readTable(in io.Reader, path string, need ...string) (*table, error) {
	r := csv.NewReader(in)
	r.FieldsPerRecord = -1
	all, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(all) == 0 {
		return nil, fmt.Errorf("%s: empty", path)
	}
	t := &table{path: path, col: map[string]int{}, rows: all[1:]}
	for i, h := range all[0] {
		t.col[strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))] = i
	}
	for _, n := range need {
		if _, ok := t.col[n]; !ok {
			return nil, fmt.Errorf("%s: no %q column", path, n)
		}
	}
	return t, nil
}

func (t *table) get(row []string, name string) string {
	if i, ok := t.col[name]; ok && i < len(row) {
		return strings.TrimSpace(row[i])
	}
	return ""
}

func readBank(path string) (map[string]deposit, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return parseBank(f, path)
}

// parseBank reads the bank deposits CSV; path names it in errors.
func parseBank(in io.Reader, path string) (map[string]deposit, error) {
	t, err := readTable(in, path, "payment_reference", "date", "amount")
	if err != nil {
		return nil, err
	}
	out := map[string]deposit{}
	for i, row := range t.rows {
		line := i + 2
		d, err := time.Parse("2006-01-02", t.get(row, "date"))
		if err != nil {
			return nil, fmt.Errorf("%s:%d: date: %w", path, line, err)
		}
		a, err := commerce.ParseAmount(t.get(row, "amount"))
		if err != nil {
			return nil, fmt.Errorf("%s:%d: amount: %w", path, line, err)
		}
		ref := t.get(row, "payment_reference")
		if _, dup := out[ref]; dup || ref == "" {
			return nil, fmt.Errorf("%s:%d: payment_reference %q empty or repeated", path, line, ref)
		}
		out[ref] = deposit{date: d, amount: a}
	}
	return out, nil
}

func readInvoices(path string) ([]commerce.Invoice, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return parseInvoices(f, path)
}

// parseInvoices reads the invoices CSV: one row per invoice and VAT rate;
// path names it in errors.
func parseInvoices(in io.Reader, path string) ([]commerce.Invoice, error) {
	t, err := readTable(in, path, "number", "date", "currency", "vat_rate", "net")
	if err != nil {
		return nil, err
	}
	var out []commerce.Invoice
	index := map[string]int{}
	for i, row := range t.rows {
		line := i + 2
		get := func(n string) string { return t.get(row, n) }
		fail := func(field string, err error) error { return fmt.Errorf("%s:%d: %s: %w", path, line, field, err) }
		cur, err := commerce.ParseCurrency(get("currency"))
		if err != nil {
			return nil, fail("currency", err)
		}
		rate, err := commerce.ParseAmount(get("vat_rate"))
		if err != nil || rate.IsNegative() {
			return nil, fail("vat_rate", fmt.Errorf("%q is not a rate in percent", get("vat_rate")))
		}
		net, err := commerce.ParseMoney(get("net"), cur.Code())
		if err != nil {
			return nil, fail("net", err)
		}
		tax := commerce.NewMoney(net.Amount.Mul(rate).DivRound(decimal.NewFromInt(100), int32(cur.Digits())), cur)
		if get("vat") != "" {
			if tax, err = commerce.ParseMoney(get("vat"), cur.Code()); err != nil {
				return nil, fail("vat", err)
			}
		}
		number := get("number")
		if number == "" {
			return nil, fail("number", errors.New("missing"))
		}
		k, ok := index[number]
		if !ok {
			inv, err := newInvoice(get, cur)
			if err != nil {
				return nil, fail("", err)
			}
			out = append(out, inv)
			k = len(out) - 1
			index[number] = k
		}
		inv := &out[k]
		if inv.Currency != cur {
			return nil, fail("currency", fmt.Errorf("invoice %s in %s and %s", number, inv.Currency.Code(), cur.Code()))
		}
		inv.Lines = append(inv.Lines, commerce.InvoiceLine{Description: "moms " + rate.String() + " %", Quantity: decimal.NewFromInt(1),
			UnitPrice: net, VATRatePercent: rate, Net: net, VAT: tax})
	}
	for i := range out {
		inv := &out[i]
		inv.Net, inv.VAT = commerce.Zero(inv.Currency), commerce.Zero(inv.Currency)
		var err error
		for _, l := range inv.Lines {
			if inv.Net, err = inv.Net.Add(l.Net); err == nil {
				inv.VAT, err = inv.VAT.Add(l.VAT)
			}
			if err != nil {
				return nil, fmt.Errorf("%s: invoice %s: %w", path, inv.Number, err)
			}
		}
		if inv.Gross, err = inv.Net.Add(inv.VAT); err != nil {
			return nil, fmt.Errorf("%s: invoice %s: %w", path, inv.Number, err)
		}
		if inv.VATByRate, err = inv.GroupVAT(); err != nil {
			return nil, err
		}
		if err := inv.Validate(); err != nil {
			return nil, fmt.Errorf("%s: invoice %s: %w", path, inv.Number, err)
		}
	}
	return out, nil
}

func newInvoice(get func(string) string, cur commerce.Currency) (commerce.Invoice, error) {
	d, err := commerce.ParseDate(get("date"))
	if err != nil {
		return commerce.Invoice{}, fmt.Errorf("date: %w", err)
	}
	inv := commerce.Invoice{Number: get("number"), Kind: commerce.KindInvoice, Credits: get("credits"), OrderNumber: get("order"),
		IssueDate: d, Currency: cur, PaymentReference: get("reference"),
		Customer: commerce.Customer{Company: get("customer")}, VATCountry: get("country")}
	switch get("kind") {
	case "", "invoice":
	case "credit":
		inv.Kind = commerce.KindCreditInvoice
	default:
		return inv, fmt.Errorf("kind %q: want invoice or credit", get("kind"))
	}
	switch s := commerce.VATScheme(get("scheme")); s {
	case "", commerce.SchemeDomestic:
		inv.VATScheme = commerce.SchemeDomestic
	case commerce.SchemeOSSUnion, commerce.SchemeReverseCharge, commerce.SchemeExport:
		inv.VATScheme = s
	default:
		return inv, fmt.Errorf("scheme %q: want domestic, oss_union, reverse_charge or export", s)
	}
	if inv.Customer.Company != "" {
		inv.Customer.Type = commerce.Business
	}
	return inv, nil
}
