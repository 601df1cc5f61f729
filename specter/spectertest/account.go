package spectertest

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"

	"github.com/shopspring/decimal"

	"github.com/knyt/knyt/specter"
)

// User is a version-2 API user.
type User struct {
	ID  string
	Key string // the ApiUserKey
}

// AccountConfig describes a Specter company (an SBM id) and its
// credentials. Set IntegrationKey and Users for version 2, MD5Key1 and
// MD5Key2 for version 1, or both.
type AccountConfig struct {
	SBMID          string
	IntegrationKey string
	Users          []User
	MD5Key1        string
	MD5Key2        string
	// StockSites are the stock site ids; the first is the default. Empty
	// means one site "1".
	StockSites []string
	// Webshops are the webshopIds multishop orders may name.
	Webshops []string
}

// DefaultAccount is the account every Server starts with: SBM id 4711 with
// one version-2 API user, version-1 keys, stock sites "1" and "2" and
// webshops "1" and "2". The keys are fixed so examples can show them; they
// are secrets all the same (tests check they never reach a log).
func DefaultAccount() AccountConfig {
	return AccountConfig{
		SBMID:          "4711",
		IntegrationKey: "fake-integration-key-0b9d2c",
		Users:          []User{{ID: "1", Key: "fake-api-user-key-61f0a7"}},
		MD5Key1:        "fake-md5-key-one-3c51",
		MD5Key2:        "fake-md5-key-two-9e02",
		StockSites:     []string{"1", "2"},
		Webshops:       []string{"1", "2"},
	}
}

// Customer is a customer as the fake keeps it.
type Customer struct {
	ID            int
	Form          string // "P" private, "C" company
	Name          string
	FirstName     string
	SurName       string
	ContactPerson string
	Attention     string
	OrgNo         string
	VATNo         string
	Email         string
	Phone         string
	Mobile        string
	Currency      string
	Language      string
	GroupID       string
	Invoice       Address
	Delivery      Address
}

// Address is an invoice or delivery address.
type Address struct {
	CompanyName string
	Attention   string
	Address     string
	Row2        string
	ZipCode     string
	City        string
	CountryCode string
	Region      string
}

// Article is an article. Stock is the available quantity per stock site,
// for stock-kept articles.
type Article struct {
	ID           int
	No           string
	Name         string
	PriceExclVAT decimal.Decimal
	VATPercent   int
	BuyPrice     decimal.Decimal
	BarCode      string
	WeightKg     decimal.Decimal
	Stocked      bool
	Stock        map[string]int
}

// OrderRow is a row of an order.
type OrderRow struct {
	ArticleNo    string
	Name         string
	PriceExclVAT decimal.Decimal
	Quantity     decimal.Decimal
	VATPercent   int
	Delivered    decimal.Decimal
}

// Delivery is a delivery of an order.
type Delivery struct {
	ID         int
	Date       string
	TrackingNo string
	Rows       []DeliveredRow
}

// DeliveredRow is a quantity of an article delivered.
type DeliveredRow struct {
	ArticleNo string
	Quantity  decimal.Decimal
}

// Order is a sales order.
type Order struct {
	No              int
	ExternalOrderNo string
	CustomerID      int
	Currency        string
	Language        string
	StockSite       string
	WebshopID       string
	PayType         string
	PayReference    string
	InternalComment string
	Rows            []OrderRow
	Removed         bool
	Deliveries      []Delivery
	InvoiceIDs      []int
}

// Delivered reports whether every row is fully delivered.
func (o Order) Delivered() bool {
	for _, r := range o.Rows {
		if r.Quantity.IsPositive() && r.Delivered.LessThan(r.Quantity) {
			return false
		}
	}
	return len(o.Deliveries) > 0
}

// Invoice is an invoice created from an order.
type Invoice struct {
	ID      int
	OrderNo int
	Type    string
	Date    string
	Net     decimal.Decimal
	VAT     decimal.Decimal
	Gross   decimal.Decimal
	Rows    []OrderRow
}

// apiUser is one API user (or the version-1 credentials) with its queues
// and callback URLs.
type apiUser struct {
	id        string
	key       string
	queues    map[specter.Queue]*queue
	callbacks map[specter.CallbackKind]string
}

func newAPIUser(id, key string) *apiUser {
	return &apiUser{id: id, key: key, callbacks: map[specter.CallbackKind]string{}, queues: map[specter.Queue]*queue{
		specter.QueueStock: newQueue(), specter.QueueArticles: newQueue(), specter.QueueOrders: newQueue(),
	}}
}

type account struct {
	cfg       AccountConfig
	users     map[string]*apiUser
	v1        *apiUser
	customers []*Customer
	articles  map[string]*Article
	artOrder  []string
	orders    map[int]*Order
	orderSeq  []int
	external  map[string]int
	invoices  []*Invoice
	nextID    map[string]int
}

func (a *account) next(kind string, start int) int {
	if a.nextID[kind] == 0 {
		a.nextID[kind] = start
	}
	n := a.nextID[kind]
	a.nextID[kind]++
	return n
}

// allUsers are the API users in a fixed order (v1 last).
func (a *account) allUsers() []*apiUser {
	out := make([]*apiUser, 0, len(a.users)+1)
	for _, u := range a.cfg.Users {
		out = append(out, a.users[u.ID])
	}
	if a.v1 != nil {
		out = append(out, a.v1)
	}
	return out
}

func (a *account) defaultSite() string { return a.cfg.StockSites[0] }

func (a *account) hasSite(id string) bool { return slices.Contains(a.cfg.StockSites, id) }

func (s *Server) addAccount(cfg AccountConfig) (*Account, error) {
	if cfg.SBMID == "" {
		return nil, errors.New("spectertest: account without SBMID")
	}
	if _, dup := s.accounts[cfg.SBMID]; dup {
		return nil, fmt.Errorf("spectertest: account %s exists", cfg.SBMID)
	}
	if len(cfg.Users) > 0 && cfg.IntegrationKey == "" {
		return nil, errors.New("spectertest: version-2 users need an IntegrationKey")
	}
	if (cfg.MD5Key1 == "") != (cfg.MD5Key2 == "") {
		return nil, errors.New("spectertest: version 1 needs both MD5 keys")
	}
	if len(cfg.StockSites) == 0 {
		cfg.StockSites = []string{"1"}
	}
	cfg.Users = slices.Clone(cfg.Users)
	cfg.StockSites = slices.Clone(cfg.StockSites)
	cfg.Webshops = slices.Clone(cfg.Webshops)
	a := &account{cfg: cfg, users: map[string]*apiUser{}, articles: map[string]*Article{}, orders: map[int]*Order{}, external: map[string]int{}, nextID: map[string]int{}}
	for _, u := range cfg.Users {
		a.users[u.ID] = newAPIUser(u.ID, u.Key)
	}
	if cfg.MD5Key1 != "" {
		a.v1 = newAPIUser("", "")
	}
	s.accounts[cfg.SBMID] = a
	s.order = append(s.order, cfg.SBMID)
	return &Account{s: s, id: cfg.SBMID}, nil
}

// AddAccount adds a company to the fake.
func (s *Server) AddAccount(cfg AccountConfig) (*Account, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addAccount(cfg)
}

// Default is the default account (DefaultAccount).
func (s *Server) Default() *Account { return &Account{s: s, id: DefaultAccount().SBMID} }

// Account returns the account with the SBM id.
func (s *Server) Account(sbmID string) (*Account, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.accounts[sbmID]
	return &Account{s: s, id: sbmID}, ok
}

// Account is a handle on one company of the fake: its credentials, seeding
// helpers that act as a user of Specter's own interface would (and so fill
// the change queues and fire callbacks), and inspection.
type Account struct {
	s  *Server
	id string
}

func (h *Account) lock() (*account, func()) {
	h.s.mu.Lock()
	return h.s.accounts[h.id], h.s.mu.Unlock
}

// Config is the account's configuration.
func (h *Account) Config() AccountConfig {
	a, unlock := h.lock()
	defer unlock()
	return a.cfg
}

// V2 returns the version-2 credentials of the account's first API user.
func (h *Account) V2() specter.Credentials {
	cfg := h.Config()
	if len(cfg.Users) == 0 {
		return specter.Credentials{SBMID: cfg.SBMID}
	}
	return specter.V2(cfg.SBMID, cfg.Users[0].Key, cfg.IntegrationKey, cfg.Users[0].ID)
}

// V1 returns the account's version-1 credentials.
func (h *Account) V1() specter.Credentials {
	cfg := h.Config()
	return specter.V1(cfg.SBMID, cfg.MD5Key1, cfg.MD5Key2)
}

// Secrets are the account's keys, for checks that none leaks.
func (h *Account) Secrets() []string {
	cfg := h.Config()
	out := []string{cfg.IntegrationKey, cfg.MD5Key1, cfg.MD5Key2}
	for _, u := range cfg.Users {
		out = append(out, u.Key)
	}
	return slices.DeleteFunc(out, func(s string) bool { return s == "" })
}

// Customers returns the customers in creation order.
func (h *Account) Customers() []Customer {
	a, unlock := h.lock()
	defer unlock()
	out := make([]Customer, len(a.customers))
	for i, c := range a.customers {
		out[i] = *c
	}
	return out
}

// Customer returns a customer by id.
func (h *Account) Customer(id int) (Customer, bool) {
	for _, c := range h.Customers() {
		if c.ID == id {
			return c, true
		}
	}
	return Customer{}, false
}

func copyArticle(a *Article) Article {
	c := *a
	c.Stock = maps.Clone(a.Stock)
	return c
}

// Article returns an article by number.
func (h *Account) Article(no string) (Article, bool) {
	a, unlock := h.lock()
	defer unlock()
	art, ok := a.articles[no]
	if !ok {
		return Article{}, false
	}
	return copyArticle(art), true
}

// Articles returns the articles in creation order.
func (h *Account) Articles() []Article {
	a, unlock := h.lock()
	defer unlock()
	out := make([]Article, 0, len(a.artOrder))
	for _, no := range a.artOrder {
		out = append(out, copyArticle(a.articles[no]))
	}
	return out
}

func copyOrder(o *Order) Order {
	c := *o
	c.Rows = slices.Clone(o.Rows)
	c.Deliveries = slices.Clone(o.Deliveries)
	for i := range c.Deliveries {
		c.Deliveries[i].Rows = slices.Clone(o.Deliveries[i].Rows)
	}
	c.InvoiceIDs = slices.Clone(o.InvoiceIDs)
	return c
}

// Order returns an order by Specter order number.
func (h *Account) Order(no int) (Order, bool) {
	a, unlock := h.lock()
	defer unlock()
	o, ok := a.orders[no]
	if !ok {
		return Order{}, false
	}
	return copyOrder(o), true
}

// OrderByExternalNo returns the order with an externalOrderNo.
func (h *Account) OrderByExternalNo(ext string) (Order, bool) {
	a, unlock := h.lock()
	no, ok := a.external[ext]
	unlock()
	if !ok {
		return Order{}, false
	}
	return h.Order(no)
}

// Orders returns the orders in creation order.
func (h *Account) Orders() []Order {
	a, unlock := h.lock()
	defer unlock()
	out := make([]Order, 0, len(a.orderSeq))
	for _, no := range a.orderSeq {
		out = append(out, copyOrder(a.orders[no]))
	}
	return out
}

// Invoices returns the invoices in creation order.
func (h *Account) Invoices() []Invoice {
	a, unlock := h.lock()
	defer unlock()
	out := make([]Invoice, len(a.invoices))
	for i, inv := range a.invoices {
		out[i] = *inv
		out[i].Rows = slices.Clone(inv.Rows)
	}
	return out
}

func (a *account) user(id string) (*apiUser, error) {
	if id == "" && a.v1 != nil {
		return a.v1, nil
	}
	if u, ok := a.users[id]; ok {
		return u, nil
	}
	return nil, fmt.Errorf("spectertest: no API user %q", id)
}

// OpenBatch returns the number of a queue's open batch for an API user
// ("" for the version-1 credentials).
func (h *Account) OpenBatch(userID string, q specter.Queue) (string, bool) {
	a, unlock := h.lock()
	defer unlock()
	u, err := a.user(userID)
	if err != nil || u.queues[q].open == nil {
		return "", false
	}
	return u.queues[q].open.no, true
}

// Pending counts the changes waiting in a queue outside any open batch.
func (h *Account) Pending(userID string, q specter.Queue) int {
	a, unlock := h.lock()
	defer unlock()
	u, err := a.user(userID)
	if err != nil {
		return 0
	}
	return len(u.queues[q].pending)
}

// Callbacks returns the callback URLs an API user registered, by kind.
func (h *Account) Callbacks(userID string) map[specter.CallbackKind]string {
	a, unlock := h.lock()
	defer unlock()
	u, err := a.user(userID)
	if err != nil {
		return nil
	}
	return maps.Clone(u.callbacks)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func itoa(n int) string { return strconv.Itoa(n) }

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}
