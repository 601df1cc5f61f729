package specter_test

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/connector"
	"github.com/knyt/knyt/specter"
	"github.com/knyt/knyt/specter/spectertest"
)

func TestUpsertCustomerRoundTrip(t *testing.T) {
	cases := []struct {
		name string
		in   commerce.Customer
		want spectertest.Customer
	}{
		{
			name: "private person with Å Ä Ö",
			in: commerce.Customer{Email: "asa@example.se", FirstName: "Åsa", LastName: "Öberg", Phone: "+46701234567", Locale: "sv",
				Address: &commerce.Address{Line1: "Ängsvägen 3", Line2: "lgh 1101", PostalCode: "722 14", City: "Västerås", Country: "SE"}},
			want: spectertest.Customer{ID: 1001, Form: "P", Name: "Åsa Öberg", FirstName: "Åsa", SurName: "Öberg", ContactPerson: "Åsa Öberg",
				Email: "asa@example.se", Phone: "+46701234567", Currency: "SEK", Language: "SE",
				Invoice:  spectertest.Address{Address: "Ängsvägen 3", Row2: "lgh 1101", ZipCode: "722 14", City: "Västerås", CountryCode: "SE"},
				Delivery: spectertest.Address{CompanyName: "Åsa Öberg", Address: "Ängsvägen 3", Row2: "lgh 1101", ZipCode: "722 14", City: "Västerås", CountryCode: "SE"}},
		},
		{
			name: "company",
			in: commerce.Customer{Type: commerce.Business, Email: "order@bruk.se", Company: "Järnbruket AB", FirstName: "Örjan", LastName: "Ek",
				OrgNumber: "556677-8899", VATNumber: "SE556677889901", Locale: "en-GB",
				Address: &commerce.Address{Company: "Järnbruket AB", Line1: "Bruksgatan 1", PostalCode: "123 45", City: "Sävsjö", Country: "SE"}},
			want: spectertest.Customer{ID: 1001, Form: "C", Name: "Järnbruket AB", ContactPerson: "Örjan Ek", Attention: "Örjan Ek",
				OrgNo: "556677-8899", VATNo: "SE556677889901", Email: "order@bruk.se", Currency: "SEK", Language: "EN",
				Invoice:  spectertest.Address{CompanyName: "Järnbruket AB", Address: "Bruksgatan 1", ZipCode: "123 45", City: "Sävsjö", CountryCode: "SE"},
				Delivery: spectertest.Address{CompanyName: "Järnbruket AB", Attention: "Örjan Ek", Address: "Bruksgatan 1", ZipCode: "123 45", City: "Sävsjö", CountryCode: "SE"}},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			ctx := t.Context()
			res, err := f.c.UpsertCustomer(ctx, c.in)
			if err != nil {
				t.Fatal(err)
			}
			if want := (commerce.Ref{System: "specter", Account: "4711", ID: "1001"}); res.Ref != want {
				t.Errorf("ref %v, want %v", res.Ref, want)
			}
			got, ok := f.acc.Customer(1001)
			if !ok {
				t.Fatal("customer not in the fake")
			}
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("customer in Specter (-want +got):\n%s", diff)
			}
			// Matched by e-mail: the same customer again, updated.
			again := c.in
			again.Phone = "+46709999999"
			res2, err := f.c.UpsertCustomer(ctx, again)
			if err != nil {
				t.Fatal(err)
			}
			if res2.Ref != res.Ref || len(f.acc.Customers()) != 1 {
				t.Errorf("second upsert gave %v and %d customers, want %v and 1", res2.Ref, len(f.acc.Customers()), res.Ref)
			}
			if got, _ := f.acc.Customer(1001); got.Phone != "+46709999999" {
				t.Errorf("phone not updated: %q", got.Phone)
			}
		})
	}
}

func TestCustomerMatchingFlags(t *testing.T) {
	ctx := t.Context()
	cust := commerce.Customer{Email: "a@example.se", FirstName: "A", LastName: "B", OrgNumber: "19800101-1234"}
	f := newFixture(t)
	byOrg := f.connect(t, f.acc.V2(), specter.WithCustomerMatching(specter.CustomerMatching{ByEmail: false, ByOrgNo: true, Update: true}))
	noMatch := f.connect(t, f.acc.V2(), specter.WithCustomerMatching(specter.CustomerMatching{Update: true}))
	first, err := f.c.UpsertCustomer(ctx, cust)
	if err != nil {
		t.Fatal(err)
	}
	other := cust
	other.Email = "new@example.se"
	viaOrg, err := byOrg.UpsertCustomer(ctx, other)
	if err != nil {
		t.Fatal(err)
	}
	if viaOrg.Ref != first.Ref {
		t.Errorf("matching by org number gave %v, want %v", viaOrg.Ref, first.Ref)
	}
	fresh, err := noMatch.UpsertCustomer(ctx, cust)
	if err != nil {
		t.Fatal(err)
	}
	if fresh.Ref == first.Ref || len(f.acc.Customers()) != 2 {
		t.Errorf("with matching off: %v, %d customers; want a new customer", fresh.Ref, len(f.acc.Customers()))
	}
}

func TestUpsertCustomerRefusesBeforeSending(t *testing.T) {
	cases := []struct {
		name  string
		in    commerce.Customer
		field string
	}{
		{"no name", commerce.Customer{Phone: "1"}, ""},
		{"emoji in e-mail", commerce.Customer{Email: "a😀@example.se", FirstName: "A"}, "emailAddress"},
		{"org number too long", commerce.Customer{FirstName: "A", OrgNumber: "123456789012345678901"}, "orgNo"},
		{"bad country", commerce.Customer{FirstName: "A", Address: &commerce.Address{Country: "XX"}}, "address.country"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			_, err := f.c.UpsertCustomer(t.Context(), c.in)
			if !errors.Is(err, connector.ErrValidation) {
				t.Fatalf("got %v, want a validation error", err)
			}
			var ce *connector.Error
			if errors.As(err, &ce) && c.field != "" && ce.Field != c.field {
				t.Errorf("field %q, want %q", ce.Field, c.field)
			}
			if n := f.srv.Requests(specter.ActionNewCustomer); n != 0 {
				t.Errorf("%d requests reached Specter", n)
			}
		})
	}
}

func TestVersion1Credentials(t *testing.T) {
	f := newFixture(t)
	c := f.connect(t, f.acc.V1())
	res, err := c.UpsertCustomer(t.Context(), commerce.Customer{FirstName: "Örjan", Email: "o@example.se"})
	if err != nil || res.Ref.ID == "" {
		t.Fatalf("v1 upsert: %+v, %v", res, err)
	}
	if _, err := specter.New(f.acc.V1(), specter.WithWebshopID("1")); !errors.Is(err, connector.ErrValidation) {
		t.Errorf("multishop with v1 credentials: %v, want a validation error", err)
	}
}
