package specter

import (
	"context"
	"fmt"
	"strings"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/connector"
)

// UpsertCustomer creates or updates a customer (newCustomerSubmit with
// forceCustomerUpdate=1). Specter matches an existing customer first by
// e-mail, then by organisation or personal number, as WithCustomerMatching
// configures. The customer's address is used as invoice and delivery
// address. Specter's reply does not say whether the customer was created,
// so Created is always false. Ref.ID is Specter's customerId.
func (c *Connector) UpsertCustomer(ctx context.Context, cust commerce.Customer, opts ...connector.CallOption) (connector.UpsertResult, error) {
	o := connector.ApplyCallOptions(opts)
	res := connector.UpsertResult{Key: customerKey(cust)}
	if err := cust.Validate(); err != nil {
		return res, invalid("UpsertCustomer", err)
	}
	id, err := c.submitCustomer(ctx, "UpsertCustomer", cust, cust.Address, cust.Address, c.cfg.baseCurrency, o.DryRun)
	if err != nil {
		return res, err
	}
	res.Ref = c.ref(id)
	return res, nil
}

// customerKey is the business key a customer is matched on.
func customerKey(cust commerce.Customer) string {
	switch {
	case cust.Email != "":
		return cust.Email
	case cust.OrgNumber != "":
		return cust.OrgNumber
	}
	return cust.Name()
}

// language maps a locale ("sv-SE", "en") to Specter's language code.
func (c *Connector) language(locale string) string {
	l := strings.ToLower(locale)
	if i := strings.IndexAny(l, "-_"); i >= 0 {
		l = l[:i]
	}
	if code, ok := languages[l]; ok {
		return code
	}
	return c.cfg.language
}

func isBusiness(cust commerce.Customer) bool {
	return cust.Type == commerce.Business || cust.Type == "" && cust.Company != ""
}

// customerForm maps a customer with its invoice and delivery addresses.
func (c *Connector) customerForm(cust commerce.Customer, billing, shipping *commerce.Address, cur commerce.Currency) (*Form, error) {
	f := c.client.NewForm()
	person := strings.TrimSpace(cust.FirstName + " " + cust.LastName)
	name := person
	if isBusiness(cust) {
		name = cust.Company
		if name == "" {
			name = person
		}
		f.Set("customerOrganizationalForm", "C")
		f.TextNonEmpty("attention", person)
		f.TextNonEmpty("contactPerson", person)
	} else {
		f.Set("customerOrganizationalForm", "P")
		f.TextNonEmpty("firstName", cust.FirstName)
		f.TextNonEmpty("surName", cust.LastName)
		f.TextNonEmpty("contactPerson", person)
	}
	if name == "" {
		name = cust.Email
	}
	if name == "" {
		return nil, fmt.Errorf("%w: the customer has no name, company or e-mail", commerce.ErrInvalid)
	}
	// The signature covers the name exactly as sent: identifiers are never
	// altered, and a name the charset cannot hold is altered by the text
	// rule before signing, never after.
	f.Text("name", name)
	f.SetNonEmpty("orgNo", cust.OrgNumber)
	f.SetNonEmpty("vatNo", cust.VATNumber)
	f.SetNonEmpty("emailAddress", cust.Email)
	f.SetNonEmpty("phoneNo", cust.Phone)
	f.Set("currency", cur.Code())
	f.Set("language", c.language(cust.Locale))
	f.SetNonEmpty("customerGroupId", c.cfg.customerGroup)
	if c.cfg.matching.Update {
		f.Set("forceCustomerUpdate", "1")
	}
	if !c.cfg.matching.ByEmail {
		f.Set("ignoreControlEmail", "1")
	}
	if !c.cfg.matching.ByOrgNo {
		f.Set("ignoreControlOrgNo", "1")
	}
	if billing != nil {
		if billing.Company != "" {
			f.Text("invoiceCompanyName", billing.Company)
		}
		f.TextNonEmpty("address", billing.Line1)
		f.TextNonEmpty("addressRow2", billing.Line2)
		f.TextNonEmpty("zipCodeEng", billing.PostalCode)
		f.TextNonEmpty("city", billing.City)
		f.SetNonEmpty("countryCode", billing.Country)
		f.TextNonEmpty("region", billing.Region)
		if cust.Phone == "" {
			f.SetNonEmpty("phoneNo", billing.Phone)
		}
	}
	if shipping != nil {
		recipient := strings.TrimSpace(shipping.FirstName + " " + shipping.LastName)
		if recipient == "" {
			recipient = person
		}
		if shipping.Company != "" {
			f.Text("deliveryCompanyName", shipping.Company)
			f.TextNonEmpty("deliveryAttention", recipient)
		} else {
			f.TextNonEmpty("deliveryCompanyName", recipient)
		}
		f.TextNonEmpty("deliveryAddress", shipping.Line1)
		f.TextNonEmpty("deliveryAddressRow2", shipping.Line2)
		f.TextNonEmpty("deliveryZipCodeEng", shipping.PostalCode)
		f.TextNonEmpty("deliveryCity", shipping.City)
		f.SetNonEmpty("deliveryCountryCode", shipping.Country)
		f.TextNonEmpty("deliveryregion", shipping.Region) // lower-case r, as OBSERVED
		f.SetNonEmpty("mobileNo", shipping.Phone)
	}
	if err := f.Err(); err != nil {
		return nil, err
	}
	for _, name := range f.Names() {
		if max := CustomerFieldMax(name); max > 0 && len(f.raw(name)) > max {
			return nil, &commerce.FieldError{Field: name, Value: f.Get(name), Reason: fmt.Sprintf("longer than Specter's %d characters", max)}
		}
	}
	return f, nil
}

// submitCustomer sends a customer and returns its customerId ("" in a dry
// run).
func (c *Connector) submitCustomer(ctx context.Context, op string, cust commerce.Customer, billing, shipping *commerce.Address, cur commerce.Currency, dry bool) (string, error) {
	f, err := c.customerForm(cust, billing, shipping, cur)
	if err != nil {
		e := validation(op, "", err)
		if te := firstTextError(err); te != nil {
			e.Field = te.Field
		} else if fe, ok := errorsAs[*commerce.FieldError](err); ok {
			e.Field = fe.Field
		}
		return "", e
	}
	if dry {
		return "", nil
	}
	r, err := c.client.Do(ctx, Request{Op: op, Action: ActionNewCustomer, Form: f})
	if err != nil {
		return "", err
	}
	if r.ID == "" {
		return "", connector.NewError(System, op, connector.KindPermanent, "the reply names no customer id")
	}
	return r.ID, nil
}
