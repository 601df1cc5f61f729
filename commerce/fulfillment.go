package commerce

import (
	"fmt"
	"time"
)

// Fulfillment is a shipment of an order's lines with its tracking.
type Fulfillment struct {
	Origin
	OrderNumber    string            `json:"order_number"`
	OrderRef       Ref               `json:"order_ref,omitzero"`
	Lines          []FulfillmentLine `json:"lines"`
	Tracking       []Tracking        `json:"tracking,omitempty"`
	NotifyCustomer bool              `json:"notify_customer"`
	CreatedAt      time.Time         `json:"created_at,omitzero"`
}

// FulfillmentLine is a quantity of one order line shipped.
type FulfillmentLine struct {
	LineID   string `json:"line_id,omitempty"`
	SKU      string `json:"sku"`
	Quantity int    `json:"quantity"`
}

// Tracking is a parcel's tracking information.
type Tracking struct {
	Number  string `json:"number"`
	URL     string `json:"url,omitempty"`
	Company string `json:"company,omitempty"`
}

// Validate requires the order, lines with SKU or line id and positive
// quantities, and tracking numbers.
func (f *Fulfillment) Validate() error {
	var v validator
	if f.OrderNumber == "" && f.OrderRef.IsZero() {
		v.add("order_number", "", "missing (and no order_ref)")
	}
	if len(f.Lines) == 0 {
		v.add("lines", "", "nothing to fulfill")
	}
	for i, l := range f.Lines {
		checkLineRef(&v, fmt.Sprintf("lines[%d]", i), l.SKU, l.LineID, l.Quantity, false)
	}
	for i, t := range f.Tracking {
		if t.Number == "" {
			v.add(fmt.Sprintf("tracking[%d].number", i), "", "missing")
		}
	}
	return v.err()
}

// OrderEventKind is what an ERP reports about an order.
type OrderEventKind string

// Order event kinds.
const (
	EventDelivered OrderEventKind = "delivered"
	EventInvoiced  OrderEventKind = "invoiced"
	EventPaid      OrderEventKind = "paid"
	EventCancelled OrderEventKind = "cancelled"
)

// OrderEvent is a change of an order in the ERP that may go back to the shop
// (fulfillment with tracking, mark paid, cancel) and to the provider (capture
// on delivery). ID is unique per event in the source system and is what the
// engine deduplicates on.
type OrderEvent struct {
	Origin
	ID            string            `json:"id"`
	Kind          OrderEventKind    `json:"kind"`
	OrderNumber   string            `json:"order_number"`
	Lines         []FulfillmentLine `json:"lines,omitempty"` // delivered lines; empty means the whole order
	Tracking      []Tracking        `json:"tracking,omitempty"`
	InvoiceNumber string            `json:"invoice_number,omitempty"`
	Amount        Money             `json:"amount,omitzero"`
	At            time.Time         `json:"at,omitzero"`
}

// Validate requires an id, a known kind and the order number.
func (e *OrderEvent) Validate() error {
	var v validator
	if e.ID == "" {
		v.add("id", "", "missing")
	}
	switch e.Kind {
	case EventDelivered, EventInvoiced, EventPaid, EventCancelled:
	default:
		v.add("kind", string(e.Kind), "unknown event kind")
	}
	if e.OrderNumber == "" {
		v.add("order_number", "", "missing")
	}
	for i, l := range e.Lines {
		checkLineRef(&v, fmt.Sprintf("lines[%d]", i), l.SKU, l.LineID, l.Quantity, false)
	}
	return v.err()
}
