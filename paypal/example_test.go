package paypal_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/connector"
	"github.com/knyt/knyt/paypal"
	"github.com/knyt/knyt/paypal/paypaltest"
)

// Capture on delivery, refund on return, against the fake.
func Example() {
	fake, err := paypaltest.NewServer(paypaltest.WithStartTime(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)))
	if err != nil {
		panic(err)
	}
	defer fake.Close()
	auth, _ := fake.AddAuthorization(paypaltest.Authorization{Currency: "SEK", Value: "499.00", InvoiceID: "1001"})

	id, secret := fake.Credentials()
	client, err := paypal.New(id, secret, paypal.WithBaseURL(fake.URL()), paypal.WithClock(fake.Now))
	if err != nil {
		panic(err)
	}
	ctx := context.Background()

	// The key comes from the business event: the same delivery always
	// gives the same key, so a retry cannot capture twice.
	amount, _ := commerce.ParseMoney("499.00", "SEK")
	c, err := client.Capture(ctx, connector.CaptureRequest{PaymentReference: auth.ID, OrderNumber: "1001", Amount: amount, Final: true},
		connector.WithIdempotencyKey(connector.IdempotencyKey("paypal", "capture", "1001", "delivery-1")))
	if err != nil {
		panic(err)
	}
	fmt.Println("captured", c.Amount)

	part, _ := commerce.ParseMoney("99.00", "SEK")
	r, err := client.Refund(ctx, connector.RefundRequest{CaptureID: c.ID, OrderNumber: "1001", Amount: part, Reason: "returned", Reference: "CN-1001-1"},
		connector.WithIdempotencyKey(connector.IdempotencyKey("paypal", "refund", "1001", "return-1")))
	if err != nil {
		panic(err)
	}
	fmt.Println("refunded", r.Amount)

	p, err := client.Payment(ctx, auth.ID)
	if err != nil {
		panic(err)
	}
	fmt.Println(p.Status, p.Captured, p.Refunded)
	// Output:
	// captured 499.00 SEK
	// refunded 99.00 SEK
	// partially_refunded 499.00 SEK 99.00 SEK
}

// Payouts are withdrawals with the rows since the previous one.
func ExampleClient_Payouts() {
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	fake, _ := paypaltest.NewServer(paypaltest.WithStartTime(at))
	defer fake.Close()
	for _, tx := range []paypaltest.Transaction{
		{EventCode: "T0400", At: at.Add(-72 * time.Hour), Currency: "EUR", Gross: "0.00"},
		{EventCode: "T0006", At: at.Add(-48 * time.Hour), Currency: "EUR", Gross: "120.00", Fee: "-4.54"},
		{EventCode: "T1107", At: at.Add(-30 * time.Hour), Currency: "EUR", Gross: "-20.00", Fee: "0.70"},
		{EventCode: "T0400", At: at.Add(-24 * time.Hour), Currency: "EUR", Gross: "-96.16"},
	} {
		fake.AddTransaction(tx)
	}
	id, secret := fake.Credentials()
	client, _ := paypal.New(id, secret, paypal.WithBaseURL(fake.URL()), paypal.WithClock(fake.Now))

	for p, err := range client.Payouts(context.Background(), at.Add(-36*time.Hour), at.Add(-12*time.Hour)) {
		if err != nil {
			panic(err)
		}
		fmt.Println(p.ArrivalDate, p.Amount, p.Status)
		for _, tx := range p.Transactions {
			fmt.Printf("  %-6s %-8s fee %-10s net %s\n", tx.ProviderType, tx.Kind, tx.Fee, tx.Net)
		}
		diff, _ := p.Difference()
		fmt.Println("difference", diff)
	}
	// Output:
	// 2026-03-01 96.16 EUR paid
	//   T0006  sale     fee 4.54 EUR   net 115.46 EUR
	//   T1107  refund   fee -0.70 EUR  net -19.30 EUR
	//   T0400  payout   fee 0 (none)   net -96.16 EUR
	// difference 0.00 EUR
}

// Rows younger than Transaction Search's delay are not final.
func ExampleNotFinalError() {
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	fake, _ := paypaltest.NewServer(paypaltest.WithStartTime(at))
	defer fake.Close()
	id, secret := fake.Credentials()
	client, _ := paypal.New(id, secret, paypal.WithBaseURL(fake.URL()), paypal.WithClock(fake.Now))

	for _, err := range client.Payouts(context.Background(), at.Add(-24*time.Hour), at) {
		var nf *paypal.NotFinalError
		if errors.As(err, &nf) {
			fmt.Println("listed up to", nf.FinalBefore.Format(time.RFC3339), "retry after", connector.RetryAfterOf(err))
		}
	}
	// Output:
	// listed up to 2026-03-02T06:00:00Z retry after 3h0m0s
}

// A webhook receiver: the verifier checks the certificate URL, fetches and
// verifies the certificate, then the signature.
func ExampleWebhookVerifier() {
	fake, _ := paypaltest.NewServer()
	defer fake.Close()
	roots, _ := fake.RootCAs()
	// In production: paypal.NewWebhookVerifier(webhookID). The fake's
	// certificate hangs off its own CA and is served by CertTransport.
	v, _ := paypal.NewWebhookVerifier(fake.WebhookID(),
		paypal.WithCertRoots(roots),
		paypal.WithCertHTTPClient(&http.Client{Transport: fake.CertTransport()}),
		paypal.WithWebhookClock(fake.Now))

	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ev, err := v.DecodeWebhook(r)
		if err != nil {
			http.Error(w, "refused", http.StatusUnauthorized)
			return
		}
		fmt.Println(ev.Topic, ev.ObjectID) // ids are repeatable: the fake's are seeded
	}))
	defer receiver.Close()

	auth, _ := fake.AddAuthorization(paypaltest.Authorization{Currency: "USD", Value: "10.00"})
	id, secret := fake.Credentials()
	client, _ := paypal.New(id, secret, paypal.WithBaseURL(fake.URL()), paypal.WithClock(fake.Now))
	client.ReleaseRemaining(context.Background(), auth.ID)
	fake.DeliverEvents(context.Background(), receiver.URL, nil)
	// Output:
	// PAYMENT.AUTHORIZATION.VOIDED MXVB0NQOLJA0O1N1P
}

func ExampleParseTime() {
	t, err := paypal.ParseTime("2014-07-11T04:03:52-0700")
	fmt.Println(t.UTC(), err)
	_, err = paypal.ParseTime("2014-07-11T04:03:52")
	fmt.Println(err)
	// Output:
	// 2014-07-11 11:03:52 +0000 UTC <nil>
	// paypal: malformed date-time: "2014-07-11T04:03:52": offset must be Z, ±hh:mm or ±hhmm
}

func ExampleFromMoney() {
	for _, s := range [][2]string{{"10.5", "USD"}, {"1000", "HUF"}, {"1000.50", "HUF"}} {
		m, _ := commerce.ParsePrice(s[0], s[1])
		a, err := paypal.FromMoney(m)
		fmt.Printf("%s %s → %+v %v\n", s[0], s[1], a, err != nil)
	}
	// Output:
	// 10.5 USD → {CurrencyCode:USD Value:10.50} false
	// 1000 HUF → {CurrencyCode:HUF Value:1000} false
	// 1000.50 HUF → {CurrencyCode: Value:} true
}

func ExampleVerifyWebhookSignature() {
	fake, _ := paypaltest.NewServer()
	defer fake.Close()
	body := []byte(`{"id":"WH-1","event_type":"PAYMENT.CAPTURE.COMPLETED"}`)
	h, _ := fake.Sign(body, "1JE4291016473214C")
	cert, _ := fake.Certificate()

	fmt.Println(paypal.VerifyWebhookSignature(h, body, "1JE4291016473214C", cert))
	err := paypal.VerifyWebhookSignature(h, append(body, ' '), "1JE4291016473214C", cert)
	fmt.Println(errors.Is(err, connector.ErrWebhookSignature))
	// Output:
	// <nil>
	// true
}
