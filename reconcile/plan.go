package reconcile

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/knyt/knyt/commerce"
)

// AccountPlan says which account number the reconciler posts to for each
// purpose. It holds numbers only; the names for an SIE file come from the
// chart of accounts in package reconcile/sie. Every number is configuration:
// DefaultAccountPlan gives the BAS 2026 defaults of the project reference
// (shared/reference/bookkeeping-sie.md §2 and §4), which a merchant adjusts
// to their own chart (1580 instead of 1686 is the common change).
type AccountPlan struct {
	// Bank receives payouts (1930 Företagskonto). BankByCurrency overrides
	// it per payout currency code, e.g. "EUR": "1980" (Valutakonton).
	Bank           string
	BankByCurrency map[string]string
	// Receivable is the PSP clearing account that sales paid through a
	// provider are booked to and payouts clear: 1686 "Fordringar för
	// kontokort och kuponger" in BAS 2026, 1580 in older charts (the
	// reference notes the move as unverified). ProviderReceivables
	// overrides it per provider (a sub-account per provider).
	Receivable          string
	ProviderReceivables map[string]string
	// GiftCardLiability is the liability for sold, unredeemed gift cards;
	// the part of an order paid with a gift card is booked against it
	// rather than a provider receivable. Default 2421 "Ej inlösta
	// presentkort" (a BAS account the project reference does not list;
	// unverified there).
	GiftCardLiability string
	// Holdback is where money a provider holds back (reserves, rolling
	// reserves, dispute holds) is booked until released. Default: the
	// receivable, since it is still a claim on the provider.
	Holdback string
	// Suspense takes what cannot be attributed: transactions without a
	// document, adjustments and unknown provider types. Default: the
	// receivable, so that an unreconciled amount stays visible on the PSP
	// clearing account; every such posting is also listed as unmatched.
	Suspense string
	// Fee accounts a FeeRule chooses from: CardFees 6040
	// Kontokortsavgifter, FactoringFees 6064 Factoringavgifter (Bokio
	// books Klarna fees here), BankFees 6570 Bankkostnader.
	CardFees      string
	FactoringFees string
	BankFees      string
	// InputVAT is deductible VAT a provider charges on its fees (2641
	// Debiterad ingående moms, for Klarna's Swedish VAT).
	InputVAT string
	// ReverseChargeOutputVAT and ReverseChargeInputVAT are the fictitious
	// pair for fees bought from a provider in another member state (2614 /
	// 2645, Stripe).
	ReverseChargeOutputVAT string
	ReverseChargeInputVAT  string
	// ForeignVAT is VAT a foreign provider charged that is not deductible
	// in Sweden (6998 Utländsk moms).
	ForeignVAT string
	// Rounding takes öre differences (3740 Öres- och kronutjämning).
	Rounding string
	// FXGain and FXLoss take exchange differences on receivables (3960 /
	// 7960).
	FXGain string
	FXLoss string

	// DomesticSales and DomesticVAT map a Swedish VAT rate ("25", "12",
	// "6", "0", as decimal strings) to the sales account (3001/3002/3003/
	// 3004) and the output VAT account (2611/2621/2631; none for 0 %).
	DomesticSales map[string]string
	DomesticVAT   map[string]string
	// OSSSales and OSSVAT book OSS distance sales (3106, 2670). Each
	// posting carries the member state ("DE") or member state and rate
	// ("DE 19 %") as its text; OSSSalesByCountry ("DE") and
	// OSSVATByCountryRate ("DE-19") override the account with a
	// sub-account, and OSSDimension, when set, adds the same as an object
	// of that SIE dimension.
	OSSSales            string
	OSSVAT              string
	OSSSalesByCountry   map[string]string
	OSSVATByCountryRate map[string]string
	OSSDimension        int
	// IntraEUSales books exempt B2B goods to another member state under
	// reverse charge (3108); ExportSales goods outside the EU (3105).
	IntraEUSales string
	ExportSales  string

	// ResultUnitDimension is the SIE dimension of the result unit (1,
	// kostnadsställe/resultatenhet). ResultUnits maps a shop (commerce
	// Order.Shop, or a payout's source account) to its object, for
	// multishop books; DefaultResultUnit is used for a shop not in the
	// map ("" = no dimension). Receivables, fees and sales carry it.
	ResultUnitDimension int
	ResultUnits         map[string]string
	DefaultResultUnit   string
}

// DefaultAccountPlan returns the BAS 2026 accounts of the project reference
// (bookkeeping-sie.md §2, §4; vat-oss.md §4.2): 1930, 1686, 2421, 6040,
// 6064, 6570, 2641, 2614/2645, 6998, 3740, 3960/7960, 3001–3004 with
// 2611/2621/2631, 3106/2670, 3108, 3105, result units in dimension 1.
func DefaultAccountPlan() AccountPlan {
	return AccountPlan{
		Bank:                   "1930",
		Receivable:             "1686",
		GiftCardLiability:      "2421",
		Holdback:               "1686",
		Suspense:               "1686",
		CardFees:               "6040",
		FactoringFees:          "6064",
		BankFees:               "6570",
		InputVAT:               "2641",
		ReverseChargeOutputVAT: "2614",
		ReverseChargeInputVAT:  "2645",
		ForeignVAT:             "6998",
		Rounding:               "3740",
		FXGain:                 "3960",
		FXLoss:                 "7960",
		DomesticSales:          map[string]string{"25": "3001", "12": "3002", "6": "3003", "0": "3004"},
		DomesticVAT:            map[string]string{"25": "2611", "12": "2621", "6": "2631"},
		OSSSales:               "3106",
		OSSVAT:                 "2670",
		IntraEUSales:           "3108",
		ExportSales:            "3105",
		ResultUnitDimension:    1,
	}
}

// AccountError is a plan field that is not set or not an account number.
type AccountError struct {
	Field   string // the AccountPlan field, e.g. "FXLoss" or "DomesticSales[25]"
	Account string
	Reason  string
}

func (e *AccountError) Error() string {
	if e.Account == "" {
		return fmt.Sprintf("reconcile: plan: %s: %s", e.Field, e.Reason)
	}
	return fmt.Sprintf("reconcile: plan: %s %q: %s", e.Field, e.Account, e.Reason)
}

// Is makes errors.Is(err, ErrMissingAccount) true.
func (e *AccountError) Is(target error) bool { return target == ErrMissingAccount }

// isAccountNumber accepts what SIE calls an account: digits only. BAS
// numbers have four; sub-accounts in some charts have more.
func isAccountNumber(s string) bool {
	if s == "" || len(s) > 10 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Validate checks that every account the reconciler posts to is set and is
// an account number, and that the maps hold account numbers. It returns
// every problem at once, each an *AccountError (errors.Is
// ErrMissingAccount).
func (p AccountPlan) Validate() error {
	var errs []error
	need := func(field, no string) {
		switch {
		case no == "":
			errs = append(errs, &AccountError{Field: field, Reason: "not set"})
		case !isAccountNumber(no):
			errs = append(errs, &AccountError{Field: field, Account: no, Reason: "not an account number"})
		}
	}
	for _, f := range []struct{ name, no string }{
		{"Bank", p.Bank}, {"Receivable", p.Receivable}, {"GiftCardLiability", p.GiftCardLiability},
		{"Holdback", p.Holdback}, {"Suspense", p.Suspense}, {"CardFees", p.CardFees},
		{"FactoringFees", p.FactoringFees}, {"BankFees", p.BankFees}, {"InputVAT", p.InputVAT},
		{"ReverseChargeOutputVAT", p.ReverseChargeOutputVAT}, {"ReverseChargeInputVAT", p.ReverseChargeInputVAT},
		{"ForeignVAT", p.ForeignVAT}, {"Rounding", p.Rounding}, {"FXGain", p.FXGain}, {"FXLoss", p.FXLoss},
		{"OSSSales", p.OSSSales}, {"OSSVAT", p.OSSVAT}, {"IntraEUSales", p.IntraEUSales}, {"ExportSales", p.ExportSales},
	} {
		need(f.name, f.no)
	}
	for _, m := range []struct {
		name string
		m    map[string]string
	}{
		{"BankByCurrency", p.BankByCurrency}, {"ProviderReceivables", p.ProviderReceivables},
		{"DomesticSales", p.DomesticSales}, {"DomesticVAT", p.DomesticVAT},
		{"OSSSalesByCountry", p.OSSSalesByCountry}, {"OSSVATByCountryRate", p.OSSVATByCountryRate},
	} {
		for _, k := range sortedKeys(m.m) {
			need(m.name+"["+k+"]", m.m[k])
		}
	}
	for _, k := range sortedKeys(p.DomesticSales) {
		if _, err := decimal.NewFromString(k); err != nil {
			errs = append(errs, &AccountError{Field: "DomesticSales[" + k + "]", Reason: "key is not a VAT rate"})
		}
	}
	if len(p.DomesticSales) == 0 {
		errs = append(errs, &AccountError{Field: "DomesticSales", Reason: "no sales accounts"})
	}
	if (len(p.ResultUnits) > 0 || p.DefaultResultUnit != "") && p.ResultUnitDimension <= 0 {
		errs = append(errs, &AccountError{Field: "ResultUnitDimension", Reason: "result units need a positive dimension number"})
	}
	if p.OSSDimension < 0 {
		errs = append(errs, &AccountError{Field: "OSSDimension", Reason: "negative dimension number"})
	}
	return errors.Join(errs...)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// receivable is the clearing account of a provider.
func (p *AccountPlan) receivable(provider string) string {
	if a := p.ProviderReceivables[provider]; a != "" {
		return a
	}
	return p.Receivable
}

// bank is the bank account for a payout currency.
func (p *AccountPlan) bank(c commerce.Currency) string {
	if a := p.BankByCurrency[c.Code()]; a != "" {
		return a
	}
	return p.Bank
}

// feeAccount resolves a FeeRule's account choice.
func (p *AccountPlan) feeAccount(a FeeAccount) (string, error) {
	var no string
	switch a {
	case CardFees:
		no = p.CardFees
	case FactoringFees:
		no = p.FactoringFees
	case BankFees:
		no = p.BankFees
	default:
		if isAccountNumber(string(a)) {
			return string(a), nil
		}
		return "", &AccountError{Field: "FeeRule.Account", Account: string(a), Reason: "neither a fee account of the plan nor an account number"}
	}
	if !isAccountNumber(no) {
		return "", &AccountError{Field: string(a), Account: no, Reason: "not set"}
	}
	return no, nil
}

// resultUnit returns the dimension list for a shop, shared between postings
// (never modified after creation).
func (p *AccountPlan) resultUnit(shop string) []commerce.Dimension {
	obj := p.ResultUnits[shop]
	if obj == "" {
		obj = p.DefaultResultUnit
	}
	if obj == "" || p.ResultUnitDimension <= 0 {
		return nil
	}
	return []commerce.Dimension{{Dim: p.ResultUnitDimension, Object: obj}}
}

// rateKey is the map key of a VAT rate: its shortest decimal form.
func rateKey(r decimal.Decimal) string { return r.String() }

// ossVATKey is the OSSVATByCountryRate key: "DE-19".
func ossVATKey(country string, rate decimal.Decimal) string {
	return strings.ToUpper(country) + "-" + rateKey(rate)
}
