package paypal_test

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/knyt/knyt/connector"
	"github.com/knyt/knyt/paypal"
	"github.com/knyt/knyt/paypal/paypaltest"
)

// The test vector of the reference (PayPal's verify-webhook-signature
// example values, CRC computed over the body).
const (
	vecBody    = `{"id":"WH-TEST","event_type":"PAYMENT.CAPTURE.COMPLETED"}`
	vecID      = "69cd13f0-d67a-11e5-baa3-778b53f4ae55"
	vecTime    = "2016-02-18T20:01:35Z"
	vecWebhook = "1JE4291016473214C"
	vecMessage = "69cd13f0-d67a-11e5-baa3-778b53f4ae55|2016-02-18T20:01:35Z|1JE4291016473214C|3391999205"
)

func TestSignedMessageVector(t *testing.T) {
	if got := paypal.SignedMessage(vecID, vecTime, vecWebhook, []byte(vecBody)); got != vecMessage {
		t.Errorf("got %q\nwant %q", got, vecMessage)
	}
}

var (
	testKeyOnce sync.Once
	testKey     *rsa.PrivateKey
	testCert    *x509.Certificate
)

// selfSigned is a key pair made for these tests, not the fake's.
func selfSigned(t testing.TB) (*rsa.PrivateKey, *x509.Certificate) {
	testKeyOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		tpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "test"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
		der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &k.PublicKey, k)
		if err != nil {
			panic(err)
		}
		testCert, _ = x509.ParseCertificate(der)
		testKey = k
	})
	return testKey, testCert
}

func signedHeaders(t testing.TB, key *rsa.PrivateKey, body []byte) http.Header {
	t.Helper()
	sum := sha256.Sum256([]byte(paypal.SignedMessage(vecID, vecTime, vecWebhook, body)))
	sig, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	h.Set(paypal.HeaderTransmissionID, vecID)
	h.Set(paypal.HeaderTransmissionTime, vecTime)
	h.Set(paypal.HeaderTransmissionSig, base64.StdEncoding.EncodeToString(sig))
	h.Set(paypal.HeaderCertURL, "https://api.paypal.com/v1/notifications/certs/CERT-360caa42-fca2a594-a5cafa77")
	h.Set(paypal.HeaderAuthAlgo, "SHA256withRSA")
	return h
}

func TestVerifyWebhookSignature(t *testing.T) {
	key, cert := selfSigned(t)
	body := []byte(vecBody)
	h := signedHeaders(t, key, body)
	if err := paypal.VerifyWebhookSignature(h, body, vecWebhook, cert); err != nil {
		t.Fatalf("valid delivery: %v", err)
	}
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecCert := &x509.Certificate{PublicKey: &ec.PublicKey}
	otherKey, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	with := func(name, value string) http.Header {
		c := h.Clone()
		c.Set(name, value)
		return c
	}
	tests := []struct {
		name    string
		h       http.Header
		body    []byte
		webhook string
		cert    *x509.Certificate
		want    error
	}{
		{"tampered body", h, []byte(strings.Replace(vecBody, "WH-TEST", "WH-TESU", 1)), vecWebhook, cert, connector.ErrWebhookSignature},
		{"whitespace added", h, append([]byte(vecBody), '\n'), vecWebhook, cert, connector.ErrWebhookSignature},
		{"other webhook", h, body, "2JE4291016473214C", cert, connector.ErrWebhookSignature},
		{"other transmission", with(paypal.HeaderTransmissionID, "69cd13f0-d67a-11e5-baa3-778b53f4ae56"), body, vecWebhook, cert, connector.ErrWebhookSignature},
		{"other time", with(paypal.HeaderTransmissionTime, "2016-02-18T20:01:36Z"), body, vecWebhook, cert, connector.ErrWebhookSignature},
		{"other key", signedHeaders(t, otherKey, body), body, vecWebhook, cert, connector.ErrWebhookSignature},
		{"other algorithm", with(paypal.HeaderAuthAlgo, "SHA1withRSA"), body, vecWebhook, cert, connector.ErrWebhookSignature},
		{"ECDSA certificate", h, body, vecWebhook, ecCert, connector.ErrWebhookSignature},
		{"no certificate", h, body, vecWebhook, nil, connector.ErrWebhookSignature},
		{"empty webhook id", h, body, "", cert, connector.ErrWebhookSignature},
		{"signature not base64", with(paypal.HeaderTransmissionSig, "not*base64"), body, vecWebhook, cert, connector.ErrWebhookMalformed},
		{"no signature", with(paypal.HeaderTransmissionSig, ""), body, vecWebhook, cert, connector.ErrWebhookMalformed},
		{"bad time", with(paypal.HeaderTransmissionTime, "yesterday"), body, vecWebhook, cert, connector.ErrWebhookMalformed},
		{"pipe in id", with(paypal.HeaderTransmissionID, "a|b"), body, vecWebhook, cert, connector.ErrWebhookMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := paypal.VerifyWebhookSignature(tt.h, tt.body, tt.webhook, tt.cert)
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			if sig := tt.h.Get(paypal.HeaderTransmissionSig); len(sig) > 8 && strings.Contains(err.Error(), sig[:8]) {
				t.Errorf("error shows the signature: %v", err)
			}
		})
	}
	missing := h.Clone()
	missing.Del(paypal.HeaderAuthAlgo)
	if err := paypal.VerifyWebhookSignature(missing, body, vecWebhook, cert); !errors.Is(err, connector.ErrWebhookMalformed) {
		t.Errorf("no algorithm header: %v", err)
	}
	twice := h.Clone()
	twice.Add(paypal.HeaderTransmissionID, vecID)
	if err := paypal.VerifyWebhookSignature(twice, body, vecWebhook, cert); !errors.Is(err, connector.ErrWebhookMalformed) {
		t.Errorf("repeated header: %v", err)
	}
}

func TestParseWebhookHeaders(t *testing.T) {
	key, _ := selfSigned(t)
	h := signedHeaders(t, key, []byte(vecBody))
	got, err := paypal.ParseWebhookHeaders(h)
	if err != nil {
		t.Fatal(err)
	}
	want := paypal.WebhookHeaders{
		TransmissionID: vecID, TransmissionTime: vecTime, Time: time.Date(2016, 2, 18, 20, 1, 35, 0, time.UTC),
		CertURL: h.Get(paypal.HeaderCertURL), AuthAlgo: "SHA256withRSA",
	}
	got.Signature = nil
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// FuzzParseWebhookHeaders checks the header reader never panics and that
// what it accepts is safe to put into the signed message.
func FuzzParseWebhookHeaders(f *testing.F) {
	f.Add(vecID, vecTime, "c2lnbmF0dXJl", "https://api.paypal.com/v1/notifications/certs/CERT-1", "SHA256withRSA")
	f.Add("", "", "", "", "")
	f.Add("a|b", "2016-02-18T20:01:35+0000", "====", "http://x", "x")
	f.Add(vecID, "2016-02-30T20:01:35Z", "AA==", "", "SHA256withRSA")
	f.Fuzz(func(t *testing.T, id, at, sig, certURL, algo string) {
		h := http.Header{}
		for name, v := range map[string]string{paypal.HeaderTransmissionID: id, paypal.HeaderTransmissionTime: at, paypal.HeaderTransmissionSig: sig, paypal.HeaderCertURL: certURL, paypal.HeaderAuthAlgo: algo} {
			if v != "" {
				h.Set(name, v)
			}
		}
		w, err := paypal.ParseWebhookHeaders(h)
		if err != nil {
			if !errors.Is(err, connector.ErrWebhookMalformed) {
				t.Fatalf("error %v does not wrap ErrWebhookMalformed", err)
			}
			return
		}
		if strings.ContainsAny(w.TransmissionID+w.TransmissionTime, "| \t\r\n") || len(w.Signature) == 0 || w.Time.IsZero() {
			t.Fatalf("accepted unsafe headers %+v", w)
		}
		if w.TransmissionID != id || w.TransmissionTime != at {
			t.Fatalf("headers changed on the way: %+v", w)
		}
	})
}

func TestCheckCertURL(t *testing.T) {
	for _, u := range []string{
		"https://api.paypal.com/v1/notifications/certs/CERT-360caa42-fca2a594-a5cafa77",
		"https://api.sandbox.paypal.com/v1/notifications/certs/CERT-360caa42-fca2a594-a5cafa77",
		"https://api-m.paypal.com:443/v1/notifications/certs/X",
		"https://API.PAYPAL.COM/certs/X",
	} {
		if err := paypal.CheckCertURL(u); err != nil {
			t.Errorf("%s: %v", u, err)
		}
	}
	for _, u := range []string{
		"http://api.paypal.com/v1/notifications/certs/X",
		"https://api.paypal.com.evil.example/v1/notifications/certs/X",
		"https://evilpaypal.com/v1/notifications/certs/X",
		"https://paypal.com@evil.example/v1/notifications/certs/X",
		"https://user:pw@api.paypal.com/v1/notifications/certs/X",
		"https://api.paypal.com:8443/v1/notifications/certs/X",
		"https://evil.example/?host=api.paypal.com",
		"https://api..paypal.com/x",
		"ftp://api.paypal.com/x",
		"//api.paypal.com/x",
		"",
		"https://127.0.0.1/x",
		"https://%zz/",
	} {
		err := paypal.CheckCertURL(u)
		if !errors.Is(err, paypal.ErrCertURL) || !errors.Is(err, connector.ErrWebhookSignature) {
			t.Errorf("%q: %v, want ErrCertURL", u, err)
		}
	}
}

// countingTransport counts requests before passing them on.
type countingTransport struct {
	n    atomic.Int32
	next http.RoundTripper
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.next.RoundTrip(r)
}

// verifierFor returns a verifier that trusts the fake's CA and fetches
// certificates through it, counting fetches.
func verifierFor(t *testing.T, fake *paypaltest.Server, opts ...paypal.WebhookOption) (*paypal.WebhookVerifier, *countingTransport) {
	t.Helper()
	roots, err := fake.RootCAs()
	if err != nil {
		t.Fatal(err)
	}
	ct := &countingTransport{next: fake.CertTransport()}
	v, err := paypal.NewWebhookVerifier(fake.WebhookID(), append([]paypal.WebhookOption{
		paypal.WithCertHTTPClient(&http.Client{Transport: ct}),
		paypal.WithCertRoots(roots),
		paypal.WithWebhookClock(fake.Now),
	}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return v, ct
}

func TestWebhookDeliveries(t *testing.T) {
	e := newEnv(t, nil)
	id := e.authorize(t, "100.00", "USD")
	c := e.capture(t, id, "100.00", true)
	if _, err := e.client.Refund(t.Context(), connectorRefund(t, c, "10.00"), key("r")); err != nil {
		t.Fatal(err)
	}
	v, fetches := verifierFor(t, e.fake, paypal.WithWebhookAccount("shop-1"))
	var mu sync.Mutex
	var got []string
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ev, err := v.DecodeWebhook(r)
		if err != nil {
			t.Errorf("delivery refused: %v", err)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		mu.Lock()
		got = append(got, ev.Topic+" "+ev.ObjectID+" "+ev.Account)
		mu.Unlock()
	}))
	defer recv.Close()
	n, err := e.fake.DeliverEvents(t.Context(), recv.URL, recv.Client())
	if err != nil || n != 2 {
		t.Fatalf("delivered %d: %v", n, err)
	}
	// PayPal delivers again until it is acknowledged: duplicates verify too.
	if err := e.fake.Deliver(t.Context(), recv.URL, recv.Client(), e.fake.Events()[0].ID); err != nil {
		t.Fatal(err)
	}
	refund := e.fake.Refunds()[0].ID
	want := []string{"PAYMENT.CAPTURE.COMPLETED " + c + " shop-1", "PAYMENT.CAPTURE.REFUNDED " + refund + " shop-1", "PAYMENT.CAPTURE.COMPLETED " + c + " shop-1"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if n := fetches.n.Load(); n != 1 {
		t.Errorf("certificate fetched %d times, want once (cached)", n)
	}
}

func TestWebhookVerifierFetchesOnceUnderLoad(t *testing.T) {
	e := newEnv(t, nil)
	body := []byte(vecBody)
	h, err := e.fake.Sign(body, e.fake.WebhookID())
	if err != nil {
		t.Fatal(err)
	}
	v, fetches := verifierFor(t, e.fake)
	for _, err := range parallel(20, func() error { return v.Verify(t.Context(), h, body) }) {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := fetches.n.Load(); n != 1 {
		t.Errorf("%d fetches for 20 concurrent verifications", n)
	}
}

func TestWebhookVerifierRefuses(t *testing.T) {
	e := newEnv(t, nil)
	body := []byte(vecBody)
	h, err := e.fake.Sign(body, e.fake.WebhookID())
	if err != nil {
		t.Fatal(err)
	}
	with := func(name, value string) http.Header {
		c := h.Clone()
		c.Set(name, value)
		return c
	}
	tests := []struct {
		name    string
		h       http.Header
		body    []byte
		opts    []paypal.WebhookOption
		want    error
		fetches int32
	}{
		{"cert URL off PayPal", with(paypal.HeaderCertURL, "https://certs.example.com/v1/notifications/certs/CERT-1"), body, nil, paypal.ErrCertURL, 0},
		{"cert URL over http", with(paypal.HeaderCertURL, "http://api.paypal.com/v1/notifications/certs/CERT-1"), body, nil, paypal.ErrCertURL, 0},
		{"no cert URL", func() http.Header { c := h.Clone(); c.Del(paypal.HeaderCertURL); return c }(), body, nil, connector.ErrWebhookMalformed, 0},
		{"tampered body", h, []byte(strings.Replace(vecBody, "COMPLETED", "REFUNDED", 1)), nil, connector.ErrWebhookSignature, 1},
		{"untrusted root", h, body, []paypal.WebhookOption{paypal.WithCertRoots(x509.NewCertPool())}, connector.ErrWebhookSignature, 1},
		{"expired certificate", h, body, []paypal.WebhookOption{paypal.WithWebhookClock(func() time.Time { return start.Add(400 * day) })}, connector.ErrWebhookSignature, 1},
		{"stale delivery", h, body, []paypal.WebhookOption{paypal.WithWebhookTolerance(5 * time.Minute), paypal.WithWebhookClock(func() time.Time { return start.Add(time.Hour) })}, connector.ErrWebhookStale, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, fetches := verifierFor(t, e.fake, tt.opts...)
			err := v.Verify(t.Context(), tt.h, tt.body)
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			if n := fetches.n.Load(); n != tt.fetches {
				t.Errorf("%d certificate fetches, want %d", n, tt.fetches)
			}
		})
	}
}

func TestWebhookCertFetchFailureIsNotASignatureError(t *testing.T) {
	e := newEnv(t, nil)
	body := []byte(vecBody)
	h, err := e.fake.Sign(body, e.fake.WebhookID())
	if err != nil {
		t.Fatal(err)
	}
	failing := roundTrip(func(r *http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: 503, Body: io.NopCloser(bytes.NewReader(nil)), Header: http.Header{}, Request: r}, nil
	})
	v, err := paypal.NewWebhookVerifier(e.fake.WebhookID(), paypal.WithCertHTTPClient(&http.Client{Transport: failing}), paypal.WithWebhookClock(e.fake.Now))
	if err != nil {
		t.Fatal(err)
	}
	err = v.Verify(t.Context(), h, body)
	if errors.Is(err, connector.ErrWebhookSignature) || !errors.Is(err, connector.ErrTemporary) {
		t.Errorf("got %v, want a temporary error (PayPal should deliver again), not a signature error", err)
	}
}

type roundTrip func(*http.Request) (*http.Response, error)

func (f roundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestVerifyWebhookByAPI(t *testing.T) {
	e := newEnv(t, nil)
	id := e.authorize(t, "10.00", "USD")
	e.capture(t, id, "10.00", true)
	ev := e.fake.Events()[0]
	h, err := e.fake.Sign(ev.Body, e.fake.WebhookID())
	if err != nil {
		t.Fatal(err)
	}
	if err := e.client.VerifyWebhookByAPI(t.Context(), e.fake.WebhookID(), h, ev.Body); err != nil {
		t.Fatalf("genuine delivery: %v", err)
	}
	// The body goes to PayPal byte for byte: json.Marshal would have
	// escaped the '&' and '<' and broken the CRC.
	odd := []byte(`{"id":"WH-2","event_type":"CUSTOMER.NOTE","summary":"Tom & Jerry <3 \u00e9"}`)
	ho, err := e.fake.Sign(odd, e.fake.WebhookID())
	if err != nil {
		t.Fatal(err)
	}
	if err := e.client.VerifyWebhookByAPI(t.Context(), e.fake.WebhookID(), ho, odd); err != nil {
		t.Fatalf("body with HTML characters and escapes: %v", err)
	}
	tampered := bytes.Replace(ev.Body, []byte(`"COMPLETED"`), []byte(`"REFUNDED"`), 1)
	if err := e.client.VerifyWebhookByAPI(t.Context(), e.fake.WebhookID(), h, tampered); !errors.Is(err, connector.ErrWebhookSignature) {
		t.Errorf("tampered: %v, want ErrWebhookSignature", err)
	}
	v, err := paypal.NewWebhookVerifier(e.fake.WebhookID(), paypal.WithVerificationAPI(e.client))
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Verify(t.Context(), h, ev.Body); err != nil {
		t.Errorf("verifier through the API: %v", err)
	}
	if err := e.client.VerifyWebhookByAPI(t.Context(), e.fake.WebhookID(), h, []byte("not json")); !errors.Is(err, connector.ErrWebhookMalformed) {
		t.Errorf("non-JSON body: %v", err)
	}
}
