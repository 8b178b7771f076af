// Package openapi holds Tilgang's OpenAPI 3.1 document (openapi.yaml, embedded) and checks Lambda
// requests and responses against it, so handler tests can assert they keep the published contract.
//
// OpenAPI 3.1 with kin-openapi v0.152.0: the loader reads `openapi: 3.1.0` documents natively (no
// loader flag). (*openapi3.T).Validate switches itself to 3.1 rules when the document says 3.1
// (it appends openapi3.IsOpenAPI31OrLater()), and openapi3filter validates bodies and parameters
// with the JSON Schema 2020-12 validator (openapi3.EnableJSONSchema2020()) for 3.1 documents, so
// 3.1 keywords used in the document (type arrays, const, propertyNames, keywords next to $ref)
// are enforced. The document uses no 3.1 feature that kin-openapi does not validate.
package openapi

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-lambda-go/events"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// YAML is the OpenAPI document as published.
//
//go:embed openapi.yaml
var YAML []byte

// Doc is the loaded, validated OpenAPI document.
type Doc struct {
	T      *openapi3.T
	routes map[string]*routers.Route // by route key, "GET /v1/users/{userId}"
	router routers.Router            // for events without a usable RouteKey
}

var (
	loadOnce sync.Once
	loaded   *Doc
	loadErr  error
)

// Load parses and validates the embedded document once and returns it. It is safe for
// concurrent use; the returned *Doc must not be modified.
func Load() (*Doc, error) {
	loadOnce.Do(func() { loaded, loadErr = load(YAML) })
	return loaded, loadErr
}

// MustLoad is Load for tests and init code: it panics if the document is broken.
func MustLoad() *Doc {
	d, err := Load()
	if err != nil {
		panic(err)
	}
	return d
}

func load(data []byte) (*Doc, error) {
	loader := openapi3.NewLoader()
	t, err := loader.LoadFromData(data)
	if err != nil {
		return nil, fmt.Errorf("openapi: load: %w", err)
	}
	if !t.IsOpenAPI31OrLater() {
		return nil, fmt.Errorf("openapi: document is OpenAPI %s, want 3.1", t.OpenAPI)
	}
	if err := t.Validate(loader.Context); err != nil {
		return nil, fmt.Errorf("openapi: validate: %w", err)
	}
	if len(t.Servers) == 0 {
		return nil, errors.New("openapi: document has no servers")
	}
	d := &Doc{T: t, routes: map[string]*routers.Route{}}
	for _, path := range t.Paths.InMatchingOrder() {
		item := t.Paths.Value(path)
		for method, op := range item.Operations() {
			d.routes[method+" "+path] = &routers.Route{
				Spec:      t,
				Server:    t.Servers[0],
				Path:      path,
				PathItem:  item,
				Method:    method,
				Operation: op,
			}
		}
	}
	if d.router, err = gorillamux.NewRouter(t); err != nil {
		return nil, fmt.Errorf("openapi: router: %w", err)
	}
	return d, nil
}

// RouteKeys lists every operation as an API Gateway route key ("GET /v1/users/{userId}"), sorted.
func (d *Doc) RouteKeys() []string {
	keys := make([]string, 0, len(d.routes))
	for k := range d.routes {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Operation returns the operation of a route key, or nil.
func (d *Doc) Operation(routeKey string) *openapi3.Operation {
	if r := d.routes[routeKey]; r != nil {
		return r.Operation
	}
	return nil
}

func options() *openapi3filter.Options {
	return &openapi3filter.Options{
		// Security is API Gateway's JWT authorizer's and the handlers' business, not the contract's.
		AuthenticationFunc:    openapi3filter.NoopAuthenticationFunc,
		IncludeResponseStatus: true,
		MultiError:            true,
	}
}

// ValidateRequest checks a request event against the operation of its route: path and query
// parameters, headers (If-Match, Idempotency-Key) and body. Security is not checked.
func (d *Doc) ValidateRequest(req events.APIGatewayV2HTTPRequest) error {
	input, err := d.requestInput(req)
	if err != nil {
		return err
	}
	if err := openapi3filter.ValidateRequest(context.Background(), input); err != nil {
		return fmt.Errorf("openapi: request %s: %w", input.Route.Method+" "+input.Route.Path, err)
	}
	return nil
}

// ValidateResponse checks a Lambda response against the operation of req's route: the status
// must be documented (a 2xx or 3xx explicitly; errors may fall to the default problem response),
// and the content type, documented headers (ETag) and body must match. A response documented
// without content must have an empty body. Every response object in the document is closed
// (additionalProperties: false; TestResponseSchemasAreClosed keeps it so), so a renamed or
// undocumented field fails here rather than quietly changing the contract.
func (d *Doc) ValidateResponse(req events.APIGatewayV2HTTPRequest, resp events.APIGatewayV2HTTPResponse) error {
	input, err := d.requestInput(req)
	if err != nil {
		return err
	}
	key := input.Route.Method + " " + input.Route.Path
	responses := input.Route.Operation.Responses
	documented := responses.Status(resp.StatusCode)
	if documented == nil && resp.StatusCode < 400 {
		return fmt.Errorf("openapi: response %s: status %d is not documented", key, resp.StatusCode)
	}
	if documented == nil {
		documented = responses.Default()
	}

	body := []byte(resp.Body)
	if resp.IsBase64Encoded {
		if body, err = base64.StdEncoding.DecodeString(resp.Body); err != nil {
			return fmt.Errorf("openapi: response %s: body is not base64: %w", key, err)
		}
	}
	header := http.Header{}
	for k, v := range resp.Headers {
		header.Set(k, v)
	}
	for k, vs := range resp.MultiValueHeaders {
		for _, v := range vs {
			header.Add(k, v)
		}
	}
	if documented != nil && documented.Value != nil && len(documented.Value.Content) == 0 && len(body) > 0 {
		return fmt.Errorf("openapi: response %s: status %d has no body, got %d bytes", key, resp.StatusCode, len(body))
	}

	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: input,
		Status:                 resp.StatusCode,
		Header:                 header,
		Options:                options(),
	}
	out.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		return fmt.Errorf("openapi: response %s %d: %w", key, resp.StatusCode, err)
	}
	return nil
}

// requestInput turns an API Gateway v2 event into the validator's input for its route.
func (d *Doc) requestInput(req events.APIGatewayV2HTTPRequest) (*openapi3filter.RequestValidationInput, error) {
	method := req.RequestContext.HTTP.Method
	path := req.RawPath
	if path == "" {
		path = req.RequestContext.HTTP.Path
	}
	routeKey := req.RouteKey
	if routeKey == "" {
		routeKey = req.RequestContext.RouteKey
	}
	if m, _, ok := strings.Cut(routeKey, " "); ok && method == "" {
		method = m
	}
	if method == "" {
		return nil, errors.New("openapi: request has neither a route key nor a method")
	}

	var body []byte
	if req.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(req.Body)
		if err != nil {
			return nil, fmt.Errorf("openapi: request body is not base64: %w", err)
		}
		body = b
	} else {
		body = []byte(req.Body)
	}

	route := d.routes[routeKey]
	if route != nil && path == "" {
		path = fillPath(route.Path, req.PathParameters)
	}
	query := req.RawQueryString
	if query == "" && len(req.QueryStringParameters) > 0 {
		q := url.Values{}
		for k, v := range req.QueryStringParameters {
			for _, part := range strings.Split(v, ",") { // API Gateway joins repeated keys with commas
				q.Add(k, part)
			}
		}
		query = q.Encode()
	}
	u := &url.URL{Path: path, RawQuery: query}
	httpReq, err := http.NewRequestWithContext(context.Background(), method, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("openapi: request: %w", err)
	}
	httpReq.ContentLength = int64(len(body))
	for k, v := range req.Headers {
		httpReq.Header.Set(k, v)
	}
	for _, c := range req.Cookies {
		httpReq.Header.Add("Cookie", c)
	}

	var params map[string]string
	if route != nil {
		params = req.PathParameters
		if len(params) == 0 {
			params = matchPath(route.Path, path)
		}
	} else {
		// No usable route key (e.g. "$default"): find the operation from the method and path.
		r, p, err := d.router.FindRoute(httpReq)
		if err != nil {
			return nil, fmt.Errorf("openapi: no operation for route key %q (%s %s): %w", routeKey, method, path, err)
		}
		route, params = r, p
	}
	if route.Method != method {
		return nil, fmt.Errorf("openapi: route key %q does not match method %s", routeKey, method)
	}
	return &openapi3filter.RequestValidationInput{
		Request:    httpReq,
		PathParams: params,
		Route:      route,
		Options:    options(),
	}, nil
}

// matchPath extracts the parameters of a path template ("/v1/users/{userId}") from a concrete path.
func matchPath(template, path string) map[string]string {
	tsegs := strings.Split(strings.Trim(template, "/"), "/")
	segs := strings.Split(strings.Trim(path, "/"), "/")
	params := map[string]string{}
	if len(tsegs) != len(segs) {
		return params
	}
	for i, t := range tsegs {
		if strings.HasPrefix(t, "{") && strings.HasSuffix(t, "}") {
			v, err := url.PathUnescape(segs[i])
			if err != nil {
				v = segs[i]
			}
			params[t[1:len(t)-1]] = v
		}
	}
	return params
}

// fillPath writes path parameters into a template.
func fillPath(template string, params map[string]string) string {
	segs := strings.Split(template, "/")
	for i, s := range segs {
		if strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") {
			segs[i] = url.PathEscape(params[s[1:len(s)-1]])
		}
	}
	return strings.Join(segs, "/")
}
