package expiry_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tilgang/tilgang/shared/access"
	"github.com/tilgang/tilgang/shared/access/accesstest"
	"github.com/tilgang/tilgang/shared/localstack"
)

func TestMain(m *testing.M) { localstack.Main(m) }

// env is a tenant whose manager gave a therapist time-bound access of every kind, each ending
// at until: an assignment, a bureau grant, a program administration and a group membership.
type env struct {
	*accesstest.Env
	owner, manager, therapist *access.Caller
	client                    access.Client
	group                     access.Group
	until                     time.Time
}

func newEnv(t *testing.T) *env {
	e := &env{Env: accesstest.New(t), until: accesstest.Start.Add(30 * 24 * time.Hour)}
	e.owner = e.Tenant()
	e.group = e.Group(e.owner, access.Permissions{access.AreaClients: {Level: access.LevelEdit, Scope: access.ScopeOwn}})
	managers := e.Group(e.owner, access.Permissions{access.AreaUsers: {Level: access.LevelEdit},
		access.AreaClients: {Level: access.LevelEdit, Scope: access.ScopeAll}})
	e.manager = e.User(e.owner, access.NewUser{GroupIDs: []string{managers.ID}})
	e.therapist = e.User(e.owner, access.NewUser{Roles: []access.Role{access.RoleConsultant}})
	e.client = e.Client(e.owner)
	id := e.therapist.User.ID
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	_, err := e.People.SetGroupsUntil(e.Ctx, e.manager, id, []string{e.group.ID}, map[string]time.Time{e.group.ID: e.until}, nil)
	must(err)
	_, err = e.Clients.SetAssignment(e.Ctx, e.manager, e.client.ID, id, access.LevelEdit, &e.until)
	must(err)
	_, err = e.Clients.SetClientAdmin(e.Ctx, e.owner, e.client.ID, id, false, []string{"payroll"}, &e.until)
	must(err)
	_, _, err = e.Jobs.CreateJob(e.Ctx, e.owner, access.NewJob{Action: access.JobGrant, ConsultantIDs: []string{id},
		ClientIDs: []string{e.client.ID}, Programs: []string{"bookkeeping"}, ExpiresAt: &e.until}, nil)
	must(err)
	e.RunJobs()
	return e
}

// held lists what the therapist still holds, as the store has it.
func (e *env) held() []string {
	e.T.Helper()
	tn, id := e.owner.TenantID(), e.therapist.User.ID
	var out []string
	if _, err := e.Store.GetAssignment(e.Ctx, tn, e.client.ID, id); err == nil {
		out = append(out, "assignment")
	}
	if _, err := e.Store.GetGrant(e.Ctx, tn, e.client.ID, id); err == nil {
		out = append(out, "grant")
	}
	if _, err := e.Store.GetClientAdmin(e.Ctx, tn, e.client.ID, id); err == nil {
		out = append(out, "client admin")
	}
	if u, err := e.Store.GetUser(e.Ctx, tn, id); err == nil && slices.Contains(u.GroupIDs, e.group.ID) {
		out = append(out, "group")
	}
	return out
}

// Expired access gives nothing from its instant on, before any sweep; the sweep then removes
// it, and a second sweep finds nothing more to do.
func TestExpiredAccessEnds(t *testing.T) {
	e := newEnv(t)
	all := []string{"assignment", "grant", "client admin", "group"}
	if got := e.held(); !slices.Equal(got, all) {
		t.Fatalf("held = %v, want %v", got, all)
	}
	opens := func() bool {
		_, err := e.Clients.GetClient(e.Ctx, e.Refresh(e.therapist), e.client.ID)
		return err == nil
	}
	if !opens() {
		t.Fatal("the therapist cannot open the client before the expiry")
	}
	res, err := e.Expiry.SweepExpired(e.Ctx, 0)
	if err != nil || res.Removed != 0 {
		t.Errorf("sweep before the expiry = %+v, %v; want nothing removed", res, err)
	}

	e.Clock.Advance(e.until.Sub(accesstest.Start))
	if opens() {
		t.Error("the therapist opens the client at the instant everything expired, before any sweep")
	}
	if r := e.Refresh(e.therapist); r.Effective.Area(access.AreaClients).Level != access.LevelNone {
		t.Errorf("an expired membership still gives clients %s", r.Effective.Area(access.AreaClients).Level)
	}
	res, err = e.Expiry.SweepExpired(e.Ctx, 0)
	if err != nil || res.Removed != 4 {
		t.Errorf("sweep at the expiry = %+v, %v; want 4 removed", res, err)
	}
	if got := e.held(); len(got) != 0 {
		t.Errorf("held after the sweep = %v, want nothing", got)
	}
	v := e.Refresh(e.therapist).User.Version
	if res, err := e.Expiry.SweepExpired(e.Ctx, 0); err != nil || res.Removed != 0 || res.Notified != 0 {
		t.Errorf("second sweep = %+v, %v; want nothing done", res, err)
	}
	if got := e.Refresh(e.therapist).User.Version; got != v {
		t.Errorf("second sweep wrote the user again: v%d → v%d", v, got)
	}
	entries, _, err := e.People.ListAudit(e.Ctx, e.owner, access.Page{Limit: access.MaxPageLimit})
	if err != nil {
		t.Fatal(err)
	}
	var expired []string
	for _, a := range entries {
		if a.ActorID == "system" && strings.HasSuffix(a.Action, ".expired") {
			expired = append(expired, a.Action)
		}
	}
	slices.Sort(expired)
	want := []string{"client.access.expired", "client.admin.expired", "client.grant.expired", "user.groups.expired"}
	if !slices.Equal(expired, want) {
		t.Errorf("audited expiries = %v, want %v", expired, want)
	}
}

// What is renewed before the sweep runs stays: the sweep removes only what it read as expired.
func TestRenewedAccessStays(t *testing.T) {
	e := newEnv(t)
	e.Clock.Advance(e.until.Sub(accesstest.Start) - time.Hour)
	later := e.until.Add(30 * 24 * time.Hour)
	if _, err := e.Clients.SetAssignment(e.Ctx, e.Refresh(e.manager), e.client.ID, e.therapist.User.ID, access.LevelEdit, &later); err != nil {
		t.Fatal(err)
	}
	e.Clock.Advance(2 * time.Hour)
	if _, err := e.Expiry.SweepExpired(e.Ctx, 0); err != nil {
		t.Fatal(err)
	}
	if got, want := e.held(), []string{"assignment"}; !slices.Equal(got, want) {
		t.Errorf("held after the sweep = %v, want %v", got, want)
	}
}

// A granter is told once ahead of an expiry, however often the sweep runs.
func TestGrantersAreNoticedOnce(t *testing.T) {
	e := newEnv(t)
	e.Clock.Advance(e.until.Sub(accesstest.Start) - access.DefaultExpiryNotice + time.Hour)
	first, err := e.Expiry.SweepExpired(e.Ctx, 0)
	if err != nil || first.Notified == 0 || first.Removed != 0 {
		t.Fatalf("sweep within the notice period = %+v, %v; want notices and nothing removed", first, err)
	}
	if again, err := e.Expiry.SweepExpired(e.Ctx, 0); err != nil || again.Notified != 0 {
		t.Errorf("second sweep = %+v, %v; want no notice repeated", again, err)
	}
	ns, _, err := e.Jobs.Notifications(e.Ctx, e.Refresh(e.manager), access.Page{Limit: access.MaxPageLimit})
	if err != nil || len(ns) == 0 {
		t.Errorf("the manager's notifications = %v, %v; want a notice of what they gave", ns, err)
	}
}
