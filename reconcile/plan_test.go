package reconcile

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"
)

func TestDefaultAccountPlan(t *testing.T) {
	p := DefaultAccountPlan()
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	// The reference's BAS 2026 defaults (bookkeeping-sie.md §2, §4).
	got := map[string]string{
		"bank": p.Bank, "receivable": p.Receivable, "card fees": p.CardFees, "factoring fees": p.FactoringFees,
		"bank fees": p.BankFees, "input VAT": p.InputVAT, "RC out": p.ReverseChargeOutputVAT, "RC in": p.ReverseChargeInputVAT,
		"rounding": p.Rounding, "FX gain": p.FXGain, "FX loss": p.FXLoss, "OSS sales": p.OSSSales, "OSS VAT": p.OSSVAT,
		"sales 25": p.DomesticSales["25"], "VAT 25": p.DomesticVAT["25"],
	}
	want := map[string]string{
		"bank": "1930", "receivable": "1686", "card fees": "6040", "factoring fees": "6064", "bank fees": "6570",
		"input VAT": "2641", "RC out": "2614", "RC in": "2645", "rounding": "3740", "FX gain": "3960", "FX loss": "7960",
		"OSS sales": "3106", "OSS VAT": "2670", "sales 25": "3001", "VAT 25": "2611",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestAccountPlanValidate(t *testing.T) {
	p := DefaultAccountPlan()
	p.FXLoss = ""
	p.Rounding = "37-40"
	p.DomesticVAT = map[string]string{"25": "x"}
	p.ResultUnits = map[string]string{"shop": "WEB1"}
	p.ResultUnitDimension = 0
	err := p.Validate()
	if !errors.Is(err, ErrMissingAccount) {
		t.Fatalf("got %v", err)
	}
	var fields []string
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var ae *AccountError
		if errors.As(e, &ae) {
			fields = append(fields, ae.Field)
		}
	}
	want := []string{"Rounding", "FXLoss", "DomesticVAT[25]", "ResultUnitDimension"}
	if diff := cmp.Diff(want, fields); diff != "" {
		t.Errorf("fields (-want +got):\n%s", diff)
	}
	if _, err := New(WithAccountPlan(p)); !errors.Is(err, ErrMissingAccount) {
		t.Errorf("New with a broken plan: %v", err)
	}
}

func TestFeePolicyValidation(t *testing.T) {
	for _, tc := range []struct {
		name string
		rule FeeRule
	}{
		{"unknown treatment", FeeRule{Treatment: "zero", Account: CardFees}},
		{"reverse charge without a rate", FeeRule{Treatment: ReverseCharge, Account: CardFees}},
		{"rate above 100", FeeRule{Treatment: VATCharged, RatePercent: decimal.NewFromInt(125), Account: CardFees}},
		{"account not in the plan nor a number", FeeRule{Treatment: Exempt, Account: "Fees"}},
	} {
		if _, err := New(WithFeePolicy("acme", FeePolicy{Default: tc.rule})); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
	if _, err := New(WithFeePolicy("acme", FeePolicy{Default: FeeRule{Treatment: Exempt, Account: "6050"},
		ByType: map[string]FeeRule{"commission": {Treatment: VATCharged, RatePercent: decimal.NewFromInt(25), Account: CardFees}}})); err != nil {
		t.Errorf("a valid policy: %v", err)
	}
	p := DefaultAccountPlan()
	p.BankFees = ""
	if _, err := New(WithAccountPlan(p)); !errors.Is(err, ErrMissingAccount) {
		t.Errorf("PayPal's fee account missing: %v", err)
	}
	if _, err := New(WithTolerance(Tolerance{Days: -1})); !errors.Is(err, ErrInvalidInput) {
		t.Errorf("negative window: %v", err)
	}
}
