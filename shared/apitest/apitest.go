// Package apitest drives the real Lambda handlers in tests: it builds API Gateway v2 events from
// the sample in events/api-request.json, runs them through the function that serves the route
// (per the shared route table) against the local DynamoDB, and validates every response against
// the OpenAPI document.
package apitest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"

	"github.com/tilgang/tilgang/shared/access"
	"github.com/tilgang/tilgang/shared/app"
	"github.com/tilgang/tilgang/shared/app/allclients"
	"github.com/tilgang/tilgang/shared/cognito"
	"github.com/tilgang/tilgang/shared/config"
	"github.com/tilgang/tilgang/shared/eventbus"
	"github.com/tilgang/tilgang/shared/localstack"
	"github.com/tilgang/tilgang/shared/openapi"
	"github.com/tilgang/tilgang/shared/routes"
)

// Env is an App on the test package's table with a DynamoDB call counter.
type Env struct {
	App     *app.App
	Doc     *openapi.Doc
	Counter *localstack.CallCounter
	// Config is the configuration the App was built with (queues included when requested).
	Config config.Config
	sample events.APIGatewayV2HTTPRequest
}

var reqSeq atomic.Int64

// New builds an Env on the package's fresh table. Call localstack.Main from TestMain.
func New(t testing.TB) *Env {
	t.Helper()
	return NewWith(t, func(*config.Config) {})
}

// NewWith is New with a hook to adjust the configuration (queues, retention, ...).
func NewWith(t testing.TB, adjust func(*config.Config)) *Env {
	t.Helper()
	_, table := localstack.Table(t)
	stack := localstack.Shared(t)
	cfg := config.Config{Region: "eu-north-1", TableName: table, DynamoEndpoint: stack.DynamoEndpoint,
		SQSEndpoint: stack.SQSEndpoint, NotificationRetentionDays: 30}
	adjust(&cfg)
	counter := &localstack.CallCounter{}
	a, err := app.New(context.Background(), cfg, app.Options{
		DynamoOptions: []func(o *dynamodb.Options){counter.Option()},
		APIOptions:    localstack.RecordCalls(),
		Log:           slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		t.Fatal(err)
	}
	allclients.Wire(a)
	wireStandIns(a)
	doc, err := openapi.Load()
	if err != nil {
		t.Fatal(err)
	}
	return &Env{App: a, Doc: doc, Counter: counter, Config: cfg, sample: Sample(t, "api-request.json")}
}

// wireStandIns gives the App the real Cognito and EventBridge adapters where the configuration
// names no user pool or bus (nor the local events queue), on a local stand-in that answers any
// call with an empty success. Their answers carry nothing the adapters read, so the handlers
// behave as with no login provider and no events, but the adapters' SDK calls are made, and
// checked against the functions' IAM grants (localstack.RecordCalls).
func wireStandIns(a *app.App) {
	endpoint := aws.String(standIn())
	if a.Config.UserPoolID == "" {
		a.People.Identity = cognito.New(cip.NewFromConfig(a.AWS, func(o *cip.Options) { o.BaseEndpoint = endpoint }), "eu-north-1_standin")
	}
	if a.Config.EventBusName == "" && a.Config.EventsQueueURL == "" {
		a.People.Events = &eventbus.EventBridge{Bus: "standin",
			Client: eventbridge.NewFromConfig(a.AWS, func(o *eventbridge.Options) { o.BaseEndpoint = endpoint })}
	}
}

// standIn is the URL of a server that answers every call of the AWS JSON protocols (Cognito's
// and EventBridge's) with an empty success, whatever it asks: there is no local Cognito or
// EventBridge server, and no input is pinned.
var standIn = sync.OnceValue(func() string {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		_, _ = w.Write([]byte("{}"))
	})).URL
})

// Sample reads an events/*.json file into an API Gateway v2 request.
func Sample(t testing.TB, name string) events.APIGatewayV2HTTPRequest {
	t.Helper()
	root, err := localstack.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(root, "events", name))
	if err != nil {
		t.Fatal(err)
	}
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatalf("events/%s: %v", name, err)
	}
	return ev
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// Tenant is a tenant made for a test, with its owner.
type Tenant struct {
	ID    string
	Owner *Actor
}

// NewTenant opens an account whose owner's email is unique to this call; with employees the
// Employees app is activated with the given templates (nil: none).
func (e *Env) NewTenant(t testing.TB, activate bool, templates ...string) *Tenant {
	t.Helper()
	n := reqSeq.Add(1)
	tn, owner, err := e.App.People.CreateTenant(context.Background(), access.NewTenant{
		Name: fmt.Sprintf("Clinic %d", n), OwnerName: fmt.Sprintf("Owner %d", n),
		OwnerEmail: fmt.Sprintf("owner-%d-%s@example.com", n, strings.ToLower(access.NewULID("x"))),
	})
	if err != nil {
		t.Fatal(err)
	}
	ten := &Tenant{ID: tn.ID, Owner: e.As(tn.ID, owner.ID)}
	if activate {
		if templates == nil {
			templates = []string{}
		}
		ten.Owner.Must(t, "POST", "/v1/apps/employees/activate", map[string]any{"templates": templates}, 200)
	}
	return ten
}

// UniqueEmail returns an email no other test uses.
func UniqueEmail(prefix string) string {
	return fmt.Sprintf("%s-%d-%s@example.com", prefix, reqSeq.Add(1), strings.ToLower(access.NewULID("e")[2:]))
}

// Actor makes requests as one user of one tenant.
type Actor struct {
	env      *Env
	TenantID string
	UserID   string
}

// As returns an actor whose token names this tenant and user.
func (e *Env) As(tenantID, userID string) *Actor {
	return &Actor{env: e, TenantID: tenantID, UserID: userID}
}

// Response is a handler's answer.
type Response struct {
	Status  int
	Headers map[string]string
	Body    string
}

// JSON decodes the body.
func (r Response) JSON(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(r.Body), v); err != nil {
		t.Fatalf("decode %q: %v", r.Body, err)
	}
}

// Map decodes the body into a map.
func (r Response) Map(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	r.JSON(t, &m)
	return m
}

// Event builds the API Gateway event for a request: body is marshalled to JSON unless it is a
// string (sent as is) or nil; headers are name, value pairs.
func (a *Actor) Event(t testing.TB, method, target string, body any, headers ...string) events.APIGatewayV2HTTPRequest {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	route, params, ok := routes.Match(method, u.Path)
	if !ok {
		t.Fatalf("no route for %s %s", method, u.Path)
	}
	ev := a.env.sample
	ev.RouteKey, ev.RawPath, ev.RawQueryString = route.Key(), u.Path, u.RawQuery
	ev.PathParameters = params
	ev.QueryStringParameters = nil
	for k, v := range u.Query() {
		if ev.QueryStringParameters == nil {
			ev.QueryStringParameters = map[string]string{}
		}
		ev.QueryStringParameters[k] = strings.Join(v, ",")
	}
	ev.Headers = map[string]string{}
	for k, v := range a.env.sample.Headers {
		ev.Headers[k] = v
	}
	for i := 0; i+1 < len(headers); i += 2 {
		ev.Headers[strings.ToLower(headers[i])] = headers[i+1]
	}
	switch b := body.(type) {
	case nil:
		ev.Body = ""
	case string:
		ev.Body = b
		ev.Headers["content-type"] = "application/json"
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		ev.Body = string(raw)
		ev.Headers["content-type"] = "application/json"
	}
	ev.RequestContext.RouteKey = route.Key()
	ev.RequestContext.HTTP.Method, ev.RequestContext.HTTP.Path = method, u.Path
	ev.RequestContext.RequestID = fmt.Sprintf("test-%d", reqSeq.Add(1))
	claims := map[string]string{}
	for k, v := range a.env.sample.RequestContext.Authorizer.JWT.Claims {
		claims[k] = v
	}
	claims["cognito:username"], claims["custom:tenant_id"] = a.UserID, a.TenantID
	auth := *a.env.sample.RequestContext.Authorizer
	jwt := *auth.JWT
	jwt.Claims = claims
	auth.JWT = &jwt
	ev.RequestContext.Authorizer = &auth
	return ev
}

// Do sends a request through the route's function and validates the response against the
// OpenAPI document.
func (a *Actor) Do(t testing.TB, method, target string, body any, headers ...string) Response {
	t.Helper()
	ev := a.Event(t, method, target, body, headers...)
	return a.env.Invoke(t, ev)
}

// Invoke runs an event through its function's handler and validates the response.
func (e *Env) Invoke(t testing.TB, ev events.APIGatewayV2HTTPRequest) Response {
	t.Helper()
	route, _, ok := routes.Match(ev.RequestContext.HTTP.Method, ev.RawPath)
	if !ok {
		t.Fatalf("no route for %s", ev.RouteKey)
	}
	res, err := allclients.API(e.App, route.Function)(context.Background(), ev)
	if err != nil {
		t.Fatalf("%s: handler error: %v", ev.RouteKey, err)
	}
	if res.StatusCode >= 500 {
		t.Errorf("%s %s: status %d: %s", ev.RequestContext.HTTP.Method, ev.RawPath, res.StatusCode, res.Body)
	}
	if err := e.Doc.ValidateResponse(ev, res); err != nil {
		t.Errorf("%s %s: response %d does not match the OpenAPI document: %v\nbody: %s", ev.RequestContext.HTTP.Method, ev.RawPath, res.StatusCode, err, res.Body)
	}
	return Response{Status: res.StatusCode, Headers: res.Headers, Body: res.Body}
}

// Must sends a request and fails the test unless the status is want; it returns the response.
func (a *Actor) Must(t testing.TB, method, target string, body any, want int, headers ...string) Response {
	t.Helper()
	r := a.Do(t, method, target, body, headers...)
	if r.Status != want {
		t.Fatalf("%s %s: status %d, want %d: %s", method, target, r.Status, want, r.Body)
	}
	return r
}

// CreateUser creates a user with a unique email and returns its id.
func (a *Actor) CreateUser(t testing.TB, fields map[string]any) string {
	t.Helper()
	body := map[string]any{"name": "Employee", "email": UniqueEmail("user"), "profession": "practitioner"}
	for k, v := range fields {
		body[k] = v
	}
	r := a.Must(t, "POST", "/v1/users", body, 201)
	return r.Map(t)["id"].(string)
}

// CreateGroup creates a group and returns its id.
func (a *Actor) CreateGroup(t testing.TB, name string, perms map[string]any) string {
	t.Helper()
	r := a.Must(t, "POST", "/v1/groups", map[string]any{"name": name, "permissions": perms}, 201)
	return r.Map(t)["id"].(string)
}
