package specter

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/connector"
)

// CallbackKind is what a Specter callback reports. The numbers are the
// call types of the public module's receiver (OBSERVED), sent back in the
// callback URL as calltype.
type CallbackKind int

// Callback kinds.
const (
	CallbackStock       CallbackKind = 1 // stock changed: pull QueueStock
	CallbackInvoice     CallbackKind = 2 // an invoice was created: orderId, invoiceId, invoiceSource
	CallbackRemoveOrder CallbackKind = 3 // an order was removed: orderNo; pull QueueOrders
	CallbackOrder       CallbackKind = 4 // order status or deliveries changed: pull QueueOrders
	CallbackArticle     CallbackKind = 5 // article data changed: pull QueueArticles
)

// AllCallbacks lists every kind.
var AllCallbacks = []CallbackKind{CallbackStock, CallbackInvoice, CallbackRemoveOrder, CallbackOrder, CallbackArticle}

func (k CallbackKind) String() string {
	if p, _ := CallbackParam(k); p != "" {
		return p
	}
	return "callback(" + strconv.Itoa(int(k)) + ")"
}

// Queue is the queue to pull after a callback of kind k.
func (k CallbackKind) Queue() Queue {
	switch k {
	case CallbackStock:
		return QueueStock
	case CallbackArticle:
		return QueueArticles
	}
	return QueueOrders
}

// Hint is one callback from Specter: a prompt to pull a queue, never the
// change itself (callbacks carry ids at most; the queues are the truth).
// For an invoice callback the ids are the only record of the invoice:
// invoices appear in no known queue.
type Hint struct {
	Kind          CallbackKind
	Queue         Queue  // the queue to pull
	OrderID       string // Specter order id (invoice callbacks)
	OrderNo       string // Specter order number (remove-order callbacks)
	InvoiceID     string // invoice callbacks
	InvoiceSource string // invoice callbacks
	Account       string
	At            time.Time // when the callback arrived
}

// callbackURL builds the URL registered for kind k: base with calltype, the
// secret token, and Specter's placeholders left as literal $names for
// Specter to fill in.
func callbackURL(base *url.URL, token string, k CallbackKind) string {
	u := *base
	q := u.Query()
	q.Set("calltype", strconv.Itoa(int(k)))
	q.Set("token", token)
	raw := q.Encode()
	_, placeholders := CallbackParam(k)
	for _, p := range placeholders {
		raw += "&" + p + "=$" + p
	}
	u.RawQuery = raw
	return u.String()
}

// RegisterCallbacks registers callback URLs with Specter
// (checkAccountSettings): for each kind, base with the calltype and the
// WithCallbackToken secret in its query; kinds not listed are switched off.
// With no kinds, all are registered. Serve base with CallbackHandler.
func (c *Connector) RegisterCallbacks(ctx context.Context, base string, kinds ...CallbackKind) error {
	const op = "RegisterCallbacks"
	if c.cfg.callbackToken == "" {
		return connector.NewError(System, op, connector.KindValidation, "no callback token: set WithCallbackToken")
	}
	u, err := url.Parse(base)
	if err != nil || !u.IsAbs() {
		return connector.NewError(System, op, connector.KindValidation, "callback base %q is not an absolute URL", base)
	}
	if len(kinds) == 0 {
		kinds = AllCallbacks
	}
	f := c.client.NewForm()
	f.Set("date", c.cfg.now().In(stockholm()).Format(DateLayout))
	for _, k := range AllCallbacks {
		param, _ := CallbackParam(k)
		v := ""
		for _, want := range kinds {
			if want == k {
				v = callbackURL(u, c.cfg.callbackToken, k)
			}
		}
		f.Set(param, v)
	}
	_, err = c.client.Do(ctx, Request{Op: op, Action: ActionCheckAccountSettings, Form: f})
	return err
}

// DecodeWebhook authenticates a callback by the secret token in its URL
// (compared in constant time) and returns it as an event: Topic is the
// callback's name (actionStockChange, …), ObjectID the invoice or order it
// names. The token never appears in the event.
func (c *Connector) DecodeWebhook(r *http.Request) (connector.WebhookEvent, error) {
	h, err := c.decodeCallback(r)
	if err != nil {
		return connector.WebhookEvent{}, err
	}
	obj := h.InvoiceID
	if obj == "" {
		obj = h.OrderNo
	}
	if obj == "" {
		obj = h.OrderID
	}
	topic := h.Kind.String()
	return connector.WebhookEvent{
		System:   System,
		Account:  c.cfg.account,
		Topic:    topic,
		ID:       fmt.Sprintf("%s/%s/%d", topic, obj, h.At.UnixNano()),
		At:       h.At,
		ObjectID: obj,
	}, nil
}

// placeholder returns a callback parameter, empty when Specter left the
// placeholder unfilled.
func placeholder(q url.Values, name string) string {
	v := strings.TrimSpace(q.Get(name))
	if strings.HasPrefix(v, "$") {
		return ""
	}
	return decode([]byte(v))
}

func (c *Connector) decodeCallback(r *http.Request) (Hint, error) {
	if c.cfg.callbackToken == "" {
		return Hint{}, fmt.Errorf("specter: callback: %w: no callback token configured", connector.ErrWebhookSignature)
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return Hint{}, fmt.Errorf("specter: callback: %w: bad query", connector.ErrWebhookMalformed)
	}
	// Hash both sides so the comparison takes the same time whatever the
	// length of the forgery.
	got := sha256.Sum256([]byte(q.Get("token")))
	want := sha256.Sum256([]byte(c.cfg.callbackToken))
	if !connector.EqualMAC(got[:], want[:]) {
		return Hint{}, fmt.Errorf("specter: callback: %w", connector.ErrWebhookSignature)
	}
	n, err := strconv.Atoi(q.Get("calltype"))
	k := CallbackKind(n)
	if p, _ := CallbackParam(k); err != nil || p == "" {
		return Hint{}, fmt.Errorf("specter: callback: %w: unknown calltype", connector.ErrWebhookMalformed)
	}
	return Hint{
		Kind:          k,
		Queue:         k.Queue(),
		OrderID:       placeholder(q, "orderId"),
		OrderNo:       placeholder(q, "orderNo"),
		InvoiceID:     placeholder(q, "invoiceId"),
		InvoiceSource: placeholder(q, "invoiceSource"),
		Account:       c.cfg.account,
		At:            c.cfg.now().UTC(),
	}, nil
}

// CallbackHandler serves Specter's callbacks: it authenticates the token,
// passes a Hint to fn and answers "1;Done". A wrong token is answered 403
// and fn is not called; an unknown calltype 400. fn runs on the request's
// goroutine and should only hand the hint on (a non-blocking channel send),
// since Specter waits for the answer.
func (c *Connector) CallbackHandler(fn func(context.Context, Hint)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodPost {
			w.Header().Set("Allow", "GET, POST")
			http.Error(w, "0;method not allowed", http.StatusMethodNotAllowed)
			return
		}
		h, err := c.decodeCallback(r)
		switch {
		case err == nil:
		case errors.Is(err, connector.ErrWebhookSignature):
			http.Error(w, "0;forbidden", http.StatusForbidden)
			return
		default:
			http.Error(w, "0;bad request", http.StatusBadRequest)
			return
		}
		fn(r.Context(), h)
		w.Header().Set("Content-Type", "text/plain; charset="+Charset)
		_, _ = w.Write([]byte(CallbackAnswer))
	})
}

// HintEvent turns a callback that names an order into an order event:
// actionNewInvoice into commerce.EventInvoiced with the invoice number (no
// queue reports invoices, so this is their only source), actionRemoveOrder
// into commerce.EventCancelled with the same id the order queue gives it, so
// the engine sees one cancellation whichever arrives first. The shop's
// order number is found as for queue items (orders this connector created,
// then WithOrderResolver). ok is false for hints that name no order.
func (c *Connector) HintEvent(ctx context.Context, h Hint) (ev commerce.OrderEvent, ok bool, err error) {
	const op = "HintEvent"
	var orderNo string
	switch h.Kind {
	case CallbackInvoice:
		orderNo = h.OrderID
		if h.InvoiceID == "" {
			return ev, false, nil
		}
	case CallbackRemoveOrder:
		orderNo = h.OrderNo
	}
	if orderNo == "" {
		return ev, false, nil
	}
	number, mine, err := c.resolveOrder(ctx, op, "callback "+h.Kind.String(), orderNo, "")
	if err != nil || !mine {
		return ev, false, err
	}
	ev = commerce.OrderEvent{Origin: commerce.Origin{Source: c.ref(orderNo)}, OrderNumber: number, At: h.At}
	if h.Kind == CallbackInvoice {
		ev.ID, ev.Kind, ev.InvoiceNumber = "order/"+orderNo+"/invoice/"+h.InvoiceID, commerce.EventInvoiced, h.InvoiceID
	} else {
		ev.ID, ev.Kind = "order/"+orderNo+"/cancelled", commerce.EventCancelled
		ev.At = time.Time{} // as in the queue's event, so both are equal
	}
	return ev, true, ev.Validate()
}
