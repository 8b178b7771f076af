package access

import (
	"fmt"
	"testing"
)

// The provisioning principal: a SCIM token acts with the provisioning privilege only. These
// tables pin what it may do and the guards that stop it raising anybody.

func provisioner() Principal {
	c := NewProvisioningCaller(SCIMToken{ID: "scim_1", TenantID: "t1", Name: "Entra ID"}, "req")
	return c.Principal()
}

func TestProvisioningPolicy(t *testing.T) {
	p := provisioner()
	owner, employee := accountOwner(), person("u1")
	admin, mainAdmin, consultant := person("a1", RoleAdmin), person("m1", RoleMainAdmin), person("c1", RoleConsultant)
	dirGroup := Group{ID: "g1", TenantID: "t1", Name: "Therapists", Version: 1, Permissions: Permissions{AreaClients: own(LevelEdit)}}
	newEmpty := Group{ID: "g2", TenantID: "t1", Name: "New"}
	newWithRights := Group{ID: "g3", TenantID: "t1", Name: "New", Permissions: Permissions{AreaUsers: flat(LevelEdit)}}

	for _, tt := range []struct {
		name  string
		r     Request
		allow bool
		guard string // the refusal's message comes from this guard, when set
	}{
		{"creates users", Request{Op: OpProvisionUser}, true, ""},
		{"changes an employee", Request{Op: OpProvisionUser, Target: &employee}, true, ""},
		{"changes a consultant", Request{Op: OpProvisionUser, Target: &consultant}, true, ""},
		{"never the owner", Request{Op: OpProvisionUser, Target: &owner}, false, "provisioning_not_owner"},
		{"never changes an admin", Request{Op: OpProvisionUser, Target: &admin}, false, "provisioning_not_admin"},
		{"never changes a main admin", Request{Op: OpProvisionUser, Target: &mainAdmin}, false, "provisioning_not_admin"},
		{"deactivates an employee", Request{Op: OpDeprovisionUser, Target: &employee}, true, ""},
		{"deactivates an admin", Request{Op: OpDeprovisionUser, Target: &admin}, true, ""},
		{"never deactivates the owner", Request{Op: OpDeprovisionUser, Target: &owner}, false, "provisioning_not_owner"},
		{"creates a group without rights", Request{Op: OpProvisionGroup, Group: &newEmpty, Directory: true}, true, ""},
		{"never a group with rights", Request{Op: OpProvisionGroup, Group: &newWithRights, Directory: true}, false, "provisioning_grants_nothing"},
		{"renames its group given rights in Tilgang", Request{Op: OpProvisionGroup, Group: &dirGroup, Directory: true}, true, ""},
		{"never a group made in Tilgang", Request{Op: OpProvisionGroup, Group: &dirGroup}, false, "provisioning_directory_group"},
		{"puts an employee in its group", Request{Op: OpProvisionMembership, Target: &employee, Group: &dirGroup, Directory: true}, true, ""},
		{"never in a group made in Tilgang", Request{Op: OpProvisionMembership, Target: &employee, Group: &dirGroup}, false, "provisioning_directory_group"},
		{"never an admin in a group", Request{Op: OpProvisionMembership, Target: &admin, Group: &dirGroup, Directory: true}, false, "provisioning_not_admin"},
		{"never the owner in a group", Request{Op: OpProvisionMembership, Target: &owner, Group: &dirGroup, Directory: true}, false, "provisioning_not_owner"},
		// Nothing else: it has no area and no other privilege.
		{"no SCIM tokens", Request{Op: OpManageProvisioning}, false, ""},
		{"no user management", Request{Op: OpManageUsers}, false, ""},
		{"no rights changes", Request{Op: OpChangeRights, Target: &employee}, false, ""},
		{"no admin roles", Request{Op: OpGrantRole, Role: RoleAdmin}, false, ""},
		{"no group edits", Request{Op: OpEditGroup, Group: &dirGroup}, false, ""},
		{"no user bank", Request{Op: OpRemoveUser, Target: &employee}, false, ""},
		{"no anonymisation", Request{Op: OpAnonymise, Target: &employee}, false, ""},
		{"no audit", Request{Op: OpReadAudit}, false, ""},
		{"no reading users", Request{Op: OpReadUser, Target: &employee}, false, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := Decide(p, tt.r)
			if d.Allowed != tt.allow {
				t.Fatalf("allowed = %v, want %v (%s)", d.Allowed, tt.allow, d.Reason())
			}
			if tt.guard != "" && d.Reason() != provisioningGuard(t, tt.guard) {
				t.Errorf("refused for %q, want guard %s", d.Reason(), tt.guard)
			}
		})
	}
}

func provisioningGuard(t *testing.T, name string) string {
	t.Helper()
	for _, g := range []guard{gProvisionNotOwner, gProvisionNotAdmin, gProvisionDirectoryGroup, gProvisionNoRights} {
		if g.name == name {
			return g.message
		}
	}
	t.Fatalf("no guard %s", name)
	return ""
}

// TestOnlyTheOwnerManagesTokens: OpManageProvisioning has no needs, so only the owner passes.
func TestOnlyTheOwnerManagesTokens(t *testing.T) {
	for _, tt := range []struct {
		p    Principal
		want bool
	}{
		{principal(accountOwner()), true},
		{principal(person("m", RoleMainAdmin)), false},
		{principal(person("a", RoleAdmin)), false},
		{principal(person("u"), gUserDeleter), false},
		{provisioner(), false},
	} {
		if got := Decide(tt.p, Request{Op: OpManageProvisioning}).Allowed; got != tt.want {
			t.Errorf("%s: allowed = %v, want %v", tt.p.User.ID, got, tt.want)
		}
	}
	if c := NewProvisioningCaller(SCIMToken{ID: "x", TenantID: "t1"}, ""); !c.IsProvisioner() || c.User.ID != fmt.Sprint(ProvisionerPrefix, "x") {
		t.Errorf("provisioning caller = %+v", c.User)
	}
}
