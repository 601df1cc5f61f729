package paypal

import "encoding/json"

// The wire types below mirror the parts of PayPal's Payments v2, Orders v2,
// Transaction Search v1 and Webhooks v1 resources that this package reads
// or writes. Unknown fields are ignored on input; the connector keeps the
// raw body in the canonical entities' Origin.Raw so nothing is lost.

// Amount is PayPal's money object: a currency code and a decimal string
// with exactly the currency's PayPal decimals ("10.00" USD, "1000" JPY).
// Convert with [ToMoney] and [FromMoney]; never build Value by hand.
type Amount struct {
	CurrencyCode string `json:"currency_code"`
	Value        string `json:"value"`
}

// Link is a HATEOAS link.
type Link struct {
	Href   string `json:"href"`
	Rel    string `json:"rel"`
	Method string `json:"method,omitempty"`
}

// RelatedIDs links a payment to its order, authorization and capture.
type RelatedIDs struct {
	OrderID         string `json:"order_id,omitempty"`
	AuthorizationID string `json:"authorization_id,omitempty"`
	CaptureID       string `json:"capture_id,omitempty"`
}

// SupplementaryData carries the related ids of a payment.
type SupplementaryData struct {
	RelatedIDs RelatedIDs `json:"related_ids"`
}

// Authorization statuses (Payments v2 authorization_status).
const (
	AuthCreated           = "CREATED"
	AuthCaptured          = "CAPTURED"
	AuthDenied            = "DENIED"
	AuthPartiallyCaptured = "PARTIALLY_CAPTURED"
	AuthVoided            = "VOIDED"
	AuthPending           = "PENDING"
)

// Authorization is an authorized payment (GET /v2/payments/authorizations/{id}).
type Authorization struct {
	ID                string             `json:"id"`
	Status            string             `json:"status"`
	Amount            *Amount            `json:"amount,omitempty"`
	InvoiceID         string             `json:"invoice_id,omitempty"`
	CustomID          string             `json:"custom_id,omitempty"`
	ExpirationTime    string             `json:"expiration_time,omitempty"`
	CreateTime        string             `json:"create_time,omitempty"`
	UpdateTime        string             `json:"update_time,omitempty"`
	SupplementaryData *SupplementaryData `json:"supplementary_data,omitempty"`
	Links             []Link             `json:"links,omitempty"`
}

// Capture statuses (Payments v2 capture_status).
const (
	CaptureCompleted         = "COMPLETED"
	CaptureDeclined          = "DECLINED"
	CapturePartiallyRefunded = "PARTIALLY_REFUNDED"
	CapturePending           = "PENDING"
	CaptureRefunded          = "REFUNDED"
	CaptureFailed            = "FAILED"
)

// SellerReceivableBreakdown is what the merchant receives for a capture.
type SellerReceivableBreakdown struct {
	GrossAmount *Amount `json:"gross_amount,omitempty"`
	PayPalFee   *Amount `json:"paypal_fee,omitempty"`
	NetAmount   *Amount `json:"net_amount,omitempty"`
}

// Capture is a captured payment.
type Capture struct {
	ID                        string                     `json:"id"`
	Status                    string                     `json:"status"`
	Amount                    *Amount                    `json:"amount,omitempty"`
	InvoiceID                 string                     `json:"invoice_id,omitempty"`
	CustomID                  string                     `json:"custom_id,omitempty"`
	FinalCapture              bool                       `json:"final_capture,omitempty"`
	SellerReceivableBreakdown *SellerReceivableBreakdown `json:"seller_receivable_breakdown,omitempty"`
	CreateTime                string                     `json:"create_time,omitempty"`
	UpdateTime                string                     `json:"update_time,omitempty"`
	SupplementaryData         *SupplementaryData         `json:"supplementary_data,omitempty"`
	Links                     []Link                     `json:"links,omitempty"`
}

// CaptureRequest is the body of POST /v2/payments/authorizations/{id}/capture.
// A nil Amount captures the whole authorized amount.
type CaptureRequest struct {
	Amount       *Amount `json:"amount,omitempty"`
	InvoiceID    string  `json:"invoice_id,omitempty"`
	FinalCapture bool    `json:"final_capture"`
	NoteToPayer  string  `json:"note_to_payer,omitempty"`
}

// ReauthorizeRequest is the body of POST /v2/payments/authorizations/{id}/reauthorize.
type ReauthorizeRequest struct {
	Amount *Amount `json:"amount,omitempty"`
}

// Refund statuses (Payments v2 refund_status).
const (
	RefundCancelled = "CANCELLED"
	RefundFailed    = "FAILED"
	RefundPending   = "PENDING"
	RefundCompleted = "COMPLETED"
)

// SellerPayableBreakdown is what a refund costs the merchant.
type SellerPayableBreakdown struct {
	GrossAmount         *Amount `json:"gross_amount,omitempty"`
	PayPalFee           *Amount `json:"paypal_fee,omitempty"`
	NetAmount           *Amount `json:"net_amount,omitempty"`
	TotalRefundedAmount *Amount `json:"total_refunded_amount,omitempty"`
}

// Refund is a refund of a capture.
type Refund struct {
	ID                     string                  `json:"id"`
	Status                 string                  `json:"status"`
	Amount                 *Amount                 `json:"amount,omitempty"`
	InvoiceID              string                  `json:"invoice_id,omitempty"`
	CustomID               string                  `json:"custom_id,omitempty"`
	NoteToPayer            string                  `json:"note_to_payer,omitempty"`
	SellerPayableBreakdown *SellerPayableBreakdown `json:"seller_payable_breakdown,omitempty"`
	CreateTime             string                  `json:"create_time,omitempty"`
	UpdateTime             string                  `json:"update_time,omitempty"`
	Links                  []Link                  `json:"links,omitempty"`
}

// RefundRequest is the body of POST /v2/payments/captures/{id}/refund. A nil
// Amount refunds what remains of the capture.
type RefundRequest struct {
	Amount      *Amount `json:"amount,omitempty"`
	InvoiceID   string  `json:"invoice_id,omitempty"`
	CustomID    string  `json:"custom_id,omitempty"`
	NoteToPayer string  `json:"note_to_payer,omitempty"`
}

// PaymentCollection is what happened to a purchase unit's money.
type PaymentCollection struct {
	Authorizations []Authorization `json:"authorizations,omitempty"`
	Captures       []Capture       `json:"captures,omitempty"`
	Refunds        []Refund        `json:"refunds,omitempty"`
}

// PurchaseUnit is one purchase unit of an order.
type PurchaseUnit struct {
	ReferenceID string             `json:"reference_id,omitempty"`
	Amount      *Amount            `json:"amount,omitempty"`
	CustomID    string             `json:"custom_id,omitempty"`
	InvoiceID   string             `json:"invoice_id,omitempty"`
	Payments    *PaymentCollection `json:"payments,omitempty"`
}

// Order is an Orders v2 order (GET /v2/checkout/orders/{id}).
type Order struct {
	ID            string         `json:"id"`
	Status        string         `json:"status"`
	Intent        string         `json:"intent,omitempty"`
	PurchaseUnits []PurchaseUnit `json:"purchase_units,omitempty"`
	CreateTime    string         `json:"create_time,omitempty"`
	UpdateTime    string         `json:"update_time,omitempty"`
}

// SearchResponse is one page of GET /v1/reporting/transactions. Its dates
// are in PayPal's reporting form ("2014-07-11T04:03:52+0000"); read them
// with [ParseTime].
type SearchResponse struct {
	TransactionDetails    []TransactionDetail `json:"transaction_details"`
	AccountNumber         string              `json:"account_number,omitempty"`
	StartDate             string              `json:"start_date,omitempty"`
	EndDate               string              `json:"end_date,omitempty"`
	LastRefreshedDatetime string              `json:"last_refreshed_datetime,omitempty"`
	Page                  int                 `json:"page"`
	TotalItems            int                 `json:"total_items"`
	TotalPages            int                 `json:"total_pages"`
	Links                 []Link              `json:"links,omitempty"`
}

// TransactionDetail is one row of a transaction search. Only
// transaction_info is requested; the other blocks (payer, cart, shipping)
// stay in Raw when present.
type TransactionDetail struct {
	TransactionInfo TransactionInfo `json:"transaction_info"`
	// Raw is the row as PayPal sent it.
	Raw json.RawMessage `json:"-"`
}

// UnmarshalJSON keeps the raw row next to the decoded fields.
func (d *TransactionDetail) UnmarshalJSON(b []byte) error {
	var w struct {
		TransactionInfo TransactionInfo `json:"transaction_info"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	d.TransactionInfo = w.TransactionInfo
	d.Raw = append(json.RawMessage(nil), b...)
	return nil
}

// TransactionInfo is the transaction_info block of a search row.
type TransactionInfo struct {
	PayPalAccountID           string  `json:"paypal_account_id,omitempty"`
	TransactionID             string  `json:"transaction_id"`
	PayPalReferenceID         string  `json:"paypal_reference_id,omitempty"`
	PayPalReferenceIDType     string  `json:"paypal_reference_id_type,omitempty"`
	TransactionEventCode      string  `json:"transaction_event_code"`
	TransactionInitiationDate string  `json:"transaction_initiation_date"`
	TransactionUpdatedDate    string  `json:"transaction_updated_date,omitempty"`
	TransactionAmount         *Amount `json:"transaction_amount,omitempty"`
	FeeAmount                 *Amount `json:"fee_amount,omitempty"`
	TransactionStatus         string  `json:"transaction_status,omitempty"`
	TransactionSubject        string  `json:"transaction_subject,omitempty"`
	TransactionNote           string  `json:"transaction_note,omitempty"`
	BankReferenceID           string  `json:"bank_reference_id,omitempty"`
	EndingBalance             *Amount `json:"ending_balance,omitempty"`
	AvailableBalance          *Amount `json:"available_balance,omitempty"`
	InvoiceID                 string  `json:"invoice_id,omitempty"`
	CustomField               string  `json:"custom_field,omitempty"`
	ProtectionEligibility     string  `json:"protection_eligibility,omitempty"`
}

// ErrorResponse is PayPal's REST error body. OAuth endpoints (and expired
// tokens) answer with Error and ErrorDescription instead.
type ErrorResponse struct {
	Name             string        `json:"name,omitempty"`
	Message          string        `json:"message,omitempty"`
	DebugID          string        `json:"debug_id,omitempty"`
	Details          []ErrorDetail `json:"details,omitempty"`
	Links            []Link        `json:"links,omitempty"`
	Error            string        `json:"error,omitempty"`
	ErrorDescription string        `json:"error_description,omitempty"`
}

// ErrorDetail is one issue of an error body.
type ErrorDetail struct {
	Field       string `json:"field,omitempty"`
	Value       string `json:"value,omitempty"`
	Location    string `json:"location,omitempty"`
	Issue       string `json:"issue"`
	Description string `json:"description,omitempty"`
}

// tokenResponse is the answer of POST /v1/oauth2/token.
type tokenResponse struct {
	Scope       string `json:"scope"`
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	AppID       string `json:"app_id"`
	ExpiresIn   int64  `json:"expires_in"`
	Nonce       string `json:"nonce"`
}

// verifyWebhookRequest is the body of POST /v1/notifications/verify-webhook-signature.
// WebhookEvent carries the delivered body verbatim: PayPal recomputes the
// signature over it, and a re-serialised event can differ by a byte.
type verifyWebhookRequest struct {
	AuthAlgo         string          `json:"auth_algo"`
	CertURL          string          `json:"cert_url"`
	TransmissionID   string          `json:"transmission_id"`
	TransmissionSig  string          `json:"transmission_sig"`
	TransmissionTime string          `json:"transmission_time"`
	WebhookID        string          `json:"webhook_id"`
	WebhookEvent     json.RawMessage `json:"webhook_event,omitempty"`
}

type verifyWebhookResponse struct {
	VerificationStatus string `json:"verification_status"`
}

// WebhookEvent is the envelope of a webhook notification.
type WebhookEvent struct {
	ID           string          `json:"id"`
	CreateTime   string          `json:"create_time,omitempty"`
	ResourceType string          `json:"resource_type,omitempty"`
	EventType    string          `json:"event_type"`
	Summary      string          `json:"summary,omitempty"`
	EventVersion string          `json:"event_version,omitempty"`
	Resource     json.RawMessage `json:"resource,omitempty"`
}
