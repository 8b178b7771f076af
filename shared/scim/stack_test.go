package scim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/tilgang/tilgang/shared/apitest"
	"github.com/tilgang/tilgang/shared/app"
	"github.com/tilgang/tilgang/shared/app/allclients"
	"github.com/tilgang/tilgang/shared/config"
	"github.com/tilgang/tilgang/shared/devserver"
	"github.com/tilgang/tilgang/shared/localstack"
	"github.com/tilgang/tilgang/shared/routes"
)

func TestMain(m *testing.M) { localstack.Main(m) }

// The tests drive two stacks: the Lambda handlers on API Gateway events, every response checked
// against the OpenAPI document (apitest), and the dev server over HTTP on the real local
// DynamoDB and SQS, as a directory would call a deployed stack.

// reply is one HTTP answer.
type reply struct {
	Status int
	Header http.Header
	Raw    string
}

func (r reply) Map(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(r.Raw), &m); err != nil {
		t.Fatalf("decode %q: %v", r.Raw, err)
	}
	return m
}

// tenant is a tenant with the Employees app active, seen through one stack.
type tenant struct {
	ID      string
	OwnerID string
	// v1 calls /v1 as a user of the tenant (the owner when userID is "").
	v1 func(t *testing.T, userID, method, path string, body any) reply
	// scim calls /scim/v2 with a bearer token ("" sends none).
	scim func(t *testing.T, token, method, path string, body any, headers ...string) reply
}

type stack interface {
	newTenant(t *testing.T) *tenant
}

var seq atomic.Int64

func marshal(t *testing.T, body any) (string, bool) {
	t.Helper()
	switch b := body.(type) {
	case nil:
		return "", false
	case string:
		return b, true
	}
	raw, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	return string(raw), true
}

// eventStack runs the handlers on events and validates every response with the OpenAPI document.
type eventStack struct{ env *apitest.Env }

func (s eventStack) newTenant(t *testing.T) *tenant {
	ten := s.env.NewTenant(t, true)
	out := &tenant{ID: ten.ID, OwnerID: ten.Owner.UserID}
	out.v1 = func(t *testing.T, userID, method, path string, body any) reply {
		t.Helper()
		if userID == "" {
			userID = out.OwnerID
		}
		r := s.env.As(ten.ID, userID).Do(t, method, path, body)
		h := http.Header{}
		for k, v := range r.Headers {
			h.Set(k, v)
		}
		return reply{Status: r.Status, Header: h, Raw: r.Body}
	}
	out.scim = func(t *testing.T, token, method, target string, body any, headers ...string) reply {
		t.Helper()
		return s.scimEvent(t, token, method, target, body, headers...)
	}
	return out
}

func (s eventStack) scimEvent(t *testing.T, token, method, target string, body any, headers ...string) reply {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	route, params, ok := routes.MatchSCIM(method, u.Path)
	if !ok {
		t.Fatalf("no SCIM route for %s %s", method, u.Path)
	}
	ev := apitest.Sample(t, "api-request.json")
	ev.RouteKey, ev.RawPath, ev.RawQueryString = route.Key(), u.Path, u.RawQuery
	ev.PathParameters = params
	ev.QueryStringParameters = nil
	for k, v := range u.Query() {
		if ev.QueryStringParameters == nil {
			ev.QueryStringParameters = map[string]string{}
		}
		ev.QueryStringParameters[k] = strings.Join(v, ",")
	}
	ev.Headers = map[string]string{"host": "api.example.test"}
	if token != "" {
		ev.Headers["authorization"] = "Bearer " + token
	}
	if raw, ok := marshal(t, body); ok {
		ev.Body = raw
		ev.Headers["content-type"] = "application/scim+json"
	} else {
		ev.Body = ""
	}
	for i := 0; i+1 < len(headers); i += 2 {
		ev.Headers[strings.ToLower(headers[i])] = headers[i+1]
	}
	ev.RequestContext.RouteKey = route.Key()
	ev.RequestContext.HTTP.Method, ev.RequestContext.HTTP.Path = method, u.Path
	ev.RequestContext.RequestID = fmt.Sprintf("scim-test-%d", seq.Add(1))
	ev.RequestContext.Authorizer = nil // no JWT authorizer in front of /scim/v2
	res, err := s.env.App.SCIM()(context.Background(), ev)
	if err != nil {
		t.Fatalf("%s %s: handler error: %v", method, target, err)
	}
	if res.StatusCode >= 500 {
		t.Errorf("%s %s: status %d: %s", method, target, res.StatusCode, res.Body)
	}
	if err := s.env.Doc.ValidateResponse(ev, res); err != nil {
		t.Errorf("%s %s: response %d does not match the OpenAPI document: %v\nbody: %s", method, target, res.StatusCode, err, res.Body)
	}
	h := http.Header{}
	for k, v := range res.Headers {
		h.Set(k, v)
	}
	return reply{Status: res.StatusCode, Header: h, Raw: res.Body}
}

// httpStack is the dev server on the real local DynamoDB and SQS, called over HTTP.
type httpStack struct{ d *devserver.DevServer }

func newHTTPStack(t *testing.T) httpStack {
	s := localstack.Shared(t)
	d, err := devserver.Start(t.Context(), devserver.Options{
		Addr: "127.0.0.1:0",
		Stack: localstack.Options{
			DataDir:        t.TempDir(),
			DynamoEndpoint: s.DynamoEndpoint,
			SQSEndpoint:    s.SQSEndpoint,
		},
		TableName:   fmt.Sprintf("scim-dev-%d", seq.Add(1)),
		QueuePrefix: fmt.Sprintf("scim-dev-%d-", seq.Add(1)),
		Log:         slog.New(slog.DiscardHandler),
		NewApp: func(ctx context.Context, cfg config.Config) (devserver.App, error) {
			a, err := app.New(ctx, cfg, app.Options{Log: slog.New(slog.DiscardHandler), APIOptions: localstack.RecordCalls()})
			if err != nil {
				return devserver.App{}, err
			}
			allclients.Wire(a)
			return devserver.App{
				API:          func(function string) devserver.APIHandler { return allclients.API(a, function) },
				CreateTenant: a.People.CreateTenant,
				UserByEmail:  a.People.UserByEmail,
			}, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return httpStack{d: d}
}

func (s httpStack) do(t *testing.T, token, method, path, contentType string, body any, headers ...string) reply {
	t.Helper()
	var rd io.Reader
	raw, has := marshal(t, body)
	if has {
		rd = bytes.NewReader([]byte(raw))
	}
	req, err := http.NewRequest(method, s.d.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if has {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode >= 500 {
		t.Errorf("%s %s: status %d: %s", method, path, res.StatusCode, b)
	}
	return reply{Status: res.StatusCode, Header: res.Header, Raw: string(b)}
}

func (s httpStack) newTenant(t *testing.T) *tenant {
	t.Helper()
	n := seq.Add(1)
	r := s.do(t, "", "POST", "/dev/tenants", "application/json", map[string]any{"name": fmt.Sprintf("Klinik %d", n),
		"owner": map[string]any{"name": "Owner", "email": apitest.UniqueEmail("scim-owner")}})
	if r.Status != 201 {
		t.Fatalf("create tenant: %d %s", r.Status, r.Raw)
	}
	m := r.Map(t)
	out := &tenant{ID: m["tenantId"].(string), OwnerID: m["ownerId"].(string)}
	out.v1 = func(t *testing.T, userID, method, path string, body any) reply {
		t.Helper()
		if userID == "" {
			userID = out.OwnerID
		}
		tok, err := s.d.Tokens.Issue(out.ID, userID)
		if err != nil {
			t.Fatal(err)
		}
		return s.do(t, tok, method, path, "application/json", body)
	}
	out.scim = func(t *testing.T, token, method, path string, body any, headers ...string) reply {
		t.Helper()
		return s.do(t, token, method, path, "application/scim+json", body, headers...)
	}
	if r := out.v1(t, "", "POST", "/v1/apps/employees/activate", map[string]any{"templates": []string{}}); r.Status != 200 {
		t.Fatalf("activate: %d %s", r.Status, r.Raw)
	}
	return out
}

// stacks runs f on both stacks.
func stacks(t *testing.T, f func(t *testing.T, s stack)) {
	t.Run("lambda", func(t *testing.T) { f(t, eventStack{env: apitest.New(t)}) })
	t.Run("devserver", func(t *testing.T) { f(t, newHTTPStack(t)) })
}
