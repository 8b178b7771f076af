package people_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/tilgang/tilgang/shared/access"
	"github.com/tilgang/tilgang/shared/access/accesstest"
)

// scimEnv adds to env a provisioning token's principal, an administrator made in Tilgang, a
// group made in Tilgang with rights, and a user and a group the directory made.
type scimEnv struct {
	*env
	scim       *access.Caller
	admin      access.User
	tilgang    access.Group
	dirUser    access.ProvisionedUser
	dirGroup   access.ProvisionedGroup
	auditStart int
}

func newSCIMEnv(t *testing.T) *scimEnv {
	e := &scimEnv{env: newEnv(t)}
	e.scim = e.Provisioner(e.owner)
	e.admin = e.withRole(access.RoleAdmin).User
	e.tilgang = e.Group(e.owner, access.Permissions{access.AreaClients: {Level: access.LevelView, Scope: access.ScopeAll}})
	var err error
	if e.dirUser, err = e.SCIM.CreateProvisionedUser(e.Ctx, e.scim, provisioned("Dora Directory", "dora@example.com")); err != nil {
		t.Fatal(err)
	}
	if e.dirGroup, err = e.SCIM.CreateProvisionedGroup(e.Ctx, e.scim, "Therapists", "ext-therapists", []string{e.dirUser.User.ID}); err != nil {
		t.Fatal(err)
	}
	return e
}

func provisioned(name, email string) access.ProvisionedUser {
	return access.ProvisionedUser{User: access.User{Name: name, Email: email, Status: access.StatusActive},
		Directory: access.DirectoryUser{ExternalID: "ext-" + email, Department: "Care"}}
}

// asSent is what the directory sends for u as it stands (a SCIM replace of the same resource).
func asSent(u access.User, d access.DirectoryUser) access.ProvisionedUser {
	return access.ProvisionedUser{User: access.User{Name: u.Name, Email: u.Email, Phone: u.Phone, Status: u.Status}, Directory: d}
}

// replace is the directory replacing u (a user it has no record of) with mod applied.
func (e *scimEnv) replace(u access.User, mod func(*access.User)) func() error {
	in := asSent(u, access.DirectoryUser{})
	mod(&in.User)
	return func() error {
		_, err := e.SCIM.UpdateProvisionedUser(e.Ctx, e.scim, u.ID, in, nil)
		return err
	}
}

func deactivate(u *access.User) { u.Status = access.StatusDeactivated }

// auditLen counts the tenant's audit entries: a request that changes nothing writes none.
func (e *env) auditLen() int {
	e.T.Helper()
	entries, _, err := e.People.ListAudit(e.Ctx, e.owner, access.Page{Limit: access.MaxPageLimit})
	if err != nil {
		e.T.Fatal(err)
	}
	return len(entries)
}

// A provisioning token acts for the directory only: it never reaches the owner, changes an
// administrator only to take them out, touches only the groups it made, and hands out no rights
// through the use cases an administrator uses.
func TestProvisioningReachesOnlyWhatTheDirectoryOwns(t *testing.T) {
	e := newSCIMEnv(t)
	owner, admin, employee := e.user(e.owner.User.ID), e.admin, e.employee.User
	for _, tc := range []struct {
		name string
		do   func() error
		want access.Code
	}{
		{"reads the owner", func() error {
			_, err := e.SCIM.GetProvisionedUser(e.Ctx, e.scim, owner.ID)
			return err
		}, access.CodeNotFound},
		{"renames the owner", e.replace(owner, func(u *access.User) { u.Name = "Taken over" }), access.CodeNotFound},
		{"deactivates the owner", e.replace(owner, deactivate), access.CodeNotFound},
		{"removes the owner", func() error { return e.SCIM.DeprovisionUser(e.Ctx, e.scim, owner.ID, nil) }, access.CodeNotFound},
		{"renames an administrator", e.replace(admin, func(u *access.User) { u.Name = "Renamed" }), access.CodeForbidden},
		{"puts an administrator in its group", func() error {
			return e.SCIM.ChangeMembers(e.Ctx, e.scim, e.dirGroup.Group.ID, []string{admin.ID}, nil)
		}, access.CodeForbidden},
		{"puts a user in a group made in Tilgang", func() error {
			return e.SCIM.ChangeMembers(e.Ctx, e.scim, e.tilgang.ID, []string{employee.ID}, nil)
		}, access.CodeNotFound},
		{"renames a group made in Tilgang", func() error {
			_, err := e.SCIM.UpdateProvisionedGroup(e.Ctx, e.scim, e.tilgang.ID, ptr("Mine now"), nil, nil)
			return err
		}, access.CodeNotFound},
		{"deletes a group made in Tilgang", func() error { return e.SCIM.DeleteProvisionedGroup(e.Ctx, e.scim, e.tilgang.ID, nil) }, access.CodeNotFound},
		// The administrator's use cases refuse the token outright: its one privilege is
		// provisioning.
		{"creates a user with a group", func() error {
			_, err := e.People.CreateUser(e.Ctx, e.scim, access.NewUser{Name: "Back door", Email: "door@example.com",
				Profession: access.ProfessionPractitioner, GroupIDs: []string{e.tilgang.ID}}, nil)
			return err
		}, access.CodeForbidden},
		// The token reads no user outside its directory, so it cannot name one to change.
		{"gives a user a group", func() error {
			_, err := e.People.SetGroupsUntil(e.Ctx, e.scim, employee.ID, []string{e.tilgang.ID}, nil, nil)
			return err
		}, access.CodeNotFound},
		{"gives a user a role", func() error {
			_, err := e.People.SetRoles(e.Ctx, e.scim, e.dirUser.User.ID, []access.Role{access.RoleAdmin}, nil)
			return err
		}, access.CodeNotFound},
		{"gives its own group rights", func() error {
			_, err := e.People.UpdateGroup(e.Ctx, e.scim, e.dirGroup.Group.ID, access.GroupPatch{
				Permissions: access.Permissions{access.AreaUsers: {Level: access.LevelEdit}}}, nil)
			return err
		}, access.CodeForbidden},
		{"makes itself another token", func() error {
			_, _, err := e.SCIM.CreateSCIMToken(e.Ctx, e.scim, "Second")
			return err
		}, access.CodeForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := code(tc.do()); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
	if o := e.user(owner.ID); o.Name != owner.Name || o.Status != access.StatusActive || o.Version != owner.Version {
		t.Errorf("owner after the attempts: %q %s v%d, want untouched", o.Name, o.Status, o.Version)
	}
	if a := e.user(admin.ID); a.Name != admin.Name || len(a.GroupIDs) != 0 || a.Version != admin.Version {
		t.Errorf("administrator after the attempts: %q %v v%d, want untouched", a.Name, a.GroupIDs, a.Version)
	}
	if u := e.user(employee.ID); len(u.GroupIDs) != 0 {
		t.Errorf("employee's groups after the attempts: %v, want none", u.GroupIDs)
	}
	if g, err := e.People.GetGroup(e.Ctx, e.owner, e.dirGroup.Group.ID); err != nil || len(g.Permissions) != 0 {
		t.Errorf("directory group after the attempts: %v, %v; want it without rights", g.Permissions, err)
	}

	// What the directory makes comes without rights: an administrator gives them in Tilgang.
	u := e.user(e.dirUser.User.ID)
	if !slices.Equal(u.GroupIDs, []string{e.dirGroup.Group.ID}) || len(u.Roles) != 0 || u.Profession != access.ProfessionOther {
		t.Errorf("provisioned user: groups %v roles %v profession %s, want only its directory group, no roles, other", u.GroupIDs, u.Roles, u.Profession)
	}
	rights := e.Caller(u.TenantID, u.ID).Effective
	for _, a := range access.Areas {
		if l := rights.Area(a).Level; l != access.LevelNone {
			t.Errorf("provisioned user has %s on %s, want nothing", l, a)
		}
	}

	// Taking an administrator out is the one thing it may do to them: deprovisioning raises
	// nobody.
	if err := e.replace(admin, deactivate)(); err != nil {
		t.Errorf("deactivating an administrator: %v", err)
	}
	if err := e.SCIM.DeprovisionUser(e.Ctx, e.scim, admin.ID, nil); err != nil {
		t.Errorf("removing an administrator: %v", err)
	}
	if a := e.user(admin.ID); a.Status != access.StatusRemoved {
		t.Errorf("administrator after deprovisioning: %s, want removed", a.Status)
	}
}

// Only the owner manages provisioning tokens, and a revoked token opens nothing from its next
// request on.
func TestProvisioningTokens(t *testing.T) {
	e := newEnv(t)
	mainAdmin := e.withRole(access.RoleMainAdmin)
	if _, _, err := e.SCIM.CreateSCIMToken(e.Ctx, mainAdmin, "Entra"); code(err) != access.CodeForbidden {
		t.Errorf("a main administrator creates a token: %s, want %s", code(err), access.CodeForbidden)
	}
	tok, secret, err := e.SCIM.CreateSCIMToken(e.Ctx, e.owner, "Entra")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(fmt.Sprintf("%+v", tok), secret) {
		t.Error("the stored token holds its secret")
	}
	if err := e.SCIM.RevokeSCIMToken(e.Ctx, mainAdmin, tok.ID); code(err) != access.CodeForbidden {
		t.Errorf("a main administrator revokes the token: %s, want %s", code(err), access.CodeForbidden)
	}
	for _, tc := range []struct{ name, secret string }{
		{"no prefix", strings.TrimPrefix(secret, "tlgscim_")},
		{"one character off", secret[:len(secret)-1] + "x"},
		{"oversized", secret + strings.Repeat("a", 300)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := e.SCIM.AuthenticateSCIM(e.Ctx, tc.secret, "r"); code(err) != access.CodeUnauthenticated {
				t.Errorf("got %s, want %s", code(err), access.CodeUnauthenticated)
			}
		})
	}
	if _, err := e.SCIM.AuthenticateSCIM(e.Ctx, secret, "r"); err != nil {
		t.Fatalf("the token before revocation: %v", err)
	}
	if err := e.SCIM.RevokeSCIMToken(e.Ctx, e.owner, tok.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.SCIM.AuthenticateSCIM(e.Ctx, secret, "r"); code(err) != access.CodeUnauthenticated {
		t.Errorf("the token after revocation: %s, want %s", code(err), access.CodeUnauthenticated)
	}
}

// The directory delivers at least once: every request sent a second time changes nothing the
// second time (no new version, no audit entry, no second login call).
func TestProvisioningRequestsSentTwiceChangeNothing(t *testing.T) {
	e := newSCIMEnv(t)
	other := e.User(e.owner, access.NewUser{}).User
	dir := e.dirUser
	renamed := asSent(dir.User, dir.Directory)
	renamed.User.Name, renamed.Directory.Title = "Dora D. Directory", "Nurse"
	off := renamed
	off.User.Status = access.StatusDeactivated
	for _, tc := range []struct {
		name string
		do   func() error
		// again is the code of the second sending.
		again access.Code
	}{
		{"create a user", func() error {
			_, err := e.SCIM.CreateProvisionedUser(e.Ctx, e.scim, provisioned("Eve", "eve@example.com"))
			return err
		}, access.CodeConflict},
		{"replace a user", func() error {
			_, err := e.SCIM.UpdateProvisionedUser(e.Ctx, e.scim, dir.User.ID, renamed, nil)
			return err
		}, "ok"},
		{"deactivate a user", func() error {
			_, err := e.SCIM.UpdateProvisionedUser(e.Ctx, e.scim, dir.User.ID, off, nil)
			return err
		}, "ok"},
		{"add a member", func() error {
			return e.SCIM.ChangeMembers(e.Ctx, e.scim, e.dirGroup.Group.ID, []string{other.ID}, nil)
		}, "ok"},
		{"remove a member", func() error {
			return e.SCIM.ChangeMembers(e.Ctx, e.scim, e.dirGroup.Group.ID, nil, []string{other.ID})
		}, "ok"},
		{"rename a group", func() error {
			_, err := e.SCIM.UpdateProvisionedGroup(e.Ctx, e.scim, e.dirGroup.Group.ID, ptr("Nurses"), ptr("ext-nurses"), nil)
			return err
		}, "ok"},
		{"remove a user", func() error { return e.SCIM.DeprovisionUser(e.Ctx, e.scim, dir.User.ID, nil) }, access.CodeNotFound},
		{"delete a group", func() error { return e.SCIM.DeleteProvisionedGroup(e.Ctx, e.scim, e.dirGroup.Group.ID, nil) }, access.CodeNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.do(); err != nil {
				t.Fatalf("first sending: %v", err)
			}
			audit, users := e.auditLen(), e.versions(dir.User.ID, other.ID)
			e.Identity.Take()
			if got := code(tc.do()); got != tc.again {
				t.Errorf("second sending: %s, want %s", got, tc.again)
			}
			if got := e.auditLen(); got != audit {
				t.Errorf("second sending wrote %d audit entries, want none", got-audit)
			}
			if got := e.versions(dir.User.ID, other.ID); !slices.Equal(got, users) {
				t.Errorf("user versions after the second sending: %v, want %v", got, users)
			}
			if calls := e.Identity.Take(); len(calls) != 0 {
				t.Errorf("second sending made login calls %v, want none", calls)
			}
		})
	}
	if got, err := e.SCIM.ProvisionedUserIDsByEmail(e.Ctx, e.scim, "EVE@example.com"); err != nil || len(got) != 1 {
		t.Errorf("users with eve's userName: %v, %v; want exactly one", got, err)
	}
}

func (e *env) versions(ids ...string) []int {
	e.T.Helper()
	out := make([]int, len(ids))
	for i, id := range ids {
		out[i] = e.user(id).Version
	}
	return out
}

// What the directory sends wrong is refused naming the SCIM attribute, before anything is
// written.
func TestProvisioningBadInputNamesTheField(t *testing.T) {
	e := newSCIMEnv(t)
	with := func(mod func(*access.ProvisionedUser)) access.ProvisionedUser {
		in := provisioned("Finn", "finn@example.com")
		mod(&in)
		return in
	}
	create := func(in access.ProvisionedUser) func() error {
		return func() error { _, err := e.SCIM.CreateProvisionedUser(e.Ctx, e.scim, in); return err }
	}
	audit := e.auditLen()
	for _, tc := range []struct {
		name  string
		do    func() error
		field string
	}{
		{"userName not an email", create(with(func(u *access.ProvisionedUser) { u.User.Email = "finn" })), "userName"},
		{"no name", create(with(func(u *access.ProvisionedUser) { u.User.Name = "  " })), "name"},
		{"bad phone", create(with(func(u *access.ProvisionedUser) { u.User.Phone = "ring ring" })), "phoneNumbers"},
		{"externalId too long", create(with(func(u *access.ProvisionedUser) { u.Directory.ExternalID = strings.Repeat("x", 201) })), "externalId"},
		{"department too long", create(with(func(u *access.ProvisionedUser) { u.Directory.Department = strings.Repeat("x", 201) })), "department"},
		{"status not active or inactive", create(with(func(u *access.ProvisionedUser) { u.User.Status = access.StatusRemoved })), "active"},
		{"replace with a bad userName", func() error {
			in := asSent(e.dirUser.User, e.dirUser.Directory)
			in.User.Email = "dora-at-example"
			_, err := e.SCIM.UpdateProvisionedUser(e.Ctx, e.scim, e.dirUser.User.ID, in, nil)
			return err
		}, "userName"},
		{"group without displayName", func() error {
			_, err := e.SCIM.CreateProvisionedGroup(e.Ctx, e.scim, "", "", nil)
			return err
		}, "displayName"},
		{"group with an unknown member", func() error {
			_, err := e.SCIM.CreateProvisionedGroup(e.Ctx, e.scim, "Cleaners", "", []string{e.dirUser.User.ID, "u_00999999"})
			return err
		}, "members[1]"},
		{"the owner as a member", func() error {
			return e.SCIM.ChangeMembers(e.Ctx, e.scim, e.dirGroup.Group.ID, []string{e.owner.User.ID}, nil)
		}, "members[0]"},
		{"too many members", func() error {
			return e.SCIM.ChangeMembers(e.Ctx, e.scim, e.dirGroup.Group.ID, slices.Repeat([]string{e.dirUser.User.ID}, 1001), nil)
		}, "members"},
		{"rename to nothing", func() error {
			_, err := e.SCIM.UpdateProvisionedGroup(e.Ctx, e.scim, e.dirGroup.Group.ID, ptr(""), nil, nil)
			return err
		}, "displayName"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			accesstest.WantInvalid(t, tc.do(), tc.field)
		})
	}
	if got := e.auditLen(); got != audit {
		t.Errorf("refused requests wrote %d audit entries, want none", got-audit)
	}
	// A userName held in another tenant is a conflict on userName, and says nothing more.
	other := e.Tenant()
	theirs := e.User(other, access.NewUser{}).User
	_, err := e.SCIM.CreateProvisionedUser(e.Ctx, e.scim, provisioned("Copy", theirs.Email))
	if code(err) != access.CodeConflict || accesstest.Field(err) != "userName" {
		t.Errorf("another tenant's userName: %s on %q, want %s on userName", code(err), accesstest.Field(err), access.CodeConflict)
	}
}

// Another tenant's users and groups do not exist for a directory: the answer is that of a
// missing one.
func TestProvisioningAnotherTenantsDataIsNotFound(t *testing.T) {
	e := newSCIMEnv(t)
	other := e.Tenant()
	theirScim := e.Provisioner(other)
	theirs, err := e.SCIM.CreateProvisionedUser(e.Ctx, theirScim, provisioned("Their user", "their@example.com"))
	if err != nil {
		t.Fatal(err)
	}
	theirGroup, err := e.SCIM.CreateProvisionedGroup(e.Ctx, theirScim, "Their group", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, op := range []struct {
		name string
		do   func(userID, groupID string) error
	}{
		{"GetProvisionedUser", func(u, _ string) error { _, err := e.SCIM.GetProvisionedUser(e.Ctx, e.scim, u); return err }},
		{"UpdateProvisionedUser", func(u, _ string) error {
			_, err := e.SCIM.UpdateProvisionedUser(e.Ctx, e.scim, u, provisioned("Mine now", "mine@example.com"), nil)
			return err
		}},
		{"DeprovisionUser", func(u, _ string) error { return e.SCIM.DeprovisionUser(e.Ctx, e.scim, u, nil) }},
		{"GetProvisionedGroup", func(_, g string) error { _, err := e.SCIM.GetProvisionedGroup(e.Ctx, e.scim, g); return err }},
		{"UpdateProvisionedGroup", func(_, g string) error {
			_, err := e.SCIM.UpdateProvisionedGroup(e.Ctx, e.scim, g, ptr("Mine now"), nil, nil)
			return err
		}},
		{"DeleteProvisionedGroup", func(_, g string) error { return e.SCIM.DeleteProvisionedGroup(e.Ctx, e.scim, g, nil) }},
		{"ChangeMembers", func(_, g string) error {
			return e.SCIM.ChangeMembers(e.Ctx, e.scim, g, []string{e.dirUser.User.ID}, nil)
		}},
	} {
		t.Run(op.name, func(t *testing.T) {
			accesstest.WantNotFoundAlike(t, op.do(theirs.User.ID, theirGroup.Group.ID), op.do("u_00999999", "g_00999999"))
		})
	}
	// Their user as a member is refused as an unknown one is.
	if err := e.SCIM.ChangeMembers(e.Ctx, e.scim, e.dirGroup.Group.ID, []string{theirs.User.ID}, nil); accesstest.Field(err) != "members[0]" {
		t.Errorf("another tenant's user as a member: %s on %q, want %s on members[0]", code(err), accesstest.Field(err), access.CodeInvalid)
	}
	if got, err := e.SCIM.ProvisionedUserIDsByEmail(e.Ctx, e.scim, theirs.User.Email); err != nil || len(got) != 0 {
		t.Errorf("their userName looked up: %v, %v; want nothing", got, err)
	}
	if got, err := e.Store.GetUser(e.Ctx, other.TenantID(), theirs.User.ID); err != nil || got.Name != "Their user" || got.Status != access.StatusActive {
		t.Errorf("their user after the attempts: %q %s, %v; want untouched", got.Name, got.Status, err)
	}
}

// The directory's lists and look-ups show what it sees: its users (never the owner, nobody in
// the user bank), its own groups and their members, and nothing of another tenant.
func TestDirectoryListsOnlyWhatItSees(t *testing.T) {
	e := newSCIMEnv(t)
	removed := e.User(e.owner, access.NewUser{}).User.ID
	if _, err := e.People.RemoveUser(e.Ctx, e.owner, removed, nil); err != nil {
		t.Fatal(err)
	}
	other := e.Tenant()
	theirScim := e.Provisioner(other)
	if _, err := e.SCIM.CreateProvisionedUser(e.Ctx, theirScim, provisioned("Their user", "theirs@example.com")); err != nil {
		t.Fatal(err)
	}
	// The same externalId in another tenant's directory is another person.
	if _, err := e.SCIM.CreateProvisionedGroup(e.Ctx, theirScim, "Therapists", "ext-therapists", nil); err != nil {
		t.Fatal(err)
	}
	users, _, err := e.SCIM.ListProvisionedUsers(e.Ctx, e.scim, access.Page{Limit: access.MaxPageLimit})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, u := range users {
		ids = append(ids, u.User.ID)
	}
	want := []string{e.manager.User.ID, e.employee.User.ID, e.admin.ID, e.dirUser.User.ID}
	slices.Sort(ids)
	slices.Sort(want)
	if !slices.Equal(ids, want) {
		t.Errorf("the directory lists %v, want %v (not the owner, not the user bank)", ids, want)
	}
	groups, _, err := e.SCIM.ListProvisionedGroups(e.Ctx, e.scim, access.Page{})
	if err != nil || len(groups) != 1 || groups[0].Group.ID != e.dirGroup.Group.ID {
		t.Errorf("the directory's groups = %+v, %v; want only %s", groups, err, e.dirGroup.Group.ID)
	}
	for _, tc := range []struct {
		name string
		do   func() ([]string, error)
		want []string
	}{
		{"members of its group", func() ([]string, error) {
			us, err := e.SCIM.GroupMembers(e.Ctx, e.scim, e.dirGroup.Group.ID)
			var out []string
			for _, u := range us {
				out = append(out, u.ID)
			}
			return out, err
		}, []string{e.dirUser.User.ID}},
		{"groups of its user", func() ([]string, error) { return e.SCIM.GroupsOfUser(e.Ctx, e.scim, e.dirUser.User.ID) }, []string{e.dirGroup.Group.ID}},
		{"groups of the owner", func() ([]string, error) { return e.SCIM.GroupsOfUser(e.Ctx, e.scim, e.owner.User.ID) }, nil},
		{"user by externalId", func() ([]string, error) {
			return e.SCIM.ProvisionedUserIDsByExternalID(e.Ctx, e.scim, access.Match{Op: "eq", Value: e.dirUser.Directory.ExternalID}, 10)
		}, []string{e.dirUser.User.ID}},
		{"another tenant's user by externalId", func() ([]string, error) {
			return e.SCIM.ProvisionedUserIDsByExternalID(e.Ctx, e.scim, access.Match{Op: "eq", Value: "ext-theirs@example.com"}, 10)
		}, nil},
		{"group by displayName, any case", func() ([]string, error) {
			return e.SCIM.ProvisionedGroupIDs(e.Ctx, e.scim, "displayName", access.Match{Op: "eq", Value: "THERAPISTS"}, 10)
		}, []string{e.dirGroup.Group.ID}},
		{"group by externalId", func() ([]string, error) {
			return e.SCIM.ProvisionedGroupIDs(e.Ctx, e.scim, "externalId", access.Match{Op: "eq", Value: "ext-therapists"}, 10)
		}, []string{e.dirGroup.Group.ID}},
		{"the owner by userName", func() ([]string, error) {
			return e.SCIM.ProvisionedUserIDsByEmail(e.Ctx, e.scim, e.owner.User.Email)
		}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.do()
			if err != nil || !slices.Equal(got, tc.want) && len(got)+len(tc.want) > 0 {
				t.Errorf("got %v, %v; want %v", got, err, tc.want)
			}
		})
	}
	if err := e.SCIM.CheckMembers(e.Ctx, e.scim, e.dirGroup.Group.ID, []string{removed}); accesstest.Field(err) != "members[0]" {
		t.Errorf("a user in the user bank as a member: %s on %q, want %s on members[0]", code(err), accesstest.Field(err), access.CodeInvalid)
	}
}
