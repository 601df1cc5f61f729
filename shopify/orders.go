package shopify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/connector"
)

type wireAddress struct {
	FirstName     string `json:"firstName"`
	LastName      string `json:"lastName"`
	Company       string `json:"company"`
	Address1      string `json:"address1"`
	Address2      string `json:"address2"`
	Zip           string `json:"zip"`
	City          string `json:"city"`
	ProvinceCode  string `json:"provinceCode"`
	CountryCodeV2 string `json:"countryCodeV2"`
	Phone         string `json:"phone"`
}

type wireTaxLine struct {
	Title          string      `json:"title"`
	Rate           json.Number `json:"rate"`
	RatePercentage json.Number `json:"ratePercentage"`
	PriceSet       moneyBag    `json:"priceSet"`
}

type wireDiscountAllocation struct {
	AllocatedAmountSet  moneyBag `json:"allocatedAmountSet"`
	DiscountApplication struct {
		Code  string `json:"code"`
		Title string `json:"title"`
	} `json:"discountApplication"`
}

type wireAttribute struct {
	Key   string  `json:"key"`
	Value *string `json:"value"`
}

type wireLine struct {
	ID               string `json:"id"`
	SKU              string `json:"sku"`
	Title            string `json:"title"`
	VariantTitle     string `json:"variantTitle"`
	Quantity         int    `json:"quantity"`
	CurrentQuantity  int    `json:"currentQuantity"`
	IsGiftCard       bool   `json:"isGiftCard"`
	RequiresShipping bool   `json:"requiresShipping"`
	Variant          *struct {
		ID string `json:"id"`
	} `json:"variant"`
	OriginalUnitPriceSet moneyBag                 `json:"originalUnitPriceSet"`
	DiscountAllocations  []wireDiscountAllocation `json:"discountAllocations"`
	TaxLines             []wireTaxLine            `json:"taxLines"`
	CustomAttributes     []wireAttribute          `json:"customAttributes"`
}

type wireShippingLine struct {
	ID                  string                   `json:"id"`
	Code                string                   `json:"code"`
	Title               string                   `json:"title"`
	Source              string                   `json:"source"`
	IsRemoved           bool                     `json:"isRemoved"`
	OriginalPriceSet    moneyBag                 `json:"originalPriceSet"`
	TaxLines            []wireTaxLine            `json:"taxLines"`
	DiscountAllocations []wireDiscountAllocation `json:"discountAllocations"`
}

type wireTransaction struct {
	ID                     string     `json:"id"`
	Kind                   string     `json:"kind"`
	Status                 string     `json:"status"`
	Gateway                string     `json:"gateway"`
	FormattedGateway       string     `json:"formattedGateway"`
	PaymentID              string     `json:"paymentId"`
	AuthorizationCode      string     `json:"authorizationCode"`
	CreatedAt              time.Time  `json:"createdAt"`
	ProcessedAt            *time.Time `json:"processedAt"`
	Test                   bool       `json:"test"`
	ManuallyCapturable     bool       `json:"manuallyCapturable"`
	MultiCapturable        bool       `json:"multiCapturable"`
	AuthorizationExpiresAt *time.Time `json:"authorizationExpiresAt"`
	ParentTransaction      *struct {
		ID string `json:"id"`
	} `json:"parentTransaction"`
	AmountSet moneyBag `json:"amountSet"`
}

type wireOrder struct {
	ID                       string          `json:"id"`
	LegacyResourceID         flexString      `json:"legacyResourceId"`
	Name                     string          `json:"name"`
	CreatedAt                time.Time       `json:"createdAt"`
	UpdatedAt                time.Time       `json:"updatedAt"`
	ProcessedAt              time.Time       `json:"processedAt"`
	CancelledAt              *time.Time      `json:"cancelledAt"`
	CancelReason             string          `json:"cancelReason"`
	Closed                   bool            `json:"closed"`
	Test                     bool            `json:"test"`
	Email                    string          `json:"email"`
	Phone                    string          `json:"phone"`
	Note                     string          `json:"note"`
	Tags                     []string        `json:"tags"`
	CurrencyCode             string          `json:"currencyCode"`
	PresentmentCurrencyCode  string          `json:"presentmentCurrencyCode"`
	TaxesIncluded            bool            `json:"taxesIncluded"`
	DisplayFinancialStatus   *string         `json:"displayFinancialStatus"`
	DisplayFulfillmentStatus string          `json:"displayFulfillmentStatus"`
	CustomAttributes         []wireAttribute `json:"customAttributes"`
	Customer                 *struct {
		ID                  string `json:"id"`
		FirstName           string `json:"firstName"`
		LastName            string `json:"lastName"`
		DefaultEmailAddress *struct {
			EmailAddress string `json:"emailAddress"`
		} `json:"defaultEmailAddress"`
		DefaultPhoneNumber *struct {
			PhoneNumber string `json:"phoneNumber"`
		} `json:"defaultPhoneNumber"`
	} `json:"customer"`
	PurchasingEntity *struct {
		Company *struct {
			ID         string `json:"id"`
			Name       string `json:"name"`
			ExternalID string `json:"externalId"`
		} `json:"company"`
	} `json:"purchasingEntity"`
	BillingAddress           *wireAddress `json:"billingAddress"`
	ShippingAddress          *wireAddress `json:"shippingAddress"`
	CurrentSubtotalPriceSet  *moneyBag    `json:"currentSubtotalPriceSet"`
	CurrentTotalDiscountsSet *moneyBag    `json:"currentTotalDiscountsSet"`
	CurrentShippingPriceSet  *moneyBag    `json:"currentShippingPriceSet"`
	CurrentTotalTaxSet       *moneyBag    `json:"currentTotalTaxSet"`
	CurrentTotalPriceSet     *moneyBag    `json:"currentTotalPriceSet"`
	ShippingLines            struct {
		Nodes []wireShippingLine `json:"nodes"`
	} `json:"shippingLines"`
	Transactions []wireTransaction `json:"transactions"`
	LineItems    struct {
		PageInfo pageInfo   `json:"pageInfo"`
		Nodes    []wireLine `json:"nodes"`
	} `json:"lineItems"`
}

// Page sizes of an order's nested lists in the order documents; longer
// line lists are read page by page.
// transactions is a list, not a connection, so it cannot be paged: an
// order that fills it is read again with room for maxOrderTransactions.
const (
	orderLinesPerPage    = 5
	orderShippingLines   = 2
	orderTransactionMax  = 10
	maxOrderTransactions = 100
)

// Orders is the order feed: orders updated since the cursor, oldest first,
// mapped completely. Commit is a no-op (watermark feed). Each order is
// checked with Order.CheckTotals against Shopify's current totals (see
// WithTotalsMismatchHandler); an order the model refuses is one of the
// batch's Problems unless WithInvalidHandler decides otherwise.
//
// Orders older than 60 days are visible only with the read_all_orders
// scope.
func (c *Client) Orders() connector.Feed[commerce.Order] {
	return &watermarkFeed[commerce.Order, json.RawMessage]{
		fetch: c.fetchRawPage(docOrdersFeed, "orders", map[string]any{"lines": orderLinesPerPage, "shippingLines": orderShippingLines, "transactions": orderTransactionMax}),
		key:   nodeKey,
		mapAll: func(ctx context.Context, _ time.Time, nodes []json.RawMessage, problems *[]connector.ItemProblem) ([]commerce.Order, error) {
			out := make([]commerce.Order, 0, len(nodes))
			for _, raw := range nodes {
				o, err := c.orderFromNode(ctx, raw)
				if err != nil {
					if err := c.skipInvalid(ctx, "order", c.ref(nodeID(raw)), err, problems); err != nil {
						return nil, err
					}
					continue
				}
				out = append(out, o)
			}
			return out, nil
		},
	}
}

// OrderByID reads one order by its GID (or numeric id), mapped like the
// feed's.
func (c *Client) OrderByID(ctx context.Context, id string) (commerce.Order, error) {
	vars := map[string]any{"id": gid("Order", id), "lines": orderLinesPerPage, "shippingLines": orderShippingLines, "transactions": orderTransactionMax}
	var out struct {
		Order json.RawMessage `json:"order"`
	}
	if _, err := c.Execute(ctx, docOrder, vars, &out); err != nil {
		return commerce.Order{}, err
	}
	if len(out.Order) == 0 || string(out.Order) == "null" {
		return commerce.Order{}, &connector.Error{System: systemName, Op: "Order", Kind: connector.KindNotFound, Message: "no order " + id}
	}
	return c.orderFromNode(ctx, out.Order)
}

// orderFromNode decodes an order node, reads the rest of its lines, maps
// it and checks its totals.
func (c *Client) orderFromNode(ctx context.Context, raw json.RawMessage) (commerce.Order, error) {
	var w wireOrder
	if err := json.Unmarshal(raw, &w); err != nil {
		return commerce.Order{}, invalid("MapOrder", "", err)
	}
	info := w.LineItems.PageInfo
	for info.HasNextPage && info.EndCursor != "" {
		vars := map[string]any{"id": w.ID, "after": info.EndCursor}
		c.pageSize(docOrderLinesPage, vars, "first", 250)
		var out struct {
			Order *struct {
				LineItems struct {
					PageInfo pageInfo   `json:"pageInfo"`
					Nodes    []wireLine `json:"nodes"`
				} `json:"lineItems"`
			} `json:"order"`
		}
		if _, err := c.Execute(ctx, docOrderLinesPage, vars, &out); err != nil {
			return commerce.Order{}, err
		}
		if out.Order == nil {
			return commerce.Order{}, &connector.Error{System: systemName, Op: "OrderLinesPage", Kind: connector.KindNotFound, Message: "order " + w.ID + " disappeared while reading its lines"}
		}
		w.LineItems.Nodes = append(w.LineItems.Nodes, out.Order.LineItems.Nodes...)
		info = out.Order.LineItems.PageInfo
	}
	if len(w.Transactions) >= orderTransactionMax {
		var out struct {
			Order *orderHead `json:"order"`
		}
		if _, err := c.Execute(ctx, docOrderTransactions, map[string]any{"id": w.ID, "transactions": maxOrderTransactions}, &out); err != nil {
			return commerce.Order{}, err
		}
		if out.Order == nil {
			return commerce.Order{}, &connector.Error{System: systemName, Op: "OrderTransactions", Kind: connector.KindNotFound, Message: "order " + w.ID + " disappeared while reading its transactions"}
		}
		if len(out.Order.Transactions) >= maxOrderTransactions {
			return commerce.Order{}, &connector.Error{System: systemName, Op: "OrderTransactions", Kind: connector.KindUnsupported,
				Message: fmt.Sprintf("order %s has %d or more transactions", w.Name, maxOrderTransactions)}
		}
		w.Transactions = out.Order.Transactions
	}
	o, err := c.mapOrder(raw, w)
	if err != nil {
		return o, err
	}
	if err := o.CheckTotals(); err != nil {
		if c.cfg.onMismatch != nil {
			if herr := c.cfg.onMismatch(ctx, o, err); herr != nil {
				return o, herr
			}
		} else {
			c.logger.LogAttrs(ctx, slog.LevelWarn, "shopify order totals differ from its parts",
				slog.String("order", o.Number), slog.String("id", w.ID), slog.String("difference", err.Error()))
		}
	}
	return o, nil
}

var financialStatuses = map[string]commerce.FinancialStatus{
	"AUTHORIZED":         commerce.FinancialAuthorized,
	"PAID":               commerce.FinancialPaid,
	"PARTIALLY_PAID":     commerce.FinancialPartiallyPaid,
	"PARTIALLY_REFUNDED": commerce.FinancialPartiallyRefunded,
	"PENDING":            commerce.FinancialPending,
	"REFUNDED":           commerce.FinancialRefunded,
	"VOIDED":             commerce.FinancialVoided,
	"EXPIRED":            commerce.FinancialExpired, // the authorization lapsed uncaptured
}

var fulfillmentStatuses = map[string]commerce.FulfillmentStatus{
	"FULFILLED":                commerce.FulfillmentFulfilled,
	"FULFILLMENT_NOT_REQUIRED": commerce.FulfillmentFulfilled, // nothing left to ship
	"PARTIALLY_FULFILLED":      commerce.FulfillmentPartial,
	"UNFULFILLED":              commerce.FulfillmentUnfulfilled,
	"OPEN":                     commerce.FulfillmentUnfulfilled,
	"IN_PROGRESS":              commerce.FulfillmentUnfulfilled,
	"ON_HOLD":                  commerce.FulfillmentUnfulfilled,
	"PENDING_FULFILLMENT":      commerce.FulfillmentUnfulfilled,
	"REQUEST_DECLINED":         commerce.FulfillmentUnfulfilled,
	"RESTOCKED":                commerce.FulfillmentUnfulfilled,
	"SCHEDULED":                commerce.FulfillmentUnfulfilled,
}

// orderMapper maps the money of one order in the configured currency.
type orderMapper struct {
	kind     MoneyKind
	currency commerce.Currency
}

func (m orderMapper) money(field string, b moneyBag) (commerce.Money, error) {
	v, err := b.pick(m.kind).money()
	if err != nil {
		return v, invalid("MapOrder", field, err)
	}
	if v.Currency != m.currency {
		return v, invalid("MapOrder", field, fmt.Errorf("in %s, the order is in %s: %w", v.Currency, m.currency, commerce.ErrCurrencyMismatch))
	}
	return v, nil
}

func (m orderMapper) price(field string, b moneyBag) (commerce.Money, error) {
	v, err := b.pick(m.kind).price()
	if err != nil {
		return v, invalid("MapOrder", field, err)
	}
	if v.Currency != m.currency {
		return v, invalid("MapOrder", field, fmt.Errorf("in %s, the order is in %s: %w", v.Currency, m.currency, commerce.ErrCurrencyMismatch))
	}
	return v, nil
}

func (m orderMapper) taxLines(field string, ts []wireTaxLine) ([]commerce.TaxLine, error) {
	var out []commerce.TaxLine
	for i, t := range ts {
		f := fmt.Sprintf("%s.taxLines[%d]", field, i)
		amt, err := m.money(f, t.PriceSet)
		if err != nil {
			return nil, err
		}
		rate, err := ratePercent(t)
		if err != nil {
			return nil, invalid("MapOrder", f+".rate", err)
		}
		out = append(out, commerce.TaxLine{Title: t.Title, RatePercent: rate, Amount: amt})
	}
	return out, nil
}

// ratePercent reads a tax rate as a percentage: ratePercentage (25.0)
// when sent, else rate (0.25) × 100; both are floats on the wire and are
// read from their decimal text, never through float64.
func ratePercent(t wireTaxLine) (decimal.Decimal, error) {
	if t.RatePercentage != "" {
		return decimalFromNumber(t.RatePercentage)
	}
	if t.Rate != "" {
		d, err := decimalFromNumber(t.Rate)
		return d.Shift(2), err
	}
	return decimal.Zero, nil
}

func (m orderMapper) discounts(field string, ds []wireDiscountAllocation) ([]commerce.DiscountAllocation, error) {
	var out []commerce.DiscountAllocation
	for i, d := range ds {
		amt, err := m.money(fmt.Sprintf("%s.discountAllocations[%d]", field, i), d.AllocatedAmountSet)
		if err != nil {
			return nil, err
		}
		out = append(out, commerce.DiscountAllocation{Amount: amt, Code: d.DiscountApplication.Code, Title: d.DiscountApplication.Title})
	}
	return out, nil
}

// mapOrder maps a decoded order. Lines carry their current quantity (after
// removals and refunds); when units were removed, the line's discount and
// tax allocations, which Shopify keeps for the original quantity, are
// prorated to the remaining units with Money.Allocate, so the parts stay
// comparable with Shopify's current totals.
//
// Totals are Shopify's current figures: Total = currentTotalPriceSet, Tax
// = currentTotalTaxSet, Shipping = currentShippingPriceSet; Subtotal is
// currentSubtotalPriceSet (after line discounts) plus the lines' discounts,
// and Discounts is currentTotalDiscountsSet less the shipping lines'
// discounts (assumed included there — unverified against a real shop).
// CheckTotals then compares every one with the sum of the parts.
func (c *Client) mapOrder(raw json.RawMessage, w wireOrder) (commerce.Order, error) {
	op := "MapOrder"
	o := commerce.Order{
		Origin:           commerce.Origin{Source: c.ref(w.ID), Raw: raw},
		Number:           w.Name,
		CreatedAt:        w.CreatedAt,
		UpdatedAt:        w.UpdatedAt,
		PricesIncludeTax: w.TaxesIncluded,
		CancelledAt:      w.CancelledAt,
		Shop:             c.shop,
		Note:             w.Note,
		Tags:             w.Tags,
	}
	shopCur, err := parseCurrency(w.CurrencyCode)
	if err != nil {
		return o, invalid(op, "currencyCode", err)
	}
	presCur, err := parseCurrency(w.PresentmentCurrencyCode)
	if err != nil {
		return o, invalid(op, "presentmentCurrencyCode", err)
	}
	m := orderMapper{kind: c.cfg.money, currency: shopCur}
	o.Currency, o.PresentmentCurrency = shopCur, presCur
	if c.cfg.money == PresentmentMoney {
		m.currency, o.Currency = presCur, presCur
	}
	if w.DisplayFinancialStatus != nil {
		fs, ok := financialStatuses[*w.DisplayFinancialStatus]
		if !ok {
			return o, invalid(op, "displayFinancialStatus", fmt.Errorf("unknown financial status %q", *w.DisplayFinancialStatus))
		}
		o.FinancialStatus = fs
	} else {
		o.FinancialStatus = commerce.FinancialPending
	}
	fs, ok := fulfillmentStatuses[w.DisplayFulfillmentStatus]
	if !ok {
		return o, invalid(op, "displayFulfillmentStatus", fmt.Errorf("unknown fulfillment status %q", w.DisplayFulfillmentStatus))
	}
	o.FulfillmentStatus = fs
	switch {
	case w.CancelledAt != nil:
		o.State = commerce.OrderCancelled
	case w.Closed:
		o.State = commerce.OrderClosed
	default:
		o.State = commerce.OrderOpen
	}
	for _, a := range w.CustomAttributes {
		o.Attributes = append(o.Attributes, attribute(a))
	}
	o.Customer = c.mapCustomer(w)
	if w.BillingAddress != nil {
		a := mapAddress(*w.BillingAddress)
		o.BillingAddress = &a
	}
	if w.ShippingAddress != nil {
		a := mapAddress(*w.ShippingAddress)
		o.ShippingAddress = &a
	}
	if o.Customer.Address == nil {
		o.Customer.Address = o.BillingAddress
	}
	lineDiscounts := commerce.Zero(m.currency)
	for i, l := range w.LineItems.Nodes {
		f := fmt.Sprintf("lineItems[%d]", i)
		line, err := m.line(f, l)
		if err != nil {
			return o, err
		}
		if l.Variant != nil && l.Variant.ID != "" {
			line.VariantRef = c.ref(l.Variant.ID)
		}
		for _, d := range line.Discounts {
			if lineDiscounts, err = lineDiscounts.Add(d.Amount); err != nil {
				return o, invalid(op, f, err)
			}
		}
		o.Lines = append(o.Lines, line)
	}
	shippingDiscounts := commerce.Zero(m.currency)
	for i, s := range w.ShippingLines.Nodes {
		if s.IsRemoved {
			continue
		}
		f := fmt.Sprintf("shippingLines[%d]", i)
		price, err := m.money(f+".originalPriceSet", s.OriginalPriceSet)
		if err != nil {
			return o, err
		}
		ds, err := m.discounts(f, s.DiscountAllocations)
		if err != nil {
			return o, err
		}
		ts, err := m.taxLines(f, s.TaxLines)
		if err != nil {
			return o, err
		}
		for _, d := range ds {
			if shippingDiscounts, err = shippingDiscounts.Add(d.Amount); err != nil {
				return o, invalid(op, f, err)
			}
		}
		o.ShippingLines = append(o.ShippingLines, commerce.ShippingLine{Code: s.Code, Title: s.Title, Price: price, Discounts: ds, TaxLines: ts})
	}
	for i, t := range w.Transactions {
		ref, ok, err := m.payment(fmt.Sprintf("transactions[%d]", i), t)
		if err != nil {
			return o, err
		}
		if ok {
			o.Payments = append(o.Payments, ref)
		}
	}
	if err := c.orderTotals(&o, w, m, lineDiscounts, shippingDiscounts); err != nil {
		return o, err
	}
	if err := o.Validate(); err != nil {
		return o, invalid(op, "", err)
	}
	return o, nil
}

func (c *Client) orderTotals(o *commerce.Order, w wireOrder, m orderMapper, lineDiscounts, shippingDiscounts commerce.Money) error {
	get := func(field string, b *moneyBag) (commerce.Money, error) {
		if b == nil {
			return commerce.Money{}, invalid("MapOrder", field, errors.New("missing"))
		}
		return m.money(field, *b)
	}
	var err error
	if o.Totals.Total, err = get("currentTotalPriceSet", w.CurrentTotalPriceSet); err != nil {
		return err
	}
	if o.Totals.Tax, err = get("currentTotalTaxSet", w.CurrentTotalTaxSet); err != nil {
		return err
	}
	if o.Totals.Shipping, err = get("currentShippingPriceSet", w.CurrentShippingPriceSet); err != nil {
		return err
	}
	sub, err := get("currentSubtotalPriceSet", w.CurrentSubtotalPriceSet)
	if err != nil {
		return err
	}
	if o.Totals.Subtotal, err = sub.Add(lineDiscounts); err != nil {
		return invalid("MapOrder", "currentSubtotalPriceSet", err)
	}
	disc, err := get("currentTotalDiscountsSet", w.CurrentTotalDiscountsSet)
	if err != nil {
		return err
	}
	if o.Totals.Discounts, err = disc.Sub(shippingDiscounts); err != nil {
		return invalid("MapOrder", "currentTotalDiscountsSet", err)
	}
	return nil
}

func (m orderMapper) line(f string, l wireLine) (commerce.Line, error) {
	unit, err := m.price(f+".originalUnitPriceSet", l.OriginalUnitPriceSet)
	if err != nil {
		return commerce.Line{}, err
	}
	ds, err := m.discounts(f, l.DiscountAllocations)
	if err != nil {
		return commerce.Line{}, err
	}
	ts, err := m.taxLines(f, l.TaxLines)
	if err != nil {
		return commerce.Line{}, err
	}
	if l.CurrentQuantity < l.Quantity && l.Quantity > 0 {
		if ds, err = prorateDiscounts(ds, l.CurrentQuantity, l.Quantity); err == nil {
			ts, err = prorateTax(ts, l.CurrentQuantity, l.Quantity)
		}
		if err != nil {
			return commerce.Line{}, invalid("MapOrder", f, err)
		}
	}
	line := commerce.Line{
		ID:         l.ID,
		SKU:        l.SKU,
		Title:      l.Title,
		Quantity:   l.CurrentQuantity,
		UnitPrice:  unit,
		Discounts:  ds,
		TaxLines:   ts,
		GiftCard:   l.IsGiftCard,
		NotShipped: !l.RequiresShipping,
	}
	if l.VariantTitle != "" {
		line.Attributes = append(line.Attributes, commerce.Attribute{Key: "variant_title", Value: l.VariantTitle})
	}
	for _, a := range l.CustomAttributes {
		line.Attributes = append(line.Attributes, attribute(a))
	}
	return line, nil
}

// share is the part of m that falls on cur of total units, by the largest
// remainder method so the remaining and removed parts sum to m exactly.
func share(m commerce.Money, cur, total int) (commerce.Money, error) {
	parts, err := m.Allocate([]decimal.Decimal{decimal.NewFromInt(int64(cur)), decimal.NewFromInt(int64(total - cur))})
	if err != nil {
		return commerce.Money{}, err
	}
	return parts[0], nil
}

func prorateDiscounts(ds []commerce.DiscountAllocation, cur, total int) ([]commerce.DiscountAllocation, error) {
	out := make([]commerce.DiscountAllocation, 0, len(ds))
	for _, d := range ds {
		amt, err := share(d.Amount, cur, total)
		if err != nil {
			return nil, err
		}
		d.Amount = amt
		out = append(out, d)
	}
	return out, nil
}

func prorateTax(ts []commerce.TaxLine, cur, total int) ([]commerce.TaxLine, error) {
	out := make([]commerce.TaxLine, 0, len(ts))
	for _, t := range ts {
		amt, err := share(t.Amount, cur, total)
		if err != nil {
			return nil, err
		}
		t.Amount = amt
		out = append(out, t)
	}
	return out, nil
}

func attribute(a wireAttribute) commerce.Attribute {
	v := ""
	if a.Value != nil {
		v = *a.Value
	}
	return commerce.Attribute{Key: a.Key, Value: v}
}

func mapAddress(a wireAddress) commerce.Address {
	return commerce.Address{
		FirstName:  a.FirstName,
		LastName:   a.LastName,
		Company:    a.Company,
		Line1:      a.Address1,
		Line2:      a.Address2,
		PostalCode: a.Zip,
		City:       a.City,
		Region:     a.ProvinceCode,
		Country:    a.CountryCodeV2,
		Phone:      a.Phone,
	}
}

func (c *Client) mapCustomer(w wireOrder) commerce.Customer {
	cu := commerce.Customer{Type: commerce.Consumer, Email: w.Email, Phone: w.Phone}
	if w.Customer != nil {
		cu.Source = c.ref(w.Customer.ID)
		cu.FirstName, cu.LastName = w.Customer.FirstName, w.Customer.LastName
		if cu.Email == "" && w.Customer.DefaultEmailAddress != nil {
			cu.Email = w.Customer.DefaultEmailAddress.EmailAddress
		}
		if cu.Phone == "" && w.Customer.DefaultPhoneNumber != nil {
			cu.Phone = w.Customer.DefaultPhoneNumber.PhoneNumber
		}
	}
	if cu.FirstName == "" && cu.LastName == "" && w.BillingAddress != nil {
		cu.FirstName, cu.LastName = w.BillingAddress.FirstName, w.BillingAddress.LastName
	}
	if w.PurchasingEntity != nil && w.PurchasingEntity.Company != nil {
		cu.Type = commerce.Business
		cu.Company = w.PurchasingEntity.Company.Name
	} else if w.BillingAddress != nil && w.BillingAddress.Company != "" {
		cu.Company = w.BillingAddress.Company
	}
	return cu
}

// provider names the payment provider behind a Shopify gateway name.
func provider(gateway string) string {
	g := strings.ToLower(gateway)
	for _, p := range []string{"shopify_payments", "klarna", "stripe", "paypal", "gift_card", "manual"} {
		if strings.Contains(g, p) {
			return p
		}
	}
	if g == "" {
		return "unknown"
	}
	return g
}

// payment maps a successful authorization or sale to a payment reference:
// the provider's authorization code when Shopify has one, else the
// transaction's id (which Shopify Payments balance transactions point
// back to).
func (m orderMapper) payment(f string, t wireTransaction) (commerce.PaymentRef, bool, error) {
	var kind string
	switch t.Kind {
	case "AUTHORIZATION", "EMV_AUTHORIZATION":
		kind = "authorization"
	case "SALE":
		kind = "sale"
	case "CAPTURE", "REFUND", "VOID", "CHANGE", "SUGGESTED_REFUND":
		return commerce.PaymentRef{}, false, nil
	default:
		return commerce.PaymentRef{}, false, invalid("MapOrder", f+".kind", fmt.Errorf("unknown transaction kind %q", t.Kind))
	}
	switch t.Status {
	case "SUCCESS":
	case "PENDING", "FAILURE", "ERROR", "AWAITING_RESPONSE", "UNKNOWN":
		return commerce.PaymentRef{}, false, nil
	default:
		return commerce.PaymentRef{}, false, invalid("MapOrder", f+".status", fmt.Errorf("unknown transaction status %q", t.Status))
	}
	amt, err := t.AmountSet.pick(m.kind).money()
	if err != nil {
		return commerce.PaymentRef{}, false, invalid("MapOrder", f+".amountSet", err)
	}
	ref := t.AuthorizationCode
	if ref == "" {
		ref = t.ID
	}
	return commerce.PaymentRef{Provider: provider(t.Gateway), Gateway: t.Gateway, Reference: ref, Amount: amt, Kind: kind}, true, nil
}
