package reconcile_test

import (
	"bytes"
	"context"
	"fmt"
	"log"
	"strings"

	"github.com/shopspring/decimal"
	"golang.org/x/text/encoding/charmap"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/reconcile"
	"github.com/knyt/knyt/reconcile/sie"
	"github.com/knyt/knyt/vat"
)

func sek(amount string) commerce.Money {
	m, err := commerce.ParseMoney(amount, "SEK")
	if err != nil {
		log.Fatal(err)
	}
	return m
}

// klarnaPayout is a Klarna settlement as the klarna connector gives it: a
// sale of order 5001 and Klarna's fee on it with 25 % VAT.
func klarnaPayout() commerce.Payout {
	return commerce.Payout{
		ID: "XISA93DJ", Provider: "klarna", Status: commerce.PayoutPaid,
		Amount: sek("1218.75"), ArrivalDate: commerce.NewDate(2026, 11, 15),
		Transactions: []commerce.Transaction{
			{ID: "XISA93DJ-1", Provider: "klarna", Kind: commerce.TxSale, ProviderType: "SALE",
				Amount: sek("1250.00"), Net: sek("1250.00"),
				References: commerce.TxReferences{OrderID: "ce17b4cb", CaptureID: "33db6f16", OrderNumber: "5001"}},
			{ID: "XISA93DJ-2", Provider: "klarna", Kind: commerce.TxFee, ProviderType: "FEE",
				Amount: sek("0.00"), Fee: sek("25.00"), FeeVAT: sek("6.25"), Net: sek("-31.25"),
				References: commerce.TxReferences{OrderID: "ce17b4cb", CaptureID: "33db6f16", OrderNumber: "5001"}},
		},
	}
}

func openInvoice() commerce.Invoice {
	return commerce.Invoice{
		Kind: commerce.KindInvoice, Number: "1001", OrderNumber: "5001", Currency: commerce.SEK,
		IssueDate: commerce.NewDate(2026, 11, 10),
		Net:       sek("1000.00"), VAT: sek("250.00"), Gross: sek("1250.00"),
	}
}

// Reconcile a Klarna payout against the open invoices from the ERP: the
// sale is matched by the order number, the payout is booked as one voucher
// (the worked example of the reference), and the invoice is reported paid.
func ExampleReconciler_Run() {
	r, err := reconcile.New()
	if err != nil {
		log.Fatal(err)
	}
	res, err := r.Run(context.Background(), reconcile.Input{
		Payouts:  []commerce.Payout{klarnaPayout()},
		Invoices: []commerce.Invoice{openInvoice()},
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, vo := range res.Vouchers {
		fmt.Println(vo.ID, vo.Date, vo.Text)
		for _, p := range vo.Postings {
			fmt.Println(strings.TrimSpace(fmt.Sprintf("  %s %9s  %s", p.Account, p.Amount.Amount.StringFixed(2), p.Text)))
		}
	}
	for m := range res.Matched() {
		fmt.Println("matched", m.Transaction, "to", m.Document, "by", m.Method)
	}
	for p := range res.Paid() {
		fmt.Println("paid", p.Document, p.Amount, p.Date, "fully:", p.FullyPaid)
	}
	// Record the booking so that the next run books nothing again.
	if err := r.Commit(context.Background(), res); err != nil {
		log.Fatal(err)
	}
	// Output:
	// payout:klarna:XISA93DJ 2026-11-15 Klarna utbetalning XISA93DJ
	// 1930   1218.75
	// 6064     25.00  Avgifter Klarna
	// 2641      6.25  Moms på avgifter
	// 1686  -1250.00  Faktura 1001
	// matched XISA93DJ-1 to invoice 1001 by order_number
	// paid invoice 1001 1250.00 SEK 2026-11-15 fully: true
}

// The short summary of a run.
func ExampleResult_SummaryText() {
	r, err := reconcile.New()
	if err != nil {
		log.Fatal(err)
	}
	p := klarnaPayout()
	p.Transactions = append(p.Transactions, commerce.Transaction{ID: "XISA93DJ-3", Provider: "klarna",
		Kind: commerce.TxSale, ProviderType: "SALE", Amount: sek("99.00"), Net: sek("99.00"),
		References: commerce.TxReferences{OrderNumber: "5999"}})
	p.Amount = sek("1317.75")
	res, err := r.Run(context.Background(), reconcile.Input{Payouts: []commerce.Payout{p}, Invoices: []commerce.Invoice{openInvoice()}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(res.SummaryText())
	for _, u := range res.Unmatched {
		fmt.Println("unmatched", u.Transaction, u.Amount, u.Reason, "booked to", u.Account)
	}
	// Output:
	// Payouts: 1 (booked 1, already booked 0, not booked 0)
	// Transactions: 3 (matched 1, unmatched 1)
	// SEK: paid out 1317.75, matched 1250.00, unmatched 99.00, fees 25.00, fee VAT 6.25
	// Differences: 0
	// Documents paid: 1 (fully 1)
	// Vouchers: 1
	// unmatched XISA93DJ-3 99.00 SEK not_found booked to 1686
}

// Book an OSS distance sale (German consumer, 19 %): revenue on 3106 with
// the member state, VAT on 2670 with member state and rate.
func ExampleReconciler_BookSales() {
	r, err := reconcile.New()
	if err != nil {
		log.Fatal(err)
	}
	inv := commerce.Invoice{
		Kind: commerce.KindInvoice, Number: "1002", Currency: commerce.SEK, IssueDate: commerce.NewDate(2026, 11, 17),
		Lines: []commerce.InvoiceLine{{Description: "Tröja", Quantity: decimal.NewFromInt(1), UnitPrice: sek("1000.00"),
			VATRatePercent: decimal.NewFromInt(19), Net: sek("1000.00"), VAT: sek("190.00")}},
		Net: sek("1000.00"), VAT: sek("190.00"), Gross: sek("1190.00"),
		VATScheme: commerce.SchemeOSSUnion, VATCountry: "DE",
	}
	res, err := r.BookSales(context.Background(), []commerce.Invoice{inv}, nil)
	if err != nil {
		log.Fatal(err)
	}
	for _, p := range res.Vouchers[0].Postings {
		fmt.Println(strings.TrimSpace(fmt.Sprintf("%s %9s  %s", p.Account, p.Amount.Amount.StringFixed(2), p.Text)))
	}
	// Output:
	// 1686   1190.00
	// 3106  -1000.00  DE
	// 2670   -190.00  DE 19 %
}

// The quarter's OSS sales, ready for vat.BuildOSSReturn.
func ExampleOSSQuarter() {
	eur := func(s string) commerce.Money { m, _ := commerce.ParseMoney(s, "EUR"); return m }
	inv := commerce.Invoice{
		Kind: commerce.KindInvoice, Number: "1002", Currency: commerce.EUR, IssueDate: commerce.NewDate(2026, 11, 17),
		Net: eur("100.00"), VAT: eur("19.00"), Gross: eur("119.00"),
		VATByRate: []commerce.VATAmount{{RatePercent: decimal.NewFromInt(19), Taxable: eur("100.00"), VAT: eur("19.00")}},
		VATScheme: commerce.SchemeOSSUnion, VATCountry: "DE",
	}
	q := vat.Quarter{Year: 2026, Quarter: 4}
	sales, err := reconcile.OSSQuarter([]commerce.Invoice{inv}, q)
	if err != nil {
		log.Fatal(err)
	}
	ret, err := vat.BuildOSSReturn("SE556677889901", q, sales, &vat.ECBRates{})
	if err != nil {
		log.Fatal(err)
	}
	for _, l := range ret.Lines {
		fmt.Println(l.Country, l.RatePercent, l.Taxable, l.VAT)
	}
	fmt.Println("due", ret.Due)
	// Output:
	// DE 19 100.00 EUR 19.00 EUR
	// due 2027-01-31
}

// The whole path: payouts to vouchers to an SIE 4I file for the ERP.
func Example_sie() {
	r, err := reconcile.New(reconcile.WithSeries("K"))
	if err != nil {
		log.Fatal(err)
	}
	res, err := r.Run(context.Background(), reconcile.Input{
		Payouts:  []commerce.Payout{klarnaPayout()},
		Invoices: []commerce.Invoice{openInvoice()},
	})
	if err != nil {
		log.Fatal(err)
	}
	var buf bytes.Buffer
	w := sie.NewWriter(sie.BAS2026())
	if _, err := w.Write(&buf, sie.Header{Program: "knyt", Version: "1.0", Generated: commerce.NewDate(2026, 11, 22),
		Company: "Exempel AB", OrgNumber: "556677-8899"}, res.Vouchers); err != nil {
		log.Fatal(err)
	}
	text, _ := charmap.CodePage437.NewDecoder().String(buf.String())
	fmt.Print(strings.ReplaceAll(text, "\r\n", "\n"))
	// Output:
	// #FLAGGA 0
	// #PROGRAM "knyt" 1.0
	// #FORMAT PC8
	// #GEN 20261122
	// #SIETYP 4
	// #ORGNR 556677-8899
	// #FNAMN "Exempel AB"
	// #KONTO 1686 "Fordringar för kontokort och kuponger"
	// #KONTO 1930 "Företagskonto"
	// #KONTO 2641 "Debiterad ingående moms"
	// #KONTO 6064 "Factoringavgifter"
	// #VER "K" "" 20261115 "Klarna utbetalning XISA93DJ"
	// {
	// #TRANS 1930 {} 1218.75
	// #TRANS 6064 {} 25.00 "" "Avgifter Klarna"
	// #TRANS 2641 {} 6.25 "" "Moms på avgifter"
	// #TRANS 1686 {} -1250.00 "" "Faktura 1001"
	// }
}
