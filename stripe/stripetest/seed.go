package stripetest

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Authorization describes a card authorization to seed: a PaymentIntent
// with capture_method manual in status requires_capture, and its
// uncaptured charge.
type Authorization struct {
	Amount   int64  // minor units in Stripe's convention for Currency
	Currency string // ISO code, any case
	Metadata map[string]string
	// Multicapture makes the PaymentIntent accept final_capture=false.
	Multicapture bool
	// CaptureBefore is when the authorization lapses; zero means seven
	// days from the fake's now.
	CaptureBefore time.Time
	Description   string
}

// AddAuthorization seeds an authorized PaymentIntent and returns its id
// (pi_…). It emits payment_intent.amount_capturable_updated.
func (s *Server) AddAuthorization(a Authorization) (string, error) {
	cur := strings.ToLower(a.Currency)
	if _, _, ok := stripeCurrency(cur); !ok {
		return "", fmt.Errorf("stripetest: unknown currency %q", a.Currency)
	}
	if a.Amount <= 0 {
		return "", errors.New("stripetest: authorization amount must be positive")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	before := a.CaptureBefore
	if before.IsZero() {
		before = s.now.Add(7 * 24 * time.Hour)
	}
	pi := &intent{ID: s.newID("pi"), Object: "payment_intent", Amount: a.Amount, AmountCapturable: a.Amount,
		Currency: cur, Status: "requires_capture", CaptureMethod: "manual", Created: s.now.Unix(),
		Description: strp(a.Description), Metadata: cloneMap(a.Metadata), PaymentMethodTypes: []string{"card"},
		multicapture: a.Multicapture}
	pi.seq = s.seq
	mc := "unavailable"
	if a.Multicapture {
		mc = "available"
	}
	ch := &charge{ID: s.newID("ch"), Object: "charge", Amount: a.Amount, Currency: cur, Status: "succeeded",
		Paid: true, Created: s.now.Unix(), PaymentIntent: pi.ID, Metadata: cloneMap(a.Metadata),
		PaymentMethodDetails: chargePMDetails{Type: "card", Card: cardDetail{Brand: "visa", Last4: "4242",
			CaptureBefore: before.Unix(), Multicapture: map[string]string{"status": mc}}}}
	pi.LatestCharge = ch.ID
	s.intents[pi.ID] = pi
	s.charges[ch.ID] = ch
	s.emit("payment_intent.amount_capturable_updated", s.renderIntent(pi, false))
	return pi.ID, nil
}

// AddCharge seeds a payment captured at once (an authorization of amount
// captured in full): its balance transaction carries the fee policy's fee.
// It returns the PaymentIntent id.
func (s *Server) AddCharge(a Authorization) (string, error) {
	id, err := s.AddAuthorization(a)
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	pi := s.intents[id]
	s.captureLocked(pi, s.charges[pi.LatestCharge.(string)], pi.Amount, true)
	return id, nil
}

// BalanceTransaction describes a ledger row to seed directly, for cases the
// API flows do not produce (disputes, adjustments, categories the client
// does not know). Net is Amount − Fee.
type BalanceTransaction struct {
	Amount            int64
	Fee               int64
	FeeDetails        []FeeDetail // nil: one stripe_fee row of Fee when Fee ≠ 0
	Currency          string
	Type              string // e.g. "adjustment"
	ReportingCategory string // e.g. "dispute"
	Source            string // id of the object it comes from, may be ""
	Description       string
}

// FeeDetail is one part of a seeded fee.
type FeeDetail struct {
	Amount      int64
	Type        string // stripe_fee, tax, application_fee, …
	Description string
}

// AddBalanceTransaction seeds an unpaid ledger row and returns its id.
func (s *Server) AddBalanceTransaction(t BalanceTransaction) (string, error) {
	cur := strings.ToLower(t.Currency)
	if _, _, ok := stripeCurrency(cur); !ok {
		return "", fmt.Errorf("stripetest: unknown currency %q", t.Currency)
	}
	if t.Type == "" || t.ReportingCategory == "" {
		return "", errors.New("stripetest: balance transaction needs a type and a reporting category")
	}
	var details []feeDetail
	sum := int64(0)
	for _, d := range t.FeeDetails {
		details = append(details, feeDetail{Amount: d.Amount, Currency: cur, Description: d.Description, Type: d.Type})
		sum += d.Amount
	}
	if t.FeeDetails == nil && t.Fee != 0 {
		details = []feeDetail{{Amount: t.Fee, Currency: cur, Description: "Stripe processing fees", Type: "stripe_fee"}}
		sum = t.Fee
	}
	if sum != t.Fee {
		return "", fmt.Errorf("stripetest: fee details sum to %d, fee is %d", sum, t.Fee)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	bt := s.addBT(t.Amount, t.Fee, details, cur, t.Type, t.ReportingCategory, t.Source, t.Description)
	return bt.ID, nil
}

// PayoutOptions shape a seeded payout.
type PayoutOptions struct {
	// Status is the payout status (default "paid").
	Status string
	// Reconciliation is the reconciliation_status (default "completed").
	Reconciliation string
	// ArrivalDate defaults to the fake's now plus one day.
	ArrivalDate time.Time
	// TraceID is the bank reference; "" leaves trace_id pending.
	TraceID             string
	StatementDescriptor string
	// SkewAmount adds to the payout amount without a matching
	// transaction, to test the sum check.
	SkewAmount int64
}

// CreatePayout sweeps every unpaid balance transaction in currency into a
// new automatic payout, as Stripe's payout schedule does, and books the
// payout's own balance transaction (type payout, the negative of the
// amount). The payout lists all of them under
// GET /v1/balance_transactions?payout=po_…, its own row included. It fails
// when there is nothing to pay out or the sum is not positive. Events:
// payout.created, then payout.paid and payout.reconciliation_completed as
// the options say.
func (s *Server) CreatePayout(currency string, o PayoutOptions) (string, error) {
	cur := strings.ToLower(currency)
	s.mu.Lock()
	defer s.mu.Unlock()
	var rows []*balanceTransaction
	sum := int64(0)
	for _, bt := range s.bts {
		if bt.payout == "" && bt.Currency == cur && bt.Type != "payout" {
			rows = append(rows, bt)
			sum += bt.Net
		}
	}
	if len(rows) == 0 {
		return "", fmt.Errorf("stripetest: no unpaid balance transactions in %s", cur)
	}
	if sum <= 0 {
		return "", fmt.Errorf("stripetest: balance in %s is %d, nothing to pay out", cur, sum)
	}
	if o.Status == "" {
		o.Status = "paid"
	}
	if o.Reconciliation == "" {
		o.Reconciliation = "completed"
	}
	if o.ArrivalDate.IsZero() {
		o.ArrivalDate = s.now.Add(24 * time.Hour)
	}
	po := &payout{ID: s.newID("po"), Object: "payout", Amount: sum + o.SkewAmount, Currency: cur,
		ArrivalDate: o.ArrivalDate.Truncate(24 * time.Hour).Unix(), Created: s.now.Unix(), Automatic: true,
		Status: o.Status, ReconciliationStatus: o.Reconciliation, Method: "standard", Type: "bank_account",
		SourceType: "card", StatementDescriptor: strp(o.StatementDescriptor), Metadata: map[string]string{}}
	po.seq = s.seq
	po.TraceID = traceID{Status: "pending"}
	if o.TraceID != "" {
		po.TraceID = traceID{Status: "supported", Value: strp(o.TraceID)}
	}
	own := s.addBT(-sum, 0, nil, cur, "payout", "payout", po.ID, "STRIPE PAYOUT")
	own.payout = po.ID
	po.BalanceTransaction = &own.ID
	for _, bt := range rows {
		bt.payout = po.ID
		bt.Status = "available"
	}
	s.payouts[po.ID] = po
	s.emitPayout("payout.created", po)
	if po.Status == "paid" {
		s.emitPayout("payout.paid", po)
	}
	if po.ReconciliationStatus == "completed" {
		s.emitPayout("payout.reconciliation_completed", po)
	}
	return po.ID, nil
}

// AddManualPayout seeds a manual payout: Stripe does not track which
// transactions it contains (reconciliation_status not_applicable) and
// refuses to list balance transactions by it.
func (s *Server) AddManualPayout(amount int64, currency string) (string, error) {
	cur := strings.ToLower(currency)
	if _, _, ok := stripeCurrency(cur); !ok || amount <= 0 {
		return "", fmt.Errorf("stripetest: bad manual payout %d %q", amount, currency)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	po := &payout{ID: s.newID("po"), Object: "payout", Amount: amount, Currency: cur,
		ArrivalDate: s.now.Add(24 * time.Hour).Truncate(24 * time.Hour).Unix(), Created: s.now.Unix(),
		Status: "pending", ReconciliationStatus: "not_applicable", Method: "standard", Type: "bank_account",
		SourceType: "card", TraceID: traceID{Status: "pending"}, Metadata: map[string]string{}}
	po.seq = s.seq
	own := s.addBT(-amount, 0, nil, cur, "payout", "payout", po.ID, "STRIPE PAYOUT")
	po.BalanceTransaction = &own.ID
	s.payouts[po.ID] = po
	s.emitPayout("payout.created", po)
	return po.ID, nil
}

// SetPayoutStatus moves a payout to status (pending, in_transit, paid,
// failed, canceled), emitting payout.<status> (payout.paid, …).
func (s *Server) SetPayoutStatus(id, status string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	po, ok := s.payouts[id]
	if !ok {
		return fmt.Errorf("stripetest: no payout %s", id)
	}
	switch status {
	case "pending", "in_transit", "paid", "failed", "canceled":
	default:
		return fmt.Errorf("stripetest: payout status %q", status)
	}
	po.Status = status
	s.emitPayout("payout."+status, po)
	return nil
}

// CompleteReconciliation marks an automatic payout's reconciliation
// completed and emits payout.reconciliation_completed.
func (s *Server) CompleteReconciliation(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	po, ok := s.payouts[id]
	if !ok {
		return fmt.Errorf("stripetest: no payout %s", id)
	}
	if !po.Automatic {
		return fmt.Errorf("stripetest: payout %s is manual", id)
	}
	po.ReconciliationStatus = "completed"
	s.emitPayout("payout.reconciliation_completed", po)
	return nil
}

func (s *Server) emitPayout(typ string, po *payout) {
	c := *po
	s.emit(typ, &c)
}

// PaymentIntent is a snapshot of a PaymentIntent's amounts and status.
type PaymentIntent struct {
	ID               string
	Status           string
	Amount           int64
	AmountCapturable int64
	AmountReceived   int64
	AmountRefunded   int64
	Currency         string
	Metadata         map[string]string
}

// PaymentIntent returns a snapshot of a PaymentIntent.
func (s *Server) PaymentIntent(id string) (PaymentIntent, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	pi, ok := s.intents[id]
	if !ok {
		return PaymentIntent{}, false
	}
	ch := s.charges[pi.LatestCharge.(string)]
	return PaymentIntent{ID: pi.ID, Status: pi.Status, Amount: pi.Amount, AmountCapturable: pi.AmountCapturable,
		AmountReceived: pi.AmountReceived, AmountRefunded: ch.AmountRefunded, Currency: pi.Currency,
		Metadata: cloneMap(pi.Metadata)}, true
}

// BalanceTransactionCount is the number of ledger rows, for tests that
// check a retried write booked nothing twice.
func (s *Server) BalanceTransactionCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.bts)
}
