package commerce

import (
	"net/mail"
	"strings"
)

// CustomerType tells consumers from businesses: it decides VAT treatment
// (reverse charge) and how the ERP matches the customer.
type CustomerType string

// Customer types.
const (
	Consumer CustomerType = "consumer"
	Business CustomerType = "business"
)

// Customer is a buyer. OrgNumber is the national organisation or personal
// identity number the Swedish ERPs match on; VATNumber the EU VAT number of a
// business buyer, as given (the vat package normalises and validates it).
type Customer struct {
	Origin
	Type      CustomerType `json:"type,omitempty"`
	Email     string       `json:"email,omitempty"`
	Phone     string       `json:"phone,omitempty"`
	FirstName string       `json:"first_name,omitempty"`
	LastName  string       `json:"last_name,omitempty"`
	Company   string       `json:"company,omitempty"`
	OrgNumber string       `json:"org_number,omitempty"`
	VATNumber string       `json:"vat_number,omitempty"`
	Address   *Address     `json:"address,omitempty"`
	Locale    string       `json:"locale,omitempty"`
}

// Name is the display name: company, else first and last name.
func (c Customer) Name() string {
	if c.Company != "" {
		return c.Company
	}
	return strings.TrimSpace(c.FirstName + " " + c.LastName)
}

// Validate checks the e-mail syntax when one is given and the address; a
// missing e-mail is allowed here because guest and POS orders have none — a
// flow that needs one says so itself.
func (c Customer) Validate() error {
	var v validator
	if c.Email != "" {
		if a, err := mail.ParseAddress(c.Email); err != nil || a.Address != c.Email {
			v.add("email", c.Email, "not an e-mail address")
		}
	}
	switch c.Type {
	case "", Consumer, Business:
	default:
		v.add("type", string(c.Type), "not consumer or business")
	}
	if c.Address != nil {
		v.nest("address", c.Address.Validate())
	}
	return v.err()
}

// Address is a postal address; Country is ISO 3166-1 alpha-2.
type Address struct {
	FirstName  string `json:"first_name,omitempty"`
	LastName   string `json:"last_name,omitempty"`
	Company    string `json:"company,omitempty"`
	Line1      string `json:"line1,omitempty"`
	Line2      string `json:"line2,omitempty"`
	PostalCode string `json:"postal_code,omitempty"`
	City       string `json:"city,omitempty"`
	Region     string `json:"region,omitempty"`
	Country    string `json:"country"`
	Phone      string `json:"phone,omitempty"`
	Email      string `json:"email,omitempty"`
}

// Validate requires a known ISO 3166-1 alpha-2 country.
func (a Address) Validate() error {
	var v validator
	switch {
	case a.Country == "":
		v.add("country", "", "missing")
	case !IsCountry(a.Country):
		v.add("country", a.Country, "not an ISO 3166-1 alpha-2 code")
	}
	return v.err()
}
