// Package paypal connects knyt to PayPal's REST API: capture on delivery,
// refund on return, the payment's state, payouts reconstructed from
// Transaction Search, and webhook verification.
//
// # Client
//
// New takes the app's REST credentials and talks to live PayPal unless
// WithSandbox or WithBaseURL (a fake's URL in tests) says otherwise:
//
//	c, err := paypal.New(clientID, secret, paypal.WithSandbox(), paypal.WithLogger(logger))
//
// Every call goes through connector.Transport: retries of what is safe,
// Retry-After, typed *connector.Error values naming "paypal" and the
// operation, slog logging. The OAuth2 client-credentials token is fetched
// on first use, cached, and replaced a margin before it expires; however
// many goroutines need a new token at once, one request goes to
// /v1/oauth2/token and the others wait for it. If PayPal refuses a token
// anyway (401), it is dropped and the call is tried once more with a new
// one. The credentials and every token are registered as secrets and never
// appear in a log line or an error.
//
// PayPal's error bodies ({name, message, debug_id, details[{issue}]}) are
// decoded into the connector kinds with one table (in errors.go):
// CAPTURE_FULLY_REFUNDED or AUTHORIZATION_ALREADY_CAPTURED is a conflict,
// REFUND_AMOUNT_EXCEEDED or DECIMAL_PRECISION a validation error,
// AUTHORIZATION_EXPIRED permanent, PREVIOUS_REQUEST_IN_PROGRESS temporary.
// The full body stays available as *APIError; Issue(err) gives the first
// issue code.
//
// # Payments
//
// Client implements connector.Capturer, Refunder, Releaser and
// PaymentReader. The payment reference is the PayPal authorization id.
// Capture and Refund refuse to run without connector.WithIdempotencyKey:
// the key is sent as PayPal-Request-Id (PayPal keeps it 45 days), so a
// retry after a timeout or a crash returns the first result instead of
// moving money twice. Every POST carries a PayPal-Request-Id and
// "Prefer: return=representation".
//
// Authorizations are honoured for three days. Capture reauthorizes an
// authorization past that honour period (once, before day 29, as PayPal
// allows) and captures the new one; the reauthorization is keyed by the
// original authorization, so a repeated capture finds the same new
// authorization. Turn this off with WithReauthorization(false).
//
// Amounts travel as decimal strings with exactly PayPal's decimals for the
// currency (FromMoney, ToMoney). PayPal takes no decimals for HUF, JPY and
// TWD, although ISO 4217 gives HUF and TWD two: 1000 HUF is "1000", and
// 10.50 HUF is refused before anything is sent. The table lives in one
// place (Decimals).
//
// # Payouts
//
// PayPal has no payout object. Client implements connector.PayoutSource
// from Transaction Search: a payout is a bank withdrawal (event code T0400,
// or any T04 code) with the rows of the same currency since the previous
// withdrawal. Each row becomes a commerce.Transaction whose kind comes from
// its event code (EventKind: T0006 sale, T1107 refund, T01 fees, T02
// currency conversion, T1110/T1111 hold and release, …); a code the table
// does not know is kept as commerce.TxOther and reported. Each payout's
// rows are summed against the withdrawal; a difference is reported.
// Reports go to the logger and to WithAnomalyHandler.
//
// Transaction Search answers windows of at most 31 days and pages of at
// most 500 rows; Payouts, PayoutTransactions and Transactions split ranges
// and read every page themselves. It shows transactions up to three hours
// late: rows younger than that, or newer than the last_refreshed_datetime
// PayPal reports, are not final and never used. When a requested range
// reaches past that boundary, the listing ends with a KindTemporary
// *connector.Error wrapping a *NotFinalError that says up to when
// everything was listed; list the rest again after RetryAfter. Dates are
// read with ParseTime, which accepts PayPal's colon-less offsets
// ("2014-07-11T04:03:52+0000") and nothing loose.
//
// A payout's id is the withdrawal's transaction id and time (PayoutID), so
// that PayoutTransactions can find it again: Transaction Search cannot look
// a transaction up without a window.
//
// # Webhooks
//
// VerifyWebhookSignature checks a delivery locally: RSA-SHA256 over
// "transmission id|transmission time|webhook id|CRC32 of the raw body",
// against the certificate PAYPAL-CERT-URL names. WebhookVerifier does the
// whole job: it refuses certificate URLs that are not https on a
// paypal.com host (CheckCertURL) before fetching anything, fetches without
// following redirects, verifies the chain and its validity, caches the
// certificate, and implements connector.WebhookDecoder. With
// WithVerificationAPI it asks PayPal's verify-webhook-signature endpoint
// instead (Client.VerifyWebhookByAPI), sending the body byte for byte.
//
// # Testing
//
// Package paypaltest is a stateful fake of all of the above that validates
// every request against PayPal's OpenAPI descriptions; point the client at
// it with WithBaseURL and its clock with WithClock.
//
// # Unverified
//
// Points the reference marks unverified, and design guesses, are marked
// where they are used: the currency table's source; the sign of a refund
// row's fee (positive: fee returned) and the layout of conversion rows; the
// T02, T03, T07, T15 and T20 groups; how PayPal shows an authorization after
// reauthorizing it (the client copes with it staying open or being voided);
// and the certificate's subject name (only the paypal.com domain is
// checked). PayPal's fee carries no VAT split; FeeVAT is left empty.
package paypal
