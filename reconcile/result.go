package reconcile

import (
	"github.com/knyt/knyt/commerce"
)

// MatchMethod says how a transaction was matched to its document, in order
// of confidence.
type MatchMethod string

// Match methods, most confident first.
const (
	// ByInvoiceNumber: the transaction carries the ERP invoice number
	// (PayPal invoice_id).
	ByInvoiceNumber MatchMethod = "invoice_number"
	// ByPSPReference: a provider id of the transaction (order id, capture
	// or refund id, PaymentIntent, source id) equals a reference stored on
	// the invoice (PaymentReference) or on its order (PaymentRef.Reference).
	ByPSPReference MatchMethod = "psp_reference"
	// ByOrderNumber: the transaction carries the shop's order number
	// (Klarna merchant_reference1, Stripe metadata).
	ByOrderNumber MatchMethod = "order_number"
	// ByMerchantReference: a free merchant reference (capture or refund
	// reference, merchant_reference2, PayPal custom_id, Klarna short order
	// id) equals an order or invoice number.
	ByMerchantReference MatchMethod = "merchant_reference"
	// ByAmountAndDate: no key matched; exactly one open document of the
	// right kind has the amount (within Tolerance.Amount) and a date
	// within Tolerance.Days.
	ByAmountAndDate MatchMethod = "amount_date"
)

// TxStatus is what became of a transaction.
type TxStatus string

// Transaction statuses.
const (
	TxMatched       TxStatus = "matched"        // settled a document
	TxUnmatched     TxStatus = "unmatched"      // booked to the suspense account, listed in Unmatched
	TxFeeOnly       TxStatus = "fee"            // a fee or fee refund, booked per the fee policy
	TxHoldback      TxStatus = "holdback"       // held back by the provider
	TxRelease       TxStatus = "release"        // a holdback released
	TxPayoutRow     TxStatus = "payout_row"     // the provider's own row for the payout; not booked
	TxAlreadyBooked TxStatus = "already_booked" // booked by an earlier run
	TxNotBooked     TxStatus = "not_booked"     // its payout was refused, held or not paid
)

// PayoutStatus is what became of a payout.
type PayoutStatus string

// Payout statuses.
const (
	PayoutBooked        PayoutStatus = "booked"
	PayoutSupplemented  PayoutStatus = "supplemented"   // booked before; this run booked only its new transactions
	PayoutAlreadyBooked PayoutStatus = "already_booked" // nothing new
	PayoutRejected      PayoutStatus = "rejected"       // not booked: see Reason
	PayoutHeld          PayoutStatus = "held"           // not booked: unmatched rows (WithHoldUnmatched)
	PayoutNotPaid       PayoutStatus = "not_paid"       // not booked: the payout has not been paid (pending, in transit, failed, cancelled)
	PayoutDuplicate     PayoutStatus = "duplicate"      // the same payout earlier in the input
)

// PayoutResult is the outcome for one payout.
type PayoutResult struct {
	ID          string         `json:"id"`
	Provider    string         `json:"provider"`
	Amount      commerce.Money `json:"amount,omitzero"` // as given; absent for a payout without a currency
	ArrivalDate commerce.Date  `json:"arrival_date,omitzero"`
	Status      PayoutStatus   `json:"status"`
	Reason      string         `json:"reason,omitempty"`
	// Transactions counts the payout's rows; Booked those booked now.
	Transactions int `json:"transactions"`
	Booked       int `json:"booked"`
	// Vouchers are the ids of the vouchers booked now; Previous the
	// voucher that booked the payout before (for a supplement or a payout
	// already booked).
	Vouchers []string `json:"vouchers,omitempty"`
	Previous string   `json:"previous,omitempty"`
	// Difference is the payout amount less the sum of its transactions.
	Difference commerce.Money `json:"difference"`
	// Fees (excluding VAT) and FeeVAT (charged by the provider) booked
	// now, in the payout currency; ReverseChargeVAT the self-assessed VAT
	// booked now, in the book currency.
	Fees             commerce.Money `json:"fees"`
	FeeVAT           commerce.Money `json:"fee_vat"`
	ReverseChargeVAT commerce.Money `json:"reverse_charge_vat"`
}

// Match is a transaction matched to its document.
type Match struct {
	Payout      string                   `json:"payout"`
	Transaction string                   `json:"transaction"`
	Kind        commerce.TransactionKind `json:"kind"`
	Document    DocumentRef              `json:"document"`
	Method      MatchMethod              `json:"method"`
	Amount      commerce.Money           `json:"amount"`
}

// Reason says why a transaction is unmatched.
type Reason string

// Unmatched reasons.
const (
	ReasonNoReference        Reason = "no_reference"        // no key, and no single document fits amount and date
	ReasonNotFound           Reason = "not_found"           // its keys are on no open document, and no single document fits amount and date
	ReasonAmbiguous          Reason = "ambiguous"           // no key matched; several documents fit amount and date
	ReasonWrongKind          Reason = "wrong_kind"          // its keys found only documents of another kind
	ReasonCurrency           Reason = "currency"            // its document is in another currency with no exchange rate
	ReasonAdjustment         Reason = "adjustment"          // a provider adjustment: classify by hand
	ReasonUnknownType        Reason = "unknown_type"        // a provider type the connector did not know (kind other)
	ReasonCurrencyConversion Reason = "currency_conversion" // a conversion between the provider's currency balances
)

// Candidate is a document that might belong to an unmatched transaction.
type Candidate struct {
	Document DocumentRef    `json:"document"`
	Open     commerce.Money `json:"open"`
	Date     commerce.Date  `json:"date,omitzero"`
}

// Unmatched is a transaction booked without a document, with the reason
// and the best candidates.
type Unmatched struct {
	Payout       string                   `json:"payout"`
	Transaction  string                   `json:"transaction"`
	Kind         commerce.TransactionKind `json:"kind"`
	ProviderType string                   `json:"provider_type,omitempty"`
	Amount       commerce.Money           `json:"amount"`
	Reason       Reason                   `json:"reason"`
	Detail       string                   `json:"detail,omitempty"`
	Candidates   []Candidate              `json:"candidates,omitempty"`
	// Account is where the amount was booked (the suspense account);
	// empty when its payout was not booked.
	Account string `json:"account,omitempty"`
}

// DifferenceKind classifies a difference.
type DifferenceKind string

// Difference kinds.
const (
	DiffUnderpaid     DifferenceKind = "underpaid"              // less settled than invoiced so far
	DiffOverpaid      DifferenceKind = "overpaid"               // more settled than invoiced
	DiffMissingCredit DifferenceKind = "missing_credit_invoice" // a refund with no credit invoice: booked against the invoice
	DiffChargeback    DifferenceKind = "chargeback"             // a chargeback or reversal reopened the document
	DiffRounding      DifferenceKind = "rounding"               // closed within the rounding tolerance, booked on the rounding account
	DiffExchange      DifferenceKind = "exchange"               // closed within the FX tolerance, booked as exchange gain or loss
	DiffPayout        DifferenceKind = "payout_mismatch"        // a payout whose transactions do not sum to it
)

// Party is who owes a difference.
type Party string

// Parties. For a document, Amount > 0 means the customer (or the provider
// collecting for the merchant) owes the merchant; Amount < 0 that the
// merchant owes the customer. For a payout, the provider or the merchant.
const (
	OwedByCustomer Party = "customer"
	OwedByMerchant Party = "merchant"
	OwedByProvider Party = "provider"
)

// Difference is an amount paid that differs from what was invoiced, or a
// payout that differs from its transactions.
type Difference struct {
	Kind     DifferenceKind `json:"kind"`
	Document *DocumentRef   `json:"document,omitempty"`
	Payout   string         `json:"payout,omitempty"`
	// Expected is what was invoiced and open (or the payout amount);
	// Settled what providers settled (or the transactions' sum); Amount
	// Expected − Settled, signed from the merchant's view.
	Expected commerce.Money `json:"expected"`
	Settled  commerce.Money `json:"settled"`
	Amount   commerce.Money `json:"amount"`
	OwedBy   Party          `json:"owed_by,omitempty"`
	// Account is where the difference was booked when it was closed
	// (rounding, exchange); empty while it is open.
	Account string `json:"account,omitempty"`
}

// Payment is a document settled, fully or in part, by this run: what the
// engine marks as paid in the ERP.
type Payment struct {
	Document    DocumentRef `json:"document"`
	OrderNumber string      `json:"order_number,omitempty"`
	// Amount is what this run settled, as a magnitude in the document's
	// currency (for a credit invoice: the amount refunded), including an
	// öre or exchange difference closed with it.
	Amount    commerce.Money `json:"amount"`
	Date      commerce.Date  `json:"date"` // arrival date of the last payout that settled it
	FullyPaid bool           `json:"fully_paid"`
	Remaining commerce.Money `json:"remaining"` // still open, as a magnitude
}

// ProblemKind classifies a problem.
type ProblemKind string

// Problem kinds.
const (
	ProblemDocument    ProblemKind = "document"      // a document that cannot be used
	ProblemDuplicate   ProblemKind = "duplicate"     // a document number given twice; the first is used
	ProblemFailedAfter ProblemKind = "failed_payout" // a payout now failed or cancelled that was booked earlier
)

// Problem is input the run could not use, reported rather than dropped.
type Problem struct {
	Kind    ProblemKind `json:"kind"`
	Subject string      `json:"subject"`
	Detail  string      `json:"detail"`
}

// Result is the outcome of a run. The lists that grow with the data —
// every matched transaction, every paid document — are iterators
// (Matched, Paid), computed from the run's compact state when asked, so a
// run over a million transactions does not hold a million structs twice;
// the rest are slices.
type Result struct {
	BookCurrency commerce.Currency `json:"book_currency"`
	Summary      Summary           `json:"summary"`
	Payouts      []PayoutResult    `json:"payouts"`
	// Unmatched are the transactions without a document, with the reason
	// and the best candidates: booked to the suspense account, or not
	// booked when their payout was held.
	Unmatched []Unmatched `json:"unmatched"`
	// Differences are payouts that do not sum, and documents whose
	// settlement differs from what was invoiced.
	Differences []Difference       `json:"differences"`
	Problems    []Problem          `json:"problems"`
	Vouchers    []commerce.Voucher `json:"vouchers"`

	book    commerce.Currency
	payouts []commerce.Payout
	ps      []payoutState
	offsets []int32
	txs     []txState
	docs    *docStore
	tab     *tables
	prev    map[int32]string
}

// Summary counts a run.
type Summary struct {
	Payouts             int `json:"payouts"`
	PayoutsBooked       int `json:"payouts_booked"` // booked or supplemented
	PayoutsAlreadyDone  int `json:"payouts_already_booked"`
	PayoutsNotBooked    int `json:"payouts_not_booked"` // rejected, held, not paid, duplicate
	Transactions        int `json:"transactions"`
	TransactionsMatched int `json:"transactions_matched"`
	TransactionsOpen    int `json:"transactions_unmatched"`
	Differences         int `json:"differences"`
	DocumentsPaid       int `json:"documents_paid"`
	DocumentsFullyPaid  int `json:"documents_fully_paid"`
	Vouchers            int `json:"vouchers"`
	Problems            int `json:"problems"`
	// ByCurrency sums amounts per payout currency, ordered by code.
	ByCurrency []CurrencyTotals `json:"by_currency"`
	// ReverseChargeVAT is the self-assessed VAT booked, in the book
	// currency.
	ReverseChargeVAT commerce.Money `json:"reverse_charge_vat"`
}

// CurrencyTotals are a run's amounts in one payout currency, for what was
// booked now.
type CurrencyTotals struct {
	Currency  string         `json:"currency"`
	Payouts   commerce.Money `json:"payouts"`   // bank amounts booked
	Matched   commerce.Money `json:"matched"`   // amounts of matched transactions
	Unmatched commerce.Money `json:"unmatched"` // amounts booked to suspense
	Fees      commerce.Money `json:"fees"`      // fees excluding VAT
	FeeVAT    commerce.Money `json:"fee_vat"`   // VAT charged on fees
}
