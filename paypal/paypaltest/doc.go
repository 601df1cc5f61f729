// Package paypaltest is a stateful fake of PayPal's REST API for tests and
// the sandbox, served on loopback with net/http/httptest.
//
// It is as strict as PayPal where that matters to a client:
//
//   - Every request to an API PayPal describes (Payments v2, Orders v2
//     GET, Transaction Search, webhook verification) is validated against
//     PayPal's own OpenAPI descriptions with kin-openapi before it is
//     handled; a request the description refuses gets 400 INVALID_REQUEST
//     (or 415) with the issue and description PayPal's description fixes.
//     The descriptions are embedded (spec/, Apache-2.0), so the fake works
//     in any checkout. WithResponseValidation checks the fake's own answers
//     too.
//   - OAuth2 client credentials at /v1/oauth2/token, HTTP Basic; tokens
//     expire on the fake clock (WithTokenTTL), ExpireTokens revokes them
//     all, TokenRequests counts them. A stale token gets PayPal's 401
//     {"error":"invalid_token"}.
//   - Authorizations (seeded with AddAuthorization), captures (full,
//     partial, final_capture, the 115 %/+75 limit), reauthorization after
//     the three-day honour period and before day 29, void, refunds (full,
//     partial, time limit), each refusal with PayPal's 422 issue code.
//     Prefer: return=minimal or return=representation.
//   - PayPal-Request-Id: a POST repeated with the same id within 45 days
//     is not applied again and answers with the latest state of what the
//     first created; while the first is still being processed
//     (WithProcessingDelay) the repeat gets 409 PREVIOUS_REQUEST_IN_PROGRESS.
//   - Transaction Search over the account's history: captures and refunds
//     add their T0006 and T1107 rows with fees, AddTransaction adds any
//     row, Withdraw sweeps a currency's balance into a T0400 withdrawal.
//     Windows over 31 days, page sizes over 500 and start dates past the
//     refreshed data are refused as PayPal does; rows appear only after
//     the reporting lag (WithSearchLag, default three hours); dates are
//     written in the account's zone without the offset colon, as PayPal
//     writes them.
//   - Webhooks: captures, refunds, reauthorizations and voids raise events
//     (Events); DeliverEvents and Deliver post them signed with SHA256withRSA
//     by a certificate the fake issues from its own CA at first use. Give a
//     verifier RootCAs and CertTransport (which serves the certificate for
//     the https://api.sandbox.paypal.com URL the fake signs with). The
//     verify-webhook-signature endpoint answers SUCCESS or FAILURE.
//   - Faults: Faults returns the connector/fault injector wrapped around
//     every endpoint; injected errors carry PayPal's error body.
//
// Time is a fake clock, frozen at the start time (WithStartTime, default
// the real time at start) until Advance. Ids are PayPal-shaped and
// repeatable (WithSeed).
//
// Known differences from PayPal: the search date parameters follow the
// description's pattern, which requires the offset colon that PayPal's own
// samples leave out; the original authorization is voided when it is
// reauthorized (PayPal does not document what it shows); fees are a flat
// percentage; rate limits are not modelled beyond injected 429s.
package paypaltest
