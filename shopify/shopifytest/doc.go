// Package shopifytest is a stateful fake of Shopify's GraphQL Admin API
// (version 2026-10) for tests and the sandbox, served by net/http/httptest
// on loopback.
//
// # What it checks
//
// Every request is parsed and validated against the real 2026-10 schema
// (testdata/admin-2026-10.graphql, derived from Shopify's introspection
// result by shopify/internal/schemagen; see testdata/README.md). Unknown
// fields, wrong argument types, missing or invalid variables and the like
// are answered as Shopify (a graphql-ruby server) answers them: HTTP 200
// with errors[] carrying extensions.code undefinedField,
// argumentNotAccepted, argumentLiteralsIncompatible,
// missingRequiredArguments, variableNotDefined, INVALID_VARIABLE, …
// Validate runs the same check on a document without a server.
//
// # Cost and throttling
//
// The requested cost of each query is computed by Shopify's published
// rules (objects 1, scalars and enums 0, connections 2 + first×node,
// mutations 10, productSet's dynamic cost; see cost.go) and the actual
// cost from what was returned. A query whose requested cost exceeds 1000
// is refused with MAX_COST_EXCEEDED. A leaky bucket per shop (profiles
// Standard 2000/100, Advanced 4000/200, Plus 20000/1000, Tiny 40/2;
// WithTimeScale speeds the restore rate up for tests) answers THROTTLED as
// Shopify does: HTTP 200, errors[0].extensions.code "THROTTLED",
// actualQueryCost null, nothing executed (WithThrottleHTTPStatus(429)
// switches to 429 with Retry-After). Executed answers carry
// extensions.cost {requestedQueryCost, actualQueryCost, throttleStatus
// {maximumAvailable, currentlyAvailable, restoreRate}}; answers refused by
// static validation carry none, as observed on Shopify.
//
// # Implemented operations
//
// Any query is executed generically over the stored records, so field
// selection, aliases, fragments, @skip/@include, node/nodes, connections
// (first/after/last/before/reverse with keyset cursors that stay valid when
// records change between pages, edges/nodes/pageInfo) work for any
// document. The records and their query roots:
//
//   - products, productVariants (query: sku:, updated_at:, created_at:,
//     title:, status:, id:, product_id:, tag:, …; sortKey UPDATED_AT,
//     CREATED_AT, TITLE, ID, …), product, productVariant, productByIdentifier,
//     inventoryItem(s), inventoryLevel, location(s) with inventory levels
//     and named quantities;
//   - priceList(s) with fixed prices;
//   - orders (query: updated_at:, created_at:, processed_at:, name:,
//     status:, financial_status:, fulfillment_status:, …; sortKey
//     UPDATED_AT, CREATED_AT, PROCESSED_AT, ID, ORDER_NUMBER) with
//     customer, addresses, line items (SKU, tax lines, discount
//     allocations), shipping lines, taxesIncluded, MoneyBag amounts in shop
//     and presentment currency, original and current totals, transactions,
//     fulfillment orders, fulfillments, refunds, returns;
//   - shopifyPaymentsAccount payouts and balanceTransactions;
//   - bulkOperation(s), currentBulkOperation, job, productOperation,
//     webhookSubscriptions, shop.
//
// Mutations with state: productSet (identifier upsert by id, handle or
// customId; list-replace variants; synchronous or not),
// productVariantsBulkUpdate, priceListFixedPricesAdd,
// priceListFixedPricesUpdate, inventorySetQuantities (name, reason,
// mandatory changeFromQuantity with CHANGE_FROM_QUANTITY_STALE,
// all-or-nothing), inventoryActivate, fulfillmentCreate (tracking,
// notifyCustomer, remaining-quantity bookkeeping, the fulfillment orders
// of one call at one location, as Shopify requires), orderCancel (job,
// refund, restock at each line's location, authorization release), orderMarkAsPaid, orderCapture
// (multi-currency rule, capturable amount), refundCreate (REFUND
// transactions only on the order's successful captures and sales, each at
// most what earlier refunds left of it and the order at most what was
// paid unless allowOverRefunding; line items at most their refundable
// quantity, restocked for RETURN and CANCEL and taken off the fulfillment
// orders; shipping; the presentment currency required where it differs;
// the money refunded is the transactions', never the lines'; the refund
// shows in the order's refunds, totalRefundedSet, financial status,
// transactions and the refunds/create webhook, and each Shopify Payments
// refund is a pending REFUND balance transaction until SettlePayout),
// orderClose, bulkOperationRunQuery (JSONL with __parentId served from the
// fake's own URL, Shopify's bulk query rules, up to five at once),
// bulkOperationCancel, webhookSubscriptionCreate/Delete. The
// @idempotent(key:) directive is enforced (mandatory where Shopify made it
// mandatory in 2026-04, replay of the first result,
// IDEMPOTENCY_KEY_PARAMETER_MISMATCH as a user error where the payload's
// userErrors have a code, else — refundCreate — as a top-level error with
// that code). Input lists over 250 items are MAX_INPUT_SIZE_EXCEEDED.
// Every other mutation of the schema validates and answers NOT_IMPLEMENTED
// (ImplementedMutations lists the implemented ones); so does a selected
// non-null field the fake does not model, so a gap shows instead of
// passing silently. Not modelled: refundCreate's refundDuties and
// refundMethods (store credit), order adjustments for refund
// discrepancies, returnRefund and the other return writes (seed returns
// with AddReturn), draft orders, metafield writes other than through
// productSet, bulk mutations (bulkOperationRunMutation), CHARGE balance
// transactions for captures, the 60-day order window of read_orders.
//
// # Seeding and inspection
//
// AddLocation, AddProduct, SetInventory, AddPriceList, AddOrder,
// AddRefund, AddReturn and AddPayout store records as if they had been
// made in the shop; ids are GIDs above 2^53 unless given. An order's lines
// ship from Order.LocationID or their own LineItem.LocationID, with one
// fulfillment order per location, as Shopify's order routing splits an
// order over warehouses. SettlePayout pays out the balance transactions
// the fake recorded itself. Products, VariantBySKU, InventoryLevel,
// InventoryQuantities, PriceListPrices, FulfillmentOrders (location,
// status, total and remaining quantities), Fulfillments (location, lines,
// tracking), Refunds, OrderState, OrderIDs and Stats (requests,
// THROTTLED answers, total actual cost, idempotent replays, stale
// quantities) let tests check the outcome. Advance moves the fake's clock (WithClock sets
// it): records are stamped with it, the bucket refills by it, tokens and
// bulk delays run on it.
//
// # Webhooks and faults
//
// Subscribe (or the webhookSubscriptionCreate mutation) registers
// receivers; the fake signs each delivery (X-Shopify-Hmac-Sha256, base64
// HMAC-SHA256 of the raw body under WebhookSecret) and sends Shopify's
// headers. InjectWebhookFault makes the next deliveries duplicate,
// out-of-order or stale retries; FlushWebhooks waits for the queue.
// Faults returns the connector/fault injector wrapping the API: 5xx
// answers in Shopify's {"errors": "…"} shape, hangs, dropped connections
// and answers lost after the request was applied.
//
// # Authentication
//
// Requests need X-Shopify-Access-Token: the static AccessToken, or a token
// from POST /admin/oauth/access_token (client-credentials grant, enabled
// with WithClientCredentials, expiring after WithTokenTTL). Anything else
// is 401 with Shopify's "[API] Invalid API key or access token" body.
package shopifytest
