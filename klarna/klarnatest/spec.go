package klarnatest

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
)

//go:embed spec/order-management-api.json spec/settlements-api.json
var specFiles embed.FS

// specs are Klarna's two OpenAPI descriptions, loaded once per process.
type specs struct {
	om, settlements *openapi3.T
}

var (
	loadOnce   sync.Once
	loaded     *specs
	loadFailed error
)

func loadSpecs() (*specs, error) {
	loadOnce.Do(func() {
		var s specs
		var err error
		if s.om, err = loadSpec("spec/order-management-api.json"); err != nil {
			loadFailed = err
			return
		}
		if s.settlements, err = loadSpec("spec/settlements-api.json"); err != nil {
			loadFailed = err
			return
		}
		repairOrderManagement(s.om)
		loaded = &s
	})
	return loaded, loadFailed
}

func loadSpec(name string) (*openapi3.T, error) {
	data, err := specFiles.ReadFile(name)
	if err != nil {
		return nil, err
	}
	doc, err := openapi3.NewLoader().LoadFromData(data)
	if err != nil {
		return nil, fmt.Errorf("klarnatest: load %s: %w", name, err)
	}
	return doc, nil
}

// repairOrderManagement fixes two defects of Klarna's Order Management
// description that would make every real request fail validation. Each is
// a mistake in the file, not a rule of the API:
//
//  1. The operations require a security scheme named "basicAuth", but the
//     file declares it as "Basic-authorization". The name is aliased.
//  2. order_line.type has an enum of one value, the pattern
//     "physical|discount|…|return_fee" pasted verbatim, so "physical" — the
//     value Klarna documents — would be refused. The enum is replaced by its
//     nine values; the (equivalent) pattern is kept.
//
// Nothing else is changed. (The file also has enums of a single null on
// some response-only price fields; the fake never sends those fields.)
func repairOrderManagement(doc *openapi3.T) {
	if ss := doc.Components.SecuritySchemes; ss != nil {
		if basic, ok := ss["Basic-authorization"]; ok {
			ss["basicAuth"] = basic
		}
	}
	if line, ok := doc.Components.Schemas["order_line"]; ok && line.Value != nil {
		if typ, ok := line.Value.Properties["type"]; ok && typ.Value != nil && len(typ.Value.Enum) == 1 {
			if s, ok := typ.Value.Enum[0].(string); ok && strings.Contains(s, "|") {
				var values []any
				for _, v := range strings.Split(s, "|") {
					values = append(values, v)
				}
				typ.Value.Enum = values
			}
		}
	}
}

// operation finds an operation of doc by its path template and method.
func operation(doc *openapi3.T, path, method string) (*routers.Route, error) {
	item := doc.Paths.Value(path)
	if item == nil {
		return nil, fmt.Errorf("klarnatest: spec has no path %s", path)
	}
	op := item.GetOperation(method)
	if op == nil {
		return nil, fmt.Errorf("klarnatest: spec has no %s %s", method, path)
	}
	return &routers.Route{Spec: doc, Path: path, PathItem: item, Method: method, Operation: op}, nil
}

var validationOptions = &openapi3filter.Options{
	// The fake checks Basic credentials itself, before validation, so that
	// a missing or wrong password answers 401 like Klarna does.
	AuthenticationFunc:                openapi3filter.NoopAuthenticationFunc,
	RejectWhenRequestBodyNotSpecified: true,
	SkipSettingDefaults:               true,
	MultiError:                        true,
}

// validateRequest checks r (whose body has been read into body) against
// the operation of route.
func validateRequest(ctx context.Context, route *routers.Route, r *http.Request, pathParams map[string]string, body []byte) error {
	clone := r.Clone(ctx)
	clone.Body = io.NopCloser(bytes.NewReader(body))
	clone.ContentLength = int64(len(body))
	if len(body) == 0 {
		clone.Body = http.NoBody
	}
	return openapi3filter.ValidateRequest(ctx, &openapi3filter.RequestValidationInput{
		Request: clone, PathParams: pathParams, Route: route, Options: validationOptions,
	})
}

// validateResponse checks what the fake is about to answer against the
// operation's documented responses, so that the fake cannot drift from the
// real API unnoticed. Statuses the operation does not document (401, 429,
// 5xx) are not checked.
func validateResponse(ctx context.Context, route *routers.Route, r *http.Request, pathParams map[string]string, status int, header http.Header, body []byte) error {
	in := &openapi3filter.RequestValidationInput{Request: r, PathParams: pathParams, Route: route, Options: validationOptions}
	return openapi3filter.ValidateResponse(ctx, &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 status,
		Header:                 header,
		Body:                   io.NopCloser(bytes.NewReader(body)),
		Options:                &openapi3filter.Options{MultiError: true},
	})
}
