// Package accesstest builds the use cases on the real store for the tests beside them (packages
// people, clients, jobs, reviews and expiry): a fresh table of the local DynamoDB per test, a
// clock the test moves, ids in order, and hand-written fakes with Fn fields for what leaves the
// table (the login provider, the event bus, the job queue). Tests call the use cases directly, so
// a rule is tested where it lives rather than through HTTP.
package accesstest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tilgang/tilgang/shared/access"
	"github.com/tilgang/tilgang/shared/access/clients"
	"github.com/tilgang/tilgang/shared/access/expiry"
	"github.com/tilgang/tilgang/shared/access/jobs"
	"github.com/tilgang/tilgang/shared/access/people"
	"github.com/tilgang/tilgang/shared/access/reviews"
	"github.com/tilgang/tilgang/shared/dynamo"
	"github.com/tilgang/tilgang/shared/localstack"
)

// Start is where every Env's clock begins: in the future, so that nothing the use cases write
// with a TTL (notifications, idempotency records) is reaped by the local server's TTL sweep.
var Start = time.Date(2031, 3, 3, 9, 0, 0, 0, time.UTC)

// Clock is a clock that moves only when the test moves it.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock on by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Identity is the login provider: every call is recorded ("invite u_…"), and answers what its Fn
// field says (nil: success).
type Identity struct {
	InviteFn, DisableFn, EnableFn, DeleteFn, UpdateEmailFn func(u access.User) error

	mu    sync.Mutex
	calls []string
}

func (f *Identity) call(name string, fn func(access.User) error, u access.User) error {
	f.mu.Lock()
	f.calls = append(f.calls, name+" "+u.ID)
	f.mu.Unlock()
	if fn == nil {
		return nil
	}
	return fn(u)
}

// Invite records the call and answers InviteFn.
func (f *Identity) Invite(_ context.Context, u access.User) error {
	return f.call("invite", f.InviteFn, u)
}

// Disable records the call and answers DisableFn.
func (f *Identity) Disable(_ context.Context, u access.User) error {
	return f.call("disable", f.DisableFn, u)
}

// Enable records the call and answers EnableFn.
func (f *Identity) Enable(_ context.Context, u access.User) error {
	return f.call("enable", f.EnableFn, u)
}

// Delete records the call and answers DeleteFn.
func (f *Identity) Delete(_ context.Context, u access.User) error {
	return f.call("delete", f.DeleteFn, u)
}

// UpdateEmail records the call and answers UpdateEmailFn.
func (f *Identity) UpdateEmail(_ context.Context, u access.User) error {
	return f.call("update_email", f.UpdateEmailFn, u)
}

// Take returns the calls recorded since the last Take.
func (f *Identity) Take() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.calls
	f.calls = nil
	return out
}

// Events is the event bus: what it publishes is kept; PublishFn (nil: success) may refuse.
type Events struct {
	PublishFn func(e access.Event) error

	mu        sync.Mutex
	published []access.Event
}

// Publish keeps e unless PublishFn refuses it.
func (f *Events) Publish(_ context.Context, e access.Event) error {
	if f.PublishFn != nil {
		if err := f.PublishFn(e); err != nil {
			return err
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.published = append(f.published, e)
	return nil
}

// Take returns the events published since the last Take.
func (f *Events) Take() []access.Event {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.published
	f.published = nil
	return out
}

// Queue is the job queue: it keeps the messages sent until the test takes them; the Fn fields
// (nil: success) may refuse a send.
type Queue struct {
	FanOutFn  func(fs []access.JobFanOut) error
	EnqueueFn func(chunks []access.JobChunk) error

	mu      sync.Mutex
	fanOuts []access.JobFanOut
	chunks  []access.JobChunk
}

// FanOut keeps fs unless FanOutFn refuses them.
func (q *Queue) FanOut(_ context.Context, fs []access.JobFanOut) error {
	if q.FanOutFn != nil {
		if err := q.FanOutFn(fs); err != nil {
			return err
		}
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	q.fanOuts = append(q.fanOuts, fs...)
	return nil
}

// Enqueue keeps chunks unless EnqueueFn refuses them.
func (q *Queue) Enqueue(_ context.Context, chunks []access.JobChunk) error {
	if q.EnqueueFn != nil {
		if err := q.EnqueueFn(chunks); err != nil {
			return err
		}
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	q.chunks = append(q.chunks, chunks...)
	return nil
}

// Take returns the messages sent since the last Take.
func (q *Queue) Take() ([]access.JobFanOut, []access.JobChunk) {
	q.mu.Lock()
	defer q.mu.Unlock()
	fs, chs := q.fanOuts, q.chunks
	q.fanOuts, q.chunks = nil, nil
	return fs, chs
}

// Env is every use case on one fresh table, sharing the clock, the ids and the fakes.
type Env struct {
	T        *testing.T
	Ctx      context.Context
	Store    *dynamo.Store
	Clock    *Clock
	Identity *Identity
	Events   *Events
	Queue    *Queue
	People   *people.Service
	Clients  *clients.Service
	Jobs     *jobs.Service
	Reviews  *reviews.Service
	Expiry   *expiry.Service
	SCIM     *people.Provisioning

	mu  sync.Mutex
	seq int
}

// New builds an Env on a table of the test's own, so that sweeps see only its data.
func New(t *testing.T) *Env {
	t.Helper()
	client, table := localstack.NewTable(t)
	e := &Env{T: t, Ctx: t.Context(), Store: dynamo.New(client, table), Clock: &Clock{now: Start},
		Identity: &Identity{}, Events: &Events{}, Queue: &Queue{}}
	base := access.Base{Now: e.Clock.Now, NewID: e.newID}
	e.People = people.New(e.Store, e.Identity)
	e.People.Base, e.People.Events = base, e.Events
	e.Clients = clients.New(e.Store)
	e.Clients.Base = base
	e.Jobs = jobs.New(e.Store, e.Clients, e.Queue)
	e.Jobs.Base = base
	e.Reviews = reviews.New(e.Store, e.Clients, e.People, e.Jobs)
	e.Reviews.Base = base
	e.Expiry = expiry.New(e.Store)
	e.Expiry.Base = base
	e.SCIM = people.NewProvisioning(e.People, e.Store)
	return e
}

// newID makes ids in the order they are made, in the shape of access.NewULID.
func (e *Env) newID(prefix string) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.seq++
	return fmt.Sprintf("%s_%08d", prefix, e.seq)
}

// Seq returns a number no other call of this Env returns (for unique names and emails).
func (e *Env) Seq() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.seq++
	return e.seq
}

// Code is the domain code of err, "ok" when err is nil and "other: …" for an error that is not a
// domain error, so that tests compare codes with got/want messages.
func Code(err error) access.Code {
	if err == nil {
		return "ok"
	}
	if c := access.ErrorCode(err); c != "" {
		return c
	}
	return access.Code("other: " + err.Error())
}

// Field is the request field a domain error names ("" for none).
func Field(err error) string {
	var e *access.Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}

// Tenant opens a tenant with the Employees app active and no groups, and returns its owner as a
// caller.
func (e *Env) Tenant() *access.Caller {
	e.T.Helper()
	n := e.Seq()
	t, owner, err := e.People.CreateTenant(e.Ctx, access.NewTenant{Name: fmt.Sprintf("Clinic %d", n),
		OwnerName: "Owner", OwnerEmail: fmt.Sprintf("owner-%d@example.com", n)})
	if err != nil {
		e.T.Fatal(err)
	}
	c := e.Caller(t.ID, owner.ID)
	if _, _, err := e.People.ActivateEmployees(e.Ctx, c, nil); err != nil {
		e.T.Fatal(err)
	}
	return e.Caller(t.ID, owner.ID)
}

// Caller authenticates a user as a request would, at the clock's time: call it again after the
// user's rights or the clock changed.
func (e *Env) Caller(tenantID, userID string) *access.Caller {
	e.T.Helper()
	c, err := e.People.Authenticate(e.Ctx, tenantID, userID, fmt.Sprintf("req-%d", e.Seq()))
	if err != nil {
		e.T.Fatalf("authenticate %s: %v", userID, err)
	}
	return c
}

// Refresh authenticates c's user again (after their rights or the clock changed).
func (e *Env) Refresh(c *access.Caller) *access.Caller {
	e.T.Helper()
	return e.Caller(c.TenantID(), c.User.ID)
}

// User creates a user as by, filling a name, a unique email and a profession when in has none,
// and returns them as a caller.
func (e *Env) User(by *access.Caller, in access.NewUser) *access.Caller {
	e.T.Helper()
	n := e.Seq()
	if in.Name == "" {
		in.Name = fmt.Sprintf("User %d", n)
	}
	if in.Email == "" {
		in.Email = fmt.Sprintf("user-%d@example.com", n)
	}
	if in.Profession == "" && len(in.Professions) == 0 {
		in.Profession = access.ProfessionPractitioner
	}
	u, err := e.People.CreateUser(e.Ctx, by, in, nil)
	if err != nil {
		e.T.Fatalf("create user: %v", err)
	}
	return e.Caller(u.TenantID, u.ID)
}

// Group creates a group with perms as by.
func (e *Env) Group(by *access.Caller, perms access.Permissions) access.Group {
	e.T.Helper()
	g, err := e.People.CreateGroup(e.Ctx, by, access.NewGroup{Name: fmt.Sprintf("Group %d", e.Seq()), Permissions: perms}, nil)
	if err != nil {
		e.T.Fatalf("create group: %v", err)
	}
	return g
}

// Provisioner makes a provisioning token as the tenant's owner and returns its principal, as
// a SCIM request carrying the token's secret would be authenticated.
func (e *Env) Provisioner(owner *access.Caller) *access.Caller {
	e.T.Helper()
	_, secret, err := e.SCIM.CreateSCIMToken(e.Ctx, owner, fmt.Sprintf("Directory %d", e.Seq()))
	if err != nil {
		e.T.Fatalf("create scim token: %v", err)
	}
	c, err := e.SCIM.AuthenticateSCIM(e.Ctx, secret, fmt.Sprintf("req-%d", e.Seq()))
	if err != nil {
		e.T.Fatalf("authenticate scim token: %v", err)
	}
	return c
}

// Client creates a manual client as by.
func (e *Env) Client(by *access.Caller) access.Client {
	e.T.Helper()
	cl, err := e.Clients.CreateClient(e.Ctx, by, access.NewClient{Name: fmt.Sprintf("Client %d", e.Seq())}, nil)
	if err != nil {
		e.T.Fatalf("create client: %v", err)
	}
	return cl
}

// RunJobs plays the job workers until the queue is empty: each fan-out is expanded and each
// chunk processed, as the worker would on a delivery.
func (e *Env) RunJobs() {
	e.T.Helper()
	for {
		fs, chs := e.Queue.Take()
		if len(fs) == 0 && len(chs) == 0 {
			return
		}
		for _, f := range fs {
			if err := e.Jobs.ExpandJob(e.Ctx, f); err != nil {
				e.T.Fatalf("expand job %s: %v", f.JobID, err)
			}
		}
		for _, ch := range chs {
			if err := e.Jobs.ProcessChunk(e.Ctx, ch); err != nil {
				e.T.Fatalf("job %s chunk %d: %v", ch.JobID, ch.Index, err)
			}
		}
	}
}

// WantInvalid fails t unless err refuses the request as invalid, naming field.
func WantInvalid(t testing.TB, err error, field string) {
	t.Helper()
	if Code(err) != access.CodeInvalid || Field(err) != field {
		t.Errorf("got %s on %q, want %s on %q", Code(err), Field(err), access.CodeInvalid, field)
	}
}

// WantNotFoundAlike fails t unless what another tenant's resource answered (foreign) is not
// found, exactly as a missing one answered.
func WantNotFoundAlike(t testing.TB, foreign, missing error) {
	t.Helper()
	if Code(missing) != access.CodeNotFound || Code(foreign) != Code(missing) {
		t.Errorf("another tenant's: %s, missing: %s; want both %s", Code(foreign), Code(missing), access.CodeNotFound)
	}
}
