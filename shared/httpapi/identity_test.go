package httpapi_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tilgang/tilgang/shared/access"
	"github.com/tilgang/tilgang/shared/apitest"
	"github.com/tilgang/tilgang/shared/httpapi"
	"github.com/tilgang/tilgang/shared/routes"
)

// fakeIdentity is an identity provider whose calls do what each test says; nil means success.
// It records the calls as "op user-id".
type fakeIdentity struct {
	InviteFn, DisableFn, EnableFn, DeleteFn func(context.Context, access.User) error

	mu    sync.Mutex
	calls []string
}

func (f *fakeIdentity) call(ctx context.Context, op string, fn func(context.Context, access.User) error, u access.User) error {
	f.mu.Lock()
	f.calls = append(f.calls, op+" "+u.ID)
	f.mu.Unlock()
	if fn == nil {
		return nil
	}
	return fn(ctx, u)
}

func (f *fakeIdentity) Invite(ctx context.Context, u access.User) error {
	return f.call(ctx, "invite", f.InviteFn, u)
}
func (f *fakeIdentity) Disable(ctx context.Context, u access.User) error {
	return f.call(ctx, "disable", f.DisableFn, u)
}
func (f *fakeIdentity) Enable(ctx context.Context, u access.User) error {
	return f.call(ctx, "enable", f.EnableFn, u)
}
func (f *fakeIdentity) Delete(ctx context.Context, u access.User) error {
	return f.call(ctx, "delete", f.DeleteFn, u)
}

func (f *fakeIdentity) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

var errProvider = errors.New("identity provider unavailable")

func failing(context.Context, access.User) error { return errProvider }

// identityEnv is an Env whose service talks to f (the API shares the service, so swapping the
// port after the tenant exists is enough).
func identityEnv(t *testing.T) (*apitest.Env, *apitest.Tenant, *fakeIdentity) {
	t.Helper()
	env := apitest.New(t)
	ten := env.NewTenant(t, true)
	f := &fakeIdentity{}
	env.App.Service.Identity = f
	return env, ten, f
}

// invokeRaw runs a request through its function without apitest's check that fails the test
// on a 5xx, since here a failing identity provider must produce one.
func invokeRaw(t *testing.T, env *apitest.Env, a *apitest.Actor, method, path string, body any, headers ...string) events.APIGatewayV2HTTPResponse {
	t.Helper()
	ev := a.Event(t, method, path, body, headers...)
	route, _, _ := routes.Match(method, ev.RawPath)
	res, err := env.App.API(route.Function)(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func userState(t *testing.T, owner *apitest.Actor, id string) (status string, version float64) {
	t.Helper()
	m := owner.Must(t, "GET", "/v1/users/"+id, nil, 200).Map(t)
	return m["status"].(string), m["version"].(float64)
}

func TestFailedInviteLeavesNoUser(t *testing.T) {
	env, ten, f := identityEnv(t)
	f.InviteFn = failing
	email := apitest.UniqueEmail("invite")
	body := map[string]any{"name": "Kari Nordmann", "email": email, "profession": "practitioner"}

	key := access.NewULID("key")
	res := invokeRaw(t, env, ten.Owner, "POST", "/v1/users", body, "Idempotency-Key", key)
	if res.StatusCode != http.StatusInternalServerError {
		t.Fatalf("status %d, want 500: %s", res.StatusCode, res.Body)
	}
	if strings.Contains(res.Body, email) || strings.Contains(res.Body, errProvider.Error()) {
		t.Fatalf("the problem leaks the cause: %s", res.Body)
	}
	list := ten.Owner.Must(t, "GET", "/v1/users?q="+email, nil, 200).Map(t)
	for _, u := range list["items"].([]any) {
		if u.(map[string]any)["email"] == email {
			t.Fatalf("the user was left behind: %v", u)
		}
	}

	// The email claim and the Idempotency-Key went with the undone user, so the client's retry
	// creates the user once the provider is back, instead of replaying the undone create.
	f.InviteFn = nil
	id := ten.Owner.Must(t, "POST", "/v1/users", body, 201, "Idempotency-Key", key).Map(t)["id"].(string)
	if calls := f.Calls(); calls[len(calls)-1] != "invite "+id {
		t.Fatalf("calls %v", calls)
	}
}

func TestFailedDisableOrEnableLeavesTheStatus(t *testing.T) {
	env, ten, f := identityEnv(t)
	id := ten.Owner.CreateUser(t, nil)
	_, v0 := userState(t, ten.Owner, id)

	f.DisableFn = failing
	if res := invokeRaw(t, env, ten.Owner, "POST", "/v1/users/"+id+"/deactivate", nil); res.StatusCode != 500 {
		t.Fatalf("deactivate: status %d, want 500: %s", res.StatusCode, res.Body)
	}
	if status, v := userState(t, ten.Owner, id); status != "active" || v != v0 {
		t.Fatalf("after a failed disable: %s v%v, want active v%v", status, v, v0)
	}

	f.DisableFn = nil
	ten.Owner.Must(t, "POST", "/v1/users/"+id+"/deactivate", nil, 200)
	_, v1 := userState(t, ten.Owner, id)
	f.EnableFn = failing
	if res := invokeRaw(t, env, ten.Owner, "POST", "/v1/users/"+id+"/activate", nil); res.StatusCode != 500 {
		t.Fatalf("activate: status %d, want 500: %s", res.StatusCode, res.Body)
	}
	if status, v := userState(t, ten.Owner, id); status != "deactivated" || v != v1 {
		t.Fatalf("after a failed enable: %s v%v, want deactivated v%v", status, v, v1)
	}
}

func TestFailedStatusWriteRestoresTheLogin(t *testing.T) {
	_, ten, f := identityEnv(t)
	id := ten.Owner.CreateUser(t, nil)
	_, v0 := userState(t, ten.Owner, id)

	// Someone else changes the user while the login is being disabled, so the write, bound to
	// the If-Match version, fails after the provider already acted.
	f.DisableFn = func(ctx context.Context, u access.User) error {
		ten.Owner.Must(t, "PATCH", "/v1/users/"+id, map[string]any{"name": "Changed"}, 200)
		return nil
	}
	ten.Owner.Must(t, "POST", "/v1/users/"+id+"/deactivate", nil, 412, "If-Match", httpapi.ETag(int(v0)))
	if status, _ := userState(t, ten.Owner, id); status != "active" {
		t.Fatalf("status %s, want active", status)
	}
	if calls, want := f.Calls(), []string{"invite " + id, "disable " + id, "enable " + id}; !slices.Equal(calls, want) {
		t.Fatalf("calls %v, want %v", calls, want)
	}
}

func TestDeleteUserAndIdentityFailures(t *testing.T) {
	env, ten, f := identityEnv(t)
	id := ten.Owner.CreateUser(t, nil)
	_, v0 := userState(t, ten.Owner, id)

	// The login cannot be disabled: nothing happens.
	f.DisableFn = failing
	if res := invokeRaw(t, env, ten.Owner, "DELETE", "/v1/users/"+id, nil); res.StatusCode != 500 {
		t.Fatalf("delete: status %d, want 500: %s", res.StatusCode, res.Body)
	}
	if status, v := userState(t, ten.Owner, id); status != "active" || v != v0 {
		t.Fatalf("after a failed disable: %s v%v, want active v%v", status, v, v0)
	}

	// The write fails (a stale If-Match after a concurrent change): the login is enabled again.
	f.DisableFn = func(ctx context.Context, u access.User) error {
		ten.Owner.Must(t, "PATCH", "/v1/users/"+id, map[string]any{"name": "Changed"}, 200)
		return nil
	}
	ten.Owner.Must(t, "DELETE", "/v1/users/"+id, nil, 412, "If-Match", httpapi.ETag(int(v0)))
	if status, _ := userState(t, ten.Owner, id); status != "active" {
		t.Fatalf("status %s, want active", status)
	}
	if calls := f.Calls(); calls[len(calls)-1] != "enable "+id {
		t.Fatalf("calls %v: the login was not enabled again", calls)
	}

	// The login cannot be deleted after the user is: the user stays deleted and the login stays
	// disabled, and the failure is reported.
	f.DisableFn, f.DeleteFn = nil, failing
	if res := invokeRaw(t, env, ten.Owner, "DELETE", "/v1/users/"+id, nil); res.StatusCode != 500 {
		t.Fatalf("delete: status %d, want 500: %s", res.StatusCode, res.Body)
	}
	ten.Owner.Must(t, "GET", "/v1/users/"+id, nil, 404)
	calls := f.Calls()
	if want := []string{"disable " + id, "delete " + id}; !slices.Equal(calls[len(calls)-2:], want) {
		t.Fatalf("calls %v, want them to end with %v", calls, want)
	}
}
