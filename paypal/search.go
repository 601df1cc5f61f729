package paypal

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"
	"time"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/connector"
)

// NotFinalError says that Transaction Search cannot yet vouch for the end
// of a requested range: PayPal shows executed transactions with a delay of
// up to three hours, so rows younger than that may still appear. Everything
// before FinalBefore was listed; ask again for the rest after the delay.
// It arrives wrapped in a *connector.Error of KindTemporary whose RetryAfter
// says when the whole range will be final.
type NotFinalError struct {
	FinalBefore time.Time
}

func (e *NotFinalError) Error() string {
	return "transaction search is final only before " + e.FinalBefore.UTC().Format(time.RFC3339)
}

// row is one search row read into canonical values.
type row struct {
	info  TransactionInfo
	raw   json.RawMessage
	at    time.Time
	gross commerce.Money
	fee   commerce.Money // zero value when PayPal reported no fee
}

func (r *row) key() string {
	return r.info.TransactionID + "|" + r.info.TransactionEventCode + "|" + r.info.TransactionInitiationDate
}

func readRow(d TransactionDetail) (row, error) {
	r := row{info: d.TransactionInfo, raw: d.Raw}
	if r.info.TransactionID == "" || r.info.TransactionEventCode == "" {
		return row{}, errors.New("row without transaction_id or transaction_event_code")
	}
	var err error
	if r.at, err = ParseTime(r.info.TransactionInitiationDate); err != nil {
		return row{}, fmt.Errorf("transaction %s: transaction_initiation_date: %w", r.info.TransactionID, err)
	}
	if r.info.TransactionAmount == nil {
		return row{}, fmt.Errorf("transaction %s: no transaction_amount", r.info.TransactionID)
	}
	if r.gross, err = ToMoney(*r.info.TransactionAmount); err != nil {
		return row{}, fmt.Errorf("transaction %s: transaction_amount: %w", r.info.TransactionID, err)
	}
	if r.info.FeeAmount != nil {
		if r.fee, err = ToMoney(*r.info.FeeAmount); err != nil {
			return row{}, fmt.Errorf("transaction %s: fee_amount: %w", r.info.TransactionID, err)
		}
		if r.fee.Currency != r.gross.Currency {
			return row{}, fmt.Errorf("transaction %s: fee in %s, amount in %s", r.info.TransactionID, r.fee.Currency, r.gross.Currency)
		}
	}
	return r, nil
}

// finalBoundary is the instant before which search results are final by
// the delay rule alone.
func (c *Client) finalBoundary() time.Time { return c.now().Add(-c.delay) }

// collect reads every row in [from, to) matching filter, across as many
// 31-day windows and pages as needed, in time order (PayPal's order within
// one instant is kept), without duplicates. It stops at the final boundary:
// the delay rule, lowered to last_refreshed_datetime when PayPal reports an
// earlier refresh, or to a window's start that PayPal says has no data yet.
// final is that boundary; final ≥ to means the whole range was read.
func (c *Client) collect(ctx context.Context, op string, from, to time.Time, filter SearchQuery) (rows []row, final time.Time, err error) {
	final = c.finalBoundary().Truncate(time.Second)
	// Queries carry whole seconds: widen the range to them and filter the
	// rows back to [from, to).
	end := minTime(to, final)
	if t := end.Truncate(time.Second); t.Before(end) {
		end = t.Add(time.Second)
	}
	seen := map[string]bool{}
	for start := from.Truncate(time.Second); start.Before(end); {
		wEnd := minTime(start.Add(MaxSearchWindow), end)
		got, refreshed, werr := c.searchWindow(ctx, op, start, wEnd, filter)
		if werr != nil {
			if connector.KindOf(werr) == connector.KindTemporary && strings.Contains(strings.ToLower(connectorMessage(werr)), msgDataNotAvailable) {
				// PayPal has not refreshed this window yet.
				return sortRows(rows), minTime(final, start), nil
			}
			return nil, final, werr
		}
		if !refreshed.IsZero() && refreshed.Before(final) {
			final = refreshed
		}
		for _, r := range got {
			// PayPal's window ends may be inclusive; ours are not.
			if r.at.Before(start) || !r.at.Before(wEnd) || r.at.Before(from) || !r.at.Before(to) || !r.at.Before(final) {
				continue
			}
			if k := r.key(); !seen[k] {
				seen[k] = true
				rows = append(rows, r)
			}
		}
		if !final.After(wEnd) && wEnd.Before(end) {
			break // PayPal's data ends inside this window
		}
		start = wEnd
	}
	kept := rows[:0]
	for _, r := range rows {
		if r.at.Before(final) {
			kept = append(kept, r)
		}
	}
	return sortRows(kept), final, nil
}

// searchWindow reads all pages of one window and returns the rows and the
// last_refreshed_datetime PayPal reported (zero if none).
func (c *Client) searchWindow(ctx context.Context, op string, start, end time.Time, filter SearchQuery) ([]row, time.Time, error) {
	var rows []row
	var refreshed time.Time
	for page := 1; ; page++ {
		q := filter
		q.Start, q.End, q.Page, q.PageSize = start, end, page, c.pageSize
		resp, err := c.SearchTransactions(ctx, q)
		if err != nil {
			return nil, time.Time{}, err
		}
		if resp.LastRefreshedDatetime != "" {
			t, err := ParseTime(resp.LastRefreshedDatetime)
			if err != nil {
				return nil, time.Time{}, &connector.Error{System: System, Op: op, Kind: connector.KindPermanent, Field: "last_refreshed_datetime", Err: err}
			}
			if refreshed.IsZero() || t.Before(refreshed) {
				refreshed = t
			}
		}
		for _, d := range resp.TransactionDetails {
			r, err := readRow(d)
			if err != nil {
				return nil, time.Time{}, &connector.Error{System: System, Op: op, Kind: connector.KindPermanent, Message: "unreadable transaction row", Err: err}
			}
			rows = append(rows, r)
		}
		if page >= resp.TotalPages || len(resp.TransactionDetails) == 0 {
			return rows, refreshed, nil
		}
		if page >= 100_000 {
			return nil, time.Time{}, &connector.Error{System: System, Op: op, Kind: connector.KindPermanent, Message: "transaction search did not end"}
		}
	}
}

func sortRows(rows []row) []row {
	slices.SortStableFunc(rows, func(a, b row) int { return a.at.Compare(b.at) })
	return rows
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func connectorMessage(err error) string {
	var ce *connector.Error
	if errors.As(err, &ce) {
		return ce.Message
	}
	return ""
}

// notFinal wraps a NotFinalError for op, with the wait until [.., to) is
// final.
func (c *Client) notFinal(op string, final, to time.Time) error {
	wait := max(to.Add(c.delay).Sub(c.now()), time.Duration(0))
	return &connector.Error{System: System, Op: op, Kind: connector.KindTemporary, RetryAfter: wait,
		Message: "the end of the range is not final yet", Err: &NotFinalError{FinalBefore: final}}
}

// Transactions lists the search rows in [from, to) that match filter (its
// Start, End, Page and PageSize are ignored), splitting the range into
// windows of at most 31 days and reading every page, in time order. Rows
// not yet final are not listed: when to is later than the final boundary,
// the sequence ends with a *connector.Error (KindTemporary) wrapping a
// *NotFinalError that says up to when the listing is complete.
func (c *Client) Transactions(ctx context.Context, from, to time.Time, filter SearchQuery) iter.Seq2[TransactionDetail, error] {
	return func(yield func(TransactionDetail, error) bool) {
		rows, final, err := c.collect(ctx, "Transactions", from, to, filter)
		if err != nil {
			yield(TransactionDetail{}, err)
			return
		}
		for _, r := range rows {
			if !yield(TransactionDetail{TransactionInfo: r.info, Raw: r.raw}, nil) {
				return
			}
		}
		if final.Before(to) {
			yield(TransactionDetail{}, c.notFinal("Transactions", final, to))
		}
	}
}

// compareRows orders rows by time, then by id, for deterministic output
// across currencies.
func compareRows(a, b row) int {
	if c := a.at.Compare(b.at); c != 0 {
		return c
	}
	return cmp.Compare(a.info.TransactionID, b.info.TransactionID)
}
