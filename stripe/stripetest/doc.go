// Package stripetest is a stateful fake of the parts of Stripe's API the
// stripe package uses, served over loopback HTTP for tests and the
// sandbox. It imports nothing of the stripe package: it is an independent
// reading of the API, so a test against it checks the client.
//
// What it does, as Stripe does:
//
//   - Authenticates the secret key (Bearer or Basic) and answers every error
//     in Stripe's shape ({"error":{type,code,message,param,doc_url}}) with a
//     Request-Id header; refuses unknown parameters, bad expansions, JSON
//     bodies and limits outside 1–100.
//   - PaymentIntents with manual capture (seed with AddAuthorization):
//     capture with amount_to_capture and final_capture (multicapture only
//     when seeded so), expiry of the authorization (capture_before), cancel,
//     refunds by payment_intent or charge, with Stripe's currency rules
//     (zero-decimal, three-decimal ending in 0, ISK in whole krónur).
//   - A balance ledger: each capture books a charge with a fee (FeePolicy,
//     optionally with VAT as a "tax" fee detail), a partial capture without
//     multicapture books the full authorization and a
//     partial_capture_reversal, refunds book negative rows, and
//     AddBalanceTransaction books anything else (disputes, fees, unknown
//     categories).
//   - Automatic payouts (CreatePayout) that sweep the unpaid rows and book
//     their own negative payout row, listed by
//     GET /v1/balance_transactions?payout=po_… with expand[]=data.source;
//     reconciliation_status transitions (CompleteReconciliation); manual
//     payouts (AddManualPayout), which cannot be listed by payout.
//   - Lists newest first with limit, starting_after, ending_before and
//     has_more, and created/arrival_date range filters.
//   - Idempotency: a POST's first answer is saved under its Idempotency-Key
//     for 24 hours of the fake's clock and replayed (Idempotent-Replayed:
//     true); the same key with other parameters or on another endpoint is a
//     400 idempotency_error; a key still in flight is a 409
//     idempotency_key_in_use; parameter validation failures are not saved.
//   - Events for every change, delivered to SetWebhookEndpoint by
//     DeliverWebhooks (pending ones, retried until a 2xx) or Deliver (any
//     order, duplicates allowed), signed with the webhook secret.
//
// Time stands still at the fake's clock (WithClock, Advance, SetNow), so
// authorization expiry, key retention and webhook timestamps are testable
// without sleeping. Faults returns the connector/fault injector wrapped
// around the handler (its error bodies are Stripe's), and FailNext answers
// with a chosen Stripe error (a 429 lock_timeout, a Stripe-Should-Retry
// header). Requests, Events, PaymentIntent and BalanceTransactionCount let
// tests look inside.
//
// Not modelled: creating and confirming PaymentIntents through the API,
// customers, disputes as objects, Connect, currency conversion.
package stripetest
