package stripe

import (
	"context"
	"encoding/json"
	"iter"
	"maps"

	"github.com/knyt/knyt/connector"
)

// listAll walks a Stripe list: pages of limit items, each next page asked
// for with starting_after set to the id of the last item of the previous
// one, until has_more is false. An error ends the sequence after being
// yielded once; breaking out of the loop stops the requests.
func listAll[T any](c *Client, ctx context.Context, op, path string, params Params, id func(*T) string) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		q := maps.Clone(params)
		if q == nil {
			q = Params{}
		}
		if _, ok := q["limit"]; !ok {
			q["limit"] = c.pageSize
		}
		var zero T
		for {
			var page List[T]
			if _, err := c.get(ctx, op, path, q, &page); err != nil {
				yield(zero, err)
				return
			}
			for i := range page.Data {
				if !yield(page.Data[i], nil) {
					return
				}
			}
			if !page.HasMore {
				return
			}
			if len(page.Data) == 0 {
				yield(zero, &connector.Error{System: SystemName, Op: op, Kind: connector.KindPermanent,
					Message: "list page says has_more but holds no items"})
				return
			}
			last := id(&page.Data[len(page.Data)-1])
			if last == "" || last == q["starting_after"] {
				yield(zero, &connector.Error{System: SystemName, Op: op, Kind: connector.KindPermanent,
					Message: "list did not advance"})
				return
			}
			q["starting_after"] = last
		}
	}
}

// rawItem decodes a list item and keeps its bytes, for Origin.Raw.
type rawItem[T any] struct {
	v   T
	raw json.RawMessage
}

func (r *rawItem[T]) UnmarshalJSON(b []byte) error {
	r.raw = append(json.RawMessage(nil), b...)
	return json.Unmarshal(b, &r.v)
}

// ListPayouts lists payouts, newest first, filtered by params (created,
// arrival_date, status, …; see Stripe's API reference).
func (c *Client) ListPayouts(ctx context.Context, params Params) iter.Seq2[Payout, error] {
	return listAll(c, ctx, "ListPayouts", "/v1/payouts", params, func(p *Payout) string { return p.ID })
}

// ListBalanceTransactions lists balance transactions, newest first,
// filtered by params (payout, source, type, currency, created, expand).
func (c *Client) ListBalanceTransactions(ctx context.Context, params Params) iter.Seq2[BalanceTransaction, error] {
	return listAll(c, ctx, "ListBalanceTransactions", "/v1/balance_transactions", params,
		func(t *BalanceTransaction) string { return t.ID })
}

// ListRefunds lists refunds, newest first, filtered by params
// (payment_intent, charge, created).
func (c *Client) ListRefunds(ctx context.Context, params Params) iter.Seq2[Refund, error] {
	return listAll(c, ctx, "ListRefunds", "/v1/refunds", params, func(r *Refund) string { return r.ID })
}
