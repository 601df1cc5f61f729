package klarna

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"iter"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/connector"
)

// Sign and kind of each settlement transaction type, merchant view.
//
// Klarna documents the settlement amount as a formula over per-category
// totals, each a magnitude added or subtracted by its category (reference
// klarna.md §5.3); whether a transaction's amount in JSON is signed is not
// documented. Rows of a type with a fixed direction are therefore taken as
// magnitudes and signed by their type, which is right whichever convention
// Klarna uses; rows whose direction varies (corrections, unknown types)
// keep the sign they were sent with. The sum check in PayoutTransactions
// catches any row this gets wrong.
type txRule struct {
	kind commerce.TransactionKind
	sign int64 // +1 money in, −1 money out, 0 as sent
	fee  int   // 0: an amount row; +1: a fee (cost); −1: a fee refund; 2: VAT only
}

var txRules = map[string]txRule{
	TxTypeSale:                       {commerce.TxSale, +1, 0},
	TxTypeReturn:                     {commerce.TxRefund, -1, 0},
	TxTypeReversal:                   {commerce.TxReversal, -1, 0},
	TxTypeReversalMerchantProtection: {commerce.TxReversal, +1, 0}, // the reversal covered by merchant protection comes back
	TxTypeFee:                        {commerce.TxFee, +1, +1},
	TxTypeFeeRefund:                  {commerce.TxFeeRefund, +1, -1},
	TxTypeTax:                        {commerce.TxFee, +1, 2}, // Klarna says VAT on fees is carried on the fee rows; a TAX row is read as VAT alone (unverified)
	TxTypeCommission:                 {commerce.TxAdjustment, +1, 0},
	TxTypeCorrection:                 {commerce.TxAdjustment, 0, 0},
	TxTypeCharge:                     {commerce.TxAdjustment, -1, 0},
	TxTypeCredit:                     {commerce.TxAdjustment, +1, 0},
	TxTypeHoldback:                   {commerce.TxHoldback, -1, 0},
	TxTypeRelease:                    {commerce.TxRelease, +1, 0},
}

// commissionReturns are COMMISSION detailed types that take commission back.
var commissionReturns = map[string]bool{"COMMISSION_RETURN": true, "COMMISSION_RETURN_GROSS": true}

// Provider types of the rows PayoutTransactions adds from a payout's totals
// so that the transactions sum to the amount paid out.
const (
	SyntheticRepay     = "REPAY"      // totals.repay_amount: debt to Klarna paid from this payout
	SyntheticDeposit   = "DEPOSIT"    // totals.deposit_amount: a shortfall carried to the debt balance
	SyntheticGrossFees = "GROSS_FEES" // fees and their VAT not deducted from a GROSS payout
)

func abs(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}

// MapTransaction maps one settlement row to a canonical transaction in the
// merchant's view (see commerce.Transaction). A FEE row becomes a zero
// amount with the fee as a positive cost and its VAT (vat_amount) in
// FeeVAT; a FEE_REFUND the mirror image (negative fee and VAT). All
// references are kept: order id, short order id, merchant_reference1 (the
// shop's order number), merchant_reference2, capture and refund ids, the
// merchant's capture or refund reference and the dispute KRN (in CustomID).
// known is false for a type this package does not know: the row is kept as
// kind other with its amount as sent.
func MapTransaction(payoutRef string, t Transaction) (tx commerce.Transaction, known bool, err error) {
	cur, err := commerce.ParseCurrency(t.CurrencyCode)
	if err != nil {
		return tx, false, fmt.Errorf("currency_code %q: %w", truncate(t.CurrencyCode, 16), err)
	}
	rule, known := txRules[t.Type]
	if !known {
		rule = txRule{kind: commerce.TxOther}
	}
	sign := rule.sign
	if t.Type == TxTypeCommission && commissionReturns[t.DetailedType] {
		sign = -1
	}
	amount := t.Amount
	if sign != 0 {
		amount = sign * abs(t.Amount)
	}
	var vat int64
	if t.VATAmount != nil {
		vat = abs(*t.VATAmount)
	}
	var amt, fee, feeVAT int64
	switch rule.fee {
	case 0:
		amt, feeVAT = amount, vat
	case +1:
		fee, feeVAT = abs(t.Amount), vat
	case -1:
		fee, feeVAT = -abs(t.Amount), -vat
	case 2:
		feeVAT = abs(t.Amount)
	}
	ref := t.PaymentReference
	if ref == "" {
		ref = payoutRef
	}
	tx = commerce.Transaction{
		ID:           transactionID(ref, t),
		PayoutID:     ref,
		Provider:     SystemName,
		Kind:         rule.kind,
		ProviderType: t.Type,
		Amount:       commerce.FromMinor(amt, cur),
		At:           t.CaptureDate,
		References: commerce.TxReferences{
			OrderID:            t.OrderID,
			ShortOrderID:       t.ShortOrderID,
			OrderNumber:        t.MerchantReference1,
			PaymentReference:   ref,
			CaptureID:          t.CaptureID,
			RefundID:           t.RefundID,
			MerchantReference:  t.MerchantCaptureReference,
			MerchantReference2: t.MerchantReference2,
			CustomID:           t.ReversalReference,
		},
		Description: describe(t),
	}
	if tx.At.IsZero() {
		tx.At = t.SaleDate
	}
	if t.Type == TxTypeReturn || (t.MerchantCaptureReference == "" && t.MerchantRefundReference != "") {
		tx.References.MerchantReference = t.MerchantRefundReference
	}
	if fee != 0 || rule.fee != 0 {
		tx.Fee = commerce.FromMinor(fee, cur)
	}
	if feeVAT != 0 || rule.fee != 0 {
		tx.FeeVAT = commerce.FromMinor(feeVAT, cur)
	}
	if t.VATRate != nil {
		r := decimal.New(*t.VATRate, -2)
		tx.FeeVATRatePercent = &r
	}
	if tx.Net, err = tx.ComputeNet(); err != nil {
		return tx, known, err
	}
	return tx, known, nil
}

// describe keeps what has no canonical field: the detailed type, Klarna's
// comment, a second merchant reference, and the fee VAT in the registration
// country's currency.
func describe(t Transaction) string {
	var parts []string
	if t.DetailedType != "" {
		parts = append(parts, t.DetailedType)
	}
	if t.KlarnaComment != "" {
		parts = append(parts, t.KlarnaComment)
	}
	if t.Type == TxTypeReturn && t.MerchantCaptureReference != "" {
		parts = append(parts, "merchant_capture_reference="+t.MerchantCaptureReference)
	} else if t.Type != TxTypeReturn && t.MerchantCaptureReference != "" && t.MerchantRefundReference != "" {
		parts = append(parts, "merchant_refund_reference="+t.MerchantRefundReference)
	}
	if t.TaxInCurrencyOfRegistrationCountry != nil && t.CurrencyCodeOfRegistrationCountry != "" {
		parts = append(parts, fmt.Sprintf("tax_in_currency_of_registration_country=%d %s", *t.TaxInCurrencyOfRegistrationCountry, t.CurrencyCodeOfRegistrationCountry))
	}
	return strings.Join(parts, "; ")
}

// transactionID derives a stable id for a row, which Klarna does not give:
// a hash of the row's identifying fields under the payout's reference.
// Identical rows in one payout are told apart by an occurrence suffix
// added by the caller. The engine stores these ids: the derivation must
// never change.
func transactionID(ref string, t Transaction) string {
	buf := make([]byte, 0, 256)
	for _, s := range []string{
		t.Type, t.DetailedType, strconv.FormatInt(t.Amount, 10), t.CurrencyCode, t.OrderID, t.CaptureID, t.RefundID,
		t.SaleDate.UTC().Format(time.RFC3339Nano), t.CaptureDate.UTC().Format(time.RFC3339Nano),
		t.MerchantCaptureReference, t.MerchantRefundReference, t.ReversalReference,
	} {
		// Length-prefixed, so ("ab","c") and ("a","bc") differ.
		buf = strconv.AppendInt(buf, int64(len(s)), 10)
		buf = append(buf, ':')
		buf = append(buf, s...)
	}
	sum := sha256.Sum256(buf)
	return ref + "-" + hex.EncodeToString(sum[:8])
}

// mapPayout maps a payout without its transactions. Klarna lists payouts
// once they are made; one dated in the future is reported as in transit.
func (c *Client) mapPayout(p *Payout, raw []byte) (commerce.Payout, error) {
	cur, err := commerce.ParseCurrency(p.CurrencyCode)
	if err != nil {
		return commerce.Payout{}, err
	}
	status := commerce.PayoutPaid
	if p.PayoutDate.After(c.now()) {
		status = commerce.PayoutInTransit
	}
	return commerce.Payout{
		Origin:      commerce.Origin{Source: commerce.Ref{System: SystemName, Account: p.MerchantID, ID: p.PaymentReference}, Raw: raw},
		ID:          p.PaymentReference,
		Provider:    SystemName,
		Amount:      commerce.FromMinor(p.Totals.SettlementAmount, cur),
		Status:      status,
		ArrivalDate: commerce.DateOf(p.PayoutDate.UTC()),
		CreatedAt:   p.PayoutDate,
		Reference:   p.PaymentReference,
	}, nil
}

// Payouts lists the payouts dated in [from, to). Klarna filters by payout
// date with second precision and documents no bound as exclusive, so the
// window is widened to whole seconds on the wire and cut exactly here;
// adjacent windows never return a payout twice.
func (c *Client) Payouts(ctx context.Context, from, to time.Time) iter.Seq2[commerce.Payout, error] {
	const op = "Payouts"
	return func(yield func(commerce.Payout, error) bool) {
		if !to.After(from) {
			yield(commerce.Payout{}, invalid(op, "to", nil, "window end %s is not after its start %s", to.Format(time.RFC3339), from.Format(time.RFC3339)))
			return
		}
		q := PayoutQuery{Start: from.Truncate(time.Second), End: to.Add(time.Second - 1).Truncate(time.Second)}
		for p, err := range c.ListPayouts(ctx, q) {
			if err != nil {
				yield(commerce.Payout{}, connector.Wrap(SystemName, op, err))
				return
			}
			if p.PayoutDate.Before(from) || !p.PayoutDate.Before(to) {
				continue
			}
			raw, err := json.Marshal(p)
			if err != nil {
				yield(commerce.Payout{}, malformed(op, err))
				return
			}
			cp, err := c.mapPayout(&p, raw)
			if err != nil {
				yield(commerce.Payout{}, malformed(op, err))
				return
			}
			if !yield(cp, nil) {
				return
			}
		}
	}
}

// PayoutTransactions lists the transactions of the payout with the given
// payment reference, normalised (see MapTransaction), followed by the rows
// that the payout's totals add (debt repaid, debt deposited, fees of a
// GROSS payout invoiced separately; provider types SyntheticRepay,
// SyntheticDeposit, SyntheticGrossFees). The transactions' nets then sum to
// the settlement amount; when they do not, the last element is an error
// wrapping a *SettlementMismatchError with the difference. A row of an
// unknown type is yielded as kind other, logged, and passed to the handler
// set with WithUnknownTransactionHandler.
func (c *Client) PayoutTransactions(ctx context.Context, payoutID string) iter.Seq2[commerce.Transaction, error] {
	const op = "PayoutTransactions"
	return func(yield func(commerce.Transaction, error) bool) {
		p, _, err := c.getPayout(ctx, op, payoutID)
		if err != nil {
			yield(commerce.Transaction{}, err)
			return
		}
		n := newNormalizer(p)
		for row, err := range c.ListTransactions(ctx, TransactionQuery{PaymentReference: p.PaymentReference}) {
			if err != nil {
				yield(commerce.Transaction{}, connector.Wrap(SystemName, op, err))
				return
			}
			tx, known, err := n.add(row)
			if err != nil {
				yield(commerce.Transaction{}, malformed(op, err))
				return
			}
			if !known {
				c.reportUnknown(ctx, tx)
			}
			if !yield(tx, nil) {
				return
			}
		}
		extra, err := n.finish(op)
		for _, tx := range extra {
			if !yield(tx, nil) {
				return
			}
		}
		if err != nil {
			yield(commerce.Transaction{}, err)
		}
	}
}

func (c *Client) reportUnknown(ctx context.Context, tx commerce.Transaction) {
	c.t.Logger().LogAttrs(ctx, slog.LevelWarn, "klarna: unknown settlement transaction type kept as other",
		slog.String("provider_type", tx.ProviderType), slog.String("payment_reference", tx.PayoutID),
		slog.String("transaction", tx.ID), slog.String("amount", tx.Amount.String()))
	if c.onUnknown != nil {
		c.onUnknown(tx)
	}
}

// Payout reads one payout with all its transactions and checks that they
// sum to the amount paid out (see PayoutTransactions). On a mismatch the
// payout is returned with the error, for inspection.
func (c *Client) Payout(ctx context.Context, paymentReference string) (commerce.Payout, error) {
	const op = "Payout"
	p, raw, err := c.getPayout(ctx, op, paymentReference)
	if err != nil {
		return commerce.Payout{}, err
	}
	cp, err := c.mapPayout(p, raw)
	if err != nil {
		return commerce.Payout{}, malformed(op, err)
	}
	for tx, err := range c.PayoutTransactions(ctx, paymentReference) {
		if err != nil {
			return cp, err
		}
		cp.Transactions = append(cp.Transactions, tx)
	}
	return cp, nil
}

// NormalizePayout maps a payout and its rows, however obtained (the JSON
// API or a CSV report), to a canonical payout with transactions, including
// the rows added from its totals, and checks the sum like
// PayoutTransactions. Unknown types are returned in unknown.
func NormalizePayout(p Payout, rows []Transaction) (out commerce.Payout, unknown []commerce.Transaction, err error) {
	c := &Client{now: time.Now}
	if err := checkPayout(&p); err != nil {
		return out, nil, malformed("NormalizePayout", err)
	}
	raw, _ := json.Marshal(p)
	if out, err = c.mapPayout(&p, raw); err != nil {
		return out, nil, malformed("NormalizePayout", err)
	}
	n := newNormalizer(&p)
	for _, row := range rows {
		tx, known, err := n.add(row)
		if err != nil {
			return out, unknown, malformed("NormalizePayout", err)
		}
		if !known {
			unknown = append(unknown, tx)
		}
		out.Transactions = append(out.Transactions, tx)
	}
	extra, err := n.finish("NormalizePayout")
	out.Transactions = append(out.Transactions, extra...)
	return out, unknown, err
}

// normalizer maps a payout's rows one by one and keeps what the final
// check needs.
type normalizer struct {
	p       *Payout
	cur     commerce.Currency
	seen    map[string]int
	net     int64 // Σ nets of the rows, minor units
	feeNet  int64 // Σ nets of fee, fee refund and tax rows
	byTotal map[string]int64
	err     error
}

func newNormalizer(p *Payout) *normalizer {
	cur, err := commerce.ParseCurrency(p.CurrencyCode)
	return &normalizer{p: p, cur: cur, err: err, seen: map[string]int{}, byTotal: map[string]int64{}}
}

// totalOf names the totals field a row type adds to, for diagnostics.
var totalOf = map[string]string{
	TxTypeSale: "sale_amount", TxTypeReturn: "return_amount", TxTypeFee: "fee_amount",
	TxTypeFeeRefund: "fee_refund_amount", TxTypeReversal: "reversal_amount", TxTypeCharge: "charge_amount",
	TxTypeCredit: "credit_amount", TxTypeHoldback: "holdback_amount", TxTypeRelease: "release_amount",
}

func (n *normalizer) add(row Transaction) (commerce.Transaction, bool, error) {
	if n.err != nil {
		return commerce.Transaction{}, false, fmt.Errorf("payout %s: %w", n.p.PaymentReference, n.err)
	}
	tx, known, err := MapTransaction(n.p.PaymentReference, row)
	if err != nil {
		return tx, known, err
	}
	if tx.Amount.Currency != n.cur {
		return tx, known, &commerce.CurrencyMismatchError{Op: "payout " + n.p.PaymentReference + " transaction", A: n.cur, B: tx.Amount.Currency}
	}
	if k := n.seen[tx.ID]; k > 0 {
		n.seen[tx.ID] = k + 1
		tx.ID += "-" + strconv.Itoa(k+1)
	} else {
		n.seen[tx.ID] = 1
	}
	netMinor, err := tx.Net.Minor()
	if err != nil {
		return tx, known, err
	}
	n.net += netMinor
	if row.Type == TxTypeFee || row.Type == TxTypeFeeRefund || row.Type == TxTypeTax {
		n.feeNet += netMinor
	}
	if f, ok := totalOf[row.Type]; ok {
		n.byTotal[f] += abs(row.Amount)
	}
	if row.VATAmount != nil {
		if row.Type == TxTypeFeeRefund {
			n.byTotal["tax_refund_amount"] += abs(*row.VATAmount)
		} else {
			n.byTotal["tax_amount"] += abs(*row.VATAmount)
		}
	}
	if row.Type == TxTypeTax {
		n.byTotal["tax_amount"] += abs(row.Amount)
	}
	return tx, known, nil
}

// finish returns the rows the totals add, and an error of op wrapping a
// *SettlementMismatchError if the sum is off.
func (n *normalizer) finish(op string) ([]commerce.Transaction, error) {
	if n.err != nil {
		return nil, malformed(op, fmt.Errorf("payout %s: %w", n.p.PaymentReference, n.err))
	}
	t := n.p.Totals
	var extra []commerce.Transaction
	add := func(kind, desc string, minor int64) {
		m := commerce.FromMinor(minor, n.cur)
		extra = append(extra, commerce.Transaction{
			ID: n.p.PaymentReference + "-" + strings.ToLower(kind), PayoutID: n.p.PaymentReference, Provider: SystemName,
			Kind: commerce.TxAdjustment, ProviderType: kind, Amount: m, Net: m, At: n.p.PayoutDate,
			References: commerce.TxReferences{PaymentReference: n.p.PaymentReference}, Description: desc,
		})
		n.net += minor
	}
	if t.RepayAmount != 0 {
		add(SyntheticRepay, "debt to Klarna repaid from this payout (totals.repay_amount)", -abs(t.RepayAmount))
	}
	if t.DepositAmount != 0 {
		add(SyntheticDeposit, "shortfall carried to the debt balance with Klarna (totals.deposit_amount)", abs(t.DepositAmount))
	}
	if n.p.MerchantSettlementType == SettlementGross && n.feeNet != 0 {
		add(SyntheticGrossFees, "fees and fee VAT not deducted from a GROSS payout (invoiced separately)", -n.feeNet)
	}
	if n.net == t.SettlementAmount {
		return extra, nil
	}
	e := &SettlementMismatchError{
		PaymentReference: n.p.PaymentReference,
		SettlementType:   n.p.MerchantSettlementType,
		Settlement:       commerce.FromMinor(t.SettlementAmount, n.cur),
		Sum:              commerce.FromMinor(n.net, n.cur),
		Difference:       commerce.FromMinor(t.SettlementAmount-n.net, n.cur),
	}
	for _, c := range []struct {
		name  string
		total int64
	}{
		{"sale_amount", t.SaleAmount}, {"return_amount", t.ReturnAmount}, {"fee_amount", t.FeeAmount},
		{"fee_refund_amount", t.FeeRefundAmount}, {"tax_amount", t.TaxAmount}, {"tax_refund_amount", t.TaxRefundAmount},
		{"reversal_amount", t.ReversalAmount}, {"charge_amount", t.ChargeAmount}, {"credit_amount", t.CreditAmount},
		{"holdback_amount", t.HoldbackAmount}, {"release_amount", t.ReleaseAmount},
	} {
		if rows := n.byTotal[c.name]; rows != abs(c.total) {
			e.Categories = append(e.Categories, fmt.Sprintf("%s: totals %s, rows %s", c.name,
				commerce.FromMinor(abs(c.total), n.cur), commerce.FromMinor(rows, n.cur)))
		}
	}
	return extra, &connector.Error{System: SystemName, Op: op, Kind: connector.KindPermanent, Err: e}
}
