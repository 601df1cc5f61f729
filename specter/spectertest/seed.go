package spectertest

import (
	"errors"
	"fmt"
	"maps"
	"strconv"

	"github.com/shopspring/decimal"

	"github.com/knyt/knyt/specter"
)

// The seeding helpers change the account as a person working in Specter
// would: each change goes into the change queues of every API user and
// fires the matching callbacks, exactly as the real system reports changes
// made in its own interface. (Changes made through the API itself do not
// come back through the queues, except their consequences: an order reserves
// stock, a delivery changes the order.)

// AddArticle creates or replaces an article. a.Stock (per site) makes it
// stock-kept. The article and its stock are queued.
func (h *Account) AddArticle(art Article) error {
	if reason := specter.ValidateArticleNumber(art.No); reason != "" {
		return fmt.Errorf("spectertest: article number %q: %s", art.No, reason)
	}
	if _, err := specter.Encode(art.Name); err != nil {
		return fmt.Errorf("spectertest: article name: %w", err)
	}
	a, unlock := h.lock()
	defer unlock()
	for site := range art.Stock {
		if !a.hasSite(site) {
			return fmt.Errorf("spectertest: no stock site %q", site)
		}
	}
	old := a.articles[art.No]
	c := art
	c.Stock = maps.Clone(art.Stock)
	if c.Stock == nil {
		c.Stock = map[string]int{}
	}
	c.Stocked = art.Stocked || len(art.Stock) > 0
	if old == nil {
		c.ID = a.next("article", 1)
		a.artOrder = append(a.artOrder, art.No)
	} else {
		c.ID = old.ID
	}
	a.articles[art.No] = &c
	a.enqueue(specter.QueueArticles, qitem{key: art.No})
	h.s.fire(a, specter.CallbackArticle, nil)
	if len(c.Stock) > 0 {
		for _, site := range a.cfg.StockSites {
			if _, ok := c.Stock[site]; ok {
				a.enqueue(specter.QueueStock, qitem{key: stockKey(art.No, site)})
			}
		}
		h.s.fire(a, specter.CallbackStock, nil)
	}
	return nil
}

// SetArticlePrice changes an article's price excluding VAT.
func (h *Account) SetArticlePrice(no string, priceExclVAT decimal.Decimal) error {
	a, unlock := h.lock()
	defer unlock()
	art := a.articles[no]
	if art == nil {
		return fmt.Errorf("spectertest: no article %q", no)
	}
	art.PriceExclVAT = priceExclVAT
	a.enqueue(specter.QueueArticles, qitem{key: no})
	h.s.fire(a, specter.CallbackArticle, nil)
	return nil
}

// SetStock sets the available quantity of an article at a stock site.
func (h *Account) SetStock(no, site string, available int) error {
	a, unlock := h.lock()
	defer unlock()
	art := a.articles[no]
	if art == nil {
		return fmt.Errorf("spectertest: no article %q", no)
	}
	if !a.hasSite(site) {
		return fmt.Errorf("spectertest: no stock site %q", site)
	}
	art.Stocked = true
	art.Stock[site] = available
	a.enqueue(specter.QueueStock, qitem{key: stockKey(no, site)})
	h.s.fire(a, specter.CallbackStock, nil)
	return nil
}

// MarkDelivered delivers an order with a tracking number: the given rows,
// or everything not yet delivered when none are given. It returns the
// delivery id.
func (h *Account) MarkDelivered(orderNo int, trackingNo string, rows ...DeliveredRow) (int, error) {
	a, unlock := h.lock()
	defer unlock()
	ord := a.orders[orderNo]
	if ord == nil {
		return 0, fmt.Errorf("spectertest: no order %d", orderNo)
	}
	if ord.Removed {
		return 0, fmt.Errorf("spectertest: order %d is removed", orderNo)
	}
	if len(rows) == 0 {
		for _, r := range ord.Rows {
			if left := r.Quantity.Sub(r.Delivered); left.IsPositive() {
				rows = append(rows, DeliveredRow{ArticleNo: r.ArticleNo, Quantity: left})
			}
		}
		if len(rows) == 0 {
			return 0, fmt.Errorf("spectertest: order %d is delivered already", orderNo)
		}
	}
	id, o := h.s.deliver(a, ord, h.s.today(), trackingNo, rows)
	if id == 0 {
		return 0, errors.New("spectertest: " + o.message)
	}
	return id, nil
}

// RemoveOrder removes (cancels) an order: statusId 5 in the order queue, the
// actionRemoveOrder callback, and its reserved stock released.
func (h *Account) RemoveOrder(orderNo int) error {
	a, unlock := h.lock()
	defer unlock()
	ord := a.orders[orderNo]
	if ord == nil {
		return fmt.Errorf("spectertest: no order %d", orderNo)
	}
	if ord.Removed {
		return nil
	}
	h.s.reserve(a, ord, decimal.NewFromInt(1))
	ord.Removed = true
	a.enqueue(specter.QueueOrders, qitem{key: strconv.Itoa(orderNo)})
	h.s.fire(a, specter.CallbackRemoveOrder, map[string]string{"orderNo": strconv.Itoa(orderNo)})
	return nil
}

// InvoiceOrder invoices an order from Specter's side (invoiceSource
// "sbm"), firing actionNewInvoice. It returns the invoice id.
func (h *Account) InvoiceOrder(orderNo int) (int, error) {
	a, unlock := h.lock()
	defer unlock()
	ord := a.orders[orderNo]
	if ord == nil || ord.Removed {
		return 0, fmt.Errorf("spectertest: no open order %d", orderNo)
	}
	id, o := h.s.invoice(a, ord, "sbm")
	if id == 0 {
		return 0, errors.New("spectertest: " + o.message)
	}
	return id, nil
}

// InjectStockChange queues a stock change exactly as given, whether or not
// the article exists, for tests of how a client handles odd queue items.
func (h *Account) InjectStockChange(articleNo, site, noItemsAv string) {
	a, unlock := h.lock()
	defer unlock()
	a.enqueue(specter.QueueStock, qitem{stock: &stockEntry{site: site, article: specter.StockArticle{ArticleNo: articleNo, NoItemsAv: noItemsAv}}})
	h.s.fire(a, specter.CallbackStock, nil)
}

// InjectOrderChange queues an order-queue item exactly as given (an
// unknown order, one without externalOrderNo, …).
func (h *Account) InjectOrderChange(oc specter.OrderChange) {
	a, unlock := h.lock()
	defer unlock()
	a.enqueue(specter.QueueOrders, qitem{order: &oc})
	h.s.fire(a, specter.CallbackOrder, nil)
}
