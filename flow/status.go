package flow

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/connector"
)

// eventPayload is the journalled input of the steps an ERP event causes.
// What depends on earlier events of the same order (which units this
// delivery covers, how much to capture) is computed once, when the step
// is created, and frozen here, so a retry or a replay after a crash sends
// exactly the same request.
type eventPayload struct {
	Event commerce.OrderEvent `json:"event"`
	// Quantities are the units of each order line (by index) this event
	// delivers; set for delivered events.
	Quantities map[int]int `json:"quantities,omitempty"`
	// Payment is the provider payment a capture or release acts on.
	Payment *paymentPlan `json:"payment,omitempty"`
}

// paymentPlan is a frozen capture, release or refund.
type paymentPlan struct {
	Provider   string          `json:"provider,omitempty"` // the configured provider name
	Reference  string          `json:"reference,omitempty"`
	Amount     commerce.Money  `json:"amount,omitzero"`
	Cumulative commerce.Money  `json:"cumulative,omitzero"` // captured (or refunded) including this one
	Authorized commerce.Money  `json:"authorized,omitzero"`
	Final      bool            `json:"final,omitempty"`
	Sale       bool            `json:"sale,omitempty"` // captured at checkout
	Lines      []commerce.Line `json:"lines,omitempty"`
	Skip       string          `json:"skip,omitempty"` // why there is nothing to do
}

var eventPrefix = map[commerce.OrderEventKind]string{
	commerce.EventDelivered: "delivery",
	commerce.EventInvoiced:  "invoice",
	commerce.EventPaid:      "payment",
	commerce.EventCancelled: "cancellation",
}

var actionKind = map[string]string{
	ActionFulfill:  KindFulfill,
	ActionCapture:  KindCapture,
	ActionRelease:  KindRelease,
	ActionMarkPaid: KindMarkPaid,
	ActionCancel:   KindCancel,
}

// EventStepKey is the journal key of what an ERP event causes:
// delivery:{eventID}:fulfill, delivery:{eventID}:capture, …
func EventStepKey(ev commerce.OrderEvent, action string) string {
	return eventPrefix[ev.Kind] + ":" + ev.ID + ":" + action
}

// intakeEvents journals the actions the shops' status rules attach to ERP
// events.
func (e *Engine) intakeEvents(ctx context.Context, events []commerce.OrderEvent) ([]Step, error) {
	var run []Step
	for _, ev := range events {
		if err := ev.Validate(); err != nil {
			e.counters.add("event", func(c *Counters) { c.Skipped++ })
			e.log.LogAttrs(ctx, levelWarn, "flow: invalid ERP event ignored", attrErr(err))
			continue
		}
		s, _, ok, err := e.orderShop(ctx, ev.OrderNumber)
		if err != nil {
			return nil, err
		}
		if !ok {
			// Orders from other channels also live in the ERP.
			e.counters.add("event", func(c *Counters) { c.Skipped++ })
			e.log.LogAttrs(ctx, levelInfo, "flow: ERP event for an order this engine did not transfer",
				attrOrder(ev.OrderNumber), attrKey("event", ev.ID))
			continue
		}
		for _, action := range s.cfg.Status[string(ev.Kind)] {
			st, pending, err := e.intakeEventAction(ctx, s, ev, action)
			if err != nil {
				return nil, err
			}
			if pending {
				run = append(run, st)
			}
		}
	}
	return run, nil
}

func (e *Engine) intakeEventAction(ctx context.Context, s *shopRT, ev commerce.OrderEvent, action string) (Step, bool, error) {
	key := EventStepKey(ev, action)
	// Plans depend on the order's earlier events: compute them under the
	// order's lock and only for a step that does not exist yet.
	unlock := e.locks.lock("order:" + ev.OrderNumber)
	defer unlock()
	if st, ok, err := e.store.Step(ctx, key); err != nil || ok {
		return st, ok && st.State == StepPending, err
	}
	p := eventPayload{Event: ev}
	o, known, err := e.loadOrder(ctx, s.cfg.ID, ev.OrderNumber)
	if err != nil {
		return Step{}, false, err
	}
	if known && (action == ActionFulfill || action == ActionCapture) {
		if p.Quantities, err = e.deliveryQuantities(ctx, &o, ev, actionKind[action]); err != nil {
			return Step{}, false, err
		}
	}
	if known {
		switch action {
		case ActionCapture:
			plan, err := e.planCapture(ctx, &o, p.Quantities)
			if err != nil {
				return Step{}, false, err
			}
			p.Payment = &plan
		case ActionRelease:
			plan := e.planPayment(&o)
			p.Payment = &plan
		}
	}
	st, err := e.newStep(key, actionKind[action], ev.OrderNumber, s.cfg.ID, p)
	if err != nil {
		return Step{}, false, err
	}
	return e.enqueue(ctx, st)
}

// earlierEvents decodes the payloads of the order's event steps.
func (e *Engine) earlierEvents(ctx context.Context, number, kind string) ([]eventPayload, error) {
	steps, err := e.store.Steps(ctx, StepFilter{Subject: number, Kind: kind})
	if err != nil {
		return nil, err
	}
	var out []eventPayload
	for _, st := range steps {
		if st.State == StepDiscarded {
			continue
		}
		var p eventPayload
		if json.Unmarshal(st.Payload, &p) == nil {
			out = append(out, p)
		}
	}
	return out, nil
}

// deliveryQuantities maps a delivery onto the order's lines: by line id,
// else by SKU over the lines with units left, never more than was ordered.
// An event without lines (or an invoiced event) delivers everything not yet
// delivered. What was delivered before is counted per kind of step — the
// fulfillments and the captures each keep their own ledger — so a capture
// mapped to "invoiced" still captures what "delivered" fulfilled.
func (e *Engine) deliveryQuantities(ctx context.Context, o *commerce.Order, ev commerce.OrderEvent, kind string) (map[int]int, error) {
	delivered := map[int]int{}
	prev, err := e.earlierEvents(ctx, o.Number, kind)
	if err != nil {
		return nil, err
	}
	for _, p := range prev {
		if p.Event.ID == ev.ID {
			continue
		}
		for i, q := range p.Quantities {
			delivered[i] += q
		}
	}
	left := func(i int) int { return o.Lines[i].Quantity - delivered[i] }
	out := map[int]int{}
	take := func(i, q int) int {
		n := min(q, left(i)-out[i])
		if n > 0 {
			out[i] += n
		}
		return n
	}
	if len(ev.Lines) == 0 || ev.Kind != commerce.EventDelivered {
		for i := range o.Lines {
			take(i, o.Lines[i].Quantity)
		}
		return out, nil
	}
	for _, fl := range ev.Lines {
		q := fl.Quantity
		if fl.LineID != "" {
			for i, l := range o.Lines {
				if l.ID == fl.LineID {
					q -= take(i, q)
				}
			}
		}
		for i, l := range o.Lines {
			if q > 0 && fl.SKU != "" && strings.EqualFold(l.SKU, fl.SKU) {
				q -= take(i, q)
			}
		}
		if q > 0 {
			e.log.LogAttrs(ctx, levelWarn, "flow: delivery names more than the order has left",
				attrOrder(o.Number), attrKey("sku", fl.SKU), attrKey("line", fl.LineID))
		}
	}
	return out, nil
}

// capturePayment is the order's payment at a provider: the first that is
// not a gift card.
func capturePayment(o *commerce.Order) (commerce.PaymentRef, bool) {
	for _, p := range o.Payments {
		if strings.EqualFold(p.Provider, "gift_card") || p.Reference == "" {
			continue
		}
		return p, true
	}
	return commerce.PaymentRef{}, false
}

// providerFor routes a payment to a configured provider by name, else by
// the shop's gateway name.
func (e *Engine) providerFor(p commerce.PaymentRef) *providerRT {
	for _, pr := range e.providers {
		if strings.EqualFold(pr.cfg.Name, p.Provider) {
			return pr
		}
	}
	for _, pr := range e.providers {
		for _, g := range pr.cfg.Gateways {
			if p.Gateway != "" && strings.EqualFold(g, p.Gateway) {
				return pr
			}
		}
	}
	return nil
}

func (e *Engine) providerNamed(name string) *providerRT {
	for _, pr := range e.providers {
		if pr.cfg.Name == name {
			return pr
		}
	}
	return nil
}

func (e *Engine) providerSem(st *Step) chan struct{} {
	var p struct {
		Payment *paymentPlan `json:"payment"`
	}
	if json.Unmarshal(st.Payload, &p) == nil && p.Payment != nil {
		if pr := e.providerNamed(p.Payment.Provider); pr != nil {
			return pr.sem
		}
	}
	return nil
}

// planPayment finds the provider payment of an order, or why there is none.
func (e *Engine) planPayment(o *commerce.Order) paymentPlan {
	pay, ok := capturePayment(o)
	if !ok {
		return paymentPlan{Skip: "the order has no payment at a provider"}
	}
	plan := paymentPlan{Reference: pay.Reference, Authorized: pay.Amount}
	if pr := e.providerFor(pay); pr != nil {
		plan.Provider = pr.cfg.Name
	} else {
		plan.Provider = pay.Provider
		if pay.Gateway != "" {
			plan.Provider += " (gateway " + pay.Gateway + ")"
		}
	}
	if strings.EqualFold(pay.Kind, "sale") {
		plan.Sale = true
		plan.Skip = "the payment was captured at checkout (sale)"
	}
	return plan
}

// lineGross is what the buyer pays for a line: after discounts, with VAT.
func lineGross(o *commerce.Order, l commerce.Line) (commerce.Money, error) {
	t, err := l.LineTotal()
	if err != nil || o.PricesIncludeTax {
		return t, err
	}
	for _, tl := range l.TaxLines {
		if t, err = t.Add(tl.Amount); err != nil {
			return t, err
		}
	}
	return t, nil
}

func shippingGross(o *commerce.Order) (commerce.Money, error) {
	total := commerce.Zero(o.Currency)
	for _, s := range o.ShippingLines {
		amt := s.Price.Round()
		var err error
		for _, d := range s.Discounts {
			if amt, err = amt.Sub(d.Amount); err != nil {
				return total, err
			}
		}
		if !o.PricesIncludeTax {
			for _, tl := range s.TaxLines {
				if amt, err = amt.Add(tl.Amount); err != nil {
					return total, err
				}
			}
		}
		if total, err = total.Add(amt); err != nil {
			return total, err
		}
	}
	return total, nil
}

// shareOf is round(gross × k / q): the part of a line's amount that k of its
// q units carry. Capturing or refunding by cumulative shares makes the parts
// of a line add up to the line exactly, whatever the split.
func shareOf(gross commerce.Money, k, q int) commerce.Money {
	if q == 0 || k == 0 {
		return commerce.Zero(gross.Currency)
	}
	if k >= q {
		return gross
	}
	a := gross.Amount.Mul(decimal.NewFromInt(int64(k))).Div(decimal.NewFromInt(int64(q)))
	return commerce.NewMoney(commerce.RoundAmount(a, gross.Currency), gross.Currency)
}

// planCapture computes what a delivery captures: for each line, the
// cumulative share of the line delivered so far less what earlier captures
// took (so partial deliveries add up to the line exactly), the shipping
// with the first capture, and everything still authorized for the order
// with the delivery that completes it — that is where any rounding lands.
// The total captured never exceeds the order's total or the authorization.
func (e *Engine) planCapture(ctx context.Context, o *commerce.Order, qty map[int]int) (paymentPlan, error) {
	plan := e.planPayment(o)
	if plan.Skip != "" {
		return plan, nil
	}
	cur := o.Currency
	prevQty := map[int]int{}
	prevAmount := commerce.Zero(cur)
	first := true
	prev, err := e.earlierEvents(ctx, o.Number, KindCapture)
	if err != nil {
		return plan, err
	}
	for _, p := range prev {
		if p.Payment == nil || p.Payment.Skip != "" {
			continue
		}
		first = false
		for i, q := range p.Quantities {
			prevQty[i] += q
		}
		if prevAmount, err = prevAmount.Add(p.Payment.Amount); err != nil {
			return plan, err
		}
	}
	target := o.Totals.Total
	if target.Currency.IsZero() {
		t, err := o.ComputeTotals()
		if err != nil {
			return plan, err
		}
		target = t.Total
	}
	if !plan.Authorized.Currency.IsZero() {
		if c, err := plan.Authorized.Cmp(target); err == nil && c < 0 {
			target = plan.Authorized // the rest was paid otherwise (gift card)
		}
	}
	amount := commerce.Zero(cur)
	complete := true
	for i, l := range o.Lines {
		g, err := lineGross(o, l)
		if err != nil {
			return plan, err
		}
		before, k := prevQty[i], qty[i]
		part, err := shareOf(g, before+k, l.Quantity).Sub(shareOf(g, before, l.Quantity))
		if err != nil {
			return plan, err
		}
		if amount, err = amount.Add(part); err != nil {
			return plan, err
		}
		if before+k < l.Quantity {
			complete = false
		}
		if k > 0 {
			cl := l
			cl.Quantity = k
			plan.Lines = append(plan.Lines, cl)
		}
	}
	if first {
		ship, err := shippingGross(o)
		if err != nil {
			return plan, err
		}
		if amount, err = amount.Add(ship); err != nil {
			return plan, err
		}
	}
	left, err := target.Sub(prevAmount)
	if err != nil {
		return plan, err
	}
	if c, _ := amount.Cmp(left); complete || c > 0 {
		amount = left
	}
	plan.Final = complete
	plan.Amount = amount
	if plan.Cumulative, err = prevAmount.Add(amount); err != nil {
		return plan, err
	}
	if !amount.IsPositive() {
		plan.Skip = "nothing left to capture for this delivery"
	}
	return plan, nil
}

func (e *Engine) handleCapture(ctx context.Context, st *Step) (commerce.Ref, error) {
	s, err := e.shopOf(st)
	if err != nil {
		return commerce.Ref{}, err
	}
	p, err := decodePayload[eventPayload](st)
	if err != nil {
		return commerce.Ref{}, err
	}
	if p.Payment == nil {
		return commerce.Ref{}, Skip("order " + p.Event.OrderNumber + " was not transferred by this engine")
	}
	plan := *p.Payment
	if plan.Skip != "" {
		return commerce.Ref{}, Skip(plan.Skip)
	}
	pr := e.providerNamed(plan.Provider)
	if pr == nil {
		return commerce.Ref{}, deadf("no payment provider is configured for %s", plan.Provider)
	}
	// Captures of an order go out in the order their plans were made: a
	// final capture closes the authorization for any that would follow.
	unlock := e.locks.lock("capture:" + p.Event.OrderNumber)
	defer unlock()
	if err := e.earlierCapturesFinal(ctx, st, plan); err != nil {
		return commerce.Ref{}, err
	}
	capt, ok := pr.sys.(connector.Capturer)
	if !ok {
		return commerce.Ref{}, deadf("provider %s cannot capture", plan.Provider)
	}
	// Earlier captures of the order have run (earlierCapturesFinal), so
	// what the plans before this one captured is what the payment holds.
	before, err := plan.Cumulative.Sub(plan.Amount)
	if err != nil {
		return commerce.Ref{}, err
	}
	req := connector.CaptureRequest{PaymentReference: plan.Reference, OrderNumber: p.Event.OrderNumber, Amount: plan.Amount,
		Lines: plan.Lines, Final: plan.Final, Reference: p.Event.OrderNumber, CapturedBefore: &before}
	if err := runHooks(ctx, e, ToProvider, &req, HookInfo{Shop: s.cfg.ID, Step: st.Key}); err != nil {
		return commerce.Ref{}, err
	}
	c, err := capt.Capture(ctx, req, connector.WithIdempotencyKey(st.IdempotencyKey))
	if err != nil {
		return commerce.Ref{}, err
	}
	ref := commerce.Ref{System: pr.sys.System(), Account: pr.sys.Account(), ID: c.ID}
	// The order is complete: give back what the authorization holds
	// beyond what was captured.
	if _, releases := pr.sys.(connector.Releaser); plan.Final && releases && !plan.Authorized.Currency.IsZero() {
		if c, err := plan.Authorized.Cmp(plan.Cumulative); err == nil && c > 0 {
			rel, err := e.newStep("order:"+st.Shop+":"+p.Event.OrderNumber+":release", KindOrderRelease, p.Event.OrderNumber, st.Shop,
				eventPayload{Event: p.Event, Payment: &paymentPlan{Provider: plan.Provider, Reference: plan.Reference}})
			if err != nil {
				return commerce.Ref{}, err
			}
			// It runs with the next pass over due steps.
			if _, _, err := e.enqueue(ctx, rel); err != nil {
				return commerce.Ref{}, err
			}
		}
	}
	return ref, nil
}

// earlierCapturesFinal asks for a retry while a capture planned before this
// one (a smaller cumulative amount) has not run.
func (e *Engine) earlierCapturesFinal(ctx context.Context, st *Step, plan paymentPlan) error {
	steps, err := e.store.Steps(ctx, StepFilter{Subject: st.Subject, Kind: KindCapture, State: StepPending})
	if err != nil {
		return err
	}
	before, err := plan.Cumulative.Sub(plan.Amount)
	if err != nil {
		return err
	}
	for _, other := range steps {
		if other.Key == st.Key {
			continue
		}
		var p eventPayload
		if json.Unmarshal(other.Payload, &p) != nil || p.Payment == nil || p.Payment.Skip != "" {
			continue
		}
		if c, err := p.Payment.Cumulative.Cmp(before); err == nil && c <= 0 {
			return &retryError{err: fmt.Errorf("capture %s of the same order goes first", other.Key)}
		}
	}
	return nil
}

func (e *Engine) handleRelease(ctx context.Context, st *Step) (commerce.Ref, error) {
	p, err := decodePayload[eventPayload](st)
	if err != nil {
		return commerce.Ref{}, err
	}
	if p.Payment == nil {
		return commerce.Ref{}, Skip("order " + p.Event.OrderNumber + " was not transferred by this engine")
	}
	if p.Payment.Skip != "" {
		return commerce.Ref{}, Skip(p.Payment.Skip)
	}
	pr := e.providerNamed(p.Payment.Provider)
	if pr == nil {
		return commerce.Ref{}, deadf("no payment provider is configured for %s", p.Payment.Provider)
	}
	rel, ok := pr.sys.(connector.Releaser)
	if !ok {
		return commerce.Ref{}, Skip("provider " + p.Payment.Provider + " has no release; the authorization expires on its own")
	}
	if err := rel.ReleaseRemaining(ctx, p.Payment.Reference, connector.WithIdempotencyKey(st.IdempotencyKey)); err != nil {
		return commerce.Ref{}, err
	}
	return commerce.Ref{System: pr.sys.System(), Account: pr.sys.Account(), ID: p.Payment.Reference}, nil
}

func (e *Engine) handleFulfill(ctx context.Context, st *Step) (commerce.Ref, error) {
	s, err := e.shopOf(st)
	if err != nil {
		return commerce.Ref{}, err
	}
	p, err := decodePayload[eventPayload](st)
	if err != nil {
		return commerce.Ref{}, err
	}
	o, known, err := e.loadOrder(ctx, s.cfg.ID, p.Event.OrderNumber)
	if err != nil {
		return commerce.Ref{}, err
	}
	if !known {
		return commerce.Ref{}, Skip("order " + p.Event.OrderNumber + " was not transferred by this engine")
	}
	qty := p.Quantities
	if qty == nil {
		// An invoiced event mapped to fulfill: deliver what is left.
		if qty, err = e.deliveryQuantities(ctx, &o, p.Event, KindFulfill); err != nil {
			return commerce.Ref{}, err
		}
	}
	f := commerce.Fulfillment{OrderNumber: o.Number, Tracking: p.Event.Tracking, NotifyCustomer: s.cfg.NotifyCustomer, CreatedAt: p.Event.At}
	if _, ref, ok, err := e.orderShop(ctx, o.Number); err != nil {
		return commerce.Ref{}, err
	} else if ok && ref.ID != "" {
		f.OrderRef = commerce.Ref{System: s.sys.System(), Account: s.sys.Account(), ID: ref.ID}
	}
	for i, l := range o.Lines {
		if q := qty[i]; q > 0 && !l.NotShipped && !l.GiftCard {
			f.Lines = append(f.Lines, commerce.FulfillmentLine{LineID: l.ID, SKU: l.SKU, Quantity: q})
		}
	}
	if len(f.Lines) == 0 {
		return commerce.Ref{}, Skip("nothing left to fulfill")
	}
	if err := runHooks(ctx, e, ERPToShop, &f, HookInfo{Shop: s.cfg.ID, Step: st.Key}); err != nil {
		return commerce.Ref{}, err
	}
	return s.sys.(connector.Fulfiller).Fulfill(ctx, f, connector.WithIdempotencyKey(st.IdempotencyKey))
}

func (e *Engine) handleMarkPaid(ctx context.Context, st *Step) (commerce.Ref, error) {
	s, err := e.shopOf(st)
	if err != nil {
		return commerce.Ref{}, err
	}
	if err := s.sys.(connector.PaidMarker).MarkPaid(ctx, st.Subject, connector.WithIdempotencyKey(st.IdempotencyKey)); err != nil {
		return commerce.Ref{}, err
	}
	return commerce.Ref{}, nil
}

func (e *Engine) handleCancel(ctx context.Context, st *Step) (commerce.Ref, error) {
	s, err := e.shopOf(st)
	if err != nil {
		return commerce.Ref{}, err
	}
	if err := s.sys.(connector.OrderCanceller).CancelOrder(ctx, st.Subject, "cancelled in the ERP", connector.WithIdempotencyKey(st.IdempotencyKey)); err != nil {
		return commerce.Ref{}, err
	}
	return commerce.Ref{}, nil
}
