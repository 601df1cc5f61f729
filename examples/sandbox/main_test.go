package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/flow"
	"github.com/knyt/knyt/reconcile"
	"github.com/knyt/knyt/reconcile/sie"
	"github.com/knyt/knyt/vat"
)

// summaryFile is the part of summary.json the tests read.
type summaryFile struct {
	Run struct {
		Flow    string `json:"flow"`
		Chaos   bool   `json:"chaos"`
		Resumed bool   `json:"resumed"`
		Error   string `json:"error"`
	} `json:"run"`
	Counts map[string]map[string]int `json:"counts"`
	Engine struct {
		Restarts int                       `json:"restarts"`
		Faults   map[string]map[string]int `json:"faults_injected"`
	} `json:"engine"`
	Checks      []check `json:"checks"`
	DeadLetters []struct {
		Key, Reason string
	} `json:"dead_letters"`
	Notes []string `json:"notes"`
	Files []string `json:"files"`
}

// sandboxRun runs the program with args and an output directory and
// returns what it printed and its summary.json.
func sandboxRun(t *testing.T, out string, args ...string) (string, summaryFile, error) {
	t.Helper()
	var buf bytes.Buffer
	err := run(context.Background(), append([]string{"-out", out}, args...), &buf)
	var sum summaryFile
	raw, rerr := os.ReadFile(filepath.Join(out, fileSummary))
	if rerr != nil {
		t.Fatalf("no summary.json: %v\n%s", rerr, buf.String())
	}
	if jerr := json.Unmarshal(raw, &sum); jerr != nil {
		t.Fatalf("summary.json: %v", jerr)
	}
	return buf.String(), sum, err
}

func failedChecks(s summaryFile) []string {
	var out []string
	for _, c := range s.Checks {
		if !c.Pass {
			out = append(out, c.Name+": "+c.Detail)
		}
	}
	return out
}

// TestSandbox runs the whole story in each flow, and with faults and
// restarts for two seeds, and checks that every invariant held and every
// output file is there and readable.
func TestSandbox(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"combined", []string{"-orders", "12", "-seed", "1"}},
		{"shop", []string{"-orders", "10", "-seed", "3", "-flow", "shop"}},
		{"erp", []string{"-orders", "10", "-seed", "4", "-flow", "erp"}},
		{"chaos seed 11", []string{"-orders", "12", "-seed", "11", "-chaos"}},
		{"chaos seed 12", []string{"-orders", "12", "-seed", "12", "-chaos"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := t.TempDir()
			printed, sum, err := sandboxRun(t, out, tc.args...)
			if err != nil {
				t.Fatalf("run: %v\nfailed checks: %q\n%s", err, failedChecks(sum), printed)
			}
			if len(sum.Checks) < 10 {
				t.Errorf("%d checks, want the full set", len(sum.Checks))
			}
			if got := sum.Counts["orders"]["shopify"]; got != argInt(tc.args, "-orders") {
				t.Errorf("%d orders in the shop, want %d", got, argInt(tc.args, "-orders"))
			}
			for _, sys := range []string{"klarna", "stripe", "paypal"} {
				if sum.Counts["captures"][sys] == 0 || sum.Counts["payouts reconciled"][sys] == 0 {
					t.Errorf("%s: %d captures, %d payouts reconciled; the story pays with every provider", sys,
						sum.Counts["captures"][sys], sum.Counts["payouts reconciled"][sys])
				}
			}
			if sum.Counts["refunds"]["klarna"]+sum.Counts["refunds"]["stripe"]+sum.Counts["refunds"]["paypal"] != 1 {
				t.Errorf("refunds %v, want one", sum.Counts["refunds"])
			}
			if sum.Run.Chaos && (sum.Engine.Restarts == 0 || totalFaults(sum) == 0) {
				t.Errorf("chaos run with %d restarts and %d faults", sum.Engine.Restarts, totalFaults(sum))
			}
			if !strings.Contains(printed, "checks (read from the fakes' own state)") {
				t.Errorf("no summary table printed:\n%s", printed)
			}
			checkFiles(t, out, sum)
		})
	}
}

func argInt(args []string, name string) int {
	for i, a := range args {
		if a == name && i+1 < len(args) {
			n, _ := strconv.Atoi(args[i+1])
			return n
		}
	}
	return 0
}

func totalFaults(s summaryFile) int {
	n := 0
	for _, kinds := range s.Engine.Faults {
		for _, c := range kinds {
			n += c
		}
	}
	return n
}

// checkFiles reads every output file back with the package that reads
// that format.
func checkFiles(t *testing.T, dir string, sum summaryFile) {
	t.Helper()
	want := []string{fileOSSCSV, fileOSSJSON, fileReconCSV, fileReconJSON, fileSummary, fileSIE}
	if diff := cmp.Diff(want, sum.Files); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
	raw, err := os.ReadFile(filepath.Join(dir, fileSIE))
	if err != nil {
		t.Fatal(err)
	}
	f, err := sie.Read(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("vouchers.si: %v", err)
	}
	if f.Header.Company != sellerName || len(f.Vouchers) == 0 {
		t.Errorf("vouchers.si: company %q, %d vouchers", f.Header.Company, len(f.Vouchers))
	}
	for i := range f.Vouchers {
		if b, err := f.Vouchers[i].Balance(); err != nil || !b.IsZero() {
			t.Errorf("vouchers.si: voucher %s balances to %v (%v)", f.Vouchers[i].ID, b, err)
		}
	}
	rc, err := os.Open(filepath.Join(dir, fileReconCSV))
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	rows, err := csv.NewReader(rc).ReadAll()
	if err != nil || len(rows) < 2 {
		t.Fatalf("reconciliation.csv: %d rows, %v", len(rows), err)
	}
	if diff := cmp.Diff(reconcile.CSVHeader, rows[0]); diff != "" {
		t.Errorf("reconciliation.csv header (-want +got):\n%s", diff)
	}
	var recon struct {
		Summary reconcile.Summary `json:"summary"`
	}
	if err := readJSON(filepath.Join(dir, fileReconJSON), &recon); err != nil || recon.Summary.Payouts == 0 {
		t.Errorf("reconciliation.json: %d payouts, %v", recon.Summary.Payouts, err)
	}
	var oss vat.OSSReturn
	if err := readJSON(filepath.Join(dir, fileOSSJSON), &oss); err != nil {
		t.Fatalf("oss-return.json: %v", err)
	}
	if oss.Period.String() != "2026Q4" || len(oss.Lines) == 0 || !oss.TotalVAT.IsPositive() {
		t.Errorf("oss-return.json: %s, %d lines, VAT %v", oss.Period, len(oss.Lines), oss.TotalVAT)
	}
	if b, err := os.ReadFile(filepath.Join(dir, fileOSSCSV)); err != nil || !strings.HasPrefix(string(b), "kind,") {
		t.Errorf("oss-return.csv: %.40q, %v", b, err)
	}
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// TestSecondRunWithState runs the story twice on one state file: the
// second run, with faults and restarts, must find everything done and
// change nothing in any system.
func TestSecondRunWithState(t *testing.T) {
	state := filepath.Join(t.TempDir(), "knyt.db")
	printed, first, err := sandboxRun(t, t.TempDir(), "-orders", "8", "-seed", "5", "-state", state)
	if err != nil {
		t.Fatalf("first run: %v\n%q\n%s", err, failedChecks(first), printed)
	}
	if first.Run.Resumed {
		t.Fatal("the first run on a new state file says it resumed")
	}
	printed, second, err := sandboxRun(t, t.TempDir(), "-orders", "8", "-seed", "5", "-state", state, "-chaos")
	if err != nil {
		t.Fatalf("second run: %v\n%q\n%s", err, failedChecks(second), printed)
	}
	if !second.Run.Resumed || len(second.Checks) != 3 {
		t.Fatalf("second run: resumed %v, checks %+v", second.Run.Resumed, second.Checks)
	}
	if n := second.Counts["orders"]["specter"]; n != 0 {
		t.Errorf("second run created %d orders in Specter", n)
	}
}

// TestStateWithNewWorkFails shows the exit status: a run on the state of
// a finished run that has more orders to transfer changes something, and
// the "nothing new" invariant fails.
func TestStateWithNewWorkFails(t *testing.T) {
	state := filepath.Join(t.TempDir(), "knyt.db")
	if printed, sum, err := sandboxRun(t, t.TempDir(), "-orders", "4", "-seed", "9", "-state", state); err != nil {
		t.Fatalf("first run: %v\n%q\n%s", err, failedChecks(sum), printed)
	}
	_, sum, err := sandboxRun(t, t.TempDir(), "-orders", "6", "-seed", "9", "-state", state)
	if !errors.Is(err, errInvariants) {
		t.Fatalf("run with new orders on finished state: %v, want errInvariants", err)
	}
	if len(failedChecks(sum)) == 0 {
		t.Error("no failed check in summary.json")
	}
}

func TestFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-flow", "both"},
		{"-orders", "0"},
		{"-orders", "x"},
		{"extra"},
		{"-nope"},
	} {
		if _, err := parseFlags(args, io.Discard); err == nil {
			t.Errorf("%q: no error", args)
		}
	}
	o, err := parseFlags(nil, io.Discard)
	if err != nil || o.out != "sandbox-out" || o.orders != 40 || o.flow != "combined" || o.seed != 1 || o.chaos {
		t.Errorf("defaults: %+v, %v", o, err)
	}
}

// TestSeedData checks the story's own data: the VAT numbers are valid
// (vat.NormalizeNumber), and the planned orders add up and take their VAT
// from the place-of-supply rules.
func TestSeedData(t *testing.T) {
	seller, err := validNumber("SE", sellerOrgBase, "01")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := vat.NormalizeNumber(seller); err != nil {
		t.Errorf("seller %s: %v", seller, err)
	}
	if _, err := validNumber("XX", "1", ""); err == nil {
		t.Error("validNumber completed a number of no country")
	}
	customers := baseCustomers()
	customers[len(customers)-1].VATNumber, err = validNumber("DE", "81234567", "")
	if err != nil {
		t.Fatal(err)
	}
	orders, err := planOrders(newRand(1), 30, customers, simStart)
	if err != nil {
		t.Fatal(err)
	}
	countries := map[string]bool{}
	for _, o := range orders {
		countries[o.Customer.Country] = true
		total := o.Shipping
		for _, l := range o.Lines {
			total = total.Add(l.Gross)
			if !o.Included && !l.Tax.IsZero() {
				t.Errorf("%s: VAT on a reverse-charged line", o.Name)
			}
		}
		if !total.Equal(o.Total) {
			t.Errorf("%s: lines and shipping %s, total %s", o.Name, total, o.Total)
		}
		want := map[string]string{"SE": "25", "DE": "19", "FR": "20", "FI": "25.5"}[o.Customer.Country]
		if o.Customer.business() {
			want = "0"
		}
		if !o.Decision.RatePercent.Equal(decimal.RequireFromString(want)) {
			t.Errorf("%s to %s: VAT %s %%, want %s", o.Name, o.Customer.Country, o.Decision.RatePercent, want)
		}
		if o.Customer.business() && o.Decision.Scheme != commerce.SchemeReverseCharge {
			t.Errorf("%s: business sale under %s", o.Name, o.Decision.Scheme)
		}
	}
	if diff := cmp.Diff(map[string]bool{"SE": true, "DE": true, "FR": true, "FI": true}, countries); diff != "" {
		t.Errorf("countries (-want +got):\n%s", diff)
	}
}

func TestHooks(t *testing.T) {
	valid, err := validNumber("DE", "81234567", "")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		attr    string
		want    commerce.CustomerType
		wantVAT string
		err     bool
	}{
		{attr: "", want: commerce.Consumer},
		{attr: strings.ToLower(valid[:2]) + " " + valid[2:], want: commerce.Business, wantVAT: valid},
		{attr: "DE123456789", err: true}, // a check digit that does not match
	} {
		o := commerce.Order{Number: "#1", Customer: commerce.Customer{Type: commerce.Consumer},
			BillingAddress: &commerce.Address{Company: "Nordlicht Handels GmbH"}}
		if tc.attr != "" {
			o.Attributes = []commerce.Attribute{{Key: attrVATNumber, Value: tc.attr}}
		}
		err := vatNumberHook.Apply(context.Background(), &o, flow.HookInfo{})
		if (err != nil) != tc.err {
			t.Errorf("%q: error %v, want error %v", tc.attr, err, tc.err)
			continue
		}
		if !tc.err && (o.Customer.Type != tc.want || o.Customer.VATNumber != tc.wantVAT) {
			t.Errorf("%q: customer %+v", tc.attr, o.Customer)
		}
		if tc.want == commerce.Business && o.Customer.Company != "Nordlicht Handels GmbH" {
			t.Errorf("%q: company %q from the billing address", tc.attr, o.Customer.Company)
		}
	}
	skip := chargeFilter(func(p *commerce.FixedPrice) string { return p.SKU })
	var se *flow.SkipError
	if err := skip.Apply(context.Background(), &commerce.FixedPrice{SKU: roundingSKU}, flow.HookInfo{}); !errors.As(err, &se) {
		t.Errorf("rounding article: %v, want a skip", err)
	}
	if err := skip.Apply(context.Background(), &commerce.FixedPrice{SKU: "MOSS-GRA"}, flow.HookInfo{}); err != nil {
		t.Errorf("goods: %v", err)
	}
}
