package specter_test

import (
	"errors"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/connector"
	"github.com/knyt/knyt/connector/connectortest"
	"github.com/knyt/knyt/connector/fault"
	"github.com/knyt/knyt/specter"
	"github.com/knyt/knyt/specter/spectertest"
)

func TestCreateOrderRoundTrip(t *testing.T) {
	f := newFixture(t, specter.WithWebshops(map[string]string{"butik-2": "2"}), specter.WithStockSite("2"))
	ctx := t.Context()
	o := sampleOrder("#1001")
	o.Shop = "butik-2"
	res, err := f.c.CreateOrder(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if want := (connector.UpsertResult{Key: "#1001", Ref: commerce.Ref{System: "specter", Account: "4711", ID: "5001"}, Created: true}); res != want {
		t.Errorf("result %+v, want %+v", res, want)
	}
	got, ok := f.acc.Order(5001)
	if !ok {
		t.Fatal("no order in Specter")
	}
	want := spectertest.Order{
		No: 5001, ExternalOrderNo: "#1001", CustomerID: 1001, Currency: "SEK", Language: "SE", StockSite: "2", WebshopID: "2",
		PayType: "KG", PayReference: "kl-ref-123", InternalComment: "Lämna vid dörren",
		Rows: []spectertest.OrderRow{
			{ArticleNo: "TROJA-M", Name: "Tröja - M", PriceExclVAT: dec("239.2"), Quantity: dec("2"), VATPercent: 25},
			{ArticleNo: "BOK-1", Name: "Bok om älgar", PriceExclVAT: dec("200"), Quantity: dec("1"), VATPercent: 12},
			{ArticleNo: "discount", Name: "Rabatt HÖST10", PriceExclVAT: dec("-47.84"), Quantity: dec("1"), VATPercent: 25},
			{ArticleNo: "shipping", Name: "PostNord", PriceExclVAT: dec("39.2"), Quantity: dec("1"), VATPercent: 25},
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("order in Specter (-want +got):\n%s", diff)
	}
	// The customer came first, from the order's addresses.
	if c, _ := f.acc.Customer(1001); c.Name != "Åsa Öberg" || c.Delivery.City != "Västerås" || c.Email != "asa.oberg@example.se" {
		t.Errorf("customer %+v", c)
	}
	// The articles it needs were created, the shipping and discount
	// articles too.
	for _, no := range []string{"TROJA-M", "BOK-1", "discount", "shipping"} {
		if _, ok := f.acc.Article(no); !ok {
			t.Errorf("article %s was not created", no)
		}
	}
	// Specter's totals match the shop's to the öre.
	inv, err := f.c.CreateInvoice(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	invs := f.acc.Invoices()
	if len(invs) != 1 || !invs[0].Gross.Equal(o.Totals.Total.Amount) {
		t.Errorf("invoices %+v, want one of gross %s", invs, o.Totals.Total)
	}
	if !inv.Created || inv.Ref.ID != strconv.Itoa(invs[0].ID) {
		t.Errorf("invoice result %+v", inv)
	}
}

func TestCreateOrderIdempotent(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	o := sampleOrder("#2001")
	first, err := f.c.CreateOrder(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	// A second run (say, after a restart) finds the order by its
	// externalOrderNo.
	second, err := f.connect(t, f.acc.V2()).CreateOrder(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if second.Created || second.Ref != first.Ref {
		t.Errorf("second create %+v, want the first's ref %v with Created false", second, first.Ref)
	}
	// The answer of a create is lost after Specter applied it: the retry
	// meets the duplicate control and returns the same order.
	f.srv.Faults().Inject(fault.Fault{Kind: fault.LostAnswer, Match: func(r *http.Request) bool {
		return r.URL.Query().Get("action") == string(specter.ActionNewOrder)
	}})
	lost, err := f.c.CreateOrder(ctx, sampleOrder("#2002"))
	if err != nil {
		t.Fatalf("create with a lost answer: %v", err)
	}
	if lost.Ref.ID == "" || len(f.acc.Orders()) != 2 {
		t.Errorf("result %+v, %d orders; want the order once", lost, len(f.acc.Orders()))
	}
	if f.srv.Faults().Injected(fault.LostAnswer) != 1 {
		t.Error("the fault was not injected")
	}
	// Invoices likewise.
	inv1, err := f.c.CreateInvoice(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	inv2, err := f.c.CreateInvoice(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if !inv1.Created || inv2.Created || inv1.Ref != inv2.Ref || len(f.acc.Invoices()) != 1 {
		t.Errorf("invoices %+v then %+v, %d in Specter", inv1, inv2, len(f.acc.Invoices()))
	}
}

func TestCreateOrderRefusals(t *testing.T) {
	cases := []struct {
		name   string
		change func(*commerce.Order)
		opts   []specter.Option
		want   error
	}{
		{"non-integer VAT rate", func(o *commerce.Order) { o.Lines[1].TaxLines[0].RatePercent = dec("25.5") }, nil, connector.ErrValidation},
		{"invalid SKU", func(o *commerce.Order) { o.Lines[0].SKU = "TRÖJA M" }, nil, connector.ErrValidation},
		{"invalid order", func(o *commerce.Order) { o.Number = "" }, nil, connector.ErrValidation},
		{"missing articles not created", func(*commerce.Order) {}, []specter.Option{specter.WithEnsureArticles(false)}, connector.ErrNotFound},
		{"unknown webshop", func(*commerce.Order) {}, []specter.Option{specter.WithWebshopID("9")}, connector.ErrValidation},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, c.opts...)
			o := sampleOrder("#3001")
			c.change(&o)
			_, err := f.c.CreateOrder(t.Context(), o)
			if !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
			if len(f.acc.Orders()) != 0 {
				t.Error("an order was created")
			}
		})
	}
}

func TestFulfillPartial(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	seedOrder(t, ctx, f.c, "#4001")
	at := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	ref, err := f.c.Fulfill(ctx, commerce.Fulfillment{OrderNumber: "#4001", CreatedAt: at,
		Lines: []commerce.FulfillmentLine{{SKU: "TROJA-M", Quantity: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	o, _ := f.acc.Order(5001)
	if len(o.Deliveries) != 1 || ref.ID != strconv.Itoa(o.Deliveries[0].ID) || o.Deliveries[0].Date != "2026-11-20" {
		t.Fatalf("deliveries %+v, ref %v", o.Deliveries, ref)
	}
	if !o.Rows[0].Delivered.Equal(decimal.NewFromInt(1)) || o.Delivered() {
		t.Errorf("row 1 delivered %s, order delivered %v; want 1 and not fully", o.Rows[0].Delivered, o.Delivered())
	}
	// By Specter ref, from another connector that did not create it.
	other := f.connect(t, f.acc.V2())
	_, err = other.Fulfill(ctx, commerce.Fulfillment{OrderRef: commerce.Ref{System: "specter", ID: "5001"},
		Lines: []commerce.FulfillmentLine{{SKU: "TROJA-M", Quantity: 2}}})
	if !errors.Is(err, connector.ErrConflict) {
		t.Errorf("delivering more than ordered: %v, want a conflict", err)
	}
	if _, err := other.Fulfill(ctx, commerce.Fulfillment{OrderNumber: "#4001", Lines: []commerce.FulfillmentLine{{SKU: "BOK-1", Quantity: 1}}}); !errors.Is(err, connector.ErrNotFound) {
		t.Errorf("unknown order number: %v, want not found", err)
	}
}

func TestUnsupported(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	if err := f.c.SetPriceList(ctx, commerce.PriceList{Name: "B2B", Currency: commerce.SEK}); !errors.Is(err, connector.ErrUnsupported) {
		t.Errorf("SetPriceList: %v", err)
	}
	if _, err := f.c.CreateCreditInvoice(ctx, connector.CreditRequest{OrderNumber: "#1"}); !errors.Is(err, connector.ErrUnsupported) {
		t.Errorf("CreateCreditInvoice: %v", err)
	}
}

func TestInvoicePDFLink(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	no := seedOrder(t, ctx, f.c, "#5001")
	id, err := f.acc.InvoiceOrder(no)
	if err != nil {
		t.Fatal(err)
	}
	link, err := f.connect(t, f.acc.V1()).InvoicePDFLink(ctx, strconv.Itoa(id))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/pdf" {
		t.Errorf("document: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if _, err := f.c.InvoicePDFLink(ctx, "1"); !errors.Is(err, connector.ErrNotFound) {
		t.Errorf("unknown invoice: %v", err)
	}
}

func TestOrderNumberSurvivesBothWays(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	no := seedOrder(t, ctx, f.c, "Beställning-Å1")
	if o, ok := f.acc.OrderByExternalNo("Beställning-Å1"); !ok || o.No != no {
		t.Fatalf("order by external number: %+v %v", o, ok)
	}
	if err := f.acc.RemoveOrder(no); err != nil {
		t.Fatal(err)
	}
	evs := drainAll(t, ctx, f.connect(t, f.acc.V2()).OrderEvents())
	if len(evs) != 1 || evs[0].OrderNumber != "Beställning-Å1" {
		t.Errorf("events %+v", evs)
	}
}

func TestDuplicateOrderIsConflict(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	no := seedOrder(t, ctx, f.c, "#D1")
	form := f.c.Client().NewForm()
	form.Set("customerId", "1001")
	form.Set("externalOrderNo", "#D1")
	form.Set("currency", "SEK")
	form.Set("articleNo_1", "BOK-1")
	form.Set("noOfItems_1", "1")
	form.Set("priceExclVAT_1", "200")
	form.Set("vatPercent_1", "12")
	r, err := f.c.Client().Do(ctx, specter.Request{Action: specter.ActionNewOrder, Form: form})
	var ce *connector.Error
	if !errors.Is(err, connector.ErrConflict) || !errors.As(err, &ce) || ce.Code != specter.CodeDuplicateOrder {
		t.Fatalf("duplicate externalOrderNo: %v, want a conflict with code %s", err, specter.CodeDuplicateOrder)
	}
	if r == nil || r.ID != strconv.Itoa(no) {
		t.Errorf("reply %+v, want the existing order %d", r, no)
	}
}

func TestMappingOptions(t *testing.T) {
	srv := spectertest.NewServer(spectertest.WithAccount(spectertest.AccountConfig{
		SBMID: "900", MD5Key1: "second-key-one", MD5Key2: "second-key-two", StockSites: []string{"7"},
	}))
	t.Cleanup(srv.Close)
	acc, ok := srv.Account("900")
	if !ok {
		t.Fatal("second account missing")
	}
	log := connectortest.NewLogBuffer()
	c, err := specter.New(acc.V1(), append(fast(srv, log),
		specter.WithAccountName("butiken"),
		specter.WithShippingArticle("FRAKT"), specter.WithDiscountArticle("RABATT"), specter.WithGiftCardArticle("PRESENTKORT"),
		specter.WithPayTypes(map[string]string{"klarna": "K", "shopify_payments": "CN"}),
		specter.WithDefaultVATRate(dec("12")), specter.WithCustomerGroup("3"), specter.WithLanguage("EN"), specter.WithOrderMail(true),
		specter.WithClock(func() time.Time { return time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC) }),
	)...)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	o := sampleOrder("#M1")
	o.Customer.Locale = "pt-BR" // no Specter language: WithLanguage's
	o.Lines = append(o.Lines, commerce.Line{Title: "Presentkort 100 kr", GiftCard: true, Quantity: 1, UnitPrice: sek(10000)})
	o.Payments = []commerce.PaymentRef{{Provider: "gift_card", Reference: "gc"}, {Provider: "shopify_payments", Gateway: "shopify_payments", Reference: "pi_123"}}
	o.Totals = commerce.Totals{}
	res, err := c.CreateOrder(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if res.Ref.Account != "butiken" || c.Account() != "butiken" {
		t.Errorf("account %q / %q, want butiken", res.Ref.Account, c.Account())
	}
	ord, _ := acc.OrderByExternalNo("#M1")
	var nos []string
	for _, r := range ord.Rows {
		nos = append(nos, r.ArticleNo)
	}
	if diff := cmp.Diff([]string{"TROJA-M", "BOK-1", "PRESENTKORT", "RABATT", "FRAKT"}, nos); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
	if ord.PayType != "CN" || ord.PayReference != "pi_123" || ord.Language != "EN" || ord.StockSite != "7" {
		t.Errorf("order %+v", ord)
	}
	if cust, _ := acc.Customer(ord.CustomerID); cust.GroupID != "3" || cust.Language != "EN" {
		t.Errorf("customer %+v", cust)
	}
	for no, stocked := range map[string]bool{"TROJA-M": true, "PRESENTKORT": false, "RABATT": false, "FRAKT": false} {
		if a, _ := acc.Article(no); a.Stocked != stocked {
			t.Errorf("article %s stocked %v, want %v", no, a.Stocked, stocked)
		}
	}
	// The default VAT rate applies to variants that name none.
	if _, err := c.UpsertProducts(ctx, []commerce.Product{{Title: "Bok", Variants: []commerce.Variant{{SKU: "BOK-2", Price: sek(11200), PricesIncludeTax: true}}}}); err != nil {
		t.Fatal(err)
	}
	if a, _ := acc.Article("BOK-2"); a.VATPercent != 12 || !a.PriceExclVAT.Equal(dec("100")) {
		t.Errorf("article %+v, want 12 %% and 100 excl. VAT", a)
	}
	// Dates come from the clock: a delivery without a time is today's.
	if _, err := c.Fulfill(ctx, commerce.Fulfillment{OrderNumber: "#M1", Lines: []commerce.FulfillmentLine{{SKU: "BOK-1", Quantity: 1}}}); err != nil {
		t.Fatal(err)
	}
	if ord, _ := acc.OrderByExternalNo("#M1"); ord.Deliveries[0].Date != "2026-05-01" {
		t.Errorf("delivery date %s, want the clock's 2026-05-01", ord.Deliveries[0].Date)
	}
}
