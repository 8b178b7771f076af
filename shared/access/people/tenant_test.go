package people_test

import (
	"slices"
	"testing"
	"time"

	"github.com/tilgang/tilgang/shared/access"
	"github.com/tilgang/tilgang/shared/access/accesstest"
)

// Only the owner hands the account on, and only to an active user of the tenant; a refused
// transfer changes nothing.
func TestOwnershipGoesOnlyFromTheOwnerToAnActiveUser(t *testing.T) {
	e := newEnv(t)
	mainAdmin := e.withRole(access.RoleMainAdmin)
	deactivated := e.User(e.owner, access.NewUser{}).User.ID
	if _, err := e.People.Deactivate(e.Ctx, e.owner, deactivated, nil); err != nil {
		t.Fatal(err)
	}
	removed := e.User(e.owner, access.NewUser{}).User.ID
	if _, err := e.People.RemoveUser(e.Ctx, e.owner, removed, nil); err != nil {
		t.Fatal(err)
	}
	theirs := e.User(e.Tenant(), access.NewUser{}).User.ID
	_, hirerGroups, err := e.People.ActivateTenants(e.Ctx, e.owner, []string{"hirer"})
	if err != nil {
		t.Fatal(err)
	}
	hirer := e.User(e.owner, access.NewUser{Kind: access.KindHirer, GroupIDs: []string{hirerGroups[0].ID}}).User.ID
	to := func(id string) access.OwnerTransfer { return access.OwnerTransfer{UserID: id} }
	for _, tc := range []struct {
		name  string
		by    *access.Caller
		in    access.OwnerTransfer
		want  access.Code
		field string
	}{
		{"a main administrator gives it away", mainAdmin, to(e.employee.User.ID), access.CodeForbidden, ""},
		{"a main administrator takes it", mainAdmin, to(mainAdmin.User.ID), access.CodeForbidden, ""},
		{"a user manager takes it", e.manager, to(e.manager.User.ID), access.CodeForbidden, ""},
		{"to a deactivated user", e.owner, to(deactivated), access.CodeConflict, ""},
		{"to a user in the user bank", e.owner, to(removed), access.CodeConflict, ""},
		{"to another tenant's user", e.owner, to(theirs), access.CodeNotFound, ""},
		{"to an unknown user", e.owner, to("u_00999999"), access.CodeNotFound, ""},
		{"to themselves", e.owner, to(e.owner.User.ID), access.CodeConflict, ""},
		// A hirer reaches only their own practice's clients; the owner reaches every client.
		{"to a hirer", e.owner, to(hirer), access.CodeConflict, ""},
		{"to nobody", e.owner, to(""), access.CodeInvalid, "userId"},
		{"keeping an unknown role", e.owner, access.OwnerTransfer{UserID: e.employee.User.ID, Roles: &[]access.Role{"queen"}}, access.CodeInvalid, "roles[0]"},
		{"keeping an unknown group", e.owner, access.OwnerTransfer{UserID: e.employee.User.ID, GroupIDs: &[]string{"g_00999999"}}, access.CodeInvalid, "groupIds[0]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.People.TransferOwnership(e.Ctx, tc.by, tc.in)
			if code(err) != tc.want || accesstest.Field(err) != tc.field {
				t.Errorf("got %s on %q, want %s on %q", code(err), accesstest.Field(err), tc.want, tc.field)
			}
		})
	}
	tn, err := e.People.GetTenant(e.Ctx, e.owner)
	if err != nil || tn.OwnerID != e.owner.User.ID || !e.user(e.owner.User.ID).IsOwner {
		t.Errorf("after the refusals the owner is %s, %v; want %s still", tn.OwnerID, err, e.owner.User.ID)
	}
}

// After a transfer there is exactly one owner: the new one has the owner's privileges at once,
// the former one stays an active main administrator (or what the transfer said) without them.
func TestFormerOwnerKeepsASensibleState(t *testing.T) {
	for _, tc := range []struct {
		name       string
		roles      *[]access.Role
		withGroups bool
		wantRoles  []access.Role
	}{
		{"by default a main administrator", nil, false, []access.Role{access.RoleMainAdmin}},
		{"an employee of the groups chosen", &[]access.Role{}, true, []access.Role{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			former, heir := e.owner.User.ID, e.employee.User.ID
			in := access.OwnerTransfer{UserID: heir, Roles: tc.roles}
			if tc.withGroups {
				in.GroupIDs = &[]string{e.managers.ID}
			}
			tn, err := e.People.TransferOwnership(e.Ctx, e.owner, in)
			if err != nil || tn.OwnerID != heir {
				t.Fatalf("transfer = %s, %v; want %s the owner", tn.OwnerID, err, heir)
			}
			old, heirUser := e.user(former), e.user(heir)
			if old.IsOwner || !heirUser.IsOwner {
				t.Errorf("owner flags: former %v, new %v; want false, true", old.IsOwner, heirUser.IsOwner)
			}
			if old.Status != access.StatusActive || !slices.Equal(old.Roles, tc.wantRoles) {
				t.Errorf("former owner: %s %v, want active %v", old.Status, old.Roles, tc.wantRoles)
			}
			if tc.withGroups && !slices.Equal(old.GroupIDs, []string{e.managers.ID}) {
				t.Errorf("former owner's groups: %v, want [%s]", old.GroupIDs, e.managers.ID)
			}
			// Both still work, each with their own rights from the next request on.
			oldC, heirC := e.Caller(tn.ID, former), e.Caller(tn.ID, heir)
			if _, _, err := e.People.ListAudit(e.Ctx, heirC, access.Page{}); err != nil {
				t.Errorf("the new owner reads the audit log: %v", err)
			}
			if _, _, err := e.People.ListAudit(e.Ctx, oldC, access.Page{}); err == nil {
				t.Error("the former owner still reads the audit log")
			}
			if _, err := e.People.TransferOwnership(e.Ctx, oldC, access.OwnerTransfer{UserID: former}); code(err) != access.CodeForbidden {
				t.Errorf("the former owner takes it back: %s, want %s", code(err), access.CodeForbidden)
			}
			if _, err := e.People.UpdateUser(e.Ctx, oldC, e.manager.User.ID, access.UserPatch{Name: ptr("Renamed")}, nil); err != nil {
				t.Errorf("the former owner still manages users: %v", err)
			}
			if _, err := e.People.TransferOwnership(e.Ctx, heirC, access.OwnerTransfer{UserID: former}); err != nil {
				t.Errorf("the new owner hands it back: %v", err)
			}
		})
	}
}

// Settings are for those with edit on settings; the Tenants app (hirers) for those with edit
// on apps, once, with the Hirer group if asked for.
func TestSettingsAndTheTenantsApp(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		name  string
		do    func() error
		want  access.Code
		field string
	}{
		{"a user manager changes settings", func() error {
			_, err := e.People.UpdateSettings(e.Ctx, e.manager, access.SettingsPatch{AnonymiseAfterDays: ptr(30)}, nil)
			return err
		}, access.CodeForbidden, ""},
		{"an employee activates the Tenants app", func() error {
			_, _, err := e.People.ActivateTenants(e.Ctx, e.employee, nil)
			return err
		}, access.CodeForbidden, ""},
		{"an unknown template", func() error {
			_, _, err := e.People.ActivateTenants(e.Ctx, e.owner, []string{"administrator"})
			return err
		}, access.CodeInvalid, "templates[0]"},
		{"the hirer template twice", func() error {
			_, _, err := e.People.ActivateTenants(e.Ctx, e.owner, []string{"hirer", "hirer"})
			return err
		}, access.CodeInvalid, "templates"},
		{"a hirer before the app", func() error {
			_, err := e.People.CreateUser(e.Ctx, e.owner, access.NewUser{Name: "Hal", Email: "hal@example.com",
				Profession: access.ProfessionPractitioner, Kind: access.KindHirer}, nil)
			return err
		}, access.CodeNotActivated, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.do()
			if code(err) != tc.want || accesstest.Field(err) != tc.field {
				t.Errorf("got %s on %q, want %s on %q", code(err), accesstest.Field(err), tc.want, tc.field)
			}
		})
	}
	v := e.tenant().Version
	tn, groups, err := e.People.ActivateTenants(e.Ctx, e.owner, []string{"hirer"})
	if err != nil || !tn.Settings.AppActive(access.AppTenants) || len(groups) != 1 || groups[0].Template != access.HirerTemplate.ID {
		t.Fatalf("activate = %v %+v, %v; want the app active with the Hirer group", tn.Settings.ActiveApps, groups, err)
	}
	if tn.Version != v+1 {
		t.Errorf("the refusals moved the settings' version: v%d → v%d, want one step for the activation", v, tn.Version)
	}
	if _, _, err := e.People.ActivateTenants(e.Ctx, e.owner, []string{"hirer"}); code(err) != access.CodeConflict {
		t.Errorf("activating again: %s, want %s", code(err), access.CodeConflict)
	}
	if all, _, err := e.People.ListGroups(e.Ctx, e.owner, access.Page{}); err != nil || len(all) != 2 {
		t.Errorf("groups after activating twice: %d, %v; want the managers' and one Hirer group", len(all), err)
	}

	// A hirer's calendar is theirs: the clinic, its owner included, neither renames nor moves it.
	hirer := e.User(e.owner, access.NewUser{Kind: access.KindHirer, GroupIDs: []string{groups[0].ID}})
	cal := hirer.User.CalendarIDs[0]
	for name, p := range map[string]access.CalendarPatch{
		"rename": {Name: ptr("Clinic room")},
		"move":   {OwnerID: ptr(e.employee.User.ID)},
	} {
		if _, err := e.People.UpdateCalendar(e.Ctx, e.owner, cal, p, nil); code(err) != access.CodeNotFound {
			t.Errorf("the owner tries to %s a hirer's calendar: %s, want %s", name, code(err), access.CodeNotFound)
		}
	}
	seats, err := e.People.BillingSeats(e.Ctx, e.owner)
	if err != nil || seats.Hirers != 1 {
		t.Errorf("seats = %+v, %v; want one hirer", seats, err)
	}
}

// withRole is a new user, in no group, with one system role given by the owner.
func (e *env) withRole(r access.Role) *access.Caller {
	e.T.Helper()
	return e.User(e.owner, access.NewUser{Roles: []access.Role{r}})
}

func (e *env) tenant() access.Tenant {
	e.T.Helper()
	tn, err := e.People.GetTenant(e.Ctx, e.owner)
	if err != nil {
		e.T.Fatal(err)
	}
	return tn
}

// A membership may end at a set time: the group's rights stop then without anyone acting, the
// other memberships stay, and sending the same groups again changes nothing.
func TestGroupMembershipsThatExpire(t *testing.T) {
	e := newEnv(t)
	viewers := e.Group(e.owner, access.Permissions{access.AreaClients: {Level: access.LevelView, Scope: access.ScopeAll}})
	id := e.employee.User.ID
	groups := []string{e.managers.ID, viewers.ID}
	until := accesstest.Start.Add(7 * 24 * time.Hour)
	for _, tc := range []struct {
		name   string
		groups []string
		exp    map[string]time.Time
		field  string
	}{
		{"no list", nil, nil, "groupIds"},
		{"an expiry for a group not given", []string{e.managers.ID}, map[string]time.Time{viewers.ID: until}, "expiresAt." + viewers.ID},
		{"more than two years ahead", groups, map[string]time.Time{viewers.ID: accesstest.Start.Add(3 * 365 * 24 * time.Hour)}, "expiresAt." + viewers.ID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.People.SetGroupsUntil(e.Ctx, e.owner, id, tc.groups, tc.exp, nil)
			accesstest.WantInvalid(t, err, tc.field)
		})
	}
	set, err := e.People.SetGroupsUntil(e.Ctx, e.owner, id, groups, map[string]time.Time{viewers.ID: until}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Someone else sends the same body again: who set the end date stays the owner.
	lead := e.User(e.owner, access.NewUser{GroupIDs: []string{e.Group(e.owner, access.Permissions{access.AreaUsers: {Level: access.LevelEdit},
		access.AreaClients: {Level: access.LevelView, Scope: access.ScopeAll}}).ID}})
	again, err := e.People.SetGroupsUntil(e.Ctx, lead, id, groups, map[string]time.Time{viewers.ID: until}, nil)
	if err != nil || again.Version != set.Version || again.GroupExpiry[viewers.ID].By != e.owner.User.ID {
		t.Errorf("the same groups again: v%d → v%d set by %s, %v; want no write, set by %s",
			set.Version, again.Version, again.GroupExpiry[viewers.ID].By, err, e.owner.User.ID)
	}
	clientsLevel := func() access.Level { return e.Refresh(e.employee).Effective.Area(access.AreaClients).AllLevel }
	if got := clientsLevel(); got != access.LevelView {
		t.Errorf("clients before the end: %s, want %s", got, access.LevelView)
	}
	e.Clock.Advance(7*24*time.Hour + time.Second)
	if got := clientsLevel(); got != access.LevelNone {
		t.Errorf("clients after the end: %s, want %s", got, access.LevelNone)
	}
	if got := e.Refresh(e.employee).Effective.Area(access.AreaUsers).Level; got != access.LevelEdit {
		t.Errorf("users (a permanent membership) after the end: %s, want %s", got, access.LevelEdit)
	}
}
