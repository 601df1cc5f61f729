// Package connector is the contract between knyt's engine and the systems it
// ties together, and the shared machinery every system package is built on.
//
// # Capabilities
//
// A connector implements [System] and then whichever small capability
// interfaces its system has: [OrderSource] and [Fulfiller] for a shop,
// [OrderSink] and [OrderEventSource] for an ERP, [Capturer], [Refunder] and
// [PayoutSource] for a payment provider, and so on. The engine discovers
// them by type assertion, so a partner's connector for another ERP plugs in
// by implementing the same interfaces:
//
//	if sink, ok := erp.(connector.OrderSink); ok {
//		res, err := sink.CreateOrder(ctx, order, connector.WithIdempotencyKey(key))
//	}
//
// Changes are read through a [Feed]: Next returns a [Batch] after a
// [Cursor], Commit acknowledges it once processed. Watermark systems treat
// Commit as a no-op; queue systems acknowledge there, and until then the
// same items come again. [Drain] walks a feed to its end.
//
// # Exactly once
//
// Every write that moves money or creates a document takes an idempotency
// key through [WithIdempotencyKey]. Derive it with [IdempotencyKey] from the
// business event (provider, operation, order, delivery), never at random:
// after a crash the same event yields the same key, and the provider applies
// it once.
//
// # Errors
//
// Every failure is an [*Error] naming the system and the operation, with a
// [Kind] that errors.Is matches against [ErrNotFound], [ErrConflict],
// [ErrValidation], [ErrAuth], [ErrRateLimited], [ErrTemporary],
// [ErrPermanent] or [ErrUnsupported]. Error.MaybeApplied marks a write whose
// answer was lost: repeat it only with the same key. No error and no log line
// contains a secret.
//
// # Transport
//
// [Transport] is the HTTP layer of every system package, built on
// go-retryablehttp. It retries only what is safe — reads, requests with an
// idempotency key, requests marked Idempotent, and any request the server
// says it did not execute (429, a refused connection) — with exponential
// backoff and jitter that honours Retry-After; it applies a per-account
// [RateLimiter] ([NewTokenBucket], [NewSerial]); it logs every attempt with
// log/slog through a [Redactor] that hides credentials in headers, URLs and
// form bodies and any registered secret value; and it refuses plain http://
// except to loopback, where the fakes run.
//
// # Webhooks
//
// [ReadWebhookBody] bounds what is read, [HMACSHA256] and [EqualMAC] verify
// signatures in constant time, and system packages decode verified requests
// into a [WebhookEvent]. Webhooks are hints for deduplication and prompt
// pulls; the feeds are the truth.
//
// Subpackages: connectortest is a conformance suite any connector runs
// against its fake; fault injects failures into fakes.
package connector
