package stripetest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// respond routes one request and writes its answer; saved says whether
// an idempotency key stores it.
func (s *Server) respond(w http.ResponseWriter, r *http.Request, p url.Values) (int, bool) {
	obj, e := s.route(r, p)
	if e != nil {
		writeError(w, e)
		return e.status, e.saved
	}
	w.Header().Set("Content-Type", "application/json")
	b, _ := json.MarshalIndent(obj, "", "  ")
	w.WriteHeader(http.StatusOK)
	w.Write(b)
	return http.StatusOK, true
}

func (s *Server) route(r *http.Request, p url.Values) (any, *apiError) {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if len(parts) < 2 || parts[0] != "v1" {
		return nil, unrecognized(r)
	}
	get, post := r.Method == http.MethodGet, r.Method == http.MethodPost
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case parts[1] == "payment_intents" && len(parts) == 3 && get:
		if e := allow(p, "expand[]"); e != nil {
			return nil, e
		}
		return s.getIntent(parts[2], p["expand[]"])
	case parts[1] == "payment_intents" && len(parts) == 4 && parts[3] == "capture" && post:
		return s.capture(parts[2], p)
	case parts[1] == "payment_intents" && len(parts) == 4 && parts[3] == "cancel" && post:
		return s.cancel(parts[2], p)
	case parts[1] == "charges" && len(parts) == 3 && get:
		return retrieve(p, s.charges, "charge", "id", parts[2])
	case parts[1] == "refunds" && len(parts) == 2 && post:
		return s.createRefund(p)
	case parts[1] == "refunds" && len(parts) == 2 && get:
		return s.listRefunds(p)
	case parts[1] == "refunds" && len(parts) == 3 && get:
		return retrieve(p, s.refunds, "refund", "id", parts[2])
	case parts[1] == "payouts" && len(parts) == 2 && get:
		return s.listPayouts(p)
	case parts[1] == "payouts" && len(parts) == 3 && get:
		return retrieve(p, s.payouts, "payout", "payout", parts[2])
	case parts[1] == "balance_transactions" && len(parts) == 2 && get:
		return s.listBalanceTransactions(p)
	case parts[1] == "balance_transactions" && len(parts) == 3 && get:
		if e := allow(p, "expand[]"); e != nil {
			return nil, e
		}
		bt, ok := s.bts[parts[2]]
		if !ok {
			return nil, notFound("balance transaction", "id", parts[2])
		}
		return s.expandBT(bt, slices.Contains(p["expand[]"], "source")), expandOnly(p["expand[]"], "source")
	}
	return nil, unrecognized(r)
}

func unrecognized(r *http.Request) *apiError {
	return &apiError{status: 404, Type: "invalid_request_error",
		Message: fmt.Sprintf("Unrecognized request URL (%s: %s). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.", r.Method, r.URL.Path)}
}

// allow refuses parameters outside the endpoint's list, as Stripe does.
// A name ending in "[" allows every key under it (metadata[…]).
// retrieve answers GET /v1/{objects}/{id} for objects that expand nothing,
// with Stripe's resource_missing error naming param when id is unknown.
func retrieve[T any](p url.Values, objects map[string]*T, kind, param, id string) (any, *apiError) {
	if e := allow(p, "expand[]"); e != nil {
		return nil, e
	}
	obj, ok := objects[id]
	if !ok {
		return nil, notFound(kind, param, id)
	}
	if e := expandNone(p["expand[]"]); e != nil {
		return nil, e
	}
	return obj, nil
}

func allow(p url.Values, names ...string) *apiError {
	for k := range p {
		ok := false
		for _, n := range names {
			if k == n || (strings.HasSuffix(n, "[") && strings.HasPrefix(k, n) && strings.HasSuffix(k, "]")) {
				ok = true
				break
			}
		}
		if !ok {
			return invalidParam(k, "Received unknown parameter: %s", k)
		}
	}
	return nil
}

func expandNone(expand []string) *apiError { return expandOnly(expand) }

func expandOnly(expand []string, allowed ...string) *apiError {
	for _, e := range expand {
		if !slices.Contains(allowed, e) {
			return invalidParam("expand", "This property cannot be expanded (%s).", e)
		}
	}
	return nil
}

// one returns the single value of a parameter, refusing repeats.
func one(p url.Values, name string) (string, bool, *apiError) {
	vs, ok := p[name]
	if !ok {
		return "", false, nil
	}
	if len(vs) != 1 {
		return "", false, invalidParam(name, "Invalid %s: must be given once", name)
	}
	return vs[0], true, nil
}

func intParam(p url.Values, name string) (int64, bool, *apiError) {
	v, ok, e := one(p, name)
	if e != nil || !ok {
		return 0, ok, e
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, false, invalidParam(name, "Invalid integer: %s", v)
	}
	return n, true, nil
}

func boolParam(p url.Values, name string) (bool, bool, *apiError) {
	v, ok, e := one(p, name)
	if e != nil || !ok {
		return false, ok, e
	}
	switch v {
	case "true":
		return true, true, nil
	case "false":
		return false, true, nil
	}
	return false, false, invalidParam(name, "Invalid boolean: %s", v)
}

func metadata(p url.Values) map[string]string {
	m := map[string]string{}
	for k, vs := range p {
		if strings.HasPrefix(k, "metadata[") && strings.HasSuffix(k, "]") && len(vs) > 0 {
			m[k[len("metadata["):len(k)-1]] = vs[len(vs)-1]
		}
	}
	return m
}

func mergeMetadata(dst, src map[string]string) {
	for k, v := range src {
		if v == "" {
			delete(dst, k) // Stripe unsets a key sent empty
			continue
		}
		dst[k] = v
	}
}

// checkAmount applies Stripe's currency rule to an amount sent in.
func checkAmount(param string, amount int64, currency string) *apiError {
	_, step, _ := stripeCurrency(currency)
	if amount <= 0 {
		return invalidParam(param, "This value must be greater than or equal to 1.")
	}
	if step > 1 && amount%step != 0 {
		return invalidParam(param, "Invalid amount: %s amounts must be a multiple of %d.", strings.ToUpper(currency), step)
	}
	return nil
}

func (s *Server) getIntent(id string, expand []string) (any, *apiError) {
	pi, ok := s.intents[id]
	if !ok {
		return nil, notFound("payment_intent", "intent", id)
	}
	if e := expandOnly(expand, "latest_charge"); e != nil {
		return nil, e
	}
	return s.renderIntent(pi, slices.Contains(expand, "latest_charge")), nil
}

// renderIntent returns a copy with latest_charge expanded if asked.
func (s *Server) renderIntent(pi *intent, expand bool) *intent {
	c := *pi
	c.Metadata = cloneMap(pi.Metadata)
	if id, ok := pi.LatestCharge.(string); ok && expand {
		ch := *s.charges[id]
		c.LatestCharge = &ch
	}
	return &c
}

func (s *Server) capture(id string, p url.Values) (any, *apiError) {
	if e := allow(p, "amount_to_capture", "final_capture", "metadata[", "expand[]"); e != nil {
		return nil, e
	}
	pi, ok := s.intents[id]
	if !ok {
		return nil, notFound("payment_intent", "intent", id)
	}
	amount, given, e := intParam(p, "amount_to_capture")
	if e != nil {
		return nil, e
	}
	final, finalGiven, e := boolParam(p, "final_capture")
	if e != nil {
		return nil, e
	}
	if e := expandOnly(p["expand[]"], "latest_charge"); e != nil {
		return nil, e
	}
	if !finalGiven {
		final = true
	}
	if !given {
		amount = pi.AmountCapturable
	}
	if e := checkAmount("amount_to_capture", amount, pi.Currency); e != nil {
		return nil, e
	}
	if !final && !pi.multicapture {
		return nil, invalidParam("final_capture", "Multicapture is not available for this PaymentIntent; final_capture must be true.")
	}
	if pi.Status != "requires_capture" {
		return nil, stateError("payment_intent_unexpected_state", "",
			"This PaymentIntent could not be captured because it has a status of %s. Only a PaymentIntent with one of the following statuses may be captured: requires_capture.", pi.Status)
	}
	ch := s.charges[pi.LatestCharge.(string)]
	if s.now.Unix() > ch.PaymentMethodDetails.Card.CaptureBefore {
		return nil, stateError("charge_expired_for_capture", "", "This charge has expired and can no longer be captured.")
	}
	if amount > pi.AmountCapturable {
		return nil, stateError("amount_too_large", "amount_to_capture",
			"The amount to capture (%d) is greater than the amount capturable (%d).", amount, pi.AmountCapturable)
	}
	mergeMetadata(pi.Metadata, metadata(p))
	s.captureLocked(pi, ch, amount, final)
	return s.renderIntent(pi, slices.Contains(p["expand[]"], "latest_charge")), nil
}

// captureLocked books a capture: the charge's balance transaction(s),
// the PaymentIntent's amounts and status, and the events. Capturing less
// than authorised without multicapture books, as Stripe does, a charge of
// the full authorisation and a partial_capture_reversal of the rest.
func (s *Server) captureLocked(pi *intent, ch *charge, amount int64, final bool) {
	first := ch.AmountCaptured == 0
	ch.AmountCaptured += amount
	ch.Captured = true
	pi.AmountReceived += amount
	pi.AmountCapturable -= amount
	fee, details := s.fee(amount, pi.Currency)
	if pi.multicapture || pi.AmountCapturable == 0 {
		bt := s.addBT(amount, fee, details, pi.Currency, "charge", "charge", ch.ID, "")
		if first {
			ch.BalanceTransaction = &bt.ID
		}
	} else {
		bt := s.addBT(amount+pi.AmountCapturable, fee, details, pi.Currency, "charge", "charge", ch.ID, "")
		ch.BalanceTransaction = &bt.ID
		s.addBT(-pi.AmountCapturable, 0, nil, pi.Currency, "adjustment", "partial_capture_reversal", ch.ID, "")
	}
	if final || pi.AmountCapturable == 0 {
		pi.AmountCapturable = 0
		pi.Status = "succeeded"
		s.emit("payment_intent.succeeded", s.renderIntent(pi, false))
	} else {
		s.emit("payment_intent.amount_capturable_updated", s.renderIntent(pi, false))
	}
	c := *ch
	s.emit("charge.captured", &c)
}

func (s *Server) fee(amount int64, currency string) (int64, []feeDetail) {
	base := (amount*s.fees.BasisPoints+5000)/10000 + s.fees.Fixed
	if base <= 0 {
		return 0, []feeDetail{}
	}
	details := []feeDetail{{Amount: base, Currency: currency, Description: "Stripe processing fees", Type: "stripe_fee"}}
	total := base
	if s.fees.VATBasisPoints > 0 {
		vat := (base*s.fees.VATBasisPoints + 5000) / 10000
		details = append(details, feeDetail{Amount: vat, Currency: currency, Description: "VAT", Type: "tax"})
		total += vat
	}
	return total, details
}

func (s *Server) cancel(id string, p url.Values) (any, *apiError) {
	if e := allow(p, "cancellation_reason", "expand[]"); e != nil {
		return nil, e
	}
	pi, ok := s.intents[id]
	if !ok {
		return nil, notFound("payment_intent", "intent", id)
	}
	reason, _, e := one(p, "cancellation_reason")
	if e != nil {
		return nil, e
	}
	switch reason {
	case "", "abandoned", "duplicate", "fraudulent", "requested_by_customer":
	default:
		return nil, invalidParam("cancellation_reason", "Invalid cancellation_reason: must be one of abandoned, duplicate, fraudulent, or requested_by_customer")
	}
	if e := expandOnly(p["expand[]"], "latest_charge"); e != nil {
		return nil, e
	}
	switch pi.Status {
	case "succeeded", "canceled":
		return nil, stateError("payment_intent_unexpected_state", "",
			"You cannot cancel this PaymentIntent because it has a status of %s. Only a PaymentIntent with one of the following statuses may be canceled: requires_payment_method, requires_capture, requires_confirmation, requires_action, processing.", pi.Status)
	}
	pi.Status = "canceled"
	pi.AmountCapturable = 0
	pi.CancellationReason = strp(reason)
	t := s.now.Unix()
	pi.CanceledAt = &t
	s.emit("payment_intent.canceled", s.renderIntent(pi, false))
	return s.renderIntent(pi, slices.Contains(p["expand[]"], "latest_charge")), nil
}

var refundReasons = []string{"duplicate", "fraudulent", "requested_by_customer"}

func (s *Server) createRefund(p url.Values) (any, *apiError) {
	if e := allow(p, "payment_intent", "charge", "amount", "reason", "metadata[", "expand[]"); e != nil {
		return nil, e
	}
	piID, _, e := one(p, "payment_intent")
	if e != nil {
		return nil, e
	}
	chID, _, e := one(p, "charge")
	if e != nil {
		return nil, e
	}
	amount, given, e := intParam(p, "amount")
	if e != nil {
		return nil, e
	}
	reason, _, e := one(p, "reason")
	if e != nil {
		return nil, e
	}
	if reason != "" && !slices.Contains(refundReasons, reason) {
		return nil, invalidParam("reason", "Invalid reason: must be one of duplicate, fraudulent, or requested_by_customer")
	}
	if e := expandNone(p["expand[]"]); e != nil {
		return nil, e
	}
	var ch *charge
	switch {
	case piID == "" && chID == "":
		return nil, invalidParam("", "One of the following params should be provided for this request: payment_intent or charge.")
	case piID != "":
		pi, ok := s.intents[piID]
		if !ok {
			return nil, notFound("payment_intent", "payment_intent", piID)
		}
		ch = s.charges[pi.LatestCharge.(string)]
		if chID != "" && chID != ch.ID {
			return nil, invalidParam("charge", "The charge %s does not belong to the PaymentIntent %s.", chID, piID)
		}
	default:
		var ok bool
		if ch, ok = s.charges[chID]; !ok {
			return nil, notFound("charge", "charge", chID)
		}
	}
	refundable := ch.AmountCaptured - ch.AmountRefunded
	if !given {
		amount = refundable
	}
	switch {
	case !ch.Captured:
		return nil, stateError("charge_not_refundable", "",
			"Charge %s has not been captured and cannot be refunded; cancel the PaymentIntent to release the authorization.", ch.ID)
	case refundable <= 0:
		return nil, stateError("charge_already_refunded", "", "Charge %s has already been refunded.", ch.ID)
	}
	if e := checkAmount("amount", amount, ch.Currency); e != nil {
		return nil, e
	}
	if amount > refundable {
		return nil, stateError("amount_too_large", "amount",
			"Refund amount (%d) is greater than unrefunded amount on charge (%d)", amount, refundable)
	}
	rf := &refund{ID: s.newID("re"), Object: "refund", Amount: amount, Currency: ch.Currency, Charge: ch.ID,
		PaymentIntent: ch.PaymentIntent, Reason: strp(reason), Status: "succeeded", Created: s.now.Unix(),
		Metadata: metadata(p), seq: s.seq}
	bt := s.addBT(-amount, 0, nil, ch.Currency, "refund", "refund", rf.ID, "")
	rf.BalanceTransaction = &bt.ID
	s.refunds[rf.ID] = rf
	ch.AmountRefunded += amount
	ch.Refunded = ch.AmountRefunded == ch.AmountCaptured
	c := *ch
	s.emit("charge.refunded", &c)
	r := *rf
	s.emit("refund.created", &r)
	return &r, nil
}

// listPage is Stripe's list envelope.
type listPage struct {
	Object  string `json:"object"`
	Data    []any  `json:"data"`
	HasMore bool   `json:"has_more"`
	URL     string `json:"url"`
}

// item is what lists page over: newest first, ties broken by creation
// order, as Stripe lists.
type item struct {
	id      string
	created int64
	seq     int
	obj     any
}

// page applies limit, starting_after and ending_before.
func page(url string, items []item, p url.Values) (any, *apiError) {
	slices.SortFunc(items, func(a, b item) int {
		if a.created != b.created {
			return int(b.created - a.created)
		}
		return b.seq - a.seq
	})
	limit, given, e := intParam(p, "limit")
	if e != nil {
		return nil, e
	}
	if !given {
		limit = 10
	}
	if limit < 1 || limit > 100 {
		return nil, invalidParam("limit", "Invalid integer: %d. This value must be between 1 and 100.", limit)
	}
	after, hasAfter, e := one(p, "starting_after")
	if e != nil {
		return nil, e
	}
	before, hasBefore, e := one(p, "ending_before")
	if e != nil {
		return nil, e
	}
	if hasAfter && hasBefore {
		return nil, invalidParam("starting_after", "You may only specify one of these parameters: ending_before, starting_after.")
	}
	index := func(id, param string) (int, *apiError) {
		for i, it := range items {
			if it.id == id {
				return i, nil
			}
		}
		return 0, invalidParam(param, "No such object: '%s'", id)
	}
	var sel []item
	more := false
	switch {
	case hasAfter:
		i, e := index(after, "starting_after")
		if e != nil {
			return nil, e
		}
		rest := items[i+1:]
		sel = rest[:min(int(limit), len(rest))]
		more = len(rest) > len(sel)
	case hasBefore:
		i, e := index(before, "ending_before")
		if e != nil {
			return nil, e
		}
		head := items[:i]
		sel = head[max(0, len(head)-int(limit)):]
		more = len(head) > len(sel)
	default:
		sel = items[:min(int(limit), len(items))]
		more = len(items) > len(sel)
	}
	out := &listPage{Object: "list", Data: []any{}, HasMore: more, URL: url}
	for _, it := range sel {
		out.Data = append(out.Data, it.obj)
	}
	return out, nil
}

// createdFilter reads created (or another timestamp) as an integer or a
// range created[gt|gte|lt|lte].
func createdFilter(p url.Values, name string) (func(int64) bool, *apiError) {
	var conds []func(int64) bool
	if v, ok, e := intParam(p, name); e != nil {
		return nil, e
	} else if ok {
		conds = append(conds, func(t int64) bool { return t == v })
	}
	for _, op := range []string{"gt", "gte", "lt", "lte"} {
		v, ok, e := intParam(p, name+"["+op+"]")
		if e != nil {
			return nil, e
		}
		if !ok {
			continue
		}
		switch op {
		case "gt":
			conds = append(conds, func(t int64) bool { return t > v })
		case "gte":
			conds = append(conds, func(t int64) bool { return t >= v })
		case "lt":
			conds = append(conds, func(t int64) bool { return t < v })
		case "lte":
			conds = append(conds, func(t int64) bool { return t <= v })
		}
	}
	return func(t int64) bool {
		for _, c := range conds {
			if !c(t) {
				return false
			}
		}
		return true
	}, nil
}

var rangeParams = []string{"[gt]", "[gte]", "[lt]", "[lte]"}

func withRange(names ...string) []string {
	var out []string
	for _, n := range names {
		out = append(out, n)
		for _, r := range rangeParams {
			out = append(out, n+r)
		}
	}
	return out
}

func (s *Server) listRefunds(p url.Values) (any, *apiError) {
	if e := allow(p, append(withRange("created"), "payment_intent", "charge", "limit", "starting_after", "ending_before", "expand[]")...); e != nil {
		return nil, e
	}
	if e := expandNone(p["expand[]"]); e != nil {
		return nil, e
	}
	created, e := createdFilter(p, "created")
	if e != nil {
		return nil, e
	}
	pi, _, _ := one(p, "payment_intent")
	ch, _, _ := one(p, "charge")
	var items []item
	for _, rf := range s.refunds {
		if (pi != "" && rf.PaymentIntent != pi) || (ch != "" && rf.Charge != ch) || !created(rf.Created) {
			continue
		}
		c := *rf
		items = append(items, item{rf.ID, rf.Created, rf.seq, &c})
	}
	return page("/v1/refunds", items, p)
}

func (s *Server) listPayouts(p url.Values) (any, *apiError) {
	if e := allow(p, append(withRange("created", "arrival_date"), "status", "destination", "limit", "starting_after", "ending_before", "expand[]")...); e != nil {
		return nil, e
	}
	if e := expandNone(p["expand[]"]); e != nil {
		return nil, e
	}
	created, e := createdFilter(p, "created")
	if e != nil {
		return nil, e
	}
	arrival, e := createdFilter(p, "arrival_date")
	if e != nil {
		return nil, e
	}
	status, _, _ := one(p, "status")
	var items []item
	for _, po := range s.payouts {
		if !created(po.Created) || !arrival(po.ArrivalDate) || (status != "" && po.Status != status) {
			continue
		}
		c := *po
		items = append(items, item{po.ID, po.Created, po.seq, &c})
	}
	return page("/v1/payouts", items, p)
}

func (s *Server) listBalanceTransactions(p url.Values) (any, *apiError) {
	if e := allow(p, append(withRange("created"), "payout", "source", "type", "currency", "limit", "starting_after", "ending_before", "expand[]")...); e != nil {
		return nil, e
	}
	if e := expandOnly(p["expand[]"], "data.source"); e != nil {
		return nil, e
	}
	created, e := createdFilter(p, "created")
	if e != nil {
		return nil, e
	}
	payoutID, hasPayout, _ := one(p, "payout")
	if hasPayout {
		po, ok := s.payouts[payoutID]
		if !ok {
			return nil, notFound("payout", "payout", payoutID)
		}
		if !po.Automatic {
			return nil, invalidParam("payout", "Balance transaction history can only be filtered on automatic transfers, not manual.")
		}
	}
	source, _, _ := one(p, "source")
	typ, _, _ := one(p, "type")
	currency, _, _ := one(p, "currency")
	expand := slices.Contains(p["expand[]"], "data.source")
	var items []item
	for _, bt := range s.bts {
		if (hasPayout && bt.payout != payoutID) || (source != "" && bt.sourceID != source) ||
			(typ != "" && bt.Type != typ) || (currency != "" && bt.Currency != strings.ToLower(currency)) || !created(bt.Created) {
			continue
		}
		items = append(items, item{bt.ID, bt.Created, bt.seq, s.expandBT(bt, expand)})
	}
	return page("/v1/balance_transactions", items, p)
}

// expandBT returns a copy with its source expanded if asked and known.
func (s *Server) expandBT(bt *balanceTransaction, expand bool) *balanceTransaction {
	c := *bt
	c.Source = bt.sourceID
	if bt.sourceID == "" {
		c.Source = nil
	}
	if !expand {
		return &c
	}
	if ch, ok := s.charges[bt.sourceID]; ok {
		cc := *ch
		c.Source = &cc
	} else if rf, ok := s.refunds[bt.sourceID]; ok {
		cr := *rf
		c.Source = &cr
	} else if po, ok := s.payouts[bt.sourceID]; ok {
		cp := *po
		c.Source = &cp
	}
	return &c
}

func cloneMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// addBT books a balance transaction; s.mu must be held.
func (s *Server) addBT(amount, fee int64, details []feeDetail, currency, typ, category, source, description string) *balanceTransaction {
	if details == nil {
		details = []feeDetail{}
	}
	bt := &balanceTransaction{ID: s.newID("txn"), Object: "balance_transaction", Amount: amount, Fee: fee,
		Net: amount - fee, Currency: currency, FeeDetails: details, Created: s.now.Unix(),
		AvailableOn: s.now.Add(2 * 24 * time.Hour).Unix(), ReportingCategory: category, Type: typ,
		Status: "pending", Description: strp(description), BalanceType: "payments", sourceID: source}
	bt.seq = s.seq
	s.bts[bt.ID] = bt
	return bt
}
