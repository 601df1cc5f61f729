package vat_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"time"

	"github.com/shopspring/decimal"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/vat"
)

func ExampleStandardRate() {
	// 22:30 UTC on 31 August 2024 is already 1 September in Helsinki,
	// the day Finland's 25.5 % began.
	at := time.Date(2024, 8, 31, 22, 30, 0, 0, time.UTC)
	r, err := vat.StandardRate("FI", at)
	if err != nil {
		panic(err)
	}
	fmt.Println(r)
	// Output: 25.5
}

func ExampleRateOn() {
	for _, day := range []string{"2026-03-31", "2026-04-01", "2028-01-01"} {
		d, _ := commerce.ParseDate(day)
		r, err := vat.RateOn("SE", vat.Foodstuffs, d)
		if err != nil {
			panic(err)
		}
		fmt.Println(day, r)
	}
	// Output:
	// 2026-03-31 12
	// 2026-04-01 6
	// 2028-01-01 12
}

func ExampleRateOn_missingData() {
	d, _ := commerce.ParseDate("2026-11-22")
	_, err := vat.RateOn("BE", vat.PrintedBooks, d)
	fmt.Println(errors.Is(err, vat.ErrNoRate))
	fmt.Println(err)
	// Output:
	// true
	// vat: rate: BE "printed_books": no rate in the data: the dataset has no rate for this category in this country
}

func ExampleLookupRate() {
	d, _ := commerce.ParseDate("2026-07-01")
	p, err := vat.LookupRate("AT", vat.BasicFoodstuffs, d)
	if err != nil {
		panic(err)
	}
	fmt.Println(p.Rate, p.From, p.Source.Key)
	// Output: 4.9 2026-07-01 at-2026
}

func ExampleFromGross() {
	// A shop price of 100.00 incl. 25.5 % VAT, as the ERP wants it net.
	a, err := vat.FromGross(commerce.NewMoney(decimal.RequireFromString("100.00"), commerce.EUR), decimal.RequireFromString("25.5"))
	if err != nil {
		panic(err)
	}
	fmt.Println(a.Net, "+", a.VAT, "=", a.Gross)
	// Output: 79.68 EUR + 20.32 EUR = 100.00 EUR
}

func ExampleFromNet() {
	// An ERP's net article price, as the shop shows it incl. 25 % VAT.
	a, err := vat.FromNet(commerce.NewMoney(decimal.RequireFromString("79.20"), commerce.SEK), decimal.NewFromInt(25))
	if err != nil {
		panic(err)
	}
	fmt.Println(a.Gross, "of which VAT", a.VAT)
	// Output: 99.00 SEK of which VAT 19.80 SEK
}

func ExampleSummarize() {
	line := vat.Line{Amount: commerce.NewMoney(decimal.RequireFromString("0.99"), commerce.SEK), RatePercent: decimal.NewFromInt(25)}
	for _, r := range []vat.Rounding{vat.PerRateGroup, vat.PerLine} {
		b, err := vat.Summarize(vat.Document{Lines: []vat.Line{line, line, line}, Rounding: r})
		if err != nil {
			panic(err)
		}
		g := b.Groups[0]
		fmt.Printf("%s: %s%% on %s = %s\n", r, g.RatePercent, g.Taxable, g.VAT)
	}
	// Output:
	// per rate group: 25% on 2.97 SEK = 0.74 SEK
	// per line: 25% on 2.97 SEK = 0.75 SEK
}

func ExampleNormalizeNumber() {
	for _, s := range []string{"se 556737-0431 01", "GR 094 259 216", "SE556737043201", "US123"} {
		n, err := vat.NormalizeNumber(s)
		switch {
		case errors.Is(err, vat.ErrChecksum):
			fmt.Println(s, "→ bad checksum")
		case errors.Is(err, vat.ErrUnknownCountry):
			fmt.Println(s, "→ unknown country")
		case err != nil:
			fmt.Println(s, "→", err)
		default:
			fmt.Println(s, "→", n)
		}
	}
	// Output:
	// se 556737-0431 01 → SE556737043101
	// GR 094 259 216 → EL094259216
	// SE556737043201 → bad checksum
	// US123 → unknown country
}

func ExampleDecide() {
	d, _ := commerce.ParseDate("2026-11-22")
	sales := []vat.Sale{
		{SellerCountry: "SE", BuyerCountry: "DE", Buyer: commerce.Consumer, Supply: vat.Goods, Date: d, OSSRegistered: true, ThresholdExceeded: true},
		{SellerCountry: "SE", BuyerCountry: "DE", Buyer: commerce.Business, BuyerVATNumberValid: true, BuyerVATNumber: "DE136695976", Supply: vat.Goods, Date: d},
		{SellerCountry: "SE", BuyerCountry: "NO", Buyer: commerce.Consumer, Supply: vat.Goods, Date: d},
		{SellerCountry: "SE", BuyerCountry: "FI", Buyer: commerce.Consumer, Supply: vat.Goods, Category: vat.Foodstuffs, Date: d},
	}
	for _, s := range sales {
		dec, err := vat.Decide(s)
		if err != nil {
			panic(err)
		}
		fmt.Printf("%s %s %s%% %q\n", dec.Scheme, dec.Country, dec.RatePercent, dec.Wording.SV)
	}
	// Output:
	// oss_union DE 19% ""
	// reverse_charge DE 0% "Unionsintern leverans, undantagen från skatteplikt (artikel 138 i direktiv 2006/112/EG). Köparens momsregistreringsnummer: DE136695976"
	// export SE 0% "Export av varor utanför EU, undantagen från mervärdesskatt (artikel 146 i direktiv 2006/112/EG)"
	// domestic SE 6% ""
}

func ExampleThresholdTracker() {
	t := vat.NewThresholdTracker()
	for _, s := range []struct{ day, eur string }{{"2026-02-01", "9999.99"}, {"2026-02-02", "0.01"}, {"2026-02-03", "0.01"}} {
		d, _ := commerce.ParseDate(s.day)
		st, _ := t.Add(d, decimal.RequireFromString(s.eur))
		fmt.Println(s.day, st.CurrentYear, st.Exceeded, st.CrossedByThis)
	}
	// Output:
	// 2026-02-01 9999.99 false false
	// 2026-02-02 10000 false false
	// 2026-02-03 10000.01 true true
}

func ExampleBuildOSSReturn() {
	q := vat.Quarter{Year: 2026, Quarter: 4}
	rates := &vat.ECBRates{}
	// Normally: rates, err := vat.ParseECB(eurofxrefXML). This rate is illustrative.
	_ = rates.Add(q.Last(), "SEK", decimal.RequireFromString("11.20"))
	sales := []vat.OSSSale{
		{Country: "DE", RatePercent: decimal.NewFromInt(19), Period: q,
			Taxable: commerce.NewMoney(decimal.RequireFromString("1000.00"), commerce.SEK), VAT: commerce.NewMoney(decimal.RequireFromString("190.00"), commerce.SEK)},
	}
	ret, err := vat.BuildOSSReturn("SE556737043101", q, sales, rates)
	if err != nil {
		panic(err)
	}
	csv, _ := ret.CSV()
	fmt.Println("due", ret.Due)
	os.Stdout.Write(csv)
	// Output:
	// due 2027-01-31
	// kind,vat_number,period,country,supply,rate_type,rate,taxable_eur,vat_eur
	// line,SE556737043101,2026Q4,DE,goods,standard,19,89.29,16.96
	// total,SE556737043101,2026Q4,,,,,,16.96
}

func ExampleVIESClient_Check() {
	// A stand-in for VIES on loopback; use NewVIESClient() for the real service.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"countryCode":"SE","vatNumber":"556737043101","valid":true,"requestIdentifier":"WAPI1","name":"KLARNA BANK AB"}`)
	}))
	defer srv.Close()
	c, err := vat.NewVIESClient(vat.WithBaseURL(srv.URL), vat.WithRequester("SE556737043101"))
	if err != nil {
		panic(err)
	}
	res, err := c.Check(context.Background(), "SE 556737-0431 01")
	if err != nil {
		// res.Status is vat.Unknown here: retry later, never treat as invalid.
		panic(err)
	}
	fmt.Println(res.Status, res.Name, res.ConsultationNumber)
	// Output: valid KLARNA BANK AB WAPI1
}
