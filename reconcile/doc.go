// Package reconcile matches payment-provider payouts to the invoices in the
// ERP and books them as balanced Swedish vouchers, exact to the öre: the
// receivable cleared per document, fees with their VAT per provider,
// holdbacks, exchange differences and rounding — plus sale vouchers with
// OSS bookings per member state and rate, and a reconciliation report.
//
// It takes canonical data (commerce.Payout with its Transactions, as the
// klarna, stripe, paypal and shopify connectors produce them;
// commerce.Invoice and credit invoices from the ERP; commerce.Order from the
// shop) and returns commerce.Voucher values, which package reconcile/sie
// writes as an SIE 4I file. It imports no connector and does no I/O but
// the Ledger you give it.
//
// # A run
//
//	r, err := reconcile.New(reconcile.WithAccountPlan(plan))
//	res, err := r.Run(ctx, reconcile.Input{Payouts: payouts, Invoices: open, Orders: orders})
//	// res.Vouchers: to the ERP or an SIE file; res.Paid(): mark paid;
//	// res.Unmatched, res.Differences: for a human; res.WriteJSON/WriteCSV.
//	err = r.Commit(ctx, res) // once the vouchers are stored
//
// For large runs, r.NewBatch() with AddInvoice, AddOrder and AddPayout
// streams the documents in (only what matching needs is kept: 160 bytes
// a document, plus its index entries), then Batch.Reconcile.
//
// # Matching
//
// Each transaction is matched by the keys its provider carries, most
// confident first (MatchMethod): the ERP invoice number (PayPal invoice_id);
// a provider reference stored on the invoice (PaymentReference) or on its
// order (PaymentRef.Reference) — order id, capture or refund id, source id,
// PaymentIntent, short order id; the shop's order number (Klarna
// merchant_reference1, Stripe metadata, Shopify "#1001"); free merchant
// references (capture and refund references, merchant_reference2, custom
// id) equal to an order or invoice number. Keys are compared exactly after
// trimming space and a leading "#". Every key is a hash lookup, so a run is
// linear in transactions and documents.
//
// A key can name several documents (an order with several invoices, an
// invoice with its credit invoices). A sale takes an invoice or order, the
// one whose remaining amount equals the transaction's first, then one with
// more remaining (a partial capture: several captures settle one invoice),
// then the rest; a refund takes a credit invoice the same way (also through
// the invoice it credits) and, failing one, the invoice itself, reported as
// a missing credit invoice; a chargeback or a negative reversal takes the
// invoice back; a positive reversal (a dispute won) settles it again.
// Sales and refunds that no key matches fall back to amount and date: they
// match only when exactly one open, untouched document of the right kind
// has the amount (within Tolerance.Amount) and a date within
// Tolerance.Days; otherwise they are unmatched (ambiguous, or with the
// nearest documents as candidates). Fees are attributed to a document when
// their keys find one (for its result unit); holdbacks and releases need
// none; adjustments, currency conversions and unknown provider types are
// always listed as unmatched. Nothing is dropped: every transaction ends in
// Matched, Unmatched, or a status in the CSV report (fee, holdback, the
// provider's own payout row, already booked, not booked).
//
// An order paid partly with a gift card (a PaymentRef with the gift-card
// provider) is expected from its providers without that part.
//
// # Booking
//
// A payout becomes one voucher (or one per transaction, WithGranularity),
// dated on its arrival date, in the book currency (SEK unless
// WithBookCurrency), every account from the AccountPlan (DefaultAccountPlan
// is BAS 2026 from the project reference):
//
//   - the bank line: the payout amount (negative for a payout that debits
//     the merchant);
//   - per matched document, its receivable cleared (1686, or the provider's
//     sub-account): credited for a sale, debited for a refund or chargeback;
//   - fees excluding VAT on the fee account of the provider's FeePolicy, and
//     their VAT by its VATTreatment: VATCharged books the provider's VAT
//     figure as input VAT (2641; Klarna's vat_amount, or, when none is
//     given, the fee split at the rule's rate or the transaction's),
//     ReverseCharge books the fictitious pair 2645/2614 at the rule's rate
//     on the voucher's fees (Stripe), Exempt none (PayPal); VAT a foreign
//     provider did charge goes to 6998. Rules can differ per provider type;
//   - holdbacks and releases on the holdback account;
//   - unmatched amounts on the suspense account (the receivable by default,
//     where they stay visible as unreconciled);
//   - exchange differences on 3960/7960 when the payout or the document is
//     not in the book currency (WithFXRates): a payout is converted at its
//     arrival date, a receivable at its document's date;
//   - öre differences on 3740: a document settled to within
//     Tolerance.Rounding is closed, and a payout whose transactions miss
//     its amount by less than that is booked with the rest as rounding.
//
// Every voucher balances to exactly zero and passes commerce.Voucher.
// Validate; a payout that cannot be balanced, whose transactions do not sum
// to it, with a transaction in another currency, an invalid row, fees
// without a fee policy, or no exchange rate, is not booked and is reported
// with the reason (PayoutRejected, and a payout_mismatch Difference). Only
// paid payouts are booked. WithHoldUnmatched also leaves payouts with
// unmatched rows for a later run.
//
// # Idempotency
//
// Voucher ids are stable: "payout:<provider>:<payout id>", per transaction
// "tx:<provider>:<transaction id>". The Ledger remembers what Commit
// recorded (transactions, payouts with their bank total and unexplained
// rest, what each document has been settled, gift-card clearings), so
// booking the same payout again produces nothing (PayoutAlreadyBooked), and
// a payout that comes back with more transactions books only those, in a
// voucher "payout:<provider>:<id>:+<hash>" whose text says "tillägg" and
// whose PayoutResult names the earlier voucher. A document settled over
// several runs is paid when the ledger's total reaches it. MemoryLedger is
// an in-memory Ledger; the engine persists its own.
//
// # Sales and OSS
//
// BookSales books invoices and credit invoices as sale vouchers for books
// where the ERP does not: domestic sales per rate (3001/2611 …), OSS
// distance sales per member state and rate through
// vat.OSSSalesFromInvoices (3106 with the member state, 2670 with member
// state and rate, sub-accounts or an SIE dimension if the plan says so),
// intra-EU B2B under reverse charge (3108) and exports (3105); the
// gift-card part of an order on the gift-card liability (2421). OSSQuarter
// gives vat.BuildOSSReturn the quarter's OSS sales, credits of earlier
// quarters as corrections.
//
// # Reports
//
// Result.WriteJSON (everything, streamed), Result.WriteCSV (one row per
// transaction: what it was, what became of it, the voucher) and
// Result.SummaryText (payouts, matched, unmatched, differences, fees and fee
// VAT per currency) are deterministic: the same input gives the same bytes.
//
// # Assumptions
//
// The fee VAT defaults follow the project reference (bookkeeping-sie.md §3):
// Klarna charges Swedish VAT on its fees; Stripe and Shopify Payments
// (EU entities outside Sweden) charge none, so reverse charge applies;
// PayPal's fees are treated as exempt — PayPal's and Shopify Payments'
// treatments are marked unverified there. BAS 2026's 1686 instead of 1580
// and the gift-card account 2421 are configurable defaults, not verified
// against bas.se. Not tax or accounting advice.
package reconcile
