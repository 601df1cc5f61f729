package specter

import (
	"strings"

	"github.com/knyt/knyt/connector"
)

// This file is the one place that holds what is reconstructed about Specter's
// partner API rather than confirmed by Specter's own specification ("API-
// beskrivning Webbshopsintegration med Specter Business Management", PDF
// v2.45, handed to partners). Everything here comes from public client code
// (the Prestaworks PrestaShop module, an independent Laravel client) and
// integrator documentation; see ../shared/reference/specter.md. When the PDF
// is obtained, correct this file (and wire.go, which holds the reconstructed
// XML shapes): the client, the connector and the fake spectertest all read
// these tables, so a correction touches one place.
//
// Each entry says whether it was OBSERVED in public client code or ASSUMED.

// Action is the name of a Specter API action, sent as the action query
// parameter. The server matches action names case-insensitively (observed:
// clients send both action and Action, and mixed case).
type Action string

// Actions seen in public client code (all OBSERVED, §4.2 of the reference).
const (
	ActionNewCustomer          Action = "newCustomerSubmit"
	ActionNewArticles          Action = "newArticleSubmit"
	ActionNewOrder             Action = "newOrderSubmit"
	ActionNewDelivery          Action = "newDeliverySubmit"
	ActionNewInvoice           Action = "newInvoiceSubmit"
	ActionGetPDFLink           Action = "getPDFLink"
	ActionStockQueue           Action = "getArticleExternalNeedUpdate"
	ActionStockAck             Action = "updateArticlesFromBatch"
	ActionStockReset           Action = "clearArticleBatch"
	ActionArticleQueue         Action = "getArticleInfoExternalNeedUpdate"
	ActionArticleAck           Action = "updateArticleInfosFromBatch"
	ActionOrderQueue           Action = "getOrdersExternalNeedUpdate"
	ActionOrderAck             Action = "updateOrdersFromBatch"
	ActionCheckAccountSettings Action = "checkAccountSettings"
)

// Endpoints. Reads, queues and acknowledgements go to getInfo.asp, writes to
// putInfo.asp (OBSERVED). The server treats the path case-insensitively.
const (
	EndpointGet = "getInfo.asp"
	EndpointPut = "putInfo.asp"
)

// Reply forms, the value of the useXML parameter (OBSERVED): 1 asks for the
// text line "result;id;message", 2 for XML with an APIresponse element. A
// stock queue read without useXML answers CR-separated rows.
const (
	ReplyRows = 0
	ReplyText = 1
	ReplyXML  = 2
)

// ActionSpec is what the client needs to know to send an action and what
// the fake needs to check it.
type ActionSpec struct {
	Action   Action
	Endpoint string // EndpointGet or EndpointPut
	// Write reports a change of state: sent as a POST with the fields in a
	// form body. Reads are GETs with everything in the query.
	Write bool
	// Signed names the request parameter whose value is the per-action
	// value X in the signature (see Signer). SignedPrefix is prepended to
	// it (only getPDFLink has one).
	Signed       string
	SignedPrefix string
	// Reply is the useXML value the client asks for.
	Reply int
	// Repeatable reports that sending the action twice has the effect of
	// sending it once, so the transport may retry it after a failure that
	// may have reached the server.
	Repeatable bool
}

// actions is THE per-action table: endpoint, the signed value X of the
// signature key, the reply form asked for, and whether a repeat is harmless.
//
// Signed values X are OBSERVED in the Prestaworks module (§5.1 of the
// reference): customer name, first article number of the batch, customerId,
// Specter order id, batchNo, date, and 'getPDFLink'+documentId (v1 path).
// ASSUMED: that the server reads X from exactly these request fields; for a
// customer the module signs "first last" of a private person without sending
// a name field, so this client always sends name and signs it.
//
// Reply forms: OBSERVED, except that newOrderSubmit (XML seen in the
// independent Laravel client) and newInvoiceSubmit (text seen) ask for XML,
// because an APIresponse can carry an id next to an error code: the
// existing order or invoice when a duplicate is refused (ASSUMED, see
// CodeDuplicateOrder and CodeAlreadyInvoiced).
//
// Repeatable: customer and article writes carry force-update flags (an
// upsert); newOrderSubmit is guarded by Specter's externalOrderNo duplicate
// control (OBSERVED), so a repeat is refused, not applied twice; queue reads
// with the same batchNo re-read the open batch (OBSERVED: the module's
// recovery re-reads a stuck batch with its number); acknowledging a closed
// batch again is ASSUMED harmless; a second invoice for a fully invoiced
// order is ASSUMED refused (CodeAlreadyInvoiced). Deliveries are not
// repeatable: a second delivery delivers more.
var actions = map[Action]ActionSpec{
	ActionNewCustomer:          {Endpoint: EndpointPut, Write: true, Signed: "name", Reply: ReplyText, Repeatable: true},
	ActionNewArticles:          {Endpoint: EndpointPut, Write: true, Signed: "articleNo_1", Reply: ReplyText, Repeatable: true},
	ActionNewOrder:             {Endpoint: EndpointPut, Write: true, Signed: "customerId", Reply: ReplyXML, Repeatable: true},
	ActionNewDelivery:          {Endpoint: EndpointPut, Write: true, Signed: "orderId", Reply: ReplyText},
	ActionNewInvoice:           {Endpoint: EndpointPut, Write: true, Signed: "orderId", Reply: ReplyXML, Repeatable: true},
	ActionGetPDFLink:           {Endpoint: EndpointGet, Signed: "documentId", SignedPrefix: "getPDFLink", Reply: ReplyText, Repeatable: true},
	ActionStockQueue:           {Endpoint: EndpointGet, Signed: "batchNo", Reply: ReplyXML, Repeatable: true},
	ActionStockAck:             {Endpoint: EndpointGet, Signed: "batchNo", Reply: ReplyText, Repeatable: true},
	ActionStockReset:           {Endpoint: EndpointGet, Signed: "batchNo", Reply: ReplyXML, Repeatable: true},
	ActionArticleQueue:         {Endpoint: EndpointGet, Signed: "batchNo", Reply: ReplyXML, Repeatable: true},
	ActionArticleAck:           {Endpoint: EndpointGet, Signed: "batchNo", Reply: ReplyText, Repeatable: true},
	ActionOrderQueue:           {Endpoint: EndpointGet, Signed: "batchNo", Reply: ReplyXML, Repeatable: true},
	ActionOrderAck:             {Endpoint: EndpointGet, Signed: "batchNo", Reply: ReplyText, Repeatable: true},
	ActionCheckAccountSettings: {Endpoint: EndpointGet, Signed: "date", Reply: ReplyText, Repeatable: true},
}

// Spec returns the table entry of an action.
func Spec(a Action) (ActionSpec, bool) {
	s, ok := actions[a]
	s.Action = a
	return s, ok
}

// LookupAction finds an action by name, case-insensitively, as the server
// does.
func LookupAction(name string) (ActionSpec, bool) {
	for a, s := range actions {
		if strings.EqualFold(string(a), name) {
			s.Action = a
			return s, true
		}
	}
	return ActionSpec{}, false
}

// Error codes in failed replies ("0;<code>;<message>" or APIresponse/code).
// Only CodeBatchOpen is OBSERVED; the others are ASSUMED stand-ins so that
// the fake can answer each failure class and the client can classify it.
// Replace them with the PDF's codes; an unknown code is KindPermanent.
const (
	CodeAuth            = "10" // ASSUMED: unknown sbmId/apiUserId or wrong key
	CodeInvalid         = "20" // ASSUMED: a field is missing or malformed
	CodeUnknownCustomer = "30" // ASSUMED: customerId does not exist
	CodeUnknownArticle  = "31" // ASSUMED: an article number does not exist
	CodeUnknownOrder    = "32" // ASSUMED: orderId/documentId does not exist
	CodeUnknownBatch    = "33" // ASSUMED: acknowledging a batch that was never opened
	CodeDuplicateOrder  = "40" // ASSUMED: externalOrderNo already used; XML id = the existing orderNo
	CodeWrongState      = "41" // ASSUMED: delivering more than ordered, acting on a removed order
	CodeAlreadyInvoiced = "42" // ASSUMED: the order is fully invoiced; XML id = the invoice id
	CodeUnknownAction   = "50" // ASSUMED: action not known or not on this endpoint
	CodeBatchOpen       = "99" // OBSERVED: an earlier batch of the queue is still open; its number is in single quotes in the message
)

// codeKinds classifies error codes.
var codeKinds = map[string]connector.Kind{
	CodeAuth:            connector.KindAuth,
	CodeInvalid:         connector.KindValidation,
	CodeUnknownCustomer: connector.KindNotFound,
	CodeUnknownArticle:  connector.KindNotFound,
	CodeUnknownOrder:    connector.KindNotFound,
	CodeUnknownBatch:    connector.KindNotFound,
	CodeDuplicateOrder:  connector.KindConflict,
	CodeWrongState:      connector.KindConflict,
	CodeAlreadyInvoiced: connector.KindConflict,
	CodeUnknownAction:   connector.KindUnsupported,
	CodeBatchOpen:       connector.KindConflict,
}

// KindOfCode classifies a Specter error code; unknown codes are
// KindPermanent.
func KindOfCode(code string) connector.Kind {
	if k, ok := codeKinds[code]; ok {
		return k
	}
	return connector.KindPermanent
}

// Limits and formats.
const (
	// MaxArticlesPerCall bounds the rows of one newArticleSubmit. OBSERVED:
	// the module sends at most 100; whether Specter accepts more is unknown.
	MaxArticlesPerCall = 100
	// PriceDecimals is how many decimals a priceExclVAT carries. OBSERVED:
	// the module formats order row prices with 3 decimals (article prices
	// with 2); whether more are accepted is unknown.
	PriceDecimals = 3
	// WeightDecimals for productWeight in kilograms (OBSERVED: 3).
	WeightDecimals = 3
	// DefaultPageLimit is the fake's responseMaxLimit (ASSUMED value).
	DefaultPageLimit = 100
	// DateLayout formats dates sent to Specter (OBSERVED: YYYY-MM-DD).
	DateLayout = "2006-01-02"
	// CallbackAnswer is what a callback receiver answers (OBSERVED).
	CallbackAnswer = "1;Done"
	// TypeInvoiceDebit is the typeInvoice of an invoice from an order
	// (OBSERVED: S; the value for a credit invoice is not known).
	TypeInvoiceDebit = "S"
	// DeliveredStatus and RemovedStatusID mark delivered and removed orders
	// in the order queue (OBSERVED).
	DeliveredStatus = "D"
	RemovedStatusID = "5"
	// NoItemsAvailable is a literal the stock queue may send instead of a
	// number; it means none available (OBSERVED).
	NoItemsAvailable = "noItemsAvailable"
)

// Charset of requests and replies: Windows-1252, the Windows superset of
// ISO-8859-1 (OBSERVED: clients convert to and from Latin-1; which of the
// two Specter uses for 0x80–0x9F, e.g. €, is ASSUMED).
const Charset = "windows-1252"

// Customer field lengths. OBSERVED in App4Sales' documentation of their
// Specter connector (not in Specter's own): values longer than these are
// refused before sending rather than cut.
var customerFieldMax = map[string]int{
	"name":         100,
	"orgNo":        20,
	"vatNo":        30,
	"homepage":     50,
	"emailAddress": 100,
	"phoneNo":      50,
	"mobileNo":     50,
	"firstName":    50,
	"surName":      50,
}

// CustomerFieldMax returns the maximum length of a customer field, 0 if
// none is known.
func CustomerFieldMax(field string) int { return customerFieldMax[field] }

// articleNumberForbidden are characters Specter integrators must keep out of
// article numbers (OBSERVED, Abicart's integration rules: å ä ö & % ¤ # €
// spaces and commas; upper-case ÅÄÖ refused alike). ';' is ASSUMED
// forbidden too: the text replies are semicolon-separated, so an article
// number with one could not be read back.
const articleNumberForbidden = "åäöÅÄÖ&%¤#€,;"

// Languages Specter accepts on orders and customers (OBSERVED values).
var languages = map[string]string{
	"sv": "SE", "se": "SE", "en": "EN", "fi": "FI", "da": "DA", "es": "ES", "de": "DE", "no": "NO", "nb": "NO", "nn": "NO",
}

// Payment type identifiers by canonical provider (OBSERVED codes from the
// module's table; which code a given shop gateway should use is the
// merchant's choice, so WithPayTypes overrides these).
var defaultPayTypes = map[string]string{
	"klarna":    "KG",
	"paypal":    "PL",
	"swish":     "SW",
	"invoice":   "I",
	"collector": "CL",
	"svea":      "SCH",
	"qvickly":   "BC",
	"billmate":  "BC",
	"payson":    "PY",
	"dibs":      "DP",
	"cod":       "P",
}

// Callback kinds and their registration parameters (OBSERVED names and the
// placeholders Specter fills in).
var callbackParams = map[CallbackKind]struct {
	param        string
	placeholders []string
}{
	CallbackStock:       {param: "actionStockChange"},
	CallbackInvoice:     {param: "actionNewInvoice", placeholders: []string{"orderId", "invoiceId", "invoiceSource"}},
	CallbackRemoveOrder: {param: "actionRemoveOrder", placeholders: []string{"orderNo"}},
	CallbackArticle:     {param: "actionArticleChange"},
	CallbackOrder:       {param: "actionOrderChange"},
}

// CallbackParam is the checkAccountSettings parameter that registers the URL
// of a callback kind, and the placeholders Specter substitutes in it.
func CallbackParam(k CallbackKind) (param string, placeholders []string) {
	p := callbackParams[k]
	return p.param, p.placeholders
}

// Operations Specter is not known to offer. Each is one named assumption
// (see the package documentation):
//
//   - AssumeNoPriceListAPI: no action for price lists or tier prices is
//     known (Starweb and App4Sales sync them, but the calls are not public).
//     SetPriceList is KindUnsupported.
//   - AssumeNoCreditInvoiceAPI: only typeInvoice=S is known; guessing a
//     credit type code could book a debit. CreateCreditInvoice is
//     KindUnsupported.
//   - AssumeNoPaidSignal: no queue or callback is known to report payment;
//     the order event feed never yields commerce.EventPaid.
//   - AssumeNoResultUnits: no field for a result unit (resultatenhet) is
//     known; multishop orders are told apart by webshopId only.
//   - AssumeNoArticleLookup: no action reads one article; the connector
//     does not implement connector.ProductLookup.
//   - AssumeNoOrderCancelAPI: orders cannot be cancelled from the web side;
//     the connector does not implement connector.OrderCanceller.
//   - AssumeCreateOnlyWithoutForce: newArticleSubmit without
//     forceArticleUpdate=1 creates missing articles and leaves existing ones
//     unchanged (from the flag's name; the public module always forces).
//     CreateOrder relies on it to make sure an order's articles exist.
const (
	AssumeNoPriceListAPI         = "specter: no price-list action is known (confirm with Specter's API PDF)"
	AssumeNoCreditInvoiceAPI     = "specter: no credit-invoice action is known, only typeInvoice=S (confirm with Specter's API PDF)"
	AssumeNoPaidSignal           = "specter: no payment signal is known in queues or callbacks"
	AssumeNoResultUnits          = "specter: no result-unit field is known on orders; webshopId separates shops"
	AssumeNoArticleLookup        = "specter: no action reads a single article"
	AssumeNoOrderCancelAPI       = "specter: no action cancels an order from the web side"
	AssumeCreateOnlyWithoutForce = "specter: newArticleSubmit without forceArticleUpdate=1 is assumed to leave existing articles unchanged"
)
