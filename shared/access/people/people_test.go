package people_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tilgang/tilgang/shared/access"
	"github.com/tilgang/tilgang/shared/access/accesstest"
	"github.com/tilgang/tilgang/shared/localstack"
)

func TestMain(m *testing.M) { localstack.Main(m) }

var code = accesstest.Code

// env is a tenant with its owner, a user manager (a group giving edit on users and nothing
// else) and a plain employee in no group.
type env struct {
	*accesstest.Env
	owner, manager, employee *access.Caller
	managers                 access.Group
}

func newEnv(t *testing.T) *env {
	e := &env{Env: accesstest.New(t)}
	e.owner = e.Tenant()
	e.managers = e.Group(e.owner, access.Permissions{access.AreaUsers: {Level: access.LevelEdit}})
	e.manager = e.User(e.owner, access.NewUser{GroupIDs: []string{e.managers.ID}})
	e.employee = e.User(e.owner, access.NewUser{})
	return e
}

func ptr[T any](v T) *T { return &v }

func (e *env) user(id string) access.User {
	e.T.Helper()
	u, err := e.Store.GetUser(e.Ctx, e.owner.TenantID(), id)
	if err != nil {
		e.T.Fatalf("read user %s: %v", id, err)
	}
	return u
}

// A membership the user already has is not handed out again: a user manager may add a group
// within their rights to someone who is also in a group above them (a form sends the whole list
// back), but adding one above them is still refused.
func TestKeptMembershipsAreNotHandedOutAgain(t *testing.T) {
	e := newEnv(t)
	admins := e.Group(e.owner, access.Permissions{access.AreaUsers: {Level: access.LevelEdit}, access.AreaSettings: {Level: access.LevelEdit}})
	billing := e.Group(e.owner, access.Permissions{access.AreaSettings: {Level: access.LevelView}})
	plain := e.Group(e.owner, access.Permissions{})
	employeeID := e.employee.User.ID
	if _, err := e.People.SetGroupsUntil(e.Ctx, e.owner, employeeID, []string{admins.ID}, nil, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := e.People.SetGroupsUntil(e.Ctx, e.manager, employeeID, []string{admins.ID, plain.ID}, nil, nil); err != nil {
		t.Fatalf("the manager adds a plain group beside the kept one: %v", err)
	}
	_, err := e.People.SetGroupsUntil(e.Ctx, e.manager, employeeID, []string{admins.ID, plain.ID, billing.ID}, nil, nil)
	if code(err) != access.CodeForbidden {
		t.Errorf("the manager adds a group above their rights: %s, want %s", code(err), access.CodeForbidden)
	}
	want := []string{admins.ID, plain.ID}
	slices.Sort(want)
	if got := e.user(employeeID).GroupIDs; !slices.Equal(got, want) {
		t.Errorf("groups %v, want %v", got, want)
	}

	// A kept membership above the manager's rights keeps its end: the manager neither lifts nor
	// moves it, but may send it back as it is.
	until := e.Clock.Now().Add(7 * 24 * time.Hour)
	if _, err := e.People.SetGroupsUntil(e.Ctx, e.owner, employeeID, []string{admins.ID, plain.ID}, map[string]time.Time{admins.ID: until}, nil); err != nil {
		t.Fatal(err)
	}
	for name, exp := range map[string]map[string]time.Time{
		"lifts the end of":   nil,
		"moves the end of":   {admins.ID: until.Add(24 * time.Hour)},
		"brings forward the": {admins.ID: until.Add(-24 * time.Hour)},
	} {
		if _, err := e.People.SetGroupsUntil(e.Ctx, e.manager, employeeID, []string{admins.ID, plain.ID}, exp, nil); code(err) != access.CodeForbidden {
			t.Errorf("the manager %s a membership above their rights: %s, want %s", name, code(err), access.CodeForbidden)
		}
	}
	if _, err := e.People.SetGroupsUntil(e.Ctx, e.manager, employeeID, []string{admins.ID, plain.ID}, map[string]time.Time{admins.ID: until}, nil); err != nil {
		t.Errorf("the manager sends the membership back with its end: %v", err)
	}
}

// A kept membership above the manager keeps its end: sending it back with the same end is fine,
// but removing the end, moving it later, or sending back a membership that has expired (and is
// not yet swept away) hands the group out again and is refused.
func TestKeptMembershipsKeepTheirEnd(t *testing.T) {
	e := newEnv(t)
	admins := e.Group(e.owner, access.Permissions{access.AreaUsers: {Level: access.LevelEdit}, access.AreaSettings: {Level: access.LevelEdit}})
	id := e.employee.User.ID
	until := accesstest.Start.Add(48 * time.Hour)
	if _, err := e.People.SetGroupsUntil(e.Ctx, e.owner, id, []string{admins.ID}, map[string]time.Time{admins.ID: until}, nil); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		exp  map[string]time.Time
	}{
		{"without its end", nil},
		{"with a later end", map[string]time.Time{admins.ID: until.Add(time.Hour)}},
	} {
		_, err := e.People.SetGroupsUntil(e.Ctx, e.manager, id, []string{admins.ID}, tc.exp, nil)
		if code(err) != access.CodeForbidden {
			t.Errorf("%s: %s, want %s", tc.name, code(err), access.CodeForbidden)
		}
		if got := e.user(id).GroupExpiry[admins.ID]; !got.At.Equal(until) {
			t.Errorf("%s: the end is %v, want %v", tc.name, got.At, until)
		}
	}
	if _, err := e.People.SetGroupsUntil(e.Ctx, e.manager, id, []string{admins.ID}, map[string]time.Time{admins.ID: until}, nil); err != nil {
		t.Errorf("the same end: %v", err)
	}
	e.Clock.Advance(48*time.Hour + time.Second)
	_, err := e.People.SetGroupsUntil(e.Ctx, e.manager, id, []string{admins.ID}, nil, nil)
	if code(err) != access.CodeForbidden {
		t.Errorf("an expired membership sent back: %s, want %s", code(err), access.CodeForbidden)
	}
	if got := e.Refresh(e.employee).Effective.Area(access.AreaSettings).Level; got != access.LevelNone {
		t.Errorf("settings after the end: %s, want %s", got, access.LevelNone)
	}
}

// Nobody raises their own rights, directly or through a second account, and only the owner
// touches the owner.
func TestNobodyRaisesTheirOwnRights(t *testing.T) {
	e := newEnv(t)
	admins := e.Group(e.owner, access.Permissions{access.AreaUsers: {Level: access.LevelEdit}, access.AreaSettings: {Level: access.LevelEdit}})
	ownerID, managerID, employeeID := e.owner.User.ID, e.manager.User.ID, e.employee.User.ID
	for _, tc := range []struct {
		name string
		do   func() error
		want access.Code
	}{
		{"a manager puts themselves in a bigger group", func() error {
			_, err := e.People.SetGroupsUntil(e.Ctx, e.manager, managerID, []string{e.managers.ID, admins.ID}, nil, nil)
			return err
		}, access.CodeForbidden},
		{"a manager gives an employee a group above their own rights", func() error {
			_, err := e.People.SetGroupsUntil(e.Ctx, e.manager, employeeID, []string{admins.ID}, nil, nil)
			return err
		}, access.CodeForbidden},
		{"a manager creates a user in a group above their own rights", func() error {
			_, err := e.People.CreateUser(e.Ctx, e.manager, access.NewUser{Name: "Second", Email: "second@example.com",
				Profession: access.ProfessionPractitioner, GroupIDs: []string{admins.ID}}, nil)
			return err
		}, access.CodeForbidden},
		{"a manager raises the group they are in", func() error {
			_, err := e.People.UpdateGroup(e.Ctx, e.manager, e.managers.ID, access.GroupPatch{
				Permissions: access.Permissions{access.AreaSettings: {Level: access.LevelEdit}}}, nil)
			return err
		}, access.CodeForbidden},
		{"a manager makes themselves main administrator", func() error {
			_, err := e.People.SetRoles(e.Ctx, e.manager, managerID, []access.Role{access.RoleMainAdmin}, nil)
			return err
		}, access.CodeForbidden},
		{"an employee changes their own profession", func() error {
			_, err := e.People.UpdateUser(e.Ctx, e.employee, employeeID, access.UserPatch{Profession: ptr(access.ProfessionReceptionist)}, nil)
			return err
		}, access.CodeForbidden},
		// An employee without user management does not see other users at all.
		{"an employee edits someone else", func() error {
			_, err := e.People.UpdateUser(e.Ctx, e.employee, managerID, access.UserPatch{Name: ptr("Renamed")}, nil)
			return err
		}, access.CodeNotFound},
		{"a manager deactivates the owner", func() error {
			_, err := e.People.Deactivate(e.Ctx, e.manager, ownerID, nil)
			return err
		}, access.CodeForbidden},
		{"a manager removes the owner to the user bank", func() error {
			_, err := e.People.RemoveUser(e.Ctx, e.manager, ownerID, nil)
			return err
		}, access.CodeConflict},
		{"a manager renames the owner", func() error {
			_, err := e.People.UpdateUser(e.Ctx, e.manager, ownerID, access.UserPatch{Name: ptr("Renamed")}, nil)
			return err
		}, access.CodeForbidden},
		{"a manager deactivates themselves", func() error {
			_, err := e.People.Deactivate(e.Ctx, e.manager, managerID, nil)
			return err
		}, access.CodeConflict},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := code(tc.do()); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
	// None of the refusals changed anything.
	if m := e.user(managerID); !slices.Equal(m.GroupIDs, []string{e.managers.ID}) || len(m.Roles) != 0 {
		t.Errorf("manager after refusals: groups %v roles %v, want [%s] and none", m.GroupIDs, m.Roles, e.managers.ID)
	}
	if o := e.user(ownerID); o.Status != access.StatusActive || o.Name != "Owner" {
		t.Errorf("owner after refusals: %s %q, want active \"Owner\"", o.Status, o.Name)
	}
	// Within their rights the manager may act: the owner is not needed for everything.
	if _, err := e.People.SetGroupsUntil(e.Ctx, e.manager, employeeID, []string{e.managers.ID}, nil, nil); err != nil {
		t.Errorf("a manager gives a group within their rights: %v", err)
	}
}

// Another tenant's users and groups answer not found, exactly like missing ones, so nobody
// learns what exists elsewhere.
func TestAnotherTenantsDataIsNotFound(t *testing.T) {
	e := newEnv(t)
	other := e.Tenant()
	theirs := e.User(other, access.NewUser{})
	theirGroup := e.Group(other, access.Permissions{access.AreaClients: {Level: access.LevelView}})
	ops := []struct {
		name string
		do   func(userID, groupID string) error
	}{
		{"GetUser", func(u, _ string) error { _, err := e.People.GetUser(e.Ctx, e.owner, u); return err }},
		{"UpdateUser", func(u, _ string) error {
			_, err := e.People.UpdateUser(e.Ctx, e.owner, u, access.UserPatch{Name: ptr("Mine now")}, nil)
			return err
		}},
		{"Deactivate", func(u, _ string) error { _, err := e.People.Deactivate(e.Ctx, e.owner, u, nil); return err }},
		{"RemoveUser", func(u, _ string) error { _, err := e.People.RemoveUser(e.Ctx, e.owner, u, nil); return err }},
		{"DeleteUser", func(u, _ string) error { return e.People.DeleteUser(e.Ctx, e.owner, u, nil) }},
		{"Permissions", func(u, _ string) error { _, err := e.People.Permissions(e.Ctx, e.owner, u); return err }},
		{"ExportUser", func(u, _ string) error { _, err := e.People.ExportUser(e.Ctx, e.owner, u); return err }},
		{"GetGroup", func(_, g string) error { _, err := e.People.GetGroup(e.Ctx, e.owner, g); return err }},
		{"UpdateGroup", func(_, g string) error {
			_, err := e.People.UpdateGroup(e.Ctx, e.owner, g, access.GroupPatch{Name: ptr("Mine now")}, nil)
			return err
		}},
		{"DeleteGroup", func(_, g string) error { return e.People.DeleteGroup(e.Ctx, e.owner, g, nil) }},
	}
	for _, op := range ops {
		t.Run(op.name, func(t *testing.T) {
			accesstest.WantNotFoundAlike(t, op.do(theirs.User.ID, theirGroup.ID), op.do("u_00999999", "g_00999999"))
		})
	}
	if got, err := e.Store.GetUser(e.Ctx, other.TenantID(), theirs.User.ID); err != nil || got.Status != access.StatusActive || got.Name != theirs.User.Name {
		t.Errorf("the other tenant's user after the attempts: %s %q, %v; want untouched", got.Status, got.Name, err)
	}
}

// Bad input is refused before anything is written, naming the field at fault.
func TestBadInputNamesTheField(t *testing.T) {
	e := newEnv(t)
	valid := func(mod func(*access.NewUser)) access.NewUser {
		in := access.NewUser{Name: "Ann", Email: "ann@example.com", Profession: access.ProfessionPractitioner}
		mod(&in)
		return in
	}
	for _, tc := range []struct {
		name  string
		do    func() error
		field string
	}{
		{"no name", func() error {
			_, err := e.People.CreateUser(e.Ctx, e.owner, valid(func(u *access.NewUser) { u.Name = " " }), nil)
			return err
		}, "name"},
		{"bad email", func() error {
			_, err := e.People.CreateUser(e.Ctx, e.owner, valid(func(u *access.NewUser) { u.Email = "ann-at-example" }), nil)
			return err
		}, "email"},
		{"bad phone", func() error {
			_, err := e.People.CreateUser(e.Ctx, e.owner, valid(func(u *access.NewUser) { u.Phone = "call me" }), nil)
			return err
		}, "phone"},
		{"picture not a URL", func() error {
			_, err := e.People.CreateUser(e.Ctx, e.owner, valid(func(u *access.NewUser) { u.PictureURL = "javascript:alert(1)" }), nil)
			return err
		}, "pictureUrl"},
		{"unknown role", func() error {
			_, err := e.People.CreateUser(e.Ctx, e.owner, valid(func(u *access.NewUser) { u.Roles = []access.Role{"admin", "king"} }), nil)
			return err
		}, "roles[1]"},
		{"unknown group", func() error {
			_, err := e.People.CreateUser(e.Ctx, e.owner, valid(func(u *access.NewUser) { u.GroupIDs = []string{e.managers.ID, "g_00999999"} }), nil)
			return err
		}, "groupIds[1]"},
		{"anonymisation period out of range", func() error {
			_, err := e.People.UpdateSettings(e.Ctx, e.owner, access.SettingsPatch{AnonymiseAfterDays: ptr(-1)}, nil)
			return err
		}, "anonymiseAfterDays"},
		{"unknown new-client policy", func() error {
			_, err := e.People.UpdateSettings(e.Ctx, e.owner, access.SettingsPatch{NewClientAccess: ptr(access.ClientPolicy("all"))}, nil)
			return err
		}, "newClientAccess"},
		{"group permission on an unknown area", func() error {
			_, err := e.People.CreateGroup(e.Ctx, e.owner, access.NewGroup{Name: "G", Permissions: access.Permissions{"weather": {Level: access.LevelView}}}, nil)
			return err
		}, "permissions.weather"},
		{"group membership expiring in the past", func() error {
			_, err := e.People.SetGroupsUntil(e.Ctx, e.owner, e.employee.User.ID, []string{e.managers.ID},
				map[string]time.Time{e.managers.ID: accesstest.Start.Add(-time.Hour)}, nil)
			return err
		}, "expiresAt." + e.managers.ID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			accesstest.WantInvalid(t, tc.do(), tc.field)
		})
	}
	if _, err := e.People.UserByEmail(e.Ctx, "ann@example.com"); !errors.Is(err, access.ErrNotFound) {
		t.Errorf("a refused create left its email claimed: %v", err)
	}
}

// An update made on an old version is refused as stale and changes nothing; an email is the
// person's across every tenant.
func TestStaleVersionsAndTakenEmails(t *testing.T) {
	e := newEnv(t)
	id := e.employee.User.ID
	v := e.user(id).Version
	if _, err := e.People.UpdateUser(e.Ctx, e.owner, id, access.UserPatch{Name: ptr("First")}, &v); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		do   func() error
	}{
		{"UpdateUser", func() error {
			_, err := e.People.UpdateUser(e.Ctx, e.owner, id, access.UserPatch{Name: ptr("Second")}, &v)
			return err
		}},
		{"Deactivate", func() error { _, err := e.People.Deactivate(e.Ctx, e.owner, id, &v); return err }},
		{"RemoveUser", func() error { _, err := e.People.RemoveUser(e.Ctx, e.owner, id, &v); return err }},
		{"SetRoles", func() error {
			_, err := e.People.SetRoles(e.Ctx, e.owner, id, []access.Role{access.RoleAdmin}, &v)
			return err
		}},
		{"DeleteUser", func() error { return e.People.DeleteUser(e.Ctx, e.owner, id, &v) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := code(tc.do()); got != access.CodeStale {
				t.Errorf("got %s, want %s", got, access.CodeStale)
			}
		})
	}
	if u := e.user(id); u.Name != "First" || u.Status != access.StatusActive || u.Version != v+1 {
		t.Errorf("after stale writes: %q %s v%d, want \"First\" active v%d", u.Name, u.Status, u.Version, v+1)
	}

	other := e.Tenant()
	taken := strings.ToUpper(e.manager.User.Email) // emails are unique case-insensitively
	for _, tc := range []struct {
		name string
		do   func() error
	}{
		{"create in the same tenant", func() error {
			_, err := e.People.CreateUser(e.Ctx, e.owner, access.NewUser{Name: "Copy", Email: taken, Profession: access.ProfessionPractitioner}, nil)
			return err
		}},
		{"create in another tenant", func() error {
			_, err := e.People.CreateUser(e.Ctx, other, access.NewUser{Name: "Copy", Email: taken, Profession: access.ProfessionPractitioner}, nil)
			return err
		}},
		{"change to it", func() error {
			_, err := e.People.UpdateUser(e.Ctx, e.owner, id, access.UserPatch{Email: ptr(taken)}, nil)
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := code(tc.do()); got != access.CodeConflict {
				t.Errorf("got %s, want %s", got, access.CodeConflict)
			}
		})
	}
}

// A user's whole life: deactivated (signed out, reversible), removed to the user bank (links
// gone, restorable), anonymised (nothing personal left, for good). Each step repeated changes
// nothing.
func TestUserLifecycle(t *testing.T) {
	e := newEnv(t)
	cl := e.Client(e.owner)
	asst := e.User(e.owner, access.NewUser{Name: "Astrid Assistant", Email: "astrid@example.com", Phone: "+46 70 123 45 67",
		PictureURL: "https://example.com/a.png", Roles: []access.Role{access.RoleAssistant},
		Link: &access.NewLink{ClientID: cl.ID, EmploymentRate: 75, EmploymentNumber: "A-102", Color: "#3366ff"}})
	id, tenantID := asst.User.ID, asst.TenantID()
	e.Identity.Take()

	step := func(name string, do func() (access.User, error), want access.Status) access.User {
		t.Helper()
		u, err := do()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if u.Status != want {
			t.Fatalf("%s: status %s, want %s", name, u.Status, want)
		}
		return u
	}
	signsIn := func() bool {
		_, err := e.People.Authenticate(e.Ctx, tenantID, id, "r")
		return err == nil
	}

	u := step("deactivate", func() (access.User, error) { return e.People.Deactivate(e.Ctx, e.owner, id, nil) }, access.StatusDeactivated)
	if signsIn() {
		t.Error("a deactivated user still signs in")
	}
	again := step("deactivate again", func() (access.User, error) { return e.People.Deactivate(e.Ctx, e.owner, id, nil) }, access.StatusDeactivated)
	if again.Version != u.Version {
		t.Errorf("deactivating twice wrote again: v%d → v%d", u.Version, again.Version)
	}
	step("activate", func() (access.User, error) { return e.People.Activate(e.Ctx, e.owner, id, nil) }, access.StatusActive)
	if !signsIn() {
		t.Error("an activated user cannot sign in")
	}
	if got, want := e.Identity.Take(), []string{"disable " + id, "enable " + id}; !slices.Equal(got, want) {
		t.Errorf("login calls = %v, want %v", got, want)
	}

	u = step("remove", func() (access.User, error) { return e.People.RemoveUser(e.Ctx, e.owner, id, nil) }, access.StatusRemoved)
	if signsIn() {
		t.Error("a removed user still signs in")
	}
	links, err := e.Store.AllUserLinks(e.Ctx, tenantID, id)
	if err != nil || len(links) != 1 || links[0].Status != access.LinkRemoved {
		t.Errorf("links after removal = %+v, %v; want the one link removed", links, err)
	}
	bank, _, err := e.People.ListUserBank(e.Ctx, e.owner, access.Page{})
	if err != nil || len(bank) != 1 || bank[0].ID != id {
		t.Errorf("user bank = %v, %v; want just %s", bank, err, id)
	}
	if again := step("remove again", func() (access.User, error) { return e.People.RemoveUser(e.Ctx, e.owner, id, nil) }, access.StatusRemoved); again.Version != u.Version {
		t.Errorf("removing twice wrote again: v%d → v%d", u.Version, again.Version)
	}
	if _, err := e.People.Deactivate(e.Ctx, e.owner, id, nil); code(err) != access.CodeConflict {
		t.Errorf("deactivating a removed user: %s, want %s", code(err), access.CodeConflict)
	}
	step("restore", func() (access.User, error) { return e.People.RestoreUser(e.Ctx, e.owner, id, nil) }, access.StatusActive)
	if links, _ := e.Store.AllUserLinks(e.Ctx, tenantID, id); len(links) != 1 || links[0].Status != access.LinkRemoved {
		t.Errorf("links after restore = %+v; want them still removed (an admin adds back what applies)", links)
	}
	if _, err := e.People.AnonymiseUser(e.Ctx, e.owner, id, nil); code(err) != access.CodeConflict {
		t.Errorf("anonymising an active user: %s, want %s", code(err), access.CodeConflict)
	}

	// Her calendar named after her: anonymisation takes the name too.
	cal := e.user(id).CalendarIDs[0]
	if _, err := e.People.UpdateCalendar(e.Ctx, e.owner, cal, access.CalendarPatch{Name: ptr("Astrid's room")}, nil); err != nil {
		t.Fatal(err)
	}
	step("remove", func() (access.User, error) { return e.People.RemoveUser(e.Ctx, e.owner, id, nil) }, access.StatusRemoved)
	e.Identity.Take()
	u = step("anonymise", func() (access.User, error) { return e.People.AnonymiseUser(e.Ctx, e.owner, id, nil) }, access.StatusAnonymised)
	stored := e.user(id)
	for _, f := range []struct{ name, got, want string }{
		{"name", stored.Name, access.Anonymised}, {"email", stored.Email, ""}, {"phone", stored.Phone, ""}, {"pictureUrl", stored.PictureURL, ""},
	} {
		if f.got != f.want {
			t.Errorf("anonymised %s = %q, want %q", f.name, f.got, f.want)
		}
	}
	if len(stored.Roles)+len(stored.GroupIDs) != 0 {
		t.Errorf("anonymised user keeps roles %v groups %v", stored.Roles, stored.GroupIDs)
	}
	if c, err := e.People.GetCalendar(e.Ctx, e.owner, cal); err != nil || strings.Contains(strings.ToLower(c.Name), "astrid") {
		t.Errorf("the anonymised user's calendar = %+v, %v; want it without her name", c, err)
	}
	links, _ = e.Store.AllUserLinks(e.Ctx, tenantID, id)
	for _, l := range links {
		if l.EmploymentNumber != access.Anonymised {
			t.Errorf("link to %s keeps employment number %q", l.ClientID, l.EmploymentNumber)
		}
	}
	// Nothing personal is left in the audit trail either.
	entries, _, err := e.People.ListAudit(e.Ctx, e.owner, access.Page{Limit: access.MaxPageLimit})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range entries {
		s := strings.ToLower(auditText(a))
		for _, personal := range []string{"astrid", "+46 70", "a.png", "a-102"} {
			if strings.Contains(s, personal) {
				t.Errorf("audit %s keeps %q", a.Action, personal)
			}
		}
	}
	// The email and employment number are free for someone else.
	e.User(e.owner, access.NewUser{Email: "astrid@example.com"})
	if got, want := e.Identity.Take(), []string{"delete " + id}; !slices.Contains(got, want[0]) {
		t.Errorf("login calls = %v, want them to include %v", got, want)
	}
	if got := e.Events.Take(); len(got) != 1 || got[0].Type != access.EventUserAnonymised {
		t.Errorf("events = %+v, want one %s", got, access.EventUserAnonymised)
	}

	// Anonymised is for good, and anonymising again owes nothing more.
	if again := step("anonymise again", func() (access.User, error) { return e.People.AnonymiseUser(e.Ctx, e.owner, id, nil) }, access.StatusAnonymised); again.Version != u.Version {
		t.Errorf("anonymising twice wrote again: v%d → v%d", u.Version, again.Version)
	}
	if calls, evs := e.Identity.Take(), e.Events.Take(); len(calls)+len(evs) != 0 {
		t.Errorf("anonymising twice repeated effects: %v %v", calls, evs)
	}
	for name, do := range map[string]func() error{
		"restore": func() error { _, err := e.People.RestoreUser(e.Ctx, e.owner, id, nil); return err },
		"remove":  func() error { _, err := e.People.RemoveUser(e.Ctx, e.owner, id, nil); return err },
		"set roles": func() error {
			_, err := e.People.SetRoles(e.Ctx, e.owner, id, []access.Role{access.RoleAdmin}, nil)
			return err
		},
		"edit email": func() error {
			_, err := e.People.UpdateUser(e.Ctx, e.owner, id, access.UserPatch{Email: ptr("back@example.com")}, nil)
			return err
		},
	} {
		if got := code(do()); got != access.CodeConflict {
			t.Errorf("%s an anonymised user: %s, want %s", name, got, access.CodeConflict)
		}
	}
}

func auditText(a access.AuditEntry) string { return fmt.Sprint(a.Before, a.After) }
