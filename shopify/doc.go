// Package shopify connects a Shopify shop through the GraphQL Admin API
// (version 2026-10; the REST API is legacy and not used) and maps it to
// knyt's canonical commerce model.
//
// # Client
//
// New returns a Client for one shop. It authenticates with a TokenSource:
// StaticToken for a permanent admin token, or NewClientCredentials for an
// app from the Dev Dashboard, whose tokens (about 24 h) are fetched with
// the client credentials grant and renewed before they expire or after a
// 401. All HTTP goes through connector.Transport: context on every call,
// retries of what is safe, typed *connector.Error values naming "shopify"
// and the operation, and slog logging with the token and client secret
// redacted.
//
//	c, err := shopify.New("my-shop", shopify.NewClientCredentials(id, secret),
//		shopify.WithLogger(logger))
//
// Every GraphQL document the package sends is a file under graphql/,
// embedded and sent as written, followed by the shared fragments of
// graphql/fragments/ it spreads; Documents lists them as sent, and the tests
// of shopify/shopifytest validate them against the 2026-10 schema. Execute
// sends a caller's own document (see ParseDocument) with the same pacing and
// error handling.
//
// # Cost-aware rate limiting
//
// Shopify limits each app on each shop with a leaky bucket of cost points
// and reports it in extensions.cost of every answer. The client mirrors
// that bucket (CostBucket, shared by all goroutines using the client, and
// between clients with WithCostBucket) and waits before each request only
// as long as the bucket needs to refill to the request's requested cost.
// The cost is estimated from the document by Shopify's published rules
// (Document.EstimateCost) and corrected by the figure Shopify reports for
// it. Feed pages are sized so no request asks for more than 1000 points
// (or the bucket's size, if smaller). A THROTTLED answer — HTTP 200 with
// errors[].extensions.code "THROTTLED", or HTTP 429 with Retry-After —
// was not executed, so the client waits exactly what the bucket says and
// sends it again, mutations included. No plan's limits are assumed.
//
// Queries, and mutations carrying @idempotent (inventorySetQuantities,
// inventoryActivate, refundCreate), are retried after network failures and
// 5xx answers; other mutations are not, and an ambiguous failure comes
// back with MaybeApplied set. The writers below look before they write
// again where Shopify offers no idempotency key. Shopify's idempotency
// errors are classified as IDEMPOTENCY_CONCURRENT_REQUEST KindTemporary,
// IDEMPOTENCY_KEY_PARAMETER_MISMATCH KindConflict and
// IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED KindPermanent.
//
// # Connector capabilities
//
// Client implements connector.System and these capabilities:
//
//   - ProductSource: Products (feed by updated_at with an id tiebreak) and
//     ProductBySKU;
//   - ProductSink: UpsertProducts with productSet, keyed by the existing
//     product's id or a deterministic handle so a retry never duplicates;
//   - PriceSink: SetPrices with productVariantsBulkUpdate;
//   - PriceListSink: SetPriceList with priceListFixedPricesAdd on a
//     market or B2B catalogue's price list;
//   - StockSink: SetStock with inventorySetQuantities, @idempotent and
//     changeFromQuantity, activating items at new locations;
//   - OrderSource: Orders, mapped completely (customer, addresses, lines
//     with SKU, tax lines, discount allocations, shipping, taxesIncluded,
//     shop or presentment money, payment references) and checked against
//     Shopify's current totals with Order.CheckTotals — a difference is
//     reported (WithTotalsMismatchHandler), never hidden;
//   - Fulfiller, OrderCanceller, PaidMarker and Capturer (orderCapture,
//     multi-currency aware) for the status that goes back to the shop.
//     Fulfill sends one fulfillmentCreate per location (Shopify fulfils
//     the fulfillment orders of one location per call), in the order of
//     the request's lines, with the same tracking, and returns the first
//     location's fulfillment; a retry after some locations were done
//     fulfils only the others (exactly with tracking numbers, within the
//     process with an idempotency key; see Fulfill for the limits);
//   - Refunder: Refund with refundCreate for orders Shopify Payments (or
//     another gateway Shopify refunds through) took, spread over the
//     order's captures in one call, the refunded line items recorded
//     without restocking, @idempotent and refused without an idempotency
//     key;
//   - RefundSource and ReturnSource;
//   - PayoutSource: Shopify Payments payouts and balance transactions.
//
// Feeds are watermark feeds: the cursor is the state and Commit does
// nothing. Shopify's updatedAt has whole seconds, so the cursor remembers
// a digest of each object delivered in the newest second: re-reading that
// second skips what is unchanged and delivers an object changed again
// within the same second. Cursors are opaque base64url text, safe to
// store; cursors written by earlier versions are still accepted. Items
// Shopify sends that the model refuses (a variant without SKU, an amount
// with more decimals than its currency, an unknown enum value) come as the
// batch's Problems (connector.ItemProblem, a KindValidation error each)
// while the feed moves on, unless WithInvalidHandler decides otherwise.
//
// # Bulk export
//
// ExportProducts reads the whole catalogue with a bulk operation
// (bulkOperationRunQuery), polling it or woken by the bulk_operations/finish
// webhook, and streams the JSONL result (ReadJSONL) product by product, so
// memory does not grow with the catalogue. It reports progress with a
// checkpoint that resumes the export after a crash.
//
// # Webhooks
//
// VerifyWebhook checks X-Shopify-Hmac-Sha256 in constant time.
// WebhookDecoder verifies and decodes a delivery in an http.Handler into
// its topic, shop, webhook id, event id and triggered-at, for deduplication
// and staleness checks; ids beyond 2^53 stay exact.
//
// # Testing
//
// Package shopify/shopifytest is a stateful fake of the Admin API that
// validates every document against the real schema and enforces the cost
// bucket; point a client at it with WithBaseURL and WithHTTPClient, as the
// examples do.
//
// Facts marked unverified in the reference (the Plus bucket size, the
// payments_transfer_id filter of balance transactions, the sign of
// withdrawal payouts, whether currentTotalDiscountsSet includes shipping
// discounts) are noted where the code relies on them.
package shopify
