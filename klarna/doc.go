// Package klarna connects knyt to Klarna: the Order Management API
// (capture on delivery, refund on return, release of the remaining
// authorization) and the Settlements API (payouts and their transactions,
// for reconciliation).
//
// # Client
//
// New takes the Basic credentials from Klarna's portal and options; the
// region (Europe, NorthAmerica, Oceania) and environment (live, or
// WithPlayground) pick the host, WithBaseURL overrides it (klarnatest's URL
// in tests):
//
//	c, err := klarna.New(username, password, klarna.WithRegion(klarna.Europe), klarna.WithMerchantID("K123456"))
//
// All HTTP goes through connector.Transport: retries of what is safe
// (reads; writes only with their idempotency key), backoff honouring
// Retry-After and Klarna's X-Ratelimit-Reset, a per-merchant token bucket at
// Klarna's documented limit (200 requests/s live, 50 in the playground),
// slog logging with the credentials redacted, and typed errors. Klarna's
// error envelope {error_code, error_messages, correlation_id} becomes a
// *connector.Error with the code, the messages, the correlation id as
// RequestID and a kind: NO_SUCH_ORDER/NOT_FOUND → KindNotFound,
// CAPTURE_NOT_ALLOWED and the other XXX_NOT_ALLOWED refusals → KindConflict
// (the order's state forbids it), UNPROCESSABLE_ENTITY/BAD_VALUE →
// KindValidation, TOO_MANY_REQUESTS → KindRateLimited,
// TEMPORARILY_UNAVAILABLE/INTERNAL_SERVER_ERROR → KindTemporary, 401 →
// KindAuth.
//
// The Client is both a typed API client (GetOrder, CreateCapture, GetCapture,
// CreateRefund, ReleaseRemainingAuthorization, CancelOrder,
// UpdateMerchantReferences, ListPayouts, GetPayout, PayoutSummaries,
// ListTransactions, PayoutReport) working with the wire types of this
// package, and a connector implementing connector.PaymentReader, Capturer,
// Refunder, Releaser and PayoutSource over the canonical commerce model.
//
// # Payments
//
// A Klarna order id is the payment reference. Capture, Refund and
// ReleaseRemaining require connector.WithIdempotencyKey, derived from the
// business event (connector.IdempotencyKey("klarna", "capture", orderID,
// deliveryID)); without one they refuse to send, because only the key lets
// a retry after a lost answer be applied once. Klarna keeps keys for 24
// hours and ignores the body when it sees a key again, so a key must never
// be reused for a different capture; the client detects a reused key whose
// capture differs from the request and says so. Amounts are converted to
// Klarna's integer minor units exactly (an amount that is not a whole
// number of öre is refused, commerce.ErrInexact), and checked against the
// order's currency (commerce.ErrCurrencyMismatch). Klarna's bare "capture
// not allowed" is explained from the order: cancelled, expired at
// expires_at, or above the remaining authorization.
//
// # Payouts
//
// Payouts lists the payouts dated in a window; PayoutTransactions lists one
// payout's transactions, following pagination.next, mapped to canonical
// transactions in the merchant's view: SALE → sale (+), RETURN → refund
// (−), FEE → fee (positive cost, VAT from vat_amount and vat_rate in
// FeeVAT), FEE_REFUND → fee refund (negative cost and VAT), REVERSAL →
// reversal (−), REVERSAL_MERCHANT_PROTECTION → reversal (+), HOLDBACK →
// holdback (−), RELEASE → release (+), CHARGE/CREDIT/COMMISSION/CORRECTION
// → adjustment, TAX → VAT only; an unknown type is kept as other with its
// amount as sent, logged and passed to WithUnknownTransactionHandler. Every
// reference Klarna gives is kept in commerce.TxReferences. The rows are then
// checked against the payout: their nets, with the debt repaid or deposited
// that the totals report, must sum to totals.settlement_amount, or the
// iteration ends with a *SettlementMismatchError giving the difference.
// Which sign Klarna uses for amounts in JSON is not documented; types with
// a fixed direction are signed by type, which is right either way, and the
// sum check catches the rest.
//
// ParsePayoutReport reads the CSV payout-with-transactions report
// (semicolon separated); NormalizePayout applies the same mapping and check
// to rows from any source. The report's exact columns are not documented in
// the sources this package was built from; see ReportFormat.
//
// # Testing
//
// Package klarnatest is a stateful fake of both APIs that validates every
// request against Klarna's OpenAPI descriptions; point the client at it
// with WithBaseURL (see the examples).
package klarna
