package stripe

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"time"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/connector"
)

// categoryKinds maps Stripe's reporting_category (the field Stripe
// recommends for accounting, rather than type) to canonical kinds. A
// category that is not here is kept as commerce.TxOther and reported.
// "fee" and "risk_reserved_funds" depend on the sign; see kindOf.
var categoryKinds = map[string]commerce.TransactionKind{
	"charge":                   commerce.TxSale,
	"refund":                   commerce.TxRefund,
	"dispute":                  commerce.TxChargeback,
	"dispute_reversal":         commerce.TxReversal,
	"charge_failure":           commerce.TxReversal,
	"refund_failure":           commerce.TxReversal,
	"partial_capture_reversal": commerce.TxReversal,
	"payout_reversal":          commerce.TxReversal,
	"other_adjustment":         commerce.TxAdjustment,
	"payout":                   commerce.TxPayout,
	"fee":                      commerce.TxFee,
	"risk_reserved_funds":      commerce.TxHoldback,
}

// kindOf maps a balance transaction; ok is false for an unmapped category.
func kindOf(bt *BalanceTransaction) (kind commerce.TransactionKind, ok bool) {
	k, ok := categoryKinds[bt.ReportingCategory]
	if !ok {
		return commerce.TxOther, false
	}
	switch {
	case k == commerce.TxFee && bt.Amount > 0:
		return commerce.TxFeeRefund, true
	case k == commerce.TxHoldback && bt.Amount > 0:
		return commerce.TxRelease, true
	}
	return k, true
}

var payoutStatuses = map[string]commerce.PayoutStatus{
	"pending":    commerce.PayoutPending,
	"in_transit": commerce.PayoutInTransit,
	"paid":       commerce.PayoutPaid,
	"failed":     commerce.PayoutFailed,
	"canceled":   commerce.PayoutCancelled,
}

// mapPayout converts a Stripe payout. The bank reference is the trace id
// when the bank supports one, else the statement descriptor.
func (c *Client) mapPayout(p *Payout, raw []byte) (commerce.Payout, error) {
	amount, err := FromMinor(p.Amount, p.Currency)
	if err != nil {
		return commerce.Payout{}, err
	}
	status, ok := payoutStatuses[p.Status]
	if !ok {
		status = commerce.PayoutStatus(p.Status)
	}
	out := commerce.Payout{
		Origin:      commerce.Origin{Source: c.ref(p.ID), Raw: json.RawMessage(raw)},
		ID:          p.ID,
		Provider:    SystemName,
		Amount:      amount,
		Status:      status,
		ArrivalDate: commerce.DateOf(time.Unix(p.ArrivalDate, 0).UTC()),
		CreatedAt:   time.Unix(p.Created, 0).UTC(),
		Reference:   p.StatementDescriptor,
	}
	if p.TraceID != nil && p.TraceID.Value != "" {
		out.Reference = p.TraceID.Value
	}
	return out, nil
}

// ceilUnix is the first whole second at or after t.
func ceilUnix(t time.Time) int64 {
	s := t.Unix()
	if t.Nanosecond() > 0 {
		s++
	}
	return s
}

// Payouts lists the payouts created in [from, to) (a zero bound is open),
// newest first. The window is on the creation time because it never
// changes, so the same window always lists the same payouts; the expected
// arrival date can move while a payout is in transit.
//
// Only payouts whose transactions Stripe has finished reconciling are
// yielded. Any other (reconciliation_status in_progress, or a manual
// payout whose transactions Stripe does not track) is skipped and reported
// to the Reporter as a *PayoutNotReconciledError carrying the mapped
// payout: listing the same window later yields it once Stripe completes
// (the payout.reconciliation_completed webhook says when), so a caller that
// advances a watermark must not move it past a skipped payout.
func (c *Client) Payouts(ctx context.Context, from, to time.Time) iter.Seq2[commerce.Payout, error] {
	const op = "Payouts"
	return func(yield func(commerce.Payout, error) bool) {
		created := Params{}
		if !from.IsZero() {
			created["gte"] = ceilUnix(from)
		}
		if !to.IsZero() {
			created["lt"] = ceilUnix(to)
		}
		params := Params{}
		if len(created) > 0 {
			params["created"] = created
		}
		items := listAll(c, ctx, op, "/v1/payouts", params, func(p *rawItem[Payout]) string { return p.v.ID })
		for item, err := range items {
			if err != nil {
				yield(commerce.Payout{}, err)
				return
			}
			p := &item.v
			mp, err := c.mapPayout(p, item.raw)
			if err != nil {
				yield(commerce.Payout{}, &connector.Error{System: SystemName, Op: op, Kind: connector.KindPermanent,
					Message: "payout " + p.ID, Err: err})
				return
			}
			if !p.Automatic || p.ReconciliationStatus != "completed" {
				c.report(ctx, &PayoutNotReconciledError{PayoutID: p.ID, Automatic: p.Automatic,
					ReconciliationStatus: p.ReconciliationStatus, Payout: mp})
				continue
			}
			if !yield(mp, nil) {
				return
			}
		}
	}
}

// PayoutTransactions lists the balance transactions an automatic payout
// settled (GET /v1/balance_transactions?payout=po_…, with each source
// expanded for its references), mapped to canonical transactions. The
// payout's own balance transaction is left out. ProviderType is the
// reporting_category (the type is not kept: Stripe recommends the category
// for accounting). Transactions whose reporting_category has no canonical
// kind are yielded as commerce.TxOther and reported (*UnmappedCategoryError).
//
// A payout whose reconciliation is not completed yields one
// *PayoutNotReconciledError and nothing else. After the last transaction
// the nets are summed: if they differ from the payout amount, a
// *PayoutDifferenceError is reported and yielded as the final error, so
// that nothing is booked from a payout that does not add up.
func (c *Client) PayoutTransactions(ctx context.Context, payoutID string) iter.Seq2[commerce.Transaction, error] {
	const op = "PayoutTransactions"
	return func(yield func(commerce.Transaction, error) bool) {
		var zero commerce.Transaction
		fail := func(err error) {
			yield(zero, &connector.Error{System: SystemName, Op: op, Kind: connector.KindPermanent, Message: "payout " + payoutID, Err: err})
		}
		p, raw, err := c.GetPayout(ctx, payoutID)
		if err != nil {
			yield(zero, err)
			return
		}
		mp, err := c.mapPayout(p, raw)
		if err != nil {
			fail(err)
			return
		}
		if !p.Automatic || p.ReconciliationStatus != "completed" {
			yield(zero, &PayoutNotReconciledError{PayoutID: p.ID, Automatic: p.Automatic,
				ReconciliationStatus: p.ReconciliationStatus, Payout: mp})
			return
		}
		sum := commerce.Zero(mp.Amount.Currency)
		params := Params{"payout": p.ID, "expand": []string{"data.source"}}
		for bt, err := range c.ListBalanceTransactions(ctx, params) {
			if err != nil {
				yield(zero, err)
				return
			}
			if bt.Source.ID == p.ID {
				continue // the payout's own row
			}
			t, known, err := c.mapTransaction(&bt, p.ID)
			if err != nil {
				fail(err)
				return
			}
			if !known {
				c.report(ctx, &UnmappedCategoryError{PayoutID: p.ID, TransactionID: bt.ID,
					ReportingCategory: bt.ReportingCategory, Type: bt.Type})
			}
			if sum, err = sum.Add(t.Net); err != nil {
				fail(fmt.Errorf("transaction %s: %w", bt.ID, err))
				return
			}
			if !yield(t, nil) {
				return
			}
		}
		diff, err := mp.Amount.Sub(sum)
		if err != nil {
			fail(err)
			return
		}
		if !diff.IsZero() {
			de := &PayoutDifferenceError{PayoutID: p.ID, Amount: mp.Amount, Sum: sum, Difference: diff}
			c.report(ctx, de)
			yield(zero, de)
		}
	}
}

// mapTransaction converts a balance transaction to the merchant-view
// canonical row. Stripe already signs amounts from the merchant's view
// (positive = money in) and gives fee as a positive cost with net = amount
// − fee; the part of the fee that fee_details call "tax" becomes FeeVAT,
// the rest Fee. A pure fee row (category fee, no gross) becomes Amount 0
// with the cost in Fee, as commerce.Transaction asks.
func (c *Client) mapTransaction(bt *BalanceTransaction, payoutID string) (commerce.Transaction, bool, error) {
	kind, known := kindOf(bt)
	if bt.Amount-bt.Fee != bt.Net {
		return commerce.Transaction{}, known, fmt.Errorf("balance transaction %s: amount %d − fee %d ≠ net %d", bt.ID, bt.Amount, bt.Fee, bt.Net)
	}
	var tax int64
	for _, fd := range bt.FeeDetails {
		if fd.Currency != "" && fd.Currency != bt.Currency {
			return commerce.Transaction{}, known, fmt.Errorf("balance transaction %s: fee detail in %s, transaction in %s", bt.ID, fd.Currency, bt.Currency)
		}
		if fd.Type == "tax" {
			tax += fd.Amount
		}
	}
	amount, fee := bt.Amount, bt.Fee-tax
	if kind == commerce.TxFee {
		// The row is itself a cost: all of it goes to Fee.
		amount, fee = 0, -bt.Net-tax
	}
	conv := func(v int64) (commerce.Money, error) { return FromMinor(v, bt.Currency) }
	var t commerce.Transaction
	var err error
	if t.Amount, err = conv(amount); err != nil {
		return t, known, err
	}
	if t.Fee, err = conv(fee); err != nil {
		return t, known, err
	}
	if t.FeeVAT, err = conv(tax); err != nil {
		return t, known, err
	}
	if t.Net, err = conv(bt.Net); err != nil {
		return t, known, err
	}
	t.ID = bt.ID
	t.PayoutID = payoutID
	t.Provider = SystemName
	t.Kind = kind
	t.ProviderType = bt.ReportingCategory
	t.At = time.Unix(bt.Created, 0).UTC()
	t.Description = bt.Description
	t.References = c.references(&bt.Source)
	return t, known, nil
}

// references reads the order links from a balance transaction's source:
// its id, the charge and PaymentIntent it belongs to, the refund, and the
// order number from its metadata.
func (c *Client) references(src *Expandable[Source]) commerce.TxReferences {
	r := commerce.TxReferences{SourceID: src.ID}
	s := src.Object
	if s == nil {
		return r
	}
	r.PaymentReference = s.PaymentIntent.ID
	r.OrderNumber = c.orderNumber(s.Metadata)
	if r.OrderNumber == "" && s.PaymentIntent.Object != nil {
		r.OrderNumber = c.orderNumber(s.PaymentIntent.Object.Metadata)
	}
	r.MerchantReference = s.Metadata["merchant_reference"]
	switch s.Object {
	case "charge":
		r.CaptureID = s.ID
	case "refund":
		r.RefundID = s.ID
		r.CaptureID = s.Charge.ID
	default:
		r.CaptureID = s.Charge.ID
	}
	return r
}
