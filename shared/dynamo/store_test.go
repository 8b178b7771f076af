package dynamo_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tilgang/tilgang/shared/access"
	"github.com/tilgang/tilgang/shared/dynamo"
	"github.com/tilgang/tilgang/shared/localstack"
)

func TestMain(m *testing.M) { localstack.Main(m) }

var seq int

func newStore(t *testing.T) *dynamo.Store {
	client, table := localstack.Table(t)
	return dynamo.New(client, table)
}

func id(prefix string) string { return access.NewULID(prefix) }

func newTenant(t *testing.T, s *dynamo.Store) (access.Tenant, access.User) {
	t.Helper()
	now := time.Now().UTC()
	tn := access.Tenant{ID: id("t"), Name: "Clinic", Version: 1, CreatedAt: now, UpdatedAt: now,
		Settings: access.Settings{NewClientAccess: access.PolicyNone, ActiveApps: []string{access.AppEmployees}}}
	owner := user(tn.ID, "owner")
	owner.IsOwner = true
	tn.OwnerID = owner.ID
	if err := s.CreateTenant(context.Background(), tn, owner, access.Meta{}); err != nil {
		t.Fatal(err)
	}
	return tn, owner
}

func user(tenantID, name string) access.User {
	seq++
	now := time.Now().UTC()
	return access.User{ID: id("u"), TenantID: tenantID, Name: name, Email: fmt.Sprintf("%s-%d-%s@example.com", name, seq, id("e")[2:]),
		Profession: access.ProfessionPractitioner, Status: access.StatusActive, CalendarIDs: []string{id("cal")},
		Version: 1, CreatedAt: now, UpdatedAt: now}
}

func auditOf(tenantID, action string) access.Meta {
	return access.Meta{Audit: []access.AuditEntry{{ID: id("aud"), TenantID: tenantID, Time: time.Now(), ActorID: "test", Action: action}}}
}

func TestEmailIsUniqueAcrossTenantsUnderConcurrency(t *testing.T) {
	s := newStore(t)
	t1, _ := newTenant(t, s)
	t2, _ := newTenant(t, s)
	email := fmt.Sprintf("race-%s@example.com", id("r")[2:])
	var wg sync.WaitGroup
	errs := make([]error, 10)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tn := t1
			if i%2 == 1 {
				tn = t2
			}
			u := user(tn.ID, "racer")
			u.Email = email
			errs[i] = s.CreateUser(context.Background(), u, auditOf(tn.ID, "user.create"))
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, access.ErrConflict):
		default:
			t.Errorf("unexpected error: %v", err)
		}
	}
	if ok != 1 {
		t.Errorf("%d creates won, want exactly 1", ok)
	}
	got, err := s.UserByEmail(context.Background(), email)
	if err != nil || got.Email != email {
		t.Errorf("UserByEmail = %v, %v", got, err)
	}
}

func TestUpdatesAreConditionalOnTheVersionRead(t *testing.T) {
	s := newStore(t)
	tn, _ := newTenant(t, s)
	ctx := context.Background()
	u := user(tn.ID, "versioned")
	if err := s.CreateUser(ctx, u, auditOf(tn.ID, "user.create")); err != nil {
		t.Fatal(err)
	}
	next := u
	next.Name, next.Version = "First", 2
	if err := s.UpdateUser(ctx, u, next, auditOf(tn.ID, "user.update")); err != nil {
		t.Fatal(err)
	}
	// A second writer that read version 1 loses, and its audit entry is not written either.
	lost := u
	lost.Name, lost.Version = "Second", 2
	entries, _, _ := s.ListAudit(ctx, tn.ID, access.Page{Limit: 100})
	if err := s.UpdateUser(ctx, u, lost, auditOf(tn.ID, "user.update")); !errors.Is(err, access.ErrVersionConflict) {
		t.Fatalf("stale update: %v, want a version conflict", err)
	}
	after, _, _ := s.ListAudit(ctx, tn.ID, access.Page{Limit: 100})
	if len(after) != len(entries) {
		t.Errorf("audit entries %d → %d: a failed change left an audit entry", len(entries), len(after))
	}
	got, err := s.GetUser(ctx, tn.ID, u.ID)
	if err != nil || got.Name != "First" || got.Version != 2 {
		t.Errorf("user = %+v, %v", got, err)
	}
}

func TestEmailChangeMovesTheClaim(t *testing.T) {
	s := newStore(t)
	tn, _ := newTenant(t, s)
	ctx := context.Background()
	a, b := user(tn.ID, "a"), user(tn.ID, "b")
	for _, u := range []access.User{a, b} {
		if err := s.CreateUser(ctx, u, access.Meta{}); err != nil {
			t.Fatal(err)
		}
	}
	// Taking b's email fails and changes nothing.
	taken := a
	taken.Email, taken.Version = b.Email, 2
	if err := s.UpdateUser(ctx, a, taken, access.Meta{}); !errors.Is(err, access.ErrConflict) || errors.Is(err, access.ErrVersionConflict) {
		t.Fatalf("taking a used email: %v, want an email conflict", err)
	}
	if got, _ := s.UserByEmail(ctx, a.Email); got.ID != a.ID {
		t.Errorf("a's email now belongs to %s", got.ID)
	}
	// A free email moves the claim; the old one is free again.
	moved := a
	moved.Email, moved.Version = "moved-"+a.Email, 2
	if err := s.UpdateUser(ctx, a, moved, access.Meta{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UserByEmail(ctx, a.Email); !errors.Is(err, access.ErrNotFound) {
		t.Errorf("old email still claimed: %v", err)
	}
	if got, _ := s.UserByEmail(ctx, moved.Email); got.ID != a.ID {
		t.Errorf("new email belongs to %q", got.ID)
	}
}

func TestPrincipalSeesGroupChangesAtOnce(t *testing.T) {
	s := newStore(t)
	tn, _ := newTenant(t, s)
	ctx := context.Background()
	now := time.Now().UTC()
	g := access.Group{ID: id("g"), TenantID: tn.ID, Name: "G", Version: 1, CreatedAt: now, UpdatedAt: now,
		Permissions: access.Permissions{access.AreaClients: {Level: access.LevelView, Scope: access.ScopeAll}}}
	if err := s.CreateGroup(ctx, g, access.Meta{}); err != nil {
		t.Fatal(err)
	}
	u := user(tn.ID, "member")
	u.GroupIDs = []string{g.ID}
	if err := s.CreateUser(ctx, u, access.Meta{}); err != nil {
		t.Fatal(err)
	}
	_, groups, err := s.Principal(ctx, tn.ID, u.ID)
	if err != nil || groups[g.ID].Permissions[access.AreaClients].Level != access.LevelView {
		t.Fatalf("principal groups = %v, %v", groups, err)
	}
	next := g
	next.Version = 2
	next.Permissions = access.Permissions{access.AreaClients: {Level: access.LevelEdit, Scope: access.ScopeAll}}
	if err := s.UpdateGroup(ctx, g, next, access.Meta{}); err != nil {
		t.Fatal(err)
	}
	_, groups, _ = s.Principal(ctx, tn.ID, u.ID)
	if groups[g.ID].Permissions[access.AreaClients].Level != access.LevelEdit || groups[g.ID].Version != 2 {
		t.Errorf("after update: %v", groups[g.ID])
	}
	if err := s.DeleteGroup(ctx, next, access.Meta{}); err != nil {
		t.Fatal(err)
	}
	if _, groups, _ = s.Principal(ctx, tn.ID, u.ID); len(groups) != 0 {
		t.Errorf("after delete: %v", groups)
	}
	// Another tenant's user is not found through this tenant.
	other, _ := newTenant(t, s)
	if _, _, err := s.Principal(ctx, other.ID, u.ID); !errors.Is(err, access.ErrNotFound) {
		t.Errorf("cross-tenant principal: %v", err)
	}
}

func TestCursorIsBoundToItsPartition(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	tn, _ := newTenant(t, s)
	other, _ := newTenant(t, s)
	for range 3 {
		if err := s.CreateUser(ctx, user(tn.ID, "paged"), access.Meta{}); err != nil {
			t.Fatal(err)
		}
	}
	users, cursor, err := s.ListUsers(ctx, tn.ID, access.UserFilter{}, access.Page{Limit: 2})
	if err != nil || len(users) != 2 || cursor == "" {
		t.Fatalf("first page: %d users, cursor %q, %v", len(users), cursor, err)
	}
	rest, next, err := s.ListUsers(ctx, tn.ID, access.UserFilter{}, access.Page{Limit: 2, Cursor: cursor})
	if err != nil || len(rest) != 2 || next != "" {
		t.Errorf("second page: %d users (owner + 1), next %q, %v", len(rest), next, err)
	}
	for _, bad := range []string{cursor, "not-base64!", "e30"} {
		if _, _, err := s.ListUsers(ctx, other.ID, access.UserFilter{}, access.Page{Limit: 2, Cursor: bad}); !errors.Is(err, access.ErrInvalid) {
			t.Errorf("cursor %q on another tenant: %v, want invalid", bad, err)
		}
	}
}

func TestGroupsPerTenantAreCapped(t *testing.T) {
	s := newStore(t)
	tn, _ := newTenant(t, s)
	ctx := context.Background()
	if err := s.FillGroupSetForTest(ctx, tn.ID, access.MaxGroupsPerTenant-1); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	group := func() access.Group {
		return access.Group{ID: id("g"), TenantID: tn.ID, Name: "G", Version: 1, CreatedAt: now, UpdatedAt: now, Permissions: access.Permissions{}}
	}
	last := group()
	if err := s.CreateGroup(ctx, last, access.Meta{}); err != nil {
		t.Fatalf("group %d: %v", access.MaxGroupsPerTenant, err)
	}
	err := s.CreateGroup(ctx, group(), access.Meta{})
	if !errors.Is(err, access.ErrConflict) || errors.Is(err, access.ErrVersionConflict) {
		t.Fatalf("group %d: %v, want a conflict naming the limit", access.MaxGroupsPerTenant+1, err)
	}
	// Updating an existing group at the limit still works.
	next := last
	next.Name, next.Version = "Renamed", 2
	if err := s.UpdateGroup(ctx, last, next, access.Meta{}); err != nil {
		t.Errorf("update at the limit: %v", err)
	}
}
