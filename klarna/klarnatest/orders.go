package klarnatest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/knyt/knyt/klarna"
)

// order is the fake's state of one Klarna order.
type order struct {
	id         string
	reference  string // klarna_reference
	currency   string
	country    string
	amount     int64 // order_amount
	original   int64
	lines      []klarna.OrderLine
	ref1, ref2 string
	createdAt  time.Time
	expiresAt  time.Time
	cancelled  bool
	released   bool
	captures   []*capture
	refunds    []*refund
	captureSeq int
}

type capture struct {
	wire    klarna.Capture
	settled bool
}

type refund struct {
	wire    klarna.Refund
	settled bool
}

func (o *order) captured() int64 {
	var n int64
	for _, c := range o.captures {
		n += c.wire.CapturedAmount
	}
	return n
}

func (o *order) refunded() int64 {
	var n int64
	for _, r := range o.refunds {
		n += r.wire.RefundedAmount
	}
	return n
}

// remaining is what can still be captured. A release gives it back.
func (o *order) remaining() int64 {
	if o.cancelled || o.released {
		return 0
	}
	return max(o.amount-o.captured(), 0)
}

// status follows Klarna's order states. An order past expires_at without
// captures is EXPIRED; a released order is CAPTURED (what Klarna reports
// after a release is not documented; CAPTURED is the assumption here).
func (o *order) status(now time.Time) string {
	switch {
	case o.cancelled:
		return klarna.StatusCancelled
	case len(o.captures) == 0 && !now.Before(o.expiresAt):
		return klarna.StatusExpired
	case len(o.captures) == 0:
		return klarna.StatusAuthorized
	case o.remaining() > 0:
		return klarna.StatusPartCaptured
	}
	return klarna.StatusCaptured
}

func (o *order) wire(now time.Time) klarna.Order {
	created, expires := o.createdAt, o.expiresAt
	w := klarna.Order{
		OrderID: o.id, Status: o.status(now), FraudStatus: "ACCEPTED",
		OrderAmount: o.amount, OriginalOrderAmount: o.original,
		CapturedAmount: o.captured(), RefundedAmount: o.refunded(), RemainingAuthorizedAmount: o.remaining(),
		PurchaseCurrency: o.currency, PurchaseCountry: o.country, Locale: "sv-SE",
		MerchantReference1: o.ref1, MerchantReference2: o.ref2, KlarnaReference: o.reference,
		CreatedAt: &created, ExpiresAt: &expires, OrderLines: o.lines,
	}
	for _, c := range o.captures {
		w.Captures = append(w.Captures, c.wire)
	}
	for _, r := range o.refunds {
		w.Refunds = append(w.Refunds, r.wire)
	}
	return w
}

// NewOrder describes an authorized order to seed with AddOrder.
type NewOrder struct {
	ID                 string // empty: a new UUID
	Currency           string // ISO 4217, default SEK
	Country            string // ISO 3166 alpha-2, default SE
	Amount             int64  // order amount in minor units; 0: the sum of Lines
	Lines              []klarna.OrderLine
	MerchantReference1 string // the shop's order number
	MerchantReference2 string
	ExpiresAt          time.Time // zero: now + the authorization TTL
}

// AddOrder creates an authorized order, as a completed Klarna checkout
// would, and returns its order id. Without lines, one physical line of the
// whole amount at 25 % VAT is made up.
func (s *Server) AddOrder(n NewOrder) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n.Currency == "" {
		n.Currency = "SEK"
	}
	if n.Country == "" {
		n.Country = s.country
	}
	var sum int64
	for _, l := range n.Lines {
		sum += l.TotalAmount
	}
	if n.Amount == 0 {
		n.Amount = sum
	}
	if n.Amount <= 0 || n.Amount > 200_000_000 {
		return "", fmt.Errorf("klarnatest: order amount %d outside 1–200000000", n.Amount)
	}
	if len(n.Lines) > 0 && sum != n.Amount {
		return "", fmt.Errorf("klarnatest: lines total %d, order amount %d", sum, n.Amount)
	}
	if len(n.Lines) == 0 {
		n.Lines = []klarna.OrderLine{{Type: klarna.LinePhysical, Reference: "SKU-1", Name: "Item", Quantity: 1,
			UnitPrice: n.Amount, TaxRate: 2500, TotalAmount: n.Amount, TotalTaxAmount: n.Amount - n.Amount*10000/12500}}
	}
	if n.ID == "" {
		n.ID = s.newID("order")
	}
	if _, dup := s.orders[n.ID]; dup {
		return "", fmt.Errorf("klarnatest: order %s exists", n.ID)
	}
	if n.ExpiresAt.IsZero() {
		n.ExpiresAt = s.now.Add(s.ttl)
	}
	s.orders[n.ID] = &order{
		id: n.ID, reference: strings.ToUpper(strings.ReplaceAll(n.ID, "-", "")[:7]), currency: strings.ToUpper(n.Currency),
		country: strings.ToUpper(n.Country), amount: n.Amount, original: n.Amount, lines: n.Lines,
		ref1: n.MerchantReference1, ref2: n.MerchantReference2, createdAt: s.now, expiresAt: n.ExpiresAt.UTC(),
	}
	return n.ID, nil
}

// Order returns an order as GET /ordermanagement/v1/orders/{id} would.
func (s *Server) Order(id string) (klarna.Order, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orders[id]
	if !ok {
		return klarna.Order{}, false
	}
	return o.wire(s.now), true
}

func (s *Server) orderOf(c *call) (*order, *reply) {
	o, ok := s.orders[c.params["order_id"]]
	if !ok {
		r := c.fail(http.StatusNotFound, "NO_SUCH_ORDER", "Order "+c.params["order_id"]+" not found")
		return nil, &r
	}
	return o, nil
}

func (s *Server) getOrder(c *call) reply {
	o, fail := s.orderOf(c)
	if fail != nil {
		return *fail
	}
	return jsonReply(http.StatusOK, o.wire(s.now))
}

func decodeBody[T any](c *call) (T, *reply) {
	var v T
	if err := json.Unmarshal(c.body, &v); err != nil {
		r := c.fail(http.StatusBadRequest, "BAD_VALUE", "malformed JSON: "+err.Error())
		return v, &r
	}
	return v, nil
}

// captureOrder refuses, with Klarna's bare 403 CAPTURE_NOT_ALLOWED, a
// capture on a cancelled order, after expires_at, or above the remaining
// authorized amount.
func (s *Server) captureOrder(c *call) reply {
	o, fail := s.orderOf(c)
	if fail != nil {
		return *fail
	}
	body, fail := decodeBody[klarna.CaptureObject](c)
	if fail != nil {
		return *fail
	}
	if body.CapturedAmount <= 0 {
		return c.fail(http.StatusBadRequest, "BAD_VALUE", "captured_amount must be positive")
	}
	if o.cancelled || !s.now.Before(o.expiresAt) || body.CapturedAmount > o.remaining() {
		return c.fail(http.StatusForbidden, "CAPTURE_NOT_ALLOWED", "Capture not allowed.")
	}
	o.captureSeq++
	now := s.now
	cp := &capture{wire: klarna.Capture{
		CaptureID: s.newID("capture"), KlarnaReference: fmt.Sprintf("%s-%d", o.reference, o.captureSeq),
		CapturedAmount: body.CapturedAmount, CapturedAt: &now, Description: body.Description,
		Reference: body.Reference, OrderLines: body.OrderLines,
	}}
	o.captures = append(o.captures, cp)
	loc := c.base + "/ordermanagement/v1/orders/" + o.id + "/captures/" + cp.wire.CaptureID
	return reply{status: http.StatusCreated, header: http.Header{"Capture-Id": {cp.wire.CaptureID}, "Location": {loc}}}
}

func (s *Server) getCaptures(c *call) reply {
	o, fail := s.orderOf(c)
	if fail != nil {
		return *fail
	}
	out := []klarna.Capture{}
	for _, k := range o.captures {
		out = append(out, k.wire)
	}
	return jsonReply(http.StatusOK, out)
}

func (s *Server) getCapture(c *call) reply {
	o, fail := s.orderOf(c)
	if fail != nil {
		return *fail
	}
	for _, k := range o.captures {
		if k.wire.CaptureID == c.params["capture_id"] {
			return jsonReply(http.StatusOK, k.wire)
		}
	}
	return c.fail(http.StatusNotFound, "NO_SUCH_CAPTURE", "Capture "+c.params["capture_id"]+" not found")
}

// refundOrder refuses with 403 REFUND_NOT_ALLOWED a refund above what is
// captured and not yet refunded.
func (s *Server) refundOrder(c *call) reply {
	o, fail := s.orderOf(c)
	if fail != nil {
		return *fail
	}
	body, fail := decodeBody[klarna.RefundObject](c)
	if fail != nil {
		return *fail
	}
	if body.RefundedAmount <= 0 {
		return c.fail(http.StatusBadRequest, "BAD_VALUE", "refunded_amount must be positive")
	}
	if body.RefundedAmount > o.captured()-o.refunded() {
		return c.fail(http.StatusForbidden, "REFUND_NOT_ALLOWED", "Refund not allowed.")
	}
	now := s.now
	rf := &refund{wire: klarna.Refund{
		RefundID: s.newID("refund"), RefundedAmount: body.RefundedAmount, RefundedAt: &now,
		Description: body.Description, Reference: body.Reference, OrderLines: body.OrderLines,
	}}
	o.refunds = append(o.refunds, rf)
	loc := c.base + "/ordermanagement/v1/orders/" + o.id + "/refunds/" + rf.wire.RefundID
	return reply{status: http.StatusCreated, header: http.Header{"Refund-Id": {rf.wire.RefundID}, "Location": {loc}}}
}

func (s *Server) getRefund(c *call) reply {
	o, fail := s.orderOf(c)
	if fail != nil {
		return *fail
	}
	for _, r := range o.refunds {
		if r.wire.RefundID == c.params["refund_id"] {
			return jsonReply(http.StatusOK, r.wire)
		}
	}
	return c.fail(http.StatusNotFound, "NOT_FOUND", "Refund "+c.params["refund_id"]+" cannot be found for order "+o.id)
}

// release gives back the remaining authorization of a partly captured
// order, with the refusals Klarna documents: cancelled or no captures, and
// fully captured.
func (s *Server) release(c *call) reply {
	o, fail := s.orderOf(c)
	if fail != nil {
		return *fail
	}
	switch {
	case o.cancelled || len(o.captures) == 0:
		return c.fail(http.StatusForbidden, "NOT_ALLOWED", "Can not release when order is cancelled or has no captures.")
	case o.remaining() == 0:
		return c.fail(http.StatusForbidden, "NOT_ALLOWED", "Order is fully captured. Remaining authorization cannot be released.")
	}
	o.released = true
	return reply{status: http.StatusNoContent}
}

func (s *Server) cancel(c *call) reply {
	o, fail := s.orderOf(c)
	if fail != nil {
		return *fail
	}
	switch {
	case len(o.captures) > 0:
		return c.fail(http.StatusForbidden, "CANCEL_NOT_ALLOWED", "Order has previous captures. Cancel not possible")
	case o.cancelled:
		return c.fail(http.StatusForbidden, "CANCEL_NOT_ALLOWED", "Order is already cancelled")
	}
	o.cancelled = true
	return reply{status: http.StatusNoContent}
}

func (s *Server) merchantReferences(c *call) reply {
	o, fail := s.orderOf(c)
	if fail != nil {
		return *fail
	}
	body, fail := decodeBody[klarna.MerchantReferences](c)
	if fail != nil {
		return *fail
	}
	if o.cancelled {
		return c.fail(http.StatusForbidden, "NOT_ALLOWED", "Can not update a cancelled order.")
	}
	var raw map[string]json.RawMessage
	_ = json.Unmarshal(c.body, &raw)
	if _, ok := raw["merchant_reference1"]; ok {
		o.ref1 = body.MerchantReference1
	}
	if _, ok := raw["merchant_reference2"]; ok {
		o.ref2 = body.MerchantReference2
	}
	return reply{status: http.StatusNoContent}
}

// extendAuthorization moves expires_at by the authorization TTL from now
// (Klarna's actual extension period is not documented in our sources).
func (s *Server) extendAuthorization(c *call) reply {
	o, fail := s.orderOf(c)
	if fail != nil {
		return *fail
	}
	if o.cancelled || o.status(s.now) == klarna.StatusExpired {
		return c.fail(http.StatusForbidden, "NOT_ALLOWED", "Extension of authorization time not allowed.")
	}
	o.expiresAt = s.now.Add(s.ttl)
	return reply{status: http.StatusNoContent}
}
