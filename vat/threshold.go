package vat

import (
	"fmt"
	"sync"

	"github.com/shopspring/decimal"

	"github.com/knyt/knyt/commerce"
)

// DistanceSalesThreshold is the EU-wide threshold of Art. 59c of the VAT
// Directive, in EUR excluding VAT, for intra-EU distance sales of goods and
// TBE services to consumers (in force since 2021-07-01).
var DistanceSalesThreshold = decimal.NewFromInt(10_000)

// ThresholdTracker accumulates a seller's intra-EU distance sales to
// consumers per calendar year, in EUR excluding VAT, and tells for each sale
// whether destination taxation applies. It is safe for concurrent use.
//
// Destination taxation applies for the whole year once the previous year's
// total exceeded the threshold, and otherwise from the sale that makes the
// current year's total exceed it: that crossing sale is itself taxed at
// destination, and so is every later sale of that year even if credits bring
// the total back under. The previous year counts with its final total. A
// total of exactly EUR 10,000 does not exceed the threshold.
type ThresholdTracker struct {
	mu    sync.Mutex
	limit decimal.Decimal
	years map[int]yearTotal
}

type yearTotal struct {
	eur     decimal.Decimal
	crossed bool // once exceeded in a year, destination taxation stays for the rest of it
}

// NewThresholdTracker returns a tracker for DistanceSalesThreshold.
func NewThresholdTracker() *ThresholdTracker {
	return &ThresholdTracker{limit: DistanceSalesThreshold, years: map[int]yearTotal{}}
}

// SetYearTotal records a year's total from earlier records (the previous
// year, or the current year so far when starting mid-year).
func (t *ThresholdTracker) SetYearTotal(year int, eur decimal.Decimal) error {
	if eur.IsNegative() {
		return &Error{Op: "threshold", Value: eur.String(), Err: ErrInvalid, Detail: "negative total"}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.years[year] = yearTotal{eur: eur, crossed: eur.GreaterThan(t.limit)}
	return nil
}

// ThresholdState is the threshold situation for one sale.
type ThresholdState struct {
	Year          int             `json:"year"`
	PreviousYear  decimal.Decimal `json:"previous_year"` // EUR total of the year before
	CurrentYear   decimal.Decimal `json:"current_year"`  // EUR total of the year including this sale
	Exceeded      bool            `json:"exceeded"`      // destination taxation applies to this sale
	CrossedByThis bool            `json:"crossed_by_this"`
}

// Add records a sale of netEUR (excluding VAT) on date and returns the
// state that applies to it; feed ThresholdState.Exceeded into
// Sale.ThresholdExceeded. A credit is a negative amount: it lowers the
// year's total but does not undo a crossing already made.
func (t *ThresholdTracker) Add(date commerce.Date, netEUR decimal.Decimal) (ThresholdState, error) {
	if !date.Valid() {
		return ThresholdState{}, &Error{Op: "threshold", Value: date.String(), Err: ErrInvalid, Detail: "not a calendar date"}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	y := date.Year
	cur := t.years[y]
	after := cur.eur.Add(netEUR)
	crossing := !cur.crossed && after.GreaterThan(t.limit)
	t.years[y] = yearTotal{eur: after, crossed: cur.crossed || crossing}
	prev := t.years[y-1]
	return ThresholdState{
		Year:          y,
		PreviousYear:  prev.eur,
		CurrentYear:   after,
		Exceeded:      prev.eur.GreaterThan(t.limit) || cur.crossed || crossing,
		CrossedByThis: crossing,
	}, nil
}

// Status returns the state for year without recording a sale.
func (t *ThresholdTracker) Status(year int) ThresholdState {
	t.mu.Lock()
	defer t.mu.Unlock()
	prev, cur := t.years[year-1], t.years[year]
	return ThresholdState{Year: year, PreviousYear: prev.eur, CurrentYear: cur.eur, Exceeded: prev.eur.GreaterThan(t.limit) || cur.crossed}
}

// String summarises the state.
func (s ThresholdState) String() string {
	return fmt.Sprintf("%d: previous year EUR %s, this year EUR %s, exceeded %t", s.Year, s.PreviousYear.StringFixed(2), s.CurrentYear.StringFixed(2), s.Exceeded)
}
