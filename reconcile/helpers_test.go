package reconcile

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"

	"github.com/knyt/knyt/commerce"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// m parses an exact amount in a currency, failing the test on error.
func m(t testing.TB, amount, cur string) commerce.Money {
	t.Helper()
	v, err := commerce.ParseMoney(amount, cur)
	if err != nil {
		t.Fatalf("money %s %s: %v", amount, cur, err)
	}
	return v
}

func sek(t testing.TB, amount string) commerce.Money { return m(t, amount, "SEK") }

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func date(s string) commerce.Date {
	d, err := commerce.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

func at(s string) time.Time {
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return v
}

// tx builds a canonical transaction with Net = Amount − Fee − FeeVAT.
func tx(t testing.TB, id string, kind commerce.TransactionKind, ptype, cur, amount, fee, feeVAT string, refs commerce.TxReferences) commerce.Transaction {
	t.Helper()
	x := commerce.Transaction{ID: id, Kind: kind, ProviderType: ptype, Amount: m(t, amount, cur), References: refs}
	if fee != "" {
		x.Fee = m(t, fee, cur)
	}
	if feeVAT != "" {
		x.FeeVAT = m(t, feeVAT, cur)
	}
	net, err := x.ComputeNet()
	if err != nil {
		t.Fatal(err)
	}
	x.Net = net
	return x
}

// payout builds a paid payout whose amount is the sum of its
// transactions' nets (rows of kind payout excepted), with provider and
// payout id set on every transaction.
func payout(t testing.TB, provider, id, arrival string, txs ...commerce.Transaction) commerce.Payout {
	t.Helper()
	p := commerce.Payout{ID: id, Provider: provider, Status: commerce.PayoutPaid, ArrivalDate: date(arrival), Reference: id}
	cur := commerce.SEK
	if len(txs) > 0 {
		cur = txs[0].Amount.Currency
	}
	p.Amount = commerce.Zero(cur)
	for i := range txs {
		txs[i].Provider, txs[i].PayoutID = provider, id
		if txs[i].At.IsZero() {
			txs[i].At = date(arrival).AddDays(-3).Time(time.UTC)
		}
	}
	p.Transactions = txs
	diff, err := p.Difference()
	if err != nil {
		t.Fatal(err)
	}
	p.Amount = diff.Neg()
	return p
}

// invoice builds an invoice (or credit invoice) of one line at a rate,
// from its gross.
func invoice(t testing.TB, kind commerce.InvoiceKind, number, order, cur, gross, rate, issued string) commerce.Invoice {
	t.Helper()
	g := m(t, gross, cur)
	r := dec(rate)
	vatAmt := commerce.NewMoney(g.Amount.Mul(r).DivRound(r.Add(decimal.NewFromInt(100)), g.Currency.Digits()), g.Currency)
	net, _ := g.Sub(vatAmt)
	inv := commerce.Invoice{
		Kind: kind, Number: number, OrderNumber: order, Currency: g.Currency, IssueDate: date(issued),
		Lines: []commerce.InvoiceLine{{Description: "Varor", Quantity: decimal.NewFromInt(1), UnitPrice: net, VATRatePercent: r, Net: net, VAT: vatAmt}},
		Net:   net, VAT: vatAmt, Gross: g, VATScheme: commerce.SchemeDomestic, VATCountry: "SE",
	}
	if kind == commerce.KindCreditInvoice {
		inv.Credits = "?"
	}
	return inv
}

// golden compares got with testdata/name, rewriting it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (-want +got):\n%s", path, cmp.Diff(string(want), string(got)))
	}
}

// posting is a compact expected posting.
type posting struct {
	Account string
	Amount  string
}

func postingsOf(vo commerce.Voucher) []posting {
	out := make([]posting, len(vo.Postings))
	for i, p := range vo.Postings {
		out[i] = posting{p.Account, p.Amount.Amount.StringFixed(p.Amount.Currency.Digits())}
	}
	return out
}
