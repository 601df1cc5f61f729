package vat

import (
	"fmt"
	"slices"

	"github.com/shopspring/decimal"

	"github.com/knyt/knyt/commerce"
)

var hundred = decimal.NewFromInt(100)

// Amounts is one amount split into its net part, VAT and gross, each exact in
// the currency's minor units and always Net + VAT = Gross.
type Amounts struct {
	Net   commerce.Money `json:"net"`
	VAT   commerce.Money `json:"vat"`
	Gross commerce.Money `json:"gross"`
}

func checkRate(op string, rate decimal.Decimal) error {
	if rate.IsNegative() {
		return &Error{Op: op, Value: rate.String(), Err: ErrInvalid, Detail: "negative rate"}
	}
	return nil
}

func checkCurrency(op string, m commerce.Money) error {
	if err := m.Validate(); err != nil {
		return &Error{Op: op, Err: fmt.Errorf("%w: %w", ErrInvalid, err)}
	}
	return nil
}

// VATOnNet returns the VAT on a net amount at rate percent (25 for 25 %),
// rounded half-up — half away from zero, so a credit mirrors its invoice — to
// the currency's minor unit: 0.10 SEK at 25 % is 0.025 → 0.03.
func VATOnNet(net commerce.Money, rate decimal.Decimal) (commerce.Money, error) {
	if err := checkCurrency("vat on net", net); err != nil {
		return commerce.Money{}, err
	}
	if err := checkRate("vat on net", rate); err != nil {
		return commerce.Money{}, err
	}
	return commerce.NewMoney(net.Amount.Mul(rate).DivRound(hundred, net.Currency.Digits()), net.Currency), nil
}

// FromNet adds VAT to a net amount: the entry point for turning a price
// excluding VAT into one including it (an ERP's net article price into a
// shop's gross price). VAT and Gross are rounded half-up to the minor unit;
// a net with more decimals than the currency has (a unit price of 79.992)
// is allowed, and the returned Net is Gross − VAT, so the three reconcile.
func FromNet(net commerce.Money, rate decimal.Decimal) (Amounts, error) {
	vat, err := VATOnNet(net, rate)
	if err != nil {
		return Amounts{}, err
	}
	digits := net.Currency.Digits()
	gross := commerce.NewMoney(net.Amount.Mul(hundred.Add(rate)).DivRound(hundred, digits), net.Currency)
	return Amounts{Net: commerce.NewMoney(gross.Amount.Sub(vat.Amount), net.Currency), VAT: vat, Gross: gross}, nil
}

// FromGross splits a price including VAT into net and VAT: VAT = gross ×
// rate / (100 + rate), rounded half-up to the minor unit, and Net = Gross −
// VAT, so the gross price is kept to the öre (100.00 at 25.5 % → 79.68 +
// 20.32). It is the entry point for turning a shop's gross price into a net
// one. The gross amount must be exact in minor units.
func FromGross(gross commerce.Money, rate decimal.Decimal) (Amounts, error) {
	if err := checkCurrency("from gross", gross); err != nil {
		return Amounts{}, err
	}
	if err := checkRate("from gross", rate); err != nil {
		return Amounts{}, err
	}
	if err := gross.ValidateExact(); err != nil {
		return Amounts{}, &Error{Op: "from gross", Err: fmt.Errorf("%w: %w", ErrInvalid, err)}
	}
	vat := gross.Amount.Mul(rate).DivRound(hundred.Add(rate), gross.Currency.Digits())
	return Amounts{
		Net:   commerce.NewMoney(gross.Amount.Sub(vat), gross.Currency),
		VAT:   commerce.NewMoney(vat, gross.Currency),
		Gross: gross,
	}, nil
}

// Rounding says where a document's VAT is rounded. There is no default: the
// zero value is refused so that every caller states the rule it follows.
type Rounding uint8

const (
	// PerRateGroup computes VAT once per rate on the sum of the lines at
	// that rate and rounds it once, as the Swedish and EU invoicing rules
	// describe ("the taxable amount per rate and the VAT amount"):
	// 3 × 0.99 net at 25 % → 0.74.
	PerRateGroup Rounding = iota + 1
	// PerLine rounds each line's VAT and adds them up, as many shops do
	// (Shopify's tax lines): 3 × 0.99 net at 25 % → 0.75.
	PerLine
)

// String names the rule.
func (r Rounding) String() string {
	switch r {
	case PerRateGroup:
		return "per rate group"
	case PerLine:
		return "per line"
	}
	return fmt.Sprintf("Rounding(%d)", uint8(r))
}

// Line is one document line: its amount (the line total, exact in minor
// units; net or gross as the Document says) and its VAT rate in percent.
// Discount and credit lines are negative.
type Line struct {
	Amount      commerce.Money  `json:"amount"`
	RatePercent decimal.Decimal `json:"rate_percent"`
}

// Document is a set of lines in one currency whose VAT is to be computed.
type Document struct {
	Lines            []Line
	PricesIncludeVAT bool     // line amounts are gross (B2C shop prices) rather than net
	Rounding         Rounding // required
}

// Breakdown is a document's VAT: per line, per rate (ascending) and in
// total, in one currency, reconciling to the minor unit: the groups sum to
// the totals and so do the lines, and Net + VAT = Gross everywhere.
type Breakdown struct {
	Lines  []Amounts            `json:"lines"`
	Groups []commerce.VATAmount `json:"groups"`
	Net    commerce.Money       `json:"net"`
	VAT    commerce.Money       `json:"vat"`
	Gross  commerce.Money       `json:"gross"`
}

// Summarize computes a document's VAT under the chosen rounding rule and
// groups it by rate — the taxable amount and VAT per rate that an invoice
// must show.
//
// Under PerRateGroup the line-level VAT is informative: each line is rounded
// on its own and the difference to its group's VAT (at most a few minor
// units) is put on the line with the largest absolute amount in that group,
// so lines, groups and totals agree exactly.
func Summarize(doc Document) (Breakdown, error) {
	const op = "summarize"
	if doc.Rounding != PerRateGroup && doc.Rounding != PerLine {
		return Breakdown{}, &Error{Op: op, Value: doc.Rounding.String(), Err: ErrInvalid, Detail: "choose PerRateGroup or PerLine"}
	}
	if len(doc.Lines) == 0 {
		return Breakdown{}, &Error{Op: op, Err: ErrInvalid, Detail: "no lines"}
	}
	cur := doc.Lines[0].Amount.Currency
	split := FromNet
	if doc.PricesIncludeVAT {
		split = FromGross
	}
	lines := make([]Amounts, len(doc.Lines))
	type group struct {
		rate    decimal.Decimal
		sum     decimal.Decimal // net or gross as the document is
		members []int
	}
	var groups []*group
	for i, l := range doc.Lines {
		if l.Amount.Currency != cur {
			return Breakdown{}, &Error{Op: op, Value: fmt.Sprintf("lines[%d]", i), Err: fmt.Errorf("%w: %w", ErrInvalid, commerce.ErrCurrencyMismatch)}
		}
		if err := l.Amount.ValidateExact(); err != nil {
			return Breakdown{}, &Error{Op: op, Value: fmt.Sprintf("lines[%d]", i), Err: fmt.Errorf("%w: %w", ErrInvalid, err)}
		}
		a, err := split(l.Amount, l.RatePercent)
		if err != nil {
			return Breakdown{}, &Error{Op: op, Value: fmt.Sprintf("lines[%d]", i), Err: err}
		}
		lines[i] = a
		gi := slices.IndexFunc(groups, func(g *group) bool { return g.rate.Equal(l.RatePercent) })
		if gi < 0 {
			groups = append(groups, &group{rate: l.RatePercent, sum: decimal.Zero})
			gi = len(groups) - 1
		}
		groups[gi].sum = groups[gi].sum.Add(l.Amount.Amount)
		groups[gi].members = append(groups[gi].members, i)
	}
	slices.SortFunc(groups, func(a, b *group) int { return a.rate.Cmp(b.rate) })

	out := Breakdown{Lines: lines, Net: commerce.Zero(cur), VAT: commerce.Zero(cur), Gross: commerce.Zero(cur)}
	for _, g := range groups {
		lineVAT := decimal.Zero
		for _, i := range g.members {
			lineVAT = lineVAT.Add(lines[i].VAT.Amount)
		}
		vat := lineVAT
		if doc.Rounding == PerRateGroup {
			a, err := split(commerce.NewMoney(g.sum, cur), g.rate)
			if err != nil {
				return Breakdown{}, &Error{Op: op, Err: err}
			}
			vat = a.VAT.Amount
			if diff := vat.Sub(lineVAT); !diff.IsZero() {
				big := g.members[0]
				for _, i := range g.members[1:] {
					if doc.Lines[i].Amount.Amount.Abs().GreaterThan(doc.Lines[big].Amount.Amount.Abs()) {
						big = i
					}
				}
				lines[big].VAT.Amount = lines[big].VAT.Amount.Add(diff)
				if doc.PricesIncludeVAT {
					lines[big].Net.Amount = lines[big].Net.Amount.Sub(diff)
				} else {
					lines[big].Gross.Amount = lines[big].Gross.Amount.Add(diff)
				}
			}
		}
		var net decimal.Decimal
		if doc.PricesIncludeVAT {
			net = g.sum.Sub(vat)
		} else {
			net = g.sum
		}
		out.Groups = append(out.Groups, commerce.VATAmount{
			RatePercent: g.rate,
			Taxable:     commerce.NewMoney(net, cur),
			VAT:         commerce.NewMoney(vat, cur),
		})
		out.Net.Amount = out.Net.Amount.Add(net)
		out.VAT.Amount = out.VAT.Amount.Add(vat)
	}
	out.Gross.Amount = out.Net.Amount.Add(out.VAT.Amount)
	return out, nil
}
