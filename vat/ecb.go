package vat

import (
	"encoding/xml"
	"fmt"
	"io"
	"slices"

	"github.com/shopspring/decimal"

	"github.com/knyt/knyt/commerce"
)

// ECBRates holds euro foreign-exchange reference rates of the European
// Central Bank: per publication day, units of a currency per 1 EUR. Build it
// with ParseECB from the ECB's eurofxref XML (the daily file or the
// historical eurofxref-hist.xml; both use the same Cube structure) or with
// Add from another source. The zero value is empty and ready to use.
type ECBRates struct {
	days []ecbDay // sorted by date
}

type ecbDay struct {
	date  commerce.Date
	rates map[string]decimal.Decimal
}

type ecbEnvelope struct {
	XMLName xml.Name `xml:"Envelope"`
	Cube    struct {
		Days []struct {
			Time  string `xml:"time,attr"`
			Rates []struct {
				Currency string `xml:"currency,attr"`
				Rate     string `xml:"rate,attr"`
			} `xml:"Cube"`
		} `xml:"Cube"`
	} `xml:"Cube"`
}

// maxECBDocument bounds the input: the complete history since 1999 is
// about 6 MiB.
const maxECBDocument = 64 << 20

// ParseECB reads an ECB eurofxref document. Every day needs a valid date and
// every rate a currency code of three letters and a positive plain decimal;
// a document without any day, or repeating a day or a currency within a day,
// is refused. Errors match ErrECB.
func ParseECB(r io.Reader) (*ECBRates, error) {
	var env ecbEnvelope
	dec := xml.NewDecoder(io.LimitReader(r, maxECBDocument))
	if err := dec.Decode(&env); err != nil {
		return nil, ecbError("", "not an eurofxref document: "+err.Error())
	}
	if len(env.Cube.Days) == 0 {
		return nil, ecbError("", "no reference rates")
	}
	out := &ECBRates{}
	for _, d := range env.Cube.Days {
		date, err := commerce.ParseDate(d.Time)
		if err != nil {
			return nil, ecbError(d.Time, "bad date")
		}
		if len(d.Rates) == 0 {
			return nil, ecbError(d.Time, "a day without rates")
		}
		for _, r := range d.Rates {
			rate, err := commerce.ParseAmount(r.Rate)
			if err != nil || !rate.IsPositive() {
				return nil, ecbError(d.Time, fmt.Sprintf("currency %q: rate %q is not a positive decimal", truncate(r.Currency, 8), truncate(r.Rate, 24)))
			}
			if err := out.Add(date, r.Currency, rate); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

func ecbError(value, detail string) error {
	return &Error{Op: "parse ecb rates", Value: value, Err: ErrECB, Detail: detail}
}

func validCurrencyCode(c string) bool {
	return len(c) == 3 && isLetter(c[0]) && isLetter(c[1]) && isLetter(c[2])
}

// Add records rate (units of currency per 1 EUR) for a publication day.
// Recording a currency twice for one day is an error.
func (e *ECBRates) Add(date commerce.Date, currency string, rate decimal.Decimal) error {
	if !validCurrencyCode(currency) || currency == "EUR" {
		return ecbError(date.String(), fmt.Sprintf("currency %q is not a foreign currency code", truncate(currency, 8)))
	}
	if !rate.IsPositive() {
		return ecbError(date.String(), fmt.Sprintf("rate for %s is not positive", currency))
	}
	i, found := slices.BinarySearchFunc(e.days, date, func(d ecbDay, t commerce.Date) int { return d.date.Compare(t) })
	if !found {
		e.days = slices.Insert(e.days, i, ecbDay{date: date, rates: map[string]decimal.Decimal{}})
	}
	if _, dup := e.days[i].rates[currency]; dup {
		return ecbError(date.String(), "currency "+currency+" given twice")
	}
	e.days[i].rates[currency] = rate
	return nil
}

// Dates returns the publication days held, ascending.
func (e *ECBRates) Dates() []commerce.Date {
	out := make([]commerce.Date, len(e.days))
	for i, d := range e.days {
		out[i] = d.date
	}
	return out
}

// maxPublicationGap is how far after a date the next publication may lie:
// TARGET holidays and weekends never close the ECB for more than four days
// in a row, so a longer gap means the caller's data is missing days.
const maxPublicationGap = 7

// EURRate returns the rate for currency (units per 1 EUR) published on
// date, or — when nothing was published that day — on the next publication
// day, which is the rule of Art. 366 and 369h of the VAT Directive for OSS
// returns. It returns the publication day used. EUR itself is 1 on date.
//
// Missing data is an ErrMissingFXRate error: no publication on or within a
// week after date, or the currency absent from that publication (a later
// day is never substituted for a currency missing on the right day).
func (e *ECBRates) EURRate(currency string, date commerce.Date) (decimal.Decimal, commerce.Date, error) {
	if currency == "EUR" {
		return decimal.NewFromInt(1), date, nil
	}
	i, _ := slices.BinarySearchFunc(e.days, date, func(d ecbDay, t commerce.Date) int { return d.date.Compare(t) })
	if i == len(e.days) || e.days[i].date.After(date.AddDays(maxPublicationGap)) {
		return decimal.Decimal{}, commerce.Date{}, &Error{Op: "ecb rate", Value: currency, Err: ErrMissingFXRate,
			Detail: fmt.Sprintf("no publication on %s or in the %d days after", date, maxPublicationGap)}
	}
	rate, ok := e.days[i].rates[currency]
	if !ok {
		return decimal.Decimal{}, commerce.Date{}, &Error{Op: "ecb rate", Value: currency, Err: ErrMissingFXRate,
			Detail: fmt.Sprintf("not in the publication of %s", e.days[i].date)}
	}
	return rate, e.days[i].date, nil
}
