package paypaltest

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"hash/crc32"
	"io"
	"math/big"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// certPathPrefix is where PayPal serves its webhook certificates.
const certPathPrefix = "/v1/notifications/certs/"

// CertName is the DNS name on the fake's signing certificate.
const CertName = "messageverificationcerts.sandbox.paypal.com"

// signingKeys are generated once per process: RSA key generation is slow,
// and fakes started by the same tests may share them. The certificates are
// made per server, from its clock.
var (
	keysOnce       sync.Once
	caKey, leafKey *rsa.PrivateKey
	keysErr        error
)

func generateKeys() {
	keysOnce.Do(func() {
		if caKey, keysErr = rsa.GenerateKey(rand.Reader, 2048); keysErr != nil {
			return
		}
		leafKey, keysErr = rsa.GenerateKey(rand.Reader, 2048)
	})
}

// signingKeys is a server's CA and leaf certificate.
type signingKeys struct {
	ca, leaf *x509.Certificate
	leafPEM  []byte
	roots    *x509.CertPool
}

// keysLocked makes the server's certificates on first use; s.mu is held.
// The CA is valid from a month before to a year after the fake clock's
// time at that moment, the leaf likewise.
func (s *Server) keysLocked() (*signingKeys, error) {
	if s.keys != nil {
		return s.keys, nil
	}
	generateKeys()
	if keysErr != nil {
		return nil, keysErr
	}
	now := s.nowLocked()
	caTpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "paypaltest root CA", Organization: []string{"knyt paypaltest"}},
		NotBefore:             now.Add(-30 * 24 * time.Hour),
		NotAfter:              now.Add(365 * 24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTpl, caTpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, err
	}
	leafTpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: CertName, Organization: []string{"knyt paypaltest"}},
		DNSNames:     []string{CertName},
		NotBefore:    now.Add(-30 * 24 * time.Hour),
		NotAfter:     now.Add(365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTpl, ca, &leafKey.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	leaf, err := x509.ParseCertificate(leafDER)
	if err != nil {
		return nil, err
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	s.keys = &signingKeys{ca: ca, leaf: leaf, roots: roots, leafPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leafDER})}
	return s.keys, nil
}

// WebhookID is the id of the webhook the fake signs deliveries for.
func (s *Server) WebhookID() string { return s.cfg.webhookID }

// CertURL is the PAYPAL-CERT-URL the fake puts on deliveries.
func (s *Server) CertURL() string { return s.cfg.certURL }

// RootCAs is a pool holding the fake's CA, to give the verifier
// (paypal.WithCertRoots) in place of the system roots.
func (s *Server) RootCAs() (*x509.CertPool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, err := s.keysLocked()
	if err != nil {
		return nil, err
	}
	return k.roots, nil
}

// Certificate is the fake's signing certificate.
func (s *Server) Certificate() (*x509.Certificate, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, err := s.keysLocked()
	if err != nil {
		return nil, err
	}
	return k.leaf, nil
}

// CertTransport answers every GET for a path under
// /v1/notifications/certs/, on any host, with the fake's certificate in
// PEM, and anything else with 404: give it to the verifier
// (paypal.WithCertHTTPClient) so that the https URLs on api.paypal.com the
// fake signs with lead to it, without a network.
func (s *Server) CertTransport() http.RoundTripper {
	return roundTripper(func(r *http.Request) (*http.Response, error) {
		resp := &http.Response{Request: r, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Header: http.Header{}}
		s.mu.Lock()
		k, err := s.keysLocked()
		s.mu.Unlock()
		switch {
		case err != nil:
			return nil, err
		case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, certPathPrefix):
			resp.StatusCode = http.StatusOK
			resp.Header.Set("Content-Type", "application/x-pem-file")
			resp.Body = io.NopCloser(bytes.NewReader(k.leafPEM))
		default:
			resp.StatusCode = http.StatusNotFound
			resp.Body = io.NopCloser(strings.NewReader(""))
		}
		return resp, nil
	})
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// serveCert is GET /v1/notifications/certs/{name} on the fake itself.
func (s *Server) serveCert(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	k, err := s.keysLocked()
	s.mu.Unlock()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/x-pem-file")
	w.Write(k.leafPEM)
}

// Event is a webhook event the fake raised.
type Event struct {
	ID        string
	EventType string
	Body      []byte // the exact bytes delivered
	Delivered int    // successful deliveries so far
}

// addEvent records an event; s.mu is held.
func (s *Server) addEvent(eventType, resourceType, summary string, resource any) {
	id := "WH-" + s.newID()
	now := s.nowLocked()
	body, err := json.Marshal(struct {
		ID              string `json:"id"`
		EventVersion    string `json:"event_version"`
		CreateTime      string `json:"create_time"`
		ResourceType    string `json:"resource_type"`
		ResourceVersion string `json:"resource_version"`
		EventType       string `json:"event_type"`
		Summary         string `json:"summary"`
		Resource        any    `json:"resource"`
		Links           []link `json:"links"`
	}{id, "1.0", s.rfc3339(now), resourceType, "2.0", eventType, summary, resource, []link{
		{Href: s.base() + "/v1/notifications/webhooks-events/" + id, Rel: "self", Method: "GET"},
		{Href: s.base() + "/v1/notifications/webhooks-events/" + id + "/resend", Rel: "resend", Method: "POST"},
	}})
	if err != nil {
		panic(err) // the fake's own values always encode
	}
	s.events = append(s.events, &Event{ID: id, EventType: eventType, Body: body})
}

// Events lists the events raised so far, oldest first.
func (s *Server) Events() []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Event, len(s.events))
	for i, e := range s.events {
		out[i] = *e
	}
	return out
}

// Sign returns the headers PayPal would send with body for the webhook
// webhookID, transmitted at the fake clock's time.
func (s *Server) Sign(body []byte, webhookID string) (http.Header, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.signLocked(body, webhookID)
}

func (s *Server) signLocked(body []byte, webhookID string) (http.Header, error) {
	if _, err := s.keysLocked(); err != nil {
		return nil, err
	}
	id := s.transmissionID()
	at := s.rfc3339(s.nowLocked())
	msg := id + "|" + at + "|" + webhookID + "|" + strconv.FormatUint(uint64(crc32.ChecksumIEEE(body)), 10)
	sum := sha256.Sum256([]byte(msg))
	sig, err := rsa.SignPKCS1v15(nil, leafKey, crypto.SHA256, sum[:])
	if err != nil {
		return nil, err
	}
	h := http.Header{}
	h.Set("Paypal-Transmission-Id", id)
	h.Set("Paypal-Transmission-Time", at)
	h.Set("Paypal-Transmission-Sig", base64.StdEncoding.EncodeToString(sig))
	h.Set("Paypal-Cert-Url", s.cfg.certURL)
	h.Set("Paypal-Auth-Algo", "SHA256withRSA")
	h.Set("Content-Type", "application/json")
	return h, nil
}

// transmissionID is a UUID-shaped id like PayPal's.
func (s *Server) transmissionID() string {
	const hex = "0123456789abcdef"
	b := make([]byte, 0, 36)
	for i := range 32 {
		if i == 8 || i == 12 || i == 16 || i == 20 {
			b = append(b, '-')
		}
		b = append(b, hex[s.rng.IntN(16)])
	}
	return string(b)
}

// DeliverEvents posts every event not yet delivered to target, signed for
// the fake's webhook, oldest first, stopping at the first delivery that
// does not get a 2xx. It returns how many were delivered.
func (s *Server) DeliverEvents(ctx context.Context, target string, client *http.Client) (int, error) {
	n := 0
	for _, e := range s.Events() {
		if e.Delivered > 0 {
			continue
		}
		if err := s.Deliver(ctx, target, client, e.ID); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// Deliver posts one event to target (again, if it was delivered before:
// PayPal redelivers until it gets a 2xx, so receivers see duplicates and,
// across events, any order).
func (s *Server) Deliver(ctx context.Context, target string, client *http.Client, eventID string) error {
	if client == nil {
		client = http.DefaultClient
	}
	s.mu.Lock()
	var ev *Event
	for _, e := range s.events {
		if e.ID == eventID {
			ev = e
		}
	}
	if ev == nil {
		s.mu.Unlock()
		return fmt.Errorf("paypaltest: no event %s", eventID)
	}
	h, err := s.signLocked(ev.Body, s.cfg.webhookID)
	body := ev.Body
	s.mu.Unlock()
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header = h
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("paypaltest: delivery of %s answered %d", eventID, resp.StatusCode)
	}
	s.mu.Lock()
	ev.Delivered++
	s.mu.Unlock()
	return nil
}

// verifyWebhook is POST /v1/notifications/verify-webhook-signature: SUCCESS
// when the signature is the fake's over the event's exact bytes for its
// webhook id and certificate URL.
func (s *Server) verifyWebhook(c *call) reply {
	var req struct {
		AuthAlgo         string          `json:"auth_algo"`
		CertURL          string          `json:"cert_url"`
		TransmissionID   string          `json:"transmission_id"`
		TransmissionSig  string          `json:"transmission_sig"`
		TransmissionTime string          `json:"transmission_time"`
		WebhookID        string          `json:"webhook_id"`
		WebhookEvent     json.RawMessage `json:"webhook_event"`
	}
	if rp := s.decodeBody(c, &req); rp != nil {
		return *rp
	}
	status := "FAILURE"
	if k, err := s.keysLocked(); err == nil && req.AuthAlgo == "SHA256withRSA" && req.CertURL == s.cfg.certURL && req.WebhookID == s.cfg.webhookID {
		msg := req.TransmissionID + "|" + req.TransmissionTime + "|" + req.WebhookID + "|" + strconv.FormatUint(uint64(crc32.ChecksumIEEE(req.WebhookEvent)), 10)
		sum := sha256.Sum256([]byte(msg))
		if sig, err := base64.StdEncoding.DecodeString(req.TransmissionSig); err == nil &&
			rsa.VerifyPKCS1v15(k.leaf.PublicKey.(*rsa.PublicKey), crypto.SHA256, sum[:], sig) == nil {
			status = "SUCCESS"
		}
	}
	return reply{status: http.StatusOK, render: func(string) any { return map[string]string{"verification_status": status} }}
}
