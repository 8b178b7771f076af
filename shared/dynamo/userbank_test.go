package dynamo_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/tilgang/tilgang/shared/access"
	"github.com/tilgang/tilgang/shared/dynamo"
	"github.com/tilgang/tilgang/shared/localstack"
)

func rolesOf(t *testing.T, s *dynamo.Store, u access.User) access.ClientRoles {
	t.Helper()
	r, err := s.ClientRolesOf(context.Background(), u.TenantID, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func putRoles(t *testing.T, s *dynamo.Store, u access.User, n int) {
	t.Helper()
	if err := s.PutClientRolesForTest(context.Background(), u, n); err != nil {
		t.Fatal(err)
	}
}

// Removing and deleting a user end their client administrations and consultant programs, also
// more of them than one transaction holds; a profile change keeps them, and the user's
// assignments, which share the GSI1 partition, are read as before.
func TestUserLifecycleEndsClientRoles(t *testing.T) {
	client, table := localstack.NewTable(t)
	s := dynamo.New(client, table)
	ctx := context.Background()
	now := time.Now().UTC()
	u := access.User{ID: access.NewULID("u"), TenantID: access.NewULID("t"), Name: "Role Holder",
		Email: access.NewULID("r") + "@example.com", Profession: access.ProfessionConsultant, Status: access.StatusActive,
		Roles: []access.Role{access.RoleConsultant}, Version: 1, CreatedAt: now, UpdatedAt: now}
	if err := s.CreateUser(ctx, u, access.Meta{}); err != nil {
		t.Fatal(err)
	}
	const n = 60 // 120 items: more than the removal's transaction has room for
	putRoles(t, s, u, n)
	asg := access.Assignment{TenantID: u.TenantID, ClientID: "c_050", UserID: u.ID, Level: access.LevelView,
		Source: access.AssignedManually, Version: 1, CreatedAt: now, UpdatedAt: now}
	if err := s.PutAssignment(ctx, nil, asg, access.Meta{}); err != nil {
		t.Fatal(err)
	}
	if r := rolesOf(t, s, u); len(r.AdminOf) != n || len(r.ProgramsAt) != n || r.AdminOf[0] != "c_000" || r.ProgramsAt[n-1] != fmt.Sprintf("c_%03d", n-1) {
		t.Fatalf("roles = %d admin, %d programs", len(r.AdminOf), len(r.ProgramsAt))
	}
	for _, after := range []string{"", "c_000", "c_050"} {
		got, more, err := s.UserAssignmentsAfter(ctx, u.TenantID, u.ID, after, 10)
		if err != nil {
			t.Fatal(err)
		}
		want := 1
		if after == "c_050" {
			want = 0
		}
		if len(got) != want || more || (want == 1 && got[0].ClientID != "c_050") {
			t.Fatalf("assignments after %q = %+v (more %v), want %d", after, got, more, want)
		}
	}

	renamed := u
	renamed.Name, renamed.Version = "Renamed", 2
	if err := s.UpdateUserWithLinks(ctx, u, renamed, nil, access.Meta{}); err != nil {
		t.Fatal(err)
	}
	if r := rolesOf(t, s, u); r.Empty() {
		t.Fatal("a profile change ended the client roles")
	}

	removed := renamed
	removed.Status, removed.RemovedAt, removed.Version = access.StatusRemoved, &now, 3
	if err := s.UpdateUserWithLinks(ctx, renamed, removed, nil, access.Meta{}); err != nil {
		t.Fatal(err)
	}
	if r := rolesOf(t, s, u); !r.Empty() {
		t.Fatalf("after removal: %d admin, %d programs left", len(r.AdminOf), len(r.ProgramsAt))
	}
	if got, _, _ := s.UserAssignmentsAfter(ctx, u.TenantID, u.ID, "", 10); len(got) != 1 {
		t.Fatalf("removal took the client access too: %+v", got)
	}

	// Roles written after the removal (a race) go when the user leaves the bank.
	putRoles(t, s, u, 2)
	restored := removed
	restored.Status, restored.RemovedAt, restored.Version = access.StatusActive, nil, 4
	if err := s.UpdateUserWithLinks(ctx, removed, restored, nil, access.Meta{}); err != nil {
		t.Fatal(err)
	}
	if r := rolesOf(t, s, u); !r.Empty() {
		t.Fatalf("after restore: %+v", r)
	}

	putRoles(t, s, u, n)
	if err := s.DeleteUser(ctx, restored, access.Meta{}); err != nil {
		t.Fatal(err)
	}
	if r := rolesOf(t, s, u); !r.Empty() {
		t.Fatalf("after deletion: %d admin, %d programs left", len(r.AdminOf), len(r.ProgramsAt))
	}
}

// The pending-effects marker is written with the change that owes it, found across tenants
// oldest first, rewritten with what is left and deleted when nothing is; a rewrite never
// brings back a marker another run deleted.
func TestPendingEffectsMarker(t *testing.T) {
	client, table := localstack.NewTable(t)
	s := dynamo.New(client, table)
	ctx := context.Background()
	now := time.Now().UTC()
	var ps []access.PendingEffects
	for i := range 3 {
		u := access.User{ID: access.NewULID("u"), TenantID: access.NewULID("t"), Name: "P", Email: access.NewULID("p") + "@example.com",
			Profession: access.ProfessionOther, Status: access.StatusRemoved, RemovedAt: &now, Version: 1, CreatedAt: now, UpdatedAt: now}
		if err := s.CreateUser(ctx, u, access.Meta{}); err != nil {
			t.Fatal(err)
		}
		next := u
		next.Status, next.Name, next.Email, next.Version = access.StatusAnonymised, access.Anonymised, "", 2
		p := access.PendingEffects{TenantID: u.TenantID, UserID: u.ID, DeleteLogin: true, Publish: true, Since: now.Add(time.Duration(i) * time.Second)}
		if err := s.UpdateUserWithLinks(ctx, u, next, nil, access.Meta{Pending: &p}); err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
	}
	got, err := s.PendingEffectsAfter(ctx, "", 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].UserID != ps[0].UserID || got[1].UserID != ps[1].UserID || !got[0].DeleteLogin || !got[0].Publish || !got[0].Since.Equal(ps[0].Since) {
		t.Fatalf("first page %+v", got)
	}
	rest, err := s.PendingEffectsAfter(ctx, got[1].Position, 2)
	if err != nil || len(rest) != 1 || rest[0].UserID != ps[2].UserID {
		t.Fatalf("second page %+v, %v", rest, err)
	}

	left := got[0]
	left.DeleteLogin = false
	if err := s.SettlePendingEffects(ctx, left); err != nil {
		t.Fatal(err)
	}
	if p, err := s.GetPendingEffects(ctx, left.TenantID, left.UserID); err != nil || p.DeleteLogin || !p.Publish {
		t.Fatalf("after settling the login: %+v, %v", p, err)
	}
	done := left
	done.Publish = false
	if err := s.SettlePendingEffects(ctx, done); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetPendingEffects(ctx, left.TenantID, left.UserID); !errors.Is(err, access.ErrNotFound) {
		t.Fatalf("settled marker: %v, want not found", err)
	}
	// A slower run that settled only the login must not bring it back.
	if err := s.SettlePendingEffects(ctx, left); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetPendingEffects(ctx, left.TenantID, left.UserID); !errors.Is(err, access.ErrNotFound) {
		t.Fatalf("a late rewrite brought the marker back: %v", err)
	}
}
