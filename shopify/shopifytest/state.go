package shopifytest

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// idBase makes every id the fake assigns exceed 2^53, like real Shopify
// ids do, so a client that decodes ids through float64 fails its tests.
const idBase = int64(1) << 53

// gid renders a Shopify global id.
func gid(typ string, id int64) string {
	return "gid://shopify/" + typ + "/" + strconv.FormatInt(id, 10)
}

// parseGID splits "gid://shopify/Type/123" (a query string is ignored).
func parseGID(s string) (typ string, id int64, ok bool) {
	rest, found := strings.CutPrefix(s, "gid://shopify/")
	if !found {
		return "", 0, false
	}
	if i := strings.IndexByte(rest, '?'); i >= 0 {
		rest = rest[:i]
	}
	typ, num, found := strings.Cut(rest, "/")
	if !found {
		return "", 0, false
	}
	id, err := strconv.ParseInt(num, 10, 64)
	if err != nil || id <= 0 {
		return "", 0, false
	}
	return typ, id, true
}

// idOf returns the numeric id of a GID of the wanted type, or 0.
func idOf(s any, typ string) int64 {
	str, _ := s.(string)
	t, id, ok := parseGID(str)
	if !ok || t != typ {
		return 0
	}
	return id
}

// ts formats a time as Shopify's DateTime (UTC, seconds).
func ts(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// sortTime is a fixed-width, lexically ordered form of t for cursor keys.
func sortTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000000Z") }

func sortID(id int64) string { return fmt.Sprintf("%020d", id) }

// state is everything the fake shop holds. All access goes through the
// server's mutex.
type state struct {
	nextID int64

	products  map[int64]*product
	variants  map[int64]*variant
	items     map[int64]*variant // inventory item id → variant
	locations map[int64]*location
	levels    map[[2]int64]*level // (item, location)
	byItem    map[int64][]*level
	// indexes for lookups that must not scan the shop
	byHandle    map[string]*product
	byMeta      map[string]*product   // namespace, key, value → product
	bySKU       map[string][]*variant // skuKey(sku) → variants, for SKU search and duplicate counts
	byLoc       map[int64][]*level
	priceLists  map[int64]*priceList
	orders      map[int64]*order
	lineItems   map[int64]*lineItem
	fulfOrders  map[int64]*fulfillmentOrder
	fulfLines   map[int64]*foLine
	fulfs       map[int64]*fulfillment
	txs         map[int64]*transaction
	refunds     map[int64]*refund
	returns     map[int64]*ret
	payouts     map[int64]*payout
	balanceTxs  map[int64]*balanceTx
	bulkOps     map[int64]*bulkOp
	adjGroups   map[int64]object
	productOps  map[int64]int64 // ProductSetOperation id → product id
	jobs        map[int64]*job
	webhookSubs map[int64]*webhookSub

	// idempotency: key → recorded outcome of an @idempotent mutation.
	idem map[string]*idemRecord

	shopCurrency string
	orderNumber  int

	// visited counts the records searches and duplicate-SKU counts looked
	// at, so tests can check that indexed lookups do not scan the shop.
	visited int
}

func newState(currency string) *state {
	return &state{
		nextID:       idBase + 1000,
		products:     map[int64]*product{},
		variants:     map[int64]*variant{},
		items:        map[int64]*variant{},
		locations:    map[int64]*location{},
		levels:       map[[2]int64]*level{},
		byItem:       map[int64][]*level{},
		byHandle:     map[string]*product{},
		byMeta:       map[string]*product{},
		bySKU:        map[string][]*variant{},
		byLoc:        map[int64][]*level{},
		priceLists:   map[int64]*priceList{},
		orders:       map[int64]*order{},
		lineItems:    map[int64]*lineItem{},
		fulfOrders:   map[int64]*fulfillmentOrder{},
		fulfLines:    map[int64]*foLine{},
		fulfs:        map[int64]*fulfillment{},
		txs:          map[int64]*transaction{},
		refunds:      map[int64]*refund{},
		returns:      map[int64]*ret{},
		payouts:      map[int64]*payout{},
		balanceTxs:   map[int64]*balanceTx{},
		bulkOps:      map[int64]*bulkOp{},
		adjGroups:    map[int64]object{},
		productOps:   map[int64]int64{},
		jobs:         map[int64]*job{},
		webhookSubs:  map[int64]*webhookSub{},
		idem:         map[string]*idemRecord{},
		shopCurrency: currency,
		orderNumber:  1000,
	}
}

func (s *state) id() int64 {
	s.nextID++
	return s.nextID
}

type product struct {
	id              int64
	title, handle   string
	vendor, ptype   string
	descriptionHTML string
	status          string
	tags            []string
	options         []ProductOption
	variants        []*variant
	metafields      []Metafield
	createdAt       time.Time
	updatedAt       time.Time
}

type variant struct {
	id, itemID       int64
	product          *product
	sku, barcode     string
	title            string
	price            decimal.Decimal
	compareAt        *decimal.Decimal
	cost             *decimal.Decimal
	taxable          bool
	policy           string
	options          []SelectedOption
	tracked          bool
	requiresShipping bool
	position         int
	createdAt        time.Time
	updatedAt        time.Time
}

type location struct {
	id                   int64
	name                 string
	active               bool
	fulfillsOnlineOrders bool
	address              Address
	createdAt            time.Time
}

// level is an inventory level: named quantities of one item at one location.
type level struct {
	id         int64
	itemID     int64
	locationID int64
	quantities map[string]int
	updatedAt  time.Time
	createdAt  time.Time
}

// inventoryNames are the quantity names Shopify tracks; available and
// on_hand are the ones inventorySetQuantities may set.
var inventoryNames = []string{"available", "on_hand", "committed", "incoming", "reserved", "damaged", "safety_stock", "quality_control"}

type priceList struct {
	id       int64
	name     string
	currency string
	prices   map[int64]fixedPrice // variant id → price
}

type fixedPrice struct {
	price     decimal.Decimal
	compareAt *decimal.Decimal
}

type order struct {
	id                 int64
	name               string
	number             int
	email, phone, note string
	currency           string
	presentment        string
	rate               decimal.Decimal // presentment → shop money
	taxesIncluded      bool
	customer           *Customer
	customerID         int64
	billing, shipping  *Address
	lines              []*lineItem
	shippingLines      []*shippingLine
	txs                []*transaction
	refunds            []*refund
	returns            []*ret
	fulfillmentOrders  []*fulfillmentOrder
	fulfillments       []*fulfillment
	tags               []string
	test               bool
	createdAt          time.Time
	updatedAt          time.Time
	processedAt        time.Time
	cancelledAt        *time.Time
	cancelReason       string
	closedAt           *time.Time
	discountCodes      []string
	customAttributes   []Attribute
	sourceName         string
}

type lineItem struct {
	id               int64
	order            *order
	sku, title       string
	variantTitle     string
	vendor           string
	variantID        int64
	quantity         int
	refundedQuantity int
	unitPrice        decimal.Decimal // presentment
	taxable          bool
	requiresShipping bool
	taxLines         []TaxLine
	discounts        []Discount
}

type shippingLine struct {
	id        int64
	title     string
	code      string
	source    string
	price     decimal.Decimal
	taxLines  []TaxLine
	discounts []Discount
}

type transaction struct {
	id                 int64
	order              *order
	kind               string
	status             string
	gateway            string
	amount             decimal.Decimal // presentment
	parent             *transaction
	createdAt          time.Time
	processedAt        time.Time
	paymentID          string
	authorizationCode  string
	errorCode          string
	test               bool
	authorizationUntil *time.Time
	multiCapturable    bool
}

type fulfillmentOrder struct {
	id         int64
	order      *order
	locationID int64
	status     string
	lines      []*foLine
	createdAt  time.Time
	updatedAt  time.Time
}

type foLine struct {
	id        int64
	fo        *fulfillmentOrder
	line      *lineItem
	total     int
	remaining int
}

type fulfillment struct {
	id             int64
	order          *order
	name           string
	status         string
	locationID     int64
	tracking       []Tracking
	notifyCustomer bool
	lines          []fulfillmentLine
	createdAt      time.Time
	updatedAt      time.Time
}

type fulfillmentLine struct {
	id       int64
	line     *lineItem
	quantity int
}

type refund struct {
	id            int64
	order         *order
	note          string
	lines         []refundLine
	shipping      []refundShipping
	txs           []*transaction
	ret           *ret
	createdAt     time.Time
	processedAt   time.Time
	updatedAt     time.Time
	totalRefunded decimal.Decimal
}

type refundLine struct {
	id          int64
	line        *lineItem
	quantity    int
	restockType string
	locationID  int64
	subtotal    decimal.Decimal
	tax         decimal.Decimal
}

type refundShipping struct {
	id       int64
	line     *shippingLine
	subtotal decimal.Decimal
	tax      decimal.Decimal
}

type ret struct {
	id                         int64
	order                      *order
	name                       string
	status                     string
	lines                      []returnLine
	createdAt                  time.Time
	closedAt                   *time.Time
	declineReason, declineNote string
}

type returnLine struct {
	id         int64
	line       *lineItem
	fulfLineID int64
	quantity   int
	refunded   int
	reason     string
	reasonNote string
}

type payout struct {
	id              int64
	status          string
	issuedAt        time.Time
	net             decimal.Decimal
	currency        string
	transactionType string
	externalTraceID string
	summary         PayoutSummary
}

type balanceTx struct {
	id               int64
	typ              string
	test             bool
	amount, fee, net decimal.Decimal
	currency         string
	date             time.Time
	sourceID         int64
	sourceType       string
	sourceOrderTxID  int64
	orderID          int64
	orderName        string
	payoutID         int64
	payoutStatus     string
	adjustmentReason string
}

type job struct {
	id      int64
	done    bool
	orderID int64
	status  string
}

type webhookSub struct {
	id        int64
	topic     string // REST form, e.g. orders/create
	uri       string
	createdAt time.Time
}

// idemRecord is the remembered result of an @idempotent mutation.
type idemRecord struct {
	field       string
	fingerprint string
	result      any
}

// sortedKeys returns the keys of m in ascending order.
func sortedKeys[V any](m map[int64]V) []int64 {
	ks := make([]int64, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Slice(ks, func(i, j int) bool { return ks[i] < ks[j] })
	return ks
}

func metaKey(ns, key, value string) string { return ns + "\x00" + key + "\x00" + value }

// setHandle changes a product's handle, keeping the index.
func (st *state) setHandle(p *product, h string) {
	if st.byHandle[p.handle] == p {
		delete(st.byHandle, p.handle)
	}
	p.handle = h
	st.byHandle[h] = p
}

// setMetafield adds or replaces a product metafield, keeping the index.
func (st *state) setMetafield(p *product, mf Metafield) {
	for i, m := range p.metafields {
		if m.Namespace == mf.Namespace && m.Key == mf.Key {
			delete(st.byMeta, metaKey(m.Namespace, m.Key, m.Value))
			p.metafields[i] = mf
			st.byMeta[metaKey(mf.Namespace, mf.Key, mf.Value)] = p
			return
		}
	}
	p.metafields = append(p.metafields, mf)
	st.byMeta[metaKey(mf.Namespace, mf.Key, mf.Value)] = p
}

// skuKey is the key of a SKU in the index: search compares SKUs without
// regard to case, so the index groups them the same way.
func skuKey(sku string) string { return strings.ToLower(sku) }

// setSKU changes a variant's SKU, keeping the index.
func (st *state) setSKU(v *variant, sku string) {
	st.unindexSKU(v)
	v.sku = sku
	if sku != "" {
		k := skuKey(sku)
		st.bySKU[k] = append(st.bySKU[k], v)
	}
}

func (st *state) unindexSKU(v *variant) {
	k := skuKey(v.sku)
	l := st.bySKU[k]
	for i, x := range l {
		if x == v {
			l = append(l[:i:i], l[i+1:]...)
			break
		}
	}
	if len(l) == 0 {
		delete(st.bySKU, k)
	} else {
		st.bySKU[k] = l
	}
}

// duplicateSKUs counts the other variants with exactly v's SKU.
func (st *state) duplicateSKUs(v *variant) int {
	if v.sku == "" {
		return 0
	}
	n := 0
	for _, o := range st.bySKU[skuKey(v.sku)] {
		st.visited++
		if o != v && o.sku == v.sku {
			n++
		}
	}
	return n
}
