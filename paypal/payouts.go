package paypal

import (
	"context"
	"fmt"
	"iter"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/connector"
)

// PayPal has no payout object. A payout here is one bank withdrawal (a
// T04 row, T0400 "general withdrawal") together with the balance-affecting
// rows of the same currency since the previous withdrawal: with automatic
// or full withdrawals those rows are exactly what the withdrawal pays out,
// and their nets sum to it. When they do not (a partial withdrawal leaves a
// balance, a row is missing), the difference is reported as an Anomaly and
// shows in commerce.Payout.Difference.

// AnomalyKind says what is wrong.
type AnomalyKind string

// Anomaly kinds.
const (
	// AnomalyUnknownEventCode: a row's T-code is in neither table; the row
	// is kept as commerce.TxOther with the code as ProviderType.
	AnomalyUnknownEventCode AnomalyKind = "unknown_event_code"
	// AnomalyPayoutDifference: a payout's rows do not sum to its
	// withdrawal; Difference is the withdrawal less the rows.
	AnomalyPayoutDifference AnomalyKind = "payout_difference"
	// AnomalyNoEarlierWithdrawal: no withdrawal was found before a payout
	// within the lookback, so its first rows are those from the lookback's
	// start (right for an account's first withdrawal).
	AnomalyNoEarlierWithdrawal AnomalyKind = "no_earlier_withdrawal"
)

// Anomaly is something payout listing found and worked around.
type Anomaly struct {
	Kind          AnomalyKind
	PayoutID      string
	TransactionID string
	EventCode     string
	Difference    commerce.Money
}

func (c *Client) report(ctx context.Context, a Anomaly) {
	attrs := []slog.Attr{slog.String("system", System), slog.String("account", c.account), slog.String("anomaly", string(a.Kind)), slog.String("payout_id", a.PayoutID)}
	if a.TransactionID != "" {
		attrs = append(attrs, slog.String("transaction_id", a.TransactionID), slog.String("event_code", a.EventCode))
	}
	if !a.Difference.Currency.IsZero() {
		attrs = append(attrs, slog.String("difference", a.Difference.String()))
	}
	c.tr.Logger().LogAttrs(ctx, slog.LevelWarn, "paypal payout anomaly", attrs...)
	if c.anomaly != nil {
		c.anomaly(a)
	}
}

// payoutTimeLayout is the time part of a payout id.
const payoutTimeLayout = "20060102T150405Z"

// PayoutID is the id of the payout a withdrawal closes: the withdrawal's
// transaction id and its time, "4RA61538LY245474X.20260304T101500Z". The
// time lets PayoutTransactions find the withdrawal again, since Transaction
// Search cannot look an id up without a window of at most 31 days.
func PayoutID(transactionID string, at time.Time) string {
	return transactionID + "." + at.UTC().Format(payoutTimeLayout)
}

// ParsePayoutID splits a payout id made by PayoutID.
func ParsePayoutID(id string) (transactionID string, at time.Time, err error) {
	i := strings.LastIndexByte(id, '.')
	if i <= 0 || i > 24 {
		return "", time.Time{}, fmt.Errorf("paypal: payout id %q: not <transaction id>.<time>", id)
	}
	for _, ch := range id[:i] {
		if !(ch >= '0' && ch <= '9' || ch >= 'A' && ch <= 'Z' || ch >= 'a' && ch <= 'z') {
			return "", time.Time{}, fmt.Errorf("paypal: payout id %q: transaction id is not alphanumeric", id)
		}
	}
	at, err = time.Parse(payoutTimeLayout, id[i+1:])
	if err != nil || at.Format(payoutTimeLayout) != id[i+1:] {
		return "", time.Time{}, fmt.Errorf("paypal: payout id %q: bad time", id)
	}
	return id[:i], at, nil
}

// payoutGroup is a withdrawal and the rows it settles.
type payoutGroup struct {
	wd   row
	rows []row
}

// Payouts lists the withdrawals made in [from, to), each with the rows it
// settles in Transactions (also available from PayoutTransactions by id).
// Rows before from that belong to the first payout of a currency are
// searched for backwards, window by window, up to the previous withdrawal.
// Withdrawals newer than the search delay are not final and not listed:
// then the sequence ends with a KindTemporary error wrapping a
// *NotFinalError (see Transactions). Payouts whose rows do not sum to the
// withdrawal are listed and reported as anomalies.
func (c *Client) Payouts(ctx context.Context, from, to time.Time) iter.Seq2[commerce.Payout, error] {
	const op = "Payouts"
	return func(yield func(commerce.Payout, error) bool) {
		rows, final, err := c.collect(ctx, op, from, to, SearchQuery{})
		if err != nil {
			yield(commerce.Payout{}, err)
			return
		}
		byCur := map[commerce.Currency][]row{}
		var currencies []commerce.Currency
		for _, r := range rows {
			cur := r.gross.Currency
			if _, ok := byCur[cur]; !ok {
				currencies = append(currencies, cur)
			}
			byCur[cur] = append(byCur[cur], r)
		}
		var groups []payoutGroup
		for _, cur := range currencies {
			var open []row
			first := true
			for _, r := range byCur[cur] {
				if !isWithdrawal(r.info.TransactionEventCode) {
					open = append(open, r)
					continue
				}
				if first {
					prior, found, err := c.rowsBefore(ctx, op, cur, from)
					if err != nil {
						yield(commerce.Payout{}, err)
						return
					}
					if !found {
						c.report(ctx, Anomaly{Kind: AnomalyNoEarlierWithdrawal, PayoutID: PayoutID(r.info.TransactionID, r.at)})
					}
					open = append(prior, open...)
					first = false
				}
				groups = append(groups, payoutGroup{wd: r, rows: open})
				open = nil
			}
		}
		slices.SortFunc(groups, func(a, b payoutGroup) int { return compareRows(a.wd, b.wd) })
		for _, g := range groups {
			p, err := c.buildPayout(ctx, op, g, true)
			if !yield(p, err) || err != nil {
				return
			}
		}
		if final.Before(to) {
			yield(commerce.Payout{}, c.notFinal(op, final, to))
		}
	}
}

// PayoutTransactions lists the rows a payout settles, in time order, the
// withdrawal itself last (as commerce.TxPayout, which Payout.Difference
// leaves out). The id is one Payouts returned.
func (c *Client) PayoutTransactions(ctx context.Context, payoutID string) iter.Seq2[commerce.Transaction, error] {
	const op = "PayoutTransactions"
	return func(yield func(commerce.Transaction, error) bool) {
		g, err := c.payoutGroup(ctx, op, payoutID)
		if err != nil {
			yield(commerce.Transaction{}, err)
			return
		}
		p, err := c.buildPayout(ctx, op, g, false)
		if err != nil {
			yield(commerce.Transaction{}, err)
			return
		}
		for _, tx := range p.Transactions {
			if !yield(tx, nil) {
				return
			}
		}
	}
}

// payoutGroup finds a payout's withdrawal by id and collects its rows.
func (c *Client) payoutGroup(ctx context.Context, op, payoutID string) (payoutGroup, error) {
	txID, at, err := ParsePayoutID(payoutID)
	if err != nil {
		return payoutGroup{}, &connector.Error{System: System, Op: op, Kind: connector.KindValidation, Field: "payout_id", Err: err}
	}
	// The window ending just after the withdrawal holds it and, usually,
	// everything since the previous one.
	end := at.Add(time.Second)
	start := end.Add(-MaxSearchWindow)
	rows, final, err := c.collect(ctx, op, start, end, SearchQuery{})
	if err != nil {
		return payoutGroup{}, err
	}
	if final.Before(end) {
		return payoutGroup{}, c.notFinal(op, final, end)
	}
	idx := slices.IndexFunc(rows, func(r row) bool {
		return r.info.TransactionID == txID && isWithdrawal(r.info.TransactionEventCode)
	})
	if idx < 0 {
		return payoutGroup{}, &connector.Error{System: System, Op: op, Kind: connector.KindNotFound, Message: "no withdrawal " + txID + " at " + at.Format(time.RFC3339)}
	}
	wd := rows[idx]
	var same []row
	for _, r := range rows[:idx] {
		if r.gross.Currency == wd.gross.Currency {
			same = append(same, r)
		}
	}
	if i := lastWithdrawal(same); i >= 0 {
		return payoutGroup{wd: wd, rows: same[i+1:]}, nil
	}
	prior, _, err := c.rowsBefore(ctx, op, wd.gross.Currency, start)
	if err != nil {
		return payoutGroup{}, err
	}
	return payoutGroup{wd: wd, rows: append(prior, same...)}, nil
}

// lastWithdrawal is the index of the last withdrawal in rows, -1 if none.
func lastWithdrawal(rows []row) int {
	for i := len(rows) - 1; i >= 0; i-- {
		if isWithdrawal(rows[i].info.TransactionEventCode) {
			return i
		}
	}
	return -1
}

// rowsBefore returns the rows of currency cur before `before` and after the
// last withdrawal in that currency, searching backwards one window at a
// time up to the lookback. found is false when no withdrawal came up.
func (c *Client) rowsBefore(ctx context.Context, op string, cur commerce.Currency, before time.Time) (rows []row, found bool, err error) {
	horizon := before.Add(-c.lookback)
	for end := before; end.After(horizon); {
		start := end.Add(-MaxSearchWindow)
		if start.Before(horizon) {
			start = horizon
		}
		got, _, err := c.collect(ctx, op, start, end, SearchQuery{Currency: cur.Code()})
		if err != nil {
			return nil, false, err
		}
		if i := lastWithdrawal(got); i >= 0 {
			return append(got[i+1:], rows...), true, nil
		}
		rows = append(got, rows...)
		end = start
	}
	return rows, false, nil
}

// buildPayout maps a withdrawal and its rows to a payout with its
// transactions and, if report is set, reports unknown codes and a sum that
// does not match (Payouts reports; PayoutTransactions, which reads the same
// payout again, does not).
func (c *Client) buildPayout(ctx context.Context, op string, g payoutGroup, report bool) (commerce.Payout, error) {
	wd := g.wd
	id := PayoutID(wd.info.TransactionID, wd.at)
	p := commerce.Payout{
		Origin:      commerce.Origin{Source: commerce.Ref{System: System, Account: c.account, ID: wd.info.TransactionID}, Raw: wd.raw},
		ID:          id,
		Provider:    System,
		Amount:      wd.gross.Neg(),
		Status:      payoutStatus(wd.info.TransactionStatus),
		ArrivalDate: commerce.DateIn(wd.at, wd.at.Location()),
		CreatedAt:   wd.at,
		Reference:   wd.info.BankReferenceID,
	}
	p.Transactions = make([]commerce.Transaction, 0, len(g.rows)+2)
	for _, r := range g.rows {
		tx, known, err := c.mapRow(r, id)
		if err != nil {
			return commerce.Payout{}, &connector.Error{System: System, Op: op, Kind: connector.KindPermanent, Message: "transaction " + r.info.TransactionID, Err: err}
		}
		if !known && report {
			c.report(ctx, Anomaly{Kind: AnomalyUnknownEventCode, PayoutID: id, TransactionID: r.info.TransactionID, EventCode: r.info.TransactionEventCode})
		}
		p.Transactions = append(p.Transactions, tx)
	}
	// A fee on the withdrawal itself comes out of the balance too; it is
	// its own row so that the withdrawal row can stay out of the sum.
	if !wd.fee.Currency.IsZero() && !wd.fee.IsZero() {
		fee := commerce.Transaction{
			ID: wd.info.TransactionID + "-fee", PayoutID: id, Provider: System, Kind: commerce.TxFee,
			ProviderType: wd.info.TransactionEventCode, Amount: commerce.Zero(wd.fee.Currency), Fee: wd.fee.Neg(),
			Net: wd.fee, At: wd.at, References: commerce.TxReferences{SourceID: wd.info.TransactionID},
		}
		p.Transactions = append(p.Transactions, fee)
	}
	wtx, _, err := c.mapRow(wd, id)
	if err != nil {
		return commerce.Payout{}, &connector.Error{System: System, Op: op, Kind: connector.KindPermanent, Message: "withdrawal " + wd.info.TransactionID, Err: err}
	}
	wtx.Fee, wtx.Net = commerce.Money{}, wtx.Amount
	p.Transactions = append(p.Transactions, wtx)
	diff, err := p.Difference()
	if err != nil {
		return commerce.Payout{}, &connector.Error{System: System, Op: op, Kind: connector.KindPermanent, Message: "payout " + id, Err: err}
	}
	if !diff.IsZero() && report {
		c.report(ctx, Anomaly{Kind: AnomalyPayoutDifference, PayoutID: id, Difference: diff})
	}
	return p, nil
}

// payoutStatus maps a withdrawal's transaction_status.
func payoutStatus(s string) commerce.PayoutStatus {
	switch s {
	case "S":
		return commerce.PayoutPaid
	case "P":
		return commerce.PayoutInTransit
	case "D", "V":
		return commerce.PayoutFailed
	}
	return commerce.PayoutPending
}

// mapRow maps a search row to a canonical transaction in the merchant's
// view: Amount is the gross as signed by PayPal (money in positive), Fee the
// fee as a cost (PayPal reports a charged fee negative, a returned fee
// positive), Net = Amount − Fee, which is PayPal's gross + fee. A pure fee
// row (T01) has a zero Amount and its whole effect in Fee.
func (c *Client) mapRow(r row, payoutID string) (commerce.Transaction, bool, error) {
	code := r.info.TransactionEventCode
	kind, known := EventKind(code)
	tx := commerce.Transaction{
		ID:           r.info.TransactionID,
		PayoutID:     payoutID,
		Provider:     System,
		Kind:         kind,
		ProviderType: code,
		Amount:       r.gross,
		At:           r.at,
		References: commerce.TxReferences{
			InvoiceNumber: r.info.InvoiceID,
			CustomID:      r.info.CustomField,
			SourceID:      r.info.PayPalReferenceID,
		},
		Description: r.info.TransactionSubject,
	}
	if tx.Description == "" {
		tx.Description = r.info.TransactionNote
	}
	switch kind {
	case commerce.TxSale:
		tx.References.CaptureID = r.info.TransactionID
	case commerce.TxRefund:
		tx.References.RefundID = r.info.TransactionID
		if r.info.PayPalReferenceIDType == "TXN" {
			tx.References.CaptureID = r.info.PayPalReferenceID
		}
	}
	if !r.fee.Currency.IsZero() {
		tx.Fee = r.fee.Neg()
	}
	if kind == commerce.TxFee {
		total := r.gross
		if !r.fee.Currency.IsZero() {
			var err error
			if total, err = total.Add(r.fee); err != nil {
				return commerce.Transaction{}, known, err
			}
		}
		tx.Amount, tx.Fee = commerce.Zero(r.gross.Currency), total.Neg()
	}
	net, err := tx.ComputeNet()
	if err != nil {
		return commerce.Transaction{}, known, err
	}
	tx.Net = net
	return tx, known, nil
}
