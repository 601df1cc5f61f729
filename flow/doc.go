// Package flow is knyt's sync engine: it keeps one ERP, one or more shops
// and the payment providers in step, continuously, by rules the merchant
// chooses. It works through the connector capability interfaces only, so
// any system that implements them plugs in.
//
// # Using it
//
// Load a Config (LoadFile reads JSON or a strict YAML subset, names every
// bad key, and checks that every credential's environment variable is set),
// build the connectors with the credentials it names, and hand both to New,
// which checks that every configured system is there and has the
// capabilities its rules need — before any call is made:
//
//	cfg, err := flow.LoadFile("knyt.yaml")
//	token, _ := cfg.Credential("se", "token", os.LookupEnv)
//	shop, _ := shopify.New("acme-se.myshopify.com", shopify.StaticToken(token))
//	erp, _ := specter.New(specterCreds)
//	st, _ := sqlitestore.Open(ctx, "/var/lib/acme/knyt.db")
//	eng, err := flow.New(*cfg, flow.Systems{ERP: erp,
//		Shops: map[string]connector.System{"se": shop}}, flow.WithStore(st))
//	http.Handle("/hooks/shopify", eng.WebhookHandler(shopifyDecoder))
//	err = eng.Run(ctx) // until ctx is cancelled
//
// SyncOnce does one pass over every feed instead of Run's loop, for jobs
// and tests; InitialSync copies a whole catalogue in either direction.
// ShopOrderNumber maps an ERP order id back to the shop's number, for ERP
// connectors that need an order resolver (specter.WithOrderResolver).
//
// # The flows
//
// Each shop chooses which system leads (Mode):
//
//   - ShopLeads: orders with their customers shop → ERP, as orders or
//     invoices (OrderRules.As); products with variants shop → ERP.
//   - ERPLeads: orders shop → ERP; order status ERP → shop; products,
//     prices and stock ERP → shop.
//   - Combined: products shop → ERP; prices and stock ERP → shop; orders
//     and status as with ERPLeads.
//
// Where the ERP leads prices (ERPLeads, Combined), its price lists go to
// the shops that name them in CatalogRules.PriceLists, each list whole,
// converted to the shop's VAT basis with each SKU's rate (the ERP's article
// where the ERP connector can look it up, else erp.default_vat_rate). This
// needs an ERP connector with connector.PriceListSource; Specter's has none.
//
// Around them: which financial statuses transfer an order
// (OrderRules.Trigger); the ERP events that go back to the shop
// (ShopConfig.Status: delivered → fulfill with tracking and optional
// customer e-mail, capture; invoiced; paid → mark paid; cancelled → cancel
// and release), with partial deliveries; capture on delivery at the
// provider that authorized the order (routed by PaymentRef.Provider or the
// shop's gateway name; a shop connector that captures, such as Shopify for
// Shopify Payments, is configured as a provider too); release of what the
// authorization holds beyond the order; returns → credit invoice in the ERP
// → refund at the provider unless the shop refunded already → the refund's
// credit invoice known to reconciliation (Links); several shops into one
// ERP, each with its webshop id and result unit.
//
// An order cancelled in the shop is not transferred if it was not yet; one
// already in the ERP is cancelled there where the ERP connector can
// (connector.OrderCanceller), else it becomes a dead letter asking for it
// to be cancelled by hand before it ships. The shop's echo of a
// cancellation the ERP started is recognised and skipped.
//
// A refund goes to the provider that took the payment. Providers that refund
// the payment as a whole (Stripe, Klarna) get one request per return;
// providers whose refunds draw on one capture each
// (connector.CaptureScopedRefunder: PayPal) get one request per capture the
// returned amount spans after partial deliveries, each with its own
// idempotency key and reference. Where the shop takes the payments itself
// (Shopify Payments), the refund the engine makes there comes back through
// the shop's refund feed and is recognised as the engine's, not credited a
// second time. Captures tell the provider what was captured before them
// (CaptureRequest.CapturedBefore), so a connector whose provider takes no
// capture key (Shopify's orderCapture) can tell a repeat from a new
// capture of the same amount.
//
// # Exactly once
//
// Every unit of work is a Step in the journal (the outbox) with a key
// derived from the business event — order:{shop}:{number}:create,
// delivery:{erpEventID}:capture, return:{shop}:{id}:refund, … — and an
// idempotency key fixed when the step is created and sent with every
// attempt. A feed's batch is journalled before its cursor is committed,
// and a step is marked done only after its write succeeded, so a crash
// anywhere repeats at most a write with the same idempotency key, which the
// target applies once. Amounts that depend on earlier events (which units a
// delivery covers, what it captures) are computed when the step is created
// and frozen in its payload. Steps that fail for a passing reason (5xx,
// throttling, timeouts) are retried with exponential backoff; those that
// cannot succeed — an unknown SKU, a customer without e-mail, a currency
// the ERP account lacks, a plugin's rejection — become dead letters with a
// reason, which DeadLetters lists, DeadLetter shows, Replay retries after
// the cause is fixed and Discard gives up. Everything else keeps flowing.
// So does a feed: an item its connector cannot read (connector.ItemProblem)
// becomes a dead letter of kind KindFeedProblem and the feed moves on; the
// item comes back through the feed once it is corrected at its source.
//
// # Prices including and excluding VAT
//
// Swedish shops hold prices including VAT, Specter takes them excluding
// VAT. ToERPOrder converts an order with the vat package and documents
// where rounding lands: per line (vat.FromGross on each line's total), in
// the ERP's unit price precision, in the ERP's VAT per rate group, and
// finally one rounding row (ERPConfig.RoundingSKU) so that the order's
// total in the ERP equals the shop's to the öre. Product and price flows
// convert with the variant's rate (vat.FromGross one way, vat.FromNet the
// other).
//
// # Loop guard
//
// The engine remembers a hash of what it last wrote per entity and target
// system. An incoming change equal to what the engine wrote to its source
// is an echo and is not sent back; a write equal to the last one is not
// repeated. In Combined mode the ERP's echo of a product the shop wrote
// does not come back as a price, and the shop's echo of a price the ERP
// set does not go back as a product change.
//
// # Plugins
//
// Hooks (Hook, HookFunc, WithHook) are ordered per entity type and
// Direction; they map or enrich an entity in place, skip it with Skip
// (recorded with the reason), or reject it with any other error (a dead
// letter naming the plugin). A panicking plugin is recovered and
// dead-lettered; the engine carries on.
//
// # State
//
// The Store interface holds the ID map, feed cursors, the processed-event
// log (webhook deduplication), the step journal with its dead letters and
// the loop guard's hashes. NewMemoryStore is for tests; flow/sqlitestore
// is the embedded default (one SQLite file in WAL mode, pure Go). Both
// pass flowtest.TestStore, the conformance suite for any implementation.
//
// # Runner
//
// Run polls each feed on its interval (RunnerConfig), runs due retries,
// bounds the concurrent calls per system (the Concurrency settings), fetches
// payouts per provider on its own schedule and hands them to a Reconciler
// (WithReconciler; the seam to package reconcile), and shuts down on
// context cancellation, giving in-flight steps ShutdownGrace to finish —
// what does not finish stays pending and resumes on the next start.
// WebhookHandler verifies a system's webhooks with its connector's
// WebhookDecoder, refuses unknown accounts, answers duplicates without
// acting, and triggers the matching feeds: webhooks are hints, the feeds
// are the truth. Counters returns synced, skipped, retried and
// dead-lettered counts in total and per kind of work; logs go to log/slog.
//
// # Reliability
//
// The package's tests run the engine against the fakes of Shopify, Specter,
// Stripe, Klarna and PayPal, paying with each provider and with Shopify
// Payments, with injected faults (5xx, throttling, dropped connections,
// answers lost after the write, timeouts) and kill and restart it at
// random points on the same SQLite file, then check the fakes' own state:
// every order once in the ERP with equal lines and totals, every delivery
// fulfilled once and captured once for the delivered amount, every return
// credited once and refunded once,
// products equal where the shop leads, prices and stock equal where the ERP
// leads, and nothing stuck (go test ./flow -run Reliability
// -reliability.seeds=200 runs more seeds). Another test drives the runner
// by Shopify webhooks delivered twice, out of order and late.
//
// # Assumptions
//
//   - Order numbers are unique across the shops of one ERP (the ERP keys
//     orders by them); a second shop's order with a number already taken is
//     dead-lettered. Give the shops distinct number prefixes.
//   - The ERP's order events name the shop's order number (the Specter
//     connector maps its own numbers back).
//   - Multishop details reach the ERP connector as the order's Shop (the
//     configured shop id) and the attributes AttrWebshopID and
//     AttrResultUnit; the connector contract has no field for them.
//   - A refund the merchant makes in the shop for a return the engine would
//     refund at the provider is seen only when the shop's refund feed is
//     read before the engine refunds; with Returns.Refund "provider" the
//     merchant should not refund in the shop.
package flow
