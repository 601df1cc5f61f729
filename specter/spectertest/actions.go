package spectertest

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/knyt/knyt/specter"
)

// dispatch runs an authenticated request; s.mu is held.
func (s *Server) dispatch(req *request) outcome {
	switch req.spec.Action {
	case specter.ActionNewCustomer:
		return s.newCustomer(req)
	case specter.ActionNewArticles:
		return s.newArticles(req)
	case specter.ActionNewOrder:
		return s.newOrder(req)
	case specter.ActionNewDelivery:
		return s.newDelivery(req)
	case specter.ActionNewInvoice:
		return s.newInvoice(req)
	case specter.ActionGetPDFLink:
		return s.pdfLink(req)
	case specter.ActionStockQueue:
		return s.readQueue(req, specter.QueueStock)
	case specter.ActionArticleQueue:
		return s.readQueue(req, specter.QueueArticles)
	case specter.ActionOrderQueue:
		return s.readQueue(req, specter.QueueOrders)
	case specter.ActionStockAck:
		return s.ackQueue(req, specter.QueueStock)
	case specter.ActionArticleAck:
		return s.ackQueue(req, specter.QueueArticles)
	case specter.ActionOrderAck:
		return s.ackQueue(req, specter.QueueOrders)
	case specter.ActionStockReset:
		return s.resetStock(req)
	case specter.ActionCheckAccountSettings:
		return s.accountSettings(req)
	}
	return failure(specter.CodeUnknownAction, "action '%s' is not implemented", req.spec.Action)
}

// number parses a plain decimal with a dot, as the API takes them.
func number(s string) (decimal.Decimal, bool) {
	if s == "" || strings.ContainsAny(s, "eE+ ,") {
		return decimal.Decimal{}, false
	}
	d, err := decimal.NewFromString(s)
	return d, err == nil
}

func integer(s string, lo, hi int) (int, bool) {
	n, err := strconv.Atoi(s)
	return n, err == nil && n >= lo && n <= hi
}

var languages = []string{"SE", "EN", "FI", "DA", "ES", "DE", "NO"}

// payTypes are the payTypeIdentifier codes seen in public client code.
var payTypes = []string{"I", "PP", "PE", "DP", "SP", "SS", "P", "PY", "PL", "BC", "CN", "D", "K", "KG", "SK", "HF", "CL", "SW", "SCH", "AE"}

func isCurrency(s string) bool {
	if len(s) != 3 {
		return false
	}
	for i := 0; i < 3; i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}

func isCountry(s string) bool { return len(s) == 2 && isCurrency(s+"X") }

// checkCommon validates the fields many actions share.
func checkCommon(req *request) *outcome {
	bad := func(format string, args ...any) *outcome {
		o := failure(specter.CodeInvalid, format, args...)
		return &o
	}
	if v := req.get("currency"); req.has("currency") && !isCurrency(v) {
		return bad("currency '%s' is not an ISO code", v)
	}
	if v := req.get("language"); req.has("language") && !slices.Contains(languages, v) {
		return bad("language '%s' is not one of %s", v, strings.Join(languages, ", "))
	}
	for _, f := range []string{"countryCode", "deliveryCountryCode"} {
		if v := req.get(f); v != "" && !isCountry(v) {
			return bad("%s '%s' is not an ISO country code", f, v)
		}
	}
	return nil
}

func (s *Server) newCustomer(req *request) outcome {
	if o := checkCommon(req); o != nil {
		return *o
	}
	name := req.get("name")
	if strings.TrimSpace(name) == "" {
		return failure(specter.CodeInvalid, "name missing")
	}
	for field := range req.params {
		for _, known := range []string{"name", "orgNo", "vatNo", "homepage", "emailAddress", "phoneNo", "mobileNo", "firstName", "surName"} {
			if field == strings.ToLower(known) {
				if max := specter.CustomerFieldMax(known); max > 0 && len(req.raw[field]) > max {
					return failure(specter.CodeInvalid, "%s longer than %d characters", known, max)
				}
			}
		}
	}
	form := req.get("customerOrganizationalForm")
	switch form {
	case "":
		form = "P"
	case "P", "C":
	default:
		return failure(specter.CodeInvalid, "customerOrganizationalForm '%s' is not P or C", form)
	}
	if e := req.get("emailAddress"); e != "" && !strings.Contains(e, "@") {
		return failure(specter.CodeInvalid, "emailAddress '%s' is not an e-mail address", e)
	}
	a := req.acc
	var found *Customer
	if e := strings.ToLower(req.get("emailAddress")); e != "" && req.get("ignoreControlEmail") != "1" {
		for _, c := range a.customers {
			if strings.ToLower(c.Email) == e {
				found = c
				break
			}
		}
	}
	if on := req.get("orgNo"); found == nil && on != "" && req.get("ignoreControlOrgNo") != "1" {
		for _, c := range a.customers {
			if c.OrgNo == on {
				found = c
				break
			}
		}
	}
	if found != nil && req.get("forceCustomerUpdate") != "1" {
		return success(itoa(found.ID), "existing customer")
	}
	c := found
	if c == nil {
		c = &Customer{ID: a.next("customer", 1001)}
		a.customers = append(a.customers, c)
	}
	c.Form = form
	c.Name = name
	set := func(dst *string, field string) {
		if req.has(field) {
			*dst = req.get(field)
		}
	}
	set(&c.FirstName, "firstName")
	set(&c.SurName, "surName")
	set(&c.ContactPerson, "contactPerson")
	set(&c.Attention, "attention")
	set(&c.OrgNo, "orgNo")
	set(&c.VATNo, "vatNo")
	set(&c.Email, "emailAddress")
	set(&c.Phone, "phoneNo")
	set(&c.Mobile, "mobileNo")
	set(&c.Currency, "currency")
	set(&c.Language, "language")
	set(&c.GroupID, "customerGroupId")
	set(&c.Invoice.CompanyName, "invoiceCompanyName")
	set(&c.Invoice.Address, "address")
	set(&c.Invoice.Row2, "addressRow2")
	set(&c.Invoice.ZipCode, "zipCodeEng")
	set(&c.Invoice.City, "city")
	set(&c.Invoice.CountryCode, "countryCode")
	set(&c.Invoice.Region, "region")
	set(&c.Delivery.CompanyName, "deliveryCompanyName")
	set(&c.Delivery.Attention, "deliveryAttention")
	set(&c.Delivery.Address, "deliveryAddress")
	set(&c.Delivery.Row2, "deliveryAddressRow2")
	set(&c.Delivery.ZipCode, "deliveryZipCodeEng")
	set(&c.Delivery.City, "deliveryCity")
	set(&c.Delivery.CountryCode, "deliveryCountryCode")
	set(&c.Delivery.Region, "deliveryregion")
	return success(itoa(c.ID), "OK")
}

// rowCount counts row-indexed fields name_1, name_2, … up to the first gap.
func rowCount(req *request, name string) int {
	n := 0
	for req.has(fmt.Sprintf("%s_%d", name, n+1)) {
		n++
	}
	return n
}

func row(req *request, name string, i int) string { return req.get(fmt.Sprintf("%s_%d", name, i)) }

func hasRow(req *request, name string, i int) bool { return req.has(fmt.Sprintf("%s_%d", name, i)) }

// articleRow is a parsed newArticleSubmit row.
type articleRow struct {
	no, name, barCode string
	price, buy, wt    *decimal.Decimal
	vat               *int
	stocked           bool
	stock             *int
}

func (s *Server) newArticles(req *request) outcome {
	n := rowCount(req, "articleNo")
	switch {
	case n == 0:
		return failure(specter.CodeInvalid, "no articleNo_1")
	case n > specter.MaxArticlesPerCall:
		return failure(specter.CodeInvalid, "%d articles in one call; at most %d", n, specter.MaxArticlesPerCall)
	}
	a := req.acc
	rows := make([]articleRow, n)
	seen := map[string]bool{}
	for i := 1; i <= n; i++ {
		r := articleRow{no: row(req, "articleNo", i), name: row(req, "name", i), barCode: row(req, "barCode", i)}
		if reason := specter.ValidateArticleNumber(r.no); reason != "" {
			return failure(specter.CodeInvalid, "row %d: article number '%s' %s", i, r.no, reason)
		}
		if seen[r.no] {
			return failure(specter.CodeInvalid, "row %d: article number '%s' twice in one call", i, r.no)
		}
		seen[r.no] = true
		for _, f := range []struct {
			name string
			dst  **decimal.Decimal
		}{{"priceExclVAT", &r.price}, {"buyPrice", &r.buy}, {"productWeight", &r.wt}} {
			if !hasRow(req, f.name, i) {
				continue
			}
			d, ok := number(row(req, f.name, i))
			if !ok || d.IsNegative() {
				return failure(specter.CodeInvalid, "row %d: %s '%s' is not a number", i, f.name, row(req, f.name, i))
			}
			*f.dst = &d
		}
		if hasRow(req, "vatPercent", i) {
			v, ok := integer(row(req, "vatPercent", i), 0, 100)
			if !ok {
				return failure(specter.CodeInvalid, "row %d: vatPercent '%s' is not a whole percentage", i, row(req, "vatPercent", i))
			}
			r.vat = &v
		}
		r.stocked = row(req, "createArticleStock", i) == "1"
		if hasRow(req, "noItemsInStock", i) {
			q, ok := integer(row(req, "noItemsInStock", i), -1<<30, 1<<30)
			if !ok {
				return failure(specter.CodeInvalid, "row %d: noItemsInStock is not a whole number", i)
			}
			r.stock = &q
		}
		if a.articles[r.no] == nil && strings.TrimSpace(r.name) == "" {
			return failure(specter.CodeInvalid, "row %d: a new article needs a name", i)
		}
		rows[i-1] = r
	}
	force := req.get("forceArticleUpdate") == "1"
	for _, r := range rows {
		art := a.articles[r.no]
		if art != nil && !force {
			continue // without forceArticleUpdate an existing article stays as it is
		}
		if art == nil {
			art = &Article{ID: a.next("article", 1), No: r.no, Stock: map[string]int{}}
			a.articles[r.no] = art
			a.artOrder = append(a.artOrder, r.no)
			if r.stocked && r.stock != nil {
				art.Stock[a.defaultSite()] = *r.stock
			}
		}
		if r.name != "" {
			art.Name = r.name
		}
		if r.barCode != "" {
			art.BarCode = r.barCode
		}
		if r.price != nil {
			art.PriceExclVAT = *r.price
		}
		if r.buy != nil {
			art.BuyPrice = *r.buy
		}
		if r.wt != nil {
			art.WeightKg = *r.wt
		}
		if r.vat != nil {
			art.VATPercent = *r.vat
		}
		art.Stocked = art.Stocked || r.stocked
	}
	return success(itoa(n), "OK")
}

func (s *Server) newOrder(req *request) outcome {
	if o := checkCommon(req); o != nil {
		return *o
	}
	a := req.acc
	cid, ok := integer(req.get("customerId"), 1, 1<<30)
	if !ok {
		return failure(specter.CodeInvalid, "customerId '%s' is not a number", req.get("customerId"))
	}
	if !slices.ContainsFunc(a.customers, func(c *Customer) bool { return c.ID == cid }) {
		return failure(specter.CodeUnknownCustomer, "customer '%d' does not exist", cid)
	}
	ext := req.get("externalOrderNo")
	if no, dup := a.external[ext]; ext != "" && dup && req.get("ignoreExternalOrderNoControl") != "1" {
		o := failure(specter.CodeDuplicateOrder, "externalOrderNo '%s' is already used by order '%d'", ext, no)
		o.id = itoa(no)
		return o
	}
	if req.get("currency") == "" {
		return failure(specter.CodeInvalid, "currency missing")
	}
	site := a.defaultSite()
	if v := req.get("stocksiteid"); v != "" {
		if !a.hasSite(v) {
			return failure(specter.CodeInvalid, "stocksiteid '%s' does not exist", v)
		}
		site = v
	}
	shop := req.get("webshopId")
	if shop != "" {
		if !req.v2 {
			return failure(specter.CodeInvalid, "webshopId (multishop) needs API version 2")
		}
		if !slices.Contains(a.cfg.Webshops, shop) {
			return failure(specter.CodeInvalid, "webshopId '%s' does not exist", shop)
		}
	}
	if pt := req.get("payTypeIdentifier"); pt != "" && !slices.Contains(payTypes, pt) {
		return failure(specter.CodeInvalid, "payTypeIdentifier '%s' is unknown", pt)
	}
	n := rowCount(req, "articleNo")
	if n == 0 {
		return failure(specter.CodeInvalid, "an order needs rows (articleNo_1)")
	}
	o := &Order{ExternalOrderNo: ext, CustomerID: cid, Currency: req.get("currency"), Language: req.get("language"),
		StockSite: site, WebshopID: shop, PayType: req.get("payTypeIdentifier"), PayReference: req.get("payTypeReference"),
		InternalComment: req.get("internalComment")}
	for i := 1; i <= n; i++ {
		no := row(req, "articleNo", i)
		if a.articles[no] == nil {
			return failure(specter.CodeUnknownArticle, "row %d: article '%s' does not exist", i, no)
		}
		qty, ok := number(row(req, "noOfItems", i))
		if !ok || !qty.IsPositive() {
			return failure(specter.CodeInvalid, "row %d: noOfItems '%s' is not a positive number", i, row(req, "noOfItems", i))
		}
		price, ok := number(row(req, "priceExclVAT", i))
		if !ok {
			return failure(specter.CodeInvalid, "row %d: priceExclVAT '%s' is not a number", i, row(req, "priceExclVAT", i))
		}
		vat, ok := integer(row(req, "vatPercent", i), 0, 100)
		if !ok {
			return failure(specter.CodeInvalid, "row %d: vatPercent '%s' is not a whole percentage", i, row(req, "vatPercent", i))
		}
		name := row(req, "articleName", i)
		if name == "" {
			name = a.articles[no].Name
		}
		o.Rows = append(o.Rows, OrderRow{ArticleNo: no, Name: name, PriceExclVAT: price, Quantity: qty, VATPercent: vat})
	}
	o.No = a.next("order", 5001)
	a.orders[o.No] = o
	a.orderSeq = append(a.orderSeq, o.No)
	if ext != "" {
		if _, dup := a.external[ext]; !dup {
			a.external[ext] = o.No
		}
	}
	// The order reserves stock: what is available drops at its site.
	s.reserve(a, o, decimal.NewFromInt(-1))
	return success(itoa(o.No), "OK")
}

// reserve moves the available stock of an order's undelivered stock-kept
// rows by sign × quantity and queues the stock changes.
func (s *Server) reserve(a *account, o *Order, sign decimal.Decimal) {
	changed := false
	for _, r := range o.Rows {
		art := a.articles[r.ArticleNo]
		if art == nil || !art.Stocked {
			continue
		}
		left := r.Quantity.Sub(r.Delivered)
		if !left.IsPositive() {
			continue
		}
		art.Stock[o.StockSite] += int(left.Mul(sign).IntPart())
		a.enqueue(specter.QueueStock, qitem{key: stockKey(art.No, o.StockSite)})
		changed = true
	}
	if changed {
		s.fire(a, specter.CallbackStock, nil)
	}
}

func (s *Server) orderOf(req *request) (*Order, *outcome) {
	no, ok := integer(req.get("orderId"), 1, 1<<30)
	if !ok {
		o := failure(specter.CodeInvalid, "orderId '%s' is not a number", req.get("orderId"))
		return nil, &o
	}
	ord := req.acc.orders[no]
	if ord == nil {
		o := failure(specter.CodeUnknownOrder, "order '%d' does not exist", no)
		return nil, &o
	}
	if ord.Removed {
		o := failure(specter.CodeWrongState, "order '%d' is removed", no)
		return nil, &o
	}
	return ord, nil
}

func (s *Server) newDelivery(req *request) outcome {
	ord, bad := s.orderOf(req)
	if bad != nil {
		return *bad
	}
	date := req.get("deliveryDate")
	if date == "" {
		date = s.today()
	} else if _, err := time.Parse(specter.DateLayout, date); err != nil {
		return failure(specter.CodeInvalid, "deliveryDate '%s' is not YYYY-MM-DD", date)
	}
	if req.get("useArticleNoRowMapping") != "1" {
		return failure(specter.CodeInvalid, "rows are mapped by article number only (useArticleNoRowMapping=1)")
	}
	n := rowCount(req, "articleNo")
	if n == 0 {
		return failure(specter.CodeInvalid, "a delivery needs rows (articleNo_1)")
	}
	rows := make([]DeliveredRow, 0, n)
	for i := 1; i <= n; i++ {
		q, ok := number(row(req, "noOfItems", i))
		if !ok || !q.IsPositive() {
			return failure(specter.CodeInvalid, "row %d: noOfItems '%s' is not a positive number", i, row(req, "noOfItems", i))
		}
		rows = append(rows, DeliveredRow{ArticleNo: row(req, "articleNo", i), Quantity: q})
	}
	id, o := s.deliver(req.acc, ord, date, "", rows)
	if id == 0 {
		return o
	}
	return success(itoa(id), "OK")
}

// deliver records a delivery after checking it against what is left to
// deliver, queues the order change and fires the callback. It returns the
// delivery id, or 0 and the refusal.
func (s *Server) deliver(a *account, ord *Order, date, tracking string, rows []DeliveredRow) (int, outcome) {
	left := map[string]decimal.Decimal{}
	for _, r := range ord.Rows {
		left[r.ArticleNo] = left[r.ArticleNo].Add(r.Quantity.Sub(r.Delivered))
	}
	for _, r := range rows {
		l, ok := left[r.ArticleNo]
		if !ok {
			return 0, failure(specter.CodeUnknownArticle, "article '%s' is not on order '%d'", r.ArticleNo, ord.No)
		}
		if r.Quantity.GreaterThan(l) {
			return 0, failure(specter.CodeWrongState, "article '%s': %s to deliver, %s left on order '%d'", r.ArticleNo, r.Quantity, l, ord.No)
		}
		left[r.ArticleNo] = l.Sub(r.Quantity)
	}
	for _, d := range rows {
		q := d.Quantity
		for i := range ord.Rows {
			r := &ord.Rows[i]
			if r.ArticleNo != d.ArticleNo || !q.IsPositive() {
				continue
			}
			take := decimal.Min(q, r.Quantity.Sub(r.Delivered))
			r.Delivered = r.Delivered.Add(take)
			q = q.Sub(take)
		}
	}
	id := a.next("delivery", 9001)
	ord.Deliveries = append(ord.Deliveries, Delivery{ID: id, Date: date, TrackingNo: tracking, Rows: rows})
	a.enqueue(specter.QueueOrders, qitem{key: itoa(ord.No)})
	s.fire(a, specter.CallbackOrder, nil)
	return id, outcome{}
}

func (s *Server) newInvoice(req *request) outcome {
	ord, bad := s.orderOf(req)
	if bad != nil {
		return *bad
	}
	if t := req.get("typeInvoice"); t != specter.TypeInvoiceDebit {
		return failure(specter.CodeInvalid, "typeInvoice '%s' is not supported", t)
	}
	id, o := s.invoice(req.acc, ord, "api")
	if id == 0 {
		return o
	}
	return success(itoa(id), "OK")
}

// invoice invoices a whole order once.
func (s *Server) invoice(a *account, ord *Order, source string) (int, outcome) {
	if len(ord.InvoiceIDs) > 0 {
		o := failure(specter.CodeAlreadyInvoiced, "order '%d' is already invoiced (invoice '%d')", ord.No, ord.InvoiceIDs[0])
		o.id = itoa(ord.InvoiceIDs[0])
		return 0, o
	}
	inv := &Invoice{ID: a.next("invoice", 70001), OrderNo: ord.No, Type: specter.TypeInvoiceDebit, Date: s.today(), Rows: slices.Clone(ord.Rows)}
	net := map[int]decimal.Decimal{}
	for _, r := range ord.Rows {
		net[r.VATPercent] = net[r.VATPercent].Add(r.PriceExclVAT.Mul(r.Quantity).Round(2))
	}
	for pct, n := range net {
		inv.Net = inv.Net.Add(n)
		inv.VAT = inv.VAT.Add(n.Mul(decimal.NewFromInt(int64(pct))).Div(decimal.NewFromInt(100)).Round(2))
	}
	inv.Gross = inv.Net.Add(inv.VAT)
	a.invoices = append(a.invoices, inv)
	ord.InvoiceIDs = append(ord.InvoiceIDs, inv.ID)
	s.fire(a, specter.CallbackInvoice, map[string]string{"orderId": itoa(ord.No), "invoiceId": itoa(inv.ID), "invoiceSource": source})
	return inv.ID, outcome{}
}

func (s *Server) pdfLink(req *request) outcome {
	if req.get("typeDocument") != "invoice" {
		return failure(specter.CodeInvalid, "typeDocument '%s' is not supported", req.get("typeDocument"))
	}
	id, ok := integer(req.get("documentId"), 1, 1<<30)
	if !ok || !slices.ContainsFunc(req.acc.invoices, func(inv *Invoice) bool { return inv.ID == id }) {
		return failure(specter.CodeUnknownOrder, "document '%s' does not exist", req.get("documentId"))
	}
	q := url.Values{"doc": {itoa(id)}, "sbm": {req.acc.cfg.SBMID}, "t": {s.docToken}}
	return success(s.srv.URL+"/document.asp?"+q.Encode(), "")
}

// serveDocument serves the PDF behind a getPDFLink address.
func (s *Server) serveDocument(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.mu.Lock()
	ok := q.Get("t") == s.docToken && s.accounts[q.Get("sbm")] != nil
	s.mu.Unlock()
	if !ok {
		writeIISError(w, http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "application/pdf")
	fmt.Fprintf(w, "%%PDF-1.4\n%% spectertest invoice %s\n%%%%EOF\n", q.Get("doc"))
}

func (s *Server) accountSettings(req *request) outcome {
	date := req.get("date")
	if _, err := time.Parse(specter.DateLayout, date); err != nil {
		return failure(specter.CodeInvalid, "date '%s' is not YYYY-MM-DD", date)
	}
	for _, k := range specter.AllCallbacks {
		param, _ := specter.CallbackParam(k)
		if !req.has(param) {
			continue
		}
		v := req.get(param)
		if v == "" {
			delete(req.user.callbacks, k)
			continue
		}
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return failure(specter.CodeInvalid, "%s is not an http(s) address", param)
		}
		req.user.callbacks[k] = v
	}
	return success("0", "OK")
}
