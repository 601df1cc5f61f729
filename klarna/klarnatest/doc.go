// Package klarnatest is a stateful fake of Klarna's Order Management and
// Settlements APIs, served on loopback with net/http/httptest, for tests of
// code that captures, refunds and reconciles Klarna payments.
//
// It is strict like the real API:
//
//   - Every request is validated against Klarna's own OpenAPI descriptions
//     (embedded from spec/, loaded with kin-openapi); a request Klarna would
//     refuse gets Klarna's error envelope {error_code, error_messages,
//     correlation_id}: 422 UNPROCESSABLE_ENTITY for an Order Management body
//     out of bounds, 400 BAD_VALUE otherwise. Every answer the fake gives is
//     validated against the descriptions too, so the fake cannot drift.
//   - HTTP Basic credentials are required (username:password or a bare API
//     key after "Basic"); without them: 401.
//   - Orders keep their authorization, captures, refunds and expiry: a
//     capture above the remaining amount, after expires_at or on a cancelled
//     order is refused with 403 CAPTURE_NOT_ALLOWED, a refund above what is
//     refundable with 403 REFUND_NOT_ALLOWED, a release of an order without
//     captures or fully captured with 403 NOT_ALLOWED. Captures and refunds
//     answer 201 with Capture-Id/Refund-Id and Location headers and no body.
//   - POST and PATCH requests carrying Klarna-Idempotency-Key are applied
//     once: the same key within 24 hours of fake time gets the first answer
//     again, whatever the body (only the key matters, as Klarna documents).
//   - Settle generates payouts from the captures and refunds (sales, returns,
//     fees with VAT, fee refunds, holdbacks and releases, debt carried
//     forward) whose rows sum exactly to the settlement amount; the
//     Settlements API serves them with offset/size paging and
//     pagination.next links, and the CSV payout-with-transactions report.
//   - Faults (5xx, 429 with X-Ratelimit-* headers, hangs, dropped
//     connections, "applied but the answer lost") are injected through
//     Faults(), in Klarna's error shape; WithRateLimit makes the fake
//     throttle by itself.
//   - Time is a fake clock: Advance moves it, so expiry and the 24-hour
//     idempotency window are tested without sleeping.
//
// Seeding: AddOrder creates an authorized order (what a completed checkout
// leaves behind); Settle turns activity into payouts; AddPayout stores a
// payout exactly as given, for tests with data the generator never makes.
// Inspection: Order, Payout, Calls (executed requests per operationId) and
// Replays.
//
// Where the fake is stricter than Klarna: the Settlements API's start_date
// and end_date must be full date-times, as the description's format says
// (Klarna also reads a bare date as midnight, but advises full date-times).
//
// What the fake assumes where Klarna's documentation is silent: a released
// order reports status CAPTURED; fees and VAT round half away from zero;
// the Settlements API's 400 code is BAD_VALUE; an unauthenticated request
// gets error_code UNAUTHORIZED; authorizations last 28 days unless
// WithAuthorizationTTL says otherwise.
//
// Operations of the descriptions the fake does not implement (acknowledge,
// update authorization, customer details, shipping info, due-date
// extension, send-out, PDF reports) are validated and then answered with
// 501 NOT_IMPLEMENTED.
package klarnatest
