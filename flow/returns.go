package flow

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/connector"
)

// returnPayload is the journalled input of a return's steps.
type returnPayload struct {
	Return commerce.Return `json:"return"`
	// Quantities are the units of each order line (by index) returned;
	// Payment the frozen refund. Both are set on the refund step.
	Quantities map[int]int   `json:"quantities,omitempty"`
	Payment    *paymentPlan  `json:"payment,omitempty"`
	Credit     *commerce.Ref `json:"credit,omitempty"` // the credit invoice, once made
}

// ReturnStepKey is the journal key of a step of a return's chain
// (action "credit" or "refund").
func ReturnStepKey(shop, returnID, action string) string {
	return "return:" + shop + ":" + returnID + ":" + action
}

// intakeReturns journals the returns whose status starts the chain.
func (e *Engine) intakeReturns(ctx context.Context, s *shopRT, returns []commerce.Return) ([]Step, error) {
	var run []Step
	for _, r := range returns {
		if !slices.Contains(s.cfg.Returns.Trigger, string(r.Status)) {
			continue
		}
		if err := r.Validate(); err != nil {
			e.counters.add(KindReturnCredit, func(c *Counters) { c.Skipped++ })
			e.log.LogAttrs(ctx, levelWarn, "flow: invalid return ignored", attrShop(s), attrErr(err))
			continue
		}
		var st Step
		var pending bool
		var err error
		switch {
		case s.cfg.Returns.Credit == "erp":
			st, err = e.newStep(ReturnStepKey(s.cfg.ID, r.ID, "credit"), KindReturnCredit, r.OrderNumber, s.cfg.ID, returnPayload{Return: r})
			if err == nil {
				st, pending, err = e.enqueue(ctx, st)
			}
		case s.cfg.Returns.Refund == "provider":
			st, pending, err = e.enqueueRefund(ctx, s, r, nil)
		default:
			continue
		}
		if err != nil {
			return nil, err
		}
		if pending {
			run = append(run, st)
		}
	}
	return run, nil
}

func returnReason(r *commerce.Return) string {
	var rs []string
	for _, l := range r.Lines {
		if l.Reason != "" && !slices.Contains(rs, l.Reason) {
			rs = append(rs, l.Reason)
		}
	}
	return strings.Join(rs, "; ")
}

func (e *Engine) handleReturnCredit(ctx context.Context, st *Step) (commerce.Ref, error) {
	s, err := e.shopOf(st)
	if err != nil {
		return commerce.Ref{}, err
	}
	p, err := decodePayload[returnPayload](st)
	if err != nil {
		return commerce.Ref{}, err
	}
	r := p.Return
	req := connector.CreditRequest{OrderNumber: r.OrderNumber, Return: &r, Reason: returnReason(&r)}
	if err := runHooks(ctx, e, ShopToERP, &req, HookInfo{Shop: s.cfg.ID, Step: st.Key}); err != nil {
		return commerce.Ref{}, err
	}
	res, err := e.erp.(connector.CreditSink).CreateCreditInvoice(ctx, req, connector.WithIdempotencyKey(st.IdempotencyKey))
	if err != nil {
		return commerce.Ref{}, err
	}
	if s.cfg.Returns.Refund == "provider" {
		// The refund follows the credit invoice; it runs with the next
		// pass over due steps.
		if _, _, err := e.enqueueRefund(ctx, s, r, &res.Ref); err != nil {
			return commerce.Ref{}, err
		}
	}
	return res.Ref, nil
}

// enqueueRefund journals a return's refund with its amount frozen: each
// returned line's cumulative share of what the buyer paid for it, less what
// earlier returns of the order refunded, so returns of single units add up
// to the line exactly. Shipping is not refunded for returned goods.
func (e *Engine) enqueueRefund(ctx context.Context, s *shopRT, r commerce.Return, credit *commerce.Ref) (Step, bool, error) {
	key := ReturnStepKey(s.cfg.ID, r.ID, "refund")
	unlock := e.locks.lock("order:" + r.OrderNumber)
	defer unlock()
	if st, ok, err := e.store.Step(ctx, key); err != nil || ok {
		return st, ok && st.State == StepPending, err
	}
	p := returnPayload{Return: r, Credit: credit}
	o, known, err := e.loadOrder(ctx, s.cfg.ID, r.OrderNumber)
	if err != nil {
		return Step{}, false, err
	}
	if !known {
		p.Payment = &paymentPlan{Skip: "order " + r.OrderNumber + " was not transferred by this engine"}
	} else if p.Quantities, p.Payment, err = e.planRefund(ctx, &o, &r); err != nil {
		return Step{}, false, err
	}
	st, err := e.newStep(key, KindReturnRefund, r.OrderNumber, s.cfg.ID, p)
	if err != nil {
		return Step{}, false, err
	}
	return e.enqueue(ctx, st)
}

func (e *Engine) planRefund(ctx context.Context, o *commerce.Order, r *commerce.Return) (map[int]int, *paymentPlan, error) {
	plan := e.planPayment(o)
	if _, ok := capturePayment(o); ok {
		plan.Skip = "" // a payment captured at checkout is refunded all the same
	}
	if plan.Skip != "" {
		return nil, &plan, nil
	}
	prevQty := map[int]int{}
	steps, err := e.store.Steps(ctx, StepFilter{Subject: o.Number, Kind: KindReturnRefund})
	if err != nil {
		return nil, nil, err
	}
	prevAmount := commerce.Zero(o.Currency)
	for _, st := range steps {
		if st.State == StepDiscarded {
			continue
		}
		p, err := decodePayload[returnPayload](&st)
		if err != nil || p.Payment == nil || p.Payment.Skip != "" {
			continue
		}
		for i, q := range p.Quantities {
			prevQty[i] += q
		}
		if prevAmount, err = prevAmount.Add(p.Payment.Amount); err != nil {
			return nil, nil, err
		}
	}
	qty := map[int]int{}
	for _, rl := range r.Lines {
		q := rl.Quantity
		for i, l := range o.Lines {
			if q == 0 {
				break
			}
			if (rl.LineID != "" && l.ID == rl.LineID) || (rl.LineID == "" && strings.EqualFold(l.SKU, rl.SKU)) {
				n := min(q, l.Quantity-prevQty[i]-qty[i])
				if n > 0 {
					qty[i] += n
					q -= n
				}
			}
		}
	}
	amount := commerce.Zero(o.Currency)
	for i, l := range o.Lines {
		k := qty[i]
		if k == 0 {
			continue
		}
		g, err := lineGross(o, l)
		if err != nil {
			return nil, nil, err
		}
		part, err := shareOf(g, prevQty[i]+k, l.Quantity).Sub(shareOf(g, prevQty[i], l.Quantity))
		if err != nil {
			return nil, nil, err
		}
		if amount, err = amount.Add(part); err != nil {
			return nil, nil, err
		}
		rl := l
		rl.Quantity = k
		rl.UnitPrice = part // the refunded amount of the line, carried to RefundLine
		plan.Lines = append(plan.Lines, rl)
	}
	plan.Amount = amount
	if plan.Cumulative, err = prevAmount.Add(amount); err != nil {
		return nil, nil, err
	}
	if !amount.IsPositive() {
		plan.Skip = "nothing left to refund for this return"
	}
	return qty, &plan, nil
}

func (e *Engine) handleReturnRefund(ctx context.Context, st *Step) (commerce.Ref, error) {
	s, err := e.shopOf(st)
	if err != nil {
		return commerce.Ref{}, err
	}
	p, err := decodePayload[returnPayload](st)
	if err != nil {
		return commerce.Ref{}, err
	}
	if p.Payment == nil {
		return commerce.Ref{}, deadf("the refund has no plan")
	}
	plan := *p.Payment
	if plan.Skip != "" {
		return commerce.Ref{}, Skip(plan.Skip)
	}
	if ref, done, err := e.store.Ref(ctx, MapKey{Kind: mapReturnRefunded, Key: p.Return.ID, System: s.sys.System(), Account: s.cfg.ID}); err != nil {
		return commerce.Ref{}, err
	} else if done {
		return commerce.Ref{}, Skip("refunded in the shop (" + ref.ID + ")")
	}
	pr := e.providerNamed(plan.Provider)
	if pr == nil {
		return commerce.Ref{}, deadf("no payment provider is configured for %s", plan.Provider)
	}
	rf, ok := pr.sys.(connector.Refunder)
	if !ok {
		return commerce.Ref{}, deadf("provider %s cannot refund", plan.Provider)
	}
	if err := e.capturedEnough(ctx, s, p.Return.OrderNumber, plan); err != nil {
		return commerce.Ref{}, err
	}
	req := connector.RefundRequest{PaymentReference: plan.Reference, OrderNumber: p.Return.OrderNumber, Amount: plan.Amount,
		Reason: returnReason(&p.Return), Reference: p.Return.ID}
	for _, l := range plan.Lines {
		req.Lines = append(req.Lines, commerce.RefundLine{LineID: l.ID, SKU: l.SKU, Quantity: l.Quantity, Amount: l.UnitPrice})
	}
	if err := runHooks(ctx, e, ToProvider, &req, HookInfo{Shop: s.cfg.ID, Step: st.Key}); err != nil {
		return commerce.Ref{}, err
	}
	parts, err := e.refundParts(ctx, st.Subject, pr, plan, req.Amount)
	if err != nil {
		return commerce.Ref{}, err
	}
	var first commerce.Ref
	for i, part := range parts {
		preq, key := req, st.IdempotencyKey
		preq.CaptureID, preq.Amount = part.CaptureID, part.Amount
		if len(parts) > 1 {
			// No part's amount is the lines' total, so no part carries them;
			// PayPal refuses a reference (invoice_id) used by another refund.
			preq.Lines = nil
			key = connector.IdempotencyKey(st.IdempotencyKey, part.CaptureID)
			if preq.Reference != "" {
				preq.Reference += "#" + strconv.Itoa(i+1)
			}
		}
		refund, err := rf.Refund(ctx, preq, connector.WithIdempotencyKey(key))
		if err != nil {
			if i > 0 {
				// The parts before went through; the retry repeats their keys,
				// so the provider answers them without refunding again.
				return commerce.Ref{}, fmt.Errorf("refund part %d of %d (capture %s): %w", i+1, len(parts), part.CaptureID, err)
			}
			return commerce.Ref{}, err
		}
		ref := commerce.Ref{System: pr.sys.System(), Account: pr.sys.Account(), ID: refund.ID}
		if i == 0 {
			first = ref
		}
		if refund.ID != "" {
			// Where the provider is the shop (Shopify Payments), the refund
			// comes back through the shop's refunds feed: it is ours.
			if err := e.store.SetRef(ctx, MapKey{Kind: mapEngineRefund, Key: refund.ID, System: ref.System, Account: ref.Account},
				commerce.Ref{System: "return", Account: st.Shop, ID: p.Return.ID}); err != nil {
				return commerce.Ref{}, err
			}
		}
		if p.Credit != nil && refund.ID != "" {
			// For reconcile: the refund in the payout matches this credit
			// invoice.
			if err := e.store.SetRef(ctx, MapKey{Kind: mapRefundCredit, Key: refund.ID, System: ref.System, Account: ref.Account}, *p.Credit); err != nil {
				return commerce.Ref{}, err
			}
		}
	}
	return first, nil
}

// refundPart is the share of a refund drawn on one capture.
type refundPart struct {
	CaptureID string
	Amount    commerce.Money
}

// refundParts says which captures a refund draws on. Providers that refund
// the payment as a whole get one request naming the order's first capture.
// For a connector.CaptureScopedRefunder the refund is spread: the order's
// captures, in the order their plans were made, cover consecutive ranges of
// the captured total, and the order's refunds use that total up from the
// start, so this refund's range [Cumulative−Amount, Cumulative) meets each
// capture's range in at most one part. The spread is computed from frozen
// plans only, so a retry after a crash sends the same parts with the same
// keys. amount is the request's amount after the plugins ran; a plugin
// that changed it gets the single-request behaviour.
func (e *Engine) refundParts(ctx context.Context, number string, pr *providerRT, plan paymentPlan, amount commerce.Money) ([]refundPart, error) {
	steps, err := e.store.Steps(ctx, StepFilter{Subject: number, Kind: KindCapture, State: StepDone})
	if err != nil {
		return nil, err
	}
	type capture struct {
		id       string
		from, to commerce.Money
	}
	var captures []capture
	for _, st := range steps {
		var p eventPayload
		if json.Unmarshal(st.Payload, &p) != nil || p.Payment == nil || p.Payment.Skip != "" || st.Result.ID == "" {
			continue
		}
		if p.Payment.Provider != plan.Provider || st.Result.System != pr.sys.System() || st.Result.Account != pr.sys.Account() {
			continue
		}
		from, err := p.Payment.Cumulative.Sub(p.Payment.Amount)
		if err != nil {
			return nil, err
		}
		captures = append(captures, capture{id: st.Result.ID, from: from, to: p.Payment.Cumulative})
	}
	slices.SortFunc(captures, func(a, b capture) int { c, _ := a.from.Cmp(b.from); return c })
	scoped, ok := pr.sys.(connector.CaptureScopedRefunder)
	if !ok || !scoped.RefundsPerCapture() || len(captures) == 0 || !amount.Equal(plan.Amount) {
		part := refundPart{Amount: amount}
		if len(captures) > 0 {
			part.CaptureID = captures[0].id
		}
		return []refundPart{part}, nil
	}
	from, err := plan.Cumulative.Sub(plan.Amount)
	if err != nil {
		return nil, err
	}
	var parts []refundPart
	total := commerce.Zero(plan.Amount.Currency)
	for _, c := range captures {
		lo, hi := maxMoney(from, c.from), minMoney(plan.Cumulative, c.to)
		if n, _ := lo.Cmp(hi); n >= 0 {
			continue
		}
		share, err := hi.Sub(lo)
		if err != nil {
			return nil, err
		}
		parts = append(parts, refundPart{CaptureID: c.id, Amount: share})
		if total, err = total.Add(share); err != nil {
			return nil, err
		}
	}
	if !total.Equal(plan.Amount) {
		return nil, deadf("the captures of order %s cover %s of the %s to refund (refunds up to %s)", number, total, plan.Amount, plan.Cumulative)
	}
	return parts, nil
}

func maxMoney(a, b commerce.Money) commerce.Money {
	if c, _ := a.Cmp(b); c < 0 {
		return b
	}
	return a
}

func minMoney(a, b commerce.Money) commerce.Money {
	if c, _ := a.Cmp(b); c > 0 {
		return b
	}
	return a
}

// capturedEnough asks for a retry while the money to refund is not yet
// captured: a capture of the order is pending, or, where the engine
// captures on delivery, less is captured than the refunds come to (the
// delivery of the returned goods has not been processed yet).
func (e *Engine) capturedEnough(ctx context.Context, s *shopRT, number string, plan paymentPlan) error {
	if plan.Sale {
		return nil
	}
	steps, err := e.store.Steps(ctx, StepFilter{Subject: number, Kind: KindCapture})
	if err != nil {
		return err
	}
	captured := commerce.Zero(plan.Amount.Currency)
	for _, st := range steps {
		if st.State == StepPending {
			return &retryError{err: fmt.Errorf("capture %s of the order has not run yet", st.Key)}
		}
		var p eventPayload
		if st.State != StepDone || json.Unmarshal(st.Payload, &p) != nil || p.Payment == nil || p.Payment.Skip != "" {
			continue
		}
		if captured, err = captured.Add(p.Payment.Amount); err != nil {
			return err
		}
	}
	capturing := false
	for _, actions := range s.cfg.Status {
		capturing = capturing || slices.Contains(actions, ActionCapture)
	}
	if !capturing {
		return nil
	}
	if c, err := captured.Cmp(plan.Cumulative); err == nil && c < 0 {
		return &retryError{err: fmt.Errorf("%s captured of order %s, the refunds come to %s: waiting for the capture", captured, number, plan.Cumulative)}
	}
	return nil
}

// intakeRefunds records refunds made in the shop: a refund of a return
// stops the engine from refunding that return at the provider; a refund
// without a return (goodwill, a cancelled line) gets its own credit
// invoice.
func (e *Engine) intakeRefunds(ctx context.Context, s *shopRT, refunds []commerce.Refund) ([]Step, error) {
	_, hasReturns := s.sys.(connector.ReturnSource)
	var run []Step
	for _, r := range refunds {
		if r.ID == "" {
			continue
		}
		if r.ReturnID != "" {
			k := MapKey{Kind: mapReturnRefunded, Key: r.ReturnID, System: s.sys.System(), Account: s.cfg.ID}
			if err := e.store.SetRef(ctx, k, commerce.Ref{System: s.sys.System(), Account: s.cfg.ID, ID: r.ID}); err != nil {
				return nil, err
			}
			if hasReturns {
				continue
			}
		}
		if s.cfg.Returns.Credit != "erp" {
			continue
		}
		if _, own, err := e.store.Ref(ctx, MapKey{Kind: mapEngineRefund, Key: r.ID, System: s.sys.System(), Account: s.sys.Account()}); err != nil {
			return nil, err
		} else if own {
			continue // the refund of a return, credited with the return
		}
		st, err := e.newStep("refund:"+s.cfg.ID+":"+r.ID+":credit", KindRefundCredit, r.OrderNumber, s.cfg.ID, r)
		if err != nil {
			return nil, err
		}
		got, pending, err := e.enqueue(ctx, st)
		if err != nil {
			return nil, err
		}
		if pending {
			run = append(run, got)
		}
	}
	return run, nil
}

func (e *Engine) handleRefundCredit(ctx context.Context, st *Step) (commerce.Ref, error) {
	s, err := e.shopOf(st)
	if err != nil {
		return commerce.Ref{}, err
	}
	r, err := decodePayload[commerce.Refund](st)
	if err != nil {
		return commerce.Ref{}, err
	}
	if ret, err := e.engineRefundOf(ctx, s, r); err != nil {
		return commerce.Ref{}, err
	} else if ret != "" {
		return commerce.Ref{}, Skip("the engine made this refund for return " + ret + ", credited with the return")
	}
	req := connector.CreditRequest{OrderNumber: r.OrderNumber, Refund: &r, Reason: r.Reason}
	if err := runHooks(ctx, e, ShopToERP, &req, HookInfo{Shop: s.cfg.ID, Step: st.Key}); err != nil {
		return commerce.Ref{}, err
	}
	res, err := e.erp.(connector.CreditSink).CreateCreditInvoice(ctx, req, connector.WithIdempotencyKey(st.IdempotencyKey))
	if err != nil {
		return commerce.Ref{}, err
	}
	if err := e.store.SetRef(ctx, MapKey{Kind: mapRefundCredit, Key: r.ID, System: s.sys.System(), Account: s.cfg.ID}, res.Ref); err != nil {
		return commerce.Ref{}, err
	}
	return res.Ref, nil
}

// engineRefundOf names the return a refund read from the shop was made for,
// when the engine made it there itself (the shop is also the payment
// provider, as with Shopify Payments). The feed can deliver the refund
// before the engine has recorded it, after a crash between the refund and
// its record, so while a refund of the order at this shop is unfinished —
// pending, or a dead letter for the same amount, which may have been made
// before its step failed — the answer is a retry.
func (e *Engine) engineRefundOf(ctx context.Context, s *shopRT, r commerce.Refund) (string, error) {
	if ret, ok, err := e.store.Ref(ctx, MapKey{Kind: mapEngineRefund, Key: r.ID, System: s.sys.System(), Account: s.sys.Account()}); err != nil || ok {
		return ret.ID, err
	}
	steps, err := e.store.Steps(ctx, StepFilter{Subject: r.OrderNumber, Kind: KindReturnRefund})
	if err != nil {
		return "", err
	}
	for _, st := range steps {
		p, err := decodePayload[returnPayload](&st)
		if err != nil || p.Payment == nil || p.Payment.Skip != "" {
			continue
		}
		pr := e.providerNamed(p.Payment.Provider)
		if pr == nil || pr.sys.System() != s.sys.System() || pr.sys.Account() != s.sys.Account() {
			continue
		}
		switch {
		case st.State == StepPending:
			return "", &retryError{err: fmt.Errorf("refund %s of the order at the shop has not finished; %s may be its refund", st.Key, r.ID)}
		case st.State == StepDead && p.Payment.Amount.Equal(r.Amount):
			return "", &retryError{err: fmt.Errorf("refund %s of the order at the shop is a dead letter and may have made %s: replay or discard it first", st.Key, r.ID)}
		}
	}
	return "", nil
}
