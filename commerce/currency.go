package commerce

import (
	"fmt"
	"slices"
	"strings"
)

// Currency is an ISO 4217 currency with its number of minor-unit digits
// (SEK 2, JPY 0, KWD 3). The zero value is not a currency; obtain one from
// [ParseCurrency], [MustCurrency] or the predeclared variables. Currency is
// comparable, so == tells whether two amounts share a currency.
type Currency struct {
	code   string
	digits int32
}

// Predeclared currencies the Nordic e-merchant meets most often.
var (
	SEK = MustCurrency("SEK")
	EUR = MustCurrency("EUR")
	NOK = MustCurrency("NOK")
	DKK = MustCurrency("DKK")
	USD = MustCurrency("USD")
	GBP = MustCurrency("GBP")
	JPY = MustCurrency("JPY")
)

// currencyInfo describes one ISO 4217 entry.
type currencyInfo struct {
	digits    int32
	withdrawn bool // no longer in ISO 4217 table A.1, still accepted for historic records
}

// currencies is ISO 4217 table A.1 (current currencies and funds) with the
// minor units published by ISO, as of the amendments up to 2025 (XCG replaced
// ANG, ZWG replaced ZWL, SLE replaced SLL). The precious metals and testing
// codes (XAU, XAG, XPD, XPT, XTS, XXX, XBA–XBD, XDR, XSU, XUA) have no minor
// unit and are left out: nothing is sold or settled in them.
//
// Withdrawn currencies stay parseable so that orders, invoices and payouts
// recorded before the change can still be read (Croatia adopted the euro on
// 2023-01-01, Bulgaria on 2026-01-01).
var currencies = map[string]currencyInfo{
	"AED": {2, false}, "AFN": {2, false}, "ALL": {2, false}, "AMD": {2, false}, "AOA": {2, false},
	"ARS": {2, false}, "AUD": {2, false}, "AWG": {2, false}, "AZN": {2, false}, "BAM": {2, false},
	"BBD": {2, false}, "BDT": {2, false}, "BHD": {3, false}, "BIF": {0, false}, "BMD": {2, false},
	"BND": {2, false}, "BOB": {2, false}, "BOV": {2, false}, "BRL": {2, false}, "BSD": {2, false},
	"BTN": {2, false}, "BWP": {2, false}, "BYN": {2, false}, "BZD": {2, false}, "CAD": {2, false},
	"CDF": {2, false}, "CHE": {2, false}, "CHF": {2, false}, "CHW": {2, false}, "CLF": {4, false},
	"CLP": {0, false}, "CNY": {2, false}, "COP": {2, false}, "COU": {2, false}, "CRC": {2, false},
	"CUP": {2, false}, "CVE": {2, false}, "CZK": {2, false}, "DJF": {0, false}, "DKK": {2, false},
	"DOP": {2, false}, "DZD": {2, false}, "EGP": {2, false}, "ERN": {2, false}, "ETB": {2, false},
	"EUR": {2, false}, "FJD": {2, false}, "FKP": {2, false}, "GBP": {2, false}, "GEL": {2, false},
	"GHS": {2, false}, "GIP": {2, false}, "GMD": {2, false}, "GNF": {0, false}, "GTQ": {2, false},
	"GYD": {2, false}, "HKD": {2, false}, "HNL": {2, false}, "HTG": {2, false}, "HUF": {2, false},
	"IDR": {2, false}, "ILS": {2, false}, "INR": {2, false}, "IQD": {3, false}, "IRR": {2, false},
	"ISK": {0, false}, "JMD": {2, false}, "JOD": {3, false}, "JPY": {0, false}, "KES": {2, false},
	"KGS": {2, false}, "KHR": {2, false}, "KMF": {0, false}, "KPW": {2, false}, "KRW": {0, false},
	"KWD": {3, false}, "KYD": {2, false}, "KZT": {2, false}, "LAK": {2, false}, "LBP": {2, false},
	"LKR": {2, false}, "LRD": {2, false}, "LSL": {2, false}, "LYD": {3, false}, "MAD": {2, false},
	"MDL": {2, false}, "MGA": {2, false}, "MKD": {2, false}, "MMK": {2, false}, "MNT": {2, false},
	"MOP": {2, false}, "MRU": {2, false}, "MUR": {2, false}, "MVR": {2, false}, "MWK": {2, false},
	"MXN": {2, false}, "MXV": {2, false}, "MYR": {2, false}, "MZN": {2, false}, "NAD": {2, false},
	"NGN": {2, false}, "NIO": {2, false}, "NOK": {2, false}, "NPR": {2, false}, "NZD": {2, false},
	"OMR": {3, false}, "PAB": {2, false}, "PEN": {2, false}, "PGK": {2, false}, "PHP": {2, false},
	"PKR": {2, false}, "PLN": {2, false}, "PYG": {0, false}, "QAR": {2, false}, "RON": {2, false},
	"RSD": {2, false}, "RUB": {2, false}, "RWF": {0, false}, "SAR": {2, false}, "SBD": {2, false},
	"SCR": {2, false}, "SDG": {2, false}, "SEK": {2, false}, "SGD": {2, false}, "SHP": {2, false},
	"SLE": {2, false}, "SOS": {2, false}, "SRD": {2, false}, "SSP": {2, false}, "STN": {2, false},
	"SVC": {2, false}, "SYP": {2, false}, "SZL": {2, false}, "THB": {2, false}, "TJS": {2, false},
	"TMT": {2, false}, "TND": {3, false}, "TOP": {2, false}, "TRY": {2, false}, "TTD": {2, false},
	"TWD": {2, false}, "TZS": {2, false}, "UAH": {2, false}, "UGX": {0, false}, "USD": {2, false},
	"USN": {2, false}, "UYI": {0, false}, "UYU": {2, false}, "UYW": {4, false}, "UZS": {2, false},
	"VED": {2, false}, "VES": {2, false}, "VND": {0, false}, "VUV": {0, false}, "WST": {2, false},
	"XAF": {0, false}, "XCD": {2, false}, "XCG": {2, false}, "XOF": {0, false}, "XPF": {0, false},
	"YER": {2, false}, "ZAR": {2, false}, "ZMW": {2, false}, "ZWG": {2, false},
	// Withdrawn, kept for historic records.
	"ANG": {2, true}, "BGN": {2, true}, "HRK": {2, true}, "SLL": {2, true}, "ZWL": {2, true},
	"CUC": {2, true},
}

// ParseCurrency returns the currency for an ISO 4217 alphabetic code. The code
// must be three upper-case letters; lower case is accepted and folded because
// several providers send "sek".
func ParseCurrency(code string) (Currency, error) {
	up := strings.ToUpper(code)
	info, ok := currencies[up]
	if !ok {
		return Currency{}, &FieldError{Field: "currency", Value: code, Reason: "not an ISO 4217 currency code", Err: ErrUnknownCurrency}
	}
	return Currency{code: up, digits: info.digits}, nil
}

// MustCurrency is ParseCurrency for codes known at compile time; it panics on
// an unknown code and must not be used on outside input.
func MustCurrency(code string) Currency {
	c, err := ParseCurrency(code)
	if err != nil {
		panic(err)
	}
	return c
}

// Code is the ISO 4217 alphabetic code, "" for the zero value.
func (c Currency) Code() string { return c.code }

// Digits is the number of minor-unit digits ISO 4217 gives the currency.
// Payment providers sometimes use fewer (PayPal sends HUF and TWD without
// decimals); the provider packages handle that, not this table.
func (c Currency) Digits() int32 { return c.digits }

// Equal reports whether c and o are the same currency; go-cmp uses it, so
// values holding a Currency compare without options.
func (c Currency) Equal(o Currency) bool { return c == o }

// IsZero reports whether c is the zero value, i.e. no currency.
func (c Currency) IsZero() bool { return c.code == "" }

// Withdrawn reports whether the code is no longer current in ISO 4217.
func (c Currency) Withdrawn() bool { return currencies[c.code].withdrawn }

// String returns the code.
func (c Currency) String() string { return c.code }

// MarshalText encodes the currency as its code.
func (c Currency) MarshalText() ([]byte, error) {
	if c.IsZero() {
		return nil, fmt.Errorf("commerce: marshal currency: %w", ErrUnknownCurrency)
	}
	return []byte(c.code), nil
}

// UnmarshalText decodes a currency code.
func (c *Currency) UnmarshalText(b []byte) error {
	parsed, err := ParseCurrency(string(b))
	if err != nil {
		return err
	}
	*c = parsed
	return nil
}

// Currencies returns the codes of all currencies ParseCurrency accepts, for
// callers that build pickers or validate configuration.
func Currencies() []string {
	out := make([]string, 0, len(currencies))
	for code := range currencies {
		out = append(out, code)
	}
	slices.Sort(out)
	return out
}
