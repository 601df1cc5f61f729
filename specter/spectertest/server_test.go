package spectertest_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/connector/fault"
	"github.com/knyt/knyt/specter"
	"github.com/knyt/knyt/specter/spectertest"
)

// Point the client at the fake: its URL and the default account's
// credentials.
func Example() {
	srv := spectertest.NewServer()
	defer srv.Close()
	acc := srv.Default()

	c, err := specter.New(acc.V2(), specter.WithBaseURL(srv.URL()), specter.WithPace(0))
	if err != nil {
		panic(err)
	}
	// Seed as a Specter user would, then read the change through the API.
	if err := acc.AddArticle(spectertest.Article{No: "KAFFE-500", Name: "Kaffe mörkrost", Stock: map[string]int{"1": 40}}); err != nil {
		panic(err)
	}
	b, err := c.Stock().Next(context.Background(), "")
	if err != nil {
		panic(err)
	}
	fmt.Println(b.Items[0].SKU, b.Items[0].Available)
	open, _ := acc.OpenBatch("1", specter.QueueStock)
	fmt.Println("open until committed:", open == string(b.Cursor))
	// Output:
	// KAFFE-500 40
	// open until committed: true
}

func get(t *testing.T, srv *spectertest.Server, q url.Values) string {
	t.Helper()
	resp, err := http.Get(srv.URL() + "getInfo.asp?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// signedRead builds a queue read signed with version-1 keys.
func signedRead(acc *spectertest.Account, action specter.Action, batch string, xml bool) url.Values {
	q := url.Values{"action": {string(action)}, "sbmId": {acc.Config().SBMID}, "batchNo": {batch}, "key": {acc.V1().Key([]byte(batch))}}
	if xml {
		q.Set("useXML", "2")
	}
	return q
}

func TestQueueProtocol(t *testing.T) {
	srv := spectertest.NewServer(spectertest.WithPageLimit(2))
	defer srv.Close()
	acc := srv.Default()
	for i := range 3 {
		if err := acc.AddArticle(spectertest.Article{No: fmt.Sprintf("A%d", i), Name: "Ö"}); err != nil {
			t.Fatal(err)
		}
	}
	first := get(t, srv, signedRead(acc, specter.ActionArticleQueue, "b1", true))
	if !strings.Contains(first, "<responseMaxLimit>2</responseMaxLimit>") || strings.Count(first, "<article ") != 2 || !strings.Contains(first, "<name>\xd6</name>") {
		t.Errorf("first page: %q", first)
	}
	if again := get(t, srv, signedRead(acc, specter.ActionArticleQueue, "b1", true)); again != first {
		t.Errorf("re-read differs: %q", again)
	}
	other, err := specter.ParseReply([]byte(get(t, srv, signedRead(acc, specter.ActionArticleQueue, "b2", false))), "")
	if err != nil || other.Code != specter.CodeBatchOpen || !strings.Contains(other.Message, "'b1'") {
		t.Errorf("second batch while one is open: %+v, %v", other, err)
	}
	if ack := get(t, srv, signedRead(acc, specter.ActionArticleAck, "b2", false)); !strings.HasPrefix(ack, "0;99;") {
		t.Errorf("ack of another batch: %q", ack)
	}
	if ack := get(t, srv, signedRead(acc, specter.ActionArticleAck, "b1", false)); !strings.HasPrefix(ack, "1;") {
		t.Errorf("ack: %q", ack)
	}
	if second := get(t, srv, signedRead(acc, specter.ActionArticleQueue, "b2", true)); strings.Count(second, "<article ") != 1 {
		t.Errorf("second page: %q", second)
	}
	// The version-2 user's queue is its own: all three still waiting.
	if n := acc.Pending("1", specter.QueueArticles); n != 3 {
		t.Errorf("v2 user's queue holds %d, want 3", n)
	}
	// The text-form stock queue.
	if err := acc.SetStock("A1", "1", 5); err != nil {
		t.Fatal(err)
	}
	rows := get(t, srv, signedRead(acc, specter.ActionStockQueue, "s1", false))
	if rows != "2;A1;5;s1" {
		t.Errorf("stock rows %q", rows)
	}
}

func TestFaultShapes(t *testing.T) {
	srv := spectertest.NewServer()
	defer srv.Close()
	srv.Faults().Inject(fault.Fault{Kind: fault.Status, Status: http.StatusServiceUnavailable}, fault.Fault{Kind: fault.Status, Status: http.StatusUnauthorized})
	if body := get(t, srv, url.Values{}); !strings.Contains(body, "<html>") {
		t.Errorf("503 body %q, want IIS's HTML page", body)
	}
	if body := get(t, srv, url.Values{}); body != "0;"+specter.CodeAuth+";Unauthorized" {
		t.Errorf("401 body %q", body)
	}
}

func TestClockAndDates(t *testing.T) {
	start := time.Date(2026, 12, 31, 22, 30, 0, 0, time.UTC) // already 2027 in Stockholm
	srv := spectertest.NewServer(spectertest.WithClock(start))
	defer srv.Close()
	acc := srv.Default()
	c, err := specter.New(acc.V2(), specter.WithBaseURL(srv.URL()), specter.WithPace(0))
	if err != nil {
		t.Fatal(err)
	}
	if err := acc.AddArticle(spectertest.Article{No: "A", Name: "A", Stock: map[string]int{"1": 1}}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	cust, err := c.UpsertCustomer(ctx, specterCustomer())
	if err != nil {
		t.Fatal(err)
	}
	srv.Advance(48 * time.Hour)
	form := c.Client().NewForm()
	form.Set("customerId", cust.Ref.ID)
	form.Set("currency", "SEK")
	form.Set("articleNo_1", "A")
	form.Set("noOfItems_1", "1")
	form.Set("priceExclVAT_1", "10")
	form.Set("vatPercent_1", "25")
	r, err := c.Client().Do(ctx, specter.Request{Action: specter.ActionNewOrder, Form: form})
	if err != nil {
		t.Fatal(err)
	}
	var no int
	fmt.Sscan(r.ID, &no)
	if _, err := acc.MarkDelivered(no, "T1"); err != nil {
		t.Fatal(err)
	}
	if o, _ := acc.Order(no); o.Deliveries[0].Date != "2027-01-02" {
		t.Errorf("delivery date %s, want 2027-01-02 (Stockholm, two days on)", o.Deliveries[0].Date)
	}
}

func specterCustomer() commerce.Customer {
	return commerce.Customer{Email: "nyar@example.se", FirstName: "Nils", LastName: "Nyår"}
}

// FuzzServer sends correctly signed requests with arbitrary fields to every
// action: the fake must answer each with a reply the client can read, and
// never fail with a server error.
func FuzzServer(f *testing.F) {
	srv := spectertest.NewServer(spectertest.WithPageLimit(3))
	f.Cleanup(srv.Close)
	acc := srv.Default()
	if err := acc.AddArticle(spectertest.Article{No: "A", Name: "A", Stock: map[string]int{"1": 2}}); err != nil {
		f.Fatal(err)
	}
	actions := []specter.Action{specter.ActionNewCustomer, specter.ActionNewArticles, specter.ActionNewOrder, specter.ActionNewDelivery,
		specter.ActionNewInvoice, specter.ActionGetPDFLink, specter.ActionStockQueue, specter.ActionStockAck, specter.ActionStockReset,
		specter.ActionArticleQueue, specter.ActionArticleAck, specter.ActionOrderQueue, specter.ActionOrderAck, specter.ActionCheckAccountSettings}
	seeds := []string{
		"name=%C5sa&emailAddress=a%40b.se&forceCustomerUpdate=1",
		"articleNo_1=B&name_1=B&priceExclVAT_1=1.5&vatPercent_1=25&createArticleStock_1=1&noItemsInStock_1=3",
		"customerId=1001&currency=SEK&articleNo_1=A&noOfItems_1=1&priceExclVAT_1=-1&vatPercent_1=12&externalOrderNo=x",
		"orderId=5001&useArticleNoRowMapping=1&articleNo_1=A&noOfItems_1=1&deliveryDate=2026-01-01",
		"orderId=5001&typeInvoice=S", "typeDocument=invoice&documentId=70001", "batchNo=b1&getMultipleStocksites=1",
		"batchNo=b1", "batchNo=b2&clearSelf=1", "date=2026-01-01&actionStockChange=http%3A%2F%2F127.0.0.1%3A1%2Fcb",
		"articleNo_1=A&articleNo_2=A", "articleNo_1=%00", "noOfItems_1=1e9", "",
	}
	for i, s := range seeds {
		f.Add(uint8(i), s)
	}
	creds := acc.V1()
	client := &http.Client{Timeout: 5 * time.Second}
	f.Fuzz(func(t *testing.T, which uint8, body string) {
		spec, _ := specter.Spec(actions[int(which)%len(actions)])
		form, err := url.ParseQuery(body)
		if err != nil {
			return
		}
		form.Set("key", creds.Key([]byte(spec.SignedPrefix+form.Get(spec.Signed))))
		q := url.Values{"action": {string(spec.Action)}, "sbmId": {creds.SBMID}, "useXML": {"2"}}
		resp, err := client.Post(srv.URL()+spec.Endpoint+"?"+q.Encode(), "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s %q: status %d", spec.Action, body, resp.StatusCode)
		}
		if _, err := specter.ParseReply(b, resp.Header.Get("Content-Type")); err != nil {
			t.Fatalf("%s %q: unreadable reply: %v", spec.Action, body, err)
		}
	})
}
