package sie

import (
	"slices"
	"strings"

	"github.com/knyt/knyt/commerce"
)

// AccountType is the SIE #KTYP of an account: T (tillgång, asset),
// S (skuld, liability or equity), K (kostnad, cost) or I (intäkt, income).
// The zero value means the file did not say.
type AccountType string

// The account types of #KTYP.
const (
	Asset     AccountType = "T"
	Liability AccountType = "S"
	Cost      AccountType = "K"
	Income    AccountType = "I"
)

func (t AccountType) valid() bool {
	switch t {
	case Asset, Liability, Cost, Income:
		return true
	}
	return false
}

// Account is one account of a chart: its name (#KONTO) and, when a file
// gives them, its type (#KTYP) and SRU code (#SRU, the tax-return mapping).
type Account struct {
	Name string
	Type AccountType
	SRU  string
}

// AccountPlan is a chart of accounts keyed by account number ("1930").
// It is a plain map so callers can add or override entries directly:
//
//	plan := sie.BAS2026()
//	plan["1580"] = sie.Account{Name: "Fordringar för kontokort och kuponger"}
//
// The writer takes the #KONTO names of the accounts it uses from the plan;
// Read returns the plan of the file it reads, so a merchant's own chart can
// be loaded from an SIE export of their bookkeeping.
type AccountPlan map[string]Account

// Name returns the name of account no and whether the plan has it.
func (p AccountPlan) Name(no string) (string, bool) {
	a, ok := p[no]
	return a.Name, ok
}

// Numbers returns the plan's account numbers in numeric order.
func (p AccountPlan) Numbers() []string {
	out := make([]string, 0, len(p))
	for no := range p {
		out = append(out, no)
	}
	slices.SortFunc(out, compareCodes)
	return out
}

// BAS2026 returns a new plan with the BAS 2026 accounts an e-merchant's
// reconciliation uses, with the names listed in the project reference
// (shared/reference/bookkeeping-sie.md §2, "BAS accounts (BAS 2026)", taken
// from a copy of BAS_kontoplan_2026_v2 and bas.se; the reference asks for the
// names to be verified against bas.se "Jämför kontoplaner").
//
// 1580 is included although BAS 2026 appears to have moved "Fordringar för
// kontokort och kuponger" to 1686 (reference §1 item 2, unverified): most
// Swedish guides and charts still clear card and PSP payments on 1580, and a
// plan that lacks it would make such a configuration fail. Accounts the
// reference gives no name for (2440, the 8xxx financial accounts) are not
// included; add them from the merchant's own chart.
func BAS2026() AccountPlan {
	return AccountPlan{
		"1510": {Name: "Kundfordringar"},
		"1511": {Name: "Kundfordringar"},
		"1580": {Name: "Fordringar för kontokort och kuponger"},
		"1686": {Name: "Fordringar för kontokort och kuponger"},
		"1930": {Name: "Företagskonto"},
		"1980": {Name: "Valutakonton"},
		// 2421 is not in the reference; reconcile books unredeemed gift
		// cards there by default. Name as in the BAS chart (unverified).
		"2421": {Name: "Ej inlösta presentkort"},
		"2610": {Name: "Utgående moms, 25 %"},
		"2611": {Name: "Utgående moms på försäljning inom Sverige, 25 %"},
		"2614": {Name: "Utgående moms omvänd betalningsskyldighet, 25 %"},
		"2615": {Name: "Utgående moms import av varor, 25 %"},
		"2620": {Name: "Utgående moms, 12 %"},
		"2621": {Name: "Utgående moms på försäljning inom Sverige, 12 %"},
		"2630": {Name: "Utgående moms, 6 %"},
		"2631": {Name: "Utgående moms på försäljning inom Sverige, 6 %"},
		"2640": {Name: "Ingående moms"},
		"2641": {Name: "Debiterad ingående moms"},
		"2645": {Name: "Beräknad ingående moms på förvärv från utlandet"},
		"2650": {Name: "Redovisningskonto för moms"},
		"2670": {Name: "Utgående moms på försäljning inom EU, OSS"},
		"3001": {Name: "Försäljning inom Sverige, 25 % moms"},
		"3002": {Name: "Försäljning inom Sverige, 12 % moms"},
		"3003": {Name: "Försäljning inom Sverige, 6 % moms"},
		"3004": {Name: "Försäljning inom Sverige, momsfri"},
		"3105": {Name: "Försäljning varor till land utanför EU"},
		"3106": {Name: "Försäljning varor till annat EU-land, momspliktig"},
		"3108": {Name: "Försäljning varor till annat EU-land, momsfri"},
		"3305": {Name: "Försäljning tjänster till land utanför EU"},
		"3308": {Name: "Försäljning tjänster till annat EU-land"},
		"3520": {Name: "Fakturerade frakter"},
		"3521": {Name: "Fakturerade frakter, EU-land"},
		"3522": {Name: "Fakturerade frakter, export"},
		"3730": {Name: "Lämnade rabatter"},
		"3740": {Name: "Öres- och kronutjämning"},
		"3960": {Name: "Valutakursvinster på fordringar och skulder av rörelsekaraktär"},
		"4535": {Name: "Inköp av tjänster från annat EU-land, 25 %"},
		"6040": {Name: "Kontokortsavgifter"},
		"6050": {Name: "Försäljningsprovisioner"},
		"6064": {Name: "Factoringavgifter"},
		"6570": {Name: "Bankkostnader"},
		"6998": {Name: "Utländsk moms"},
		"7960": {Name: "Valutakursförluster på fordringar och skulder av rörelsekaraktär"},
	}
}

// Dimension is an SIE dimension (#DIM, or #UNDERDIM when Parent is set):
// dimension 1 is the cost centre / result unit, 6 the project.
type Dimension struct {
	Number int
	Name   string
	Parent int // the superior dimension of an #UNDERDIM, else 0
}

// Object is an object of a dimension (#OBJEKT), such as result unit "WEB2"
// of dimension 1.
type Object struct {
	Dim  int
	ID   string
	Name string
}

// FiscalYear is an #RAR record: Index 0 is the current year, -1 the one
// before.
type FiscalYear struct {
	Index      int
	Start, End commerce.Date
}

// reservedDimensions are the dimensions SIE 4B defines, with the names the
// writer uses when the caller gives none (1: "kostnadsställe/resultatenhet";
// Swedish e-commerce charts call it Resultatenhet). 3–5 and 11–19 are
// reserved without a meaning, so they get no default name.
var reservedDimensions = map[int]string{
	1:  "Resultatenhet",
	2:  "Kostnadsbärare",
	6:  "Projekt",
	7:  "Anställd",
	8:  "Kund",
	9:  "Leverantör",
	10: "Faktura",
}

// compareCodes orders account numbers and object codes: all-digit codes
// numerically (so 3010 < 32400), then anything else byte-wise.
func compareCodes(a, b string) int {
	da, db := isDigits(a), isDigits(b)
	switch {
	case da && db:
		ta, tb := strings.TrimLeft(a, "0"), strings.TrimLeft(b, "0")
		if len(ta) != len(tb) {
			return len(ta) - len(tb)
		}
		if c := strings.Compare(ta, tb); c != 0 {
			return c
		}
		return strings.Compare(a, b) // "01" vs "1": keep a total order
	case da:
		return -1
	case db:
		return 1
	}
	return strings.Compare(a, b)
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
