package sie_test

import (
	"bytes"
	"fmt"
	"log"
	"strings"

	"golang.org/x/text/encoding/charmap"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/reconcile/sie"
)

func mustSEK(amount string) commerce.Money {
	m, err := commerce.ParseMoney(amount, "SEK")
	if err != nil {
		log.Fatal(err)
	}
	return m
}

// Write the Klarna payout voucher of the reference as an SIE 4I file.
func ExampleWriter_Write() {
	payout := commerce.Voucher{
		ID:   "klarna-payout-2026-11-15",
		Date: commerce.NewDate(2026, 11, 15),
		Text: "Klarna utbetalning 2026-11-15",
		Postings: []commerce.Posting{
			{Account: "1930", Amount: mustSEK("1218.75")},
			{Account: "6064", Amount: mustSEK("25.00")},
			{Account: "2641", Amount: mustSEK("6.25")},
			{Account: "1686", Amount: mustSEK("-1250.00"), Dimensions: []commerce.Dimension{{Dim: 1, Object: "WEB1"}}},
		},
	}
	w := sie.NewWriter(sie.BAS2026(), sie.WithDefaultSeries("K"),
		sie.WithObjects(sie.Object{Dim: 1, ID: "WEB1", Name: "Webbshop Sverige"}))
	var buf bytes.Buffer
	rep, err := w.Write(&buf, sie.Header{
		Program: "knyt", Version: "1.0",
		Generated: commerce.NewDate(2026, 11, 22),
		Company:   "Exempel AB", OrgNumber: "556677-8899",
	}, []commerce.Voucher{payout})
	if err != nil {
		log.Fatal(err)
	}
	// The file is code page 437 with CRLF line ends; decode it for display.
	text, _ := charmap.CodePage437.NewDecoder().String(buf.String())
	fmt.Print(strings.ReplaceAll(text, "\r\n", "\n"))
	fmt.Println(rep.Vouchers, "voucher,", rep.Rows, "rows")
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
	// #DIM 1 "Resultatenhet"
	// #OBJEKT 1 "WEB1" "Webbshop Sverige"
	// #VER "K" "" 20261115 "Klarna utbetalning 2026-11-15"
	// {
	// #TRANS 1930 {} 1218.75
	// #TRANS 6064 {} 25.00
	// #TRANS 2641 {} 6.25
	// #TRANS 1686 {1 "WEB1"} -1250.00
	// }
	// 1 voucher, 4 rows
}

// An unbalanced voucher is refused and nothing is written.
func ExampleWriter_Write_unbalanced() {
	v := commerce.Voucher{
		ID: "payout-1", Date: commerce.NewDate(2026, 11, 15), Text: "Utbetalning",
		Postings: []commerce.Posting{
			{Account: "1930", Amount: mustSEK("1218.74")},
			{Account: "1686", Amount: mustSEK("-1218.75")},
		},
	}
	var buf bytes.Buffer
	_, err := sie.NewWriter(sie.BAS2026()).Write(&buf, sie.Header{Company: "Exempel AB", Generated: commerce.NewDate(2026, 11, 22)}, []commerce.Voucher{v})
	fmt.Println(err)
	fmt.Println(buf.Len(), "bytes written")
	// Output:
	// sie: voucher "payout-1" (index 0): commerce: voucher payout-1 does not balance: postings sum to -0.01 SEK
	// 0 bytes written
}

// Read a small SIE 4 export: the merchant's account names and a voucher.
func ExampleRead() {
	file := "#FLAGGA 0\r\n" +
		"#PROGRAM \"Bokf\x94ring\" 4.2\r\n" + // "Bokföring" in code page 437
		"#FORMAT PC8\r\n" +
		"#GEN 20261201\r\n" +
		"#SIETYP 4\r\n" +
		"#FNAMN \"Exempel AB\"\r\n" +
		"#KONTO 1580 \"Kontokort och kuponger\"\r\n" +
		"#KONTO 1930 Bank\r\n" +
		"#KONTO 6570 Bankkostnader\r\n" +
		"#VER A 17 20261130 \"Stripe po_123\"\r\n" +
		"{\r\n" +
		"   #TRANS 1930 {} 982.00\r\n" +
		"   #TRANS 6570 {} 18.00\r\n" +
		"   #TRANS 1580 {} -1000.00\r\n" +
		"}\r\n"
	f, err := sie.Read(strings.NewReader(file))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(f.Header.Program, f.Header.Company)
	for _, no := range f.Accounts.Numbers() {
		name, _ := f.Accounts.Name(no)
		fmt.Println(no, name)
	}
	for _, v := range f.Vouchers {
		fmt.Println(v.ID, v.Date, v.Text)
		for _, p := range v.Postings {
			fmt.Println(" ", p.Account, p.Amount)
		}
	}
	// Output:
	// Bokföring Exempel AB
	// 1580 Kontokort och kuponger
	// 1930 Bank
	// 6570 Bankkostnader
	// A/17 2026-11-30 Stripe po_123
	//   1930 982.00 SEK
	//   6570 18.00 SEK
	//   1580 -1000.00 SEK
}
