// Package scim is Tilgang's SCIM 2.0 service provider (RFC 7643, RFC 7644) under /scim/v2: API
// Gateway events carrying a tenant's provisioning token → the provisioning use cases
// (people.Provisioning) → application/scim+json. It accepts what Entra ID and Okta send (see
// patch.go and filter.go) and answers SCIM error documents with their scimType.
package scim

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tilgang/tilgang/shared/access"
	"github.com/tilgang/tilgang/shared/access/people"
	"github.com/tilgang/tilgang/shared/routes"
)

// Schema URNs.
const (
	URNUser             = "urn:ietf:params:scim:schemas:core:2.0:User"
	URNGroup            = "urn:ietf:params:scim:schemas:core:2.0:Group"
	URNEnterprise       = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	URNListResponse     = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	URNPatchOp          = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	URNError            = "urn:ietf:params:scim:api:messages:2.0:Error"
	URNServiceProvider  = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
	URNResourceType     = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
	URNSchema           = "urn:ietf:params:scim:schemas:core:2.0:Schema"
	ContentType         = "application/scim+json"
	maxBodyBytes        = 1 << 20
	maxResults          = 100
	maxFilterCandidates = 1000
)

// Error is a SCIM error: an HTTP status, a scimType (RFC 7644, section 3.12) and a detail.
type Error struct {
	Status   int
	SCIMType string
	Detail   string
}

func (e *Error) Error() string { return fmt.Sprintf("scim %d %s: %s", e.Status, e.SCIMType, e.Detail) }

func badRequest(scimType, format string, args ...any) error {
	return &Error{Status: http.StatusBadRequest, SCIMType: scimType, Detail: fmt.Sprintf(format, args...)}
}

// Handler serves the SCIM routes.
type Handler struct {
	P   *people.Provisioning
	Log *slog.Logger
}

type request struct {
	ev   events.APIGatewayV2HTTPRequest
	c    *access.Caller
	base string // absolute URL of /scim/v2, for meta.location
}

type response struct {
	status  int
	body    any
	headers map[string]string
}

type routeFunc func(ctx context.Context, r *request) (response, error)

func (h *Handler) table() map[string]routeFunc {
	return map[string]routeFunc{
		"GET /scim/v2/ServiceProviderConfig": h.serviceProviderConfig,
		"GET /scim/v2/ResourceTypes":         h.resourceTypes,
		"GET /scim/v2/ResourceTypes/{id}":    h.resourceType,
		"GET /scim/v2/Schemas":               h.schemas,
		"GET /scim/v2/Schemas/{id}":          h.schema,
		"GET /scim/v2/Users":                 h.listUsers,
		"POST /scim/v2/Users":                h.createUser,
		"GET /scim/v2/Users/{id}":            h.getUser,
		"PUT /scim/v2/Users/{id}":            h.replaceUser,
		"PATCH /scim/v2/Users/{id}":          h.patchUser,
		"DELETE /scim/v2/Users/{id}":         h.deleteUser,
		"GET /scim/v2/Groups":                h.listGroups,
		"POST /scim/v2/Groups":               h.createGroup,
		"GET /scim/v2/Groups/{id}":           h.getGroup,
		"PUT /scim/v2/Groups/{id}":           h.replaceGroup,
		"PATCH /scim/v2/Groups/{id}":         h.patchGroup,
		"DELETE /scim/v2/Groups/{id}":        h.deleteGroup,
	}
}

// Routes lists the route keys the handler implements (tests check them against routes.SCIM).
func (h *Handler) Routes() []string {
	var out []string
	for k := range h.table() {
		out = append(out, k)
	}
	return out
}

// Lambda is the handler of the scim function. Every route but the discovery documents needs a
// provisioning token in Authorization: Bearer; the discovery documents need one too, so that
// nothing about the service answers strangers.
func (h *Handler) Lambda() func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	tbl := h.table()
	log := h.Log
	if log == nil {
		log = slog.Default()
	}
	return func(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (res events.APIGatewayV2HTTPResponse, err error) {
		defer func() {
			if p := recover(); p != nil {
				log.ErrorContext(ctx, "scim request panicked", "apiRequestId", ev.RequestContext.RequestID, "route", ev.RouteKey,
					"panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				res, err = errorResponse(&Error{Status: 500, Detail: "internal error"}), nil
			}
		}()
		fn, ok := tbl[ev.RouteKey]
		if !ok {
			return errorResponse(&Error{Status: http.StatusNotFound, Detail: "no such SCIM endpoint"}), nil
		}
		secret := bearer(header(ev, "authorization"))
		c, err := h.P.AuthenticateSCIM(ctx, secret, ev.RequestContext.RequestID)
		if err != nil {
			return h.fail(ctx, log, ev, err), nil
		}
		for name, v := range ev.PathParameters {
			if !access.PlausibleID(v) && !strings.HasPrefix(v, "urn:") {
				return h.fail(ctx, log, ev, &Error{Status: http.StatusNotFound, Detail: name + " not found"}), nil
			}
		}
		r := &request{ev: ev, c: c, base: baseURL(ev)}
		out, err := fn(ctx, r)
		if err != nil {
			return h.fail(ctx, log, ev, err), nil
		}
		return render(out), nil
	}
}

func bearer(h string) string {
	scheme, rest, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(rest)
}

func baseURL(ev events.APIGatewayV2HTTPRequest) string {
	// Host keeps a port (the dev server's); API Gateway's domain name has none.
	host := header(ev, "host")
	if host == "" {
		host = ev.RequestContext.DomainName
	}
	scheme := "https"
	if p := header(ev, "x-forwarded-proto"); p == "http" || p == "https" {
		scheme = p
	}
	if host == "" {
		return routes.SCIMBase
	}
	return scheme + "://" + host + routes.SCIMBase
}

func header(ev events.APIGatewayV2HTTPRequest, name string) string {
	if v, ok := ev.Headers[name]; ok {
		return v
	}
	for k, v := range ev.Headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// fail renders an error as a SCIM error document; anything unexpected is a logged 500.
func (h *Handler) fail(ctx context.Context, log *slog.Logger, ev events.APIGatewayV2HTTPRequest, err error) events.APIGatewayV2HTTPResponse {
	var se *Error
	if errors.As(err, &se) {
		return errorResponse(se)
	}
	var ae *access.Error
	if errors.As(err, &ae) {
		detail := ae.Message
		if ae.Field != "" {
			detail = ae.Field + ": " + ae.Message
		}
		e := &Error{Detail: detail}
		switch ae.Code {
		case access.CodeInvalid:
			e.Status, e.SCIMType = http.StatusBadRequest, "invalidValue"
		case access.CodeNotFound:
			e.Status = http.StatusNotFound
		case access.CodeConflict:
			e.Status = http.StatusConflict
			if ae.Field == "userName" {
				e.SCIMType = "uniqueness"
			}
		case access.CodeForbidden:
			e.Status = http.StatusForbidden
		case access.CodeStale:
			e.Status = http.StatusPreconditionFailed
		case access.CodeUnauthenticated:
			e.Status = http.StatusUnauthorized
		case access.CodeTooLarge:
			e.Status, e.SCIMType = http.StatusRequestEntityTooLarge, "tooMany"
		case access.CodeNotActivated:
			e.Status = http.StatusConflict
		default:
			e.Status = http.StatusBadRequest
		}
		return errorResponse(e)
	}
	log.ErrorContext(ctx, "scim request failed", "apiRequestId", ev.RequestContext.RequestID, "route", ev.RouteKey, "error", err.Error())
	return errorResponse(&Error{Status: http.StatusInternalServerError, Detail: "internal error"})
}

func errorResponse(e *Error) events.APIGatewayV2HTTPResponse {
	body := map[string]any{"schemas": []string{URNError}, "status": strconv.Itoa(e.Status), "detail": e.Detail}
	if e.SCIMType != "" {
		body["scimType"] = e.SCIMType
	}
	res := render(response{status: e.Status, body: body})
	if e.Status == http.StatusUnauthorized {
		res.Headers["WWW-Authenticate"] = `Bearer realm="scim"`
	}
	return res
}

func render(r response) events.APIGatewayV2HTTPResponse {
	out := events.APIGatewayV2HTTPResponse{StatusCode: r.status, Headers: map[string]string{"Cache-Control": "no-store"}}
	for k, v := range r.headers {
		out.Headers[k] = v
	}
	if r.body != nil {
		b, err := json.Marshal(r.body)
		if err != nil {
			return errorResponse(&Error{Status: 500, Detail: "internal error"})
		}
		out.Headers["Content-Type"] = ContentType
		out.Body = string(b)
	}
	return out
}

// body reads a JSON object (application/scim+json or application/json).
func (r *request) body() (map[string]any, error) {
	ct := strings.ToLower(strings.TrimSpace(header(r.ev, "content-type")))
	if ct != "" && !strings.HasPrefix(ct, ContentType) && !strings.HasPrefix(ct, "application/json") {
		return nil, badRequest("invalidSyntax", "Content-Type must be %s or application/json", ContentType)
	}
	raw := []byte(r.ev.Body)
	if r.ev.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(r.ev.Body)
		if err != nil {
			return nil, badRequest("invalidSyntax", "the body is not valid base64")
		}
		raw = b
	}
	if len(raw) > maxBodyBytes {
		return nil, &Error{Status: http.StatusRequestEntityTooLarge, Detail: fmt.Sprintf("the body is over %d bytes", maxBodyBytes)}
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil || m == nil {
		return nil, badRequest("invalidSyntax", "the body must be a JSON object")
	}
	if dec.More() {
		return nil, badRequest("invalidSyntax", "the body must be one JSON object")
	}
	return m, nil
}

// ifMatch reads If-Match: a SCIM version W/"n" or "n"; nil when absent or *. A tag this API
// never gave out matches no version (412).
func (r *request) ifMatch() *int {
	v := strings.TrimSpace(header(r.ev, "if-match"))
	if v == "" || v == "*" {
		return nil
	}
	tag := strings.TrimSpace(strings.Split(v, ",")[0])
	tag = strings.TrimPrefix(tag, "W/")
	n, err := strconv.Atoi(strings.Trim(tag, `"`))
	if err != nil || n < 1 {
		n = 0
	}
	return &n
}

func etag(version int) string { return `W/"` + strconv.Itoa(version) + `"` }

func (r *request) query(name string) string {
	for k, v := range r.ev.QueryStringParameters {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// paging reads startIndex (1-based) and count (RFC 7644, section 3.4.2.4).
func (r *request) paging() (start, count int, err error) {
	start, count = 1, maxResults
	if v := r.query("startIndex"); v != "" {
		n, e := strconv.Atoi(v)
		if e != nil {
			return 0, 0, badRequest("invalidValue", "startIndex must be a whole number")
		}
		start = max(n, 1)
	}
	if v := r.query("count"); v != "" {
		n, e := strconv.Atoi(v)
		if e != nil {
			return 0, 0, badRequest("invalidValue", "count must be a whole number")
		}
		count = min(max(n, 0), maxResults)
	}
	return start, count, nil
}

// listResponse is a ListResponse of one page of all, which holds every match.
func listResponse(all []map[string]any, total, start int) response {
	return response{status: http.StatusOK, body: map[string]any{
		"schemas": []string{URNListResponse}, "totalResults": total, "startIndex": start,
		"itemsPerPage": len(all), "Resources": nonNil(all),
	}}
}

func nonNil(s []map[string]any) []map[string]any {
	if s == nil {
		return []map[string]any{}
	}
	return s
}

// projection applies attributes / excludedAttributes (top-level names) to a resource.
type projection struct {
	include, exclude []string
}

func (r *request) projection() projection {
	split := func(s string) []string {
		var out []string
		for _, p := range strings.Split(s, ",") {
			if p = strings.TrimSpace(p); p != "" {
				// enterprise:…:User:employeeNumber and name.givenName project on their top name.
				if i := strings.LastIndex(p, ":"); i >= 0 && strings.HasPrefix(strings.ToLower(p), "urn:") {
					if strings.EqualFold(p[:i], URNUser) || strings.EqualFold(p[:i], URNGroup) {
						p = p[i+1:]
					} else {
						p = p[:i]
					}
				}
				p, _, _ = strings.Cut(p, ".")
				out = append(out, strings.ToLower(p))
			}
		}
		return out
	}
	return projection{include: split(r.query("attributes")), exclude: split(r.query("excludedAttributes"))}
}

// excludes reports whether the projection leaves out an attribute (to skip reading it).
func (p projection) excludes(name string) bool {
	name = strings.ToLower(name)
	for _, e := range p.exclude {
		if e == name {
			return true
		}
	}
	if len(p.include) == 0 {
		return false
	}
	for _, e := range p.include {
		if e == name {
			return false
		}
	}
	return true
}

func (p projection) apply(res map[string]any) map[string]any {
	if len(p.include) == 0 && len(p.exclude) == 0 {
		return res
	}
	out := map[string]any{}
	for k, v := range res {
		switch strings.ToLower(k) {
		case "id", "schemas", "meta":
			out[k] = v
			continue
		}
		if !p.excludes(k) {
			out[k] = v
		}
	}
	return out
}
