package specter

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/connector"
)

// parseDecimal reads a number from a reply; a decimal comma is accepted
// (OBSERVED: article prices may come as "199,20").
func parseDecimal(s string) (decimal.Decimal, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, ",") && !strings.Contains(s, ".") {
		s = strings.Replace(s, ",", ".", 1)
	}
	return commerce.ParseAmount(s)
}

// parseAvailable reads a stock quantity: NoItemsAvailable is 0, a fraction
// (stock kept in kilograms or metres) is rounded down to what can be sold
// in whole units.
func parseAvailable(s string) (int, error) {
	s = strings.TrimSpace(s)
	if s == NoItemsAvailable {
		return 0, nil
	}
	d, err := parseDecimal(s)
	if err != nil {
		return 0, err
	}
	if d.Abs().GreaterThan(decimal.NewFromInt(1 << 40)) {
		return 0, fmt.Errorf("stock %s out of range", s)
	}
	return int(d.Floor().IntPart()), nil
}

// pageFull reports whether a page reached the server's responseMaxLimit,
// which means more items are waiting (OBSERVED reading of the field).
func pageFull(limit string, n int) bool {
	l, err := strconv.Atoi(strings.TrimSpace(limit))
	return err == nil && l > 0 && n >= l
}

func (c *Connector) location(site string) string {
	if l, ok := c.cfg.siteLocations[site]; ok {
		return l
	}
	return site
}

func (c *Connector) readStock(ctx context.Context, batch string) ([]commerce.StockLevel, bool, error) {
	const op = "Stock.Next"
	now := c.cfg.now().UTC()
	if c.cfg.singleSite != "" {
		rows, err := c.client.ReadStockRows(ctx, batch)
		if err != nil {
			return nil, false, err
		}
		out := make([]commerce.StockLevel, 0, len(rows))
		for _, r := range rows {
			n, err := parseAvailable(r.Amount)
			if err != nil {
				return nil, false, itemError(op, QueueStock, batch, connector.KindPermanent, "article %q: quantity %q: %v", r.ArticleNo, r.Amount, err)
			}
			out = append(out, commerce.StockLevel{SKU: r.ArticleNo, Location: c.cfg.singleSite, Available: n, ObservedAt: now})
		}
		return out, false, nil
	}
	r, err := c.client.Read(ctx, QueueStock, batch)
	if err != nil {
		return nil, false, err
	}
	if r.XML == nil || r.XML.StockChanges == nil {
		return nil, false, nil
	}
	var out []commerce.StockLevel
	for _, site := range r.XML.StockChanges.Stock {
		loc := c.location(strings.TrimSpace(site.SiteID))
		if loc == "" {
			return nil, false, itemError(op, QueueStock, batch, connector.KindPermanent, "a stock site without an id")
		}
		for _, set := range site.Articles {
			for _, a := range set.Article {
				sku := strings.TrimSpace(a.ArticleNo)
				if sku == "" {
					return nil, false, itemError(op, QueueStock, batch, connector.KindPermanent, "a stock change without an article number")
				}
				n, err := parseAvailable(a.NoItemsAv)
				if err != nil {
					return nil, false, itemError(op, QueueStock, batch, connector.KindPermanent, "article %q: quantity %q: %v", sku, a.NoItemsAv, err)
				}
				out = append(out, commerce.StockLevel{SKU: sku, Location: loc, Available: n, ObservedAt: now})
			}
		}
	}
	return out, pageFull(r.XML.ResponseMaxLimit, len(out)), nil
}

func (c *Connector) readArticles(ctx context.Context, batch string) ([]commerce.Product, bool, error) {
	const op = "Products.Next"
	r, err := c.client.Read(ctx, QueueArticles, batch)
	if err != nil {
		return nil, false, err
	}
	if r.XML == nil || r.XML.Articles == nil {
		return nil, false, nil
	}
	out := make([]commerce.Product, 0, len(r.XML.Articles.Article))
	for _, a := range r.XML.Articles.Article {
		p, err := c.productOf(a)
		if err != nil {
			return nil, false, itemError(op, QueueArticles, batch, connector.KindPermanent, "article %q: %v", a.ArticleNo, err)
		}
		out = append(out, p)
	}
	return out, pageFull(r.XML.ResponseMaxLimit, len(out)), nil
}

// productOf maps a changed article to a product with one variant.
func (c *Connector) productOf(a ArticleInfo) (commerce.Product, error) {
	no := strings.TrimSpace(a.ArticleNo)
	if no == "" {
		return commerce.Product{}, errors.New("no article number")
	}
	if strings.TrimSpace(a.PriceExclVat) == "" {
		return commerce.Product{}, errors.New("no priceExclVat")
	}
	price, err := parseDecimal(a.PriceExclVat)
	if err != nil {
		return commerce.Product{}, fmt.Errorf("priceExclVat: %w", err)
	}
	title := strings.TrimSpace(a.Name)
	if title == "" {
		title = no
	}
	v := commerce.Variant{
		Origin:  commerce.Origin{Source: c.ref(no)},
		SKU:     no,
		Title:   title,
		Barcode: strings.TrimSpace(a.BarCode),
		Price:   commerce.NewMoney(price, c.cfg.baseCurrency),
		Active:  true,
	}
	if s := strings.TrimSpace(a.BuyPrice); s != "" {
		d, err := parseDecimal(s)
		if err != nil {
			return commerce.Product{}, fmt.Errorf("buyPrice: %w", err)
		}
		m := commerce.NewMoney(d, c.cfg.baseCurrency)
		v.Cost = &m
	}
	if s := strings.TrimSpace(a.ProductWeight); s != "" {
		d, err := parseDecimal(s)
		if err != nil {
			return commerce.Product{}, fmt.Errorf("productWeight: %w", err)
		}
		v.Weight = &commerce.Weight{Value: d, Unit: commerce.Kilograms}
	}
	if s := strings.TrimSpace(a.VATPercent); s != "" {
		d, err := parseDecimal(s)
		if err != nil {
			return commerce.Product{}, fmt.Errorf("vatPercent: %w", err)
		}
		v.VATRatePercent = &d
	}
	p := commerce.Product{
		Origin:   commerce.Origin{Source: c.ref(no)},
		Title:    title,
		Status:   commerce.ProductActive,
		Variants: []commerce.Variant{v},
	}
	return p, p.Validate()
}

func (c *Connector) readOrders(ctx context.Context, batch string) ([]commerce.OrderEvent, bool, error) {
	r, err := c.client.Read(ctx, QueueOrders, batch)
	if err != nil {
		return nil, false, err
	}
	if r.XML == nil || r.XML.Orders == nil {
		return nil, false, nil
	}
	var out []commerce.OrderEvent
	for _, oc := range r.XML.Orders.Order {
		evs, err := c.orderEvents(ctx, batch, oc)
		if err != nil {
			return nil, false, err
		}
		out = append(out, evs...)
	}
	more := strings.TrimSpace(r.XML.MoreInfoToFetch)
	return out, more == "1" || strings.EqualFold(more, "true"), nil
}

// resolveOrder finds the shop's order number of a Specter order: from the
// externalOrderNo when Specter sent it, else from the orders this connector
// created, else from WithOrderResolver. ok is false for an order of another
// shop (its externalOrderNo lacks this connector's prefix), which this
// connector skips. where says where the order came from, for errors.
func (c *Connector) resolveOrder(ctx context.Context, op, where, orderNo, ext string) (number string, ok bool, err error) {
	if ext = strings.TrimSpace(ext); ext != "" {
		if !strings.HasPrefix(ext, c.cfg.orderPrefix) {
			return "", false, nil
		}
		return strings.TrimPrefix(ext, c.cfg.orderPrefix), true, nil
	}
	if n := c.shopOrderNumber(orderNo); n != "" {
		return n, true, nil
	}
	if c.cfg.resolver != nil {
		n, err := c.cfg.resolver(ctx, orderNo)
		if err != nil {
			kind := connector.KindOf(err)
			if kind == connector.KindUnknown {
				kind = connector.KindNotFound
			}
			return "", false, &connector.Error{System: System, Op: op, Kind: kind,
				Message: fmt.Sprintf("%s: order %s: resolving the shop's order number", where, orderNo), Err: err}
		}
		if n != "" {
			return n, true, nil
		}
	}
	return "", false, &connector.Error{System: System, Op: op, Kind: connector.KindNotFound,
		Message: fmt.Sprintf("%s: order %s: no externalOrderNo and the order is not known (set WithOrderResolver)", where, orderNo)}
}

// orderEvents maps one order-queue item: a removed order (statusId 5) is a
// cancelled event; each listed delivery is a delivered event with its rows
// and tracking number; a delivered order without delivery details is one
// delivered event for the whole order. Event ids are stable, so an item
// read again (a batch re-read after a crash) yields the same events.
func (c *Connector) orderEvents(ctx context.Context, batch string, oc OrderChange) ([]commerce.OrderEvent, error) {
	const op = "OrderEvents.Next"
	orderNo := strings.TrimSpace(oc.OrderNo)
	if orderNo == "" {
		return nil, itemError(op, QueueOrders, batch, connector.KindPermanent, "an order change without orderNo")
	}
	number, ok, err := c.resolveOrder(ctx, op, fmt.Sprintf("queue %s, batch %s", QueueOrders, batch), orderNo, oc.ExternalOrderNo)
	if err != nil || !ok {
		return nil, err
	}
	origin := commerce.Origin{Source: c.ref(orderNo)}
	base := "order/" + orderNo
	var out []commerce.OrderEvent
	switch {
	case strings.TrimSpace(oc.Status.StatusID) == RemovedStatusID:
		out = append(out, commerce.OrderEvent{Origin: origin, ID: base + "/cancelled", Kind: commerce.EventCancelled, OrderNumber: number})
	case oc.Deliveries != nil && len(oc.Deliveries.Delivery) > 0:
		for i, d := range oc.Deliveries.Delivery {
			id := strings.TrimSpace(d.ID)
			if id == "" {
				id = strconv.Itoa(i + 1)
			}
			ev := commerce.OrderEvent{Origin: origin, ID: base + "/delivery/" + id, Kind: commerce.EventDelivered, OrderNumber: number}
			if tn := strings.TrimSpace(d.TrackingNo); tn != "" {
				ev.Tracking = []commerce.Tracking{{Number: tn}}
			}
			if ds := strings.TrimSpace(d.Date); ds != "" {
				if t, err := time.ParseInLocation(DateLayout, ds, stockholm()); err == nil {
					ev.At = t
				}
			}
			for _, row := range d.Rows {
				q, err := parseDecimal(row.NoOfItems)
				if err != nil || !q.IsInteger() || !q.IsPositive() {
					return nil, itemError(op, QueueOrders, batch, connector.KindPermanent, "order %s, delivery %s: quantity %q of %q", orderNo, id, row.NoOfItems, row.ArticleNo)
				}
				sku := strings.TrimSpace(row.ArticleNo)
				if sku == c.cfg.shippingArticle || sku == c.cfg.discountArticle {
					continue // charges, not goods of the shop's order lines
				}
				ev.Lines = append(ev.Lines, commerce.FulfillmentLine{SKU: sku, Quantity: int(q.IntPart())})
			}
			if len(d.Rows) > 0 && len(ev.Lines) == 0 {
				continue // only charges delivered: no goods left the warehouse
			}
			out = append(out, ev)
		}
	case strings.TrimSpace(oc.Status.DeliveryStatus) == DeliveredStatus || (oc.Deliveries != nil && strings.TrimSpace(oc.Deliveries.Updated) == "1"):
		out = append(out, commerce.OrderEvent{Origin: origin, ID: base + "/delivered", Kind: commerce.EventDelivered, OrderNumber: number})
	}
	for i := range out {
		if err := out[i].Validate(); err != nil {
			return nil, itemError(op, QueueOrders, batch, connector.KindPermanent, "order %s: %v", orderNo, err)
		}
	}
	return out, nil
}
