package httpapi_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tilgang/tilgang/shared/access"
	"github.com/tilgang/tilgang/shared/apitest"
	"github.com/tilgang/tilgang/shared/app/allclients"
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
	env.App.People.Identity = f
	return env, ten, f
}

// invokeRaw runs a request through its function without apitest's check that fails the test
// on a 5xx, since here a failing identity provider must produce one.
func invokeRaw(t *testing.T, env *apitest.Env, a *apitest.Actor, method, path string, body any, headers ...string) events.APIGatewayV2HTTPResponse {
	t.Helper()
	ev := a.Event(t, method, path, body, headers...)
	route, _, _ := routes.Match(method, ev.RawPath)
	res, err := allclients.API(env.App, route.Function)(context.Background(), ev)
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

// outbox lists the entries still owed (the sweep's index, every tenant).
func outbox(t *testing.T, env *apitest.Env) []access.OutboxEntry {
	t.Helper()
	entries, err := env.App.Store.OutboxAfter(context.Background(), "", 100)
	if err != nil {
		t.Fatal(err)
	}
	return entries
}

// owed reports whether an entry of this effect for this user is still owed.
func owed(t *testing.T, env *apitest.Env, effect access.Effect, userID string) bool {
	t.Helper()
	for _, e := range outbox(t, env) {
		if e.Effect == effect && e.UserID == userID {
			return true
		}
	}
	return false
}

// sweepLater runs the outbox sweep as the schedule would, past the grace given to the request
// that wrote the entries.
func sweepLater(t *testing.T, env *apitest.Env) access.OutboxSweep {
	t.Helper()
	svc := env.App.People
	now := svc.Now
	svc.Now = func() time.Time { return now().Add(access.OutboxGrace + time.Second) }
	defer func() { svc.Now = now }()
	res, err := svc.SweepOutbox(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// A failed invitation no longer undoes the user: the user is created, the invitation is owed in
// the outbox and the sweep sends it once the provider is back.
func TestFailedInviteIsOwedNotUndone(t *testing.T) {
	env, ten, f := identityEnv(t)
	f.InviteFn = failing
	id := ten.Owner.CreateUser(t, nil)
	if !owed(t, env, access.EffectInvite, id) {
		t.Fatal("the failed invitation is not owed")
	}
	sweepLater(t, env) // still failing: stays owed
	if !owed(t, env, access.EffectInvite, id) {
		t.Fatal("the invitation was dropped while the provider still fails")
	}
	f.InviteFn = nil
	if res := sweepLater(t, env); res.Applied == 0 {
		t.Fatalf("sweep %+v applied nothing", res)
	}
	if owed(t, env, access.EffectInvite, id) {
		t.Fatal("the invitation is still owed after it succeeded")
	}
	if calls := f.Calls(); countOf(calls, "invite "+id) != 3 {
		t.Fatalf("calls %v, want three invitations (the request's and two sweeps')", calls)
	}
}

// Deactivation takes effect at once whatever the provider does; the login follows later.
func TestDeactivationTakesEffectAtOnceAndTheLoginFollows(t *testing.T) {
	env, ten, f := identityEnv(t)
	id := ten.Owner.CreateUser(t, nil)
	user := env.As(ten.ID, id)
	user.Must(t, "GET", "/v1/me", nil, 200)

	f.DisableFn = failing
	ten.Owner.Must(t, "POST", "/v1/users/"+id+"/deactivate", nil, 200)
	user.Must(t, "GET", "/v1/me", nil, 401)
	if !owed(t, env, access.EffectDisable, id) {
		t.Fatal("the failed disable is not owed")
	}
	// Reactivated before the sweep: the sweep aligns the login with the stored user (enabled),
	// whatever order the owed effects run in.
	f.DisableFn = nil
	ten.Owner.Must(t, "POST", "/v1/users/"+id+"/activate", nil, 200)
	user.Must(t, "GET", "/v1/me", nil, 200)
	sweepLater(t, env)
	if owed(t, env, access.EffectDisable, id) {
		t.Fatal("the disable is still owed")
	}
	calls := f.Calls()
	if calls[len(calls)-1] != "enable "+id {
		t.Fatalf("calls %v: the login did not end enabled like its active user", calls)
	}
}

// A write that does not happen calls the provider not at all (it used to call it and undo).
func TestNoProviderCallsForAWriteThatFails(t *testing.T) {
	_, ten, f := identityEnv(t)
	id := ten.Owner.CreateUser(t, nil)
	_, v0 := userState(t, ten.Owner, id)
	ten.Owner.Must(t, "PATCH", "/v1/users/"+id, map[string]any{"name": "Changed"}, 200)
	n := len(f.Calls())
	ten.Owner.Must(t, "POST", "/v1/users/"+id+"/deactivate", nil, 412, "If-Match", httpapi.ETag(int(v0)))
	ten.Owner.Must(t, "DELETE", "/v1/users/"+id, nil, 412, "If-Match", httpapi.ETag(int(v0)))
	ten.Owner.Must(t, "POST", "/v1/users/"+id+"/remove", nil, 412, "If-Match", httpapi.ETag(int(v0)))
	ten.Owner.Must(t, "PATCH", "/v1/users/"+id, map[string]any{"email": apitest.UniqueEmail("x")}, 412, "If-Match", httpapi.ETag(int(v0)))
	if calls := f.Calls(); len(calls) != n {
		t.Fatalf("calls %v for writes that failed", calls[n:])
	}
	if status, _ := userState(t, ten.Owner, id); status != "active" {
		t.Fatalf("status %s, want active", status)
	}
}

// Under contention the provider is called once per write that landed, after it, never on the
// retries of the optimistic loop.
func TestProviderCalledOnceAfterContendedWrites(t *testing.T) {
	_, ten, f := identityEnv(t)
	id := ten.Owner.CreateUser(t, nil)
	n := len(f.Calls())
	var wg sync.WaitGroup
	emails := make([]string, 10)
	for i := range emails {
		emails[i] = apitest.UniqueEmail("race")
		wg.Go(func() { ten.Owner.Do(t, "PATCH", "/v1/users/"+id, map[string]any{"email": emails[i]}) })
	}
	wg.Wait()
	if calls := f.Calls()[n:]; countOf(calls, "update-email "+id) != len(emails) {
		t.Fatalf("calls %v, want one email update per landed write (%d)", calls, len(emails))
	}
	// The login ends with the stored email whatever order the calls came in: each sends the
	// user as stored when it runs.
	stored := ten.Owner.Must(t, "GET", "/v1/users/"+id, nil, 200).Map(t)["email"]
	if got := f.Emails(); got[len(got)-1] != stored {
		t.Errorf("last email sent %v, stored %v", got[len(got)-1], stored)
	}
}

func TestDeletedUserLoginIsDeletedEventually(t *testing.T) {
	env, ten, f := identityEnv(t)
	id := ten.Owner.CreateUser(t, nil)
	f.DeleteFn = failing
	ten.Owner.Must(t, "DELETE", "/v1/users/"+id, nil, 204)
	ten.Owner.Must(t, "GET", "/v1/users/"+id, nil, 404)
	if !owed(t, env, access.EffectDelete, id) {
		t.Fatal("the failed login deletion is not owed")
	}
	f.DeleteFn = nil
	sweepLater(t, env)
	if owed(t, env, access.EffectDelete, id) {
		t.Fatal("the login deletion is still owed")
	}
	if calls := f.Calls(); calls[len(calls)-1] != "delete "+id {
		t.Fatalf("calls %v", calls)
	}
}

func TestRemoveAndRestoreLoginFollows(t *testing.T) {
	env, ten, f := identityEnv(t)
	id := ten.Owner.CreateUser(t, nil)
	f.DisableFn = failing
	ten.Owner.Must(t, "POST", "/v1/users/"+id+"/remove", nil, 200)
	env.As(ten.ID, id).Must(t, "GET", "/v1/me", nil, 401)
	if !owed(t, env, access.EffectDisable, id) {
		t.Fatal("the failed disable is not owed")
	}
	f.DisableFn = nil
	sweepLater(t, env)
	if calls := f.Calls(); calls[len(calls)-1] != "disable "+id {
		t.Fatalf("calls %v: the removed user's login was not disabled", calls)
	}
	f.EnableFn = failing
	ten.Owner.Must(t, "POST", "/v1/users/"+id+"/restore", nil, 200)
	if status, _ := userState(t, ten.Owner, id); status != "active" {
		t.Fatalf("status %s, want active", status)
	}
	f.EnableFn = nil
	sweepLater(t, env)
	if owed(t, env, access.EffectEnable, id) {
		t.Fatal("the enable is still owed")
	}
	if calls := f.Calls(); calls[len(calls)-1] != "enable "+id {
		t.Fatalf("calls %v: the restored user's login was not enabled", calls)
	}
}

func TestEmailChangeReachesTheLogin(t *testing.T) {
	env, ten, f := identityEnv(t)
	id := ten.Owner.CreateUser(t, nil)
	moved := apitest.UniqueEmail("moved")
	f.UpdateEmailFn = failing
	if got := ten.Owner.Must(t, "PATCH", "/v1/users/"+id, map[string]any{"email": moved}, 200).Map(t)["email"]; got != moved {
		t.Fatalf("email %v, want %s", got, moved)
	}
	if !owed(t, env, access.EffectSetEmail, id) {
		t.Fatal("the failed email change is not owed")
	}
	f.UpdateEmailFn = nil
	sweepLater(t, env)
	if emails := f.Emails(); emails[len(emails)-1] != moved {
		t.Fatalf("emails sent to the login %v, want it to end with %s", emails, moved)
	}
	// A change without a new email does not call the provider.
	n := len(f.Calls())
	ten.Owner.Must(t, "PATCH", "/v1/users/"+id, map[string]any{"email": moved, "name": "Same Email"}, 200)
	if calls := f.Calls(); len(calls) != n {
		t.Fatalf("calls %v: an unchanged email reached the provider", calls[n:])
	}
}

// A tenant whose owner cannot be invited is rolled back: nothing of it is left and its owner's
// email can open a tenant again.
func TestTenantWhoseOwnerInviteFailedRollsBack(t *testing.T) {
	env, _, f := identityEnv(t)
	f.InviteFn = failing
	email := apitest.UniqueEmail("opener")
	in := access.NewTenant{Name: "Klinik", OwnerName: "Karin", OwnerEmail: email}
	tn, owner, err := env.App.People.CreateTenant(context.Background(), in)
	if err == nil {
		t.Fatalf("opened tenant %s although its owner could not be invited", tn.ID)
	}
	if _, err := env.App.Store.UserByEmail(context.Background(), email); !errors.Is(err, access.ErrNotFound) {
		t.Fatalf("the owner's email is still claimed (%v)", err)
	}
	for _, e := range outbox(t, env) {
		if e.Effect == access.EffectOpen {
			t.Fatalf("the opening is still owed: %+v", e)
		}
	}
	_ = owner
	f.InviteFn = nil
	tn, owner, err = env.App.People.CreateTenant(context.Background(), in)
	if err != nil {
		t.Fatalf("opening again: %v", err)
	}
	if _, err := env.App.Store.GetTenant(context.Background(), tn.ID); err != nil {
		t.Fatal(err)
	}
	if calls := f.Calls(); calls[len(calls)-1] != "invite "+owner.ID {
		t.Fatalf("calls %v", calls)
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
	env.App.People.Events = pub
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
