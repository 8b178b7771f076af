package access

import "slices"

// Privilege is an administrative right that is not a level on an area: what the system roles
// of seed 003 (and the account owner) carry besides area rights.
type Privilege string

// Privileges.
const (
	// PrivLinks manages assistant links (and reads every assistant's capability matrix).
	PrivLinks Privilege = "links"
	// PrivUserBank removes users to the user bank and restores them.
	PrivUserBank Privilege = "user_bank"
	// PrivAnonymise erases a removed user for good.
	PrivAnonymise Privilege = "anonymise"
	// PrivManageAdmins gives and takes the admin and main_admin roles and acts on administrators.
	PrivManageAdmins Privilege = "manage_admins"
	// PrivClientAdmins appoints system and program administrators of every client.
	PrivClientAdmins Privilege = "client_admins"
	// PrivOwnLinks reads one's own assistant links and capability matrix.
	PrivOwnLinks Privilege = "own_links"
	// PrivAudit reads the audit log; PrivOwnership transfers ownership. The owner's alone.
	PrivAudit     Privilege = "audit"
	PrivOwnership Privilege = "ownership"
)

// Privileges lists every capability.
var Privileges = []Privilege{PrivLinks, PrivUserBank, PrivAnonymise, PrivManageAdmins, PrivClientAdmins,
	PrivOwnLinks, PrivAudit, PrivOwnership}

// privilegeSlots is every privilege an Effective can hold: Privileges and the provisioning
// token's, in the order of Privilege.index.
var privilegeSlots = append(slices.Clone(Privileges), PrivProvisioning)

// numPrivileges is len(privilegeSlots).
const numPrivileges = 9

// index is c's place in privilegeSlots, -1 for an unknown privilege.
func (c Privilege) index() int {
	switch c {
	case PrivLinks:
		return 0
	case PrivUserBank:
		return 1
	case PrivAnonymise:
		return 2
	case PrivManageAdmins:
		return 3
	case PrivClientAdmins:
		return 4
	case PrivOwnLinks:
		return 5
	case PrivAudit:
		return 6
	case PrivOwnership:
		return 7
	case PrivProvisioning:
		return 8
	}
	return -1
}

// RoleGrant is what a system role gives on its own, merged (maximum) with the user's groups.
type RoleGrant struct {
	Description string
	Permissions Permissions
	Privileges  []Privilege
}

// RoleRights is the fixed table of what each system role carries (seed 003: "administrative
// access needs team_lead or admin"; removing users: administrators; hard delete: main
// administrators). It is data, read by Compute; the README prints it.
var RoleRights = map[Role]RoleGrant{
	RoleMainAdmin: {
		Description: "everything an administrator has, plus anonymising users and managing administrators",
		Permissions: Permissions{AreaUsers: flat(LevelDelete)},
		Privileges: []Privilege{PrivLinks, PrivUserBank, PrivClientAdmins, PrivOwnLinks,
			PrivAnonymise, PrivManageAdmins},
	},
	RoleAdmin: {
		Description: "users and permission groups, assistant links, the user bank (remove, restore) and client administration",
		Permissions: Permissions{AreaUsers: flat(LevelDelete)},
		Privileges:  []Privilege{PrivLinks, PrivUserBank, PrivClientAdmins, PrivOwnLinks},
	},
	RoleTeamLead: {
		Description: "assistant links and the staff of their assistants (sees users, manages links)",
		Permissions: Permissions{AreaUsers: flat(LevelView)},
		Privileges:  []Privilege{PrivLinks, PrivOwnLinks},
	},
	RoleAssistant: {
		Description: "their own links and capabilities",
		Privileges:  []Privilege{PrivOwnLinks},
	},
	RoleConsultant: {
		Description: "nothing by itself; bureau client grants open clients and programs",
	},
}

// Has reports whether the effective rights include a capability.
func (e *Effective) Has(c Privilege) bool { return len(e.PrivilegeSources(c)) > 0 }

func (g RoleGrant) has(c Privilege) bool { return slices.Contains(g.Privileges, c) }
