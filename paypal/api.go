package paypal

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/knyt/knyt/connector"
)

// The typed API calls below map one to one onto PayPal's endpoints. The
// connector methods (Capture, Refund, Payment, Payouts) build on them.

// call sends one request and decodes a JSON answer into out (if not nil),
// returning the raw body too.
func (c *Client) call(ctx context.Context, op, method, path string, query url.Values, body any, requestID string, out any) ([]byte, error) {
	req := &connector.Request{Op: op, Method: method, Path: path, Query: query, Header: http.Header{"Accept": {"application/json"}}}
	if method == http.MethodPost {
		// Every POST carries PayPal-Request-Id, so that the transport may
		// retry it and PayPal answers a repeat with the first result.
		if requestID == "" {
			return nil, &connector.Error{System: System, Op: op, Kind: connector.KindValidation, Field: "PayPal-Request-Id", Message: "a POST needs a request id (connector.WithIdempotencyKey)"}
		}
		if len(requestID) > 108 {
			return nil, &connector.Error{System: System, Op: op, Kind: connector.KindValidation, Field: "PayPal-Request-Id", Message: "request id longer than 108 characters"}
		}
		req.IdempotencyKey = requestID
		req.Header.Set("Prefer", "return=representation")
		b := []byte("{}")
		if raw, ok := body.(rawJSON); ok {
			b = raw
		} else if body != nil {
			var err error
			if b, err = json.Marshal(body); err != nil {
				return nil, &connector.Error{System: System, Op: op, Kind: connector.KindValidation, Err: err}
			}
		}
		req.Body, req.ContentType = b, "application/json"
	}
	resp, err := c.tr.Do(ctx, req)
	if err != nil {
		return nil, err
	}
	if out != nil && len(resp.Body) > 0 {
		if err := json.Unmarshal(resp.Body, out); err != nil {
			return nil, &connector.Error{System: System, Op: op, Kind: connector.KindPermanent, Status: resp.Status, Message: "answer is not the expected JSON", Err: err}
		}
	}
	return resp.Body, nil
}

// rawJSON is a request body already encoded, sent as is.
type rawJSON []byte

func pathID(op, name, id string) (string, error) {
	if id == "" || strings.ContainsAny(id, "/?#") || len(id) > 64 {
		return "", &connector.Error{System: System, Op: op, Kind: connector.KindValidation, Field: name, Message: "missing or not a PayPal id"}
	}
	return url.PathEscape(id), nil
}

// GetAuthorization reads an authorized payment.
func (c *Client) GetAuthorization(ctx context.Context, id string) (*Authorization, error) {
	a, _, err := c.getAuthorization(ctx, id)
	return a, err
}

func (c *Client) getAuthorization(ctx context.Context, id string) (*Authorization, []byte, error) {
	p, err := pathID("GetAuthorization", "authorization_id", id)
	if err != nil {
		return nil, nil, err
	}
	var a Authorization
	raw, err := c.call(ctx, "GetAuthorization", http.MethodGet, "/v2/payments/authorizations/"+p, nil, nil, "", &a)
	return &a, raw, err
}

// CaptureAuthorization captures all (req.Amount nil) or part of an
// authorization. requestID is sent as PayPal-Request-Id: PayPal keeps it 45
// days and answers a repeat with the first capture.
func (c *Client) CaptureAuthorization(ctx context.Context, id string, req CaptureRequest, requestID string) (*Capture, error) {
	capt, _, err := c.captureAuthorization(ctx, id, req, requestID)
	return capt, err
}

func (c *Client) captureAuthorization(ctx context.Context, id string, req CaptureRequest, requestID string) (*Capture, []byte, error) {
	p, err := pathID("CaptureAuthorization", "authorization_id", id)
	if err != nil {
		return nil, nil, err
	}
	var capt Capture
	raw, err := c.call(ctx, "CaptureAuthorization", http.MethodPost, "/v2/payments/authorizations/"+p+"/capture", nil, req, requestID, &capt)
	return &capt, raw, err
}

// ReauthorizeAuthorization reauthorizes an authorization after its honour
// period; PayPal answers with a new authorization (new id, new honour
// period, same expiry).
func (c *Client) ReauthorizeAuthorization(ctx context.Context, id string, req ReauthorizeRequest, requestID string) (*Authorization, error) {
	p, err := pathID("ReauthorizeAuthorization", "authorization_id", id)
	if err != nil {
		return nil, err
	}
	var a Authorization
	_, err = c.call(ctx, "ReauthorizeAuthorization", http.MethodPost, "/v2/payments/authorizations/"+p+"/reauthorize", nil, req, requestID, &a)
	return &a, err
}

// VoidAuthorization voids what remains of an authorization.
func (c *Client) VoidAuthorization(ctx context.Context, id, requestID string) error {
	p, err := pathID("VoidAuthorization", "authorization_id", id)
	if err != nil {
		return err
	}
	_, err = c.call(ctx, "VoidAuthorization", http.MethodPost, "/v2/payments/authorizations/"+p+"/void", nil, nil, requestID, nil)
	return err
}

// GetCapture reads a captured payment.
func (c *Client) GetCapture(ctx context.Context, id string) (*Capture, error) {
	p, err := pathID("GetCapture", "capture_id", id)
	if err != nil {
		return nil, err
	}
	var capt Capture
	_, err = c.call(ctx, "GetCapture", http.MethodGet, "/v2/payments/captures/"+p, nil, nil, "", &capt)
	return &capt, err
}

// RefundCapture refunds all (req.Amount nil) or part of a capture, keyed by
// requestID like CaptureAuthorization.
func (c *Client) RefundCapture(ctx context.Context, id string, req RefundRequest, requestID string) (*Refund, error) {
	r, _, err := c.refundCapture(ctx, id, req, requestID)
	return r, err
}

func (c *Client) refundCapture(ctx context.Context, id string, req RefundRequest, requestID string) (*Refund, []byte, error) {
	p, err := pathID("RefundCapture", "capture_id", id)
	if err != nil {
		return nil, nil, err
	}
	var r Refund
	raw, err := c.call(ctx, "RefundCapture", http.MethodPost, "/v2/payments/captures/"+p+"/refund", nil, req, requestID, &r)
	return &r, raw, err
}

// GetRefund reads a refund.
func (c *Client) GetRefund(ctx context.Context, id string) (*Refund, error) {
	p, err := pathID("GetRefund", "refund_id", id)
	if err != nil {
		return nil, err
	}
	var r Refund
	_, err = c.call(ctx, "GetRefund", http.MethodGet, "/v2/payments/refunds/"+p, nil, nil, "", &r)
	return &r, err
}

// GetOrder reads an Orders v2 order with the authorizations, captures and
// refunds of its purchase units.
func (c *Client) GetOrder(ctx context.Context, id string) (*Order, error) {
	o, _, err := c.getOrder(ctx, id)
	return o, err
}

func (c *Client) getOrder(ctx context.Context, id string) (*Order, []byte, error) {
	p, err := pathID("GetOrder", "order_id", id)
	if err != nil {
		return nil, nil, err
	}
	var o Order
	raw, err := c.call(ctx, "GetOrder", http.MethodGet, "/v2/checkout/orders/"+p, nil, nil, "", &o)
	return &o, raw, err
}

// SearchQuery is one Transaction Search request: one window of at most 31
// days and one page.
type SearchQuery struct {
	Start, End      time.Time // required; End − Start ≤ 31 days
	TransactionID   string
	EventCode       string // transaction_type, e.g. "T0400"
	Status          string // D, P, S or V
	Currency        string
	AllRecords      bool // balance_affecting_records_only=N
	Page, PageSize  int  // 1-based; 0 means 1 and the client's page size
	IncludeAllField bool // fields=all instead of transaction_info
}

// SearchTransactions runs one Transaction Search request. It refuses a
// window over 31 days or with its end before its start; the Transactions
// iterator splits longer ranges itself.
func (c *Client) SearchTransactions(ctx context.Context, q SearchQuery) (*SearchResponse, error) {
	const op = "SearchTransactions"
	if q.Start.IsZero() || q.End.IsZero() || !q.End.After(q.Start) {
		return nil, &connector.Error{System: System, Op: op, Kind: connector.KindValidation, Field: "end_date", Message: "the window needs a start before its end"}
	}
	if q.End.Sub(q.Start) > MaxSearchWindow {
		return nil, &connector.Error{System: System, Op: op, Kind: connector.KindValidation, Field: "end_date", Message: "the window is longer than 31 days"}
	}
	if q.Page == 0 {
		q.Page = 1
	}
	if q.PageSize == 0 {
		q.PageSize = c.pageSize
	}
	if q.Page < 1 || q.PageSize < 1 || q.PageSize > MaxPageSize {
		return nil, &connector.Error{System: System, Op: op, Kind: connector.KindValidation, Field: "page_size", Message: "page must be ≥ 1 and page size 1–500"}
	}
	v := url.Values{
		"start_date": {formatQueryTime(q.Start)},
		"end_date":   {formatQueryTime(q.End)},
		"page":       {strconv.Itoa(q.Page)},
		"page_size":  {strconv.Itoa(q.PageSize)},
		"fields":     {"transaction_info"},
	}
	if q.IncludeAllField {
		v.Set("fields", "all")
	}
	if q.TransactionID != "" {
		v.Set("transaction_id", q.TransactionID)
	}
	if q.EventCode != "" {
		v.Set("transaction_type", q.EventCode)
	}
	if q.Status != "" {
		v.Set("transaction_status", q.Status)
	}
	if q.Currency != "" {
		v.Set("transaction_currency", q.Currency)
	}
	if q.AllRecords {
		v.Set("balance_affecting_records_only", "N")
	}
	var out SearchResponse
	if _, err := c.call(ctx, op, http.MethodGet, "/v1/reporting/transactions", v, nil, "", &out); err != nil {
		return nil, err
	}
	return &out, nil
}
