package paypaltest

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
)

// PayPal's OpenAPI descriptions, copied unchanged from
// github.com/paypal/paypal-rest-api-specifications (openapi/, commit
// ec4d8f3, Apache-2.0; see spec/LICENSE). They are embedded so the fake
// works in any checkout.
//
//go:embed spec/payments_payment_v2.json spec/checkout_orders_v2.json spec/reporting_transactions_v1.json spec/notifications_webhooks_v1.json
var specFS embed.FS

// The specification files, by API.
const (
	specPayments = "spec/payments_payment_v2.json"
	specOrders   = "spec/checkout_orders_v2.json"
	specSearch   = "spec/reporting_transactions_v1.json"
	specWebhooks = "spec/notifications_webhooks_v1.json"
)

// relaxedPatterns replaces patterns that cannot do their job as written.
// The webhooks spec gives transmission_id and transmission_sig the pattern
// ^(?!\d+$)\w+\S+, whose leading \w refuses a base64 signature that starts
// with '+' or '/' — which PayPal's own signatures do one time in 32. The
// fake accepts those; everything else about the pattern stands.
var relaxedPatterns = map[string]string{
	`^(?!\d+$)\w+\S+`: `^(?!\d+$)[\w+/]\S+`,
}

// compilePattern compiles a schema pattern with Go's regexp, adding the one
// construct PayPal's patterns use that RE2 lacks: a leading negative
// lookahead, ^(?!A)B, matched as "^(?:A) does not match and ^B does".
func compilePattern(expr string) (openapi3.RegexMatcher, error) {
	if r, ok := relaxedPatterns[expr]; ok {
		expr = r
	}
	if re, err := regexp.Compile(expr); err == nil {
		return re, nil
	}
	if !strings.HasPrefix(expr, "^(?!") {
		return nil, fmt.Errorf("paypaltest: pattern %q: unsupported syntax", expr)
	}
	depth, end := 0, -1
	for i := 1; i < len(expr) && end < 0; i++ {
		switch expr[i] {
		case '\\':
			i++
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				end = i
			}
		}
	}
	if end < 0 {
		return nil, fmt.Errorf("paypaltest: pattern %q: unbalanced lookahead", expr)
	}
	neg, err := regexp.Compile("^(?:" + expr[4:end] + ")")
	if err != nil {
		return nil, err
	}
	pos, err := regexp.Compile("^" + expr[end+1:])
	if err != nil {
		return nil, err
	}
	return lookahead{neg: neg, pos: pos}, nil
}

type lookahead struct{ neg, pos *regexp.Regexp }

func (l lookahead) MatchString(s string) bool { return !l.neg.MatchString(s) && l.pos.MatchString(s) }

// specSet is the loaded specifications; loading takes a while (the Orders
// description is half a megabyte), so it happens once per process and the
// documents are shared read-only by every fake.
type specSet struct {
	docs map[string]*openapi3.T
}

var (
	specsOnce sync.Once
	specsVal  *specSet
	specsErr  error
)

func loadSpecs() (*specSet, error) {
	specsOnce.Do(func() {
		s := &specSet{docs: map[string]*openapi3.T{}}
		for _, name := range []string{specPayments, specOrders, specSearch, specWebhooks} {
			b, err := specFS.ReadFile(name)
			if err != nil {
				specsErr = err
				return
			}
			doc, err := openapi3.NewLoader().LoadFromData(b)
			if err != nil {
				specsErr = fmt.Errorf("paypaltest: load %s: %w", name, err)
				return
			}
			if err := doc.Validate(context.Background(), openapi3.SetRegexCompiler(compilePattern), openapi3.DisableExamplesValidation()); err != nil {
				specsErr = fmt.Errorf("paypaltest: %s is not valid OpenAPI: %w", name, err)
				return
			}
			s.docs[name] = doc
		}
		specsVal = s
	})
	return specsVal, specsErr
}

// route returns the operation of spec at path template and method.
func (s *specSet) route(spec, method, path string) (*routers.Route, error) {
	doc := s.docs[spec]
	item := doc.Paths.Find(path)
	if item == nil {
		return nil, fmt.Errorf("paypaltest: %s has no path %s", spec, path)
	}
	op := item.GetOperation(method)
	if op == nil {
		return nil, fmt.Errorf("paypaltest: %s has no %s %s", spec, method, path)
	}
	return &routers.Route{Spec: doc, Path: path, PathItem: item, Method: method, Operation: op}, nil
}

// validationIssue is a request the specification refuses, in the terms of
// PayPal's error details.
type validationIssue struct {
	status   int
	field    string
	location string
	issue    string
	desc     string
}

// validateRequest checks r (whose body is body) against route. Security is
// checked by the fake itself, before, with PayPal's own error shapes.
func validateRequest(r *http.Request, body []byte, route *routers.Route, params map[string]string, skipReadOnly bool) *validationIssue {
	r2 := r.Clone(r.Context())
	r2.Body = io.NopCloser(bytes.NewReader(body))
	r2.GetBody = nil
	in := &openapi3filter.RequestValidationInput{
		Request:    r2,
		PathParams: params,
		Route:      route,
		Options: &openapi3filter.Options{
			AuthenticationFunc:         openapi3filter.NoopAuthenticationFunc,
			RegexCompiler:              compilePattern,
			ExcludeReadOnlyValidations: skipReadOnly,
		},
	}
	err := openapi3filter.ValidateRequest(r.Context(), in)
	if err == nil {
		return nil
	}
	vi := &validationIssue{status: http.StatusBadRequest, issue: "INVALID_PARAMETER_SYNTAX", desc: err.Error()}
	var re *openapi3filter.RequestError
	if errors.As(err, &re) {
		switch {
		case re.Parameter != nil:
			vi.field, vi.location = re.Parameter.Name, re.Parameter.In
		case re.RequestBody != nil:
			vi.location = "body"
			if strings.Contains(re.Error(), "header Content-Type") {
				vi.status, vi.issue = http.StatusUnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE"
			}
		}
		if errors.Is(err, openapi3filter.ErrInvalidRequired) {
			vi.issue = "MISSING_REQUIRED_PARAMETER"
		}
	}
	var se *openapi3.SchemaError
	if errors.As(err, &se) {
		// allOf and friends wrap the error that says what is wrong.
		for {
			var inner *openapi3.SchemaError
			if se.Origin == nil || !errors.As(se.Origin, &inner) {
				break
			}
			se = inner
		}
		if p := se.JSONPointer(); len(p) > 0 && vi.location == "body" {
			vi.field = "/" + strings.Join(p, "/")
		}
		switch se.SchemaField {
		case "required":
			vi.issue = "MISSING_REQUIRED_PARAMETER"
		case "maxLength", "minLength":
			vi.issue = "INVALID_STRING_LENGTH"
		}
		vi.desc = se.Reason
	}
	return vi
}

// validateResponse checks an answer against route, for WithResponseValidation.
func validateResponse(r *http.Request, params map[string]string, route *routers.Route, status int, header http.Header, body []byte) error {
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: r, PathParams: params, Route: route},
		Status:                 status,
		Header:                 header,
		Options:                &openapi3filter.Options{RegexCompiler: compilePattern, IncludeResponseStatus: true},
	}
	in.SetBodyBytes(body)
	return openapi3filter.ValidateResponse(r.Context(), in)
}

// issueDescriptions maps each issue code a route may answer with status to
// the description PayPal's description fixes for it (the details[].anyOf
// lists of error_422, captures.refund-422, …), so the fake's error bodies
// say exactly what PayPal's do.
func issueDescriptions(route *routers.Route, status int) map[string]string {
	out := map[string]string{}
	if route.Operation.Responses == nil {
		return out
	}
	ref := route.Operation.Responses.Status(status)
	if ref == nil || ref.Value == nil {
		return out
	}
	mt := ref.Value.Content.Get("application/json")
	if mt == nil || mt.Schema == nil {
		return out
	}
	var walk func(s *openapi3.Schema, depth int)
	walk = func(s *openapi3.Schema, depth int) {
		if s == nil || depth > 8 {
			return
		}
		for _, sub := range s.AllOf {
			walk(sub.Value, depth+1)
		}
		d := s.Properties["details"]
		if d == nil || d.Value == nil || d.Value.Items == nil || d.Value.Items.Value == nil {
			return
		}
		for _, alt := range d.Value.Items.Value.AnyOf {
			if alt.Value == nil {
				continue
			}
			iss, desc := alt.Value.Properties["issue"], alt.Value.Properties["description"]
			if iss == nil || desc == nil || iss.Value == nil || desc.Value == nil || len(iss.Value.Enum) == 0 || len(desc.Value.Enum) == 0 {
				continue
			}
			code, ok1 := iss.Value.Enum[0].(string)
			text, ok2 := desc.Value.Enum[0].(string)
			if ok1 && ok2 {
				out[code] = text
			}
		}
	}
	walk(mt.Schema.Value, 0)
	return out
}
