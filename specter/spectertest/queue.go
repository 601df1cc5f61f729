package spectertest

import (
	"context"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/knyt/knyt/specter"
)

// qitem is one waiting change: a key (article, article at a site, order)
// rendered when a batch takes it, or an injected item rendered as given.
type qitem struct {
	key   string
	stock *stockEntry
	order *specter.OrderChange
}

type stockEntry struct {
	site    string
	article specter.StockArticle
	id      int
}

// batch is an open batch: its items as they were when taken, so that a
// re-read returns the same.
type batch struct {
	no       string
	stock    []stockEntry
	articles []specter.ArticleInfo
	orders   []specter.OrderChange
	more     bool
}

type queue struct {
	pending []qitem
	waiting map[string]bool // keys in pending
	open    *batch
	closed  map[string]bool
}

func newQueue() *queue { return &queue{waiting: map[string]bool{}, closed: map[string]bool{}} }

// push adds a change unless the same key already waits (a later read shows
// its latest state anyway).
func (q *queue) push(it qitem) {
	if it.stock == nil && it.order == nil {
		if q.waiting[it.key] {
			return
		}
		q.waiting[it.key] = true
	}
	q.pending = append(q.pending, it)
}

func stockKey(articleNo, site string) string { return articleNo + "\x00" + site }

// enqueue puts a change into the queue of every API user of the account.
func (a *account) enqueue(q specter.Queue, it qitem) {
	for _, u := range a.allUsers() {
		u.queues[q].push(it)
	}
}

// fire calls the callback URLs of kind registered by the account's API
// users, substituting Specter's placeholders, each in its own goroutine.
func (s *Server) fire(a *account, kind specter.CallbackKind, vars map[string]string) {
	for _, u := range a.allUsers() {
		target := u.callbacks[kind]
		if target == "" {
			continue
		}
		for name, v := range vars {
			target = strings.ReplaceAll(target, "$"+name, v)
		}
		s.cbWG.Add(1)
		go s.call(kind, target)
	}
}

// CallbackCall records one callback the fake made.
type CallbackCall struct {
	Kind   specter.CallbackKind
	URL    string // as called, including its token
	Status int
	Answer string
	Err    error
	At     time.Time
}

// Done reports whether the receiver answered "1;Done".
func (c CallbackCall) Done() bool {
	return c.Err == nil && c.Status == http.StatusOK && strings.TrimSpace(c.Answer) == specter.CallbackAnswer
}

func (s *Server) call(kind specter.CallbackKind, target string) {
	defer s.cbWG.Done()
	rec := CallbackCall{Kind: kind, URL: target, At: time.Now()}
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, target, nil)
	if err == nil {
		var resp *http.Response
		if resp, err = s.cbClient.Do(req); err == nil {
			b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			resp.Body.Close()
			rec.Status, rec.Answer = resp.StatusCode, string(b)
		}
	}
	rec.Err = err
	s.cbMu.Lock()
	s.cbLog = append(s.cbLog, rec)
	s.cbMu.Unlock()
}

// WaitCallbacks waits until every callback fired so far has been answered.
func (s *Server) WaitCallbacks() { s.cbWG.Wait() }

// Callbacks returns the callbacks made so far, in the order they finished.
func (s *Server) Callbacks() []CallbackCall {
	s.cbMu.Lock()
	defer s.cbMu.Unlock()
	return append([]CallbackCall(nil), s.cbLog...)
}

// render takes the current state of the waiting items for a new batch.
func (s *Server) render(a *account, q specter.Queue, items []qitem, no string) *batch {
	b := &batch{no: no}
	for _, it := range items {
		switch q {
		case specter.QueueStock:
			if it.stock != nil {
				b.stock = append(b.stock, *it.stock)
				continue
			}
			no, site, _ := strings.Cut(it.key, "\x00")
			art := a.articles[no]
			if art == nil {
				continue
			}
			b.stock = append(b.stock, stockEntry{site: site, id: art.ID, article: specter.StockArticle{ArticleNo: no, NoItemsAv: available(art.Stock[site])}})
		case specter.QueueArticles:
			if art := a.articles[it.key]; art != nil {
				b.articles = append(b.articles, articleInfo(art))
			}
		case specter.QueueOrders:
			if it.order != nil {
				b.orders = append(b.orders, *it.order)
				continue
			}
			if o := a.orders[atoi(it.key)]; o != nil {
				b.orders = append(b.orders, orderChange(o))
			}
		}
	}
	return b
}

// available writes a quantity; none at all is the literal Specter sends.
func available(n int) string {
	if n == 0 {
		return specter.NoItemsAvailable
	}
	return itoa(n)
}

// comma writes a number with a decimal comma, as Specter's Swedish
// locale does (OBSERVED: clients replace ',' with '.').
func comma(d decimal.Decimal) string { return strings.Replace(d.String(), ".", ",", 1) }

func articleInfo(a *Article) specter.ArticleInfo {
	return specter.ArticleInfo{
		ArticleNo:     a.No,
		Name:          a.Name,
		PriceExclVat:  comma(a.PriceExclVAT),
		BuyPrice:      comma(a.BuyPrice),
		BarCode:       a.BarCode,
		ProductWeight: comma(a.WeightKg),
		VATPercent:    itoa(a.VATPercent),
	}
}

func orderChange(o *Order) specter.OrderChange {
	oc := specter.OrderChange{OrderNo: itoa(o.No), ExternalOrderNo: o.ExternalOrderNo, Status: specter.OrderStatus{StatusID: "1"}}
	if o.Removed {
		oc.Status.StatusID = specter.RemovedStatusID
	}
	if o.Delivered() {
		oc.Status.DeliveryStatus = specter.DeliveredStatus
	}
	if len(o.Deliveries) > 0 {
		oc.Deliveries = &specter.Deliveries{Updated: "1"}
		for _, d := range o.Deliveries {
			wd := specter.Delivery{ID: itoa(d.ID), Date: d.Date, TrackingNo: d.TrackingNo}
			for _, r := range d.Rows {
				wd.Rows = append(wd.Rows, specter.DeliveredRow{ArticleNo: r.ArticleNo, NoOfItems: r.Quantity.String()})
			}
			oc.Deliveries.Delivery = append(oc.Deliveries.Delivery, wd)
		}
	}
	return oc
}

// readQueue takes or re-reads a batch (get…NeedUpdate).
func (s *Server) readQueue(req *request, q specter.Queue) outcome {
	no := req.get("batchNo")
	if no == "" {
		return failure(specter.CodeInvalid, "batchNo missing")
	}
	qu := req.user.queues[q]
	if qu.open != nil && qu.open.no != no {
		return failure(specter.CodeBatchOpen, "Batch '%s' is not closed. Close it with the update action before a new batch is taken.", qu.open.no)
	}
	b := qu.open
	if b == nil {
		if qu.closed[no] {
			return failure(specter.CodeInvalid, "batchNo '%s' was used before", no)
		}
		n := min(s.pageLimit, len(qu.pending))
		items := qu.pending[:n]
		qu.pending = qu.pending[n:]
		for _, it := range items {
			delete(qu.waiting, it.key)
		}
		b = s.render(req.acc, q, items, no)
		b.more = len(qu.pending) > 0
		if len(b.stock)+len(b.articles)+len(b.orders) > 0 {
			qu.open = b // an empty read opens no batch
		}
	}
	return s.batchOutcome(req, q, b)
}

func (s *Server) batchOutcome(req *request, q specter.Queue, b *batch) outcome {
	out := success(b.no, "OK")
	limit := itoa(s.pageLimit)
	switch q {
	case specter.QueueStock:
		def := req.acc.defaultSite()
		multi := req.get("getMultipleStocksites") == "1"
		if req.form != specter.ReplyXML {
			for _, e := range b.stock {
				if e.site == def {
					out.rows = append(out.rows, itoa(e.id)+";"+e.article.ArticleNo+";"+e.article.NoItemsAv+";"+b.no)
				}
			}
			return out
		}
		bySite := map[string][]specter.StockArticle{}
		for _, e := range b.stock {
			if multi || e.site == def {
				bySite[e.site] = append(bySite[e.site], e.article)
			}
		}
		sites := make([]string, 0, len(bySite))
		for site := range bySite {
			sites = append(sites, site)
		}
		sort.Strings(sites)
		out.fill = func(doc *specter.XMLReply) {
			doc.StockChanges = &specter.StockChanges{}
			for _, site := range sites {
				doc.StockChanges.Stock = append(doc.StockChanges.Stock, specter.StockSiteChanges{SiteID: site, Articles: []specter.StockArticleSet{{Article: bySite[site]}}})
			}
			doc.ResponseMaxLimit = limit
		}
	case specter.QueueArticles:
		out.fill = func(doc *specter.XMLReply) {
			doc.Articles = &specter.ArticleList{Article: b.articles}
			doc.ResponseMaxLimit = limit
		}
	case specter.QueueOrders:
		more := "0"
		if b.more {
			more = "1"
		}
		out.fill = func(doc *specter.XMLReply) {
			doc.Orders = &specter.OrderList{Order: b.orders}
			doc.MoreInfoToFetch = more
		}
	}
	return out
}

// ackQueue closes a batch (update…FromBatch). Closing a closed batch again
// succeeds.
func (s *Server) ackQueue(req *request, q specter.Queue) outcome {
	no := req.get("batchNo")
	if no == "" {
		return failure(specter.CodeInvalid, "batchNo missing")
	}
	qu := req.user.queues[q]
	switch {
	case qu.open != nil && qu.open.no == no:
		qu.open = nil
		qu.closed[no] = true
		return success(no, "OK")
	case qu.closed[no]:
		return success(no, "already closed")
	case qu.open != nil:
		return failure(specter.CodeBatchOpen, "Batch '%s' is not open; batch '%s' is open", no, qu.open.no)
	}
	return failure(specter.CodeUnknownBatch, "batch '%s' is not open", no)
}

// resetStock is clearArticleBatch with clearSelf=1: the open stock batch is
// dropped and every stock-kept article's stock at every site queued again.
func (s *Server) resetStock(req *request) outcome {
	if req.get("batchNo") == "" {
		return failure(specter.CodeInvalid, "batchNo missing")
	}
	if req.get("clearSelf") != "1" {
		return failure(specter.CodeInvalid, "only clearSelf=1 is supported")
	}
	qu := req.user.queues[specter.QueueStock]
	qu.open = nil
	qu.pending = nil
	qu.waiting = map[string]bool{}
	a := req.acc
	for _, no := range a.artOrder {
		if art := a.articles[no]; art.Stocked {
			for _, site := range a.cfg.StockSites {
				qu.push(qitem{key: stockKey(no, site)})
			}
		}
	}
	return success(req.get("batchNo"), "OK")
}
