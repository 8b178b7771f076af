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
func (e Effective) Has(c Privilege) bool { return len(e.Privs[c]) > 0 }

func (g RoleGrant) has(c Privilege) bool { return slices.Contains(g.Privileges, c) }
