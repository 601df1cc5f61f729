// Package stripe connects knyt to Stripe: capture on delivery, refunds,
// payment state, payouts with their balance transactions, and webhook
// signatures. It is a thin client of its own on connector.Transport (no
// stripe-go), speaking Stripe's form-encoded REST API at a pinned
// Stripe-Version (APIVersion).
//
// # The client
//
// New takes a secret or restricted key and options:
//
//	c, err := stripe.New(key,
//		stripe.WithAccount("acct_…"),             // a label for refs, logs and rate limiting
//		stripe.WithWebhookSecrets("whsec_…"),     // for DecodeWebhook
//		stripe.WithLogger(logger))
//
// The key travels as a Bearer token and is scrubbed from every log line and
// error. Every POST carries an Idempotency-Key, and a write without one is
// refused (ErrIdempotencyKeyRequired): derive keys from the business event
// with connector.IdempotencyKey so a retry after a crash repeats the key and
// Stripe applies the write once. Stripe keeps a key's first answer for at
// least 24 hours and answers a reuse with other parameters with an
// idempotency_error, reported as connector.KindConflict.
//
// Errors are *connector.Error wrapping Stripe's error object (*APIError,
// with decline code and request id). The classification reads the error
// code first: lock_timeout and idempotency_key_in_use are temporary and
// retried, resource_missing is not found, a state refusal such as
// payment_intent_unexpected_state is a conflict, a 402 card_error is
// permanent, other 400s are validation errors with the offending param in
// Field. Retries honour Stripe-Should-Retry.
//
// Lists (ListPayouts, ListBalanceTransactions, ListRefunds) are
// iter.Seq2 sequences that page with starting_after while has_more.
// Parameters are Params, a nested map encoded in Stripe's bracket notation
// (metadata[order_number]=…, created[gte]=…, expand[]=…).
//
// # Money
//
// Amounts are converted exactly with ToMinor and FromMinor, using Stripe's
// own exponents, which differ from ISO 4217 in places: MGA is
// zero-decimal, ISK is sent in hundredths that must be whole krónur, and
// the three-decimal currencies (BHD, JOD, KWD, OMR, TND) must end in 0.
// An amount that cannot be sent exactly is refused with commerce.ErrInexact
// before anything is sent.
//
// # Connector capabilities
//
// Client implements connector.Capturer, Refunder, Releaser, PaymentReader,
// PayoutSource and WebhookDecoder. Capture captures a PaymentIntent
// (amount_to_capture; final_capture only with WithMulticapture, see there).
// Refund refunds a PaymentIntent or charge and writes the order number and
// merchant reference into the refund's metadata, so payouts link back to
// the order.
//
// Payouts lists the payouts created in a window; PayoutTransactions lists
// what an automatic payout settled, mapped by reporting_category to
// commerce transaction kinds, with Stripe's fee split into Fee and, for
// fee_details of type tax, FeeVAT. The payout's own balance transaction is
// left out and the rest is checked to sum to the payout.
//
// What needs a human's eye but does not stop the work goes to the Reporter
// (WithReporter; by default a warning in the log), as typed errors:
//
//   - *PayoutNotReconciledError (ErrPayoutNotReconciled): Payouts skipped a
//     payout whose reconciliation_status is not completed yet, or a manual
//     payout whose transactions Stripe does not track. It appears in a later
//     listing of the same window once Stripe completes.
//   - *UnmappedCategoryError (ErrUnmappedCategory): a balance transaction
//     with a reporting_category the package does not map, yielded as
//     commerce.TxOther with the category in ProviderType, never dropped.
//   - *PayoutDifferenceError (ErrPayoutDifference): the transactions do not
//     sum to the payout. PayoutTransactions also yields it as its final
//     error, so nothing is booked from a payout that does not add up.
//
// # Webhooks
//
// VerifyWebhook checks a Stripe-Signature header (t=…,v1=…, several v1 while
// a secret is rolled) against the raw body in constant time, and refuses a
// timestamp outside the tolerance in either direction. Its errors match
// connector.ErrWebhookMalformed, ErrWebhookSignature and ErrWebhookStale.
// SignWebhook produces such a header for tests of your own handlers.
// Client.DecodeWebhook verifies a request and decodes the event for the
// engine; for charge and refund events the ObjectID is the PaymentIntent,
// which is what PaymentReader reads.
//
// # Testing
//
// Package stripetest is a stateful fake of the endpoints used here, with
// idempotency replay, fees, payouts, signed webhooks and fault injection.
// The contract tests of this package also run against Stripe's own
// stripe-mock when it is on PATH or STRIPE_MOCK_URL is set.
package stripe
