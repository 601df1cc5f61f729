package stripetest

import "strings"

// The fake's objects, serialised with Stripe's field names. They are its
// own, not the stripe package's wire types, so the client is tested against
// an independent reading of the API.

type intent struct {
	ID                 string            `json:"id"`
	Object             string            `json:"object"`
	Amount             int64             `json:"amount"`
	AmountCapturable   int64             `json:"amount_capturable"`
	AmountReceived     int64             `json:"amount_received"`
	Currency           string            `json:"currency"`
	Status             string            `json:"status"`
	CaptureMethod      string            `json:"capture_method"`
	CancellationReason *string           `json:"cancellation_reason"`
	CanceledAt         *int64            `json:"canceled_at"`
	Created            int64             `json:"created"`
	Description        *string           `json:"description"`
	LatestCharge       any               `json:"latest_charge"` // id, or the charge when expanded
	Metadata           map[string]string `json:"metadata"`
	Livemode           bool              `json:"livemode"`
	PaymentMethodTypes []string          `json:"payment_method_types"`

	multicapture bool
	seq          int
}

type charge struct {
	ID                   string            `json:"id"`
	Object               string            `json:"object"`
	Amount               int64             `json:"amount"`
	AmountCaptured       int64             `json:"amount_captured"`
	AmountRefunded       int64             `json:"amount_refunded"`
	Captured             bool              `json:"captured"`
	Refunded             bool              `json:"refunded"`
	Paid                 bool              `json:"paid"`
	Currency             string            `json:"currency"`
	Status               string            `json:"status"`
	Created              int64             `json:"created"`
	PaymentIntent        string            `json:"payment_intent"`
	BalanceTransaction   *string           `json:"balance_transaction"`
	Metadata             map[string]string `json:"metadata"`
	PaymentMethodDetails chargePMDetails   `json:"payment_method_details"`
	Livemode             bool              `json:"livemode"`
}

type chargePMDetails struct {
	Type string     `json:"type"`
	Card cardDetail `json:"card"`
}

type cardDetail struct {
	Brand         string            `json:"brand"`
	Last4         string            `json:"last4"`
	CaptureBefore int64             `json:"capture_before"`
	Multicapture  map[string]string `json:"multicapture"`
}

type refund struct {
	ID                 string            `json:"id"`
	Object             string            `json:"object"`
	Amount             int64             `json:"amount"`
	Currency           string            `json:"currency"`
	Charge             string            `json:"charge"`
	PaymentIntent      string            `json:"payment_intent"`
	Reason             *string           `json:"reason"`
	Status             string            `json:"status"`
	Created            int64             `json:"created"`
	Metadata           map[string]string `json:"metadata"`
	BalanceTransaction *string           `json:"balance_transaction"`

	seq int
}

type payout struct {
	ID                   string            `json:"id"`
	Object               string            `json:"object"`
	Amount               int64             `json:"amount"`
	Currency             string            `json:"currency"`
	ArrivalDate          int64             `json:"arrival_date"`
	Created              int64             `json:"created"`
	Automatic            bool              `json:"automatic"`
	Status               string            `json:"status"`
	ReconciliationStatus string            `json:"reconciliation_status"`
	Method               string            `json:"method"`
	Type                 string            `json:"type"`
	SourceType           string            `json:"source_type"`
	StatementDescriptor  *string           `json:"statement_descriptor"`
	TraceID              traceID           `json:"trace_id"`
	BalanceTransaction   *string           `json:"balance_transaction"`
	Metadata             map[string]string `json:"metadata"`
	Livemode             bool              `json:"livemode"`

	seq int
}

type traceID struct {
	Status string  `json:"status"`
	Value  *string `json:"value"`
}

type feeDetail struct {
	Amount      int64   `json:"amount"`
	Application *string `json:"application"`
	Currency    string  `json:"currency"`
	Description string  `json:"description"`
	Type        string  `json:"type"`
}

type balanceTransaction struct {
	ID                string      `json:"id"`
	Object            string      `json:"object"`
	Amount            int64       `json:"amount"`
	Fee               int64       `json:"fee"`
	Net               int64       `json:"net"`
	Currency          string      `json:"currency"`
	FeeDetails        []feeDetail `json:"fee_details"`
	Created           int64       `json:"created"`
	AvailableOn       int64       `json:"available_on"`
	ReportingCategory string      `json:"reporting_category"`
	Type              string      `json:"type"`
	Status            string      `json:"status"`
	Description       *string     `json:"description"`
	ExchangeRate      *string     `json:"exchange_rate"`
	BalanceType       string      `json:"balance_type"`
	Source            any         `json:"source"` // id, or the object when expanded

	sourceID string
	payout   string // the payout that settled it, "" while unpaid
	seq      int
}

func strp(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// stripeCurrency is the fake's own table of Stripe's amount rules (see
// stripe.com/docs/currencies): the exponent, and the granularity Stripe
// requires of amounts sent to payment intents and refunds.
func stripeCurrency(code string) (exp int, step int64, ok bool) {
	switch strings.ToLower(code) {
	case "bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf":
		return 0, 1, true
	case "bhd", "jod", "kwd", "omr", "tnd":
		return 3, 10, true
	case "isk":
		return 2, 100, true
	case "":
		return 0, 0, false
	}
	if len(code) != 3 {
		return 0, 0, false
	}
	return 2, 1, true
}
