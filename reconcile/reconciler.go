package reconcile

import (
	"context"
	"fmt"

	"github.com/shopspring/decimal"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/vat"
)

// Granularity says how many vouchers a payout becomes.
type Granularity uint8

// Voucher granularities.
const (
	// PerPayout books one voucher per payout: the bank line as on the bank
	// statement, the receivable cleared per document, fees per account.
	PerPayout Granularity = iota
	// PerTransaction books one voucher per transaction, each with its
	// share of the bank line, plus a voucher for any rounding rest of the
	// payout. The bank lines of a payout's vouchers sum to the payout.
	PerTransaction
)

// Tolerance configures how far matching and booking may reach.
type Tolerance struct {
	// Days is the date window of the amount-and-date fallback: a
	// transaction without a usable key matches a document whose date is at
	// most this many days from the transaction's.
	Days int
	// Amount is the amount window of that fallback, in the document's
	// currency (0: the amount must be exact).
	Amount decimal.Decimal
	// Rounding is the largest difference, strictly below, that is booked on
	// the rounding account: a document settled to within it is closed, and
	// a payout whose transactions miss its amount by less than it is booked
	// with the rest as rounding. Larger differences are reported (and a
	// payout that does not sum is not booked).
	Rounding decimal.Decimal
	// FXPercent is the largest difference, in percent of the document's
	// open amount, that closes a document paid in another currency, booked
	// as an exchange gain or loss.
	FXPercent decimal.Decimal
}

// DefaultTolerance is a 7-day window, exact amounts, öre differences below
// 1.00 (öresavrundning is at most 0.50; the reference suggests |diff| < 1
// kr) and exchange differences up to 5 %.
func DefaultTolerance() Tolerance {
	return Tolerance{Days: 7, Rounding: decimal.NewFromInt(1), FXPercent: decimal.NewFromInt(5)}
}

func (t Tolerance) validate() error {
	switch {
	case t.Days < 0:
		return fmt.Errorf("%w: negative date window", ErrInvalidInput)
	case t.Amount.IsNegative(), t.Rounding.IsNegative(), t.FXPercent.IsNegative():
		return fmt.Errorf("%w: negative tolerance", ErrInvalidInput)
	}
	return nil
}

// Reconciler matches payouts to documents and books them. It is safe for
// concurrent use; each run has its own Batch.
type Reconciler struct {
	plan             AccountPlan
	fees             FeePolicies
	tol              Tolerance
	book             commerce.Currency
	fx               vat.FXRates
	series           string
	granularity      Granularity
	ledger           Ledger
	holdUnmatched    bool
	giftCardProvider string
	giftCardClearing bool
}

// Option configures a Reconciler.
type Option func(*Reconciler)

// WithAccountPlan sets the account plan (default DefaultAccountPlan()).
func WithAccountPlan(p AccountPlan) Option { return func(r *Reconciler) { r.plan = p } }

// WithFeePolicies replaces all fee policies (default DefaultFeePolicies()).
func WithFeePolicies(p FeePolicies) Option { return func(r *Reconciler) { r.fees = p } }

// WithFeePolicy sets the fee policy of one provider.
func WithFeePolicy(provider string, p FeePolicy) Option {
	return func(r *Reconciler) {
		fees := FeePolicies{}
		for k, v := range r.fees {
			fees[k] = v
		}
		fees[provider] = p
		r.fees = fees
	}
}

// WithTolerance sets the matching and rounding tolerances (default
// DefaultTolerance()).
func WithTolerance(t Tolerance) Option { return func(r *Reconciler) { r.tol = t } }

// WithBookCurrency sets the currency of the books (default SEK). Vouchers
// are in it; amounts in other currencies need WithFXRates.
func WithBookCurrency(c commerce.Currency) Option { return func(r *Reconciler) { r.book = c } }

// WithFXRates sets the exchange rates for payouts and documents in another
// currency than the books: units per EUR on a date, as vat.FXRates gives
// them (*vat.ECBRates, or an adapter over the bank's own rates). A payout is
// converted at its arrival date, a receivable at its document's date; the
// difference is an exchange gain or loss.
func WithFXRates(fx vat.FXRates) Option { return func(r *Reconciler) { r.fx = fx } }

// WithSeries sets the voucher series (default empty: the SIE writer's or
// the ERP's default).
func WithSeries(s string) Option { return func(r *Reconciler) { r.series = s } }

// WithGranularity sets one voucher per payout (default) or per
// transaction.
func WithGranularity(g Granularity) Option { return func(r *Reconciler) { r.granularity = g } }

// WithLedger sets where booked state is remembered (default a new
// MemoryLedger).
func WithLedger(l Ledger) Option { return func(r *Reconciler) { r.ledger = l } }

// WithHoldUnmatched leaves a payout unbooked while any of its sales,
// refunds, chargebacks or reversals is unmatched, so that a later run with
// the missing documents books it whole. By default such a payout is booked
// with the unmatched amounts on the suspense account.
func WithHoldUnmatched() Option { return func(r *Reconciler) { r.holdUnmatched = true } }

// WithGiftCardProvider names the PaymentRef.Provider of gift-card payments
// on orders (default "gift_card").
func WithGiftCardProvider(name string) Option {
	return func(r *Reconciler) { r.giftCardProvider = name }
}

// WithGiftCardClearing is for books where the ERP booked the whole invoice
// on the receivable: the payout voucher that settles a document also moves
// its gift-card part from the receivable to the gift-card liability, once.
// By default the gift-card part is booked on the sale (BookSales) and never
// reaches the receivable.
func WithGiftCardClearing() Option { return func(r *Reconciler) { r.giftCardClearing = true } }

// New returns a Reconciler. It checks the account plan (every account it
// posts to must be set), the fee policies against the plan and the
// tolerances.
func New(opts ...Option) (*Reconciler, error) {
	r := &Reconciler{
		plan:             DefaultAccountPlan(),
		fees:             DefaultFeePolicies(),
		tol:              DefaultTolerance(),
		book:             commerce.SEK,
		giftCardProvider: "gift_card",
	}
	for _, o := range opts {
		o(r)
	}
	if r.ledger == nil {
		r.ledger = NewMemoryLedger()
	}
	if err := r.plan.Validate(); err != nil {
		return nil, errorf("new", "", err, "account plan")
	}
	if err := r.fees.validate(&r.plan); err != nil {
		return nil, err
	}
	if err := r.tol.validate(); err != nil {
		return nil, errorf("new", "", err, "tolerance")
	}
	if r.book.IsZero() {
		return nil, errorf("new", "", ErrInvalidInput, "no book currency")
	}
	if r.granularity > PerTransaction {
		return nil, errorf("new", "", ErrInvalidInput, "unknown granularity")
	}
	return r, nil
}

// Input is one run's data: payouts with their transactions, the open
// invoices and credit invoices from the ERP, and the shop orders (for
// provider references, shops and gift cards, and as documents where there
// is no invoice).
type Input struct {
	Payouts  []commerce.Payout
	Invoices []commerce.Invoice
	Orders   []commerce.Order
}

// Run reconciles in: it matches every transaction, books every payout that
// can be booked and reports the rest. Documents the run cannot use are
// listed in Result.Problems, never dropped. Nothing is stored in the ledger
// until Commit.
func (r *Reconciler) Run(ctx context.Context, in Input) (*Result, error) {
	b := r.NewBatch()
	for i := range in.Invoices {
		_ = b.AddInvoice(&in.Invoices[i]) // recorded in Problems
	}
	for i := range in.Orders {
		_ = b.AddOrder(&in.Orders[i]) // recorded in Problems
	}
	for i := range in.Payouts {
		b.AddPayout(&in.Payouts[i])
	}
	return b.Reconcile(ctx)
}

// Commit records in the ledger what res booked, so that the next run does
// not book it again. Call it once the vouchers are stored (handed to the
// ERP or written to an SIE file that was imported); until then a rerun
// produces the same vouchers with the same ids.
func (r *Reconciler) Commit(ctx context.Context, res *Result) error {
	if err := r.ledger.Commit(ctx, res.Entries()); err != nil {
		return errorf("commit", "", err, "")
	}
	return nil
}

// Batch collects one run's documents and payouts. Add everything, then call
// Reconcile once. AddInvoice and AddOrder keep only what matching needs, so
// a large set of open invoices can be streamed from a database without
// holding the invoices themselves.
type Batch struct {
	r        *Reconciler
	docs     docStore
	tab      tables
	orders   []orderInfo
	payouts  []commerce.Payout
	problems []Problem
	done     bool
}

// NewBatch starts a run.
func (r *Reconciler) NewBatch() *Batch {
	b := &Batch{r: r}
	b.tab.shop("") // shop 0 is "no shop"
	return b
}
