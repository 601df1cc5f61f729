package vat

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultVIESBaseURL is the European Commission's VIES REST service.
const DefaultVIESBaseURL = "https://ec.europa.eu/taxation_customs/vies/rest-api"

// Status is VIES's answer about a VAT number. The zero value is Unknown:
// only an explicit valid=false from VIES makes a number Invalid.
type Status uint8

// VIES answers.
const (
	Unknown Status = iota // no definite answer (service or member state down, busy, timed out)
	Valid                 // registered for intra-EU transactions
	Invalid               // definitely not registered, or not a well-formed number
)

// String names the status.
func (s Status) String() string {
	switch s {
	case Valid:
		return "valid"
	case Invalid:
		return "invalid"
	}
	return "unknown"
}

// MarshalText encodes the status name.
func (s Status) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// CheckResult is the outcome of a VIES check. Keep it with the order as
// evidence: number, date, result and consultation number.
type CheckResult struct {
	Status      Status    `json:"status"`
	CountryCode string    `json:"country_code"` // VAT prefix (EL for Greece)
	VATNumber   string    `json:"vat_number"`   // without the prefix
	RequestDate time.Time `json:"request_date,omitzero"`
	Name        string    `json:"name,omitempty"`    // empty when VIES withholds it ("---")
	Address     string    `json:"address,omitempty"` // empty when VIES withholds it ("---")
	// ConsultationNumber is VIES's requestIdentifier, given when the check
	// named a requester (WithRequester): proof that the check was made.
	ConsultationNumber string `json:"consultation_number,omitempty"`
}

// VIESError is a failure VIES reported (its error code, such as
// MS_UNAVAILABLE) or an HTTP status without a definite answer. It matches
// ErrVIESUnavailable: the number's status is unknown.
type VIESError struct {
	Code       string // VIES error code; empty for a bare HTTP failure
	HTTPStatus int
	Message    string
}

func (e *VIESError) Error() string {
	var b strings.Builder
	b.WriteString("vies unavailable")
	if e.Code != "" {
		b.WriteString(": ")
		b.WriteString(e.Code)
	}
	if e.HTTPStatus != 0 && e.HTTPStatus != http.StatusOK {
		fmt.Fprintf(&b, " (HTTP %d)", e.HTTPStatus)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(truncate(e.Message, 200))
	}
	return b.String()
}

// Is makes errors.Is(err, ErrVIESUnavailable) true.
func (e *VIESError) Is(target error) bool { return target == ErrVIESUnavailable }

// VIESClient checks VAT numbers with the VIES REST service. It keeps no
// global state; one client may be shared by goroutines. It does not retry:
// an Unknown answer should be retried later by the caller (VIES nodes are
// often down for minutes to hours).
type VIESClient struct {
	hc        *http.Client
	base      string
	requester string
}

// VIESOption configures a VIESClient.
type VIESOption func(*VIESClient)

// WithHTTPClient sets the HTTP client (timeouts, transport, test doubles).
func WithHTTPClient(c *http.Client) VIESOption { return func(v *VIESClient) { v.hc = c } }

// WithBaseURL replaces DefaultVIESBaseURL, e.g. with a test server's URL.
func WithBaseURL(u string) VIESOption {
	return func(v *VIESClient) { v.base = strings.TrimRight(u, "/") }
}

// WithRequester names the merchant's own VAT number in every check, so that
// VIES returns a consultation number.
func WithRequester(vatNumber string) VIESOption {
	return func(v *VIESClient) { v.requester = vatNumber }
}

// NewVIESClient returns a client for the VIES REST service. The base URL
// must be https, or http on a loopback address (tests).
func NewVIESClient(opts ...VIESOption) (*VIESClient, error) {
	v := &VIESClient{hc: http.DefaultClient, base: DefaultVIESBaseURL}
	for _, o := range opts {
		o(v)
	}
	u, err := url.Parse(v.base)
	if err != nil || u.Host == "" {
		return nil, &Error{Op: "new vies client", Value: truncate(v.base, 80), Err: ErrInvalid, Detail: "not an absolute URL"}
	}
	if u.Scheme != "https" && !(u.Scheme == "http" && isLoopback(u.Hostname())) {
		return nil, &Error{Op: "new vies client", Value: truncate(v.base, 80), Err: ErrInvalid, Detail: "https required (http only on loopback)"}
	}
	if v.requester != "" {
		n, err := NormalizeNumber(v.requester)
		if err != nil {
			return nil, &Error{Op: "new vies client", Err: fmt.Errorf("requester: %w", err)}
		}
		v.requester = n
	}
	return v, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

type viesRequest struct {
	CountryCode              string `json:"countryCode"`
	VATNumber                string `json:"vatNumber"`
	RequesterMemberStateCode string `json:"requesterMemberStateCode,omitempty"`
	RequesterNumber          string `json:"requesterNumber,omitempty"`
}

type viesResponse struct {
	CountryCode       string `json:"countryCode"`
	VATNumber         string `json:"vatNumber"`
	RequestDate       string `json:"requestDate"`
	Valid             *bool  `json:"valid"`
	RequestIdentifier string `json:"requestIdentifier"`
	Name              string `json:"name"`
	Address           string `json:"address"`
	ActionSucceed     *bool  `json:"actionSucceed"`
	ErrorWrappers     []struct {
		Error   string `json:"error"`
		Message string `json:"message"`
	} `json:"errorWrappers"`
}

// maxVIESBody bounds what is read from VIES; real answers are a few KiB.
const maxVIESBody = 1 << 20

// Check asks VIES whether number is registered. The number is normalised
// first (NormalizeNumber); one that fails its format or checksum is Invalid
// without a request, with the normalisation error returned.
//
// Otherwise the result is Valid or Invalid with a nil error only when VIES
// answered with an explicit valid flag. Every other outcome — a VIES error
// code (MS_UNAVAILABLE, TIMEOUT, INVALID_INPUT, …), an HTTP failure, an
// unreadable answer, a cancelled context — is Unknown with an error that
// matches ErrVIESUnavailable or wraps the cause. Check never reports Invalid
// when the answer is unknown.
func (v *VIESClient) Check(ctx context.Context, number string) (CheckResult, error) {
	const op = "vies check"
	n, err := NormalizeNumber(number)
	if err != nil {
		return CheckResult{Status: Invalid}, err
	}
	res := CheckResult{CountryCode: n[:2], VATNumber: n[2:]}
	req := viesRequest{CountryCode: n[:2], VATNumber: n[2:]}
	if v.requester != "" {
		req.RequesterMemberStateCode, req.RequesterNumber = v.requester[:2], v.requester[2:]
	}
	body, err := json.Marshal(req)
	if err != nil {
		return res, &Error{Op: op, Country: res.CountryCode, Value: n, Err: err}
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, v.base+"/check-vat-number", bytes.NewReader(body))
	if err != nil {
		return res, &Error{Op: op, Country: res.CountryCode, Value: n, Err: err}
	}
	hreq.Header.Set("Content-Type", "application/json")
	hreq.Header.Set("Accept", "application/json")
	if err := ctx.Err(); err != nil {
		return res, &Error{Op: op, Country: res.CountryCode, Value: n, Err: fmt.Errorf("%w: %w", ErrVIESUnavailable, err)}
	}
	resp, err := v.hc.Do(hreq)
	if err != nil {
		return res, &Error{Op: op, Country: res.CountryCode, Value: n, Err: fmt.Errorf("%w: %w", ErrVIESUnavailable, err)}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxVIESBody))
	if err != nil {
		return res, &Error{Op: op, Country: res.CountryCode, Value: n, Err: fmt.Errorf("%w: reading the answer: %w", ErrVIESUnavailable, err)}
	}
	var vr viesResponse
	decodeErr := json.Unmarshal(raw, &vr)
	if decodeErr == nil && len(vr.ErrorWrappers) > 0 {
		return res, &Error{Op: op, Country: res.CountryCode, Value: n, Err: &VIESError{
			Code: vr.ErrorWrappers[0].Error, Message: vr.ErrorWrappers[0].Message, HTTPStatus: resp.StatusCode}}
	}
	if resp.StatusCode != http.StatusOK {
		return res, &Error{Op: op, Country: res.CountryCode, Value: n, Err: &VIESError{HTTPStatus: resp.StatusCode}}
	}
	if decodeErr != nil {
		return res, &Error{Op: op, Country: res.CountryCode, Value: n, Err: &VIESError{HTTPStatus: resp.StatusCode, Message: "unreadable answer: " + decodeErr.Error()}}
	}
	if vr.ActionSucceed != nil && !*vr.ActionSucceed || vr.Valid == nil {
		return res, &Error{Op: op, Country: res.CountryCode, Value: n, Err: &VIESError{HTTPStatus: resp.StatusCode, Message: "answer without a valid flag"}}
	}
	if vr.RequestDate != "" {
		if t, err := parseVIESDate(vr.RequestDate); err == nil {
			res.RequestDate = t
		}
	}
	res.Name, res.Address = withheld(vr.Name), withheld(vr.Address)
	res.ConsultationNumber = vr.RequestIdentifier
	if *vr.Valid {
		res.Status = Valid
	} else {
		res.Status = Invalid
	}
	return res, nil
}

// withheld maps VIES's "---" (data not disclosed) to "".
func withheld(s string) string {
	s = strings.TrimSpace(s)
	if s == "---" {
		return ""
	}
	return s
}

// parseVIESDate accepts the timestamp forms VIES has used.
func parseVIESDate(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02Z07:00", time.DateOnly} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, errors.New("unrecognised date")
}
