package specter

import "encoding/xml"

// The XML shapes of useXML=2 replies, reconstructed from public client code
// (like everything in assumptions.go). Each field says whether the element
// or attribute was OBSERVED being read by a client or is ASSUMED. The fake
// spectertest writes replies with these types and the client reads them, so
// a correction here changes both.

// XMLReply is the document element of every XML reply. Its name is not known
// (clients only address its children), so any name is accepted when reading.
type XMLReply struct {
	XMLName     xml.Name
	APIResponse *APIResponse `xml:"APIresponse"` // OBSERVED (result, code, message)
	// Queue payloads, one per queue.
	StockChanges *StockChanges `xml:"stockChanges"` // OBSERVED
	Articles     *ArticleList  `xml:"articles"`     // OBSERVED
	Orders       *OrderList    `xml:"orders"`       // OBSERVED
	// Paging: ResponseMaxLimit is the page limit of the article (and, ASSUMED,
	// the stock) queue; a page holding that many items means more are waiting
	// (OBSERVED in how the module reads it). MoreInfoToFetch is 1 when the
	// order queue holds more (OBSERVED element; the value 1 is ASSUMED).
	ResponseMaxLimit string `xml:"responseMaxLimit,omitempty"`
	MoreInfoToFetch  string `xml:"moreInfoToFetch,omitempty"`
}

// APIResponse is the status part of an XML reply. Result is "1" on success
// (OBSERVED). Code and Message describe a failure (OBSERVED for code 99). ID
// is the created id on success, as in the text form's second field, and the
// existing id when a duplicate is refused (ASSUMED).
type APIResponse struct {
	Result  string `xml:"result"`
	ID      string `xml:"id,omitempty"`
	Code    string `xml:"code,omitempty"`
	Message string `xml:"message,omitempty"`
}

// StockChanges is the stock queue with getMultipleStocksites=1 (OBSERVED
// path stockChanges/stock/articles/article/{articleNo,noItemsAv}).
type StockChanges struct {
	Stock []StockSiteChanges `xml:"stock"`
}

// StockSiteChanges are the changes at one stock site. SiteID names the site
// (ASSUMED attribute: clients that sum over sites never read it).
type StockSiteChanges struct {
	SiteID   string            `xml:"stockSiteId,attr,omitempty"`
	Articles []StockArticleSet `xml:"articles"`
}

// StockArticleSet groups the articles of a site (OBSERVED level).
type StockArticleSet struct {
	Article []StockArticle `xml:"article"`
}

// StockArticle is one article's available quantity; NoItemsAv may be the
// literal NoItemsAvailable (OBSERVED).
type StockArticle struct {
	ArticleNo string `xml:"articleNo"`
	NoItemsAv string `xml:"noItemsAv"`
}

// ArticleList is the article master-data queue (OBSERVED path
// articles/article).
type ArticleList struct {
	Article []ArticleInfo `xml:"article"`
}

// ArticleInfo is one changed article. ArticleNo and Name are child
// elements; the rest are attributes (OBSERVED). Decimal numbers may use a
// comma (OBSERVED: the module replaces ',' with '.'). VATPercent is ASSUMED.
// Prices are excluding VAT in the company's base currency.
type ArticleInfo struct {
	ArticleNo     string `xml:"articleNo"`
	Name          string `xml:"name"`
	PriceExclVat  string `xml:"priceExclVat,attr,omitempty"`
	BuyPrice      string `xml:"buyPrice,attr,omitempty"`
	BarCode       string `xml:"barCode,attr,omitempty"`
	ProductWeight string `xml:"productWeight,attr,omitempty"` // kilograms (ASSUMED unit)
	VATPercent    string `xml:"vatPercent,attr,omitempty"`    // ASSUMED
}

// OrderList is the order-change queue (OBSERVED path orders/order).
type OrderList struct {
	Order []OrderChange `xml:"order"`
}

// OrderChange is one changed order. OrderNo is Specter's order number
// (OBSERVED). ExternalOrderNo, the web order number given at creation, is
// ASSUMED to be sent back here; without it the connector needs an
// OrderResolver.
type OrderChange struct {
	OrderNo         string      `xml:"orderNo,attr"`
	ExternalOrderNo string      `xml:"externalOrderNo,attr,omitempty"`
	Status          OrderStatus `xml:"orderstatus"`
	Deliveries      *Deliveries `xml:"deliveries"`
}

// OrderStatus holds deliveryStatus ("D" = delivered) and statusId ("5" =
// removed), both OBSERVED.
type OrderStatus struct {
	DeliveryStatus string `xml:"deliveryStatus,attr,omitempty"`
	StatusID       string `xml:"statusId,attr,omitempty"`
}

// Deliveries lists an order's deliveries; Updated is "1" when they changed
// (OBSERVED).
type Deliveries struct {
	Updated  string     `xml:"updated,attr,omitempty"`
	Delivery []Delivery `xml:"delivery"`
}

// Delivery is one delivery. TrackingNo is OBSERVED; ID, Date and the rows
// (for partial deliveries, which Specter supports per order row) are
// ASSUMED.
type Delivery struct {
	ID         string         `xml:"deliveryId,attr,omitempty"`
	Date       string         `xml:"deliveryDate,attr,omitempty"`
	TrackingNo string         `xml:"trackingNo,attr,omitempty"`
	Rows       []DeliveredRow `xml:"row"`
}

// DeliveredRow is a quantity of an article delivered (ASSUMED shape).
type DeliveredRow struct {
	ArticleNo string `xml:"articleNo,attr"`
	NoOfItems string `xml:"noOfItems,attr"`
}
