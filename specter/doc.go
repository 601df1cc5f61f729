// Package specter connects to Specter Business Management (SBM), the Swedish
// web-based ERP, through its partner "webshop integration" API.
//
// Specter has no public REST API. Integrators get a PDF ("API-beskrivning
// Webbshopsintegration med Specter Business Management", v2.45) and
// credentials from Specter; the protocol behind it is two classic-ASP
// endpoints, https://api.specter.se/getInfo.asp (reads, change queues,
// acknowledgements, settings) and putInfo.asp (writes), selected by an
// action parameter, fed with form-encoded Windows-1252 (Latin-1) fields,
// signed with a nested MD5 key, and answering either a text line
// "result;id;message" or XML with an APIresponse element. This package
// reconstructs that protocol from public client code and integrator
// documentation. Everything not confirmed by Specter's PDF lives in one
// place, assumptions.go (and the XML shapes in wire.go), each entry marked
// OBSERVED or ASSUMED; see "Assumptions" below.
//
// # Using it
//
// Build a Connector with the account's credentials, version 2 (V2: SBMID,
// ApiUserKey, IntegrationKey, ApiUserId; required for multishop) or version 1
// (V1: SBMID, Md5 Key 1, Md5 Key 2):
//
//	c, err := specter.New(specter.V2(sbmID, apiUserKey, integrationKey, apiUserID),
//		specter.WithStockSite("1"), specter.WithCallbackToken(secret))
//
// The Connector implements the connector capabilities Specter has:
//
//   - connector.CustomerSink: UpsertCustomer (newCustomerSubmit). Specter
//     matches existing customers by e-mail, then by organisation number;
//     WithCustomerMatching sets the flags.
//   - connector.ProductSink: UpsertProducts (newArticleSubmit), every variant
//     its own article keyed by SKU, up to MaxArticlesPerCall per request.
//     Article numbers are checked against Specter's rules (no spaces, å ä ö,
//     & % ¤ # € , ;) before anything is sent.
//   - connector.OrderSink and connector.InvoiceSink: CreateOrder and
//     CreateInvoice. The customer is submitted first, missing articles are
//     created (WithEnsureArticles), lines go excluding VAT with their VAT
//     percentage, discounts as negative rows per VAT rate, shipping as rows of
//     the shipping article, the payment as payTypeIdentifier and
//     payTypeReference, webshopId for multishop, stocksiteid. The shop's
//     order number is sent as externalOrderNo, which Specter refuses twice: a
//     retry returns the existing order.
//   - connector.Fulfiller: Fulfill reports a (partial) delivery per article
//     (newDeliverySubmit).
//   - connector.StockSource, connector.ProductSource,
//     connector.OrderEventSource: Stock, Products and OrderEvents are feeds
//     over Specter's three change queues (below).
//   - connector.WebhookDecoder and CallbackHandler for Specter's callbacks,
//     registered with RegisterCallbacks.
//   - connector.PriceListSink and connector.CreditSink only answer
//     connector.ErrUnsupported, so the engine routes around them (see
//     Assumptions).
//
// Client is the protocol underneath, for actions the Connector does not
// cover; Client.Do sends any action of the table in assumptions.go.
//
// # Change queues
//
// Specter keeps a change queue per API user for stock (per stock site),
// article data and orders. A read takes the waiting changes as a batch under
// a number the client picks; they stay in that batch until it is
// acknowledged. The feeds map this onto connector.Feed: Next takes a batch
// and returns its items with the batch number as cursor; Commit acknowledges
// it. Nothing is acknowledged before Commit, so a crash between the two
// loses nothing: the next reader meets Specter's code 99 ("a batch is still
// open", a *BatchOpenError carrying its number), reads that batch again by
// its number and returns the same items, which the caller processes (again;
// event ids and stock levels are stable, so twice changes nothing) and
// commits. A queue item the connector cannot map (an order it cannot match
// to a shop order, a quantity that is not a number) fails Next with a typed
// error and leaves the batch open. Specter signals more waiting items with
// responseMaxLimit (articles, stock) and moreInfoToFetch (orders), reported
// as Batch.More.
//
// Callbacks are hints: Specter calls the registered URL (with a secret token
// in it) when something changed, and CallbackHandler answers "1;Done" and
// passes a Hint naming the queue to pull. Invoice callbacks carry the only
// record of invoices made in Specter; HintEvent turns them into
// commerce.EventInvoiced events (and remove-order callbacks into the same
// cancelled event the order queue reports).
//
// # Transport
//
// All requests go through connector.Transport: TLS is always verified (the
// public PHP client turned it off), requests of an account are serialised
// with at least WithPace between them (Specter documents no rate limit;
// DefaultPace is 500 ms), and only repeatable actions are retried after a
// failure that may have reached the server (see ActionSpec.Repeatable).
// Credentials are registered as secrets and the signature travels in the
// "key" field, both redacted from logs and errors. Specter has no
// idempotency header, so connector.WithIdempotencyKey is ignored; orders are
// idempotent through externalOrderNo, customers and articles through their
// force-update flags, queue reads and acknowledgements through the batch
// number.
//
// # Text encoding
//
// Specter speaks Windows-1252. Å, Ä, Ö and the rest of Latin-1 (and €) go
// through unchanged both ways; text is NFC-normalised first so a decomposed
// "å" is one character. What Windows-1252 cannot hold is handled by one rule:
//
//   - identifiers (article numbers, order numbers, e-mail addresses, ids,
//     references, codes) are never altered: a character outside the charset
//     is a *TextError (KindValidation) naming the field, and an article
//     number with one is refused by the article-number rules;
//   - free text (names, addresses, comments) is folded to the nearest
//     equivalent where one exists (typographic dashes to "-", special
//     spaces to " ", compatibility forms such as "ﬁ" to "fi"), and what still
//     does not fit (an emoji, CJK) becomes Substitute ("?"), logged at warn
//     level with the field names. WithStrictText makes free text follow the
//     identifier rule instead.
//
// Nothing is ever sent as UTF-8 bytes, so Specter never stores mojibake.
//
// # Assumptions
//
// Operations and details public evidence does not settle, each behind one
// named assumption; correct the named entry when Specter confirms or
// corrects it:
//
//   - AssumeNoPriceListAPI: SetPriceList returns connector.ErrUnsupported.
//     Confirm: the price-list / tier-price actions and their fields.
//   - AssumeNoCreditInvoiceAPI: CreateCreditInvoice returns
//     connector.ErrUnsupported; only typeInvoice=S is known. Confirm: the
//     typeInvoice of a credit invoice and how it references the debit one.
//   - AssumeNoPaidSignal: OrderEvents never yields commerce.EventPaid.
//     Confirm: whether any queue or callback reports payment ("betald").
//   - AssumeNoResultUnits: no result unit (resultatenhet) is sent; shops are
//     told apart by webshopId. Confirm: a result-unit field on orders.
//   - AssumeNoArticleLookup, AssumeNoOrderCancelAPI: no single-article read,
//     no cancellation from the web side; the capabilities are not offered.
//   - AssumeCreateOnlyWithoutForce: CreateOrder creates missing articles with
//     newArticleSubmit without forceArticleUpdate, assuming existing ones are
//     left unchanged.
//   - The error codes (CodeAuth … CodeUnknownAction): only 99 is observed;
//     the others are stand-ins classified by KindOfCode.
//   - The reply forms, signed values and repeatability of each action (the
//     actions table), Charset, PriceDecimals, MaxArticlesPerCall.
//   - In wire.go: the stock site attribute, the order queue's
//     externalOrderNo (without it, WithOrderResolver maps order numbers),
//     delivery ids, dates and rows, the APIresponse id on duplicates.
//
// # Testing
//
// Package spectertest is a stateful fake of this protocol (accounts with v1
// and v2 credentials and signature checks, Windows-1252 on the wire, the
// queues with batch numbers, paging and code 99, callbacks, fault
// injection); the examples below run against it.
package specter
