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
	InviteFn, DisableFn, EnableFn, DeleteFn, UpdateEmailFn func(context.Context, access.User) error

	mu     sync.Mutex
	calls  []string
	emails []string // the email of each UpdateEmail call
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

func (f *fakeIdentity) UpdateEmail(ctx context.Context, u access.User) error {
	f.mu.Lock()
	f.emails = append(f.emails, u.Email)
	f.mu.Unlock()
	return f.call(ctx, "update-email", f.UpdateEmailFn, u)
}

func (f *fakeIdentity) Emails() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.emails)
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

// bumpVersion changes a user behind the service's back, as a concurrent request would, so that
// a write bound to the version read before fails.
func bumpVersion(t *testing.T, env *apitest.Env, tenantID, id string) {
	t.Helper()
	ctx := context.Background()
	u, err := env.App.Store.GetUser(ctx, tenantID, id)
	if err != nil {
		t.Fatal(err)
	}
	next := u
	next.Version++
	if err := env.App.Store.UpdateUser(ctx, u, next, access.Meta{}); err != nil {
		t.Fatal(err)
	}
}

// countOf counts the calls equal to call.
func countOf(calls []string, call string) int {
	n := 0
	for _, c := range calls {
		if c == call {
			n++
		}
	}
	return n
}

func TestFailedRemoveLeavesTheUserActive(t *testing.T) {
	env, ten, f := identityEnv(t)
	id := ten.Owner.CreateUser(t, nil)
	_, v0 := userState(t, ten.Owner, id)

	f.DisableFn = failing
	if res := invokeRaw(t, env, ten.Owner, "POST", "/v1/users/"+id+"/remove", nil); res.StatusCode != 500 {
		t.Fatalf("remove: status %d, want 500: %s", res.StatusCode, res.Body)
	}
	if status, v := userState(t, ten.Owner, id); status != "active" || v != v0 {
		t.Fatalf("after a failed disable: %s v%v, want active v%v", status, v, v0)
	}

	// The write fails after the login was disabled: the login is enabled again.
	f.DisableFn = func(context.Context, access.User) error { bumpVersion(t, env, ten.ID, id); return nil }
	ten.Owner.Must(t, "POST", "/v1/users/"+id+"/remove", nil, 412, "If-Match", httpapi.ETag(int(v0)))
	if status, _ := userState(t, ten.Owner, id); status != "active" {
		t.Fatalf("status %s, want active", status)
	}
	if calls := f.Calls(); !slices.Equal(calls[len(calls)-2:], []string{"disable " + id, "enable " + id}) {
		t.Fatalf("calls %v: the login was not enabled again", calls)
	}
}

func TestFailedEnableKeepsTheUserInTheBank(t *testing.T) {
	env, ten, f := identityEnv(t)
	id := ten.Owner.CreateUser(t, nil)
	ten.Owner.Must(t, "POST", "/v1/users/"+id+"/remove", nil, 200)
	_, v0 := userState(t, ten.Owner, id)

	// The login cannot be enabled: the user stays in the user bank, unchanged.
	f.EnableFn = failing
	if res := invokeRaw(t, env, ten.Owner, "POST", "/v1/users/"+id+"/restore", nil); res.StatusCode != 500 {
		t.Fatalf("restore: status %d, want 500: %s", res.StatusCode, res.Body)
	}
	if status, v := userState(t, ten.Owner, id); status != "removed" || v != v0 {
		t.Fatalf("after a failed enable: %s v%v, want removed v%v", status, v, v0)
	}

	// The write fails after the login was enabled: the login is disabled again.
	f.EnableFn = func(context.Context, access.User) error { bumpVersion(t, env, ten.ID, id); return nil }
	ten.Owner.Must(t, "POST", "/v1/users/"+id+"/restore", nil, 412, "If-Match", httpapi.ETag(int(v0)))
	if status, _ := userState(t, ten.Owner, id); status != "removed" {
		t.Fatalf("status %s, want removed", status)
	}
	if calls := f.Calls(); !slices.Equal(calls[len(calls)-2:], []string{"enable " + id, "disable " + id}) {
		t.Fatalf("calls %v: the login was not disabled again", calls)
	}

	// With the provider back, the retry restores the user (it is still in the bank, not a 409).
	f.EnableFn = nil
	ten.Owner.Must(t, "POST", "/v1/users/"+id+"/restore", nil, 200)
	if status, _ := userState(t, ten.Owner, id); status != "active" {
		t.Fatalf("status %s, want active", status)
	}
	if calls := f.Calls(); calls[len(calls)-1] != "enable "+id {
		t.Fatalf("calls %v: the login was not enabled", calls)
	}
}

func TestEmailChangeReachesTheLoginFirst(t *testing.T) {
	env, ten, f := identityEnv(t)
	id := ten.Owner.CreateUser(t, nil)
	u0 := ten.Owner.Must(t, "GET", "/v1/users/"+id, nil, 200).Map(t)
	email0, v0 := u0["email"].(string), u0["version"].(float64)
	moved := apitest.UniqueEmail("moved")
	patch := map[string]any{"email": moved}
	unchanged := func(when string) {
		t.Helper()
		u := ten.Owner.Must(t, "GET", "/v1/users/"+id, nil, 200).Map(t)
		if u["email"] != email0 || u["version"] != v0 {
			t.Fatalf("%s: email %v v%v, want %s v%v", when, u["email"], u["version"], email0, v0)
		}
		if _, err := env.App.Store.UserByEmail(context.Background(), moved); !errors.Is(err, access.ErrNotFound) {
			t.Fatalf("%s: the new email is claimed (%v)", when, err)
		}
	}

	// The provider fails: nothing changes.
	f.UpdateEmailFn = failing
	if res := invokeRaw(t, env, ten.Owner, "PATCH", "/v1/users/"+id, patch); res.StatusCode != 500 {
		t.Fatalf("patch: status %d, want 500: %s", res.StatusCode, res.Body)
	}
	unchanged("after a failed update")

	// The provider refuses the email (Cognito's alias conflict): the client's 409, nothing changes.
	f.UpdateEmailFn = func(context.Context, access.User) error {
		return &access.Error{Code: access.CodeConflict, Field: "email", Message: "is already used by another login"}
	}
	ten.Owner.Must(t, "PATCH", "/v1/users/"+id, patch, 409)
	unchanged("after a refused email")

	// The write fails after the login took the new email: the login gets the stored one back.
	f.UpdateEmailFn = func(_ context.Context, u access.User) error {
		if u.Email == moved {
			bumpVersion(t, env, ten.ID, id)
		}
		return nil
	}
	ten.Owner.Must(t, "PATCH", "/v1/users/"+id, patch, 412, "If-Match", httpapi.ETag(int(v0)))
	if emails := f.Emails(); !slices.Equal(emails[len(emails)-2:], []string{moved, email0}) {
		t.Fatalf("emails sent to the login %v, want it to end with %s then %s", emails, moved, email0)
	}

	// Then the change goes through, login first; a change without a new email does not call it.
	f.UpdateEmailFn = nil
	if got := ten.Owner.Must(t, "PATCH", "/v1/users/"+id, patch, 200).Map(t)["email"]; got != moved {
		t.Fatalf("email %v, want %s", got, moved)
	}
	if emails := f.Emails(); emails[len(emails)-1] != moved {
		t.Fatalf("emails sent to the login %v", emails)
	}
	n := len(f.Calls())
	ten.Owner.Must(t, "PATCH", "/v1/users/"+id, map[string]any{"email": moved, "name": "Same Email"}, 200)
	if calls := f.Calls(); len(calls) != n {
		t.Fatalf("calls %v: an unchanged email reached the provider", calls[n:])
	}
}

// flakyPublisher fails while fail is set and keeps the events it published.
type flakyPublisher struct {
	mu     sync.Mutex
	fail   bool
	events []access.Event
}

func (p *flakyPublisher) Publish(_ context.Context, e access.Event) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fail {
		return errors.New("event bus unavailable")
	}
	p.events = append(p.events, e)
	return nil
}

func (p *flakyPublisher) set(fail bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.fail = fail
}

func (p *flakyPublisher) published() []access.Event {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.events)
}

// An anonymisation whose login deletion and event fail is written with a marker of what it
// owes; repeating the request finishes them, each exactly once, and then does nothing.
func TestRepeatedAnonymiseFinishesWhatItOwes(t *testing.T) {
	env, ten, f := identityEnv(t)
	pub := &flakyPublisher{fail: true}
	env.App.Service.Events = pub
	id := ten.Owner.CreateUser(t, nil)
	ten.Owner.Must(t, "POST", "/v1/users/"+id+"/remove", nil, 200)
	pending := func() *access.PendingEffects {
		t.Helper()
		p, err := env.App.Store.GetPendingEffects(context.Background(), ten.ID, id)
		if errors.Is(err, access.ErrNotFound) {
			return nil
		}
		if err != nil {
			t.Fatal(err)
		}
		return &p
	}

	f.DeleteFn = failing
	if res := invokeRaw(t, env, ten.Owner, "POST", "/v1/users/"+id+"/anonymise", nil); res.StatusCode != 500 {
		t.Fatalf("anonymise: status %d, want 500: %s", res.StatusCode, res.Body)
	}
	if status, _ := userState(t, ten.Owner, id); status != "anonymised" {
		t.Fatalf("status %s, want anonymised", status)
	}
	if p := pending(); p == nil || !p.DeleteLogin || !p.Publish || p.TenantID != ten.ID {
		t.Fatalf("marker %+v, want the login deletion and the event owed", p)
	}

	// The provider is back, the bus is not: the login goes, the event stays owed.
	f.DeleteFn = nil
	if res := invokeRaw(t, env, ten.Owner, "POST", "/v1/users/"+id+"/anonymise", nil); res.StatusCode != 500 {
		t.Fatalf("anonymise: status %d, want 500: %s", res.StatusCode, res.Body)
	}
	if p := pending(); p == nil || p.DeleteLogin || !p.Publish {
		t.Fatalf("marker %+v, want only the event owed", p)
	}

	pub.set(false)
	ten.Owner.Must(t, "POST", "/v1/users/"+id+"/anonymise", nil, 200)
	ten.Owner.Must(t, "POST", "/v1/users/"+id+"/anonymise", nil, 200)
	if p := pending(); p != nil {
		t.Fatalf("marker %+v left after everything was done", p)
	}
	// Two login deletions (the failed one and the one that worked, none after), one event.
	if got := countOf(f.Calls(), "delete "+id); got != 2 {
		t.Errorf("login deletions %d, want 2 (a failed one and the one that worked)", got)
	}
	evs := pub.published()
	if len(evs) != 1 || evs[0].Type != access.EventUserAnonymised || evs[0].Detail["userId"] != id || evs[0].Detail["tenantId"] != ten.ID {
		t.Errorf("events %+v, want one user.anonymised", evs)
	}
}
