package paypaltest

import (
	"fmt"
	"net/http"
	"time"

	"github.com/shopspring/decimal"
)

func errorf(format string, args ...any) error {
	return fmt.Errorf("paypaltest: "+format, args...)
}

type order struct {
	id        string
	invoiceID string
	customID  string
	amount    amount
	created   time.Time
	updated   time.Time
	auths     []string
	captures  []string
	refunds   []string
}

type authorization struct {
	id         string
	orderID    string
	amount     amount
	status     string
	invoiceID  string
	customID   string
	created    time.Time
	updated    time.Time
	expires    time.Time
	captured   decimal.Decimal
	reauthFrom string
	reauthTo   string
	captureIDs []string
}

type capture struct {
	id        string
	authID    string
	orderID   string
	amount    amount
	fee       amount
	status    string
	invoiceID string
	customID  string
	final     bool
	refunded  decimal.Decimal
	feeBack   decimal.Decimal
	created   time.Time
	updated   time.Time
	requestID string
}

type refund struct {
	id        string
	captureID string
	amount    amount
	feeBack   amount
	status    string
	invoiceID string
	customID  string
	note      string
	created   time.Time
	updated   time.Time
	requestID string
}

// Authorization seeds an authorized payment, as if a buyer had approved an
// Orders v2 order with intent AUTHORIZE.
type Authorization struct {
	ID        string // filled by AddAuthorization
	OrderID   string // filled by AddAuthorization
	Currency  string
	Value     string
	InvoiceID string // the order's invoice_id: shops put their order number here
	CustomID  string
	// CreatedAt backdates the authorization (the honour period and the
	// 29-day expiry count from it); zero means now.
	CreatedAt time.Time
	Status    string // read back by AuthorizationState
	// ReauthorizedAs is the id of the authorization a reauthorization
	// created from this one, read back by AuthorizationState.
	ReauthorizedAs string
	Captured       string // total captured, read back by AuthorizationState
}

// AddAuthorization creates an order with one purchase unit and an
// authorization of a.Value a.Currency in state CREATED, and returns a with
// its ids. The buyer side is not modelled.
func (s *Server) AddAuthorization(a Authorization) (Authorization, error) {
	amt, err := mustAmount(a.Currency, a.Value)
	if err != nil {
		return Authorization{}, err
	}
	if !amt.v.IsPositive() {
		return Authorization{}, errorf("authorization amount must be positive")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.nowLocked()
	at := now
	if !a.CreatedAt.IsZero() {
		at = a.CreatedAt.UTC().Truncate(time.Second)
	}
	o := &order{id: s.newID(), invoiceID: a.InvoiceID, customID: a.CustomID, amount: amt, created: at, updated: at}
	au := &authorization{
		id: s.newID(), orderID: o.id, amount: amt, status: "CREATED", invoiceID: a.InvoiceID, customID: a.CustomID,
		created: at, updated: at, expires: at.Add(authorizationTTL), captured: decimal.Zero,
	}
	o.auths = append(o.auths, au.id)
	s.orders[o.id] = o
	s.auths[au.id] = au
	s.addRow(&txRow{id: au.id, code: "T1300", at: at, gross: amt.v, cur: amt.cur, status: "S", invoiceID: a.InvoiceID, custom: a.CustomID, nonBalance: true})
	a.ID, a.OrderID, a.Status, a.Captured = au.id, o.id, au.status, "0"
	return a, nil
}

// AuthorizationState reads an authorization back.
func (s *Server) AuthorizationState(id string) (Authorization, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.auths[id]
	if !ok {
		return Authorization{}, false
	}
	return Authorization{
		ID: a.id, OrderID: a.orderID, Currency: a.amount.cur, Value: a.amount.wire().Value,
		InvoiceID: a.invoiceID, CustomID: a.customID, CreatedAt: a.created, Status: a.status,
		ReauthorizedAs: a.reauthTo, Captured: a.captured.StringFixed(decimals[a.amount.cur]),
	}, true
}

// CaptureRecord is a capture the fake made.
type CaptureRecord struct {
	ID, AuthorizationID, Currency, Value, Fee, Status, InvoiceID, RequestID string
	Final                                                                   bool
	At                                                                      time.Time
}

// Captures lists every capture made, oldest first.
func (s *Server) Captures() []CaptureRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []CaptureRecord
	for _, id := range s.captureOrder {
		c := s.captures[id]
		out = append(out, CaptureRecord{ID: c.id, AuthorizationID: c.authID, Currency: c.amount.cur, Value: c.amount.wire().Value,
			Fee: c.fee.wire().Value, Status: c.status, InvoiceID: c.invoiceID, RequestID: c.requestID, Final: c.final, At: c.created})
	}
	return out
}

// RefundRecord is a refund the fake made.
type RefundRecord struct {
	ID, CaptureID, Currency, Value, FeeReturned, Status, InvoiceID, CustomID, Note, RequestID string
	At                                                                                        time.Time
}

// Refunds lists every refund made, oldest first.
func (s *Server) Refunds() []RefundRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []RefundRecord
	for _, id := range s.refundOrder {
		r := s.refunds[id]
		out = append(out, RefundRecord{ID: r.id, CaptureID: r.captureID, Currency: r.amount.cur, Value: r.amount.wire().Value,
			FeeReturned: r.feeBack.wire().Value, Status: r.status, InvoiceID: r.invoiceID, CustomID: r.customID, Note: r.note, RequestID: r.requestID, At: r.created})
	}
	return out
}

// ---- rendering ----

func (s *Server) base() string { return "https://api.sandbox.paypal.com" }

func (s *Server) renderAuth(a *authorization, prefer string) any {
	links := []link{
		{Href: s.base() + "/v2/payments/authorizations/" + a.id, Rel: "self", Method: "GET"},
		{Href: s.base() + "/v2/payments/authorizations/" + a.id + "/capture", Rel: "capture", Method: "POST"},
		{Href: s.base() + "/v2/payments/authorizations/" + a.id + "/void", Rel: "void", Method: "POST"},
		{Href: s.base() + "/v2/payments/authorizations/" + a.id + "/reauthorize", Rel: "reauthorize", Method: "POST"},
	}
	if prefer == "return=minimal" || prefer == "" {
		return map[string]any{"id": a.id, "status": a.status, "links": links}
	}
	return s.authBody(a, links)
}

func (s *Server) authBody(a *authorization, links []link) map[string]any {
	m := map[string]any{
		"id": a.id, "status": a.status, "amount": a.amount.wire(),
		"expiration_time": s.rfc3339(a.expires), "create_time": s.rfc3339(a.created), "update_time": s.rfc3339(a.updated),
		"supplementary_data": map[string]any{"related_ids": map[string]string{"order_id": a.orderID}},
		"seller_protection":  map[string]any{"status": "ELIGIBLE", "dispute_categories": []string{"ITEM_NOT_RECEIVED", "UNAUTHORIZED_TRANSACTION"}},
	}
	return withRefs(m, a.invoiceID, a.customID, links)
}

func (s *Server) captureLinks(c *capture) []link {
	return []link{
		{Href: s.base() + "/v2/payments/captures/" + c.id, Rel: "self", Method: "GET"},
		{Href: s.base() + "/v2/payments/captures/" + c.id + "/refund", Rel: "refund", Method: "POST"},
		{Href: s.base() + "/v2/payments/authorizations/" + c.authID, Rel: "up", Method: "GET"},
	}
}

func (s *Server) renderCapture(c *capture, prefer string) any {
	if prefer == "return=minimal" || prefer == "" {
		return map[string]any{"id": c.id, "status": c.status, "links": s.captureLinks(c)}
	}
	return s.captureBody(c, s.captureLinks(c))
}

func (s *Server) captureBody(c *capture, links []link) map[string]any {
	m := map[string]any{
		"id": c.id, "status": c.status, "amount": c.amount.wire(), "final_capture": c.final,
		"seller_receivable_breakdown": map[string]any{
			"gross_amount": c.amount.wire(), "paypal_fee": c.fee.wire(),
			"net_amount": amount{c.amount.cur, c.amount.v.Sub(c.fee.v)}.wire(),
		},
		"create_time": s.rfc3339(c.created), "update_time": s.rfc3339(c.updated),
		"supplementary_data": map[string]any{"related_ids": map[string]string{"order_id": c.orderID, "authorization_id": c.authID}},
		"seller_protection":  map[string]any{"status": "ELIGIBLE", "dispute_categories": []string{"ITEM_NOT_RECEIVED", "UNAUTHORIZED_TRANSACTION"}},
	}
	return withRefs(m, c.invoiceID, c.customID, links)
}

func (s *Server) refundLinks(r *refund) []link {
	return []link{
		{Href: s.base() + "/v2/payments/refunds/" + r.id, Rel: "self", Method: "GET"},
		{Href: s.base() + "/v2/payments/captures/" + r.captureID, Rel: "up", Method: "GET"},
	}
}

func (s *Server) renderRefund(r *refund, prefer string) any {
	if prefer == "return=minimal" || prefer == "" {
		return map[string]any{"id": r.id, "status": r.status, "links": s.refundLinks(r)}
	}
	return s.refundBody(r, s.refundLinks(r))
}

func (s *Server) refundBody(r *refund, links []link) map[string]any {
	c := s.captures[r.captureID]
	m := map[string]any{
		"id": r.id, "status": r.status, "amount": r.amount.wire(),
		"seller_payable_breakdown": map[string]any{
			"gross_amount": r.amount.wire(), "paypal_fee": r.feeBack.wire(),
			"net_amount":            amount{r.amount.cur, r.amount.v.Sub(r.feeBack.v)}.wire(),
			"total_refunded_amount": amount{c.amount.cur, c.refunded}.wire(),
		},
		"create_time": s.rfc3339(r.created), "update_time": s.rfc3339(r.updated),
	}
	if r.note != "" {
		m["note_to_payer"] = r.note
	}
	return withRefs(m, r.invoiceID, r.customID, links)
}

func (s *Server) renderOrder(o *order) any {
	var auths, caps, refs []map[string]any
	for _, id := range o.auths {
		auths = append(auths, s.authBody(s.auths[id], nil))
	}
	for _, id := range o.captures {
		caps = append(caps, s.captureBody(s.captures[id], nil))
	}
	for _, id := range o.refunds {
		refs = append(refs, s.refundBody(s.refunds[id], nil))
	}
	payments := map[string]any{"authorizations": auths}
	if caps != nil {
		payments["captures"] = caps
	}
	if refs != nil {
		payments["refunds"] = refs
	}
	pu := withRefs(map[string]any{"reference_id": "default", "amount": o.amount.wire(), "payments": payments}, o.invoiceID, o.customID, nil)
	return map[string]any{
		"id": o.id, "intent": "AUTHORIZE", "status": "COMPLETED",
		"purchase_units": []any{pu},
		"create_time":    s.rfc3339(o.created), "update_time": s.rfc3339(o.updated),
		"links": []link{{Href: s.base() + "/v2/checkout/orders/" + o.id, Rel: "self", Method: "GET"}},
	}
}

// ---- handlers ----

func (s *Server) notFound(name, id string) reply {
	return s.fail(http.StatusNotFound, fieldIssue(name, id, "path", "INVALID_RESOURCE_ID", "Specified resource ID does not exist. Please check the resource ID and try again."))
}

func (s *Server) unprocessable(code, desc string) reply {
	return s.fail(http.StatusUnprocessableEntity, issue(code, desc))
}

func (s *Server) getAuthorization(c *call) reply {
	a, ok := s.auths[c.r.PathValue("authorization_id")]
	if !ok {
		return s.notFound("authorization_id", c.r.PathValue("authorization_id"))
	}
	return reply{status: http.StatusOK, render: func(string) any { return s.renderAuth(a, "return=representation") }}
}

func (s *Server) getCapture(c *call) reply {
	cp, ok := s.captures[c.r.PathValue("capture_id")]
	if !ok {
		return s.notFound("capture_id", c.r.PathValue("capture_id"))
	}
	return reply{status: http.StatusOK, render: func(string) any { return s.renderCapture(cp, "return=representation") }}
}

func (s *Server) getRefund(c *call) reply {
	r, ok := s.refunds[c.r.PathValue("refund_id")]
	if !ok {
		return s.notFound("refund_id", c.r.PathValue("refund_id"))
	}
	return reply{status: http.StatusOK, render: func(string) any { return s.renderRefund(r, "return=representation") }}
}

func (s *Server) getOrder(c *call) reply {
	o, ok := s.orders[c.r.PathValue("id")]
	if !ok {
		return s.notFound("order_id", c.r.PathValue("id"))
	}
	return reply{status: http.StatusOK, render: func(string) any { return s.renderOrder(o) }}
}

// captureLimit is the most that may be captured in total: 115 % of the
// authorization, at most 75 units more (PayPal's honour-period page).
func captureLimit(a amount) decimal.Decimal {
	l := a.v.Mul(decimal.RequireFromString("1.15")).Truncate(decimals[a.cur])
	return decimal.Min(l, a.v.Add(decimal.NewFromInt(75)))
}

func (s *Server) captureAuthorization(c *call) reply {
	a, ok := s.auths[c.r.PathValue("authorization_id")]
	if !ok {
		return s.notFound("authorization_id", c.r.PathValue("authorization_id"))
	}
	var req struct {
		Amount      *Money `json:"amount"`
		InvoiceID   string `json:"invoice_id"`
		Final       bool   `json:"final_capture"`
		NoteToPayer string `json:"note_to_payer"`
	}
	if rp := s.decodeBody(c, &req); rp != nil {
		return *rp
	}
	now := s.nowLocked()
	switch {
	case a.status == "VOIDED":
		return s.unprocessable("AUTHORIZATION_VOIDED", "A voided authorization cannot be captured or reauthorized.")
	case a.status == "CAPTURED":
		return s.unprocessable("AUTHORIZATION_ALREADY_CAPTURED", "Authorization has been previously captured and hence cannot be captured again.")
	case a.status == "DENIED":
		return s.unprocessable("AUTHORIZATION_DENIED", "A denied authorization cannot be captured.")
	case !now.Before(a.expires):
		return s.unprocessable("AUTHORIZATION_EXPIRED", "An expired authorization cannot be captured.")
	}
	amt, rp := s.requestedAmount(req.Amount, amount{a.amount.cur, a.amount.v.Sub(a.captured)},
		"AUTH_CAPTURE_CURRENCY_MISMATCH", "Currency of capture must be the same as currency of authorization.")
	if rp != nil {
		return *rp
	}
	if a.captured.Add(amt.v).GreaterThan(captureLimit(a.amount)) {
		return s.unprocessable("MAX_CAPTURE_AMOUNT_EXCEEDED", "Capture amount exceeds allowable limit.")
	}
	if req.InvoiceID != "" && s.cfg.dupInvoice && s.invoiceUsed(req.InvoiceID) {
		return s.unprocessable("DUPLICATE_INVOICE_ID", "Requested invoice_id has been previously captured. Possible duplicate transaction.")
	}
	o := s.orders[a.orderID]
	cp := &capture{
		id: s.newID(), authID: a.id, orderID: a.orderID, amount: amt, fee: s.fee(amt), status: "COMPLETED",
		invoiceID: req.InvoiceID, customID: a.customID, final: req.Final, refunded: decimal.Zero, feeBack: decimal.Zero,
		created: now, updated: now, requestID: c.r.Header.Get("PayPal-Request-Id"),
	}
	if cp.invoiceID == "" {
		cp.invoiceID = a.invoiceID
	}
	s.captures[cp.id] = cp
	s.captureOrder = append(s.captureOrder, cp.id)
	a.captured = a.captured.Add(amt.v)
	a.captureIDs = append(a.captureIDs, cp.id)
	a.status, a.updated = "PARTIALLY_CAPTURED", now
	if req.Final || !a.captured.LessThan(a.amount.v) {
		a.status = "CAPTURED"
	}
	o.captures = append(o.captures, cp.id)
	o.updated = now
	s.addRow(&txRow{
		id: cp.id, code: "T0006", at: now, gross: amt.v, fee: cp.fee.v.Neg(), hasFee: true, cur: amt.cur, status: "S",
		refID: a.id, refType: "TXN", invoiceID: cp.invoiceID, custom: cp.customID,
	})
	s.addEvent("PAYMENT.CAPTURE.COMPLETED", "capture", "Payment completed for "+amt.wire().Value+" "+amt.cur, s.captureBody(cp, s.captureLinks(cp)))
	return reply{status: http.StatusCreated, render: func(p string) any { return s.renderCapture(cp, p) }}
}

// requestedAmount returns the amount a capture, reauthorization or refund
// request names, or def when it names none. A malformed amount, or one in
// another currency than def, is refused, the latter with the operation's
// own issue code and description.
func (s *Server) requestedAmount(m *Money, def amount, mismatchCode, mismatchDesc string) (amount, *reply) {
	if m == nil {
		return def, nil
	}
	amt, code := parseAmount(*m)
	if code != "" {
		rp := s.fail(http.StatusUnprocessableEntity, fieldIssue("/amount/value", m.Value, "body", code, "The amount is not valid for the currency."))
		return amount{}, &rp
	}
	if amt.cur != def.cur {
		rp := s.unprocessable(mismatchCode, mismatchDesc)
		return amount{}, &rp
	}
	return amt, nil
}

func (s *Server) invoiceUsed(inv string) bool {
	for _, c := range s.captures {
		if c.invoiceID == inv && c.invoiceID != s.auths[c.authID].invoiceID {
			return true
		}
	}
	for _, r := range s.refunds {
		if r.invoiceID == inv {
			return true
		}
	}
	return false
}

func (s *Server) reauthorize(c *call) reply {
	a, ok := s.auths[c.r.PathValue("authorization_id")]
	if !ok {
		return s.notFound("authorization_id", c.r.PathValue("authorization_id"))
	}
	var req struct {
		Amount *Money `json:"amount"`
	}
	if rp := s.decodeBody(c, &req); rp != nil {
		return *rp
	}
	now := s.nowLocked()
	switch {
	case a.status == "VOIDED":
		return s.unprocessable("AUTHORIZATION_VOIDED", "A voided authorization cannot be captured or reauthorized.")
	case a.status != "CREATED":
		return s.unprocessable("AUTHORIZATION_ALREADY_CAPTURED", "Authorization has been previously captured and hence cannot be reauthorized.")
	case a.reauthFrom != "":
		return s.unprocessable("REAUTHORIZATION_NOT_SUPPORTED", "An authorization can be reauthorized only once.")
	case !now.After(a.created.Add(honorPeriod)):
		return s.unprocessable("REAUTHORIZATION_NOT_SUPPORTED", "An authorization can be reauthorized only after its three-day honor period.")
	case !now.Before(a.expires):
		return s.unprocessable("REAUTHORIZATION_NOT_SUPPORTED", "An authorization can be reauthorized only up to day 29.")
	}
	amt, rp := s.requestedAmount(req.Amount, a.amount,
		"AUTH_CURRENCY_MISMATCH", "Currency of reauthorization must be the same as currency of authorization.")
	if rp != nil {
		return *rp
	}
	if req.Amount != nil && amt.v.GreaterThan(captureLimit(a.amount)) {
		return s.unprocessable("TRANSACTION_REFUSED", "The reauthorized amount exceeds the allowed increase.")
	}
	na := &authorization{
		id: s.newID(), orderID: a.orderID, amount: amt, status: "CREATED", invoiceID: a.invoiceID, customID: a.customID,
		created: now, updated: now, expires: a.expires, captured: decimal.Zero, reauthFrom: a.id,
	}
	s.auths[na.id] = na
	// The original is superseded by the new authorization (how PayPal
	// shows the original afterwards is not documented; the fake voids it).
	a.status, a.reauthTo, a.updated = "VOIDED", na.id, now
	o := s.orders[a.orderID]
	o.auths = append(o.auths, na.id)
	o.updated = now
	s.addRow(&txRow{id: na.id, code: "T1301", at: now, gross: amt.v, cur: amt.cur, status: "S", refID: a.id, refType: "TXN", invoiceID: a.invoiceID, custom: a.customID, nonBalance: true})
	s.addEvent("PAYMENT.AUTHORIZATION.CREATED", "authorization", "A payment authorization was created", s.authBody(na, nil))
	return reply{status: http.StatusCreated, render: func(p string) any { return s.renderAuth(na, p) }}
}

func (s *Server) void(c *call) reply {
	a, ok := s.auths[c.r.PathValue("authorization_id")]
	if !ok {
		return s.notFound("authorization_id", c.r.PathValue("authorization_id"))
	}
	switch a.status {
	case "CAPTURED":
		return s.unprocessable("PREVIOUSLY_CAPTURED", "Authorization has been previously captured and hence cannot be voided.")
	case "VOIDED":
		return s.unprocessable("PREVIOUSLY_VOIDED", "Authorization has been previously voided and hence cannot be voided again.")
	case "DENIED":
		return s.unprocessable("CANNOT_BE_VOIDED", "A denied authorization cannot be voided.")
	}
	now := s.nowLocked()
	a.status, a.updated = "VOIDED", now
	s.addRow(&txRow{id: a.id, code: "T1302", at: now, gross: a.amount.v.Sub(a.captured), cur: a.amount.cur, status: "S", invoiceID: a.invoiceID, custom: a.customID, nonBalance: true})
	s.addEvent("PAYMENT.AUTHORIZATION.VOIDED", "authorization", "A payment authorization was voided", s.authBody(a, nil))
	if c.prefer == "return=representation" {
		return reply{status: http.StatusOK, render: func(p string) any { return s.renderAuth(a, "return=representation") }}
	}
	return reply{status: http.StatusNoContent}
}

func (s *Server) refundCapture(c *call) reply {
	cp, ok := s.captures[c.r.PathValue("capture_id")]
	if !ok {
		return s.notFound("capture_id", c.r.PathValue("capture_id"))
	}
	var req struct {
		Amount      *Money `json:"amount"`
		InvoiceID   string `json:"invoice_id"`
		CustomID    string `json:"custom_id"`
		NoteToPayer string `json:"note_to_payer"`
	}
	if rp := s.decodeBody(c, &req); rp != nil {
		return *rp
	}
	now := s.nowLocked()
	switch cp.status {
	case "REFUNDED":
		return s.unprocessable("CAPTURE_FULLY_REFUNDED", "The capture has already been fully refunded.")
	case "PENDING":
		return s.unprocessable("PENDING_CAPTURE", "Cannot initiate a refund as the capture is pending.")
	case "COMPLETED", "PARTIALLY_REFUNDED":
	default:
		return s.unprocessable("REFUND_NOT_ALLOWED", "Refund cannot be issued for this transaction.")
	}
	if now.Sub(cp.created) > refundTimeLimit {
		return s.unprocessable("REFUND_TIME_LIMIT_EXCEEDED", "You are over the time limit to perform a refund on this capture.")
	}
	remaining := cp.amount.v.Sub(cp.refunded)
	amt, rp := s.requestedAmount(req.Amount, amount{cp.amount.cur, remaining},
		"CURRENCY_MISMATCH", "Refund must be in the same currency as the capture.")
	if rp != nil {
		return *rp
	}
	if req.Amount != nil && amt.v.GreaterThan(remaining) {
		return s.unprocessable("REFUND_AMOUNT_EXCEEDED", "The refund amount must be less than or equal to the capture amount that has not yet been refunded.")
	}
	if req.InvoiceID != "" && s.cfg.dupInvoice && s.invoiceUsed(req.InvoiceID) {
		return s.unprocessable("DUPLICATE_INVOICE_ID", "Requested invoice_id has been previously used. Possible duplicate transaction.")
	}
	back := s.fee(amt)
	if left := cp.fee.v.Sub(cp.feeBack); back.v.GreaterThan(left) {
		back.v = left
	}
	r := &refund{
		id: s.newID(), captureID: cp.id, amount: amt, feeBack: back, status: "COMPLETED",
		invoiceID: req.InvoiceID, customID: req.CustomID, note: req.NoteToPayer, created: now, updated: now,
		requestID: c.r.Header.Get("PayPal-Request-Id"),
	}
	s.refunds[r.id] = r
	s.refundOrder = append(s.refundOrder, r.id)
	cp.refunded, cp.feeBack, cp.updated = cp.refunded.Add(amt.v), cp.feeBack.Add(back.v), now
	cp.status = "PARTIALLY_REFUNDED"
	if !cp.refunded.LessThan(cp.amount.v) {
		cp.status = "REFUNDED"
	}
	o := s.orders[cp.orderID]
	o.refunds = append(o.refunds, r.id)
	o.updated = now
	inv := r.invoiceID
	if inv == "" {
		inv = cp.invoiceID
	}
	s.addRow(&txRow{
		id: r.id, code: "T1107", at: now, gross: amt.v.Neg(), fee: back.v, hasFee: true, cur: amt.cur, status: "S",
		refID: cp.id, refType: "TXN", invoiceID: inv, custom: r.customID, note: r.note,
	})
	s.addEvent("PAYMENT.CAPTURE.REFUNDED", "refund", "A "+amt.wire().Value+" "+amt.cur+" capture payment was refunded", s.refundBody(r, s.refundLinks(r)))
	return reply{status: http.StatusCreated, render: func(p string) any { return s.renderRefund(r, p) }}
}

// withRefs adds the optional merchant references and links PayPal includes
// only when set.
func withRefs(m map[string]any, invoiceID, customID string, links []link) map[string]any {
	if invoiceID != "" {
		m["invoice_id"] = invoiceID
	}
	if customID != "" {
		m["custom_id"] = customID
	}
	if links != nil {
		m["links"] = links
	}
	return m
}
