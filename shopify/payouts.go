package shopify

import (
	"context"
	"fmt"
	"iter"
	"time"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/connector"
)

const paymentsProvider = "shopify_payments"

type wirePayout struct {
	ID               string     `json:"id"`
	LegacyResourceID flexString `json:"legacyResourceId"`
	Status           string     `json:"status"`
	IssuedAt         time.Time  `json:"issuedAt"`
	TransactionType  string     `json:"transactionType"`
	ExternalTraceID  string     `json:"externalTraceId"`
	Net              moneyV2    `json:"net"`
}

type wireBalanceTransaction struct {
	ID                       string     `json:"id"`
	Type                     string     `json:"type"`
	Test                     bool       `json:"test"`
	TransactionDate          time.Time  `json:"transactionDate"`
	SourceID                 flexString `json:"sourceId"`
	SourceType               string     `json:"sourceType"`
	SourceOrderTransactionID flexString `json:"sourceOrderTransactionId"`
	AdjustmentReason         string     `json:"adjustmentReason"`
	Amount                   moneyV2    `json:"amount"`
	Fee                      moneyV2    `json:"fee"`
	Net                      moneyV2    `json:"net"`
	AssociatedOrder          *struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"associatedOrder"`
	AssociatedPayout *struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	} `json:"associatedPayout"`
}

var payoutStatuses = map[string]commerce.PayoutStatus{
	"SCHEDULED":  commerce.PayoutPending,
	"IN_TRANSIT": commerce.PayoutInTransit,
	"PAID":       commerce.PayoutPaid,
	"FAILED":     commerce.PayoutFailed,
	"CANCELED":   commerce.PayoutCancelled,
}

// Payouts lists the Shopify Payments payouts issued in [from, to), oldest
// first. A withdrawal (money taken from the merchant's bank) has a negative
// amount. The arrival date is the issue date in the shop's time zone.
func (c *Client) Payouts(ctx context.Context, from, to time.Time) iter.Seq2[commerce.Payout, error] {
	return func(yield func(commerce.Payout, error) bool) {
		loc := time.UTC
		if s, err := c.settings(ctx); err != nil {
			yield(commerce.Payout{}, err)
			return
		} else if l, err := time.LoadLocation(s.Timezone); err == nil && s.Timezone != "" {
			loc = l
		}
		vars := map[string]any{"query": fmt.Sprintf("issued_at:>=%s issued_at:<%s",
			searchValue(from.UTC().Format(time.RFC3339)), searchValue(to.UTC().Format(time.RFC3339)))}
		for {
			c.pageSize(docPayouts, vars, "first", c.cfg.pageLimit)
			var out struct {
				Account *struct {
					Payouts struct {
						PageInfo pageInfo     `json:"pageInfo"`
						Nodes    []wirePayout `json:"nodes"`
					} `json:"payouts"`
				} `json:"shopifyPaymentsAccount"`
			}
			if _, err := c.Execute(ctx, docPayouts, vars, &out); err != nil {
				yield(commerce.Payout{}, err)
				return
			}
			if out.Account == nil {
				yield(commerce.Payout{}, &connector.Error{System: systemName, Op: "Payouts", Kind: connector.KindUnsupported, Message: "the shop has no Shopify Payments account"})
				return
			}
			for _, p := range out.Account.Payouts.Nodes {
				if p.IssuedAt.Before(from) || !p.IssuedAt.Before(to) {
					continue
				}
				if !yield(mapPayout(c.ref(p.ID), p, loc)) {
					return
				}
			}
			pi := out.Account.Payouts.PageInfo
			if !pi.HasNextPage || pi.EndCursor == "" {
				return
			}
			vars["after"] = pi.EndCursor
		}
	}
}

func mapPayout(ref commerce.Ref, p wirePayout, loc *time.Location) (commerce.Payout, error) {
	const op = "MapPayout"
	out := commerce.Payout{
		Origin:      commerce.Origin{Source: ref},
		ID:          p.ID,
		Provider:    paymentsProvider,
		CreatedAt:   p.IssuedAt,
		ArrivalDate: commerce.DateIn(p.IssuedAt, loc),
		Reference:   p.ExternalTraceID,
	}
	st, ok := payoutStatuses[p.Status]
	if !ok {
		return out, invalid(op, "status", fmt.Errorf("unknown payout status %q", p.Status))
	}
	out.Status = st
	amt, err := p.Net.money()
	if err != nil {
		return out, invalid(op, "net", err)
	}
	switch p.TransactionType {
	case "DEPOSIT":
	case "WITHDRAWAL":
		// Shopify reports the size of the debit; the merchant's view is
		// money out. (Sign of net on withdrawals unverified against a real
		// shop: a net already negative is kept.)
		if amt.IsPositive() {
			amt = amt.Neg()
		}
	default:
		return out, invalid(op, "transactionType", fmt.Errorf("unknown payout type %q", p.TransactionType))
	}
	out.Amount = amt
	return out, nil
}

// PayoutTransactions lists the balance transactions a payout settles,
// including the payout's own TRANSFER row (kind payout, which
// Payout.Difference leaves out). payoutID is the payout's GID or numeric
// id. The filter used, payments_transfer_id:<numeric payout id>, is taken
// from the balanceTransactions search syntax (a payout is a "transfer" in
// Shopify Payments); unverified against a real shop.
func (c *Client) PayoutTransactions(ctx context.Context, payoutID string) iter.Seq2[commerce.Transaction, error] {
	return func(yield func(commerce.Transaction, error) bool) {
		n, ok := gidNumber(payoutID)
		if !ok {
			yield(commerce.Transaction{}, &connector.Error{System: systemName, Op: "PayoutTransactions", Kind: connector.KindValidation, Field: "payout_id", Message: "not a payout id"})
			return
		}
		payout := gid("ShopifyPaymentsPayout", n.String())
		vars := map[string]any{"query": "payments_transfer_id:" + n.String()}
		for {
			c.pageSize(docBalanceTransactions, vars, "first", c.cfg.pageLimit)
			var out struct {
				Account *struct {
					BalanceTransactions struct {
						PageInfo pageInfo                 `json:"pageInfo"`
						Nodes    []wireBalanceTransaction `json:"nodes"`
					} `json:"balanceTransactions"`
				} `json:"shopifyPaymentsAccount"`
			}
			if _, err := c.Execute(ctx, docBalanceTransactions, vars, &out); err != nil {
				yield(commerce.Transaction{}, err)
				return
			}
			if out.Account == nil {
				yield(commerce.Transaction{}, &connector.Error{System: systemName, Op: "PayoutTransactions", Kind: connector.KindUnsupported, Message: "the shop has no Shopify Payments account"})
				return
			}
			for _, t := range out.Account.BalanceTransactions.Nodes {
				if t.AssociatedPayout != nil && t.AssociatedPayout.ID != "" && t.AssociatedPayout.ID != payout {
					continue // the search matched loosely
				}
				if !yield(mapBalanceTransaction(payout, t)) {
					return
				}
			}
			pi := out.Account.BalanceTransactions.PageInfo
			if !pi.HasNextPage || pi.EndCursor == "" {
				return
			}
			vars["after"] = pi.EndCursor
		}
	}
}

// transactionKinds maps Shopify Payments balance transaction types; types
// not listed are kept as TxOther with their type.
var transactionKinds = map[string]commerce.TransactionKind{
	"CHARGE":                    commerce.TxSale,
	"REFUND":                    commerce.TxRefund,
	"REFUND_FAILURE":            commerce.TxReversal,
	"DISPUTE_WITHDRAWAL":        commerce.TxChargeback,
	"CHARGEBACK_HOLD":           commerce.TxChargeback,
	"DISPUTE_REVERSAL":          commerce.TxReversal,
	"CHARGEBACK_HOLD_RELEASE":   commerce.TxReversal,
	"RISK_WITHDRAWAL":           commerce.TxHoldback,
	"RISK_REVERSAL":             commerce.TxRelease,
	"RESERVED_FUNDS":            commerce.TxHoldback,
	"RESERVED_FUNDS_WITHDRAWAL": commerce.TxHoldback,
	"RESERVED_FUNDS_REVERSAL":   commerce.TxRelease,
	"ADJUSTMENT":                commerce.TxAdjustment,
	"CHARGE_ADJUSTMENT":         commerce.TxAdjustment,
	"REFUND_ADJUSTMENT":         commerce.TxAdjustment,
	"CHARGEBACK_FEE":            commerce.TxFee,
	"SHIPPING_LABEL":            commerce.TxFee,
	"BILLING_DEBIT":             commerce.TxFee,
	"REFERRAL_FEE":              commerce.TxFee,
	"REFERRAL_FEE_TAX":          commerce.TxFee,
	"STRIPE_FEE":                commerce.TxFee,
	"CHARGEBACK_FEE_REFUND":     commerce.TxFeeRefund,
	"BILLING_DEBIT_REVERSAL":    commerce.TxFeeRefund,
	"APPLICATION_FEE_REFUND":    commerce.TxFeeRefund,
	"TRANSFER":                  commerce.TxPayout,
}

// mapBalanceTransaction maps one row. Shopify's amount is signed from the
// merchant's view already; its fee is a cost and is kept as Fee (Shopify
// reports no VAT on its fees, so FeeVAT is zero). A fee row whose cost is
// in the amount is turned around so the cost is in Fee.
func mapBalanceTransaction(payoutID string, t wireBalanceTransaction) (commerce.Transaction, error) {
	const op = "MapBalanceTransaction"
	out := commerce.Transaction{
		ID:           t.ID,
		PayoutID:     payoutID,
		Provider:     paymentsProvider,
		ProviderType: t.Type,
		At:           t.TransactionDate,
		Description:  t.AdjustmentReason,
		References:   commerce.TxReferences{SourceID: string(t.SourceID)},
	}
	kind, ok := transactionKinds[t.Type]
	if !ok {
		kind = commerce.TxOther
	}
	out.Kind = kind
	if t.AssociatedOrder != nil {
		out.References.OrderID = t.AssociatedOrder.ID
		out.References.OrderNumber = t.AssociatedOrder.Name
	}
	if t.SourceOrderTransactionID != "" {
		out.References.PaymentReference = gid("OrderTransaction", string(t.SourceOrderTransactionID))
	}
	var err error
	if out.Amount, err = t.Amount.money(); err != nil {
		return out, invalid(op, "amount", err)
	}
	if out.Fee, err = t.Fee.money(); err != nil {
		return out, invalid(op, "fee", err)
	}
	if out.Net, err = t.Net.money(); err != nil {
		return out, invalid(op, "net", err)
	}
	out.FeeVAT = commerce.Zero(out.Amount.Currency)
	if kind == commerce.TxFee && out.Fee.IsZero() && out.Amount.IsNegative() {
		out.Fee, out.Amount = out.Amount.Neg(), commerce.Zero(out.Amount.Currency)
	}
	if err := out.Validate(); err != nil {
		return out, invalid(op, "", err)
	}
	return out, nil
}

// PayoutByID reads one payout by its GID or numeric id.
func (c *Client) PayoutByID(ctx context.Context, id string) (commerce.Payout, error) {
	var out struct {
		Node *wirePayout `json:"node"`
	}
	if _, err := c.Execute(ctx, docPayout, map[string]any{"id": gid("ShopifyPaymentsPayout", id)}, &out); err != nil {
		return commerce.Payout{}, err
	}
	if out.Node == nil || out.Node.ID == "" {
		return commerce.Payout{}, &connector.Error{System: systemName, Op: "Payout", Kind: connector.KindNotFound, Message: "no payout " + id}
	}
	loc := time.UTC
	if s, err := c.settings(ctx); err != nil {
		return commerce.Payout{}, err
	} else if l, err := time.LoadLocation(s.Timezone); err == nil && s.Timezone != "" {
		loc = l
	}
	return mapPayout(c.ref(out.Node.ID), *out.Node, loc)
}
