// Package spectertest is a stateful fake of Specter's partner API, served on
// loopback with net/http/httptest, for tests of anything that talks to
// Specter (the specter connector, the sync engine, the sandbox).
//
// It speaks the protocol as package specter reconstructs it and is as strict
// as that reconstruction allows:
//
//   - getInfo.asp and putInfo.asp, paths, action names and parameter names
//     case-insensitive as on the real IIS/ASP server; an action on the wrong
//     endpoint or unknown is refused.
//   - Accounts (SBM ids) with version-2 API users (ApiUserKey,
//     IntegrationKey, ApiUserId) and version-1 keys; every request's key is
//     checked against md5(outer + md5(inner + sbmId + X)) over the raw
//     Windows-1252 bytes, X per action as in specter's action table.
//     Unsigned and wrongly signed requests are refused with the
//     authentication code.
//   - Windows-1252 on the wire both ways. Values that arrive as multi-byte
//     UTF-8 are refused: the real server would store them as mojibake.
//   - Customers (matched by e-mail, then organisation number, with the
//     ignoreControl… and forceCustomerUpdate flags), articles (article
//     number rules, at most specter.MaxArticlesPerCall per call,
//     forceArticleUpdate), stock per stock site, orders (existing customer
//     and articles required, externalOrderNo unique unless
//     ignoreExternalOrderNoControl=1, webshopId only with version 2, stock
//     reserved per site), deliveries (per article, never more than ordered),
//     invoices (once per order), invoice PDF links.
//   - The three change queues per API user with client-chosen batch
//     numbers: a read takes up to the page limit (responseMaxLimit,
//     moreInfoToFetch), a second read under another number while a batch is
//     open is code 99 naming the open batch in single quotes, a read under
//     the open batch's number returns it again, acknowledging closes it (and
//     closing it again succeeds), clearArticleBatch refills the stock queue.
//   - Callbacks: URLs registered with checkAccountSettings are called, with
//     Specter's placeholders filled in, when something changes; Callbacks
//     records the answers, WaitCallbacks waits for them.
//   - Faults: Faults returns the connector/fault injector wrapped around
//     the API (5xx as IIS's HTML error page, other statuses with the API's
//     error line, hangs, dropped connections, answers lost after applying).
//   - A clock (WithClock, Advance) for the dates it writes.
//
// Changes made with the seeding helpers of Account (AddArticle,
// SetArticlePrice, SetStock, MarkDelivered, RemoveOrder, InvoiceOrder) act
// as a person working in Specter: they fill the change queues of every API
// user and fire callbacks. InjectStockChange and InjectOrderChange queue
// items as given, for tests of odd input. Changes made through the API do
// not come back through the queues, except their consequences (an order's
// stock reservation, a delivery's order change).
//
// The fake imports package specter only for its reconstructed wire tables
// (actions, error codes, XML shapes), so a correction there changes the
// client and the fake together; it computes signatures on its own.
package spectertest
