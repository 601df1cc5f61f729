// Package vat answers the VAT questions of an EU e-merchant — Swedish first,
// but nothing here is Sweden-only — for every sale and every quarter:
// which rate applies, where VAT is due, how amounts round, whether a VAT
// number is well-formed and registered, and what goes into the OSS return.
// It does no I/O except the VIES client, and it depends on commerce only.
//
// # Rates
//
// An embedded dataset (data/rates.tsv, with a cited source per row in
// data/sources.tsv; never fetched at run time) holds the standard, reduced,
// super-reduced and parking rates of the 27 member states and Northern
// Ireland (XI, goods) as periods [from, to) from 2020-01-01, including every
// change already enacted for the future (Sweden's food rate: 12 % → 6 % on
// 2026-04-01, 12 % again on 2028-01-01), plus rates per product Category
// where a source gives them. Rates are decimals in percent (25.5 means
// 25.5 %).
//
//	r, err := vat.StandardRate("FI", time.Now())              // 25.5
//	r, err = vat.Rate("SE", vat.Foodstuffs, orderTime)         // 12 or 6, by date
//	r, err = vat.RateOn("EL", vat.Standard, invoice.IssueDate) // GR works too
//
// Countries are ISO codes or VAT prefixes in any case; GR and EL both mean
// Greece. A rate change takes effect at 00:00 in the member state's own time
// zone, so Rate and StandardRate first turn the time.Time into that state's
// calendar date (TaxDate; zones from the embedded tz database): the instant
// 2024-08-31T22:30:00Z is 2024-09-01 in Finland and gets 25.5 %. RateOn and
// StandardRateOn take the calendar date directly, for tax points you already
// hold as dates. A category the data has no rate for, in that country or on
// that date, is an ErrNoRate error (ErrBeforeCoverage before the data
// starts) — never the standard rate in disguise. LookupRate and RateHistory
// return the periods with their sources; Levels the whole rate structure on
// a day. Lookups by Rate, StandardRate and RateOn do not allocate.
//
// # Place of supply
//
// Decide takes a Sale (seller and buyer country, consumer or business with
// a validated VAT number, goods or digital service, the category and tax
// point, OSS registration and the EUR 10,000 threshold) and returns the
// scheme (commerce.SchemeDomestic, SchemeOSSUnion, SchemeReverseCharge,
// SchemeExport, or commerce.SchemeDestinationLocal when the seller is past the
// threshold but not in OSS), the country whose VAT applies, the rate and
// the wording the invoice must carry. ThresholdTracker keeps the yearly
// totals; the sale that crosses the threshold is already taxed at
// destination.
//
// # Amounts
//
// FromNet (net → VAT and gross) and FromGross (gross → net and VAT) are the
// entry points for converting prices excluding and including VAT with an
// article's rate; both round half-up to the currency's minor unit exactly as
// commerce.Money.Round does, and Net + VAT = Gross always holds. Summarize
// computes a document's VAT with an explicit Rounding — PerRateGroup (the
// Swedish and EU rule: VAT on the taxable amount per rate) or PerLine — and
// groups it by rate as commerce.VATAmount values that reconcile to the minor
// unit.
//
// # VAT numbers and VIES
//
// NormalizeNumber strips separators, upper-cases, maps GR to EL and checks
// the country's anchored format and published check-digit algorithm for all
// 27 member states and XI, distinguishing ErrUnknownCountry, ErrFormat and
// ErrChecksum. VIESClient asks the Commission's VIES REST service; its
// answer is Valid, Invalid, or Unknown with an error (ErrVIESUnavailable)
// when VIES could not say — an unknown answer is never reported as Invalid.
//
// # OSS return
//
// OSSSalesFromInvoices turns canonical invoices and credit invoices with
// VATScheme == commerce.SchemeOSSUnion into OSSSale rows (or build the rows
// yourself — this is also how the reconcile package books OSS sales per
// member state and rate). BuildOSSReturn aggregates a quarter per member
// state of consumption, supply type and rate, lists corrections of earlier
// quarters separately per quarter, converts to EUR at the ECB rate of the
// quarter's last day or the next publication day (ParseECB reads the ECB's
// eurofxref XML, daily or historical) and gives the due date. CSV and JSON
// write it deterministically.
//
// # What the data does not claim
//
// Category rates are a representative rate per product group; individual
// products inside a group may be taxed differently, and the rows say where
// each figure comes from. Periods before 2020 and temporary COVID-era
// category rates are not in the data; rows marked [unverified] in
// sources.tsv rest on secondary sources only. Not tax advice.
package vat
