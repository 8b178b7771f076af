package people_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/tilgang/tilgang/shared/access"
)

var errDown = errors.New("identity provider unavailable")

// A login effect that fails after its write stays owed: the write stands, the sweep applies it
// once the grace period has passed, and a second sweep has nothing left to do.
func TestOutboxRetriesWhatFailedOnce(t *testing.T) {
	e := newEnv(t)
	id := e.employee.User.ID
	e.Identity.DisableFn = func(access.User) error { return errDown }
	if _, err := e.People.Deactivate(e.Ctx, e.owner, id, nil); err != nil {
		t.Fatalf("deactivate with the provider down: %v, want the write to stand", err)
	}
	if _, err := e.People.Authenticate(e.Ctx, e.owner.TenantID(), id, "r"); code(err) != access.CodeUnauthenticated {
		t.Errorf("sign-in while the login is still enabled: %s, want %s (the status decides)", code(err), access.CodeUnauthenticated)
	}
	e.Identity.DisableFn = nil
	e.Identity.Take()

	// A young entry may still be applied by its own request: the sweep leaves it.
	if res, err := e.People.SweepOutbox(e.Ctx, 0); err != nil || res.Applied+res.Pending != 0 {
		t.Errorf("sweep within the grace period = %+v, %v; want nothing taken", res, err)
	}
	e.Clock.Advance(access.OutboxGrace + time.Second)
	for i, want := range []access.OutboxSweep{{Applied: 1}, {}} {
		res, err := e.People.SweepOutbox(e.Ctx, 0)
		if err != nil || res != want {
			t.Errorf("sweep %d = %+v, %v; want %+v", i+1, res, err, want)
		}
	}
	if got, want := e.Identity.Take(), []string{"disable " + id}; !slices.Equal(got, want) {
		t.Errorf("login calls = %v, want %v", got, want)
	}
}

// A sweep applies what is owed now, not what was owed: an entry for a user since reactivated
// enables the login rather than disabling it.
func TestOutboxAppliesTheCurrentState(t *testing.T) {
	e := newEnv(t)
	id := e.employee.User.ID
	e.Identity.DisableFn = func(access.User) error { return errDown }
	e.Identity.EnableFn = func(access.User) error { return errDown }
	if _, err := e.People.Deactivate(e.Ctx, e.owner, id, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := e.People.Activate(e.Ctx, e.owner, id, nil); err != nil {
		t.Fatal(err)
	}
	e.Identity.DisableFn, e.Identity.EnableFn = nil, nil
	e.Identity.Take()
	e.Clock.Advance(access.OutboxGrace + time.Second)
	if res, err := e.People.SweepOutbox(e.Ctx, 0); err != nil || res.Applied != 2 || res.Pending != 0 {
		t.Fatalf("sweep = %+v, %v; want both entries applied", res, err)
	}
	for _, call := range e.Identity.Take() {
		if call != "enable "+id {
			t.Errorf("login call %q for an active user, want only enables", call)
		}
	}
}

// A sign-up whose owner cannot be invited is rolled back, so no account nobody can sign in to
// stays behind with the email claimed.
func TestSignUpRollsBackWhenTheInviteFails(t *testing.T) {
	e := newEnv(t)
	e.Identity.InviteFn = func(access.User) error { return errDown }
	in := access.NewTenant{Name: "Failing clinic", OwnerName: "Fay", OwnerEmail: "fay@example.com"}
	if _, _, err := e.People.CreateTenant(e.Ctx, in); err == nil {
		t.Fatal("sign-up with the provider down succeeded")
	}
	if _, err := e.People.UserByEmail(e.Ctx, in.OwnerEmail); !errors.Is(err, access.ErrNotFound) {
		t.Errorf("the owner's email after the roll-back: %v, want it free", err)
	}
	e.Identity.InviteFn = nil
	tn, owner, err := e.People.CreateTenant(e.Ctx, in)
	if err != nil || owner.Email != in.OwnerEmail || tn.OwnerID != owner.ID {
		t.Errorf("sign-up again = %+v, %v", owner, err)
	}
	e.Clock.Advance(access.OutboxGrace + time.Second)
	if res, err := e.People.SweepOutbox(e.Ctx, 0); err != nil || res.Pending != 0 {
		t.Errorf("sweep after the roll-back = %+v, %v; want nothing pending", res, err)
	}
	if _, err := e.People.UserByEmail(e.Ctx, in.OwnerEmail); err != nil {
		t.Errorf("the sweep undid the second sign-up: %v", err)
	}
}

// An anonymisation whose login deletion fails is written anyway and owes the deletion: the next
// attempt (or sweep) settles it, and the event is published exactly once.
func TestAnonymisationSettlesWhatItOwes(t *testing.T) {
	e := newEnv(t)
	id := e.employee.User.ID
	if _, err := e.People.RemoveUser(e.Ctx, e.owner, id, nil); err != nil {
		t.Fatal(err)
	}
	e.Identity.DeleteFn = func(access.User) error { return errDown }
	if _, err := e.People.AnonymiseUser(e.Ctx, e.owner, id, nil); err == nil {
		t.Error("anonymise with the provider down: no error, want the pending deletion reported")
	}
	if u := e.user(id); u.Status != access.StatusAnonymised {
		t.Fatalf("status after a failed deletion = %s, want anonymised (the write stands)", u.Status)
	}
	e.Identity.DeleteFn = nil
	e.Identity.Take()
	res, err := e.People.SweepUserBank(e.Ctx, access.SweepOptions{})
	if err != nil || res.Settled != 1 || res.StillPending != 0 {
		t.Errorf("sweep = %+v, %v; want the one marker settled", res, err)
	}
	if got, want := e.Identity.Take(), []string{"delete " + id}; !slices.Equal(got, want) {
		t.Errorf("login calls = %v, want %v", got, want)
	}
	if res, err := e.People.SweepUserBank(e.Ctx, access.SweepOptions{}); err != nil || res.Settled != 0 {
		t.Errorf("second sweep = %+v, %v; want nothing left to settle", res, err)
	}
	if _, err := e.People.AnonymiseUser(e.Ctx, e.owner, id, nil); err != nil {
		t.Errorf("anonymise once settled: %v", err)
	}
	if evs := e.Events.Take(); len(evs) != 1 {
		t.Errorf("published %d events, want the one %s", len(evs), access.EventUserAnonymised)
	}
}

// The scheduled run anonymises a removed user once the tenant's period has passed, not before,
// never a user restored meanwhile, and a second run changes nothing.
func TestUserBankSweepKeepsTheTenantsPeriod(t *testing.T) {
	e := newEnv(t)
	if _, err := e.People.UpdateSettings(e.Ctx, e.owner, access.SettingsPatch{AnonymiseAfterDays: ptr(30)}, nil); err != nil {
		t.Fatal(err)
	}
	leaver, returner := e.employee.User.ID, e.manager.User.ID
	for _, id := range []string{leaver, returner} {
		if _, err := e.People.RemoveUser(e.Ctx, e.owner, id, nil); err != nil {
			t.Fatal(err)
		}
	}
	day := 24 * time.Hour
	e.Clock.Advance(29 * day)
	if res, err := e.People.SweepUserBank(e.Ctx, access.SweepOptions{}); err != nil || res.Anonymised != 0 {
		t.Errorf("sweep before the period = %+v, %v; want nobody anonymised", res, err)
	}
	if _, err := e.People.RestoreUser(e.Ctx, e.owner, returner, nil); err != nil {
		t.Fatal(err)
	}
	e.Clock.Advance(2 * day)
	if res, err := e.People.SweepUserBank(e.Ctx, access.SweepOptions{}); err != nil || res.Anonymised != 1 || res.Failed != 0 {
		t.Errorf("sweep after the period = %+v, %v; want one anonymised", res, err)
	}
	if u := e.user(leaver); u.Status != access.StatusAnonymised || u.Email != "" {
		t.Errorf("leaver = %s %q, want anonymised without email", u.Status, u.Email)
	}
	if u := e.user(returner); u.Status != access.StatusActive || u.Name == access.Anonymised {
		t.Errorf("restored user = %s %q, want active and named", u.Status, u.Name)
	}
	v := e.user(leaver).Version
	if res, err := e.People.SweepUserBank(e.Ctx, access.SweepOptions{}); err != nil || res.Anonymised != 0 || res.Failed != 0 {
		t.Errorf("second sweep = %+v, %v; want nothing done", res, err)
	}
	if got := e.user(leaver).Version; got != v {
		t.Errorf("second sweep wrote the leaver again: v%d → v%d", v, got)
	}
	if evs := e.Events.Take(); len(evs) != 1 {
		t.Errorf("published %d events over two sweeps, want 1", len(evs))
	}
}
