package klarna

import "time"

// The types in this file are Klarna's wire format, field for field as in
// Klarna's OpenAPI descriptions (Order Management API 1.0, Settlements API
// 1.0.0-rc2). Amounts are integer minor units, as on the wire; the connector
// methods convert them to commerce.Money exactly. klarnatest serves the same
// types, so a field misnamed here would be caught by the fake's validation of
// every request and response against the OpenAPI files.

// Order is an order in the Order Management API (schema MerchantOrderDto).
type Order struct {
	OrderID                   string      `json:"order_id"`
	Status                    string      `json:"status"`
	FraudStatus               string      `json:"fraud_status,omitempty"`
	OrderAmount               int64       `json:"order_amount"`
	OriginalOrderAmount       int64       `json:"original_order_amount"`
	CapturedAmount            int64       `json:"captured_amount"`
	RefundedAmount            int64       `json:"refunded_amount"`
	RemainingAuthorizedAmount int64       `json:"remaining_authorized_amount"`
	PurchaseCurrency          string      `json:"purchase_currency"`
	PurchaseCountry           string      `json:"purchase_country,omitempty"`
	Locale                    string      `json:"locale,omitempty"`
	MerchantReference1        string      `json:"merchant_reference1,omitempty"`
	MerchantReference2        string      `json:"merchant_reference2,omitempty"`
	KlarnaReference           string      `json:"klarna_reference,omitempty"`
	CreatedAt                 *time.Time  `json:"created_at,omitempty"`
	ExpiresAt                 *time.Time  `json:"expires_at,omitempty"`
	OrderLines                []OrderLine `json:"order_lines,omitempty"`
	Captures                  []Capture   `json:"captures,omitempty"`
	Refunds                   []Refund    `json:"refunds,omitempty"`
	MerchantData              string      `json:"merchant_data,omitempty"`
}

// Order statuses (MerchantOrderDto.status).
const (
	StatusAuthorized   = "AUTHORIZED"
	StatusPartCaptured = "PART_CAPTURED"
	StatusCaptured     = "CAPTURED"
	StatusCancelled    = "CANCELLED"
	StatusExpired      = "EXPIRED"
	StatusClosed       = "CLOSED"
)

// OrderLine is one line of an order, capture or refund (schema order_line).
// UnitPrice includes tax and is before discounts; TotalAmount is
// Quantity × UnitPrice − TotalDiscountAmount; TaxRate is a percentage with
// two implicit decimals (2500 is 25 %).
type OrderLine struct {
	Type                string `json:"type,omitempty"`
	Reference           string `json:"reference,omitempty"`
	Name                string `json:"name"`
	Quantity            int64  `json:"quantity"`
	QuantityUnit        string `json:"quantity_unit,omitempty"`
	UnitPrice           int64  `json:"unit_price"`
	TaxRate             int64  `json:"tax_rate"`
	TotalAmount         int64  `json:"total_amount"`
	TotalDiscountAmount int64  `json:"total_discount_amount"`
	TotalTaxAmount      int64  `json:"total_tax_amount"`
	MerchantData        string `json:"merchant_data,omitempty"`
}

// Order line types (order_line.type).
const (
	LinePhysical    = "physical"
	LineDiscount    = "discount"
	LineShippingFee = "shipping_fee"
	LineGiftCard    = "gift_card"
	LineDigital     = "digital"
	LineSurcharge   = "surcharge"
)

// CaptureObject is the body of a capture request.
type CaptureObject struct {
	CapturedAmount int64       `json:"captured_amount"`
	Description    string      `json:"description,omitempty"`
	Reference      string      `json:"reference,omitempty"`
	OrderLines     []OrderLine `json:"order_lines,omitempty"`
}

// Capture is a capture as read back from an order.
type Capture struct {
	CaptureID       string      `json:"capture_id"`
	KlarnaReference string      `json:"klarna_reference,omitempty"`
	CapturedAmount  int64       `json:"captured_amount"`
	CapturedAt      *time.Time  `json:"captured_at,omitempty"`
	Description     string      `json:"description,omitempty"`
	Reference       string      `json:"reference,omitempty"`
	RefundedAmount  int64       `json:"refunded_amount"`
	OrderLines      []OrderLine `json:"order_lines,omitempty"`
}

// RefundObject is the body of a refund request.
type RefundObject struct {
	RefundedAmount int64       `json:"refunded_amount"`
	Description    string      `json:"description,omitempty"`
	Reference      string      `json:"reference,omitempty"`
	OrderLines     []OrderLine `json:"order_lines,omitempty"`
}

// Refund is a refund as read back from an order.
type Refund struct {
	RefundID       string      `json:"refund_id"`
	RefundedAmount int64       `json:"refunded_amount"`
	RefundedAt     *time.Time  `json:"refunded_at,omitempty"`
	Description    string      `json:"description,omitempty"`
	Reference      string      `json:"reference,omitempty"`
	OrderLines     []OrderLine `json:"order_lines,omitempty"`
}

// MerchantReferences is the body of an update of an order's merchant
// references.
type MerchantReferences struct {
	MerchantReference1 string `json:"merchant_reference1,omitempty"`
	MerchantReference2 string `json:"merchant_reference2,omitempty"`
}

// ErrorResponse is Klarna's error envelope, the same in every v1 API.
type ErrorResponse struct {
	ErrorCode     string   `json:"error_code"`
	ErrorMessages []string `json:"error_messages"`
	CorrelationID string   `json:"correlation_id"`
}

// Pagination is the paging block of the Settlements API's collections.
// Next is the URI of the next page, empty on the last one.
type Pagination struct {
	Count  int64  `json:"count"`
	Total  int64  `json:"total,omitempty"`
	Next   string `json:"next,omitempty"`
	Prev   string `json:"prev,omitempty"`
	Offset int64  `json:"offset,omitempty"`
}

// Payout is one settlement paid to the merchant's bank account, identified by
// its payment reference (the text on the bank statement).
type Payout struct {
	Totals                            Totals    `json:"totals"`
	PaymentReference                  string    `json:"payment_reference"`
	PayoutDate                        time.Time `json:"payout_date"`
	CurrencyCode                      string    `json:"currency_code"`
	CurrencyCodeOfRegistrationCountry string    `json:"currency_code_of_registration_country,omitempty"`
	MerchantSettlementType            string    `json:"merchant_settlement_type"`
	MerchantID                        string    `json:"merchant_id"`
	Transactions                      string    `json:"transactions,omitempty"`
}

// Merchant settlement types (Payout.merchant_settlement_type).
const (
	SettlementNet      = "NET"
	SettlementGross    = "GROSS"
	SettlementGrossFee = "GROSS_FEE"
)

// Totals are a payout's sums per category, in minor units. Klarna documents
// them as magnitudes whose sign the category gives (see settlementTerms).
type Totals struct {
	CommissionAmount         int64 `json:"commission_amount"`
	RepayAmount              int64 `json:"repay_amount"`
	SaleAmount               int64 `json:"sale_amount"`
	HoldbackAmount           int64 `json:"holdback_amount"`
	TaxAmount                int64 `json:"tax_amount"`
	SettlementAmount         int64 `json:"settlement_amount"`
	FeeCorrectionAmount      int64 `json:"fee_correction_amount"`
	ReversalAmount           int64 `json:"reversal_amount"`
	ReleaseAmount            int64 `json:"release_amount"`
	ReturnAmount             int64 `json:"return_amount"`
	FeeAmount                int64 `json:"fee_amount"`
	ChargeAmount             int64 `json:"charge_amount"`
	CreditAmount             int64 `json:"credit_amount"`
	FeeRefundAmount          int64 `json:"fee_refund_amount"`
	TaxRefundAmount          int64 `json:"tax_refund_amount"`
	DepositAmount            int64 `json:"deposit_amount"`
	OpeningDebtBalanceAmount int64 `json:"opening_debt_balance_amount"`
	ClosingDebtBalanceAmount int64 `json:"closing_debt_balance_amount"`
}

// PayoutCollection is one page of payouts.
type PayoutCollection struct {
	Payouts    []Payout   `json:"payouts"`
	Pagination Pagination `json:"pagination"`
}

// PayoutSummary sums the payouts of one currency in a date range.
type PayoutSummary struct {
	SummaryTotalFeeCorrectionAmount int64     `json:"summary_total_fee_correction_amount"`
	SummaryPayoutDateStart          time.Time `json:"summary_payout_date_start"`
	SummaryTotalReleaseAmount       int64     `json:"summary_total_release_amount"`
	SummarySettlementCurrency       string    `json:"summary_settlement_currency"`
	SummaryPayoutDateEnd            time.Time `json:"summary_payout_date_end"`
	SummaryTotalTaxAmount           int64     `json:"summary_total_tax_amount"`
	SummaryTotalSettlementAmount    int64     `json:"summary_total_settlement_amount"`
	SummaryTotalHoldbackAmount      int64     `json:"summary_total_holdback_amount"`
	SummaryTotalReversalAmount      int64     `json:"summary_total_reversal_amount"`
	SummaryTotalReturnAmount        int64     `json:"summary_total_return_amount"`
	SummaryTotalFeeAmount           int64     `json:"summary_total_fee_amount"`
	SummaryTotalCommissionAmount    int64     `json:"summary_total_commission_amount"`
	SummaryTotalSaleAmount          int64     `json:"summary_total_sale_amount"`
	SummaryTotalRepayAmount         int64     `json:"summary_total_repay_amount"`
}

// Transaction is one row of a payout. Amount is in minor units; VATRate is
// the VAT rate on Klarna's fee with two implicit decimals (2500 is 25 %),
// VATAmount that VAT in minor units.
type Transaction struct {
	Amount                                 int64       `json:"amount"`
	CaptureID                              string      `json:"capture_id,omitempty"`
	MerchantReference1                     string      `json:"merchant_reference1,omitempty"`
	SaleDate                               time.Time   `json:"sale_date"`
	Type                                   string      `json:"type"`
	CaptureDate                            time.Time   `json:"capture_date"`
	PaymentReference                       string      `json:"payment_reference,omitempty"`
	OrderID                                string      `json:"order_id"`
	Payout                                 string      `json:"payout,omitempty"`
	RefundID                               string      `json:"refund_id,omitempty"`
	ShortOrderID                           string      `json:"short_order_id,omitempty"`
	MerchantReference2                     string      `json:"merchant_reference2,omitempty"`
	CurrencyCode                           string      `json:"currency_code"`
	PurchaseCountry                        string      `json:"purchase_country"`
	VATRate                                *int64      `json:"vat_rate,omitempty"`
	VATAmount                              *int64      `json:"vat_amount,omitempty"`
	ShippingCountry                        string      `json:"shipping_country,omitempty"`
	InitialPaymentMethodType               string      `json:"initial_payment_method_type,omitempty"`
	InitialNumberOfInstallments            *int64      `json:"initial_number_of_installments,omitempty"`
	InitialPaymentMethodMonthlyDownpayment *int64      `json:"initial_payment_method_monthly_downpayments,omitempty"`
	MerchantCaptureReference               string      `json:"merchant_capture_reference,omitempty"`
	MerchantRefundReference                string      `json:"merchant_refund_reference,omitempty"`
	DetailedType                           string      `json:"detailed_type,omitempty"`
	TaxInCurrencyOfRegistrationCountry     *int64      `json:"tax_in_currency_of_registration_country,omitempty"`
	CurrencyCodeOfRegistrationCountry      string      `json:"currency_code_of_registration_country,omitempty"`
	KlarnaComment                          string      `json:"klarna_comment,omitempty"`
	ReversalReference                      string      `json:"reversal_reference,omitempty"`
	Extra                                  [][2]string `json:"-"` // CSV columns without a field here, kept verbatim
}

// TransactionCollection is one page of transactions.
type TransactionCollection struct {
	Transactions []Transaction `json:"transactions"`
	Pagination   Pagination    `json:"pagination"`
}

// Settlement transaction types (Transaction.type), as listed in the
// Settlements API description.
const (
	TxTypeCommission                 = "COMMISSION"
	TxTypeSale                       = "SALE"
	TxTypeReversal                   = "REVERSAL"
	TxTypeReturn                     = "RETURN"
	TxTypeTax                        = "TAX"
	TxTypeFee                        = "FEE"
	TxTypeFeeRefund                  = "FEE_REFUND"
	TxTypeCorrection                 = "CORRECTION"
	TxTypeReversalMerchantProtection = "REVERSAL_MERCHANT_PROTECTION"
	TxTypeCharge                     = "CHARGE"
	TxTypeCredit                     = "CREDIT"
	TxTypeHoldback                   = "HOLDBACK"
	TxTypeRelease                    = "RELEASE"
)
