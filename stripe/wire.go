package stripe

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Expandable is a Stripe field that holds either an object's id or, when
// the request expanded it, the object itself. ID is set in both cases.
type Expandable[T any] struct {
	ID     string
	Object *T // nil unless expanded
}

// UnmarshalJSON accepts null, an id string, or the expanded object.
func (e *Expandable[T]) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*e = Expandable[T]{}
		return nil
	case len(b) > 0 && b[0] == '"':
		*e = Expandable[T]{}
		return json.Unmarshal(b, &e.ID)
	case len(b) > 0 && b[0] == '{':
		var id struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(b, &id); err != nil {
			return err
		}
		obj := new(T)
		if err := json.Unmarshal(b, obj); err != nil {
			return err
		}
		*e = Expandable[T]{ID: id.ID, Object: obj}
		return nil
	}
	return fmt.Errorf("stripe: expandable field is neither an id nor an object: %.40s", b)
}

// MarshalJSON writes the object when expanded, otherwise the id.
func (e Expandable[T]) MarshalJSON() ([]byte, error) {
	if e.Object != nil {
		return json.Marshal(e.Object)
	}
	if e.ID == "" {
		return []byte("null"), nil
	}
	return json.Marshal(e.ID)
}

// PaymentIntent is the part of Stripe's PaymentIntent this package reads.
type PaymentIntent struct {
	ID                 string             `json:"id"`
	Object             string             `json:"object"`
	Amount             int64              `json:"amount"`
	AmountCapturable   int64              `json:"amount_capturable"`
	AmountReceived     int64              `json:"amount_received"`
	Currency           string             `json:"currency"`
	Status             string             `json:"status"`
	CaptureMethod      string             `json:"capture_method"`
	CancellationReason string             `json:"cancellation_reason"`
	CanceledAt         int64              `json:"canceled_at"`
	Created            int64              `json:"created"`
	Description        string             `json:"description"`
	LatestCharge       Expandable[Charge] `json:"latest_charge"`
	Metadata           map[string]string  `json:"metadata"`
	Livemode           bool               `json:"livemode"`
}

// Charge is the part of a Charge this package reads.
type Charge struct {
	ID                   string                         `json:"id"`
	Object               string                         `json:"object"`
	Amount               int64                          `json:"amount"`
	AmountCaptured       int64                          `json:"amount_captured"`
	AmountRefunded       int64                          `json:"amount_refunded"`
	Captured             bool                           `json:"captured"`
	Refunded             bool                           `json:"refunded"`
	Currency             string                         `json:"currency"`
	Status               string                         `json:"status"`
	Created              int64                          `json:"created"`
	PaymentIntent        Expandable[PaymentIntent]      `json:"payment_intent"`
	BalanceTransaction   Expandable[BalanceTransaction] `json:"balance_transaction"`
	Metadata             map[string]string              `json:"metadata"`
	PaymentMethodDetails *PaymentMethodDetails          `json:"payment_method_details"`
}

// PaymentMethodDetails carries the card's authorization expiry.
type PaymentMethodDetails struct {
	Type string `json:"type"`
	Card *struct {
		// CaptureBefore is when an uncaptured authorization lapses.
		CaptureBefore int64 `json:"capture_before"`
	} `json:"card"`
}

// Refund is a Stripe refund.
type Refund struct {
	ID                 string                         `json:"id"`
	Object             string                         `json:"object"`
	Amount             int64                          `json:"amount"`
	Currency           string                         `json:"currency"`
	Charge             Expandable[Charge]             `json:"charge"`
	PaymentIntent      Expandable[PaymentIntent]      `json:"payment_intent"`
	Reason             string                         `json:"reason"`
	Status             string                         `json:"status"`
	FailureReason      string                         `json:"failure_reason"`
	Created            int64                          `json:"created"`
	Metadata           map[string]string              `json:"metadata"`
	BalanceTransaction Expandable[BalanceTransaction] `json:"balance_transaction"`
}

// Payout is a Stripe payout.
type Payout struct {
	ID                   string                         `json:"id"`
	Object               string                         `json:"object"`
	Amount               int64                          `json:"amount"`
	Currency             string                         `json:"currency"`
	ArrivalDate          int64                          `json:"arrival_date"`
	Created              int64                          `json:"created"`
	Automatic            bool                           `json:"automatic"`
	Status               string                         `json:"status"`
	ReconciliationStatus string                         `json:"reconciliation_status"`
	Method               string                         `json:"method"`
	Type                 string                         `json:"type"`
	StatementDescriptor  string                         `json:"statement_descriptor"`
	TraceID              *TraceID                       `json:"trace_id"`
	FailureCode          string                         `json:"failure_code"`
	BalanceTransaction   Expandable[BalanceTransaction] `json:"balance_transaction"`
	Metadata             map[string]string              `json:"metadata"`
}

// TraceID is the bank's reference for a payout, once known.
type TraceID struct {
	Status string `json:"status"` // pending, supported, unsupported
	Value  string `json:"value"`
}

// BalanceTransaction is a row of the Stripe balance ledger.
type BalanceTransaction struct {
	ID                string             `json:"id"`
	Object            string             `json:"object"`
	Amount            int64              `json:"amount"`
	Fee               int64              `json:"fee"`
	Net               int64              `json:"net"`
	Currency          string             `json:"currency"`
	FeeDetails        []FeeDetail        `json:"fee_details"`
	Created           int64              `json:"created"`
	AvailableOn       int64              `json:"available_on"`
	ReportingCategory string             `json:"reporting_category"`
	Type              string             `json:"type"`
	Status            string             `json:"status"`
	Description       string             `json:"description"`
	Source            Expandable[Source] `json:"source"`
}

// FeeDetail is one part of a balance transaction's fee.
type FeeDetail struct {
	Amount      int64  `json:"amount"`
	Currency    string `json:"currency"`
	Description string `json:"description"`
	Type        string `json:"type"` // stripe_fee, tax, application_fee, …
}

// Source is the object a balance transaction comes from (a charge, refund,
// dispute, payout, …), reduced to the fields that link it to an order.
type Source struct {
	ID            string                    `json:"id"`
	Object        string                    `json:"object"`
	PaymentIntent Expandable[PaymentIntent] `json:"payment_intent"`
	Charge        Expandable[Charge]        `json:"charge"`
	Description   string                    `json:"description"`
	Metadata      map[string]string         `json:"metadata"`
}

// List is one page of a Stripe list.
type List[T any] struct {
	Object  string `json:"object"`
	Data    []T    `json:"data"`
	HasMore bool   `json:"has_more"`
	URL     string `json:"url"`
}

// Event is a Stripe event as delivered to a webhook endpoint.
type Event struct {
	ID         string `json:"id"`
	Object     string `json:"object"`
	Type       string `json:"type"`
	Created    int64  `json:"created"`
	APIVersion string `json:"api_version"`
	Account    string `json:"account"`
	Livemode   bool   `json:"livemode"`
	Data       struct {
		Object json.RawMessage `json:"object"`
	} `json:"data"`
}
