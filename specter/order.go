package specter

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/shopspring/decimal"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/connector"
)

// OrderRow is one row of newOrderSubmit: an article, a shipping charge or a
// discount (a negative price), priced excluding VAT with the VAT percentage.
type OrderRow struct {
	ArticleNo    string
	Name         string
	PriceExclVAT decimal.Decimal
	Quantity     int
	VATPercent   int
}

// orderPlan is an order mapped to Specter: its rows and the articles they
// need.
type orderPlan struct {
	rows     []OrderRow
	articles []Article // one per distinct article number, in first-use order
	webshop  string
}

func sumRates(ts []commerce.TaxLine) decimal.Decimal {
	r := decimal.Zero
	for _, t := range ts {
		r = r.Add(t.RatePercent)
	}
	return r
}

// planOrder maps an order's lines, discounts and shipping to rows.
func (c *Connector) planOrder(op string, o commerce.Order) (*orderPlan, error) {
	p := &orderPlan{webshop: c.cfg.webshop}
	if id, ok := c.cfg.webshops[o.Shop]; ok {
		p.webshop = id
	}
	type discount struct {
		amount decimal.Decimal
		rate   decimal.Decimal
		labels []string
	}
	discounts := map[int]*discount{}
	for i, l := range o.Lines {
		if l.Quantity == 0 {
			continue
		}
		field := fmt.Sprintf("lines[%d]", i)
		rate := sumRates(l.TaxLines)
		pct, err := vatPercent(rate)
		if err != nil {
			return nil, validation(op, field+".tax_lines", err)
		}
		no := l.SKU
		if no == "" && l.GiftCard {
			no = c.cfg.giftCardArticle
		}
		p.rows = append(p.rows, OrderRow{ArticleNo: no, Name: l.Title, PriceExclVAT: exclVAT(l.UnitPrice.Amount, o.PricesIncludeTax, rate), Quantity: l.Quantity, VATPercent: pct})
		for _, d := range l.Discounts {
			g := discounts[pct]
			if g == nil {
				g = &discount{rate: rate}
				discounts[pct] = g
			}
			g.amount = g.amount.Add(d.Amount.Amount)
			label := d.Code
			if label == "" {
				label = d.Title
			}
			if label != "" && !slices.Contains(g.labels, label) {
				g.labels = append(g.labels, label)
			}
		}
	}
	// Discounts as negative rows, one per VAT rate, so Specter's VAT per
	// rate matches the shop's.
	for _, pct := range slices.Sorted(maps.Keys(discounts)) {
		g := discounts[pct]
		if g.amount.IsZero() {
			continue
		}
		name := "Rabatt"
		if len(g.labels) > 0 {
			name += " " + strings.Join(g.labels, ", ")
		}
		if len(discounts) > 1 {
			name += fmt.Sprintf(" (%d %%)", pct)
		}
		p.rows = append(p.rows, OrderRow{ArticleNo: c.cfg.discountArticle, Name: name, PriceExclVAT: exclVAT(g.amount, o.PricesIncludeTax, g.rate).Neg(), Quantity: 1, VATPercent: pct})
	}
	for i, s := range o.ShippingLines {
		rate := sumRates(s.TaxLines)
		pct, err := vatPercent(rate)
		if err != nil {
			return nil, validation(op, fmt.Sprintf("shipping_lines[%d].tax_lines", i), err)
		}
		amount := s.Price.Amount
		for _, d := range s.Discounts {
			amount = amount.Sub(d.Amount.Amount)
		}
		name := s.Title
		if name == "" {
			name = "Frakt"
		}
		p.rows = append(p.rows, OrderRow{ArticleNo: c.cfg.shippingArticle, Name: name, PriceExclVAT: exclVAT(amount, o.PricesIncludeTax, rate), Quantity: 1, VATPercent: pct})
	}
	seen := map[string]bool{}
	// Articles that are charges, not goods: not stock-kept, no price of
	// their own, a generic name (the row carries the specific one).
	charges := map[string]string{c.cfg.shippingArticle: "Frakt", c.cfg.discountArticle: "Rabatt", c.cfg.giftCardArticle: "Presentkort"}
	for _, r := range p.rows {
		if seen[r.ArticleNo] {
			continue
		}
		seen[r.ArticleNo] = true
		a := Article{No: r.ArticleNo, Name: r.Name, PriceExclVAT: r.PriceExclVAT, VATPercent: r.VATPercent, Stocked: true}
		if name, ok := charges[r.ArticleNo]; ok {
			a.Name, a.PriceExclVAT, a.Stocked = name, decimal.Zero, false
		}
		p.articles = append(p.articles, a)
	}
	skus := make([]string, len(p.articles))
	for i, a := range p.articles {
		skus[i] = a.No
	}
	if err := validateArticleNumbers(skus); err != nil {
		return nil, &connector.Error{System: System, Op: op, Kind: connector.KindValidation, Field: "lines.sku", Err: err}
	}
	return p, nil
}

// specterTotal is what Specter will compute for the rows: each row rounded
// to the minor unit, VAT per rate on the sum (ASSUMED rounding).
func specterTotal(rows []OrderRow, cur commerce.Currency) decimal.Decimal {
	net := map[int]decimal.Decimal{}
	for _, r := range rows {
		net[r.VATPercent] = net[r.VATPercent].Add(commerce.RoundAmount(r.PriceExclVAT.Mul(decimal.NewFromInt(int64(r.Quantity))), cur))
	}
	total := decimal.Zero
	for pct, n := range net {
		total = total.Add(n).Add(commerce.RoundAmount(n.Mul(decimal.NewFromInt(int64(pct))).Div(hundred), cur))
	}
	return total
}

// payment picks the order's payment type and PSP reference: the first
// payment that is not a gift card.
func (c *Connector) payment(o commerce.Order) (code, ref string) {
	for _, p := range o.Payments {
		prov := strings.ToLower(p.Provider)
		if prov == "gift_card" {
			continue
		}
		code, ok := c.cfg.payTypes[prov]
		if !ok {
			code = c.cfg.payTypes[strings.ToLower(p.Gateway)]
		}
		return code, p.Reference
	}
	return "", ""
}

func (c *Connector) orderForm(o commerce.Order, p *orderPlan, customerID string) *Form {
	f := c.client.NewForm()
	f.Set("customerId", customerID)
	f.Set("externalOrderNo", c.cfg.orderPrefix+o.Number)
	f.Set("customerOrderReference", o.Number)
	f.Set("currency", o.Currency.Code())
	f.Set("language", c.language(o.Customer.Locale))
	f.SetNonEmpty("stocksiteid", c.cfg.stockSite)
	code, ref := c.payment(o)
	f.SetNonEmpty("payTypeIdentifier", code)
	f.SetNonEmpty("payTypeReference", ref)
	f.TextNonEmpty("internalComment", o.Note)
	f.Set("userSource", "webuser")
	mail := "0"
	if c.cfg.sendOrderMail {
		mail = "1"
	}
	f.Set("sendOrderMail", mail)
	f.Set("sendOrderMailToUser", "0")
	for i, r := range p.rows {
		n := i + 1
		f.Set(Row("articleNo", n), r.ArticleNo)
		f.Text(Row("articleName", n), r.Name)
		f.Set(Row("priceExclVAT", n), r.PriceExclVAT.String())
		f.Set(Row("noOfItems", n), strconv.Itoa(r.Quantity))
		f.Set(Row("vatPercent", n), strconv.Itoa(r.VATPercent))
	}
	return f
}

// orderCustomer is the order's customer, completed from its addresses:
// Shopify guest orders carry names and e-mail only there.
func orderCustomer(o commerce.Order) commerce.Customer {
	cust := o.Customer
	if b := o.BillingAddress; b != nil {
		if cust.FirstName == "" && cust.LastName == "" {
			cust.FirstName, cust.LastName = b.FirstName, b.LastName
		}
		if cust.Company == "" {
			cust.Company = b.Company
		}
		if cust.Email == "" {
			cust.Email = b.Email
		}
		if cust.Phone == "" {
			cust.Phone = b.Phone
		}
	}
	return cust
}

// CreateOrder creates a sales order (newOrderSubmit), idempotent on the
// shop's order number: it is sent as externalOrderNo (with the
// WithOrderNumberPrefix prefix), which Specter refuses to use twice, and a
// refusal of a duplicate returns the existing order with Created false.
// The customer is created or updated first (newCustomerSubmit) and, unless
// WithEnsureArticles(false), missing articles are created (including the
// shipping and discount articles) without changing existing ones. Lines are
// sent excluding VAT with their VAT percentage; discounts as one negative
// row per VAT rate; shipping as rows of the shipping article; the first
// non-gift-card payment as payTypeIdentifier and payTypeReference. Ref.ID is
// Specter's order number.
func (c *Connector) CreateOrder(ctx context.Context, o commerce.Order, opts ...connector.CallOption) (connector.UpsertResult, error) {
	return c.createOrder(ctx, "CreateOrder", o, connector.ApplyCallOptions(opts))
}

func (c *Connector) createOrder(ctx context.Context, op string, o commerce.Order, opts connector.CallOptions) (connector.UpsertResult, error) {
	res := connector.UpsertResult{Key: o.Number}
	if err := o.Validate(); err != nil {
		return res, invalid(op, err)
	}
	plan, err := c.planOrder(op, o)
	if err != nil {
		return res, err
	}
	if want := o.Totals.Total; !want.Currency.IsZero() {
		if got := specterTotal(plan.rows, o.Currency); !got.Equal(want.Amount) {
			c.cfg.logger.LogAttrs(ctx, slog.LevelWarn, "specter: order total in Specter will differ from the shop's",
				slog.String("order", o.Number), slog.String("shop_total", want.Amount.String()), slog.String("specter_total", got.String()))
		}
	}
	cust := orderCustomer(o)
	billing := o.BillingAddress
	if billing == nil {
		billing = cust.Address
	}
	shipping := o.ShippingAddress
	if shipping == nil {
		shipping = billing
	}
	if opts.DryRun {
		if _, err := c.customerForm(cust, billing, shipping, o.Currency); err != nil {
			return res, validation(op, "customer", err)
		}
		if err := c.orderForm(o, plan, "0").Err(); err != nil {
			return res, validation(op, "", err)
		}
		return res, nil
	}
	customerID, err := c.submitCustomer(ctx, op, cust, billing, shipping, o.Currency, false)
	if err != nil {
		return res, err
	}
	if c.cfg.ensureArticles {
		if _, err := c.SubmitArticles(ctx, op, plan.articles, false); err != nil {
			var ce *connector.Error
			if errors.As(err, &ce) && ce.Code != "" {
				// Specter refused the create-only call: the assumption it
				// rests on is the first suspect.
				annotated := *ce
				annotated.Message += " (" + AssumeCreateOnlyWithoutForce + ")"
				return res, &annotated
			}
			return res, err
		}
	}
	var query map[string]string
	if plan.webshop != "" {
		query = map[string]string{"webshopId": plan.webshop}
	}
	r, err := c.client.Do(ctx, Request{Op: op, Action: ActionNewOrder, Form: c.orderForm(o, plan, customerID), Query: query})
	switch {
	case err == nil:
		res.Created = true
	case isCode(err, CodeDuplicateOrder):
		// Created before (a retry after a lost answer, or a second run):
		// the existing order stands.
	default:
		return res, err
	}
	if r.ID != "" {
		res.Ref = c.ref(r.ID)
		c.remember(o.Number, r.ID)
	}
	return res, nil
}

// CreateInvoice creates the order (as CreateOrder, idempotent) and invoices
// it (newInvoiceSubmit with typeInvoice=S, which the public module calls
// "in beta"). A second invoice for an invoiced order is refused by Specter
// (ASSUMED, CodeAlreadyInvoiced) and returns the existing invoice with
// Created false. Ref.ID is Specter's invoice id.
func (c *Connector) CreateInvoice(ctx context.Context, o commerce.Order, opts ...connector.CallOption) (connector.UpsertResult, error) {
	const op = "CreateInvoice"
	co := connector.ApplyCallOptions(opts)
	ord, err := c.createOrder(ctx, op, o, co)
	if err != nil || co.DryRun {
		return connector.UpsertResult{Key: o.Number}, err
	}
	if ord.Ref.ID == "" {
		return connector.UpsertResult{Key: o.Number}, connector.NewError(System, op, connector.KindConflict,
			"order %s exists in Specter but the reply did not name its number", o.Number)
	}
	f := c.client.NewForm()
	f.Set("orderId", ord.Ref.ID)
	f.Set("typeInvoice", TypeInvoiceDebit)
	r, err := c.client.Do(ctx, Request{Op: op, Action: ActionNewInvoice, Form: f})
	res := connector.UpsertResult{Key: o.Number}
	switch {
	case err == nil:
		res.Created = true
	case isCode(err, CodeAlreadyInvoiced):
	default:
		return res, err
	}
	if r.ID != "" {
		res.Ref = c.ref(r.ID)
	}
	return res, nil
}

// Fulfill reports a (partial) delivery of an order to Specter
// (newDeliverySubmit with useArticleNoRowMapping=1: rows by article number
// and quantity). The order is found by f.OrderRef when it is a Specter ref,
// else by the order number of an order this connector created. It is not
// idempotent: a repeated report delivers more, which Specter refuses once
// the ordered quantity is reached. Tracking numbers are not sent: no field
// for them is known. Ref.ID is the delivery id Specter answers.
func (c *Connector) Fulfill(ctx context.Context, f commerce.Fulfillment, opts ...connector.CallOption) (commerce.Ref, error) {
	const op = "Fulfill"
	o := connector.ApplyCallOptions(opts)
	if err := f.Validate(); err != nil {
		return commerce.Ref{}, invalid(op, err)
	}
	orderNo := ""
	if f.OrderRef.System == System {
		orderNo = f.OrderRef.ID
	} else {
		orderNo = c.specterOrderNo(f.OrderNumber)
	}
	if orderNo == "" {
		return commerce.Ref{}, connector.NewError(System, op, connector.KindNotFound,
			"Specter's number of order %s is not known here; set Fulfillment.OrderRef to the order's Specter ref", f.OrderNumber)
	}
	form := c.client.NewForm()
	form.Set("orderId", orderNo)
	at := f.CreatedAt
	if at.IsZero() {
		at = c.cfg.now()
	}
	form.Set("deliveryDate", at.In(stockholm()).Format(DateLayout))
	form.Set("useArticleNoRowMapping", "1")
	for i, l := range f.Lines {
		if l.SKU == "" {
			return commerce.Ref{}, validation(op, fmt.Sprintf("lines[%d].sku", i), fmt.Errorf("%w: Specter maps delivered rows by article number", commerce.ErrInvalid))
		}
		form.Set(Row("articleNo", i+1), l.SKU)
		form.Set(Row("noOfItems", i+1), strconv.Itoa(l.Quantity))
	}
	if o.DryRun {
		if err := form.Err(); err != nil {
			return commerce.Ref{}, validation(op, "", err)
		}
		return commerce.Ref{}, nil
	}
	r, err := c.client.Do(ctx, Request{Op: op, Action: ActionNewDelivery, Form: form})
	if err != nil {
		return commerce.Ref{}, err
	}
	return c.ref(r.ID), nil
}

var (
	stockholmOnce sync.Once
	stockholmLoc  *time.Location
)

// stockholm is Specter's time zone for dates (a Swedish system); UTC when
// the zone database is missing.
func stockholm() *time.Location {
	stockholmOnce.Do(func() {
		loc, err := time.LoadLocation("Europe/Stockholm")
		if err != nil {
			loc = time.UTC
		}
		stockholmLoc = loc
	})
	return stockholmLoc
}
