package main

import (
	"context"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/shopspring/decimal"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/connector"
	"github.com/knyt/knyt/specter"
	"github.com/knyt/knyt/specter/spectertest"
)

// Specter's partner API has no known operation for credit invoices (the
// specter connector answers connector.ErrUnsupported, see
// specter.AssumeNoCreditInvoiceAPI). Left alone, the engine dead-letters
// the credit step of a return and the refund that follows it never runs.
// A Specter merchant credits the invoice by hand in Specter's own screens;
// creditingERP stands in for that manual step so the rest of the chain
// (refund at the provider, the refund matched to its credit invoice in
// reconciliation, the OSS correction) can be shown. The credit invoices
// live in the sandbox's creditBook, never in the Specter fake, and
// summary.json says so.

// creditingERP is the Specter connector with CreateCreditInvoice answered
// by the credit book; every other capability is the connector's own.
type creditingERP struct {
	*specter.Connector
	book *creditBook
}

// CreateCreditInvoice records the credit invoice of a return in the
// credit book, once per return.
func (e *creditingERP) CreateCreditInvoice(ctx context.Context, req connector.CreditRequest, _ ...connector.CallOption) (connector.UpsertResult, error) {
	inv, created, err := e.book.credit(req)
	if err != nil {
		return connector.UpsertResult{}, err
	}
	return connector.UpsertResult{Key: req.OrderNumber, Ref: commerce.Ref{System: creditBookSystem, ID: inv.Number}, Created: created}, nil
}

const creditBookSystem = "sandbox-credit-book"

// creditBook holds the credit invoices made for returns, keyed by return
// id so a retried step finds the same one.
type creditBook struct {
	mu       sync.Mutex
	now      func() time.Time
	erp      *spectertest.Account
	orders   map[string]*order // by order name
	byReturn map[string]commerce.Invoice
}

func newCreditBook(now func() time.Time, erp *spectertest.Account, orders []*order) *creditBook {
	b := &creditBook{now: now, erp: erp, orders: map[string]*order{}, byReturn: map[string]commerce.Invoice{}}
	for _, o := range orders {
		b.orders[o.Name] = o
	}
	return b
}

// credit makes the credit invoice of a return: the returned units' share
// of what the buyer paid for each line (the amount the engine refunds),
// split into net and VAT at the order's rate, crediting the order's
// invoice in Specter.
func (b *creditBook) credit(req connector.CreditRequest) (commerce.Invoice, bool, error) {
	if req.Return == nil {
		return commerce.Invoice{}, false, &connector.Error{System: creditBookSystem, Op: "CreateCreditInvoice", Kind: connector.KindUnsupported,
			Message: "the sandbox credits returns only"}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if inv, ok := b.byReturn[req.Return.ID]; ok {
		return inv, false, nil
	}
	o := b.orders[req.OrderNumber]
	if o == nil {
		return commerce.Invoice{}, false, &connector.Error{System: creditBookSystem, Op: "CreateCreditInvoice", Kind: connector.KindNotFound,
			Message: "no order " + req.OrderNumber}
	}
	so, ok := b.erp.OrderByExternalNo(o.Name)
	if !ok || len(so.InvoiceIDs) == 0 {
		// Not invoiced yet: the engine retries the step later.
		return commerce.Invoice{}, false, &connector.Error{System: creditBookSystem, Op: "CreateCreditInvoice", Kind: connector.KindTemporary,
			Message: "order " + o.Name + " has no invoice in Specter yet"}
	}
	inv := commerce.Invoice{Kind: commerce.KindCreditInvoice, Number: "K" + strconv.Itoa(o.Number), Credits: strconv.Itoa(so.InvoiceIDs[0]),
		OrderNumber: o.Name, Currency: o.Currency, Customer: o.Customer.canonical(), IssueDate: commerce.DateOf(b.now()),
		PaymentReference: o.Reference}
	rate := o.Decision.RatePercent
	for _, rl := range req.Return.Lines {
		for _, l := range o.Lines {
			if l.SKU != rl.SKU {
				continue
			}
			gross := l.Gross.Mul(decimal.NewFromInt(int64(rl.Quantity))).DivRound(decimal.NewFromInt(int64(l.Qty)), 2)
			tax := vatIn(gross, rate) // zero for the reverse-charged business order
			net := gross.Sub(tax)
			inv.Lines = append(inv.Lines, commerce.InvoiceLine{SKU: l.SKU, Description: "Retur: " + l.Title + " " + l.VariantTitle,
				Quantity: decimal.NewFromInt(int64(rl.Quantity)), UnitPrice: commerce.NewMoney(net.DivRound(decimal.NewFromInt(int64(rl.Quantity)), 2), o.Currency),
				VATRatePercent: rate, Net: commerce.NewMoney(net, o.Currency), VAT: commerce.NewMoney(tax, o.Currency)})
			break
		}
	}
	if err := finishInvoice(&inv, o.Decision, false); err != nil {
		return commerce.Invoice{}, false, err
	}
	b.byReturn[req.Return.ID] = inv
	return inv, true, nil
}

// invoices lists the credit invoices in number order.
func (b *creditBook) invoices() []commerce.Invoice {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]commerce.Invoice, 0, len(b.byReturn))
	for _, inv := range b.byReturn {
		out = append(out, inv)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Number < out[j].Number })
	return out
}
