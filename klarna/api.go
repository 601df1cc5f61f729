package klarna

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/knyt/knyt/connector"
)

// This file is the typed API client: one method per Klarna operation, wire
// types in and out. The connector methods (payments.go, payouts.go) build on
// it.

const maxPageSize = 500

// checkID refuses ids that would change the request path. Klarna ids are
// opaque strings (UUIDs today); anything with a path or query delimiter
// cannot be one.
func checkID(op, field, id string) error {
	if id == "" {
		return invalid(op, field, nil, "missing")
	}
	if len(id) > 255 || strings.ContainsAny(id, "/?#%\\") || id == "." || id == ".." || strings.IndexFunc(id, func(r rune) bool { return r < 0x21 || r == 0x7f }) >= 0 {
		return invalid(op, field, nil, "not a Klarna id: %q", truncate(id, 64))
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

func orderPath(id string, parts ...string) string {
	return omPath + url.PathEscape(id) + joinParts(parts)
}

func joinParts(parts []string) string {
	var b strings.Builder
	for _, p := range parts {
		b.WriteByte('/')
		b.WriteString(p)
	}
	return b.String()
}

func (c *Client) get(ctx context.Context, op, p string, q url.Values) (*connector.Response, error) {
	return c.t.Do(ctx, &connector.Request{Op: op, Method: http.MethodGet, Path: p, Query: q})
}

// write sends a POST or PATCH with a JSON body (nil for none) under key.
func (c *Client) write(ctx context.Context, op, method, p string, body any, key string) (*connector.Response, error) {
	if key == "" {
		return nil, invalid(op, "idempotency_key", ErrIdempotencyKeyRequired, "pass connector.WithIdempotencyKey derived from the business event")
	}
	req := &connector.Request{Op: op, Method: method, Path: p, IdempotencyKey: key}
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, invalid(op, "body", err, "cannot encode request")
		}
		req.Body, req.ContentType = b, "application/json"
	}
	return c.t.Do(ctx, req)
}

func decodeJSON[T any](op string, b []byte) (T, error) {
	var v T
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&v); err != nil {
		return v, malformed(op, err)
	}
	if dec.More() {
		return v, malformed(op, errors.New("trailing data after the JSON value"))
	}
	return v, nil
}

// GetOrder reads an order.
func (c *Client) GetOrder(ctx context.Context, orderID string) (*Order, error) {
	o, _, err := c.getOrder(ctx, "GetOrder", orderID)
	return o, err
}

func (c *Client) getOrder(ctx context.Context, op, orderID string) (*Order, []byte, error) {
	if err := checkID(op, "order_id", orderID); err != nil {
		return nil, nil, err
	}
	resp, err := c.get(ctx, op, orderPath(orderID), nil)
	if err != nil {
		return nil, nil, err
	}
	o, err := decodeOrder(op, resp.Body)
	if err != nil {
		return nil, nil, err
	}
	return o, resp.Body, nil
}

// decodeOrder reads an order and checks the fields the connector relies on.
func decodeOrder(op string, b []byte) (*Order, error) {
	o, err := decodeJSON[Order](op, b)
	if err != nil {
		return nil, err
	}
	if o.OrderID == "" {
		return nil, malformed(op, errors.New("order without order_id"))
	}
	if o.PurchaseCurrency == "" {
		return nil, malformed(op, fmt.Errorf("order %s without purchase_currency", o.OrderID))
	}
	return &o, nil
}

// CreateCapture captures part or all of an order's authorization under the
// idempotency key and returns the new capture's id, taken from the
// Capture-Id header (the 201 answer has no body).
func (c *Client) CreateCapture(ctx context.Context, orderID string, body CaptureObject, key string) (string, error) {
	const op = "CreateCapture"
	if err := checkID(op, "order_id", orderID); err != nil {
		return "", err
	}
	resp, err := c.write(ctx, op, http.MethodPost, orderPath(orderID, "captures"), body, key)
	if err != nil {
		return "", err
	}
	return createdID(op, resp, "Capture-Id")
}

// createdID reads the id of a created resource from its header, falling
// back to the last segment of Location.
func createdID(op string, resp *connector.Response, header string) (string, error) {
	if id := strings.TrimSpace(resp.Header.Get(header)); id != "" {
		return id, nil
	}
	if loc := resp.Header.Get("Location"); loc != "" {
		if u, err := url.Parse(loc); err == nil {
			if id := path.Base(u.Path); id != "" && id != "/" && id != "." {
				return id, nil
			}
		}
	}
	return "", malformed(op, fmt.Errorf("%d answer without %s or Location header", resp.Status, header))
}

// GetCapture reads one capture.
func (c *Client) GetCapture(ctx context.Context, orderID, captureID string) (*Capture, error) {
	const op = "GetCapture"
	if err := checkID(op, "order_id", orderID); err != nil {
		return nil, err
	}
	if err := checkID(op, "capture_id", captureID); err != nil {
		return nil, err
	}
	resp, err := c.get(ctx, op, orderPath(orderID, "captures", url.PathEscape(captureID)), nil)
	if err != nil {
		return nil, err
	}
	cp, err := decodeJSON[Capture](op, resp.Body)
	if err != nil {
		return nil, err
	}
	return &cp, nil
}

// CreateRefund refunds part or all of an order's captured amount under the
// idempotency key and returns the refund id from the Refund-Id header.
func (c *Client) CreateRefund(ctx context.Context, orderID string, body RefundObject, key string) (string, error) {
	const op = "CreateRefund"
	if err := checkID(op, "order_id", orderID); err != nil {
		return "", err
	}
	resp, err := c.write(ctx, op, http.MethodPost, orderPath(orderID, "refunds"), body, key)
	if err != nil {
		return "", err
	}
	return createdID(op, resp, "Refund-Id")
}

// GetRefund reads one refund.
func (c *Client) GetRefund(ctx context.Context, orderID, refundID string) (*Refund, error) {
	const op = "GetRefund"
	if err := checkID(op, "order_id", orderID); err != nil {
		return nil, err
	}
	if err := checkID(op, "refund_id", refundID); err != nil {
		return nil, err
	}
	resp, err := c.get(ctx, op, orderPath(orderID, "refunds", url.PathEscape(refundID)), nil)
	if err != nil {
		return nil, err
	}
	r, err := decodeJSON[Refund](op, resp.Body)
	if err != nil {
		return nil, err
	}
	return &r, nil
}

// ReleaseRemainingAuthorization gives back what is left of a partly
// captured order's authorization.
func (c *Client) ReleaseRemainingAuthorization(ctx context.Context, orderID, key string) error {
	const op = "ReleaseRemainingAuthorization"
	if err := checkID(op, "order_id", orderID); err != nil {
		return err
	}
	_, err := c.write(ctx, op, http.MethodPost, orderPath(orderID, "release-remaining-authorization"), nil, key)
	return err
}

// CancelOrder cancels an order that has no captures.
func (c *Client) CancelOrder(ctx context.Context, orderID, key string) error {
	const op = "CancelOrder"
	if err := checkID(op, "order_id", orderID); err != nil {
		return err
	}
	_, err := c.write(ctx, op, http.MethodPost, orderPath(orderID, "cancel"), nil, key)
	return err
}

// UpdateMerchantReferences sets an order's merchant references (the shop's
// order number in merchant_reference1), which then appear in settlements.
func (c *Client) UpdateMerchantReferences(ctx context.Context, orderID string, refs MerchantReferences, key string) error {
	const op = "UpdateMerchantReferences"
	if err := checkID(op, "order_id", orderID); err != nil {
		return err
	}
	_, err := c.write(ctx, op, http.MethodPatch, orderPath(orderID, "merchant-references"), refs, key)
	return err
}

// PayoutQuery filters payouts by payout date and currency. Start and End
// are sent as full UTC date-times, as Klarna advises (a bare date means
// midnight); zero leaves the bound open.
type PayoutQuery struct {
	Start, End time.Time
	Currency   string
}

func (q PayoutQuery) values() url.Values {
	v := url.Values{}
	if !q.Start.IsZero() {
		v.Set("start_date", q.Start.UTC().Format(time.RFC3339))
	}
	if !q.End.IsZero() {
		v.Set("end_date", q.End.UTC().Format(time.RFC3339))
	}
	if q.Currency != "" {
		v.Set("currency_code", q.Currency)
	}
	return v
}

// ListPayouts lists payouts page by page, following pagination.next.
func (c *Client) ListPayouts(ctx context.Context, q PayoutQuery) iter.Seq2[Payout, error] {
	return pages(ctx, c, "ListPayouts", settlementsPath+"payouts", q.values(), func(op string, b []byte) ([]Payout, Pagination, error) {
		pc, err := decodePayoutCollection(op, b)
		return pc.Payouts, pc.Pagination, err
	})
}

func decodePayoutCollection(op string, b []byte) (PayoutCollection, error) {
	pc, err := decodeJSON[PayoutCollection](op, b)
	if err != nil {
		return pc, err
	}
	for i := range pc.Payouts {
		if err := checkPayout(&pc.Payouts[i]); err != nil {
			return pc, malformed(op, fmt.Errorf("payouts[%d]: %w", i, err))
		}
	}
	return pc, nil
}

func checkPayout(p *Payout) error {
	if p.PaymentReference == "" {
		return errors.New("payout without payment_reference")
	}
	if p.CurrencyCode == "" {
		return fmt.Errorf("payout %s without currency_code", p.PaymentReference)
	}
	return nil
}

// GetPayout reads one payout by its payment reference.
func (c *Client) GetPayout(ctx context.Context, paymentReference string) (*Payout, error) {
	p, _, err := c.getPayout(ctx, "GetPayout", paymentReference)
	return p, err
}

func (c *Client) getPayout(ctx context.Context, op, ref string) (*Payout, []byte, error) {
	if err := checkID(op, "payment_reference", ref); err != nil {
		return nil, nil, err
	}
	resp, err := c.get(ctx, op, settlementsPath+"payouts/"+url.PathEscape(ref), nil)
	if err != nil {
		return nil, nil, err
	}
	p, err := decodeJSON[Payout](op, resp.Body)
	if err != nil {
		return nil, nil, err
	}
	if err := checkPayout(&p); err != nil {
		return nil, nil, malformed(op, err)
	}
	return &p, resp.Body, nil
}

// PayoutSummaries sums the payouts between start and end per currency
// (currency empty: all currencies).
func (c *Client) PayoutSummaries(ctx context.Context, start, end time.Time, currency string) ([]PayoutSummary, error) {
	const op = "PayoutSummaries"
	if start.IsZero() || end.IsZero() {
		return nil, invalid(op, "start_date", nil, "start and end are required")
	}
	resp, err := c.get(ctx, op, settlementsPath+"payouts/summary", PayoutQuery{Start: start, End: end, Currency: currency}.values())
	if err != nil {
		return nil, err
	}
	return decodeJSON[[]PayoutSummary](op, resp.Body)
}

// TransactionQuery selects settlement transactions: those of one payout,
// of one order, or both.
type TransactionQuery struct {
	PaymentReference string
	OrderID          string
}

// ListTransactions lists settlement transactions page by page, following
// pagination.next.
func (c *Client) ListTransactions(ctx context.Context, q TransactionQuery) iter.Seq2[Transaction, error] {
	v := url.Values{}
	if q.PaymentReference != "" {
		v.Set("payment_reference", q.PaymentReference)
	}
	if q.OrderID != "" {
		v.Set("order_id", q.OrderID)
	}
	return pages(ctx, c, "ListTransactions", settlementsPath+"transactions", v, func(op string, b []byte) ([]Transaction, Pagination, error) {
		tc, err := decodeTransactionCollection(op, b)
		return tc.Transactions, tc.Pagination, err
	})
}

func decodeTransactionCollection(op string, b []byte) (TransactionCollection, error) {
	return decodeJSON[TransactionCollection](op, b)
}

// pages walks a Settlements API collection. It requests size-sized pages
// and follows pagination.next, taking only its query (offset, size and
// filters) and sending it to the same endpoint: a next link pointing at
// another host is never followed, so credentials cannot leak. It fails if
// the offset does not advance, if a page's count disagrees with its items,
// or if the items seen differ from pagination.total at the end, so a
// collection is never silently skipped or repeated.
func pages[T any](ctx context.Context, c *Client, op, endpoint string, filter url.Values, decode func(string, []byte) ([]T, Pagination, error)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		q := url.Values{}
		for k, vs := range filter {
			q[k] = append([]string(nil), vs...)
		}
		q.Set("offset", "0")
		q.Set("size", strconv.Itoa(c.pageSize))
		var seen int64
		offset := int64(0)
		for {
			resp, err := c.get(ctx, op, endpoint, q)
			if err != nil {
				yield(zero, err)
				return
			}
			items, pg, err := decode(op, resp.Body)
			if err != nil {
				yield(zero, err)
				return
			}
			if pg.Count != int64(len(items)) {
				yield(zero, malformed(op, fmt.Errorf("pagination.count %d but %d items at offset %d", pg.Count, len(items), offset)))
				return
			}
			for _, it := range items {
				if !yield(it, nil) {
					return
				}
			}
			seen += int64(len(items))
			if pg.Next == "" {
				if pg.Total > 0 && seen != pg.Total {
					yield(zero, malformed(op, fmt.Errorf("read %d items but pagination.total is %d", seen, pg.Total)))
				}
				return
			}
			next, err := url.Parse(pg.Next)
			if err != nil {
				yield(zero, malformed(op, fmt.Errorf("pagination.next is not a URL: %w", err)))
				return
			}
			nq := next.Query()
			no, err := strconv.ParseInt(nq.Get("offset"), 10, 64)
			if err != nil || no <= offset {
				yield(zero, malformed(op, fmt.Errorf("pagination.next does not advance the offset beyond %d: %q", offset, c.t.Redactor().String(pg.Next))))
				return
			}
			if no != offset+int64(len(items)) {
				// Klarna's own example moves from offset 10 to 21 with size
				// 10; following such a link would skip an item.
				yield(zero, malformed(op, fmt.Errorf("pagination.next moves to offset %d after %d items at offset %d", no, len(items), offset)))
				return
			}
			offset, q = no, nq
		}
	}
}

// PayoutReport downloads the CSV payout-with-transactions report of one
// payout and parses it with ParsePayoutReport.
func (c *Client) PayoutReport(ctx context.Context, paymentReference string) ([]Transaction, error) {
	const op = "PayoutReport"
	if err := checkID(op, "payment_reference", paymentReference); err != nil {
		return nil, err
	}
	resp, err := c.t.Do(ctx, &connector.Request{
		Op: op, Method: http.MethodGet, Path: settlementsPath + "reports/payout-with-transactions",
		Query: url.Values{"payment_reference": {paymentReference}}, Header: http.Header{"Accept": {"text/csv"}},
	})
	if err != nil {
		return nil, err
	}
	rows, err := ParsePayoutReport(bytes.NewReader(resp.Body))
	if err != nil {
		return nil, connector.Wrap(SystemName, op, err)
	}
	return rows, nil
}
