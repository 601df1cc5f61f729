package reconcile

import (
	"fmt"

	"github.com/shopspring/decimal"
)

// VATTreatment is how VAT applies to a provider's fees.
type VATTreatment string

// VAT treatments of fees (reference bookkeeping-sie.md §3, §7.2).
const (
	// VATCharged: the provider charges domestic VAT on its fees, which is
	// deductible input VAT (Klarna, 25 %). The VAT is the provider's
	// figure (Transaction.FeeVAT, Klarna's vat_amount) when it gives one;
	// when it gives none, the fee it deducted is taken as including VAT
	// and split at the rule's rate with vat.FromGross.
	VATCharged VATTreatment = "charged"
	// ReverseCharge: the provider, established in another member state,
	// charges no VAT; the buyer accounts for it (Stripe Payments Europe,
	// Ireland). The reconciler books the fictitious pair — input VAT
	// (2645) and output VAT (2614) at the rule's rate on the fees of the
	// voucher — which nets to zero.
	ReverseCharge VATTreatment = "reverse_charge"
	// Exempt: the fee is a VAT-exempt financial service (PayPal, as the
	// reference treats it; unverified there).
	Exempt VATTreatment = "exempt"
)

// FeeAccount chooses the account a fee is booked to: one of the plan's fee
// accounts, or an account number given directly ("6050").
type FeeAccount string

// The plan's fee accounts.
const (
	CardFees      FeeAccount = "CardFees"      // AccountPlan.CardFees, 6040
	FactoringFees FeeAccount = "FactoringFees" // AccountPlan.FactoringFees, 6064
	BankFees      FeeAccount = "BankFees"      // AccountPlan.BankFees, 6570
)

// FeeRule is the booking of one kind of fee.
type FeeRule struct {
	Treatment VATTreatment
	// RatePercent is the VAT rate (25 means 25 %): the reverse-charge rate,
	// or the rate of VATCharged when the provider gives no VAT figure (a
	// rate on the transaction, Klarna's vat_rate, takes precedence).
	RatePercent decimal.Decimal
	Account     FeeAccount
}

// FeePolicy is a provider's fee rules: Default, and ByType for the
// transactions whose ProviderType (the provider's own type, verbatim, e.g.
// Klarna "FEE", Stripe "fee", PayPal "T0106") needs another rule.
type FeePolicy struct {
	Default FeeRule
	ByType  map[string]FeeRule
}

// rule returns the rule for a provider type.
func (p *FeePolicy) rule(providerType string) FeeRule {
	if r, ok := p.ByType[providerType]; ok {
		return r
	}
	return p.Default
}

// FeePolicies holds the fee policy of each provider, keyed by
// commerce.Payout.Provider ("klarna", "stripe", "paypal",
// "shopify_payments").
type FeePolicies map[string]FeePolicy

// DefaultFeePolicies returns the policies of the project reference
// (bookkeeping-sie.md §3):
//
//   - klarna: VAT charged at 25 % (Klarna Bank AB, Stockholm), fees to
//     6064 as in the reference's worked voucher;
//   - stripe: reverse charge at 25 % (Stripe Payments Europe, Ireland),
//     fees to 6040;
//   - paypal: exempt financial service, fees to 6570 (the reference marks
//     PayPal's treatment unverified);
//   - shopify_payments: reverse charge at 25 %, fees to 6040 (the reference
//     treats Shopify Payments like Stripe; unverified).
//
// Some bookkeepers treat card processing as exempt; change the policy then.
func DefaultFeePolicies() FeePolicies {
	twentyFive := decimal.NewFromInt(25)
	return FeePolicies{
		"klarna":           {Default: FeeRule{Treatment: VATCharged, RatePercent: twentyFive, Account: FactoringFees}},
		"stripe":           {Default: FeeRule{Treatment: ReverseCharge, RatePercent: twentyFive, Account: CardFees}},
		"paypal":           {Default: FeeRule{Treatment: Exempt, Account: BankFees}},
		"shopify_payments": {Default: FeeRule{Treatment: ReverseCharge, RatePercent: twentyFive, Account: CardFees}},
	}
}

// validate checks a rule's treatment, rate and account against the plan.
func (r FeeRule) validate(plan *AccountPlan) error {
	switch r.Treatment {
	case VATCharged, ReverseCharge:
		if r.RatePercent.IsNegative() || r.RatePercent.GreaterThan(decimal.NewFromInt(100)) {
			return fmt.Errorf("rate %s%% out of range", r.RatePercent)
		}
		if r.Treatment == ReverseCharge && !r.RatePercent.IsPositive() {
			return fmt.Errorf("reverse charge needs a positive rate")
		}
	case Exempt:
	default:
		return fmt.Errorf("unknown VAT treatment %q", r.Treatment)
	}
	_, err := plan.feeAccount(r.Account)
	return err
}

// validate checks every rule of every provider.
func (ps FeePolicies) validate(plan *AccountPlan) error {
	for _, prov := range sortedKeys(ps) {
		p := ps[prov]
		if err := p.Default.validate(plan); err != nil {
			return errorf("fee policy", prov, err, "default rule")
		}
		for _, t := range sortedKeys(p.ByType) {
			if err := p.ByType[t].validate(plan); err != nil {
				return errorf("fee policy", prov, err, "rule for "+t)
			}
		}
	}
	return nil
}
