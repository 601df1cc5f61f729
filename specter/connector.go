package specter

import (
	"context"
	"errors"
	"sync"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/connector"
)

// Connector maps the canonical model onto a Specter account. It is a
// CustomerSink, ProductSink, OrderSink, InvoiceSink, Fulfiller (delivery
// reports), StockSource, ProductSource and OrderEventSource; SetPriceList and
// CreateCreditInvoice exist only to answer KindUnsupported (see the
// assumptions in the package documentation). It is safe for concurrent use;
// requests of the account are serialised.
type Connector struct {
	cfg    config
	client *Client

	mu      sync.Mutex
	byShop  map[string]string // shop order number → Specter order number
	byOrder map[string]string // Specter order number → shop order number

	stock    *queueFeed[commerce.StockLevel]
	products *queueFeed[commerce.Product]
	events   *queueFeed[commerce.OrderEvent]
}

// Capabilities.
var (
	_ connector.System           = (*Connector)(nil)
	_ connector.CustomerSink     = (*Connector)(nil)
	_ connector.ProductSink      = (*Connector)(nil)
	_ connector.OrderSink        = (*Connector)(nil)
	_ connector.InvoiceSink      = (*Connector)(nil)
	_ connector.Fulfiller        = (*Connector)(nil)
	_ connector.StockSource      = (*Connector)(nil)
	_ connector.ProductSource    = (*Connector)(nil)
	_ connector.OrderEventSource = (*Connector)(nil)
	_ connector.PriceListSink    = (*Connector)(nil)
	_ connector.CreditSink       = (*Connector)(nil)
	_ connector.WebhookDecoder   = (*Connector)(nil)
)

// New returns a connector for the account of creds.
func New(creds Credentials, opts ...Option) (*Connector, error) {
	cfg := defaults()
	for _, o := range opts {
		o(&cfg)
	}
	if (cfg.webshop != "" || len(cfg.webshops) > 0) && creds.Version() != 2 {
		return nil, connector.NewError(System, "New", connector.KindValidation, "multishop (webshopId) needs version-2 credentials")
	}
	client, err := newClient(creds, &cfg)
	if err != nil {
		return nil, err
	}
	c := &Connector{cfg: cfg, client: client, byShop: map[string]string{}, byOrder: map[string]string{}}
	c.stock = &queueFeed[commerce.StockLevel]{c: client, q: QueueStock, op: "Stock", read: c.readStock}
	c.products = &queueFeed[commerce.Product]{c: client, q: QueueArticles, op: "Products", read: c.readArticles}
	c.events = &queueFeed[commerce.OrderEvent]{c: client, q: QueueOrders, op: "OrderEvents", read: c.readOrders}
	return c, nil
}

// System is "specter".
func (c *Connector) System() string { return System }

// Account is the account name (default: the SBMID).
func (c *Connector) Account() string { return c.cfg.account }

// Client is the underlying protocol client.
func (c *Connector) Client() *Client { return c.client }

func (c *Connector) ref(id string) commerce.Ref {
	return commerce.Ref{System: System, Account: c.cfg.account, ID: id}
}

// remember links a shop order number and Specter's order number, so queue
// items and delivery reports find each other without a lookup.
func (c *Connector) remember(shopNumber, orderNo string) {
	if shopNumber == "" || orderNo == "" {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.byShop[shopNumber] = orderNo
	c.byOrder[orderNo] = shopNumber
}

func (c *Connector) specterOrderNo(shopNumber string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.byShop[shopNumber]
}

func (c *Connector) shopOrderNumber(orderNo string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.byOrder[orderNo]
}

// Stock is the stock queue as a feed of levels per stock site.
func (c *Connector) Stock() connector.Feed[commerce.StockLevel] { return c.stock }

// Products is the article master-data queue as a feed of products, one per
// article (Specter keeps every variant as its own article), priced excluding
// VAT in the base currency.
func (c *Connector) Products() connector.Feed[commerce.Product] { return c.products }

// OrderEvents is the order-change queue as a feed of delivered (with
// tracking, per delivery) and cancelled events. Invoiced events arrive only
// as callbacks (see Hint); paid events never (AssumeNoPaidSignal).
func (c *Connector) OrderEvents() connector.Feed[commerce.OrderEvent] { return c.events }

// SetPriceList is not supported: no price-list action is known
// (AssumeNoPriceListAPI).
func (c *Connector) SetPriceList(context.Context, commerce.PriceList, ...connector.CallOption) error {
	return &connector.Error{System: System, Op: "SetPriceList", Kind: connector.KindUnsupported, Message: AssumeNoPriceListAPI}
}

// CreateCreditInvoice is not supported: no credit-invoice action is known
// (AssumeNoCreditInvoiceAPI).
func (c *Connector) CreateCreditInvoice(context.Context, connector.CreditRequest, ...connector.CallOption) (connector.UpsertResult, error) {
	return connector.UpsertResult{}, &connector.Error{System: System, Op: "CreateCreditInvoice", Kind: connector.KindUnsupported, Message: AssumeNoCreditInvoiceAPI}
}

// InvoicePDFLink returns the address of an invoice's PDF (getPDFLink). The
// address grants access to the document; treat it as a secret.
func (c *Connector) InvoicePDFLink(ctx context.Context, invoiceID string) (string, error) {
	f := c.client.NewForm()
	f.Set("typeDocument", "invoice")
	f.Set("documentId", invoiceID)
	r, err := c.client.Do(ctx, Request{Op: "InvoicePDFLink", Action: ActionGetPDFLink, Form: f})
	if err != nil {
		return "", err
	}
	if r.ID == "" {
		return "", connector.NewError(System, "InvoicePDFLink", connector.KindPermanent, "the reply names no address")
	}
	return r.ID, nil
}

// ResetStock asks Specter to queue every article's stock again (a full
// stock resynchronisation through the Stock feed).
func (c *Connector) ResetStock(ctx context.Context) error { return c.client.ResetStock(ctx) }

// invalid wraps a commerce validation error.
func invalid(op string, err error) error {
	e := &connector.Error{System: System, Op: op, Kind: connector.KindValidation, Err: err}
	if fes := commerce.FieldErrors(err); len(fes) > 0 {
		e.Field = fes[0].Field
	}
	return e
}

// isCode reports whether err is a refusal with Specter error code code.
func isCode(err error, code string) bool {
	var ce *connector.Error
	return errors.As(err, &ce) && ce.Code == code
}
