package vat

import (
	"bufio"
	"bytes"
	"embed"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/knyt/knyt/commerce"
)

// Category is a kind of product or service whose VAT rate differs between
// member states. The rate of a category in a country comes from the embedded
// dataset; where the dataset has no row, lookups fail with ErrNoRate rather
// than guess.
//
// A category names what the member state's representative rate for that
// group applies to. Individual products inside a group may be taxed
// differently (Spain's 4 % basic foods inside 10 % foodstuffs, Ireland's
// zero-rated bread); map a product to the narrowest category that fits.
type Category uint8

// Categories an e-merchant needs. Standard is the standard rate itself.
const (
	Standard               Category = iota // the standard rate
	Foodstuffs                             // food for human consumption, excluding alcohol and catering
	BasicFoodstuffs                        // staples with their own rate where a state has one (AT 4.9 %, LV 12 %, ES 4 %)
	NonAlcoholicBeverages                  // soft drinks, juice, bottled water
	PrintedBooks                           // books on physical media
	EBooks                                 // electronically supplied books
	Newspapers                             // newspapers
	Periodicals                            // magazines and other periodicals
	Pharmaceuticals                        // medicinal products for human use
	MedicalDevicesDisabled                 // equipment and aids for the exclusive personal use of the disabled
	ChildrensClothing                      // children's clothing and footwear
	SanitaryProducts                       // menstrual and sanitary protection products
	Accommodation                          // hotel and similar short-stay accommodation
	RestaurantFood                         // restaurant and catering services, food part
	numCategories
)

var categoryNames = [numCategories]string{
	"standard", "foodstuffs", "basic_foodstuffs", "non_alcoholic_beverages", "printed_books", "ebooks",
	"newspapers", "periodicals", "pharmaceuticals", "medical_devices_disabled", "childrens_clothing",
	"sanitary_products", "accommodation", "restaurant",
}

// String returns the category's name as used in the data file
// ("printed_books").
func (c Category) String() string {
	if c < numCategories {
		return categoryNames[c]
	}
	return fmt.Sprintf("Category(%d)", uint8(c))
}

// ParseCategory returns the category with the given name ("foodstuffs").
func ParseCategory(name string) (Category, error) {
	for i, n := range categoryNames {
		if n == name {
			return Category(i), nil
		}
	}
	return 0, &Error{Op: "parse category", Value: truncate(name, 40), Err: ErrUnknownCategory}
}

// MarshalText encodes the category's name.
func (c Category) MarshalText() ([]byte, error) {
	if c >= numCategories {
		return nil, &Error{Op: "marshal category", Value: c.String(), Err: ErrUnknownCategory}
	}
	return []byte(categoryNames[c]), nil
}

// UnmarshalText decodes a category name.
func (c *Category) UnmarshalText(b []byte) error {
	p, err := ParseCategory(string(b))
	if err != nil {
		return err
	}
	*c = p
	return nil
}

// AllCategories returns every defined category in order.
func AllCategories() []Category {
	out := make([]Category, numCategories)
	for i := range out {
		out[i] = Category(i)
	}
	return out
}

// level is a rate level of the rate structure (not a product category).
type level uint8

const (
	levelReduced level = iota
	levelSuperReduced
	levelParking
	numLevels
)

// Source is the provenance of a rate period: a key of the data file's
// sources table and its citation.
type Source struct {
	Key      string `json:"key"`
	Citation string `json:"citation"`
}

// RatePeriod is one row of the dataset: a rate that applies from From up to,
// not including, To. A zero To means the rate is still in force.
type RatePeriod struct {
	Country  string          `json:"country"` // VAT prefix
	Category Category        `json:"category"`
	Rate     decimal.Decimal `json:"rate"`
	From     commerce.Date   `json:"from"`
	To       commerce.Date   `json:"to,omitzero"`
	Source   Source          `json:"source"`
}

// openEnd marks a period still in force.
const openEnd = int32(1<<31 - 1)

// period is a RatePeriod in index form: day numbers and a source index.
type period struct {
	from, to int32
	rate     decimal.Decimal
	source   uint16
}

type countryRates struct {
	cats   [numCategories][]period // sorted, non-overlapping; cats[Standard] has no gaps
	levels [numLevels][]period     // sorted by from; may overlap (two reduced rates)
}

var (
	//go:embed data/rates.tsv data/sources.tsv
	dataFS embed.FS

	table       [numCountries]countryRates
	sourceKeys  []string
	sourceTexts []string
)

func init() {
	rates, err := dataFS.ReadFile("data/rates.tsv")
	if err == nil {
		var sources []byte
		if sources, err = dataFS.ReadFile("data/sources.tsv"); err == nil {
			err = loadData(rates, sources)
		}
	}
	if err != nil {
		// The data is embedded and checked by the tests; failing here means
		// the binary was built from a broken data file.
		panic("vat: embedded rate data: " + err.Error())
	}
}

// loadData parses the two data files into table. It refuses overlapping
// category periods, so a lookup never has to choose between two rates.
func loadData(rates, sources []byte) error {
	srcIndex := map[string]uint16{}
	keys, texts := []string{}, []string{}
	err := eachRecord(sources, 2, func(line int, f []string) error {
		if f[0] == "key" {
			return nil
		}
		if _, dup := srcIndex[f[0]]; dup {
			return fmt.Errorf("sources.tsv:%d: duplicate key %q", line, f[0])
		}
		srcIndex[f[0]] = uint16(len(keys))
		keys, texts = append(keys, f[0]), append(texts, f[1])
		return nil
	})
	if err != nil {
		return err
	}
	var t [numCountries]countryRates
	err = eachRecord(rates, 6, func(line int, f []string) error {
		if f[0] == "country" {
			return nil
		}
		bad := func(format string, args ...any) error {
			return fmt.Errorf("rates.tsv:%d: "+format, append([]any{line}, args...)...)
		}
		ci, ok := countryIndex(f[0])
		if !ok || countries[ci].prefix != f[0] {
			return bad("unknown country %q (use the VAT prefix)", f[0])
		}
		rate, err := decimal.NewFromString(f[2])
		if err != nil || rate.IsNegative() || strings.ContainsAny(f[2], "eE+") {
			return bad("rate %q is not a non-negative plain decimal", f[2])
		}
		from, err := parseDay(f[3])
		if err != nil {
			return bad("from: %v", err)
		}
		to := openEnd
		if f[4] != "" {
			if to, err = parseDay(f[4]); err != nil {
				return bad("to: %v", err)
			}
		}
		if to <= from {
			return bad("empty period %s..%s", f[3], f[4])
		}
		src, ok := srcIndex[f[5]]
		if !ok {
			return bad("unknown source %q", f[5])
		}
		p := period{from: from, to: to, rate: rate, source: src}
		cr := &t[ci]
		switch f[1] {
		case "reduced":
			cr.levels[levelReduced] = append(cr.levels[levelReduced], p)
		case "super_reduced":
			cr.levels[levelSuperReduced] = append(cr.levels[levelSuperReduced], p)
		case "parking":
			cr.levels[levelParking] = append(cr.levels[levelParking], p)
		default:
			c, err := ParseCategory(f[1])
			if err != nil {
				return bad("unknown key %q", f[1])
			}
			cr.cats[c] = append(cr.cats[c], p)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for ci := range t {
		for c := range t[ci].cats {
			s := t[ci].cats[c]
			slices.SortFunc(s, func(a, b period) int { return int(a.from) - int(b.from) })
			for i := 1; i < len(s); i++ {
				if s[i].from < s[i-1].to {
					return fmt.Errorf("rates.tsv: %s %s: periods from %s and %s overlap",
						countries[ci].prefix, Category(c), dayString(s[i-1].from), dayString(s[i].from))
				}
			}
		}
		std := t[ci].cats[Standard]
		if len(std) == 0 {
			return fmt.Errorf("rates.tsv: %s: no standard rate", countries[ci].prefix)
		}
		for i := 1; i < len(std); i++ {
			if std[i].from != std[i-1].to {
				return fmt.Errorf("rates.tsv: %s: gap in the standard rate at %s", countries[ci].prefix, dayString(std[i-1].to))
			}
		}
		if std[len(std)-1].to != openEnd {
			return fmt.Errorf("rates.tsv: %s: no standard rate in force after %s", countries[ci].prefix, dayString(std[len(std)-1].to))
		}
		for l := range t[ci].levels {
			slices.SortStableFunc(t[ci].levels[l], func(a, b period) int { return int(a.from) - int(b.from) })
		}
	}
	table, sourceKeys, sourceTexts = t, keys, texts
	return nil
}

// eachRecord calls fn for every non-empty, non-comment line split on tabs,
// which must have exactly n fields.
func eachRecord(data []byte, n int, fn func(line int, fields []string) error) error {
	sc := bufio.NewScanner(bytes.NewReader(data))
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		if text == "" || text[0] == '#' {
			continue
		}
		f := strings.Split(text, "\t")
		if len(f) != n {
			return fmt.Errorf("line %d: %d fields, want %d", line, len(f), n)
		}
		if err := fn(line, f); err != nil {
			return err
		}
	}
	return sc.Err()
}

// dayNumber counts days from 1970-01-01 for a proleptic Gregorian date,
// without time.Time (and so without allocation or zone lookups).
func dayNumber(y int, m time.Month, d int) int32 {
	// Shift the year to start in March so the leap day is the year's last.
	if m <= time.February {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era--
	}
	yoe := y - era*400
	mp := (int(m) + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int32(era*146097 + doe - 719468)
}

func dayOf(d commerce.Date) int32 { return dayNumber(d.Year, d.Month, d.Day) }

func dateOfDay(n int32) commerce.Date {
	return commerce.DateOf(time.Unix(int64(n)*86400, 0).UTC())
}

func dayString(n int32) string { return dateOfDay(n).String() }

func parseDay(s string) (int32, error) {
	d, err := commerce.ParseDate(s)
	if err != nil {
		return 0, err
	}
	return dayOf(d), nil
}

// find returns the period containing day, or the index where coverage
// failed: -1 before the first period, -2 in a gap or after the last.
func find(s []period, day int32) int {
	lo, hi := 0, len(s)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if s[mid].from <= day {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	switch {
	case lo == 0:
		return -1
	case day < s[lo-1].to:
		return lo - 1
	default:
		return -2
	}
}

// StandardRate returns country's standard VAT rate as a percentage (25 for
// 25 %) at instant on. country is an ISO code or VAT prefix (GR and EL both
// mean Greece; XI is Northern Ireland). The instant is turned into the
// calendar date in the member state's own time zone (see TaxDate), because a
// rate change takes effect at local midnight. It does not allocate.
func StandardRate(country string, on time.Time) (decimal.Decimal, error) {
	return Rate(country, Standard, on)
}

// Rate returns the rate of category c in country at instant on, as a
// percentage. The date rule is StandardRate's. A category the dataset has no
// rate for in that country and on that date is an ErrNoRate error, never the
// standard rate. It does not allocate.
func Rate(country string, c Category, on time.Time) (decimal.Decimal, error) {
	ci, ok := countryIndex(country)
	if !ok {
		return decimal.Decimal{}, unknownCountry("rate", country)
	}
	loc, err := loadLocation(ci)
	if err != nil {
		return decimal.Decimal{}, err
	}
	y, m, d := on.In(loc).Date()
	p, err := lookup(ci, c, dayNumber(y, m, d))
	if err != nil {
		return decimal.Decimal{}, err
	}
	return p.rate, nil
}

// StandardRateOn is StandardRate for a calendar date already in the member
// state's terms, such as an invoice's tax point.
func StandardRateOn(country string, d commerce.Date) (decimal.Decimal, error) {
	return RateOn(country, Standard, d)
}

// RateOn is Rate for a calendar date already in the member state's terms.
func RateOn(country string, c Category, d commerce.Date) (decimal.Decimal, error) {
	ci, ok := countryIndex(country)
	if !ok {
		return decimal.Decimal{}, unknownCountry("rate", country)
	}
	p, err := lookup(ci, c, dayOf(d))
	if err != nil {
		return decimal.Decimal{}, err
	}
	return p.rate, nil
}

// LookupRate returns the whole period that applies on d, with its source,
// for callers that keep evidence of the rate they charged.
func LookupRate(country string, c Category, d commerce.Date) (RatePeriod, error) {
	ci, ok := countryIndex(country)
	if !ok {
		return RatePeriod{}, unknownCountry("rate", country)
	}
	p, err := lookup(ci, c, dayOf(d))
	if err != nil {
		return RatePeriod{}, err
	}
	return ratePeriod(ci, c, *p), nil
}

// RateHistory returns every period the dataset has for c in country, oldest
// first. An empty history is an ErrNoRate error.
func RateHistory(country string, c Category) ([]RatePeriod, error) {
	ci, ok := countryIndex(country)
	if !ok {
		return nil, unknownCountry("rate history", country)
	}
	if c >= numCategories {
		return nil, &Error{Op: "rate history", Country: countries[ci].prefix, Value: c.String(), Err: ErrUnknownCategory}
	}
	s := table[ci].cats[c]
	if len(s) == 0 {
		return nil, &Error{Op: "rate history", Country: countries[ci].prefix, Value: c.String(), Err: ErrNoRate}
	}
	out := make([]RatePeriod, len(s))
	for i, p := range s {
		out[i] = ratePeriod(ci, c, p)
	}
	return out, nil
}

func ratePeriod(ci int, c Category, p period) RatePeriod {
	rp := RatePeriod{
		Country:  countries[ci].prefix,
		Category: c,
		Rate:     p.rate,
		From:     dateOfDay(p.from),
		Source:   Source{Key: sourceKeys[p.source], Citation: sourceTexts[p.source]},
	}
	if p.to != openEnd {
		rp.To = dateOfDay(p.to)
	}
	return rp
}

func lookup(ci int, c Category, day int32) (*period, error) {
	if c >= numCategories {
		return nil, &Error{Op: "rate", Country: countries[ci].prefix, Value: c.String(), Err: ErrUnknownCategory}
	}
	s := table[ci].cats[c]
	switch i := find(s, day); {
	case i >= 0:
		return &s[i], nil
	case len(s) == 0:
		return nil, &Error{Op: "rate", Country: countries[ci].prefix, Value: c.String(), Err: ErrNoRate,
			Detail: "the dataset has no rate for this category in this country"}
	case i == -1:
		return nil, &Error{Op: "rate", Country: countries[ci].prefix, Value: c.String(), Err: ErrBeforeCoverage,
			Detail: fmt.Sprintf("%s is before %s", dayString(day), dayString(s[0].from))}
	default:
		return nil, &Error{Op: "rate", Country: countries[ci].prefix, Value: c.String(), Err: ErrNoRate,
			Detail: fmt.Sprintf("no period covers %s", dayString(day))}
	}
}

// RateLevels is a member state's rate structure on one day: the standard
// rate and the reduced, super-reduced (below 5 %) and parking rates in force,
// each list ascending. Zero rates are not a level here; they show up as
// category rates.
type RateLevels struct {
	Country      string            `json:"country"`
	Date         commerce.Date     `json:"date"`
	Standard     decimal.Decimal   `json:"standard"`
	Reduced      []decimal.Decimal `json:"reduced,omitempty"`
	SuperReduced []decimal.Decimal `json:"super_reduced,omitempty"`
	Parking      []decimal.Decimal `json:"parking,omitempty"`
}

// Levels returns country's rate structure on d.
func Levels(country string, d commerce.Date) (RateLevels, error) {
	ci, ok := countryIndex(country)
	if !ok {
		return RateLevels{}, unknownCountry("rate levels", country)
	}
	day := dayOf(d)
	std, err := lookup(ci, Standard, day)
	if err != nil {
		return RateLevels{}, err
	}
	collect := func(l level) []decimal.Decimal {
		var out []decimal.Decimal
		for _, p := range table[ci].levels[l] {
			if p.from <= day && day < p.to && !slices.ContainsFunc(out, p.rate.Equal) {
				out = append(out, p.rate)
			}
		}
		slices.SortFunc(out, decimal.Decimal.Cmp)
		return out
	}
	return RateLevels{
		Country:      countries[ci].prefix,
		Date:         d,
		Standard:     std.rate,
		Reduced:      collect(levelReduced),
		SuperReduced: collect(levelSuperReduced),
		Parking:      collect(levelParking),
	}, nil
}
