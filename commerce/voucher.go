package commerce

import (
	"fmt"
)

// Voucher is a balanced journal entry: the unit reconcile produces and SIE
// exports. ID is stable for the business event it books, so booking the same
// event twice can be recognised. Postings are debit positive, credit
// negative, and sum to exactly zero.
type Voucher struct {
	ID       string    `json:"id"`
	Series   string    `json:"series,omitempty"`
	Number   int       `json:"number,omitempty"`
	Date     Date      `json:"date"`
	Text     string    `json:"text"`
	Postings []Posting `json:"postings"`
	// Sources are the ids of what was booked (payout, transactions), for
	// audit and idempotency.
	Sources []string `json:"sources,omitempty"`
}

// Posting is one row of a voucher: an account, a signed amount (debit
// positive) and optional dimensions such as a result unit.
type Posting struct {
	Account    string      `json:"account"`
	Amount     Money       `json:"amount"`
	Dimensions []Dimension `json:"dimensions,omitempty"`
	Text       string      `json:"text,omitempty"`
	// Quantity is optional and carried into SIE #TRANS when set.
	Quantity string `json:"quantity,omitempty"`
}

// Dimension is an accounting dimension and its object, e.g. dimension 1
// (cost centre / result unit) object "WEB2". Numbers follow SIE (#DIM).
type Dimension struct {
	Dim    int    `json:"dim"`
	Object string `json:"object"`
}

// UnbalancedError is a voucher whose postings do not sum to zero.
type UnbalancedError struct {
	Voucher string
	Sum     Money
}

func (e *UnbalancedError) Error() string {
	return fmt.Sprintf("commerce: voucher %s does not balance: postings sum to %s", e.Voucher, e.Sum)
}

// Is makes errors.Is(err, ErrInvalid) true.
func (e *UnbalancedError) Is(target error) bool { return target == ErrInvalid }

// Balance is the sum of the postings; zero for a balanced voucher.
func (vo *Voucher) Balance() (Money, error) {
	if len(vo.Postings) == 0 {
		return Money{}, &FieldError{Field: "postings", Reason: "none"}
	}
	sum := Zero(vo.Postings[0].Amount.Currency)
	for i, p := range vo.Postings {
		var err error
		if sum, err = sum.Add(p.Amount); err != nil {
			return Money{}, fmt.Errorf("commerce: voucher %s: postings[%d]: %w", vo.ID, i, err)
		}
	}
	return sum, nil
}

// exact reports whether the posting has a currency and an amount whole in minor units.
func (p Posting) exact() bool { return !p.Amount.Currency.IsZero() && p.Amount.IsExact() }

func dimsOK(ds []Dimension) bool {
	for _, d := range ds {
		if d.Dim <= 0 || d.Object == "" {
			return false
		}
	}
	return true
}

// Validate requires a date, accounts, exact amounts in one currency and a
// zero balance.
func (vo *Voucher) Validate() error {
	var v validator
	if vo.ID == "" {
		v.add("id", "", "missing")
	}
	if !vo.Date.Valid() {
		v.add("date", vo.Date.String(), "not a calendar date")
	}
	if len(vo.Postings) == 0 {
		v.add("postings", "", "none")
		return v.err()
	}
	c := vo.Postings[0].Amount.Currency
	for i, p := range vo.Postings {
		// Field paths are formatted only for a posting at fault: vouchers
		// are validated by the hundred thousand when exporting.
		if p.Account != "" && p.Amount.Currency == c && p.exact() && dimsOK(p.Dimensions) {
			continue
		}
		f := fmt.Sprintf("postings[%d]", i)
		if p.Account == "" {
			v.add(f+".account", "", "missing")
		}
		checkMoney(&v, f+".amount", p.Amount, c, true)
		for j, d := range p.Dimensions {
			if d.Dim <= 0 || d.Object == "" {
				v.add(fmt.Sprintf("%s.dimensions[%d]", f, j), fmt.Sprintf("%d/%s", d.Dim, d.Object), "needs a positive dimension number and an object")
			}
		}
	}
	if len(v.errs) > 0 {
		return v.err()
	}
	sum, err := vo.Balance()
	if err != nil {
		return err
	}
	if !sum.IsZero() {
		return &UnbalancedError{Voucher: vo.ID, Sum: sum}
	}
	return nil
}
