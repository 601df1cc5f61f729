package paypal

import "github.com/knyt/knyt/commerce"

// eventCodes maps Transaction Search's event codes (T-codes, "T" + a
// two-digit group + a two-digit type) to canonical transaction kinds; it is
// the one table that does. Exact codes come first; a code not listed falls
// back to its group ("the event group portion of the T-code is sufficient
// for reconciliation", PayPal's T-code page), and a group not listed is
// unknown: the row is kept as commerce.TxOther and reported.
//
// Sources: developer.paypal.com/docs/transaction-search/transaction-event-codes
// and …/docs/reports/reference/tcodes, as summarised in the project's
// reference. Marked unverified there, and so here: T03/T07 as funding,
// T20 as intra-account transfers. T02 (currency conversion) is from PayPal's
// T-code list but not confirmed by a published sample.
var eventCodes = map[string]commerce.TransactionKind{
	"T0006": commerce.TxSale,     // PayPal Checkout APIs
	"T0106": commerce.TxFee,      // chargeback processing fee
	"T0107": commerce.TxFee,      // payment fee
	"T0400": commerce.TxPayout,   // general withdrawal to a bank account
	"T1105": commerce.TxRelease,  // reversal of a general account hold
	"T1106": commerce.TxReversal, // payment reversal initiated by PayPal
	"T1107": commerce.TxRefund,   // payment refund initiated by the merchant
	"T1108": commerce.TxFeeRefund,
	"T1109": commerce.TxFeeRefund,
	"T1110": commerce.TxHoldback, // hold for dispute investigation
	"T1111": commerce.TxRelease,  // cancellation of a hold
	"T1201": commerce.TxChargeback,
}

// eventGroups is the fallback by the code's group, "T" + two digits.
var eventGroups = map[string]commerce.TransactionKind{
	"T00": commerce.TxSale,         // payments received
	"T01": commerce.TxFee,          // non-payment fees
	"T02": commerce.TxCurrencyConv, // currency conversion
	"T03": commerce.TxAdjustment,   // bank deposits into the PayPal account
	"T04": commerce.TxPayout,       // bank withdrawals
	"T07": commerce.TxAdjustment,   // card funding of a payment
	"T11": commerce.TxReversal,     // reversals
	"T12": commerce.TxChargeback,   // chargebacks
	"T13": commerce.TxAdjustment,   // authorizations (move no money)
	"T15": commerce.TxHoldback,     // holds
	"T20": commerce.TxAdjustment,   // intra-account transfers
}

// EventKind maps a T-code to its canonical kind; known is false for a code
// neither the code table nor the group table has.
func EventKind(code string) (kind commerce.TransactionKind, known bool) {
	if k, ok := eventCodes[code]; ok {
		return k, true
	}
	if len(code) == 5 && code[0] == 'T' {
		if k, ok := eventGroups[code[:3]]; ok {
			return k, true
		}
	}
	return commerce.TxOther, false
}

// isWithdrawal reports whether a code is a bank withdrawal (the T04 group),
// the row that closes a payout.
func isWithdrawal(code string) bool { return len(code) == 5 && code[:3] == "T04" }
