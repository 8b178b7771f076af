package access

import (
	"maps"
	"slices"
	"strings"
)

// NewTenant is what it takes to open an account.
type NewTenant struct {
	Name       string
	OwnerName  string
	OwnerEmail string
}

// NewUser is a user to create.
type NewUser struct {
	Name              string
	Email             string
	Phone             string
	PictureURL        string
	Profession        Profession
	GroupIDs          []string
	Roles             []Role
	CalendarIDs       []string
	LegacyPermissions Permissions // rights of a user migrated from before groups existed
	// Link is an assistant's first link to a care recipient; required for the assistant role.
	Link *NewLink
	// Professions are all the user does (Profession, when also given, must be the first).
	Professions []Profession
	// Kind is employee (default) or hirer (the Tenants app).
	Kind UserKind
	// CalendarAccess is individual calendar access, by the rules of SetCalendarAccess.
	CalendarAccess map[string]Level
}

// UserPatch changes some fields of a user; nil fields stay as they are.
type UserPatch struct {
	Name        *string
	Email       *string
	Phone       *string
	PictureURL  *string
	Profession  *Profession
	CalendarIDs *[]string
	Professions *[]Profession
}

// canManageUsers: the owner, or users with edit on user management (groups or roles).
func (c *Caller) CanManageUsers() bool { return c.Decide(Request{Op: OpManageUsers}).Allowed }

func (c *Caller) RequireManageUsers() error { return c.Require(Request{Op: OpManageUsers}) }

// requireChangeRightsOf: nobody changes their own rights or the owner's (policy OpChangeRights).
func (c *Caller) RequireChangeRightsOf(target User) error {
	return c.Require(Request{Op: OpChangeRights, Target: &target})
}

// requireWithinOwnRights stops a user manager from handing out more than they have themselves —
// through a group's permissions or a user's groups — which would let them escalate by way of a
// second account. The owner has every right and is never limited.
func (c *Caller) RequireWithinOwnRights(field string, perms Permissions) error {
	return WithinOwnRights(c.Principal(), field, perms).Err()
}

// requireGroupsWithinOwnRights applies requireWithinOwnRights to every group given to a user.
func (c *Caller) RequireGroupsWithinOwnRights(field string, groups map[string]Group) error {
	for _, id := range slices.Sorted(maps.Keys(groups)) {
		if err := c.RequireWithinOwnRights(field, groups[id].Permissions); err != nil {
			return err
		}
	}
	return nil
}

// requireChangeUser: who may change a user's profile or status (policy OpChangeUser).
func (c *Caller) RequireChangeUser(target User) error {
	return c.Require(Request{Op: OpChangeUser, Target: &target})
}

// requireRoles checks every role given or taken with the policy (OpGrantRole).
func (c *Caller) RequireRoles(before, after []Role) error {
	for _, r := range Roles {
		if slices.Contains(before, r) == slices.Contains(after, r) {
			continue
		}
		if err := c.Require(Request{Op: OpGrantRole, Role: r}); err != nil {
			return err
		}
	}
	return nil
}

// canReadUser: oneself, everyone with view on users, and the owner. Users one may not read do
// not exist for one: they answer 404 like another tenant's, which tells nothing about them.
func (c *Caller) CanReadUser(id string) bool {
	return c.Decide(Request{Op: OpReadUser, Target: &User{ID: id}}).Allowed
}

// PlausibleID reports whether s could be an id this API hands out: at most 64 printable ASCII
// characters, free of the key separators '#' and '/'. Anything else names nothing, so it is
// refused before it reaches the store (where an oversized key would be a server error).
//
// Every character must also sort after '$': the reverse look-ups page a sort key range from
// prefix+after+"$" on, which holds only if no id has a character at or below it (no id this API
// generates has '!', '"' or '$').
func PlausibleID(s string) bool {
	return s != "" && len(s) <= 64 && !strings.ContainsAny(s, "#/") &&
		!strings.ContainsFunc(s, func(r rune) bool { return r <= '$' || r > '~' })
}
