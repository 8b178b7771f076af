package access

// MaxGroupsPerTenant bounds the groups of one tenant. Far more than any practice needs, it keeps
// every group's rights readable in the single item each request loads with its principal.
const MaxGroupsPerTenant = 1000

// NewGroup is a group to create.
type NewGroup struct {
	Name        string
	Description string
	Permissions Permissions
}

// GroupPatch changes some fields of a group; nil fields stay as they are.
type GroupPatch struct {
	Name        *string
	Description *string
	Permissions Permissions // nil: unchanged; otherwise merged area by area
	Disabled    *bool       // a disabled group keeps members and settings, gives no rights
}

// requireEditGroup: managing groups needs edit on users, and nobody edits a group they are in,
// because saving a group changes the rights of all its members at once, the editor's included.
func (c *Caller) RequireEditGroup(g Group) error {
	return c.Require(Request{Op: OpEditGroup, Group: &g})
}
