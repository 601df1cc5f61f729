package vat

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/knyt/knyt/commerce"
)

// Quarter is a calendar quarter, the period of an OSS Union scheme return.
type Quarter struct {
	Year    int
	Quarter int // 1–4
}

// QuarterOf returns the quarter d falls in.
func QuarterOf(d commerce.Date) Quarter { return Quarter{d.Year, (int(d.Month)-1)/3 + 1} }

// ParseQuarter parses "2026Q4".
func ParseQuarter(s string) (Quarter, error) {
	if len(s) == 6 && s[4] == 'Q' && '1' <= s[5] && s[5] <= '4' {
		if y, err := strconv.Atoi(s[:4]); err == nil {
			return Quarter{y, int(s[5] - '0')}, nil
		}
	}
	return Quarter{}, &Error{Op: "parse quarter", Value: truncate(s, 16), Err: ErrInvalid, Detail: "want YYYYQn"}
}

// Valid reports whether q is a real quarter.
func (q Quarter) Valid() bool { return q.Year > 0 && q.Quarter >= 1 && q.Quarter <= 4 }

// String formats "2026Q4", the form OSS returns use for corrected periods.
func (q Quarter) String() string { return fmt.Sprintf("%04dQ%d", q.Year, q.Quarter) }

// MarshalText encodes "2026Q4".
func (q Quarter) MarshalText() ([]byte, error) { return []byte(q.String()), nil }

// UnmarshalText decodes "2026Q4".
func (q *Quarter) UnmarshalText(b []byte) error {
	p, err := ParseQuarter(string(b))
	if err != nil {
		return err
	}
	*q = p
	return nil
}

// Compare orders quarters.
func (q Quarter) Compare(o Quarter) int {
	if q.Year != o.Year {
		return cmpInt(q.Year, o.Year)
	}
	return cmpInt(q.Quarter, o.Quarter)
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// First is the quarter's first day.
func (q Quarter) First() commerce.Date { return commerce.NewDate(q.Year, time.Month(3*q.Quarter-2), 1) }

// Last is the quarter's last day, whose ECB rate converts the return.
func (q Quarter) Last() commerce.Date { return commerce.NewDate(q.Year, time.Month(3*q.Quarter+1), 0) }

// Due is the last day for filing and paying the return: the end of the
// month after the quarter (Art. 369f): Q4 2026 is due on 2027-01-31.
func (q Quarter) Due() commerce.Date { return commerce.NewDate(q.Year, time.Month(3*q.Quarter+2), 0) }

// OSSSale is one sale or credit to report: per member state of consumption
// and rate, in the currency invoiced. Credits are negative.
type OSSSale struct {
	Country     string          `json:"country"` // member state of consumption (ISO code or VAT prefix; XI for Northern Ireland)
	RatePercent decimal.Decimal `json:"rate_percent"`
	Taxable     commerce.Money  `json:"taxable"` // excluding VAT
	VAT         commerce.Money  `json:"vat"`
	// Period is the quarter the sale was declared in (or is to be): for a
	// sale of the return's own quarter that quarter; for a credit or
	// correction of a sale declared earlier, that earlier quarter, which
	// makes it a correction line.
	Period    Quarter `json:"period"`
	Services  bool    `json:"services,omitempty"` // TBE services rather than goods
	Reference string  `json:"reference,omitempty"`
}

// OSSSalesFromInvoices turns the OSS invoices and credit invoices among invs
// (VATScheme == commerce.SchemeOSSUnion; the rest are skipped) into sales,
// one per VAT rate of each invoice, negative for credit invoices. VATByRate
// is used when present, else the lines are grouped. periodOf gives the
// quarter a document belongs to; nil means the quarter of its IssueDate. For
// a credit invoice the caller's periodOf may return the quarter of the
// invoice it credits, which reports it as a correction of that quarter.
// All are reported as goods.
func OSSSalesFromInvoices(invs []commerce.Invoice, periodOf func(*commerce.Invoice) Quarter) ([]OSSSale, error) {
	var out []OSSSale
	for i := range invs {
		inv := &invs[i]
		if inv.VATScheme != commerce.SchemeOSSUnion {
			continue
		}
		if inv.VATCountry == "" {
			return nil, &Error{Op: "oss sales", Value: inv.Number, Err: ErrInvalid, Detail: "OSS invoice without vat_country"}
		}
		groups := inv.VATByRate
		if len(groups) == 0 {
			var err error
			if groups, err = inv.GroupVAT(); err != nil {
				return nil, &Error{Op: "oss sales", Value: inv.Number, Err: err}
			}
		}
		q := QuarterOf(inv.IssueDate)
		if periodOf != nil {
			q = periodOf(inv)
		}
		for _, g := range groups {
			out = append(out, OSSSale{
				Country:     inv.VATCountry,
				RatePercent: g.RatePercent,
				Taxable:     inv.Signed(g.Taxable),
				VAT:         inv.Signed(g.VAT),
				Period:      q,
				Reference:   inv.Number,
			})
		}
	}
	return out, nil
}

// FXRates supplies EUR reference rates: units of currency per 1 EUR
// published on date or, if none was, on the next publication day (which it
// returns). *ECBRates implements it.
type FXRates interface {
	EURRate(currency string, date commerce.Date) (rate decimal.Decimal, published commerce.Date, err error)
}

// OSSReturn is a quarterly OSS Union scheme return: lines per member state
// of consumption, supply type and rate, corrections of earlier quarters per
// quarter and member state, all in EUR.
type OSSReturn struct {
	VATNumber   string          `json:"vat_number"` // the seller's identification number in the member state of identification
	Period      Quarter         `json:"period"`
	Due         commerce.Date   `json:"due"`
	Lines       []OSSLine       `json:"lines"`
	Corrections []OSSCorrection `json:"corrections"`
	TotalVAT    commerce.Money  `json:"total_vat"` // lines plus corrections, EUR
	FX          []FXUsed        `json:"fx"`
}

// OSSLine is one line of the return.
type OSSLine struct {
	Country     string          `json:"country"` // VAT prefix (EL for Greece)
	Supply      string          `json:"supply"`  // "goods" or "services"
	RateType    string          `json:"rate_type"`
	RatePercent decimal.Decimal `json:"rate_percent"`
	Taxable     commerce.Money  `json:"taxable"`
	VAT         commerce.Money  `json:"vat"`
}

// OSSCorrection is the VAT difference for a member state of consumption
// in an earlier quarter.
type OSSCorrection struct {
	Period  Quarter        `json:"period"`
	Country string         `json:"country"`
	VAT     commerce.Money `json:"vat"`
}

// FXUsed documents one conversion rate applied.
type FXUsed struct {
	Currency  string          `json:"currency"`
	Rate      decimal.Decimal `json:"rate"` // units per 1 EUR
	Published commerce.Date   `json:"published"`
	ForPeriod Quarter         `json:"for_period"`
}

// BuildOSSReturn aggregates a quarter's sales and credits into a return
// for the seller with OSS identification number vatNumber.
//
// Sales of the return's quarter become lines per member state of
// consumption, supply type and rate; sales of earlier quarters become
// corrections per quarter and member state. Amounts are summed per currency
// first and each sum is converted once at the ECB rate of the last day of
// the quarter it belongs to (or the next publication day), rounded half-up to
// the cent — so a correction keeps its own quarter's rate. A quarter without
// sales gives a nil return (no lines), which must still be filed.
//
// Errors: an invalid number or period, a sale of a later quarter, a sale in
// the member state of identification (that is domestic, not OSS), an unknown
// member state, a negative rate, mixed currencies within a sale, or a
// missing FX rate (ErrMissingFXRate).
func BuildOSSReturn(vatNumber string, period Quarter, sales []OSSSale, fx FXRates) (*OSSReturn, error) {
	const op = "oss return"
	id, err := NormalizeNumber(vatNumber)
	if err != nil {
		return nil, &Error{Op: op, Err: err}
	}
	if !period.Valid() {
		return nil, &Error{Op: op, Value: period.String(), Err: ErrInvalid, Detail: "not a quarter"}
	}
	home, _ := countryIndex(id[:2])

	type lineKey struct {
		country  int
		services bool
		rate     string
	}
	type corrKey struct {
		period  Quarter
		country int
	}
	type sums struct{ taxable, vat map[string]decimal.Decimal } // per currency
	newSums := func() *sums { return &sums{map[string]decimal.Decimal{}, map[string]decimal.Decimal{}} }
	lines := map[lineKey]*sums{}
	lineRate := map[lineKey]decimal.Decimal{}
	corrs := map[corrKey]*sums{}

	for i, s := range sales {
		where := fmt.Sprintf("sales[%d]", i)
		if s.Reference != "" {
			where += " (" + truncate(s.Reference, 40) + ")"
		}
		ci, ok := countryIndex(s.Country)
		if !ok {
			return nil, &Error{Op: op, Value: where, Err: ErrUnknownCountry, Detail: truncate(s.Country, 16)}
		}
		if ci == home {
			return nil, &Error{Op: op, Value: where, Err: ErrInvalid, Detail: "a sale in the member state of identification is domestic, not OSS"}
		}
		if s.RatePercent.IsNegative() {
			return nil, &Error{Op: op, Value: where, Err: ErrInvalid, Detail: "negative rate"}
		}
		if s.Taxable.Currency.IsZero() || s.Taxable.Currency != s.VAT.Currency {
			return nil, &Error{Op: op, Value: where, Err: ErrInvalid, Detail: "taxable amount and VAT need one currency"}
		}
		if !s.Period.Valid() || s.Period.Compare(period) > 0 {
			return nil, &Error{Op: op, Value: where, Err: ErrInvalid, Detail: "period " + s.Period.String() + " is not this or an earlier quarter"}
		}
		cur := s.Taxable.Currency.Code()
		var sm *sums
		if s.Period == period {
			k := lineKey{ci, s.Services, s.RatePercent.String()}
			if sm = lines[k]; sm == nil {
				sm = newSums()
				lines[k], lineRate[k] = sm, s.RatePercent
			}
		} else {
			k := corrKey{s.Period, ci}
			if sm = corrs[k]; sm == nil {
				sm = newSums()
				corrs[k] = sm
			}
		}
		sm.taxable[cur] = sm.taxable[cur].Add(s.Taxable.Amount)
		sm.vat[cur] = sm.vat[cur].Add(s.VAT.Amount)
	}

	used := map[string]FXUsed{}
	toEUR := func(amounts map[string]decimal.Decimal, q Quarter) (commerce.Money, error) {
		total := decimal.Zero
		for _, cur := range sortedKeys(amounts) {
			if cur == "EUR" {
				total = total.Add(amounts[cur])
				continue
			}
			rate, published, err := fx.EURRate(cur, q.Last())
			if err != nil {
				return commerce.Money{}, &Error{Op: op, Value: cur + " " + q.String(), Err: err}
			}
			used[cur+" "+q.String()] = FXUsed{Currency: cur, Rate: rate, Published: published, ForPeriod: q}
			total = total.Add(amounts[cur].DivRound(rate, 2))
		}
		return commerce.NewMoney(commerce.RoundAmount(total, commerce.EUR), commerce.EUR), nil
	}

	ret := &OSSReturn{VATNumber: id, Period: period, Due: period.Due(), Lines: []OSSLine{}, Corrections: []OSSCorrection{}, FX: []FXUsed{}}
	total := decimal.Zero
	for k, sm := range lines {
		taxable, err := toEUR(sm.taxable, period)
		if err != nil {
			return nil, err
		}
		vat, err := toEUR(sm.vat, period)
		if err != nil {
			return nil, err
		}
		rateType := "reduced"
		if std, err := lookup(k.country, Standard, dayOf(period.Last())); err == nil && std.rate.Equal(lineRate[k]) {
			rateType = "standard"
		}
		supply := "goods"
		if k.services {
			supply = "services"
		}
		ret.Lines = append(ret.Lines, OSSLine{Country: countries[k.country].prefix, Supply: supply, RateType: rateType,
			RatePercent: lineRate[k], Taxable: taxable, VAT: vat})
		total = total.Add(vat.Amount)
	}
	for k, sm := range corrs {
		vat, err := toEUR(sm.vat, k.period)
		if err != nil {
			return nil, err
		}
		ret.Corrections = append(ret.Corrections, OSSCorrection{Period: k.period, Country: countries[k.country].prefix, VAT: vat})
		total = total.Add(vat.Amount)
	}
	slices.SortFunc(ret.Lines, func(a, b OSSLine) int {
		return cmpFirst(strings.Compare(a.Country, b.Country), strings.Compare(a.Supply, b.Supply), b.RatePercent.Cmp(a.RatePercent))
	})
	slices.SortFunc(ret.Corrections, func(a, b OSSCorrection) int {
		return cmpFirst(a.Period.Compare(b.Period), strings.Compare(a.Country, b.Country))
	})
	for _, k := range sortedKeys(used) {
		ret.FX = append(ret.FX, used[k])
	}
	ret.TotalVAT = commerce.NewMoney(total, commerce.EUR)
	return ret, nil
}

func cmpFirst(cs ...int) int {
	for _, c := range cs {
		if c != 0 {
			return c
		}
	}
	return 0
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// CSV writes the return as comma-separated rows with a header: "line" rows
// (country, supply, rate type, rate, taxable amount, VAT), "correction" rows
// (period and country with the VAT difference) and one "total" row. Amounts
// are EUR with two decimals and a dot. The output is deterministic.
//
// This is a neutral export for review and bookkeeping, not Skatteverket's
// upload format, whose current technical description was not available.
func (r *OSSReturn) CSV() ([]byte, error) {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	rows := [][]string{{"kind", "vat_number", "period", "country", "supply", "rate_type", "rate", "taxable_eur", "vat_eur"}}
	for _, l := range r.Lines {
		rows = append(rows, []string{"line", r.VATNumber, r.Period.String(), l.Country, l.Supply, l.RateType,
			l.RatePercent.String(), l.Taxable.Amount.StringFixed(2), l.VAT.Amount.StringFixed(2)})
	}
	for _, c := range r.Corrections {
		rows = append(rows, []string{"correction", r.VATNumber, c.Period.String(), c.Country, "", "", "", "", c.VAT.Amount.StringFixed(2)})
	}
	rows = append(rows, []string{"total", r.VATNumber, r.Period.String(), "", "", "", "", "", r.TotalVAT.Amount.StringFixed(2)})
	if err := w.WriteAll(rows); err != nil {
		return nil, &Error{Op: "oss return csv", Err: err}
	}
	return buf.Bytes(), nil
}

// JSON encodes the whole return, indented, deterministic.
func (r *OSSReturn) JSON() ([]byte, error) {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, &Error{Op: "oss return json", Err: err}
	}
	return append(b, '\n'), nil
}
