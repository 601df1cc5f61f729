package specter_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/connector"
	"github.com/knyt/knyt/specter"
	"github.com/knyt/knyt/specter/spectertest"
)

const token = "callback-secret-7f3a9c"

func TestCallbacks(t *testing.T) {
	f := newFixture(t, specter.WithCallbackToken(token))
	ctx := t.Context()
	hints := make(chan specter.Hint, 16)
	recv := httptest.NewServer(f.c.CallbackHandler(func(_ context.Context, h specter.Hint) {
		select {
		case hints <- h:
		default:
		}
	}))
	t.Cleanup(recv.Close)
	if err := f.c.RegisterCallbacks(ctx, recv.URL+"/specter/callback?shop=butik-1"); err != nil {
		t.Fatal(err)
	}
	registered := f.acc.Callbacks("1")
	if len(registered) != 5 {
		t.Fatalf("registered %v, want all five", registered)
	}
	if u := registered[specter.CallbackInvoice]; !strings.Contains(u, "orderId=$orderId") || !strings.Contains(u, "shop=butik-1") {
		t.Errorf("invoice callback URL %q lacks the placeholders or the base query", u)
	}
	if strings.Contains(f.log.String(), token) {
		t.Error("the callback token appears in the log")
	}

	no := seedOrder(t, ctx, f.c, "#1")
	if err := f.acc.SetStock("TROJA-M", "1", 9); err != nil {
		t.Fatal(err)
	}
	if _, err := f.acc.InvoiceOrder(no); err != nil {
		t.Fatal(err)
	}
	if err := f.acc.RemoveOrder(no); err != nil {
		t.Fatal(err)
	}
	f.srv.WaitCallbacks()
	close(hints)
	var got []specter.Hint
	for h := range hints {
		got = append(got, h)
	}
	want := []specter.Hint{
		{Kind: specter.CallbackStock, Queue: specter.QueueStock, Account: "4711"},
		{Kind: specter.CallbackInvoice, Queue: specter.QueueOrders, OrderID: "5001", InvoiceID: "70001", InvoiceSource: "sbm", Account: "4711"},
		{Kind: specter.CallbackRemoveOrder, Queue: specter.QueueOrders, OrderNo: "5001", Account: "4711"},
	}
	sortHints := cmpopts.SortSlices(func(a, b specter.Hint) bool { return a.Kind < b.Kind })
	if diff := cmp.Diff(want, dedupe(got), sortHints, cmpopts.IgnoreFields(specter.Hint{}, "At")); diff != "" {
		t.Errorf("hints (-want +got):\n%s", diff)
	}
	for _, call := range f.srv.Callbacks() {
		if !call.Done() {
			t.Errorf("callback %v answered %d %q", call.Kind, call.Status, call.Answer)
		}
	}
	// Hints that name an order become order events.
	var events []commerce.OrderEvent
	for _, h := range dedupe(got) {
		ev, ok, err := f.c.HintEvent(ctx, h)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			ev.At = time.Time{}
			events = append(events, ev)
		}
	}
	src := commerce.Origin{Source: commerce.Ref{System: "specter", Account: "4711", ID: "5001"}}
	wantEvents := []commerce.OrderEvent{
		{Origin: src, ID: "order/5001/invoice/70001", Kind: commerce.EventInvoiced, OrderNumber: "#1", InvoiceNumber: "70001"},
		{Origin: src, ID: "order/5001/cancelled", Kind: commerce.EventCancelled, OrderNumber: "#1"},
	}
	if diff := cmp.Diff(wantEvents, events, cmpopts.SortSlices(func(a, b commerce.OrderEvent) bool { return a.ID < b.ID })); diff != "" {
		t.Errorf("events from hints (-want +got):\n%s", diff)
	}
	// The queue reports the same cancellation under the same id.
	queued := drainAll(t, ctx, f.c.OrderEvents())
	if len(queued) == 0 || queued[len(queued)-1].ID != "order/5001/cancelled" {
		t.Errorf("order queue: %+v", queued)
	}
	// A hint for an order nobody knows is a typed error.
	if _, _, err := f.connect(t, f.acc.V2()).HintEvent(ctx, specter.Hint{Kind: specter.CallbackRemoveOrder, OrderNo: "42"}); !errors.Is(err, connector.ErrNotFound) {
		t.Errorf("unknown order: %v", err)
	}
}

// dedupe keeps one hint per kind (stock changes fire once per change).
func dedupe(hs []specter.Hint) []specter.Hint {
	seen := map[specter.CallbackKind]bool{}
	var out []specter.Hint
	for _, h := range hs {
		if !seen[h.Kind] {
			seen[h.Kind] = true
			out = append(out, h)
		}
	}
	return out
}

func TestCallbackHandlerRefuses(t *testing.T) {
	f := newFixture(t, specter.WithCallbackToken(token))
	called := false
	h := f.c.CallbackHandler(func(context.Context, specter.Hint) { called = true })
	cases := []struct {
		name   string
		query  string
		method string
		status int
	}{
		{"no token", "calltype=1", "GET", http.StatusForbidden},
		{"wrong token", "calltype=1&token=guess", "GET", http.StatusForbidden},
		{"token prefix", "calltype=1&token=" + token[:5], "GET", http.StatusForbidden},
		{"unknown calltype", "calltype=9&token=" + token, "GET", http.StatusBadRequest},
		{"wrong method", "calltype=1&token=" + token, "DELETE", http.StatusMethodNotAllowed},
		{"good", "calltype=4&token=" + token, "GET", http.StatusOK},
	}
	for _, c := range cases {
		called = false
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(c.method, "/cb?"+c.query, nil))
		if rec.Code != c.status {
			t.Errorf("%s: status %d, want %d", c.name, rec.Code, c.status)
		}
		if called != (c.status == http.StatusOK) {
			t.Errorf("%s: hint passed on = %v", c.name, called)
		}
		if c.status == http.StatusOK && rec.Body.String() != "1;Done" {
			t.Errorf("%s: answer %q", c.name, rec.Body.String())
		}
	}
	ev, err := f.c.DecodeWebhook(httptest.NewRequest("GET", "/cb?calltype=2&token="+token+"&orderId=5001&invoiceId=70001&invoiceSource=$invoiceSource", nil))
	if err != nil || ev.Topic != "actionNewInvoice" || ev.ObjectID != "70001" || ev.System != "specter" {
		t.Errorf("DecodeWebhook: %+v, %v", ev, err)
	}
	if _, err := f.c.DecodeWebhook(httptest.NewRequest("GET", "/cb?calltype=2&token=x", nil)); !errors.Is(err, connector.ErrWebhookSignature) {
		t.Errorf("DecodeWebhook with a wrong token: %v", err)
	}
	noToken := f.connect(t, f.acc.V2())
	if err := noToken.RegisterCallbacks(t.Context(), "https://example.se/cb"); !errors.Is(err, connector.ErrValidation) {
		t.Errorf("RegisterCallbacks without a token: %v", err)
	}
}

// rawCall sends a hand-made request to the fake and returns its answer.
func rawCall(t *testing.T, base, path string, q url.Values, body string) string {
	t.Helper()
	var resp *http.Response
	var err error
	if body == "" {
		resp, err = http.Get(base + path + "?" + q.Encode())
	} else {
		resp, err = http.Post(base+path+"?"+q.Encode(), "application/x-www-form-urlencoded", strings.NewReader(body))
	}
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func TestFakeRefusesBadRequests(t *testing.T) {
	f := newFixture(t)
	creds := f.acc.V2()
	base := strings.TrimSuffix(f.srv.URL(), "/")
	name := "\xc5sa" // "Åsa" in Windows-1252
	good := creds.Key([]byte(name))
	cases := []struct {
		name  string
		path  string
		query url.Values
		body  string
		want  string
	}{
		{"unsigned", "/putInfo.asp", url.Values{"action": {"newCustomerSubmit"}, "sbmId": {"4711"}, "apiUserId": {"1"}, "useXML": {"1"}}, "name=%C5sa", "0;" + specter.CodeAuth + ";"},
		{"wrongly signed", "/putInfo.asp", url.Values{"action": {"newCustomerSubmit"}, "sbmId": {"4711"}, "apiUserId": {"1"}, "useXML": {"1"}}, "name=%C5sa&key=" + strings.Repeat("0", 32), "0;" + specter.CodeAuth + ";"},
		{"signed over other bytes", "/putInfo.asp", url.Values{"action": {"newCustomerSubmit"}, "sbmId": {"4711"}, "apiUserId": {"1"}, "useXML": {"1"}}, "name=Asa&key=" + good, "0;" + specter.CodeAuth + ";"},
		{"unknown account", "/putInfo.asp", url.Values{"action": {"newCustomerSubmit"}, "sbmId": {"1"}, "useXML": {"1"}}, "name=%C5sa&key=" + good, "0;" + specter.CodeAuth + ";"},
		{"UTF-8 instead of Windows-1252", "/putInfo.asp", url.Values{"action": {"newCustomerSubmit"}, "sbmId": {"4711"}, "apiUserId": {"1"}, "useXML": {"1"}}, "name=%C3%85sa&key=" + good, "0;" + specter.CodeInvalid + ";"},
		{"write on the read endpoint", "/getInfo.asp", url.Values{"action": {"newCustomerSubmit"}, "sbmId": {"4711"}, "useXML": {"1"}}, "", "0;" + specter.CodeUnknownAction + ";"},
		{"unknown action", "/getInfo.asp", url.Values{"action": {"dropTables"}, "sbmId": {"4711"}, "useXML": {"1"}}, "", "0;" + specter.CodeUnknownAction + ";"},
		{"correctly signed", "/PUTINFO.ASP", url.Values{"Action": {"NEWCUSTOMERSUBMIT"}, "SBMID": {"4711"}, "apiUserId": {"1"}, "useXML": {"1"}}, "name=%C5sa&key=" + good, "1;1001;"},
	}
	for _, c := range cases {
		if got := rawCall(t, base, c.path, c.query, c.body); !strings.HasPrefix(got, c.want) {
			t.Errorf("%s: answer %q, want %s…", c.name, got, c.want)
		}
	}
	if cust, _ := f.acc.Customer(1001); cust.Name != "Åsa" {
		t.Errorf("stored name %q, want Åsa", cust.Name)
	}
}

func TestWrongCredentials(t *testing.T) {
	f := newFixture(t)
	creds := f.acc.V2()
	creds.APIUserKey = "not-the-key"
	_, err := f.connect(t, creds).UpsertCustomer(t.Context(), sampleOrder("#1").Customer)
	if !errors.Is(err, connector.ErrAuth) {
		t.Fatalf("got %v, want an auth error", err)
	}
	if strings.Contains(err.Error(), "not-the-key") {
		t.Error("the key appears in the error")
	}
}

// TestMalformedReply: a server answering neither a result line nor XML
// gives a typed temporary error; a write may have been applied.
func TestMalformedReply(t *testing.T) {
	for _, body := range []string{"Microsoft VBScript runtime error '800a000d'", "<html><body>Server Error</body></html>", ""} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, body) }))
		c, err := specter.New(specter.V2("4711", "uk-secret", "ik-secret", "1"), specter.WithBaseURL(srv.URL), specter.WithPace(0))
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.UpsertCustomer(t.Context(), sampleOrder("#1").Customer)
		var ce *connector.Error
		if !errors.Is(err, specter.ErrMalformedReply) || !errors.Is(err, connector.ErrTemporary) || !errors.As(err, &ce) || !ce.MaybeApplied {
			t.Errorf("reply %q: %v, want a temporary, maybe-applied ErrMalformedReply", body, err)
		}
		_, err = c.Stock().Next(t.Context(), "")
		if !errors.As(err, &ce) || ce.MaybeApplied || !errors.Is(err, specter.ErrMalformedReply) {
			t.Errorf("reply %q to a read: %v", body, err)
		}
		srv.Close()
	}
}

func TestNewClientAndMessages(t *testing.T) {
	srv := spectertest.NewServer()
	t.Cleanup(srv.Close)
	if _, err := specter.NewClient(specter.Credentials{SBMID: "1"}); !errors.Is(err, connector.ErrAuth) || !errors.Is(err, specter.ErrCredentials) {
		t.Errorf("incomplete credentials: %v", err)
	}
	cl, err := specter.NewClient(srv.Default().V2(), specter.WithBaseURL(srv.URL()), specter.WithPace(0))
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if err := srv.Default().AddArticle(spectertest.Article{No: "A", Name: "Å"}); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Read(ctx, specter.QueueArticles, "first"); err != nil {
		t.Fatal(err)
	}
	_, err = cl.Read(ctx, specter.QueueArticles, "second")
	for _, want := range []string{"specter", "ReadArticles", "99", `batch "first" is still open`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	form := cl.NewForm()
	form.Set("batchNo", "x")
	form.Set("extra", "🙂")
	_, err = cl.Do(ctx, specter.Request{Action: specter.ActionOrderAck, Form: form})
	var ce *connector.Error
	if !errors.As(err, &ce) || ce.Field != "extra" || !strings.Contains(err.Error(), "U+1F642") {
		t.Errorf("unwritable field: %v", err)
	}
	if _, err := cl.Do(ctx, specter.Request{Action: "deleteEverything", Form: form}); !errors.Is(err, connector.ErrUnsupported) {
		t.Errorf("unknown action: %v", err)
	}
	ae := &specter.ArticleNumberError{Invalid: []specter.InvalidArticleNumber{{SKU: "A B", Reason: "contains a space"}}}
	if !strings.Contains(ae.Error(), `"A B": contains a space`) {
		t.Errorf("ArticleNumberError: %q", ae)
	}
}

// FuzzCallbackHandler: any query is answered without a panic, and only one
// carrying the token is passed on.
func FuzzCallbackHandler(f *testing.F) {
	for _, q := range []string{"calltype=1&token=" + token, "calltype=2&token=" + token + "&orderId=1&invoiceId=%C5", "token=x", "calltype=%ZZ", "calltype=3&token=" + token + "&orderNo=$orderNo", ""} {
		f.Add(q)
	}
	c, err := specter.New(specter.V2("1", "uk-fuzz", "ik-fuzz", ""), specter.WithCallbackToken(token))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, query string) {
		passed := false
		h := c.CallbackHandler(func(context.Context, specter.Hint) { passed = true })
		req := httptest.NewRequest("GET", "/cb", nil)
		req.URL.RawQuery = query
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		q, _ := url.ParseQuery(query)
		if passed && q.Get("token") != token {
			t.Fatalf("query %q without the token was passed on", query)
		}
		if passed != (rec.Code == http.StatusOK) {
			t.Fatalf("query %q: status %d, passed %v", query, rec.Code, passed)
		}
	})
}
