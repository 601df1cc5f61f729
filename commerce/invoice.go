package commerce

import (
	"fmt"
	"slices"

	"github.com/shopspring/decimal"
)

// InvoiceKind tells invoices from credit invoices.
type InvoiceKind string

// Invoice kinds.
const (
	KindInvoice       InvoiceKind = "invoice"
	KindCreditInvoice InvoiceKind = "credit"
)

// VATScheme is how VAT applies to a sale.
type VATScheme string

// VAT schemes.
const (
	SchemeDomestic      VATScheme = "domestic"       // seller-country VAT (also under the distance-sales threshold)
	SchemeOSSUnion      VATScheme = "oss_union"      // destination VAT declared through the One Stop Shop
	SchemeReverseCharge VATScheme = "reverse_charge" // intra-EU B2B supply, the buyer accounts for VAT
	SchemeExport        VATScheme = "export"         // outside the EU, 0 %
	// SchemeDestinationLocal is destination VAT declared through a local
	// registration in the buyer's member state (past the threshold, not in
	// OSS).
	SchemeDestinationLocal VATScheme = "destination_local"
)

// Invoice is an invoice or a credit invoice from the ERP. Amounts on a
// credit invoice are positive; Kind says it reduces. Lines are excluding VAT.
type Invoice struct {
	Origin
	Kind        InvoiceKind   `json:"kind"`
	Number      string        `json:"number"`
	Credits     string        `json:"credits,omitempty"` // the number of the invoice a credit invoice credits
	OrderNumber string        `json:"order_number,omitempty"`
	Customer    Customer      `json:"customer"`
	IssueDate   Date          `json:"issue_date"`
	DueDate     Date          `json:"due_date,omitzero"`
	Currency    Currency      `json:"currency"`
	Lines       []InvoiceLine `json:"lines"`
	Net         Money         `json:"net"`
	VAT         Money         `json:"vat"`
	Gross       Money         `json:"gross"`
	VATByRate   []VATAmount   `json:"vat_by_rate,omitempty"`
	// VATCountry is the member state whose VAT is charged (the country of
	// consumption under OSS); VATScheme how it applies.
	VATCountry string    `json:"vat_country,omitempty"`
	VATScheme  VATScheme `json:"vat_scheme,omitempty"`
	// PaymentReference is the PSP reference or OCR the payment will carry.
	PaymentReference string `json:"payment_reference,omitempty"`
	Paid             bool   `json:"paid,omitempty"`
}

// InvoiceLine is a line excluding VAT.
type InvoiceLine struct {
	SKU            string          `json:"sku,omitempty"`
	Description    string          `json:"description"`
	Quantity       decimal.Decimal `json:"quantity"`
	UnitPrice      Money           `json:"unit_price"`
	VATRatePercent decimal.Decimal `json:"vat_rate_percent"`
	Net            Money           `json:"net"`
	VAT            Money           `json:"vat"`
}

// VATAmount is the taxable amount and VAT at one rate.
type VATAmount struct {
	RatePercent decimal.Decimal `json:"rate_percent"`
	Taxable     Money           `json:"taxable"`
	VAT         Money           `json:"vat"`
}

// IsCredit reports whether the invoice is a credit invoice.
func (inv *Invoice) IsCredit() bool { return inv.Kind == KindCreditInvoice }

// Signed returns m negated for a credit invoice, so that sums over invoices
// and credits net out.
func (inv *Invoice) Signed(m Money) Money {
	if inv.IsCredit() {
		return m.Neg()
	}
	return m
}

// Validate checks the number, kind, currency, exact amounts, that the lines
// sum to Net, Net + VAT = Gross, and that a credit invoice names what it
// credits.
func (inv *Invoice) Validate() error {
	var v validator
	if inv.Number == "" {
		v.add("number", "", "missing")
	}
	switch inv.Kind {
	case KindInvoice:
	case KindCreditInvoice:
		if inv.Credits == "" {
			v.add("credits", "", "a credit invoice must name the invoice it credits")
		}
	default:
		v.add("kind", string(inv.Kind), "not invoice or credit")
	}
	if inv.Currency.IsZero() {
		v.add("currency", "", "missing")
		return v.err()
	}
	if !inv.IssueDate.IsZero() && !inv.IssueDate.Valid() {
		v.add("issue_date", inv.IssueDate.String(), "not a calendar date")
	}
	before := len(v.errs)
	for _, p := range []struct {
		name string
		m    Money
	}{{"net", inv.Net}, {"vat", inv.VAT}, {"gross", inv.Gross}} {
		checkMoney(&v, p.name, p.m, inv.Currency, true)
	}
	net := Zero(inv.Currency)
	for i, l := range inv.Lines {
		f := fmt.Sprintf("lines[%d]", i)
		if l.Quantity.IsNegative() {
			v.add(f+".quantity", l.Quantity.String(), "negative quantity")
		}
		checkMoney(&v, f+".net", l.Net, inv.Currency, true)
		checkMoney(&v, f+".vat", l.VAT, inv.Currency, true)
		if l.VATRatePercent.IsNegative() {
			v.add(f+".vat_rate_percent", l.VATRatePercent.String(), "negative rate")
		}
		if s, err := net.Add(l.Net); err == nil {
			net = s
		}
	}
	if len(v.errs) > before {
		return v.err() // sums of invalid amounts would only add noise
	}
	if len(inv.Lines) > 0 && !net.Equal(inv.Net) {
		v.add("net", inv.Net.Amount.String(), "lines sum to "+net.amountString())
	}
	if g, err := inv.Net.Add(inv.VAT); err == nil && !g.Equal(inv.Gross) {
		v.add("gross", inv.Gross.Amount.String(), "net + vat is "+g.amountString())
	}
	return v.err()
}

// GroupVAT sums the lines per VAT rate, ordered by rate, so an invoice
// reconciles per rate to the minor unit.
func (inv *Invoice) GroupVAT() ([]VATAmount, error) {
	byRate := map[string]*VATAmount{}
	for i, l := range inv.Lines {
		key := l.VATRatePercent.String()
		g, ok := byRate[key]
		if !ok {
			g = &VATAmount{RatePercent: l.VATRatePercent, Taxable: Zero(inv.Currency), VAT: Zero(inv.Currency)}
			byRate[key] = g
		}
		var err error
		if g.Taxable, err = g.Taxable.Add(l.Net); err == nil {
			g.VAT, err = g.VAT.Add(l.VAT)
		}
		if err != nil {
			return nil, fmt.Errorf("commerce: invoice %s: lines[%d]: %w", inv.Number, i, err)
		}
	}
	out := make([]VATAmount, 0, len(byRate))
	for _, g := range byRate {
		out = append(out, *g)
	}
	slices.SortFunc(out, func(a, b VATAmount) int { return a.RatePercent.Cmp(b.RatePercent) })
	return out, nil
}
