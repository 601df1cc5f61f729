package shopify

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/connector"
)

// orderWithChildren is a node of the refunds and returns feeds: an order
// with the ids of its refunds or returns.
type orderWithChildren struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	UpdatedAt time.Time `json:"updatedAt"`
	Refunds   []struct {
		ID        string     `json:"id"`
		CreatedAt *time.Time `json:"createdAt"`
		UpdatedAt *time.Time `json:"updatedAt"`
	} `json:"refunds"`
	Returns struct {
		Nodes []struct {
			ID     string `json:"id"`
			Status string `json:"status"`
		} `json:"nodes"`
	} `json:"returns"`
}

func (o orderWithChildren) key() (time.Time, string) { return o.UpdatedAt, o.ID }

// childFeedFetch reads one page of orders with their refunds or returns.
func (c *Client) childFeedFetch(doc *Document, extra map[string]any) func(ctx context.Context, query, after string) (pageOf[orderWithChildren], error) {
	return func(ctx context.Context, query, after string) (pageOf[orderWithChildren], error) {
		vars := map[string]any{}
		for k, v := range extra {
			vars[k] = v
		}
		if query != "" {
			vars["query"] = query
		}
		if after != "" {
			vars["after"] = after
		}
		c.pageSize(doc, vars, "first", c.cfg.pageLimit)
		var out struct {
			Orders struct {
				PageInfo pageInfo            `json:"pageInfo"`
				Nodes    []orderWithChildren `json:"nodes"`
			} `json:"orders"`
		}
		if _, err := c.Execute(ctx, doc, vars, &out); err != nil {
			return pageOf[orderWithChildren]{}, err
		}
		return pageOf[orderWithChildren]{nodes: out.Orders.Nodes, info: out.Orders.PageInfo}, nil
	}
}

// Refunds is the refund feed. Shopify has no refund search, so the feed
// walks orders updated since the cursor (a refund updates its order) and
// reads each refund created or updated in the window in full: lines with
// SKU and restock, shipping, and the refund transactions with their
// gateway. Delivery is at least once — a refund may come again when its
// order changes later; deduplicate on the refund id. Refunds of no money
// (a restock only) are not delivered. Commit is a no-op.
func (c *Client) Refunds() connector.Feed[commerce.Refund] {
	return &watermarkFeed[commerce.Refund, orderWithChildren]{
		fetch: c.childFeedFetch(docRefundsFeed, map[string]any{"refunds": 50}),
		key:   orderWithChildren.key,
		mapAll: func(ctx context.Context, since time.Time, nodes []orderWithChildren, problems *[]connector.ItemProblem) ([]commerce.Refund, error) {
			var out []commerce.Refund
			for _, o := range nodes {
				for _, r := range o.Refunds {
					at := r.UpdatedAt
					if at == nil {
						at = r.CreatedAt
					}
					if at != nil && at.Before(since) {
						continue // delivered with an earlier window
					}
					rf, ok, err := c.RefundByID(ctx, r.ID)
					if err != nil {
						if err := c.skipInvalid(ctx, "refund", c.ref(r.ID), err, problems); err != nil {
							return nil, err
						}
						continue
					}
					if ok {
						out = append(out, rf)
					}
				}
			}
			return out, nil
		},
	}
}

type wireRefund struct {
	ID          string     `json:"id"`
	CreatedAt   *time.Time `json:"createdAt"`
	ProcessedAt time.Time  `json:"processedAt"`
	Note        string     `json:"note"`
	Order       struct {
		ID                      string `json:"id"`
		Name                    string `json:"name"`
		CurrencyCode            string `json:"currencyCode"`
		PresentmentCurrencyCode string `json:"presentmentCurrencyCode"`
		TaxesIncluded           bool   `json:"taxesIncluded"`
	} `json:"order"`
	Return *struct {
		ID string `json:"id"`
	} `json:"return"`
	TotalRefundedSet moneyBag `json:"totalRefundedSet"`
	RefundLineItems  struct {
		PageInfo pageInfo `json:"pageInfo"`
		Nodes    []struct {
			ID          string `json:"id"`
			Quantity    int    `json:"quantity"`
			RestockType string `json:"restockType"`
			Restocked   bool   `json:"restocked"`
			LineItem    struct {
				ID  string `json:"id"`
				SKU string `json:"sku"`
			} `json:"lineItem"`
			SubtotalSet moneyBag `json:"subtotalSet"`
			TotalTaxSet moneyBag `json:"totalTaxSet"`
		} `json:"nodes"`
	} `json:"refundLineItems"`
	RefundShippingLines struct {
		Nodes []struct {
			SubtotalAmountSet moneyBag `json:"subtotalAmountSet"`
			TaxAmountSet      moneyBag `json:"taxAmountSet"`
		} `json:"nodes"`
	} `json:"refundShippingLines"`
	Transactions struct {
		Nodes []wireTransaction `json:"nodes"`
	} `json:"transactions"`
}

const (
	refundLines         = 50
	refundShippingLines = 10
	refundTransactions  = 10
)

// RefundByID reads one refund. ok is false for a refund of no money.
func (c *Client) RefundByID(ctx context.Context, id string) (commerce.Refund, bool, error) {
	raw, w, err := c.readRefund(ctx, id)
	if err != nil {
		return commerce.Refund{}, false, err
	}
	return c.mapRefund(raw, w)
}

// readRefund reads one refund as the Refund query selects it.
func (c *Client) readRefund(ctx context.Context, id string) (json.RawMessage, wireRefund, error) {
	vars := map[string]any{"id": gid("Refund", id), "lines": refundLines, "shippingLines": refundShippingLines, "transactions": refundTransactions}
	var out struct {
		Refund json.RawMessage `json:"refund"`
	}
	if _, err := c.Execute(ctx, docRefund, vars, &out); err != nil {
		return nil, wireRefund{}, err
	}
	if len(out.Refund) == 0 || string(out.Refund) == "null" {
		return nil, wireRefund{}, &connector.Error{System: systemName, Op: "Refund", Kind: connector.KindNotFound, Message: "no refund " + id}
	}
	var w wireRefund
	if err := json.Unmarshal(out.Refund, &w); err != nil {
		return nil, wireRefund{}, invalid("MapRefund", "", err)
	}
	if w.RefundLineItems.PageInfo.HasNextPage {
		return nil, wireRefund{}, &connector.Error{System: systemName, Op: "Refund", Kind: connector.KindUnsupported,
			Message: fmt.Sprintf("refund %s has more than %d lines", w.ID, refundLines)}
	}
	return out.Refund, w, nil
}

var restockTypes = map[string]bool{"NO_RESTOCK": false, "CANCEL": true, "RETURN": true, "LEGACY_RESTOCK": true}

// refundHead is what a refund is without its money: ids, order, note,
// times and the return it belongs to.
func (c *Client) refundHead(raw json.RawMessage, w wireRefund) commerce.Refund {
	r := commerce.Refund{
		Origin:      commerce.Origin{Source: c.ref(w.ID), Raw: raw},
		ID:          w.ID,
		OrderNumber: w.Order.Name,
		Note:        w.Note,
		CreatedAt:   w.ProcessedAt,
	}
	if w.CreatedAt != nil {
		r.CreatedAt = *w.CreatedAt
	}
	if w.Return != nil {
		r.ReturnID = w.Return.ID
	}
	return r
}

// mapRefund maps a refund in the configured currency. A line's amount is
// its subtotal plus, when the order's prices exclude tax, its tax; the
// shipping likewise.
func (c *Client) mapRefund(raw json.RawMessage, w wireRefund) (commerce.Refund, bool, error) {
	const op = "MapRefund"
	code := w.Order.CurrencyCode
	if c.cfg.money == PresentmentMoney {
		code = w.Order.PresentmentCurrencyCode
	}
	cur, err := parseCurrency(code)
	if err != nil {
		return commerce.Refund{}, false, invalid(op, "order.currencyCode", err)
	}
	m := orderMapper{kind: c.cfg.money, currency: cur}
	r := c.refundHead(raw, w)
	if r.Amount, err = m.money("totalRefundedSet", w.TotalRefundedSet); err != nil {
		return r, false, err
	}
	if r.Amount.IsZero() {
		return r, false, nil
	}
	withTax := func(f string, sub, tax moneyBag) (commerce.Money, error) {
		s, err := m.money(f+".subtotal", sub)
		if err != nil || w.Order.TaxesIncluded {
			return s, err
		}
		t, err := m.money(f+".tax", tax)
		if err != nil {
			return s, err
		}
		sum, err := s.Add(t)
		if err != nil {
			return s, invalid(op, f, err)
		}
		return sum, nil
	}
	for i, l := range w.RefundLineItems.Nodes {
		f := fmt.Sprintf("refundLineItems[%d]", i)
		restock, ok := restockTypes[l.RestockType]
		if !ok {
			return r, false, invalid(op, f+".restockType", fmt.Errorf("unknown restock type %q", l.RestockType))
		}
		amt, err := withTax(f, l.SubtotalSet, l.TotalTaxSet)
		if err != nil {
			return r, false, err
		}
		r.Lines = append(r.Lines, commerce.RefundLine{LineID: l.LineItem.ID, SKU: l.LineItem.SKU, Quantity: l.Quantity, Amount: amt, Restock: restock})
	}
	for i, s := range w.RefundShippingLines.Nodes {
		amt, err := withTax(fmt.Sprintf("refundShippingLines[%d]", i), s.SubtotalAmountSet, s.TaxAmountSet)
		if err != nil {
			return r, false, err
		}
		if r.Shipping.Currency.IsZero() {
			r.Shipping = commerce.Zero(cur)
		}
		if r.Shipping, err = r.Shipping.Add(amt); err != nil {
			return r, false, invalid(op, "refundShippingLines", err)
		}
	}
	for _, t := range w.Transactions.Nodes {
		if t.Kind != "REFUND" || t.Status != "SUCCESS" {
			continue
		}
		r.Provider = provider(t.Gateway)
		if t.ParentTransaction != nil {
			r.CaptureID = t.ParentTransaction.ID
			r.PaymentReference = t.ParentTransaction.ID
		}
		if t.PaymentID != "" {
			r.PaymentReference = t.PaymentID
		}
		break
	}
	if err := setDiscrepancy(&r); err != nil {
		return r, false, invalid(op, "", err)
	}
	if err := r.Validate(); err != nil {
		return r, false, invalid(op, "", err)
	}
	return r, true, nil
}

// setDiscrepancy records what the refund paid back less than its lines and
// shipping are worth: Shopify keeps the lines' full value and the money
// refunded (the transactions) apart.
func setDiscrepancy(r *commerce.Refund) error {
	parts := commerce.Zero(r.Amount.Currency)
	var err error
	for _, l := range r.Lines {
		if parts, err = parts.Add(l.Amount); err != nil {
			return err
		}
	}
	if !r.Shipping.Currency.IsZero() {
		if parts, err = parts.Add(r.Shipping); err != nil {
			return err
		}
	}
	d, err := parts.Sub(r.Amount)
	if err != nil {
		return err
	}
	if d.IsPositive() {
		r.Discrepancy = d
	}
	return nil
}

// Returns is the return feed: returns of orders updated since the cursor,
// read in full (lines with the order line and SKU they return, reasons).
// Shopify's returns carry no update time, so every return of an updated
// order is delivered again (at least once; deduplicate on id and status).
// Commit is a no-op.
func (c *Client) Returns() connector.Feed[commerce.Return] {
	return &watermarkFeed[commerce.Return, orderWithChildren]{
		fetch: c.childFeedFetch(docReturnsFeed, map[string]any{"returns": 10}),
		key:   orderWithChildren.key,
		mapAll: func(ctx context.Context, _ time.Time, nodes []orderWithChildren, problems *[]connector.ItemProblem) ([]commerce.Return, error) {
			var out []commerce.Return
			for _, o := range nodes {
				for _, r := range o.Returns.Nodes {
					rt, err := c.ReturnByID(ctx, r.ID)
					if err != nil {
						if err := c.skipInvalid(ctx, "return", c.ref(r.ID), err, problems); err != nil {
							return nil, err
						}
						continue
					}
					out = append(out, rt)
				}
			}
			return out, nil
		},
	}
}

var returnStatuses = map[string]commerce.ReturnStatus{
	"REQUESTED": commerce.ReturnRequested,
	"OPEN":      commerce.ReturnOpen,
	"CLOSED":    commerce.ReturnClosed,
	"DECLINED":  commerce.ReturnDeclined,
	"CANCELED":  commerce.ReturnCancelled,
}

type wireReturn struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Status    string    `json:"status"`
	CreatedAt time.Time `json:"createdAt"`
	Order     struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"order"`
	ReturnLineItems struct {
		PageInfo pageInfo `json:"pageInfo"`
		Nodes    []struct {
			ID                     string `json:"id"`
			Quantity               int    `json:"quantity"`
			CustomerNote           string `json:"customerNote"`
			ReturnReasonNote       string `json:"returnReasonNote"`
			ReturnReasonDefinition *struct {
				Handle string `json:"handle"`
				Name   string `json:"name"`
			} `json:"returnReasonDefinition"`
			FulfillmentLineItem *struct {
				LineItem struct {
					ID  string `json:"id"`
					SKU string `json:"sku"`
				} `json:"lineItem"`
			} `json:"fulfillmentLineItem"`
		} `json:"nodes"`
	} `json:"returnLineItems"`
}

const returnLines = 50

// ReturnByID reads one return.
func (c *Client) ReturnByID(ctx context.Context, id string) (commerce.Return, error) {
	var out struct {
		Return json.RawMessage `json:"return"`
	}
	if _, err := c.Execute(ctx, docReturn, map[string]any{"id": gid("Return", id), "lines": returnLines}, &out); err != nil {
		return commerce.Return{}, err
	}
	if len(out.Return) == 0 || string(out.Return) == "null" {
		return commerce.Return{}, &connector.Error{System: systemName, Op: "Return", Kind: connector.KindNotFound, Message: "no return " + id}
	}
	var w wireReturn
	if err := json.Unmarshal(out.Return, &w); err != nil {
		return commerce.Return{}, invalid("MapReturn", "", err)
	}
	if w.ReturnLineItems.PageInfo.HasNextPage {
		return commerce.Return{}, &connector.Error{System: systemName, Op: "Return", Kind: connector.KindUnsupported,
			Message: fmt.Sprintf("return %s has more than %d lines", w.ID, returnLines)}
	}
	return c.mapReturn(out.Return, w)
}

func (c *Client) mapReturn(raw json.RawMessage, w wireReturn) (commerce.Return, error) {
	const op = "MapReturn"
	st, ok := returnStatuses[w.Status]
	if !ok {
		return commerce.Return{}, invalid(op, "status", fmt.Errorf("unknown return status %q", w.Status))
	}
	r := commerce.Return{
		Origin:      commerce.Origin{Source: c.ref(w.ID), Raw: raw},
		ID:          w.ID,
		OrderNumber: w.Order.Name,
		OrderRef:    c.ref(w.Order.ID),
		Status:      st,
		CreatedAt:   w.CreatedAt,
	}
	for _, l := range w.ReturnLineItems.Nodes {
		rl := commerce.ReturnLine{Quantity: l.Quantity, Reason: l.ReturnReasonNote}
		if d := l.ReturnReasonDefinition; d != nil {
			rl.Reason = d.Handle
			if l.ReturnReasonNote != "" {
				rl.Reason += ": " + l.ReturnReasonNote
			}
		}
		if l.FulfillmentLineItem != nil {
			rl.LineID, rl.SKU = l.FulfillmentLineItem.LineItem.ID, l.FulfillmentLineItem.LineItem.SKU
		}
		r.Lines = append(r.Lines, rl)
	}
	if err := r.Validate(); err != nil {
		return r, invalid(op, "", err)
	}
	return r, nil
}
