package vat

import (
	"sync"
	"time"

	// The rate lookups need every member state's time zone; embedding the
	// zone database keeps them working on machines without /usr/share/zoneinfo
	// (scratch containers, Windows).
	_ "time/tzdata"

	"github.com/knyt/knyt/commerce"
)

// countryInfo describes one jurisdiction of the dataset.
type countryInfo struct {
	prefix string // VAT prefix: EL for Greece, XI for Northern Ireland
	iso    string // ISO 3166-1 alpha-2; XI for Northern Ireland (ISO has none)
	name   string
	zone   string // IANA zone whose calendar date decides which rate applies
	eu     bool   // EU member state (XI is not; it follows EU VAT rules for goods only)
}

// countries is indexed by the internal country index, in VAT-prefix order.
var countries = [...]countryInfo{
	{"AT", "AT", "Austria", "Europe/Vienna", true},
	{"BE", "BE", "Belgium", "Europe/Brussels", true},
	{"BG", "BG", "Bulgaria", "Europe/Sofia", true},
	{"CY", "CY", "Cyprus", "Asia/Nicosia", true},
	{"CZ", "CZ", "Czechia", "Europe/Prague", true},
	{"DE", "DE", "Germany", "Europe/Berlin", true},
	{"DK", "DK", "Denmark", "Europe/Copenhagen", true},
	{"EE", "EE", "Estonia", "Europe/Tallinn", true},
	{"EL", "GR", "Greece", "Europe/Athens", true},
	{"ES", "ES", "Spain", "Europe/Madrid", true},
	{"FI", "FI", "Finland", "Europe/Helsinki", true},
	{"FR", "FR", "France", "Europe/Paris", true},
	{"HR", "HR", "Croatia", "Europe/Zagreb", true},
	{"HU", "HU", "Hungary", "Europe/Budapest", true},
	{"IE", "IE", "Ireland", "Europe/Dublin", true},
	{"IT", "IT", "Italy", "Europe/Rome", true},
	{"LT", "LT", "Lithuania", "Europe/Vilnius", true},
	{"LU", "LU", "Luxembourg", "Europe/Luxembourg", true},
	{"LV", "LV", "Latvia", "Europe/Riga", true},
	{"MT", "MT", "Malta", "Europe/Malta", true},
	{"NL", "NL", "Netherlands", "Europe/Amsterdam", true},
	{"PL", "PL", "Poland", "Europe/Warsaw", true},
	{"PT", "PT", "Portugal", "Europe/Lisbon", true},
	{"RO", "RO", "Romania", "Europe/Bucharest", true},
	{"SE", "SE", "Sweden", "Europe/Stockholm", true},
	{"SI", "SI", "Slovenia", "Europe/Ljubljana", true},
	{"SK", "SK", "Slovakia", "Europe/Bratislava", true},
	{"XI", "XI", "Northern Ireland", "Europe/London", false},
}

const numCountries = len(countries)

// countryByCode maps two upper-case letters (index (a-'A')*26+(b-'A')) to
// country index + 1; zero means unknown. Both GR and EL map to Greece.
var countryByCode = func() (t [26 * 26]uint8) {
	for i, c := range countries {
		t[codeSlot(c.prefix[0], c.prefix[1])] = uint8(i + 1)
		t[codeSlot(c.iso[0], c.iso[1])] = uint8(i + 1)
	}
	return t
}()

func codeSlot(a, b byte) int { return int(a-'A')*26 + int(b-'A') }

func upper(b byte) byte {
	if 'a' <= b && b <= 'z' {
		return b - 'a' + 'A'
	}
	return b
}

// countryIndex resolves an ISO code or VAT prefix, either case, without
// allocating.
func countryIndex(code string) (int, bool) {
	if len(code) != 2 {
		return 0, false
	}
	a, b := upper(code[0]), upper(code[1])
	if a < 'A' || a > 'Z' || b < 'A' || b > 'Z' {
		return 0, false
	}
	i := countryByCode[codeSlot(a, b)]
	return int(i) - 1, i != 0
}

// locations loads each zone once, on first use.
var locations = func() (l [numCountries]func() (*time.Location, error)) {
	for i := range countries {
		zone := countries[i].zone
		l[i] = sync.OnceValues(func() (*time.Location, error) { return time.LoadLocation(zone) })
	}
	return l
}()

// Countries returns the VAT prefixes of the dataset: the 27 member states
// (Greece as EL) and XI, sorted.
func Countries() []string {
	out := make([]string, numCountries)
	for i, c := range countries {
		out[i] = c.prefix
	}
	return out
}

// VATPrefix returns the prefix a country uses in VAT numbers, VIES and the
// OSS return: "GR" and "EL" give "EL", "XI" gives "XI".
func VATPrefix(country string) (string, error) {
	i, ok := countryIndex(country)
	if !ok {
		return "", unknownCountry("prefix", country)
	}
	return countries[i].prefix, nil
}

// ISOCode returns the ISO 3166-1 alpha-2 code of a country given as ISO
// code or VAT prefix: "EL" gives "GR". Northern Ireland stays "XI", which
// ISO does not assign.
func ISOCode(country string) (string, error) {
	i, ok := countryIndex(country)
	if !ok {
		return "", unknownCountry("iso code", country)
	}
	return countries[i].iso, nil
}

// IsMemberState reports whether country (ISO code or VAT prefix, any case)
// is one of the 27 EU member states. XI is not: Northern Ireland follows the
// EU VAT rules for goods only.
func IsMemberState(country string) bool {
	i, ok := countryIndex(country)
	return ok && countries[i].eu
}

// Location returns the time zone whose calendar decides which rate applies
// in country: a rate change takes effect at 00:00 local time there.
func Location(country string) (*time.Location, error) {
	i, ok := countryIndex(country)
	if !ok {
		return nil, unknownCountry("location", country)
	}
	return loadLocation(i)
}

func loadLocation(i int) (*time.Location, error) {
	loc, err := locations[i]()
	if err != nil {
		return nil, &Error{Op: "location", Country: countries[i].prefix, Err: err}
	}
	return loc, nil
}

// TaxDate converts an instant to the calendar date in country's own time
// zone — the date the rate tables are keyed by. 2024-08-31T22:30:00Z is
// already 2024-09-01 in Helsinki, so a Finnish sale at that instant takes
// the 25.5 % rate that began that day.
func TaxDate(country string, t time.Time) (commerce.Date, error) {
	i, ok := countryIndex(country)
	if !ok {
		return commerce.Date{}, unknownCountry("tax date", country)
	}
	loc, err := loadLocation(i)
	if err != nil {
		return commerce.Date{}, err
	}
	return commerce.DateOf(t.In(loc)), nil
}
