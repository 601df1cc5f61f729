package main

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/shopspring/decimal"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/connector"
	"github.com/knyt/knyt/reconcile"
	"github.com/knyt/knyt/reconcile/sie"
	"github.com/knyt/knyt/specter"
	"github.com/knyt/knyt/specter/spectertest"
	"github.com/knyt/knyt/vat"
)

// illustrativeECB holds euro reference rates in the ECB's eurofxref
// format for the simulated quarter. They are made up — the quarter has
// not happened — and are replaced with -ecb FILE (the ECB's
// eurofxref-hist.xml) for real figures.
//
//go:embed data/eurofxref-illustrative.xml
var illustrativeECB []byte

// books is what the bookkeeping end of the run produces.
type books struct {
	invoices []commerce.Invoice // Specter's invoices and the credit book's credit invoices
	orders   []commerce.Order   // the shop's orders, as the Shopify connector reads them
	sales    *reconcile.SalesResult
	result   *reconcile.Result
	vouchers []commerce.Voucher
	oss      *vat.OSSReturn
	quarter  vat.Quarter
	ecbNote  string
}

// canonical is the customer as an invoice names it.
func (c *customer) canonical() commerce.Customer {
	out := commerce.Customer{Type: buyerType(c), Email: c.Email, Phone: c.Phone, FirstName: c.First, LastName: c.Last,
		Company: c.Company, VATNumber: c.VATNumber,
		Address: &commerce.Address{FirstName: c.First, LastName: c.Last, Company: c.Company, Line1: c.Street,
			PostalCode: c.Zip, City: c.City, Country: c.Country}}
	return out
}

// finishInvoice fills an invoice's totals and its VAT scheme. With
// perRate the VAT is computed on each rate's net sum, the way Specter
// invoices; otherwise it is the sum of the lines' VAT (a credit invoice
// that gives back exactly the VAT that was paid).
func finishInvoice(inv *commerce.Invoice, d vat.Decision, perRate bool) error {
	net := map[string]decimal.Decimal{}
	lineVAT := map[string]decimal.Decimal{}
	rates := map[string]decimal.Decimal{}
	for _, l := range inv.Lines {
		k := l.VATRatePercent.String()
		net[k] = net[k].Add(l.Net.Amount)
		lineVAT[k] = lineVAT[k].Add(l.VAT.Amount)
		rates[k] = l.VATRatePercent
	}
	inv.Net, inv.VAT = commerce.Zero(inv.Currency), commerce.Zero(inv.Currency)
	for k, n := range net {
		v := commerce.NewMoney(lineVAT[k], inv.Currency)
		if perRate {
			v = commerce.NewMoney(n.Mul(rates[k]).DivRound(hundred, 2), inv.Currency)
		}
		inv.VATByRate = append(inv.VATByRate, commerce.VATAmount{RatePercent: rates[k], Taxable: commerce.NewMoney(n, inv.Currency), VAT: v})
		var err error
		if inv.Net, err = inv.Net.Add(commerce.NewMoney(n, inv.Currency)); err != nil {
			return err
		}
		if inv.VAT, err = inv.VAT.Add(v); err != nil {
			return err
		}
	}
	sortVAT(inv.VATByRate)
	var err error
	if inv.Gross, err = inv.Net.Add(inv.VAT); err != nil {
		return err
	}
	inv.VATScheme, inv.VATCountry = d.Scheme, d.Country
	if inv.DueDate.IsZero() {
		inv.DueDate = inv.IssueDate.AddDays(30)
	}
	return inv.Validate()
}

func sortVAT(vs []commerce.VATAmount) {
	for i := 1; i < len(vs); i++ {
		for j := i; j > 0 && vs[j].RatePercent.LessThan(vs[j-1].RatePercent); j-- {
			vs[j], vs[j-1] = vs[j-1], vs[j]
		}
	}
}

// erpInvoices reads the invoices Specter made, in canonical form. The
// connector contract has no invoice reader yet, so the sandbox takes them
// from the Specter fake as an accountant would take an invoice export; the
// VAT scheme is what place-of-supply rules give for the customer.
func erpInvoices(acc *spectertest.Account, byName map[string]*order) ([]commerce.Invoice, error) {
	var out []commerce.Invoice
	for _, si := range acc.Invoices() {
		so, ok := acc.Order(si.OrderNo)
		if !ok {
			return nil, fmt.Errorf("specter invoice %d: no order %d", si.ID, si.OrderNo)
		}
		o := byName[so.ExternalOrderNo]
		if o == nil {
			return nil, fmt.Errorf("specter invoice %d: order %q is not the shop's", si.ID, so.ExternalOrderNo)
		}
		cur, err := commerce.ParseCurrency(so.Currency)
		if err != nil {
			return nil, fmt.Errorf("specter invoice %d: %w", si.ID, err)
		}
		issued, err := time.Parse(specter.DateLayout, si.Date)
		if err != nil {
			return nil, fmt.Errorf("specter invoice %d: date: %w", si.ID, err)
		}
		inv := commerce.Invoice{Kind: commerce.KindInvoice, Number: strconv.Itoa(si.ID), OrderNumber: so.ExternalOrderNo,
			Customer: o.Customer.canonical(), IssueDate: commerce.DateOf(issued), Currency: cur, PaymentReference: o.Reference}
		inv.Origin.Source = commerce.Ref{System: specter.System, ID: strconv.Itoa(si.ID)}
		for _, r := range si.Rows {
			rate := decimal.NewFromInt(int64(r.VATPercent))
			netAmt := r.PriceExclVAT.Mul(r.Quantity).Round(2)
			inv.Lines = append(inv.Lines, commerce.InvoiceLine{SKU: r.ArticleNo, Description: r.Name, Quantity: r.Quantity,
				UnitPrice: commerce.NewMoney(r.PriceExclVAT, cur), VATRatePercent: rate, Net: commerce.NewMoney(netAmt, cur),
				VAT: commerce.NewMoney(netAmt.Mul(rate).DivRound(hundred, 2), cur)})
		}
		if err := finishInvoice(&inv, o.Decision, true); err != nil {
			return nil, fmt.Errorf("specter invoice %d: %w", si.ID, err)
		}
		if !inv.Gross.Amount.Equal(si.Gross) || !inv.VAT.Amount.Equal(si.VAT) {
			return nil, fmt.Errorf("specter invoice %d: rebuilt as %s gross %s VAT, Specter has %s and %s",
				si.ID, inv.Gross.Amount, inv.VAT.Amount, si.Gross, si.VAT)
		}
		out = append(out, inv)
	}
	return out, nil
}

// shopOrders reads every order of the shop through the Shopify connector,
// from the beginning of its feed.
func shopOrders(ctx context.Context, c *connectors) ([]commerce.Order, error) {
	feed := c.shop.Orders()
	var out []commerce.Order
	var cur connector.Cursor
	for {
		b, err := feed.Next(ctx, cur)
		if err != nil {
			return nil, err
		}
		out = append(out, b.Items...)
		if !b.More {
			return out, nil
		}
		cur = b.Cursor
	}
}

// keepBooks reconciles the payouts the engine handed over against the
// ERP's invoices, books the sales, and builds the quarter's OSS return.
func (s *sandbox) keepBooks(ctx context.Context) (*books, error) {
	b := &books{quarter: vat.QuarterOf(commerce.DateOf(s.start))}
	ecb := illustrativeECB
	b.ecbNote = "illustrative rates embedded in the sandbox (not published by the ECB); use -ecb for real ones"
	if s.opts.ecb != "" {
		raw, err := os.ReadFile(s.opts.ecb)
		if err != nil {
			return nil, err
		}
		ecb, b.ecbNote = raw, "ECB reference rates from "+s.opts.ecb
	}
	rates, err := vat.ParseECB(bytes.NewReader(ecb))
	if err != nil {
		return nil, fmt.Errorf("ECB rates: %w", err)
	}
	byName := map[string]*order{}
	for _, o := range s.orders {
		byName[o.Name] = o
	}
	if b.invoices, err = erpInvoices(s.w.erp.Default(), byName); err != nil {
		return nil, err
	}
	b.invoices = append(b.invoices, s.credits.invoices()...)
	c, err := s.w.connect()
	if err != nil {
		return nil, err
	}
	if b.orders, err = shopOrders(ctx, c); err != nil {
		return nil, fmt.Errorf("read the shop's orders: %w", err)
	}
	r, err := reconcile.New(reconcile.WithFXRates(rates), reconcile.WithSeries("K"))
	if err != nil {
		return nil, err
	}
	if b.sales, err = r.BookSales(ctx, b.invoices, b.orders); err != nil {
		return nil, fmt.Errorf("book sales: %w", err)
	}
	if err := r.CommitSales(ctx, b.sales); err != nil {
		return nil, err
	}
	if b.result, err = r.Run(ctx, reconcile.Input{Payouts: s.payouts.payouts(), Invoices: b.invoices, Orders: b.orders}); err != nil {
		return nil, fmt.Errorf("reconcile: %w", err)
	}
	if err := r.Commit(ctx, b.result); err != nil {
		return nil, err
	}
	b.vouchers = append(append(b.vouchers, b.sales.Vouchers...), b.result.Vouchers...)
	sales, err := reconcile.OSSQuarter(b.invoices, b.quarter)
	if err != nil {
		return nil, fmt.Errorf("OSS sales: %w", err)
	}
	if b.oss, err = vat.BuildOSSReturn(s.sellerVAT, b.quarter, sales, rates); err != nil {
		return nil, fmt.Errorf("OSS return: %w", err)
	}
	return b, nil
}

// writeSIE writes the vouchers as an SIE 4I file for import into the
// merchant's accounting program.
func (s *sandbox) writeSIE(path string, vs []commerce.Voucher) (sie.Report, error) {
	f, err := os.Create(path)
	if err != nil {
		return sie.Report{}, err
	}
	rep, err := sie.NewWriter(sie.BAS2026(), sie.WithDefaultSeries("K")).Write(f, sie.Header{
		Program: "knyt sandbox", Version: "1", Generated: commerce.DateOf(s.w.clock.Now()),
		Company: sellerName, OrgNumber: s.sellerOrg,
		FiscalYear: &sie.FiscalYear{Start: commerce.NewDate(2026, 1, 1), End: commerce.NewDate(2026, 12, 31)},
	}, vs)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return rep, err
}
