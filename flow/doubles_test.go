package flow

// In-package test doubles of the connector capabilities: a small in-memory
// shop, ERP and payment provider, so the engine's logic is tested without
// any system package. They are strict where the engine's guarantees are at
// stake: the ERP counts every create, the provider refuses to capture more
// than was authorized, and every write remembers its idempotency key.

import (
	"context"
	"fmt"
	"iter"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/shopspring/decimal"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/connector"
)

// faults lets a test fail chosen operations: a function per operation name
// that may return an error, and whether the write still happened (a lost
// answer).
type faults struct {
	mu sync.Mutex
	fn map[string][]fault
}

type fault struct {
	err     error
	applied bool // the write happens, then the error is returned
}

func (f *faults) add(op string, n int, err error, applied bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fn == nil {
		f.fn = map[string][]fault{}
	}
	for range n {
		f.fn[op] = append(f.fn[op], fault{err: err, applied: applied})
	}
}

// take returns the next fault for op, if any.
func (f *faults) take(op string) (fault, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	q := f.fn[op]
	if len(q) == 0 {
		return fault{}, false
	}
	f.fn[op] = q[1:]
	return q[0], true
}

func temporary(system, op string) error {
	return &connector.Error{System: system, Op: op, Kind: connector.KindTemporary, Status: 503, Message: "try again"}
}

func lostAnswer(system, op string) error {
	return &connector.Error{System: system, Op: op, Kind: connector.KindTemporary, MaybeApplied: true, Message: "connection reset"}
}

// memFeed is a feed over an append-only log; the cursor is the position
// of the last item read. queue feeds only move on Commit (like Specter's
// batches); watermark feeds treat Commit as a no-op (like Shopify's
// updated_at).
type memFeed[T any] struct {
	mu       sync.Mutex
	items    []T
	page     int
	queue    bool
	acked    int
	failNext error
	nexts    int // Next calls so far
	failOn   int // the Next call (1-based) that fails with a temporary error
	// unreadable, when set, picks the items the connector cannot map:
	// they come as the batch's problems.
	unreadable func(T) (commerce.Ref, error)
}

func (f *memFeed[T]) add(items ...T) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.items = append(f.items, items...)
}

func (f *memFeed[T]) Next(_ context.Context, after connector.Cursor) (connector.Batch[T], error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nexts++
	if err := f.failNext; err != nil {
		f.failNext = nil
		return connector.Batch[T]{}, err
	}
	if f.nexts == f.failOn {
		return connector.Batch[T]{}, temporary("mem", "Next")
	}
	pos := 0
	if after != "" {
		n, err := strconv.Atoi(string(after))
		if err != nil {
			return connector.Batch[T]{}, fmt.Errorf("bad cursor %q", after)
		}
		pos = n
	}
	if f.queue {
		pos = f.acked
	}
	page := f.page
	if page == 0 {
		page = 3
	}
	end := min(pos+page, len(f.items))
	b := connector.Batch[T]{Cursor: connector.Cursor(strconv.Itoa(end)), More: end < len(f.items)}
	for _, it := range f.items[pos:end] {
		if f.unreadable != nil {
			if ref, err := f.unreadable(it); err != nil {
				b.Problems = append(b.Problems, connector.ItemProblem{Entity: "item", Ref: ref, Err: err})
				continue
			}
		}
		b.Items = append(b.Items, it)
	}
	return b, nil
}

func (f *memFeed[T]) Commit(_ context.Context, c connector.Cursor) error {
	if !f.queue {
		return nil
	}
	n, err := strconv.Atoi(string(c))
	if err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.acked = max(f.acked, n)
	return nil
}

// ---- shop ----

type memShop struct {
	account string
	faults  faults

	mu           sync.Mutex
	orders       memFeed[commerce.Order]
	returns      memFeed[commerce.Return]
	refunds      memFeed[commerce.Refund]
	products     memFeed[commerce.Product]
	catalog      map[string]commerce.Product // by SKU of the single variant or the product's first
	fulfillments []commerce.Fulfillment
	fulfillKeys  map[string]string
	paid         []string
	cancelled    []string
	prices       map[string]commerce.FixedPrice
	priceWrites  int
	stock        map[string]int // sku@location
	stockWrites  int
	productPuts  int
	lists        map[string]commerce.PriceList // by name@currency
	listWrites   int
}

func newMemShop(account string) *memShop {
	return &memShop{account: account, catalog: map[string]commerce.Product{}, fulfillKeys: map[string]string{},
		prices: map[string]commerce.FixedPrice{}, stock: map[string]int{}, lists: map[string]commerce.PriceList{}}
}

func (s *memShop) System() string                             { return "memshop" }
func (s *memShop) Account() string                            { return s.account }
func (s *memShop) Orders() connector.Feed[commerce.Order]     { return &s.orders }
func (s *memShop) Returns() connector.Feed[commerce.Return]   { return &s.returns }
func (s *memShop) Refunds() connector.Feed[commerce.Refund]   { return &s.refunds }
func (s *memShop) Products() connector.Feed[commerce.Product] { return &s.products }
func (s *memShop) fail(op string) (fault, bool)               { return s.faults.take(op) }
func (s *memShop) err(op string, err error) *connector.Error {
	return connector.Wrap("memshop", op, err).(*connector.Error)
}
func (s *memShop) notFound(op, what string) error {
	return s.err(op, fmt.Errorf("%s: %w", what, connector.ErrNotFound))
}
func (s *memShop) lock() func()                       { s.mu.Lock(); return s.mu.Unlock }
func (s *memShop) addOrders(os ...commerce.Order)     { s.orders.add(os...) }
func (s *memShop) addProducts(ps ...commerce.Product) { s.products.add(ps...) }
func (s *memShop) fulfilled() []commerce.Fulfillment {
	defer s.lock()()
	return slices.Clone(s.fulfillments)
}
func (s *memShop) paidOrders() []string      { defer s.lock()(); return slices.Clone(s.paid) }
func (s *memShop) cancelledOrders() []string { defer s.lock()(); return slices.Clone(s.cancelled) }
func (s *memShop) price(sku string) (commerce.FixedPrice, bool) {
	defer s.lock()()
	p, ok := s.prices[sku]
	return p, ok
}
func (s *memShop) stockOf(sku, loc string) (int, bool) {
	defer s.lock()()
	n, ok := s.stock[sku+"@"+loc]
	return n, ok
}
func (s *memShop) product(sku string) (commerce.Product, bool) {
	defer s.lock()()
	p, ok := s.catalog[sku]
	return p, ok
}
func (s *memShop) writes() (products, prices, stock int) {
	defer s.lock()()
	return s.productPuts, s.priceWrites, s.stockWrites
}

func (s *memShop) ProductBySKU(_ context.Context, sku string) (commerce.Product, error) {
	defer s.lock()()
	p, ok := s.catalog[sku]
	if !ok {
		return commerce.Product{}, s.notFound("ProductBySKU", sku)
	}
	return p, nil
}

func (s *memShop) UpsertProducts(_ context.Context, ps []commerce.Product, _ ...connector.CallOption) ([]connector.UpsertResult, error) {
	if f, ok := s.fail("UpsertProducts"); ok && !f.applied {
		return nil, f.err
	}
	defer s.lock()()
	var out []connector.UpsertResult
	for _, p := range ps {
		if err := p.Validate(); err != nil {
			return nil, s.err("UpsertProducts", fmt.Errorf("%w: %w", connector.ErrValidation, err))
		}
	}
	for _, p := range ps {
		s.productPuts++
		for _, v := range p.Variants {
			_, existed := s.catalog[v.SKU]
			s.catalog[v.SKU] = p
			out = append(out, connector.UpsertResult{Key: v.SKU, Ref: commerce.Ref{System: "memshop", Account: s.account, ID: "p-" + v.SKU}, Created: !existed})
		}
	}
	return out, nil
}

func (s *memShop) SetPrices(_ context.Context, ps []commerce.FixedPrice, _ ...connector.CallOption) error {
	if f, ok := s.fail("SetPrices"); ok && !f.applied {
		return f.err
	}
	defer s.lock()()
	for _, p := range ps {
		s.prices[p.SKU] = p
		s.priceWrites++
	}
	return nil
}

func (s *memShop) SetPriceList(_ context.Context, l commerce.PriceList, _ ...connector.CallOption) error {
	if f, ok := s.fail("SetPriceList"); ok && !f.applied {
		return f.err
	}
	defer s.lock()()
	s.lists[l.Name+"@"+l.Currency.Code()] = l
	s.listWrites++
	return nil
}

func (s *memShop) priceList(key string) (commerce.PriceList, int, bool) {
	defer s.lock()()
	l, ok := s.lists[key]
	return l, s.listWrites, ok
}

func (s *memShop) SetStock(_ context.Context, cs []connector.StockChange, _ ...connector.CallOption) error {
	if f, ok := s.fail("SetStock"); ok && !f.applied {
		return f.err
	}
	defer s.lock()()
	for _, c := range cs {
		s.stock[c.Level.SKU+"@"+c.Level.Location] = c.Level.Available
		s.stockWrites++
	}
	return nil
}

func (s *memShop) Fulfill(_ context.Context, f commerce.Fulfillment, opts ...connector.CallOption) (commerce.Ref, error) {
	o := connector.ApplyCallOptions(opts)
	fl, failed := s.fail("Fulfill")
	if failed && !fl.applied {
		return commerce.Ref{}, fl.err
	}
	if err := f.Validate(); err != nil {
		return commerce.Ref{}, s.err("Fulfill", fmt.Errorf("%w: %w", connector.ErrValidation, err))
	}
	s.mu.Lock()
	id, seen := s.fulfillKeys[o.IdempotencyKey]
	if !seen || o.IdempotencyKey == "" {
		id = fmt.Sprintf("f-%d", len(s.fulfillments)+1)
		s.fulfillments = append(s.fulfillments, f)
		s.fulfillKeys[o.IdempotencyKey] = id
	}
	s.mu.Unlock()
	if failed {
		return commerce.Ref{}, fl.err
	}
	return commerce.Ref{System: "memshop", Account: s.account, ID: id}, nil
}

func (s *memShop) MarkPaid(_ context.Context, number string, _ ...connector.CallOption) error {
	defer s.lock()()
	if !slices.Contains(s.paid, number) {
		s.paid = append(s.paid, number)
	}
	return nil
}

func (s *memShop) CancelOrder(_ context.Context, number, _ string, _ ...connector.CallOption) error {
	defer s.lock()()
	if !slices.Contains(s.cancelled, number) {
		s.cancelled = append(s.cancelled, number)
	}
	return nil
}

// ---- ERP ----

type memERP struct {
	faults faults

	mu          sync.Mutex
	orders      map[string]commerce.Order // by order number
	orderKeys   map[string][]string       // idempotency keys seen per order number
	creates     int                       // successful creating calls
	calls       int                       // CreateOrder calls
	invoices    map[string]commerce.Order
	customers   map[string]commerce.Customer
	articles    map[string]commerce.Product
	articlePuts int
	credits     map[string]connector.CreditRequest // by return or refund id
	events      memFeed[commerce.OrderEvent]
	products    memFeed[commerce.Product]
	stock       memFeed[commerce.StockLevel]
	lists       memFeed[commerce.PriceList]
	afterCreate func()          // called once a create is applied
	refuse      map[string]bool // SKUs UpsertProducts refuses as invalid
	echo        bool            // UpsertProducts appends to the product feed, like a real ERP's change queue
}

func newMemERP() *memERP {
	e := &memERP{orders: map[string]commerce.Order{}, orderKeys: map[string][]string{}, invoices: map[string]commerce.Order{},
		customers: map[string]commerce.Customer{}, articles: map[string]commerce.Product{}, credits: map[string]connector.CreditRequest{}}
	e.events.queue, e.products.queue, e.stock.queue, e.lists.queue = true, true, true, true
	return e
}

func (e *memERP) System() string                                   { return "memerp" }
func (e *memERP) Account() string                                  { return "acme" }
func (e *memERP) OrderEvents() connector.Feed[commerce.OrderEvent] { return &e.events }
func (e *memERP) Products() connector.Feed[commerce.Product]       { return &e.products }
func (e *memERP) Stock() connector.Feed[commerce.StockLevel]       { return &e.stock }
func (e *memERP) PriceLists() connector.Feed[commerce.PriceList]   { return &e.lists }
func (e *memERP) lock() func()                                     { e.mu.Lock(); return e.mu.Unlock }
func (e *memERP) order(n string) (commerce.Order, bool) {
	defer e.lock()()
	o, ok := e.orders[n]
	return o, ok
}
func (e *memERP) counts() (creates, calls int) { defer e.lock()(); return e.creates, e.calls }
func (e *memERP) article(sku string) (commerce.Product, bool) {
	defer e.lock()()
	p, ok := e.articles[sku]
	return p, ok
}
func (e *memERP) credit(id string) (connector.CreditRequest, bool) {
	defer e.lock()()
	c, ok := e.credits[id]
	return c, ok
}

func (e *memERP) addArticle(sku string, net string, rate int64) {
	defer e.lock()()
	r := decimal.NewFromInt(rate)
	e.articles[sku] = commerce.Product{Title: sku, Variants: []commerce.Variant{{SKU: sku, Price: mustMoney(net, "SEK"), VATRatePercent: &r, Active: true}}}
}

func (e *memERP) CreateOrder(_ context.Context, o commerce.Order, opts ...connector.CallOption) (connector.UpsertResult, error) {
	return e.create("CreateOrder", e.orders, o, opts)
}

func (e *memERP) CreateInvoice(_ context.Context, o commerce.Order, opts ...connector.CallOption) (connector.UpsertResult, error) {
	return e.create("CreateInvoice", e.invoices, o, opts)
}

func (e *memERP) create(op string, into map[string]commerce.Order, o commerce.Order, opts []connector.CallOption) (connector.UpsertResult, error) {
	f, failed := e.faults.take(op)
	if failed && !f.applied {
		return connector.UpsertResult{}, f.err
	}
	if err := o.Validate(); err != nil {
		return connector.UpsertResult{}, connector.Wrap("memerp", op, fmt.Errorf("%w: %w", connector.ErrValidation, err))
	}
	e.mu.Lock()
	e.calls++
	e.orderKeys[o.Number] = append(e.orderKeys[o.Number], connector.ApplyCallOptions(opts).IdempotencyKey)
	_, existed := into[o.Number]
	if !existed {
		into[o.Number] = o
		e.creates++
	}
	after := e.afterCreate
	e.mu.Unlock()
	if after != nil {
		after()
	}
	if failed {
		return connector.UpsertResult{}, f.err
	}
	return connector.UpsertResult{Key: o.Number, Ref: commerce.Ref{System: "memerp", Account: "acme", ID: "E" + o.Number}, Created: !existed}, nil
}

func (e *memERP) UpsertCustomer(_ context.Context, c commerce.Customer, _ ...connector.CallOption) (connector.UpsertResult, error) {
	defer e.lock()()
	_, existed := e.customers[c.Email]
	e.customers[c.Email] = c
	return connector.UpsertResult{Key: c.Email, Ref: commerce.Ref{System: "memerp", ID: "C-" + c.Email}, Created: !existed}, nil
}

func (e *memERP) ProductBySKU(_ context.Context, sku string) (commerce.Product, error) {
	defer e.lock()()
	p, ok := e.articles[sku]
	if !ok {
		return commerce.Product{}, connector.Wrap("memerp", "ProductBySKU", fmt.Errorf("article %s: %w", sku, connector.ErrNotFound))
	}
	return p, nil
}

func (e *memERP) UpsertProducts(_ context.Context, ps []commerce.Product, _ ...connector.CallOption) ([]connector.UpsertResult, error) {
	if f, ok := e.faults.take("UpsertProducts"); ok && !f.applied {
		return nil, f.err
	}
	e.mu.Lock()
	var out []connector.UpsertResult
	var echoes []commerce.Product
	for _, p := range ps {
		for _, v := range p.Variants {
			if e.refuse[v.SKU] {
				e.mu.Unlock()
				return nil, connector.NewError("memerp", "UpsertProducts", connector.KindValidation, "article %s: refused", v.SKU)
			}
			if v.PricesIncludeTax {
				e.mu.Unlock()
				return nil, connector.NewError("memerp", "UpsertProducts", connector.KindValidation, "article %s: prices must exclude VAT", v.SKU)
			}
		}
	}
	for _, p := range ps {
		e.articlePuts++
		for _, v := range p.Variants {
			one := p
			one.Variants = []commerce.Variant{v}
			_, existed := e.articles[v.SKU]
			e.articles[v.SKU] = one
			echoes = append(echoes, one)
			out = append(out, connector.UpsertResult{Key: v.SKU, Ref: commerce.Ref{System: "memerp", Account: "acme", ID: "A-" + v.SKU}, Created: !existed})
		}
	}
	echo := e.echo
	e.mu.Unlock()
	if echo {
		e.products.add(echoes...)
	}
	return out, nil
}

func (e *memERP) CreateCreditInvoice(_ context.Context, r connector.CreditRequest, _ ...connector.CallOption) (connector.UpsertResult, error) {
	if f, ok := e.faults.take("CreateCreditInvoice"); ok && !f.applied {
		return connector.UpsertResult{}, f.err
	}
	id := ""
	switch {
	case r.Return != nil:
		id = r.Return.ID
	case r.Refund != nil:
		id = r.Refund.ID
	}
	defer e.lock()()
	_, existed := e.credits[id]
	e.credits[id] = r
	return connector.UpsertResult{Key: id, Ref: commerce.Ref{System: "memerp", Account: "acme", ID: "K-" + id}, Created: !existed}, nil
}

// ---- payment provider ----

type memPSP struct {
	name   string
	faults faults
	// perCapture makes refunds draw on one capture each, as PayPal's do:
	// a refund names its capture, stays within that capture's remainder
	// and carries a reference no other refund used.
	perCapture bool

	mu         sync.Mutex
	authorized map[string]commerce.Money
	captured   map[string]commerce.Money
	captures   map[string]commerce.Capture // by idempotency key
	refunded   map[string]commerce.Money
	refunds    map[string]commerce.Refund // by idempotency key
	released   map[string]int
	payouts    []commerce.Payout
}

func newMemPSP(name string) *memPSP {
	return &memPSP{name: name, authorized: map[string]commerce.Money{}, captured: map[string]commerce.Money{},
		captures: map[string]commerce.Capture{}, refunded: map[string]commerce.Money{}, refunds: map[string]commerce.Refund{}, released: map[string]int{}}
}

func (p *memPSP) System() string  { return p.name }
func (p *memPSP) Account() string { return "m1" }
func (p *memPSP) lock() func()    { p.mu.Lock(); return p.mu.Unlock }

func (p *memPSP) authorize(ref string, m commerce.Money) {
	defer p.lock()()
	p.authorized[ref] = m
	p.captured[ref] = commerce.Zero(m.Currency)
	p.refunded[ref] = commerce.Zero(m.Currency)
}

func (p *memPSP) state(ref string) (captured, refunded commerce.Money, captures, refunds, releases int) {
	defer p.lock()()
	for _, c := range p.captures {
		if c.PaymentReference == ref {
			captures++
		}
	}
	for _, r := range p.refunds {
		if r.PaymentReference == ref {
			refunds++
		}
	}
	return p.captured[ref], p.refunded[ref], captures, refunds, p.released[ref]
}

func (p *memPSP) Capture(_ context.Context, r connector.CaptureRequest, opts ...connector.CallOption) (commerce.Capture, error) {
	key := connector.ApplyCallOptions(opts).IdempotencyKey
	f, failed := p.faults.take("Capture")
	if failed && !f.applied {
		return commerce.Capture{}, f.err
	}
	p.mu.Lock()
	c, replay := p.captures[key]
	if !replay {
		auth, ok := p.authorized[r.PaymentReference]
		if !ok {
			p.mu.Unlock()
			return commerce.Capture{}, connector.NewError(p.name, "Capture", connector.KindNotFound, "payment %s", r.PaymentReference)
		}
		total, _ := p.captured[r.PaymentReference].Add(r.Amount)
		if cmp, _ := total.Cmp(auth); cmp > 0 {
			p.mu.Unlock()
			return commerce.Capture{}, connector.NewError(p.name, "Capture", connector.KindConflict, "capture of %s exceeds the authorization", r.Amount)
		}
		p.captured[r.PaymentReference] = total
		c = commerce.Capture{ID: fmt.Sprintf("cap-%d", len(p.captures)+1), Provider: p.name, PaymentReference: r.PaymentReference, Amount: r.Amount, IdempotencyKey: key}
		p.captures[key] = c
	}
	p.mu.Unlock()
	if failed {
		return commerce.Capture{}, f.err
	}
	return c, nil
}

func (p *memPSP) RefundsPerCapture() bool { return p.perCapture }

func (p *memPSP) Refund(_ context.Context, r connector.RefundRequest, opts ...connector.CallOption) (commerce.Refund, error) {
	key := connector.ApplyCallOptions(opts).IdempotencyKey
	defer p.lock()()
	if rf, ok := p.refunds[key]; ok {
		return rf, nil
	}
	if p.perCapture {
		if err := p.checkCaptureRefund(r); err != nil {
			return commerce.Refund{}, err
		}
	}
	total, _ := p.refunded[r.PaymentReference].Add(r.Amount)
	if cmp, _ := total.Cmp(p.captured[r.PaymentReference]); cmp > 0 {
		return commerce.Refund{}, connector.NewError(p.name, "Refund", connector.KindConflict, "refund exceeds the captured amount")
	}
	p.refunded[r.PaymentReference] = total
	rf := commerce.Refund{ID: fmt.Sprintf("re-%d", len(p.refunds)+1), OrderNumber: r.OrderNumber, PaymentReference: r.PaymentReference,
		CaptureID: r.CaptureID, Amount: r.Amount, Lines: r.Lines, Note: r.Reference}
	p.refunds[key] = rf
	return rf, nil
}

// checkCaptureRefund refuses what PayPal refuses: a refund beyond its
// capture's remainder, or a reference an earlier refund used.
func (p *memPSP) checkCaptureRefund(r connector.RefundRequest) error {
	var capture *commerce.Capture
	for _, c := range p.captures {
		if c.ID == r.CaptureID {
			capture = &c
		}
	}
	if capture == nil {
		return connector.NewError(p.name, "Refund", connector.KindNotFound, "capture %q", r.CaptureID)
	}
	left := capture.Amount
	for _, rf := range p.refunds {
		if r.Reference != "" && rf.Note == r.Reference {
			return connector.NewError(p.name, "Refund", connector.KindConflict, "reference %s was used by refund %s", r.Reference, rf.ID)
		}
		if rf.CaptureID == r.CaptureID {
			left, _ = left.Sub(rf.Amount)
		}
	}
	if c, _ := r.Amount.Cmp(left); c > 0 {
		return connector.NewError(p.name, "Refund", connector.KindValidation, "refund of %s exceeds the %s left of capture %s", r.Amount, left, r.CaptureID)
	}
	return nil
}

// refundsOf lists the refunds of a payment by capture and amount, in the
// order they were made.
func (p *memPSP) refundsOf(ref string) []string {
	defer p.lock()()
	var out []string
	for _, rf := range p.refunds {
		if rf.PaymentReference == ref {
			out = append(out, rf.ID+" "+rf.CaptureID+" "+rf.Amount.Amount.StringFixed(2)+" "+rf.Note)
		}
	}
	slices.Sort(out)
	return out
}

func (p *memPSP) ReleaseRemaining(_ context.Context, ref string, _ ...connector.CallOption) error {
	defer p.lock()()
	p.released[ref]++
	return nil
}

func (p *memPSP) Payouts(_ context.Context, from, to time.Time) iter.Seq2[commerce.Payout, error] {
	return func(yield func(commerce.Payout, error) bool) {
		p.mu.Lock()
		ps := slices.Clone(p.payouts)
		p.mu.Unlock()
		for _, po := range ps {
			if po.CreatedAt.Before(from) || po.CreatedAt.After(to) {
				continue
			}
			if !yield(po, nil) {
				return
			}
		}
	}
}

func (p *memPSP) PayoutTransactions(_ context.Context, id string) iter.Seq2[commerce.Transaction, error] {
	return func(yield func(commerce.Transaction, error) bool) {
		p.mu.Lock()
		ps := slices.Clone(p.payouts)
		p.mu.Unlock()
		for _, po := range ps {
			if po.ID != id {
				continue
			}
			for _, tx := range po.Transactions {
				if !yield(tx, nil) {
					return
				}
			}
		}
	}
}

// ---- builders ----

func mustMoney(amount, cur string) commerce.Money {
	m, err := commerce.ParseMoney(amount, cur)
	if err != nil {
		panic(err)
	}
	return m
}

func sek(amount string) commerce.Money { return mustMoney(amount, "SEK") }

var twentyFive = decimal.NewFromInt(25)

// grossLine is a line priced including 25 % VAT, its tax line computed
// the way shops do (per line, on the line's total).
func grossLine(id, sku string, qty int, unit string, discount string) commerce.Line {
	l := commerce.Line{ID: id, SKU: sku, Title: "Item " + sku, Quantity: qty, UnitPrice: sek(unit)}
	if discount != "" {
		l.Discounts = []commerce.DiscountAllocation{{Amount: sek(discount), Code: "SALE"}}
	}
	total, _ := l.LineTotal()
	vat := commerce.NewMoney(total.Amount.Mul(twentyFive).DivRound(decimal.NewFromInt(125), 2), total.Currency)
	l.TaxLines = []commerce.TaxLine{{Title: "Moms", RatePercent: twentyFive, Amount: vat}}
	return l
}

// newOrder is a paid SEK order including VAT with the lines, 49 SEK
// shipping and a provider payment of the whole total.
func newOrder(number string, status commerce.FinancialStatus, lines ...commerce.Line) commerce.Order {
	o := commerce.Order{
		Origin:   commerce.Origin{Source: commerce.Ref{System: "memshop", ID: "gid-" + number}},
		Number:   number,
		Currency: commerce.SEK, PricesIncludeTax: true,
		Customer:        commerce.Customer{Email: "kund" + number + "@example.se", FirstName: "Kim", LastName: "Lund"},
		BillingAddress:  &commerce.Address{Country: "SE", City: "Umeå", Line1: "Storgatan 1", PostalCode: "90326"},
		Lines:           lines,
		ShippingLines:   []commerce.ShippingLine{{Title: "PostNord", Price: sek("49.00"), TaxLines: []commerce.TaxLine{{RatePercent: twentyFive, Amount: sek("9.80")}}}},
		FinancialStatus: status,
		State:           commerce.OrderOpen,
	}
	t, err := o.ComputeTotals()
	if err != nil {
		panic(err)
	}
	o.Totals = t
	o.Payments = []commerce.PaymentRef{{Provider: "mempsp", Gateway: "Mem Checkout", Reference: "pay-" + number, Amount: t.Total, Kind: "authorization"}}
	return o
}
