// Package commerce is knyt's canonical commerce model: the data every
// connector maps to and from, with validation and exact money arithmetic and
// no I/O.
//
// # Money
//
// [Money] pairs a [decimal.Decimal] amount with a [Currency] from the full
// ISO 4217 list (SEK and EUR have 2 minor-unit digits, JPY 0, KWD 3). Money
// never goes through float64: parse outside input with [ParseMoney] (which
// also requires the amount to be whole in minor units) or [ParsePrice] (for
// unit prices that may carry more precision), and JSON encodes amounts as
// strings: {"amount":"12.50","currency":"SEK"}.
//
// Arithmetic refuses to mix currencies ([ErrCurrencyMismatch]); there is no
// implicit conversion anywhere. [Money.Round] rounds half away from zero to
// the minor unit, so a credit mirrors its invoice exactly. [Money.Minor]
// gives integer minor units for APIs that want them and fails with
// [ErrInexact] rather than rounding silently. [Money.Allocate] splits an
// amount over weights by the largest-remainder method, so discounts and
// partial refunds spread over lines always sum back to the whole.
//
// # Entities
//
// [Order], [Customer], [Address], [Product] and [Variant], [PriceList],
// [StockLevel], [Fulfillment], [OrderEvent], [Invoice] (and credit
// invoices), [Payment], [Capture], [Refund], [Return], [Payout] and
// [Transaction], and [Voucher]. Each embeds an [Origin]: the [Ref] (system,
// account, id) it came from and optionally the raw payload it was mapped
// from, so a plugin can reach a field the model does not carry. Variants are
// joined across systems by SKU and orders by the shop's order number.
//
// Every entity has Validate, which reports every problem at once as
// [*FieldError] values naming the field path ("lines[2].sku") and the value;
// all match [ErrInvalid] with errors.Is, and [FieldErrors] lists them.
//
// # Sign conventions
//
// Payments and payouts are seen from the merchant: money in is positive. A
// [Transaction]'s Fee is a cost excluding VAT (negative when a fee is given
// back) and FeeVAT the VAT on it; Net = Amount − Fee − FeeVAT is what the row adds to its payout, and a
// payout's transactions sum to its amount ([Payout.Difference]). Vouchers
// post debits positive and credits negative and balance to exactly zero.
//
// Rates are percentages as decimals: 25 means 25 %.
package commerce
