// Package storetest is the contract suite of access.Store: every implementation runs RunAll
// against a real backend (shared/dynamo against dynoxide), so that the promises the interface
// documents (the errors, the batch reads that leave out what is missing, paging to the end,
// tenant isolation) are checked in one place instead of through HTTP.
//
// The suite shares its table with the package's other tests, so every subtest works in tenants
// and on ids of its own.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/tilgang/tilgang/shared/access"
)

// RunAll runs the contract suite; newStore returns a store on a table that may hold other data.
func RunAll(t *testing.T, newStore func(t *testing.T) access.Store) {
	for _, c := range []struct {
		name string
		run  func(t *testing.T, f *fixture)
	}{
		{"Tenants", testTenants},
		{"TransferOwnership", testTransferOwnership},
		{"Users", testUsers},
		{"UserEmailClaims", testUserEmailClaims},
		{"DeleteUser", testDeleteUser},
		{"ListUsers", testListUsers},
		{"Groups", testGroups},
		{"Clients", testClients},
		{"Assignments", testAssignments},
		{"ClientAdmins", testClientAdmins},
		{"GrantsAndJobs", testGrantsAndJobs},
		{"AuthorizationSnapshot", testAuthorizationSnapshot},
		{"AuditAndIdempotency", testAuditAndIdempotency},
		{"Programs", testPrograms},
		{"Expiry", testExpiry},
		{"Reviews", testReviews},
		{"Calendars", testCalendars},
		{"SecondPassFields", testSecondPassFields},
		{"ReverseLookups", testReverseLookups},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.run(t, &fixture{t: t, s: newStore(t), ctx: context.Background()})
		})
	}
}

// fixture builds the data of one subtest.
type fixture struct {
	t   *testing.T
	s   access.Store
	ctx context.Context
}

func id(prefix string) string { return access.NewULID(prefix) }

func now() time.Time { return time.Now().UTC().Truncate(time.Millisecond) }

// user returns a new active user of a tenant (not stored).
func (f *fixture) user(tenantID, name string) access.User {
	n := now()
	return access.User{ID: id("u"), TenantID: tenantID, Name: name,
		Email:      fmt.Sprintf("%s-%s@example.com", strings.ToLower(name), id("e")[2:]),
		Profession: access.ProfessionPractitioner, Status: access.StatusActive, CalendarIDs: []string{id("cal")},
		Version: 1, CreatedAt: n, UpdatedAt: n}
}

// tenant creates a tenant with its owner.
func (f *fixture) tenant() (access.Tenant, access.User) {
	f.t.Helper()
	n := now()
	tn := access.Tenant{ID: id("t"), Name: "Clinic", Version: 1, CreatedAt: n, UpdatedAt: n,
		Settings: access.Settings{NewClientAccess: access.PolicyNone, ActiveApps: []string{access.AppEmployees}}}
	owner := f.user(tn.ID, "Owner")
	owner.IsOwner = true
	tn.OwnerID = owner.ID
	if err := f.s.CreateTenant(f.ctx, tn, owner, access.Meta{}); err != nil {
		f.t.Fatalf("CreateTenant: %v", err)
	}
	return tn, owner
}

// createUser stores a new user of the tenant.
func (f *fixture) createUser(tenantID, name string, edit ...func(*access.User)) access.User {
	f.t.Helper()
	u := f.user(tenantID, name)
	for _, e := range edit {
		e(&u)
	}
	if err := f.s.CreateUser(f.ctx, u, access.Meta{}); err != nil {
		f.t.Fatalf("CreateUser: %v", err)
	}
	return u
}

func (f *fixture) group(tenantID, name string) access.Group {
	f.t.Helper()
	n := now()
	g := access.Group{ID: id("g"), TenantID: tenantID, Name: name, Version: 1, CreatedAt: n, UpdatedAt: n,
		Permissions: access.Permissions{access.AreaClients: {Level: access.LevelView, Scope: access.ScopeAll}}}
	if err := f.s.CreateGroup(f.ctx, g, access.Meta{}); err != nil {
		f.t.Fatalf("CreateGroup: %v", err)
	}
	return g
}

func (f *fixture) client(tenantID string, assignments ...access.Assignment) access.Client {
	f.t.Helper()
	n := now()
	cl := access.Client{ID: id("c"), TenantID: tenantID, Name: "Client", Status: access.ClientActive,
		Source: access.ClientManual, Version: 1, CreatedAt: n, UpdatedAt: n}
	for i := range assignments {
		assignments[i].ClientID = cl.ID
	}
	if err := f.s.CreateClient(f.ctx, cl, assignments, access.Meta{}); err != nil {
		f.t.Fatalf("CreateClient: %v", err)
	}
	return cl
}

func assignment(tenantID, clientID, userID string, l access.Level) access.Assignment {
	n := now()
	return access.Assignment{TenantID: tenantID, ClientID: clientID, UserID: userID, Level: l,
		Source: access.AssignedManually, Version: 1, CreatedAt: n, UpdatedAt: n}
}

func (f *fixture) assign(tenantID, clientID, userID string, l access.Level) access.Assignment {
	f.t.Helper()
	a := assignment(tenantID, clientID, userID, l)
	if err := f.s.PutAssignment(f.ctx, nil, a, access.Meta{}); err != nil {
		f.t.Fatalf("PutAssignment: %v", err)
	}
	return a
}

func auditMeta(tenantID, action string) access.Meta {
	return access.Meta{Audit: []access.AuditEntry{{ID: id("aud"), TenantID: tenantID, Time: now(), ActorID: "storetest", Action: action}}}
}

// isNotFound, isConflict and isVersionConflict check the documented errors.
func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s: got %v, want %v", what, err, want)
	}
}

// wantEmailConflict: a conflict that is not a lost version race (which callers retry).
func wantPlainConflict(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, access.ErrConflict) || errors.Is(err, access.ErrVersionConflict) {
		t.Errorf("%s: got %v, want a conflict that is not a version conflict", what, err)
	}
}

func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// pageAll pages a list with limit per page until its cursor is exhausted; it fails when a page
// is over the limit or the cursor never ends.
func pageAll[T any](t *testing.T, what string, limit int, list func(p access.Page) ([]T, string, error)) ([]T, int) {
	t.Helper()
	var all []T
	cursor := ""
	for pages := 1; ; pages++ {
		got, next, err := list(access.Page{Limit: limit, Cursor: cursor})
		if err != nil {
			t.Fatalf("%s page %d: %v", what, pages, err)
		}
		if len(got) > limit {
			t.Fatalf("%s page %d: %d items, over the limit %d", what, pages, len(got), limit)
		}
		all = append(all, got...)
		if next == "" {
			return all, pages
		}
		if pages > 100 {
			t.Fatalf("%s: the cursor never ends", what)
		}
		cursor = next
	}
}

func sorted(ids ...string) []string {
	out := slices.Clone(ids)
	sort.Strings(out)
	return out
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// ----------------------------------------------------------------------------------- tenants

func testTenants(t *testing.T, f *fixture) {
	tn, owner := f.tenant()
	got, err := f.s.GetTenant(f.ctx, tn.ID)
	must(t, "GetTenant", err)
	if got.ID != tn.ID || got.Name != tn.Name || got.OwnerID != owner.ID || got.Version != 1 ||
		got.Settings.NewClientAccess != access.PolicyNone || !got.Settings.AppActive(access.AppEmployees) {
		t.Errorf("GetTenant = %+v, want %+v", got, tn)
	}
	o, err := f.s.GetUser(f.ctx, tn.ID, owner.ID)
	if err != nil || !o.IsOwner || o.Email != owner.Email {
		t.Errorf("owner = %+v, %v", o, err)
	}
	if u, err := f.s.UserByEmail(f.ctx, owner.Email); err != nil || u.ID != owner.ID {
		t.Errorf("owner's email claim: %+v, %v", u, err)
	}
	_, err = f.s.GetTenant(f.ctx, id("t"))
	wantErr(t, "GetTenant of an unknown tenant", err, access.ErrNotFound)

	// The owner's email is claimed across tenants: a second tenant with it is refused whole.
	n := now()
	t2 := access.Tenant{ID: id("t"), Name: "Other", Version: 1, CreatedAt: n, UpdatedAt: n,
		Settings: access.Settings{NewClientAccess: access.PolicyNone}}
	o2 := f.user(t2.ID, "Owner")
	o2.Email, o2.IsOwner, t2.OwnerID = owner.Email, true, o2.ID
	wantPlainConflict(t, "CreateTenant with a taken owner email", f.s.CreateTenant(f.ctx, t2, o2, access.Meta{}))
	_, err = f.s.GetTenant(f.ctx, t2.ID)
	wantErr(t, "tenant of a refused create", err, access.ErrNotFound)
	_, err = f.s.GetUser(f.ctx, t2.ID, o2.ID)
	wantErr(t, "owner of a refused create", err, access.ErrNotFound)

	// UpdateTenant writes the settings and creates the groups with them.
	next := got
	next.Settings.NewClientAccess, next.Settings.AnonymiseAfterDays, next.Version = access.PolicyView, 30, 2
	g := access.Group{ID: id("g"), TenantID: tn.ID, Name: "Administrator", Template: "administrator", Version: 1,
		CreatedAt: n, UpdatedAt: n, Permissions: access.Permissions{access.AreaUsers: {Level: access.LevelEdit}}}
	must(t, "UpdateTenant", f.s.UpdateTenant(f.ctx, got, next, []access.Group{g}, auditMeta(tn.ID, "settings.update")))
	after, err := f.s.GetTenant(f.ctx, tn.ID)
	if err != nil || after.Version != 2 || after.Settings.NewClientAccess != access.PolicyView || after.Settings.AnonymiseAfterDays != 30 {
		t.Errorf("after UpdateTenant: %+v, %v", after, err)
	}
	if gg, err := f.s.GetGroup(f.ctx, tn.ID, g.ID); err != nil || gg.Name != g.Name || gg.Template != g.Template {
		t.Errorf("group created with the tenant update: %+v, %v", gg, err)
	}

	// A writer that read version 1 loses, and its groups are not created.
	stale := got
	stale.Settings.NewClientAccess, stale.Version = access.PolicyEdit, 2
	g2 := g
	g2.ID = id("g")
	wantErr(t, "UpdateTenant from a stale version", f.s.UpdateTenant(f.ctx, got, stale, []access.Group{g2}, access.Meta{}), access.ErrVersionConflict)
	if after, _ := f.s.GetTenant(f.ctx, tn.ID); after.Settings.NewClientAccess != access.PolicyView {
		t.Errorf("a stale update was written: %+v", after.Settings)
	}
	_, err = f.s.GetGroup(f.ctx, tn.ID, g2.ID)
	wantErr(t, "group of a stale tenant update", err, access.ErrNotFound)
}

func testTransferOwnership(t *testing.T, f *fixture) {
	tn, owner := f.tenant()
	b := f.createUser(tn.ID, "Heir")
	prevT, err := f.s.GetTenant(f.ctx, tn.ID)
	must(t, "GetTenant", err)
	nextT := prevT
	nextT.OwnerID, nextT.Version = b.ID, prevT.Version+1
	nextFrom := owner
	nextFrom.IsOwner, nextFrom.Roles, nextFrom.Version = false, []access.Role{access.RoleMainAdmin}, owner.Version+1
	nextTo := b
	nextTo.IsOwner, nextTo.Version = true, b.Version+1
	must(t, "TransferOwnership", f.s.TransferOwnership(f.ctx, prevT, nextT, [2]access.User{owner, nextFrom}, [2]access.User{b, nextTo}, auditMeta(tn.ID, "tenant.ownership.transfer")))
	if got, err := f.s.GetTenant(f.ctx, tn.ID); err != nil || got.OwnerID != b.ID || got.Version != nextT.Version {
		t.Errorf("tenant after transfer: %+v, %v", got, err)
	}
	if got, err := f.s.GetUser(f.ctx, tn.ID, owner.ID); err != nil || got.IsOwner || !got.HasRole(access.RoleMainAdmin) || got.Version != nextFrom.Version {
		t.Errorf("former owner: %+v, %v", got, err)
	}
	if got, err := f.s.GetUser(f.ctx, tn.ID, b.ID); err != nil || !got.IsOwner || got.Version != nextTo.Version {
		t.Errorf("new owner: %+v, %v", got, err)
	}

	// Replaying the transfer from what was read before fails and changes nothing.
	back := prevT
	back.OwnerID, back.Version = owner.ID, prevT.Version+1
	wantErr(t, "TransferOwnership from a stale tenant", f.s.TransferOwnership(f.ctx, prevT, back,
		[2]access.User{nextTo, b}, [2]access.User{nextFrom, owner}, access.Meta{}), access.ErrVersionConflict)
	// Fresh tenant but a stale user: also refused as a whole.
	curT, _ := f.s.GetTenant(f.ctx, tn.ID)
	back = curT
	back.OwnerID, back.Version = owner.ID, curT.Version+1
	wantErr(t, "TransferOwnership from a stale user", f.s.TransferOwnership(f.ctx, curT, back,
		[2]access.User{b, nextTo}, [2]access.User{owner, nextFrom}, access.Meta{}), access.ErrVersionConflict)
	if got, _ := f.s.GetTenant(f.ctx, tn.ID); got.OwnerID != b.ID || got.Version != curT.Version {
		t.Errorf("a refused transfer changed the tenant: %+v", got)
	}
}

// ------------------------------------------------------------------------------------- users

func testUsers(t *testing.T, f *fixture) {
	tn, _ := f.tenant()
	other, _ := f.tenant()
	g := f.group(tn.ID, "G")
	u := f.user(tn.ID, "Alice")
	u.Phone, u.GroupIDs, u.Roles = "+4712345678", []string{g.ID}, []access.Role{access.RoleTeamLead}
	u.CalendarAccess = map[string]access.Level{id("cal"): access.LevelView}
	must(t, "CreateUser", f.s.CreateUser(f.ctx, u, auditMeta(tn.ID, "user.create")))
	got, err := f.s.GetUser(f.ctx, tn.ID, u.ID)
	must(t, "GetUser", err)
	if got.ID != u.ID || got.TenantID != tn.ID || got.Name != u.Name || got.Email != u.Email || got.Phone != u.Phone ||
		got.Profession != u.Profession || got.Status != u.Status || got.Version != 1 || got.IsOwner ||
		!slices.Equal(got.GroupIDs, u.GroupIDs) || !slices.Equal(got.Roles, u.Roles) || !slices.Equal(got.CalendarIDs, u.CalendarIDs) ||
		len(got.CalendarAccess) != 1 {
		t.Errorf("GetUser = %+v\nwant %+v", got, u)
	}
	_, err = f.s.GetUser(f.ctx, other.ID, u.ID)
	wantErr(t, "GetUser through another tenant", err, access.ErrNotFound)
	_, err = f.s.GetUser(f.ctx, tn.ID, id("u"))
	wantErr(t, "GetUser of a missing user", err, access.ErrNotFound)

	// UsersByID leaves out the missing and the other tenant's.
	ou := f.createUser(other.ID, "Stranger")
	byID, err := f.s.UsersByID(f.ctx, tn.ID, []string{u.ID, id("u"), ou.ID})
	must(t, "UsersByID", err)
	if !slices.Equal(keys(byID), []string{u.ID}) {
		t.Errorf("UsersByID = %v, want only %s", keys(byID), u.ID)
	}

	// UpdateUser is conditional on the version read.
	next := got
	next.Name, next.Version = "Alice Renamed", 2
	must(t, "UpdateUser", f.s.UpdateUser(f.ctx, got, next, access.Meta{}))
	lost := got
	lost.Name, lost.Version = "Lost", 2
	wantErr(t, "UpdateUser from a stale version", f.s.UpdateUser(f.ctx, got, lost, access.Meta{}), access.ErrVersionConflict)
	if cur, _ := f.s.GetUser(f.ctx, tn.ID, u.ID); cur.Name != "Alice Renamed" || cur.Version != 2 {
		t.Errorf("after a lost update: %+v", cur)
	}
	// Principal reads the user with their groups.
	pu, groups, err := f.s.Principal(f.ctx, tn.ID, u.ID)
	if err != nil || pu.ID != u.ID || pu.Name != "Alice Renamed" || !slices.Equal(keys(groups), []string{g.ID}) {
		t.Errorf("Principal = %+v %v, %v", pu, keys(groups), err)
	}
	_, _, err = f.s.Principal(f.ctx, other.ID, u.ID)
	wantErr(t, "Principal through another tenant", err, access.ErrNotFound)
	_, _, err = f.s.Principal(f.ctx, tn.ID, id("u"))
	wantErr(t, "Principal of a missing user", err, access.ErrNotFound)

	// An idempotency key taken meanwhile refuses the create whole.
	rec := &access.IdempotencyRecord{TenantID: tn.ID, Key: id("k"), Operation: "POST /v1/users", RequestHash: "h", ResourceID: u.ID, CreatedAt: now()}
	must(t, "WriteMeta", f.s.WriteMeta(f.ctx, access.Meta{Idempotency: rec}))
	dup := f.user(tn.ID, "Dup")
	wantErr(t, "CreateUser with a used idempotency key", f.s.CreateUser(f.ctx, dup, access.Meta{Idempotency: rec}), access.ErrConflict)
	_, err = f.s.GetUser(f.ctx, tn.ID, dup.ID)
	wantErr(t, "user of a refused create", err, access.ErrNotFound)
	_, err = f.s.UserByEmail(f.ctx, dup.Email)
	wantErr(t, "email of a refused create", err, access.ErrNotFound)
}

func testUserEmailClaims(t *testing.T, f *fixture) {
	t1, _ := f.tenant()
	t2, _ := f.tenant()
	a := f.createUser(t1.ID, "A")
	b := f.createUser(t1.ID, "B")
	if got, err := f.s.UserByEmail(f.ctx, a.Email); err != nil || got.ID != a.ID || got.TenantID != t1.ID {
		t.Errorf("UserByEmail = %+v, %v", got, err)
	}
	_, err := f.s.UserByEmail(f.ctx, "nobody-"+id("e")[2:]+"@example.com")
	wantErr(t, "UserByEmail of an unused email", err, access.ErrNotFound)

	// The email is unique across tenants, by its identity (EmailKey), not as typed.
	c := f.user(t2.ID, "C")
	c.Email = a.Email
	wantPlainConflict(t, "CreateUser with an email of another tenant's user", f.s.CreateUser(f.ctx, c, access.Meta{}))
	c.Email = strings.ToUpper(a.Email)
	wantPlainConflict(t, "CreateUser with the email in upper case", f.s.CreateUser(f.ctx, c, access.Meta{}))
	_, err = f.s.GetUser(f.ctx, t2.ID, c.ID)
	wantErr(t, "user of a refused create", err, access.ErrNotFound)
	if got, err := f.s.UserByEmail(f.ctx, strings.ToUpper(a.Email)); err != nil || got.ID != a.ID {
		t.Errorf("UserByEmail in upper case = %+v, %v", got, err)
	}

	// Taking b's email fails and changes nothing; a free one moves the claim.
	taken := a
	taken.Email, taken.Version = b.Email, 2
	wantPlainConflict(t, "UpdateUser to a taken email", f.s.UpdateUser(f.ctx, a, taken, access.Meta{}))
	if got, _ := f.s.GetUser(f.ctx, t1.ID, a.ID); got.Email != a.Email || got.Version != 1 {
		t.Errorf("a refused email change was written: %+v", got)
	}
	moved := a
	moved.Email, moved.Version = "moved-"+a.Email, 2
	must(t, "UpdateUser moving the email", f.s.UpdateUser(f.ctx, a, moved, access.Meta{}))
	_, err = f.s.UserByEmail(f.ctx, a.Email)
	wantErr(t, "UserByEmail of the released email", err, access.ErrNotFound)
	if got, err := f.s.UserByEmail(f.ctx, moved.Email); err != nil || got.ID != a.ID {
		t.Errorf("UserByEmail of the new email = %+v, %v", got, err)
	}
	// The released email is free for anyone, in any tenant.
	c.Email = a.Email
	must(t, "CreateUser with a released email", f.s.CreateUser(f.ctx, c, access.Meta{}))
	// Changing only the case keeps the claim (same identity).
	recased := moved
	recased.Email, recased.Version = strings.ToUpper(moved.Email), 3
	must(t, "UpdateUser changing the email's case", f.s.UpdateUser(f.ctx, moved, recased, access.Meta{}))
	if got, err := f.s.UserByEmail(f.ctx, moved.Email); err != nil || got.ID != a.ID {
		t.Errorf("after a case change: %+v, %v", got, err)
	}
}

func testDeleteUser(t *testing.T, f *fixture) {
	tn, _ := f.tenant()
	u := f.createUser(tn.ID, "Leaver")
	stay := f.createUser(tn.ID, "Stayer")
	cl := f.client(tn.ID, assignment(tn.ID, "", u.ID, access.LevelEdit), assignment(tn.ID, "", stay.ID, access.LevelView))
	next := u
	next.Name, next.Version = "Leaver 2", 2
	must(t, "UpdateUser", f.s.UpdateUser(f.ctx, u, next, access.Meta{}))
	wantErr(t, "DeleteUser from a stale version", f.s.DeleteUser(f.ctx, u, access.Meta{}), access.ErrVersionConflict)
	if _, err := f.s.GetUser(f.ctx, tn.ID, u.ID); err != nil {
		t.Fatalf("a stale delete removed the user: %v", err)
	}
	must(t, "DeleteUser", f.s.DeleteUser(f.ctx, next, auditMeta(tn.ID, "user.delete")))
	_, err := f.s.GetUser(f.ctx, tn.ID, u.ID)
	wantErr(t, "GetUser of a deleted user", err, access.ErrNotFound)
	_, err = f.s.UserByEmail(f.ctx, u.Email)
	wantErr(t, "UserByEmail of a deleted user", err, access.ErrNotFound)
	_, _, err = f.s.Principal(f.ctx, tn.ID, u.ID)
	wantErr(t, "Principal of a deleted user", err, access.ErrNotFound)
	// The user's assignments go with them; others' stay.
	on, err := f.s.AssignmentsOn(f.ctx, tn.ID, cl.ID, []string{u.ID, stay.ID})
	must(t, "AssignmentsOn", err)
	if !slices.Equal(keys(on), []string{stay.ID}) {
		t.Errorf("assignments after DeleteUser = %v, want only %s", keys(on), stay.ID)
	}
	if got, more, err := f.s.UserAssignmentsAfter(f.ctx, tn.ID, u.ID, "", 10); err != nil || len(got) != 0 || more {
		t.Errorf("UserAssignmentsAfter of a deleted user = %+v, %v, %v", got, more, err)
	}
	// The email is free again.
	again := f.user(tn.ID, "Again")
	again.Email = u.Email
	must(t, "CreateUser with a deleted user's email", f.s.CreateUser(f.ctx, again, access.Meta{}))
}

func testListUsers(t *testing.T, f *fixture) {
	tn, owner := f.tenant()
	other, _ := f.tenant()
	f.createUser(other.ID, "Outsider")
	g := f.group(tn.ID, "Team")
	want := []string{owner.ID}
	var inGroup []string
	for i := range 5 {
		u := f.createUser(tn.ID, fmt.Sprintf("Member%d", i), func(u *access.User) {
			if i%2 == 0 {
				u.GroupIDs = []string{g.ID}
			}
		})
		want = append(want, u.ID)
		if i%2 == 0 {
			inGroup = append(inGroup, u.ID)
		}
	}
	deact := f.createUser(tn.ID, "Sleeper", func(u *access.User) { u.Status = access.StatusDeactivated })
	want = append(want, deact.ID)
	n := now()
	removed := f.createUser(tn.ID, "Gone", func(u *access.User) { u.Status, u.RemovedAt = access.StatusRemoved, &n })
	special := f.createUser(tn.ID, "Zoë Findable")

	ids := func(us []access.User) []string {
		out := make([]string, 0, len(us))
		for _, u := range us {
			if u.TenantID != tn.ID {
				t.Errorf("ListUsers of %s returned a user of %s", tn.ID, u.TenantID)
			}
			out = append(out, u.ID)
		}
		sort.Strings(out)
		return out
	}
	list := func(uf access.UserFilter) func(p access.Page) ([]access.User, string, error) {
		return func(p access.Page) ([]access.User, string, error) { return f.s.ListUsers(f.ctx, tn.ID, uf, p) }
	}
	// Default: active and deactivated, every page until the cursor ends, no user twice.
	all, pages := pageAll(t, "ListUsers", 2, list(access.UserFilter{}))
	wantAll := sorted(append(want, special.ID)...)
	if got := ids(all); !slices.Equal(got, wantAll) {
		t.Errorf("ListUsers = %v\nwant %v", got, wantAll)
	}
	if pages < 4 {
		t.Errorf("ListUsers of %d users by 2 took %d pages", len(wantAll), pages)
	}
	if got, _ := pageAll(t, "ListUsers removed", 2, list(access.UserFilter{Statuses: []access.Status{access.StatusRemoved}})); !slices.Equal(ids(got), []string{removed.ID}) {
		t.Errorf("ListUsers of removed = %v, want %s", ids(got), removed.ID)
	}
	if got, _ := pageAll(t, "ListUsers deactivated", 50, list(access.UserFilter{Statuses: []access.Status{access.StatusDeactivated}})); !slices.Equal(ids(got), []string{deact.ID}) {
		t.Errorf("ListUsers of deactivated = %v, want %s", ids(got), deact.ID)
	}
	if got, _ := pageAll(t, "ListUsers in group", 2, list(access.UserFilter{GroupID: g.ID})); !slices.Equal(ids(got), sorted(inGroup...)) {
		t.Errorf("ListUsers in group = %v, want %v", ids(got), sorted(inGroup...))
	}
	for _, text := range []string{"zoË find", "FINDABLE", strings.ToUpper(special.Email[:12])} {
		if got, _ := pageAll(t, "ListUsers text", 50, list(access.UserFilter{Text: text})); !slices.Equal(ids(got), []string{special.ID}) {
			t.Errorf("ListUsers text %q = %v, want %s", text, ids(got), special.ID)
		}
	}
}

// ------------------------------------------------------------------------------------ groups

func testGroups(t *testing.T, f *fixture) {
	tn, _ := f.tenant()
	other, _ := f.tenant()
	g1, g2, g3 := f.group(tn.ID, "One"), f.group(tn.ID, "Two"), f.group(tn.ID, "Three")
	og := f.group(other.ID, "Theirs")
	got, err := f.s.GetGroup(f.ctx, tn.ID, g1.ID)
	if err != nil || got.Name != "One" || got.Version != 1 || got.Permissions[access.AreaClients].Level != access.LevelView ||
		got.Permissions[access.AreaClients].Scope != access.ScopeAll {
		t.Errorf("GetGroup = %+v, %v", got, err)
	}
	_, err = f.s.GetGroup(f.ctx, tn.ID, og.ID)
	wantErr(t, "GetGroup of another tenant's group", err, access.ErrNotFound)
	_, err = f.s.GetGroup(f.ctx, tn.ID, id("g"))
	wantErr(t, "GetGroup of a missing group", err, access.ErrNotFound)
	gs, err := f.s.GetGroups(f.ctx, tn.ID, []string{g1.ID, id("g"), g3.ID, og.ID})
	must(t, "GetGroups", err)
	if !slices.Equal(keys(gs), sorted(g1.ID, g3.ID)) {
		t.Errorf("GetGroups = %v, want %v (missing and foreign left out)", keys(gs), sorted(g1.ID, g3.ID))
	}
	if gs, err := f.s.GetGroups(f.ctx, tn.ID, nil); err != nil || len(gs) != 0 {
		t.Errorf("GetGroups of none = %v, %v", gs, err)
	}
	all, _ := pageAll(t, "ListGroups", 2, func(p access.Page) ([]access.Group, string, error) { return f.s.ListGroups(f.ctx, tn.ID, p) })
	var ids []string
	for _, g := range all {
		ids = append(ids, g.ID)
	}
	sort.Strings(ids)
	if !slices.Equal(ids, sorted(g1.ID, g2.ID, g3.ID)) {
		t.Errorf("ListGroups = %v", ids)
	}

	next := g2
	next.Name, next.Description, next.Version = "Two renamed", "d", 2
	must(t, "UpdateGroup", f.s.UpdateGroup(f.ctx, g2, next, access.Meta{}))
	lost := g2
	lost.Name, lost.Version = "Lost", 2
	wantErr(t, "UpdateGroup from a stale version", f.s.UpdateGroup(f.ctx, g2, lost, access.Meta{}), access.ErrVersionConflict)
	if got, _ := f.s.GetGroup(f.ctx, tn.ID, g2.ID); got.Name != "Two renamed" || got.Description != "d" || got.Version != 2 {
		t.Errorf("after a lost group update: %+v", got)
	}
	wantErr(t, "DeleteGroup from a stale version", f.s.DeleteGroup(f.ctx, g2, access.Meta{}), access.ErrVersionConflict)
	must(t, "DeleteGroup", f.s.DeleteGroup(f.ctx, next, access.Meta{}))
	_, err = f.s.GetGroup(f.ctx, tn.ID, g2.ID)
	wantErr(t, "GetGroup of a deleted group", err, access.ErrNotFound)
	if gs, _ := f.s.GetGroups(f.ctx, tn.ID, []string{g2.ID}); len(gs) != 0 {
		t.Errorf("GetGroups of a deleted group = %v", keys(gs))
	}
	// A duplicate id is refused.
	wantErr(t, "CreateGroup with an existing id", f.s.CreateGroup(f.ctx, g1, access.Meta{}), access.ErrConflict)

	// Principal: the user's groups, not the deleted one nor other groups of the tenant.
	u := f.createUser(tn.ID, "Member", func(u *access.User) { u.GroupIDs = []string{g1.ID, g2.ID} })
	pu, groups, err := f.s.Principal(f.ctx, tn.ID, u.ID)
	if err != nil || pu.ID != u.ID {
		t.Fatalf("Principal = %+v, %v", pu, err)
	}
	for gid := range groups {
		if gid == g2.ID || gid == og.ID {
			t.Errorf("Principal returned group %s", gid)
		}
	}
	if _, ok := groups[g1.ID]; !ok {
		t.Errorf("Principal groups = %v, want %s among them", keys(groups), g1.ID)
	}
}

// ----------------------------------------------------------------------------------- clients

func testClients(t *testing.T, f *fixture) {
	tn, owner := f.tenant()
	other, _ := f.tenant()
	a := f.createUser(tn.ID, "Creator")
	cl := f.client(tn.ID, assignment(tn.ID, "", a.ID, access.LevelEdit))
	got, err := f.s.GetClient(f.ctx, tn.ID, cl.ID)
	if err != nil || got.ID != cl.ID || got.TenantID != tn.ID || got.Name != cl.Name || got.Status != access.ClientActive ||
		got.Source != access.ClientManual || got.Version != 1 {
		t.Errorf("GetClient = %+v, %v", got, err)
	}
	_, err = f.s.GetClient(f.ctx, other.ID, cl.ID)
	wantErr(t, "GetClient through another tenant", err, access.ErrNotFound)
	_, err = f.s.GetClient(f.ctx, tn.ID, id("c"))
	wantErr(t, "GetClient of a missing client", err, access.ErrNotFound)
	wantErr(t, "CreateClient with an existing id", f.s.CreateClient(f.ctx, cl, nil, access.Meta{}), access.ErrConflict)

	// The idempotency key of a create taken meanwhile refuses it whole.
	rec := &access.IdempotencyRecord{TenantID: tn.ID, Key: id("k"), Operation: "POST /v1/clients", RequestHash: "h", ResourceID: cl.ID, CreatedAt: now()}
	must(t, "WriteMeta", f.s.WriteMeta(f.ctx, access.Meta{Idempotency: rec}))
	dup := cl
	dup.ID = id("c")
	wantErr(t, "CreateClient with a used idempotency key", f.s.CreateClient(f.ctx, dup, nil, access.Meta{Idempotency: rec}), access.ErrConflict)
	_, err = f.s.GetClient(f.ctx, tn.ID, dup.ID)
	wantErr(t, "client of a refused create", err, access.ErrNotFound)

	// The policy level is kept and listed by PolicyClientsAfter.
	n := now()
	pol := access.Client{ID: id("c"), TenantID: tn.ID, Name: "Booked", Status: access.ClientActive, Source: access.ClientOnlineBooking,
		PolicyLevel: access.LevelView, Version: 1, CreatedAt: n, UpdatedAt: n}
	must(t, "CreateClient with a policy", f.s.CreateClient(f.ctx, pol, nil, access.Meta{}))
	if got, err := f.s.GetClient(f.ctx, tn.ID, pol.ID); err != nil || got.PolicyLevel != access.LevelView || got.Source != access.ClientOnlineBooking {
		t.Errorf("policy client = %+v, %v", got, err)
	}
	if got, more, err := f.s.PolicyClientsAfter(f.ctx, tn.ID, "", 10); err != nil || more || len(got) != 1 || got[0].ID != pol.ID {
		t.Errorf("PolicyClientsAfter = %+v, %v, %v; want only %s", got, more, err, pol.ID)
	}

	cs, err := f.s.GetClients(f.ctx, tn.ID, []string{cl.ID, id("c"), pol.ID})
	must(t, "GetClients", err)
	if !slices.Equal(keys(cs), sorted(cl.ID, pol.ID)) {
		t.Errorf("GetClients = %v", keys(cs))
	}
	if cs, _ := f.s.GetClients(f.ctx, other.ID, []string{cl.ID}); len(cs) != 0 {
		t.Errorf("GetClients through another tenant = %v", keys(cs))
	}
	var want []string
	want = append(want, cl.ID, pol.ID)
	for range 3 {
		want = append(want, f.client(tn.ID).ID)
	}
	all, _ := pageAll(t, "ListClients", 2, func(p access.Page) ([]access.Client, string, error) { return f.s.ListClients(f.ctx, tn.ID, p) })
	var ids []string
	for _, c := range all {
		ids = append(ids, c.ID)
	}
	sort.Strings(ids)
	if !slices.Equal(ids, sorted(want...)) {
		t.Errorf("ListClients = %v\nwant %v", ids, sorted(want...))
	}

	// ClientWithAssignment: the assignment made with the client, nil for another user.
	c, asg, err := f.s.ClientWithAssignment(f.ctx, tn.ID, cl.ID, a.ID)
	if err != nil || c.ID != cl.ID || asg == nil || asg.Level != access.LevelEdit || asg.UserID != a.ID || asg.Version != 1 {
		t.Errorf("ClientWithAssignment = %+v, %+v, %v", c, asg, err)
	}
	if c, asg, err := f.s.ClientWithAssignment(f.ctx, tn.ID, cl.ID, owner.ID); err != nil || c.ID != cl.ID || asg != nil {
		t.Errorf("ClientWithAssignment without one = %+v, %+v, %v", c, asg, err)
	}
	_, _, err = f.s.ClientWithAssignment(f.ctx, tn.ID, id("c"), a.ID)
	wantErr(t, "ClientWithAssignment of a missing client", err, access.ErrNotFound)
	_, _, err = f.s.ClientWithAssignment(f.ctx, other.ID, cl.ID, a.ID)
	wantErr(t, "ClientWithAssignment through another tenant", err, access.ErrNotFound)

	// ClientFacts: the client and the assignment; no grant, no administration.
	facts, err := f.s.ClientFacts(f.ctx, tn.ID, cl.ID, a.ID)
	if err != nil || facts.Client.ID != cl.ID || facts.Assignment == nil || facts.Assignment.Level != access.LevelEdit || facts.Grant != nil || facts.Admin != nil {
		t.Errorf("ClientFacts = %+v, %v", facts, err)
	}
	_, err = f.s.ClientFacts(f.ctx, tn.ID, id("c"), a.ID)
	wantErr(t, "ClientFacts of a missing client", err, access.ErrNotFound)
	_, err = f.s.ClientFacts(f.ctx, other.ID, cl.ID, a.ID)
	wantErr(t, "ClientFacts through another tenant", err, access.ErrNotFound)
}

func testAssignments(t *testing.T, f *fixture) {
	tn, _ := f.tenant()
	other, _ := f.tenant()
	cl := f.client(tn.ID)
	var users []string
	for i := range 5 {
		users = append(users, f.createUser(tn.ID, fmt.Sprintf("U%d", i)).ID)
	}
	var asgs []access.Assignment
	for _, u := range users {
		asgs = append(asgs, f.assign(tn.ID, cl.ID, u, access.LevelView))
	}
	a := asgs[0]
	// Creating over an existing one, updating from a stale version, deleting a stale one: refused.
	dup := a
	dup.Level = access.LevelEdit
	wantErr(t, "PutAssignment over an existing one", f.s.PutAssignment(f.ctx, nil, dup, access.Meta{}), access.ErrVersionConflict)
	next := a
	next.Level, next.Version = access.LevelEdit, 2
	must(t, "PutAssignment update", f.s.PutAssignment(f.ctx, &a, next, access.Meta{}))
	lost := a
	lost.Level, lost.Version = access.LevelView, 2
	wantErr(t, "PutAssignment from a stale version", f.s.PutAssignment(f.ctx, &a, lost, access.Meta{}), access.ErrVersionConflict)
	wantErr(t, "DeleteAssignment of a stale version", f.s.DeleteAssignment(f.ctx, a, access.Meta{}), access.ErrVersionConflict)
	if _, got, _ := f.s.ClientWithAssignment(f.ctx, tn.ID, cl.ID, a.UserID); got == nil || got.Level != access.LevelEdit || got.Version != 2 {
		t.Errorf("assignment after refused writes: %+v", got)
	}

	// ClientAssignments pages by user id until exhausted.
	all, _ := pageAll(t, "ClientAssignments", 2, func(p access.Page) ([]access.Assignment, string, error) {
		return f.s.ClientAssignments(f.ctx, tn.ID, cl.ID, p)
	})
	var got []string
	for _, x := range all {
		got = append(got, x.UserID)
	}
	if !slices.Equal(got, sorted(users...)) {
		t.Errorf("ClientAssignments = %v\nwant %v (by user id)", got, sorted(users...))
	}
	if x, _, err := f.s.ClientAssignments(f.ctx, other.ID, cl.ID, access.Page{Limit: 10}); err != nil || len(x) != 0 {
		t.Errorf("ClientAssignments through another tenant = %+v, %v", x, err)
	}

	on, err := f.s.AssignmentsOn(f.ctx, tn.ID, cl.ID, []string{users[1], id("u"), users[3]})
	must(t, "AssignmentsOn", err)
	if !slices.Equal(keys(on), sorted(users[1], users[3])) || on[users[1]].Level != access.LevelView {
		t.Errorf("AssignmentsOn = %v", on)
	}

	// UserAssignmentsAfter: by client id, `more` while any follow.
	u := users[4]
	cids := []string{cl.ID}
	for range 3 {
		c := f.client(tn.ID)
		f.assign(tn.ID, c.ID, u, access.LevelEdit)
		cids = append(cids, c.ID)
	}
	sort.Strings(cids)
	var seen []string
	after := ""
	for round := 0; ; round++ {
		page, more, err := f.s.UserAssignmentsAfter(f.ctx, tn.ID, u, after, 3)
		must(t, "UserAssignmentsAfter", err)
		if len(page) > 3 {
			t.Fatalf("UserAssignmentsAfter gave %d, over the limit", len(page))
		}
		for _, x := range page {
			if x.UserID != u || x.TenantID != tn.ID {
				t.Errorf("UserAssignmentsAfter gave %+v", x)
			}
			seen = append(seen, x.ClientID)
		}
		if !more {
			break
		}
		if len(page) == 0 || round > 10 {
			t.Fatalf("UserAssignmentsAfter: more without progress")
		}
		after = page[len(page)-1].ClientID
	}
	if !slices.Equal(seen, cids) {
		t.Errorf("UserAssignmentsAfter = %v\nwant %v", seen, cids)
	}
	if page, more, err := f.s.UserAssignmentsAfter(f.ctx, tn.ID, u, cids[len(cids)-1], 3); err != nil || len(page) != 0 || more {
		t.Errorf("UserAssignmentsAfter the last = %+v, %v, %v", page, more, err)
	}
	if page, _, err := f.s.UserAssignmentsAfter(f.ctx, other.ID, u, "", 10); err != nil || len(page) != 0 {
		t.Errorf("UserAssignmentsAfter through another tenant = %+v, %v", page, err)
	}

	// Deleting at the version read works, and the assignment is gone.
	must(t, "DeleteAssignment", f.s.DeleteAssignment(f.ctx, next, access.Meta{}))
	if _, got, err := f.s.ClientWithAssignment(f.ctx, tn.ID, cl.ID, a.UserID); err != nil || got != nil {
		t.Errorf("after DeleteAssignment: %+v, %v", got, err)
	}
	// Creating it again (prev nil) works once it is gone.
	must(t, "PutAssignment after delete", f.s.PutAssignment(f.ctx, nil, a, access.Meta{}))
}

// ------------------------------------------------------------------------------ client admins

func testClientAdmins(t *testing.T, f *fixture) {
	tn, _ := f.tenant()
	other, _ := f.tenant()
	cl := f.client(tn.ID)
	sys1 := f.createUser(tn.ID, "Sys1")
	sys2 := f.createUser(tn.ID, "Sys2")
	prog := f.createUser(tn.ID, "Prog")
	_, err := f.s.GetClientAdmin(f.ctx, tn.ID, cl.ID, sys1.ID)
	wantErr(t, "GetClientAdmin of none", err, access.ErrNotFound)

	mk := func(u access.User, system bool, programs ...string) access.ClientAdmin {
		return access.ClientAdmin{TenantID: tn.ID, ClientID: cl.ID, UserID: u.ID, System: system, Programs: programs, Version: 1, UpdatedAt: now()}
	}
	a1, a2, ap := mk(sys1, true), mk(sys2, true), mk(prog, false, "payroll")
	for _, a := range []access.ClientAdmin{a1, a2, ap} {
		must(t, "PutClientAdmin", f.s.PutClientAdmin(f.ctx, nil, a, nil, auditMeta(tn.ID, "client.admin.set")))
	}
	wantErr(t, "PutClientAdmin creating over an existing one", f.s.PutClientAdmin(f.ctx, nil, a1, nil, access.Meta{}), access.ErrVersionConflict)
	if got, err := f.s.GetClientAdmin(f.ctx, tn.ID, cl.ID, prog.ID); err != nil || got.System || !slices.Equal(got.Programs, []string{"payroll"}) || got.Version != 1 || got.UserID != prog.ID {
		t.Errorf("GetClientAdmin = %+v, %v", got, err)
	}
	_, err = f.s.GetClientAdmin(f.ctx, other.ID, cl.ID, sys1.ID)
	wantErr(t, "GetClientAdmin through another tenant", err, access.ErrNotFound)

	all, _ := pageAll(t, "ListClientAdmins", 2, func(p access.Page) ([]access.ClientAdmin, string, error) {
		return f.s.ListClientAdmins(f.ctx, tn.ID, cl.ID, p)
	})
	var ids []string
	for _, a := range all {
		ids = append(ids, a.UserID)
	}
	if !slices.Equal(ids, sorted(sys1.ID, sys2.ID, prog.ID)) {
		t.Errorf("ListClientAdmins = %v, want %v (by user id)", ids, sorted(sys1.ID, sys2.ID, prog.ID))
	}

	// Updating from a stale version is refused.
	apNext := ap
	apNext.Programs, apNext.Version = []string{"payroll", "invoicing"}, 2
	must(t, "PutClientAdmin update", f.s.PutClientAdmin(f.ctx, &ap, apNext, nil, access.Meta{}))
	wantErr(t, "PutClientAdmin from a stale version", f.s.PutClientAdmin(f.ctx, &ap, apNext, nil, access.Meta{}), access.ErrVersionConflict)
	wantErr(t, "DeleteClientAdmin of a stale version", f.s.DeleteClientAdmin(f.ctx, ap, nil, access.Meta{}), access.ErrVersionConflict)

	// keep must still be a system administrator: a program administrator or nobody is not.
	demoted := a2
	demoted.System, demoted.Programs, demoted.Version = false, []string{"payroll"}, 2
	wantErr(t, "PutClientAdmin keeping a program administrator", f.s.PutClientAdmin(f.ctx, &a2, demoted, &apNext, access.Meta{}), access.ErrLastSystemAdmin)
	ghost := mk(f.user(tn.ID, "Ghost"), true)
	wantErr(t, "DeleteClientAdmin keeping a non-administrator", f.s.DeleteClientAdmin(f.ctx, a2, &ghost, access.Meta{}), access.ErrLastSystemAdmin)
	if got, err := f.s.GetClientAdmin(f.ctx, tn.ID, cl.ID, sys2.ID); err != nil || !got.System || got.Version != 1 {
		t.Errorf("a refused change was written: %+v, %v", got, err)
	}
	// With sys1 still system administrator, sys2 may be demoted and then removed.
	must(t, "PutClientAdmin demoting, keeping a system administrator", f.s.PutClientAdmin(f.ctx, &a2, demoted, &a1, access.Meta{}))
	must(t, "DeleteClientAdmin keeping a system administrator", f.s.DeleteClientAdmin(f.ctx, demoted, &a1, access.Meta{}))
	_, err = f.s.GetClientAdmin(f.ctx, tn.ID, cl.ID, sys2.ID)
	wantErr(t, "GetClientAdmin after delete", err, access.ErrNotFound)
	// Two who remove each other: once sys2 is gone, sys1 cannot be removed keeping sys2.
	wantErr(t, "DeleteClientAdmin keeping a removed administrator", f.s.DeleteClientAdmin(f.ctx, a1, &a2, access.Meta{}), access.ErrLastSystemAdmin)
	// The owner's change carries no keep.
	must(t, "DeleteClientAdmin by the owner", f.s.DeleteClientAdmin(f.ctx, a1, nil, access.Meta{}))

	// ClientFacts and ClientRolesOf see the administration.
	facts, err := f.s.ClientFacts(f.ctx, tn.ID, cl.ID, prog.ID)
	if err != nil || facts.Admin == nil || !facts.Admin.CanAssign("invoicing") || facts.Admin.System {
		t.Errorf("ClientFacts admin = %+v, %v", facts.Admin, err)
	}
	roles, err := f.s.ClientRolesOf(f.ctx, tn.ID, prog.ID)
	if err != nil || !slices.Equal(roles.AdminOf, []string{cl.ID}) {
		t.Errorf("ClientRolesOf = %+v, %v", roles, err)
	}
}

// ----------------------------------------------------------------------------- grants & jobs

func testGrantsAndJobs(t *testing.T, f *fixture) {
	tn, owner := f.tenant()
	other, _ := f.tenant()
	c1, c2, c3 := f.client(tn.ID), f.client(tn.ID), f.client(tn.ID)
	var users []string
	for i := range 4 {
		users = append(users, f.createUser(tn.ID, fmt.Sprintf("Consultant%d", i), func(u *access.User) {
			u.Profession, u.Roles = access.ProfessionConsultant, []access.Role{access.RoleConsultant}
		}).ID)
	}
	grant := func(clientID, userID string, programs ...string) access.ClientGrant {
		return access.ClientGrant{TenantID: tn.ID, ClientID: clientID, UserID: userID, Level: access.GrantLevel, Programs: programs,
			GrantedBy: owner.ID, GrantedAt: now(), Version: 1, UpdatedAt: now()}
	}
	job := access.Job{ID: id("job"), TenantID: tn.ID, RequesterID: owner.ID, Action: access.JobGrant, Programs: []string{"payroll"},
		Consultants: 4, Clients: 3, Status: access.JobQueued, Total: 6, Chunks: 2, CreatedAt: now()}
	in := access.JobInput{ConsultantIDs: users, ClientIDs: []string{c1.ID, c2.ID, c3.ID}}
	must(t, "CreateJob", f.s.CreateJob(f.ctx, job, in, auditMeta(tn.ID, "job.create")))
	wantErr(t, "CreateJob with an existing id", f.s.CreateJob(f.ctx, job, in, access.Meta{}), access.ErrConflict)
	if got, err := f.s.GetJob(f.ctx, tn.ID, job.ID); err != nil || got.Total != 6 || got.Done != 0 || got.Status.Final() || got.RequesterID != owner.ID {
		t.Errorf("GetJob = %+v, %v", got, err)
	}
	_, err := f.s.GetJob(f.ctx, other.ID, job.ID)
	wantErr(t, "GetJob through another tenant", err, access.ErrNotFound)
	if got, err := f.s.GetJobInput(f.ctx, tn.ID, job.ID); err != nil || !slices.Equal(got.ConsultantIDs, users) || len(got.ClientIDs) != 3 {
		t.Errorf("GetJobInput = %+v, %v", got, err)
	}
	_, err = f.s.GetJobInput(f.ctx, tn.ID, id("job"))
	wantErr(t, "GetJobInput of a missing job", err, access.ErrNotFound)

	// Part 0: every consultant gets c1; consultant 0 also gets c2 and c3 (6 results).
	var changes []access.GrantChange
	var results []access.PairResult
	for _, u := range users {
		g := grant(c1.ID, u, "payroll")
		changes = append(changes, access.GrantChange{Next: &g})
		results = append(results, access.PairResult{ConsultantID: u, ClientID: c1.ID, Outcomes: map[string]access.Outcome{"payroll": access.OutcomeAssigned}})
	}
	for _, c := range []string{c2.ID, c3.ID} {
		g := grant(c, users[0], "payroll")
		changes = append(changes, access.GrantChange{Next: &g})
		results = append(results, access.PairResult{ConsultantID: users[0], ClientID: c, Outcomes: map[string]access.Outcome{"payroll": access.OutcomeAssigned}})
	}
	part := access.JobPart{TenantID: tn.ID, JobID: job.ID, Chunk: 0, Part: 0, Results: results[:5],
		Counts: map[access.Outcome]int{access.OutcomeAssigned: 5}, Programs: changes[:5]}
	must(t, "ApplyJobPart", f.s.ApplyJobPart(f.ctx, part))
	wantErr(t, "ApplyJobPart again", f.s.ApplyJobPart(f.ctx, part), access.ErrPartDone)

	// A change based on a stale read (creating a grant that now exists) refuses the part whole.
	staleGrant := grant(c1.ID, users[1], "invoicing")
	stale := access.JobPart{TenantID: tn.ID, JobID: job.ID, Chunk: 1, Part: 0, Results: results[5:],
		Counts: map[access.Outcome]int{access.OutcomeAssigned: 1}, Programs: []access.GrantChange{changes[5], {Next: &staleGrant}}}
	wantErr(t, "ApplyJobPart over a changed grant", f.s.ApplyJobPart(f.ctx, stale), access.ErrVersionConflict)
	if gs, _ := f.s.GrantsOn(f.ctx, tn.ID, c3.ID, []string{users[0]}); len(gs) != 0 {
		t.Errorf("a refused part wrote a grant: %v", gs)
	}
	if got, _ := f.s.GetJob(f.ctx, tn.ID, job.ID); got.Done != 5 || got.Counts[access.OutcomeAssigned] != 5 {
		t.Errorf("job after part 0 and a refused part: done %d, counts %v", got.Done, got.Counts)
	}
	// A part's results are written with it, or not at all.
	if rs, _, err := f.s.ListJobResults(f.ctx, tn.ID, job.ID, "", access.Page{Limit: 50}); err != nil || len(rs) != 5 {
		t.Errorf("results after part 0 and a refused part = %d, %v; want part 0's 5", len(rs), err)
	}
	stale.Programs = changes[5:]
	must(t, "ApplyJobPart chunk 1", f.s.ApplyJobPart(f.ctx, stale))

	// ClientGrants pages one client's grants by user id.
	all, _ := pageAll(t, "ClientGrants", 3, func(p access.Page) ([]access.ClientGrant, string, error) {
		return f.s.ClientGrants(f.ctx, tn.ID, c1.ID, p)
	})
	var ids []string
	for _, g := range all {
		ids = append(ids, g.UserID)
		if g.Level != access.GrantLevel || !slices.Equal(g.Programs, []string{"payroll"}) || g.ClientID != c1.ID {
			t.Errorf("ClientGrants gave %+v", g)
		}
	}
	if !slices.Equal(ids, sorted(users...)) {
		t.Errorf("ClientGrants = %v\nwant %v", ids, sorted(users...))
	}
	if gs, _, err := f.s.ClientGrants(f.ctx, other.ID, c1.ID, access.Page{Limit: 10}); err != nil || len(gs) != 0 {
		t.Errorf("ClientGrants through another tenant = %+v, %v", gs, err)
	}
	on, err := f.s.GrantsOn(f.ctx, tn.ID, c1.ID, []string{users[2], id("u"), users[0]})
	must(t, "GrantsOn", err)
	if !slices.Equal(keys(on), sorted(users[0], users[2])) {
		t.Errorf("GrantsOn = %v", keys(on))
	}
	// UserGrantsAfter: by client id, more while any follow.
	cids := sorted(c1.ID, c2.ID, c3.ID)
	page, more, err := f.s.UserGrantsAfter(f.ctx, tn.ID, users[0], "", 2)
	if err != nil || len(page) != 2 || !more || page[0].ClientID != cids[0] || page[1].ClientID != cids[1] {
		t.Errorf("UserGrantsAfter first page = %+v, %v, %v", page, more, err)
	}
	page, more, err = f.s.UserGrantsAfter(f.ctx, tn.ID, users[0], cids[1], 2)
	if err != nil || len(page) != 1 || more || page[0].ClientID != cids[2] {
		t.Errorf("UserGrantsAfter second page = %+v, %v, %v", page, more, err)
	}
	if page, more, err := f.s.UserGrantsAfter(f.ctx, tn.ID, users[1], "", 10); err != nil || len(page) != 1 || more {
		t.Errorf("UserGrantsAfter of one grant = %+v, %v, %v", page, more, err)
	}
	// ClientFacts sees the grant.
	if facts, err := f.s.ClientFacts(f.ctx, tn.ID, c2.ID, users[0]); err != nil || facts.Grant == nil || !slices.Contains(facts.Grant.Programs, "payroll") || facts.Assignment != nil {
		t.Errorf("ClientFacts grant = %+v, %v", facts, err)
	}
	if roles, err := f.s.ClientRolesOf(f.ctx, tn.ID, users[0]); err != nil || !slices.Equal(roles.ProgramsAt, cids) {
		t.Errorf("ClientRolesOf = %+v, %v", roles, err)
	}

	// Results page, optionally by outcome.
	rs, _ := pageAll(t, "ListJobResults", 4, func(p access.Page) ([]access.JobResult, string, error) {
		return f.s.ListJobResults(f.ctx, tn.ID, job.ID, "", p)
	})
	if len(rs) != 6 {
		t.Errorf("ListJobResults = %d results, want 6: %+v", len(rs), rs)
	}
	if rs, _, err := f.s.ListJobResults(f.ctx, tn.ID, job.ID, access.OutcomeRemoved, access.Page{Limit: 50}); err != nil || len(rs) != 0 {
		t.Errorf("ListJobResults of removed = %+v, %v", rs, err)
	}

	// Completion: once; afterwards no part is applied.
	cur, err := f.s.GetJob(f.ctx, tn.ID, job.ID)
	must(t, "GetJob", err)
	if cur.Done != 6 {
		t.Fatalf("job done = %d, want 6", cur.Done)
	}
	notif := access.Notification{ID: id("n"), TenantID: tn.ID, UserID: owner.ID, Type: access.NotificationJobCompleted, JobID: job.ID,
		Title: "Access job completed", Summary: "6 assigned", CreatedAt: now(), ExpiresAt: now().Add(time.Hour)}
	must(t, "CompleteJob", f.s.CompleteJob(f.ctx, cur, access.JobCompleted, notif, access.Meta{}))
	notif2 := notif
	notif2.ID = id("n")
	wantErr(t, "CompleteJob again", f.s.CompleteJob(f.ctx, cur, access.JobCompleted, notif2, access.Meta{}), access.ErrJobClosed)
	if got, err := f.s.GetJob(f.ctx, tn.ID, job.ID); err != nil || got.Status != access.JobCompleted || got.CompletedAt == nil {
		t.Errorf("completed job = %+v, %v", got, err)
	}
	late := access.JobPart{TenantID: tn.ID, JobID: job.ID, Chunk: 2, Part: 0, Counts: map[access.Outcome]int{access.OutcomeAssigned: 1}}
	wantErr(t, "ApplyJobPart to a completed job", f.s.ApplyJobPart(f.ctx, late), access.ErrJobClosed)

	// The requester's notification; nobody else's.
	ns, _, err := f.s.ListNotifications(f.ctx, tn.ID, owner.ID, now(), access.Page{Limit: 10})
	if err != nil || len(ns) != 1 || ns[0].ID != notif.ID || ns[0].Read {
		t.Errorf("ListNotifications = %+v, %v", ns, err)
	}
	if ns, _, err := f.s.ListNotifications(f.ctx, tn.ID, owner.ID, now().Add(2*time.Hour), access.Page{Limit: 10}); err != nil || len(ns) != 0 {
		t.Errorf("ListNotifications after expiry = %+v, %v", ns, err)
	}
	_, err = f.s.MarkNotificationRead(f.ctx, tn.ID, users[0], notif.ID, now())
	wantErr(t, "MarkNotificationRead of another user's notification", err, access.ErrNotFound)
	if n, err := f.s.MarkNotificationRead(f.ctx, tn.ID, owner.ID, notif.ID, now()); err != nil || !n.Read || n.ReadAt == nil {
		t.Errorf("MarkNotificationRead = %+v, %v", n, err)
	}

	// A second job revokes: deleting a grant at a stale version is refused, at the current one works.
	job2 := job
	job2.ID, job2.Action, job2.Total = id("job"), access.JobRevoke, 1
	must(t, "CreateJob 2", f.s.CreateJob(f.ctx, job2, in, access.Meta{}))
	cur1 := on[users[2]]
	staleG := cur1
	staleG.Version = cur1.Version + 5
	revoke := access.JobPart{TenantID: tn.ID, JobID: job2.ID, Counts: map[access.Outcome]int{access.OutcomeRemoved: 1},
		Results:  []access.PairResult{{ConsultantID: users[2], ClientID: c1.ID, Outcomes: map[string]access.Outcome{"": access.OutcomeRemoved}}},
		Programs: []access.GrantChange{{Prev: &staleG}}}
	wantErr(t, "ApplyJobPart deleting a stale grant", f.s.ApplyJobPart(f.ctx, revoke), access.ErrVersionConflict)
	revoke.Programs = []access.GrantChange{{Prev: &cur1}}
	must(t, "ApplyJobPart revoke", f.s.ApplyJobPart(f.ctx, revoke))
	if gs, _ := f.s.GrantsOn(f.ctx, tn.ID, c1.ID, []string{users[2]}); len(gs) != 0 {
		t.Errorf("revoked grant still there: %v", gs)
	}
	if rs, _, err := f.s.ListJobResults(f.ctx, tn.ID, job2.ID, access.OutcomeRemoved, access.Page{Limit: 10}); err != nil || len(rs) != 1 || rs[0].Program != "" {
		t.Errorf("revoke results = %+v, %v", rs, err)
	}
}

// ---------------------------------------------------------------------- authorization snapshot

func testAuthorizationSnapshot(t *testing.T, f *fixture) {
	tn, owner := f.tenant()
	other, _ := f.tenant()
	gc, gt := f.group(tn.ID, "CallerGroup"), f.group(tn.ID, "TargetGroup")
	f.group(tn.ID, "Unrelated")
	caller := f.createUser(tn.ID, "Caller", func(u *access.User) { u.GroupIDs = []string{gc.ID} })
	target := f.createUser(tn.ID, "Target", func(u *access.User) { u.GroupIDs = []string{gt.ID} })
	cl := f.client(tn.ID, assignment(tn.ID, "", target.ID, access.LevelView))
	admin := access.ClientAdmin{TenantID: tn.ID, ClientID: cl.ID, UserID: target.ID, Programs: []string{"payroll"}, Version: 1, UpdatedAt: now()}
	must(t, "PutClientAdmin", f.s.PutClientAdmin(f.ctx, nil, admin, nil, access.Meta{}))
	job := access.Job{ID: id("job"), TenantID: tn.ID, RequesterID: owner.ID, Action: access.JobGrant, Programs: []string{"payroll"},
		Consultants: 1, Clients: 1, Status: access.JobQueued, Total: 1, Chunks: 1, CreatedAt: now()}
	must(t, "CreateJob", f.s.CreateJob(f.ctx, job, access.JobInput{ConsultantIDs: []string{target.ID}, ClientIDs: []string{cl.ID}}, access.Meta{}))
	g := access.ClientGrant{TenantID: tn.ID, ClientID: cl.ID, UserID: target.ID, Level: access.GrantLevel, Programs: []string{"payroll"},
		GrantedBy: owner.ID, Source: job.ID, GrantedAt: now(), Version: 1, UpdatedAt: now()}
	must(t, "ApplyJobPart", f.s.ApplyJobPart(f.ctx, access.JobPart{TenantID: tn.ID, JobID: job.ID,
		Counts: map[access.Outcome]int{access.OutcomeAssigned: 1}, Programs: []access.GrantChange{{Next: &g}}}))

	snap, err := f.s.AuthorizationSnapshot(f.ctx, tn.ID, caller.ID, target.ID, cl.ID, "", false)
	must(t, "AuthorizationSnapshot", err)
	if snap.Caller == nil || snap.Caller.ID != caller.ID || snap.Target == nil || snap.Target.ID != target.ID {
		t.Errorf("snapshot users: caller %+v, target %+v", snap.Caller, snap.Target)
	}
	if _, ok := snap.Groups[gc.ID]; !ok {
		t.Errorf("snapshot groups %v miss the caller's %s", keys(snap.Groups), gc.ID)
	}
	if _, ok := snap.Groups[gt.ID]; !ok {
		t.Errorf("snapshot groups %v miss the target's %s", keys(snap.Groups), gt.ID)
	}
	if snap.Client == nil || snap.Client.ID != cl.ID {
		t.Errorf("snapshot client = %+v", snap.Client)
	}
	if snap.Assignment == nil || snap.Assignment.UserID != target.ID || snap.Assignment.Level != access.LevelView {
		t.Errorf("snapshot assignment = %+v (want the target's)", snap.Assignment)
	}
	if snap.Grant == nil || snap.Grant.UserID != target.ID || snap.Grant.Source != job.ID {
		t.Errorf("snapshot grant = %+v", snap.Grant)
	}
	if snap.Admin == nil || snap.Admin.UserID != target.ID || !snap.Admin.CanAssign("payroll") {
		t.Errorf("snapshot admin = %+v", snap.Admin)
	}
	if snap.Programs != nil {
		t.Errorf("snapshot programs without asking = %+v", snap.Programs)
	}

	// Asking about oneself, without a client.
	self, err := f.s.AuthorizationSnapshot(f.ctx, tn.ID, caller.ID, caller.ID, "", "", false)
	if err != nil || self.Caller == nil || self.Target == nil || self.Target.ID != caller.ID || self.Client != nil || self.Assignment != nil || self.Grant != nil || self.Admin != nil {
		t.Errorf("self snapshot = %+v, %v", self, err)
	}
	// Missing target, missing client: nil, no error.
	miss, err := f.s.AuthorizationSnapshot(f.ctx, tn.ID, caller.ID, id("u"), id("c"), "", true)
	if err != nil || miss.Caller == nil || miss.Target != nil || miss.Client != nil || miss.Assignment != nil {
		t.Errorf("snapshot of missing target and client = %+v, %v", miss, err)
	}
	// Through another tenant nobody exists.
	foreign, err := f.s.AuthorizationSnapshot(f.ctx, other.ID, caller.ID, target.ID, cl.ID, "", false)
	if err != nil || foreign.Caller != nil || foreign.Target != nil || foreign.Client != nil || foreign.Assignment != nil || foreign.Grant != nil || foreign.Admin != nil {
		t.Errorf("snapshot through another tenant = %+v, %v", foreign, err)
	}
}

// ------------------------------------------------------------------------------------- audit

func testAuditAndIdempotency(t *testing.T, f *fixture) {
	tn, _ := f.tenant()
	other, _ := f.tenant()
	var entries []access.AuditEntry
	for i := range 5 {
		entries = append(entries, access.AuditEntry{ID: id("aud"), TenantID: tn.ID, Time: now().Add(time.Duration(i) * time.Second),
			ActorID: "storetest", Action: fmt.Sprintf("test.%d", i), TargetType: "user", TargetID: "u_x",
			Before: map[string]any{"n": float64(i)}, After: map[string]any{"n": float64(i + 1)}, RequestID: "r"})
	}
	rec := &access.IdempotencyRecord{TenantID: tn.ID, Key: id("k"), Operation: "POST /v1/groups", RequestHash: "hash", ResourceID: "g_x", CreatedAt: now()}
	must(t, "WriteMeta", f.s.WriteMeta(f.ctx, access.Meta{Audit: entries[:3], Idempotency: rec}))
	must(t, "WriteMeta", f.s.WriteMeta(f.ctx, access.Meta{Audit: entries[3:]}))

	got, err := f.s.GetIdempotency(f.ctx, tn.ID, rec.Operation, rec.Key)
	if err != nil || got.Key != rec.Key || got.Operation != rec.Operation || got.RequestHash != rec.RequestHash || got.ResourceID != rec.ResourceID || got.TenantID != tn.ID {
		t.Errorf("GetIdempotency = %+v, %v", got, err)
	}
	_, err = f.s.GetIdempotency(f.ctx, tn.ID, "POST /v1/users", rec.Key)
	wantErr(t, "GetIdempotency for another operation", err, access.ErrNotFound)
	_, err = f.s.GetIdempotency(f.ctx, other.ID, rec.Operation, rec.Key)
	wantErr(t, "GetIdempotency through another tenant", err, access.ErrNotFound)
	_, err = f.s.GetIdempotency(f.ctx, tn.ID, rec.Operation, id("k"))
	wantErr(t, "GetIdempotency of an unused key", err, access.ErrNotFound)

	// A taken key refuses the write, and its audit entries are not written.
	extra := access.AuditEntry{ID: id("aud"), TenantID: tn.ID, Time: now(), ActorID: "storetest", Action: "test.lost"}
	wantErr(t, "WriteMeta with a taken idempotency key", f.s.WriteMeta(f.ctx, access.Meta{Audit: []access.AuditEntry{extra}, Idempotency: rec}), access.ErrConflict)

	// Newest first, paged to the end; nothing of other tenants.
	all, _ := pageAll(t, "ListAudit", 2, func(p access.Page) ([]access.AuditEntry, string, error) { return f.s.ListAudit(f.ctx, tn.ID, p) })
	var ids []string
	for _, e := range all {
		ids = append(ids, e.ID)
		if e.TenantID != tn.ID {
			t.Errorf("ListAudit of %s gave an entry of %s", tn.ID, e.TenantID)
		}
	}
	var want []string
	for i := len(entries) - 1; i >= 0; i-- {
		want = append(want, entries[i].ID)
	}
	if !slices.Equal(ids, want) {
		t.Errorf("ListAudit = %v\nwant newest first %v", ids, want)
	}
	if len(all) > 0 {
		e := all[0]
		if e.Action != "test.4" || e.ActorID != "storetest" || e.TargetType != "user" || e.TargetID != "u_x" || e.RequestID != "r" || e.Before["n"] != float64(4) || e.After["n"] != float64(5) {
			t.Errorf("audit entry = %+v", e)
		}
	}
	// ReleaseIdempotency frees the key.
	must(t, "WriteMeta releasing", f.s.WriteMeta(f.ctx, access.Meta{ReleaseIdempotency: rec}))
	_, err = f.s.GetIdempotency(f.ctx, tn.ID, rec.Operation, rec.Key)
	wantErr(t, "GetIdempotency of a released key", err, access.ErrNotFound)
}

func testPrograms(t *testing.T, f *fixture) {
	tn, _ := f.tenant()
	_, err := f.s.GetPrograms(f.ctx, tn.ID)
	wantErr(t, "GetPrograms of a tenant without its own catalogue", err, access.ErrNotFound)
}
