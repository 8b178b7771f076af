package httpapi

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tilgang/tilgang/shared/access"
	"github.com/tilgang/tilgang/shared/access/clients"
	"github.com/tilgang/tilgang/shared/access/jobs"
	"github.com/tilgang/tilgang/shared/access/people"
	"github.com/tilgang/tilgang/shared/access/reviews"
	"github.com/tilgang/tilgang/shared/routes"
)

// Claim names read from the JWT authorizer's claims (Cognito ID token shape).
const (
	ClaimUsername = "cognito:username"
	ClaimTenant   = "custom:tenant_id"
)

// LambdaHandler is the signature of an API Lambda.
type LambdaHandler func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)

// API serves the HTTP API routes over the use-case services.
type API struct {
	People  *people.Service
	Clients *clients.Service
	Jobs    *jobs.Service
	Reviews *reviews.Service
	// Provisioning manages the SCIM tokens (the SCIM routes themselves are shared/scim's).
	Provisioning *people.Provisioning
	Log          *slog.Logger
}

// request is one API call as the route functions see it.
type request struct {
	ev     events.APIGatewayV2HTTPRequest
	caller *access.Caller
	// tenantID and userID are the token's claims (verified by the authorizer, not yet loaded).
	tenantID, userID string
	// maxBody raises MaxBodyBytes for a route whose body is legitimately larger.
	maxBody int
	// authenticate loads the caller, for the routes that authenticate themselves.
	authenticate access.Authenticate
}

// token names the request's principal as the verified token does.
func (r *request) token() access.Token {
	return access.Token{TenantID: r.tenantID, UserID: r.userID, RequestID: r.ev.RequestContext.RequestID}
}

// authenticated loads the caller of a route that authenticates itself before it answers bad
// input: a request without a valid principal is told so first, as on every other route.
func (r *request) authenticated(ctx context.Context, bad error) error {
	if _, err := r.authenticate(ctx); err != nil {
		return err
	}
	return bad
}

// response is what a route function returns; Handler renders it.
type response struct {
	status  int
	body    any
	version int // sets ETag when > 0
	headers map[string]string
}

type routeFunc func(ctx context.Context, r *request) (response, error)

// authenticatesItself lists the routes that load their principal together with the rest of what
// they read (see people.Service.AuthorizeAs and access.CallerOf): r.caller is nil there;
// r.tenantID and r.userID name the token's principal, and r.authenticate loads it.
var authenticatesItself = map[string]bool{
	"POST /v1/authorize":                true,
	"GET /v1/clients/{clientId}/access": true,
	"GET /v1/users/{userId}/clients":    true,
}

// Function is one API function (routes.APIFunctions): its name, and the route groups that
// implement the routes routes.For gives it. Each function names its own groups, so that a Lambda
// built for one function links that function's handlers (and the use cases they call) only.
type Function struct {
	Name   string
	groups []group
}

// group adds some routes' implementations to a function's table.
type group func(*API, map[string]routeFunc)

// The API functions; each Lambda's main passes its own to app.API.
var (
	Me       = Function{routes.FnMe, []group{(*API).meRoutes, (*API).capabilityRoutes}}
	Users    = Function{routes.FnUsers, []group{(*API).userRoutes, (*API).userBankRoutes, (*API).calendarRoutes}}
	Groups   = Function{routes.FnGroups, []group{(*API).groupRoutes}}
	Settings = Function{routes.FnSettings, []group{(*API).settingsRoutes, (*API).programRoutes, (*API).scimTokenRoutes}}
	Audit    = Function{routes.FnAudit, []group{(*API).auditRoutes}}
	Clients  = Function{routes.FnClients, []group{(*API).clientRoutes, (*API).clientAdminRoutes}}
	Links    = Function{routes.FnLinks, []group{(*API).linkRoutes}}
	Jobs     = Function{routes.FnJobs, []group{(*API).jobRoutes, (*API).reviewRoutes}}
)

// Functions lists every API function, for the processes that serve them all (the dev server,
// make invoke, tests). A Lambda's main names its own function instead: calling this links every
// route's handler.
func Functions() []Function {
	return []Function{Me, Users, Groups, Settings, Audit, Clients, Links, Jobs}
}

// FunctionNamed returns the API function called name (routes.FnMe, ...); like Functions, it is
// for the processes that serve every function.
func FunctionNamed(name string) (Function, bool) {
	for _, f := range Functions() {
		if f.Name == name {
			return f, true
		}
	}
	return Function{}, false
}

// table maps each of fn's route keys to its implementation; TestEveryRouteImplemented checks
// that it holds exactly the routes routes.For(fn.Name) lists.
func (a *API) table(fn Function) map[string]routeFunc {
	m := map[string]routeFunc{}
	for _, group := range fn.groups {
		group(a, m)
	}
	return m
}

// Handler returns the Lambda handler of one function: it serves that function's routes only.
func (a *API) Handler(fn Function) LambdaHandler {
	all := a.table(fn)
	mine := map[string]routeFunc{}
	for _, r := range routes.For(fn.Name) {
		if f, ok := all[r.Key()]; ok {
			mine[r.Key()] = f
		}
	}
	log := a.Log
	if log == nil {
		log = slog.Default()
	}
	return func(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (res events.APIGatewayV2HTTPResponse, err error) {
		reqID := ev.RequestContext.RequestID
		// A bug must still answer as the API does (a problem document), not as Lambda's 502.
		defer func() {
			if p := recover(); p != nil {
				log.ErrorContext(ctx, "request panicked", "apiRequestId", reqID, "route", ev.RouteKey, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				res, err = ProblemResponse(InternalProblem(), reqID), nil
			}
		}()
		fn, ok := mine[ev.RouteKey]
		if !ok {
			return ProblemResponse(Problem{Type: ProblemBaseURI + "not_found", Title: "Not Found", Status: http.StatusNotFound,
				Detail: "no such route: " + ev.RouteKey}, reqID), nil
		}
		r := &request{ev: ev}
		var claims map[string]string
		if ev.RequestContext.Authorizer != nil && ev.RequestContext.Authorizer.JWT != nil {
			claims = ev.RequestContext.Authorizer.JWT.Claims
		}
		tenantID, userID := claims[ClaimTenant], claims[ClaimUsername]
		if !authenticatesItself[ev.RouteKey] {
			caller, err := a.People.Authenticate(ctx, tenantID, userID, reqID)
			if err != nil {
				return a.fail(ctx, log, ev, "", "", err), nil
			}
			r.caller = caller
		}
		r.tenantID, r.userID = tenantID, userID
		r.authenticate = func(ctx context.Context) (*access.Caller, error) {
			return a.People.Authenticate(ctx, tenantID, userID, reqID)
		}
		for name, v := range ev.PathParameters {
			if !access.PlausibleID(v) {
				// Nothing with such an id exists; saying so beats a store error on an oversized key.
				err := error(access.NotFound(strings.TrimSuffix(name, "Id")))
				if r.caller == nil {
					err = r.authenticated(ctx, err)
				}
				return a.fail(ctx, log, ev, tenantID, userID, err), nil
			}
		}
		out, err := fn(ctx, r)
		if err != nil {
			return a.fail(ctx, log, ev, tenantID, userID, err), nil
		}
		return render(out), nil
	}
}

// fail renders an error: domain errors as their problem, anything else as a logged 500.
func (a *API) fail(ctx context.Context, log *slog.Logger, ev events.APIGatewayV2HTTPRequest, tenantID, userID string, err error) events.APIGatewayV2HTTPResponse {
	reqID := ev.RequestContext.RequestID
	if p, ok := ProblemFor(err); ok {
		return ProblemResponse(p, reqID)
	}
	// requestId is Lambda's invocation id, added by the lambdacontext log handler; apiRequestId
	// is API Gateway's, the one the problem's instance shows the client.
	log.ErrorContext(ctx, "request failed", "apiRequestId", reqID, "route", ev.RouteKey, "tenantId", tenantID, "userId", userID, "error", err.Error())
	return ProblemResponse(InternalProblem(), reqID)
}

func render(res response) events.APIGatewayV2HTTPResponse {
	out := events.APIGatewayV2HTTPResponse{StatusCode: res.status, Headers: map[string]string{"Cache-Control": "no-store"}}
	if res.version > 0 {
		out.Headers["ETag"] = ETag(res.version)
	}
	for k, v := range res.headers {
		out.Headers[k] = v
	}
	if res.body != nil {
		b, err := json.Marshal(res.body)
		if err != nil {
			return ProblemResponse(InternalProblem(), "")
		}
		out.Headers["Content-Type"] = "application/json"
		out.Body = string(b)
	}
	return out
}

func ok(body any) response { return response{status: http.StatusOK, body: body} }
func okV(body any, version int) response {
	return response{status: http.StatusOK, body: body, version: version}
}
func created(body any, v int) response {
	return response{status: http.StatusCreated, body: body, version: v}
}
func noContent() response                  { return response{status: http.StatusNoContent} }
func (r *request) path(name string) string { return r.ev.PathParameters[name] }

// ETag renders a version as a strong entity tag.
func ETag(version int) string { return `"` + strconv.Itoa(version) + `"` }

// ifMatch parses If-Match (RFC 9110, section 13.1.1): nil when absent or when it holds "*",
// which matches any current representation. Otherwise the version its entity tag names; a tag
// this API never hands out (a weak one, an invented one) can match no current version, so it
// yields 0, which the use case answers with 412 like a stale version, never 400: a precondition
// that does not hold is a failed precondition. Of a list of several versions the first counts
// (the use cases compare one; clients send the one tag they read).
func (r *request) ifMatch() (*int, error) {
	v := strings.TrimSpace(header(r.ev, "if-match"))
	if v == "" {
		return nil, nil
	}
	none := 0
	version := 0
	for _, tag := range strings.Split(v, ",") {
		tag = strings.TrimSpace(tag)
		if tag == "*" {
			return nil, nil
		}
		// If-Match compares strongly: a weak tag never matches.
		if len(tag) < 3 || tag[0] != '"' || tag[len(tag)-1] != '"' {
			continue
		}
		n, err := strconv.Atoi(tag[1 : len(tag)-1])
		if err != nil || n < 1 || strconv.Itoa(n) != tag[1:len(tag)-1] {
			continue
		}
		if version == 0 {
			version = n
		}
	}
	if version == 0 {
		return &none, nil
	}
	return &version, nil
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

// decode reads the JSON body into dst.
func (r *request) decode(dst any) error {
	b, err := bodyBytes(r.ev.Body, r.ev.IsBase64Encoded, r.maxBody)
	if err != nil {
		return err
	}
	if ct := header(r.ev, "content-type"); ct != "" && !strings.HasPrefix(strings.ToLower(strings.TrimSpace(ct)), "application/json") {
		return access.Invalid("Content-Type", "must be application/json")
	}
	return decodeJSON(b, dst, r.maxBody)
}

// idempotency reads the Idempotency-Key header; the request hash binds it to this body. A key
// is the caller's own: the operation it is stored under names the route and the caller, so
// another user of the tenant who sends the same key and body makes their own resource and never
// receives the first user's.
func (r *request) idempotency() (*access.Idempotency, error) {
	k := strings.TrimSpace(header(r.ev, "idempotency-key"))
	if k == "" {
		return nil, nil
	}
	if len(k) > 255 || strings.ContainsFunc(k, func(c rune) bool { return c < 0x21 || c > 0x7e }) {
		return nil, access.Invalid("Idempotency-Key", "must be 1 to 255 visible ASCII characters")
	}
	b, err := bodyBytes(r.ev.Body, r.ev.IsBase64Encoded, r.maxBody)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(b)
	caller := r.userID
	if r.caller != nil {
		caller = r.caller.User.ID
	}
	return &access.Idempotency{Key: k, Operation: r.ev.RouteKey + " by " + caller, RequestHash: hex.EncodeToString(sum[:])}, nil
}

// page reads limit and cursor.
func (r *request) page() (access.Page, error) {
	var p access.Page
	if v, ok := r.ev.QueryStringParameters["limit"]; ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > access.MaxPageLimit {
			return p, access.Invalid("limit", "must be a whole number from 1 to %d", access.MaxPageLimit)
		}
		p.Limit = n
	}
	p.Cursor = r.ev.QueryStringParameters["cursor"]
	return p, nil
}

// knownQuery refuses query parameters the route does not take, so typos do not pass silently.
func (r *request) knownQuery(names ...string) error {
	for k := range r.ev.QueryStringParameters {
		found := false
		for _, n := range names {
			found = found || n == k
		}
		if !found {
			return access.Invalid(k, "is not a query parameter of this route")
		}
	}
	return nil
}

// list is the envelope of every list response.
type list[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"nextCursor,omitempty"`
}

func listOf[S any, T any](items []S, next string, conv func(S) T) list[T] {
	out := list[T]{Items: make([]T, 0, len(items)), NextCursor: next}
	for _, it := range items {
		out.Items = append(out.Items, conv(it))
	}
	return out
}
