package commerce

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"
)

var update = flag.Bool("update", false, "rewrite golden files")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", name, diff)
	}
}

// sampleOrder is a Swedish order with VAT-inclusive prices, a discount
// spread over two lines and shipping.
func sampleOrder() Order {
	at := time.Date(2026, 11, 20, 9, 30, 0, 0, time.UTC)
	return Order{
		Origin:    Origin{Source: Ref{System: "shopify", Account: "butik", ID: "gid://shopify/Order/1001"}},
		Number:    "#1001",
		CreatedAt: at, UpdatedAt: at,
		Currency: SEK,
		Customer: Customer{Type: Consumer, Email: "åsa@example.se", FirstName: "Åsa", LastName: "Öberg",
			Address: &Address{Line1: "Storgatan 1", PostalCode: "111 22", City: "Stockholm", Country: "SE"}},
		ShippingAddress:  &Address{FirstName: "Åsa", LastName: "Öberg", Line1: "Storgatan 1", PostalCode: "111 22", City: "Stockholm", Country: "SE"},
		PricesIncludeTax: true,
		Lines: []Line{
			{ID: "1", SKU: "TROJA-M", Title: "Tröja M", Quantity: 2, UnitPrice: m("299.00", "SEK"),
				Discounts: []DiscountAllocation{{Amount: m("40.00", "SEK"), Code: "HÖST"}},
				TaxLines:  []TaxLine{{Title: "Moms", RatePercent: d("25"), Amount: m("111.60", "SEK")}}},
			{ID: "2", SKU: "BOK-1", Title: "Bok", Quantity: 1, UnitPrice: m("199.00", "SEK"),
				Discounts: []DiscountAllocation{{Amount: m("10.00", "SEK"), Code: "HÖST"}},
				TaxLines:  []TaxLine{{Title: "Moms", RatePercent: d("6"), Amount: m("10.70", "SEK")}}},
		},
		ShippingLines: []ShippingLine{{Title: "PostNord", Price: m("49.00", "SEK"),
			TaxLines: []TaxLine{{Title: "Moms", RatePercent: d("25"), Amount: m("9.80", "SEK")}}}},
		Totals: Totals{Subtotal: m("797.00", "SEK"), Discounts: m("50.00", "SEK"), Shipping: m("49.00", "SEK"),
			Tax: m("132.10", "SEK"), Total: m("796.00", "SEK")},
		FinancialStatus: FinancialAuthorized, FulfillmentStatus: FulfillmentUnfulfilled, State: OrderOpen,
		Payments: []PaymentRef{{Provider: "klarna", Gateway: "Klarna", Reference: "f3392f8b-6116-4073-ab96-e330819e2c07", Amount: m("796.00", "SEK"), Kind: "authorization"}},
	}
}

func TestOrderTotals(t *testing.T) {
	o := sampleOrder()
	got, err := o.ComputeTotals()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(o.Totals, got); diff != "" {
		t.Errorf("ComputeTotals mismatch (-want +got):\n%s", diff)
	}
	if err := o.CheckTotals(); err != nil {
		t.Errorf("CheckTotals: %v", err)
	}

	// Excluding tax, the tax is added on top.
	ex := sampleOrder()
	ex.PricesIncludeTax = false
	ex.Totals.Total = m("928.10", "SEK")
	if err := ex.CheckTotals(); err != nil {
		t.Errorf("CheckTotals excluding tax: %v", err)
	}

	// A reported total one öre off is reported, with the difference.
	off := sampleOrder()
	off.Totals.Total = m("796.01", "SEK")
	err = off.CheckTotals()
	var tm *TotalsMismatchError
	if !errors.As(err, &tm) {
		t.Fatalf("CheckTotals = %v, want a TotalsMismatchError", err)
	}
	want := &TotalsMismatchError{Order: "#1001", Field: "total", Reported: m("796.01", "SEK"), Computed: m("796.00", "SEK"), Difference: m("0.01", "SEK")}
	if diff := cmp.Diff(want, tm); diff != "" {
		t.Errorf("mismatch error (-want +got):\n%s", diff)
	}

	// A line in another currency cannot be summed.
	mixed := sampleOrder()
	mixed.Lines[1].UnitPrice = m("19.90", "EUR")
	if _, err := mixed.ComputeTotals(); !errors.Is(err, ErrCurrencyMismatch) {
		t.Errorf("ComputeTotals with a EUR line = %v", err)
	}
}

func fieldsOf(err error) []string {
	var out []string
	for _, fe := range FieldErrors(err) {
		out = append(out, fe.Field)
	}
	return out
}

func TestOrderValidate(t *testing.T) {
	if err := func() *Order { o := sampleOrder(); return &o }().Validate(); err != nil {
		t.Fatalf("valid order: %v", err)
	}
	tests := []struct {
		name   string
		mutate func(*Order)
		fields []string
	}{
		{"missing number", func(o *Order) { o.Number = "" }, []string{"number"}},
		{"missing sku", func(o *Order) { o.Lines[0].SKU = "" }, []string{"lines[0].sku"}},
		{"negative quantity", func(o *Order) { o.Lines[1].Quantity = -1 }, []string{"lines[1].quantity"}},
		{"line in other currency", func(o *Order) { o.Lines[0].UnitPrice = m("29.90", "EUR") }, []string{"lines[0].unit_price.currency"}},
		{"inexact total", func(o *Order) { o.Totals.Total = m("796.001", "SEK") }, []string{"totals.total"}},
		{"bad country", func(o *Order) { o.ShippingAddress.Country = "SW" }, []string{"shipping_address.country"}},
		{"bad email", func(o *Order) { o.Customer.Email = "not an address" }, []string{"customer.email"}},
		{"negative discount", func(o *Order) { o.Lines[0].Discounts[0].Amount = m("-1", "SEK") }, []string{"lines[0].discounts[0].amount"}},
		{"negative tax rate", func(o *Order) { o.Lines[0].TaxLines[0].RatePercent = d("-25") }, []string{"lines[0].tax_lines[0].rate_percent"}},
		{"no lines", func(o *Order) { o.Lines = nil }, []string{"lines"}},
		{"several at once", func(o *Order) { o.Number = ""; o.Lines[0].SKU = "" }, []string{"number", "lines[0].sku"}},
		{"gift card without sku", func(o *Order) { o.Lines[0].SKU = ""; o.Lines[0].GiftCard = true }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := sampleOrder()
			tt.mutate(&o)
			err := o.Validate()
			if diff := cmp.Diff(tt.fields, fieldsOf(err)); diff != "" {
				t.Errorf("fields at fault (-want +got):\n%s\nerror: %v", diff, err)
			}
			if tt.fields != nil && !errors.Is(err, ErrInvalid) {
				t.Errorf("error %v does not match ErrInvalid", err)
			}
		})
	}
	o := sampleOrder()
	o.Lines[0].SKU = ""
	if got := o.Validate().Error(); !strings.Contains(got, `lines[0].sku: missing`) {
		t.Errorf("message %q does not name the field", got)
	}
}

func TestOrderJSONGolden(t *testing.T) {
	o := sampleOrder()
	b, err := json.MarshalIndent(o, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "order.golden.json", append(b, '\n'))
	var back Order
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(o, back); diff != "" {
		t.Errorf("round trip mismatch (-want +got):\n%s", diff)
	}
}

// FuzzOrderJSON feeds arbitrary bytes to the Order decoder and everything
// built on it: nothing may panic, and a decoded order survives a round trip.
func FuzzOrderJSON(f *testing.F) {
	b, _ := json.Marshal(sampleOrder())
	f.Add(b)
	f.Add([]byte(`{"number":"1","currency":"SEK","lines":[{"sku":"A","quantity":-1,"unit_price":{"amount":"1e99999","currency":"SEK"}}]}`))
	f.Add([]byte(`{"currency":"XXX"}`))
	f.Add([]byte(`{"lines":[{"unit_price":{"amount":"1.001","currency":"JPY"},"discounts":[{"amount":{"amount":"-1","currency":"EUR"}}]}]}`))
	f.Add([]byte(`{"totals":{"total":{"amount":"99999999999999999999999999999999999999","currency":"SEK"}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var o Order
		if err := json.Unmarshal(data, &o); err != nil {
			return
		}
		_ = o.Validate()
		_, _ = o.ComputeTotals()
		_ = o.CheckTotals()
		out, err := json.Marshal(o)
		if err != nil {
			return // a decoded order may lack currencies that Marshal requires
		}
		var back Order
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatalf("re-decoding our own output failed: %v\n%s", err, out)
		}
	})
}

func TestDate(t *testing.T) {
	dt, err := ParseDate("2026-02-28")
	if err != nil {
		t.Fatal(err)
	}
	if got := dt.AddDays(1).String(); got != "2026-03-01" {
		t.Errorf("AddDays = %s", got)
	}
	for _, bad := range []string{"2026-02-30", "2026-2-1", "20260201", "", "2026-13-01"} {
		if _, err := ParseDate(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseDate(%q) = %v, want ErrInvalid", bad, err)
		}
	}
	stockholm, err := time.LoadLocation("Europe/Stockholm")
	if err != nil {
		t.Skip("no tzdata:", err)
	}
	// 23:30 UTC on 31 March is already 1 April in Stockholm.
	instant := time.Date(2026, 3, 31, 23, 30, 0, 0, time.UTC)
	if got := DateIn(instant, stockholm); got != NewDate(2026, 4, 1) {
		t.Errorf("DateIn = %v", got)
	}
	if !NewDate(2026, 1, 1).Before(NewDate(2026, 1, 2)) || NewDate(2027, 1, 1).Compare(NewDate(2026, 12, 31)) != 1 {
		t.Error("Compare is wrong")
	}
	var back Date
	b, _ := json.Marshal(dt)
	if err := json.Unmarshal(b, &back); err != nil || back != dt {
		t.Errorf("JSON round trip = %v, %v", back, err)
	}
	if (Date{2026, 2, 30}).Valid() {
		t.Error("2026-02-30 reported valid")
	}
}

func TestProductValidate(t *testing.T) {
	rate := d("25")
	p := Product{Title: "Mössa", Variants: []Variant{
		{SKU: "MOSSA-BLA", Price: m("149", "SEK"), VATRatePercent: &rate, Stock: []StockLevel{{SKU: "MOSSA-BLA", Location: "lager", Available: 3}}},
		{SKU: "MOSSA-ROD", Price: m("149", "SEK")},
	}}
	if err := p.Validate(); err != nil {
		t.Fatalf("valid product: %v", err)
	}
	p.Variants[1].SKU = "MOSSA-BLA"
	p.Variants[0].Price = m("-1", "SEK")
	cmpAt := m("199", "EUR")
	p.Variants[0].CompareAtPrice = &cmpAt
	want := []string{"variants[0].price", "variants[0].compare_at_price.currency", "variants[1].sku"}
	if diff := cmp.Diff(want, fieldsOf(p.Validate())); diff != "" {
		t.Errorf("fields (-want +got):\n%s", diff)
	}
	if got, ok := p.Variant("MOSSA-BLA"); !ok || got != &p.Variants[0] {
		t.Error("Variant lookup failed")
	}
	pl := PriceList{Name: "B2B", Currency: EUR, Prices: []FixedPrice{{SKU: "A", Price: m("1", "EUR")}, {SKU: "A", Price: m("2", "SEK")}, {Price: m("1", "EUR")}}}
	want = []string{"prices[1].price.currency", "prices[1].sku", "prices[2].sku"}
	if diff := cmp.Diff(want, fieldsOf(pl.Validate())); diff != "" {
		t.Errorf("price list fields (-want +got):\n%s", diff)
	}
}

func TestInvoiceValidateAndGroup(t *testing.T) {
	inv := Invoice{Kind: KindInvoice, Number: "F1", Currency: SEK, IssueDate: NewDate(2026, 11, 20),
		Lines: []InvoiceLine{
			{Description: "Tröja", Quantity: d("2"), UnitPrice: m("239.20", "SEK"), VATRatePercent: d("25"), Net: m("446.40", "SEK"), VAT: m("111.60", "SEK")},
			{Description: "Bok", Quantity: d("1"), UnitPrice: m("178.30", "SEK"), VATRatePercent: d("6"), Net: m("178.30", "SEK"), VAT: m("10.70", "SEK")},
			{Description: "Frakt", Quantity: d("1"), UnitPrice: m("39.20", "SEK"), VATRatePercent: d("25"), Net: m("39.20", "SEK"), VAT: m("9.80", "SEK")},
		},
		Net: m("663.90", "SEK"), VAT: m("132.10", "SEK"), Gross: m("796.00", "SEK")}
	if err := inv.Validate(); err != nil {
		t.Fatalf("valid invoice: %v", err)
	}
	groups, err := inv.GroupVAT()
	if err != nil {
		t.Fatal(err)
	}
	want := []VATAmount{
		{RatePercent: d("6"), Taxable: m("178.30", "SEK"), VAT: m("10.70", "SEK")},
		{RatePercent: d("25"), Taxable: m("485.60", "SEK"), VAT: m("121.40", "SEK")},
	}
	if diff := cmp.Diff(want, groups); diff != "" {
		t.Errorf("GroupVAT (-want +got):\n%s", diff)
	}
	if got := inv.Signed(inv.Gross); !got.Equal(inv.Gross) {
		t.Errorf("Signed invoice = %v", got)
	}

	bad := inv
	bad.Gross = m("796.01", "SEK")
	bad.Kind = KindCreditInvoice
	if diff := cmp.Diff([]string{"credits", "gross"}, fieldsOf(bad.Validate())); diff != "" {
		t.Errorf("fields (-want +got):\n%s", diff)
	}
	credit := inv
	credit.Kind, credit.Credits = KindCreditInvoice, "F1"
	if got := credit.Signed(credit.Gross); !got.Equal(m("-796", "SEK")) {
		t.Errorf("Signed credit = %v", got)
	}
}

func tx(kind TransactionKind, amount, fee, feeVAT, net string) Transaction {
	return Transaction{ID: "t-" + string(kind) + amount, Provider: "klarna", Kind: kind, ProviderType: strings.ToUpper(string(kind)),
		Amount: m(amount, "SEK"), Fee: m(fee, "SEK"), FeeVAT: m(feeVAT, "SEK"), Net: m(net, "SEK")}
}

func TestPayoutSumsAndSigns(t *testing.T) {
	p := Payout{ID: "P1", Provider: "klarna", Amount: m("1652.50", "SEK"), ArrivalDate: NewDate(2026, 11, 21),
		Transactions: []Transaction{
			tx(TxSale, "1000.00", "25.00", "6.25", "968.75"),
			tx(TxSale, "800.00", "20.00", "5.00", "775.00"),
			tx(TxRefund, "-100.00", "0", "0", "-100.00"),
			tx(TxFee, "0", "7.00", "1.75", "-8.75"),
			tx(TxHoldback, "-10.00", "0", "0", "-10.00"),
			tx(TxRelease, "27.50", "0", "0", "27.50"),
			tx(TxPayout, "-1652.50", "0", "0", "-1652.50"),
		}}
	if err := p.Validate(); err != nil {
		t.Fatalf("valid payout: %v", err)
	}
	p.Amount = m("1652.49", "SEK")
	diff, err := p.Difference()
	if err != nil || !diff.Equal(m("-0.01", "SEK")) {
		t.Errorf("Difference = %v, %v", diff, err)
	}
	if err := p.Validate(); err == nil || !strings.Contains(err.Error(), "differ from the payout by -0.01") {
		t.Errorf("Validate of a payout off by one öre: %v", err)
	}
	bad := tx(TxSale, "100.00", "2.00", "0.50", "98.00")
	if diff := cmp.Diff([]string{"net"}, fieldsOf(bad.Validate())); diff != "" {
		t.Errorf("net check (-want +got):\n%s", diff)
	}
	feeBack := tx(TxFeeRefund, "0", "-2.00", "-0.50", "2.50")
	if err := feeBack.Validate(); err != nil {
		t.Errorf("a fee given back: %v", err)
	}
	unknown := tx("mystery", "1", "0", "0", "1")
	if diff := cmp.Diff([]string{"kind"}, fieldsOf(unknown.Validate())); diff != "" {
		t.Errorf("kind check (-want +got):\n%s", diff)
	}
}

func TestRefundAndReturnValidate(t *testing.T) {
	r := Refund{ID: "R1", OrderNumber: "#1001", Amount: m("100", "SEK"), Shipping: m("49", "SEK"),
		Lines: []RefundLine{{SKU: "A", Quantity: 1, Amount: m("51", "SEK")}}}
	if err := r.Validate(); err != nil {
		t.Fatalf("valid refund: %v", err)
	}
	r.Lines[0].Amount = m("52", "SEK")
	if diff := cmp.Diff([]string{"amount"}, fieldsOf(r.Validate())); diff != "" {
		t.Errorf("refund over its parts (-want +got):\n%s", diff)
	}
	// A refund paying back less than its parts are worth says by how much.
	r.Discrepancy = m("1", "SEK")
	if err := r.Validate(); err != nil {
		t.Errorf("refund with its discrepancy: %v", err)
	}
	r.Discrepancy = m("1", "EUR")
	if diff := cmp.Diff([]string{"discrepancy.currency", "amount"}, fieldsOf(r.Validate())); diff != "" {
		t.Errorf("discrepancy in another currency (-want +got):\n%s", diff)
	}
	ret := Return{ID: "RET1", OrderNumber: "#1001", Lines: []ReturnLine{{SKU: "A", Quantity: 0}}}
	if diff := cmp.Diff([]string{"lines[0].quantity"}, fieldsOf(ret.Validate())); diff != "" {
		t.Errorf("return (-want +got):\n%s", diff)
	}
	c := Capture{PaymentReference: "x", Amount: m("0", "SEK")}
	if diff := cmp.Diff([]string{"amount"}, fieldsOf(c.Validate())); diff != "" {
		t.Errorf("zero capture (-want +got):\n%s", diff)
	}
}

func TestVoucherBalance(t *testing.T) {
	v := Voucher{ID: "V1", Date: NewDate(2026, 11, 21), Text: "Klarna utbetalning", Postings: []Posting{
		{Account: "1930", Amount: m("968.75", "SEK")},
		{Account: "6570", Amount: m("25.00", "SEK")},
		{Account: "2641", Amount: m("6.25", "SEK")},
		{Account: "1580", Amount: m("-1000.00", "SEK"), Dimensions: []Dimension{{Dim: 1, Object: "WEB"}}},
	}}
	if err := v.Validate(); err != nil {
		t.Fatalf("balanced voucher: %v", err)
	}
	v.Postings[0].Amount = m("968.74", "SEK")
	var ue *UnbalancedError
	if err := v.Validate(); !errors.As(err, &ue) || !ue.Sum.Equal(m("-0.01", "SEK")) || !errors.Is(err, ErrInvalid) {
		t.Errorf("unbalanced voucher: %v", err)
	}
	v.Postings[1].Amount = m("25", "EUR")
	if diff := cmp.Diff([]string{"postings[1].amount.currency"}, fieldsOf(v.Validate())); diff != "" {
		t.Errorf("mixed voucher (-want +got):\n%s", diff)
	}
}

func TestCustomerAndAddress(t *testing.T) {
	c := Customer{Type: "robot", Email: "a@b.se", Address: &Address{Country: ""}}
	if diff := cmp.Diff([]string{"type", "address.country"}, fieldsOf(c.Validate())); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if got := (Customer{FirstName: "Åsa", LastName: "Öberg"}).Name(); got != "Åsa Öberg" {
		t.Errorf("Name = %q", got)
	}
	if !IsCountry("XK") || IsCountry("EL") || !IsEUMember("SE") || IsEUMember("NO") {
		t.Error("country tables are wrong")
	}
}

func TestFulfillmentAndEvent(t *testing.T) {
	f := Fulfillment{OrderNumber: "#1", Lines: []FulfillmentLine{{SKU: "A", Quantity: 0}}, Tracking: []Tracking{{}}}
	if diff := cmp.Diff([]string{"lines[0].quantity", "tracking[0].number"}, fieldsOf(f.Validate())); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	e := OrderEvent{ID: "e1", Kind: "shipped", OrderNumber: "#1"}
	if diff := cmp.Diff([]string{"kind"}, fieldsOf(e.Validate())); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestAllocateDiscountOverLines(t *testing.T) {
	// A 50 kr order discount spread over the sample's line values.
	o := sampleOrder()
	var ws []decimal.Decimal
	for _, l := range o.Lines {
		ws = append(ws, l.UnitPrice.Amount.Mul(decimal.NewFromInt(int64(l.Quantity))))
	}
	parts, err := m("50", "SEK").Allocate(ws)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]Money{m("37.52", "SEK"), m("12.48", "SEK")}, parts); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	var buf bytes.Buffer
	for _, p := range parts {
		buf.WriteString(p.String() + ";")
	}
	if buf.String() != "37.52 SEK;12.48 SEK;" {
		t.Errorf("String = %q", buf.String())
	}
}
