package access

import (
	"context"
	"time"
)

// LinkStatus is where an assistant link is in its life. A removed link stays as history.
type LinkStatus string

// Link statuses.
const (
	LinkActive   LinkStatus = "active"
	LinkInactive LinkStatus = "inactive"
	LinkRemoved  LinkStatus = "removed"
)

// Valid reports whether s is a known link status.
func (s LinkStatus) Valid() bool { return s == LinkActive || s == LinkInactive || s == LinkRemoved }

// Anonymised replaces a personal value that must keep a non-empty shape (names, employment
// numbers) once the person is anonymised. It is never claimed as an employment number.
const Anonymised = "***"

// MaxLinksPerUser bounds an assistant's links (removed ones included): removing or anonymising
// the user rewrites all of them in one transaction, and DynamoDB allows 100 items in one.
const MaxLinksPerUser = 30

// Link joins an assistant to a care recipient (a client).
type Link struct {
	TenantID         string
	UserID           string
	ClientID         string
	Status           LinkStatus
	EmploymentRate   int // percent, 1-100
	EmploymentNumber string
	Color            string // #rrggbb
	Version          int
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

// NewLink is a link to create.
type NewLink struct {
	ClientID         string
	EmploymentRate   int
	EmploymentNumber string
	Color            string
}

// LinkPatch changes some fields of a link; nil fields stay as they are. Removing a link is
// RemoveLink, not a status patch, so that the one-way step has its own route and audit action.
type LinkPatch struct {
	EmploymentRate   *int
	EmploymentNumber *string
	Color            *string
	Status           *LinkStatus
}

// LinkChange is one link rewritten together with its user (removal, anonymisation).
type LinkChange struct {
	Prev, Next Link
}

// LinkStore keeps assistant links and the per-tenant employment number claims.
type LinkStore interface {
	// GetLink returns ErrNotFound when the user has no link (of any status) to the client.
	GetLink(ctx context.Context, tenantID, userID, clientID string) (Link, error)
	// ListUserLinks pages a user's links, all statuses when status is "".
	ListUserLinks(ctx context.Context, tenantID, userID string, status LinkStatus, p Page) ([]Link, string, error)
	// ListClientLinks pages the links to a client, all statuses when status is "".
	ListClientLinks(ctx context.Context, tenantID, clientID string, status LinkStatus, p Page) ([]Link, string, error)
	// AllUserLinks reads every link of a user (at most MaxLinksPerUser).
	AllUserLinks(ctx context.Context, tenantID, userID string) ([]Link, error)
	// CreateUserWithLink writes a new assistant, their email claim, calendars, first link and
	// its employment number claim in one transaction; ErrConflict naming the email or the
	// employment number when either is taken.
	CreateUserWithLink(ctx context.Context, u User, l Link, meta Meta) error
	// PutLink creates next (prev nil) or re-adds a removed link (prev set, conditional on its
	// version), claims its employment number, and bumps the user's version conditional on
	// user.Version, so that a concurrent removal of the user, which must remove every link,
	// cannot miss it. ErrConflict when the employment number is taken; ErrVersionConflict when
	// the user or the link changed.
	PutLink(ctx context.Context, user User, prev *Link, next Link, meta Meta) error
	// UpdateLink writes next if the stored version is prev.Version, moving the employment
	// number claim when it changed.
	UpdateLink(ctx context.Context, prev, next Link, meta Meta) error
	// UpdateUserWithLinks writes a user and some of their links in one transaction, each
	// conditional on the version read (the email and employment number claims move or go
	// with the values). A change of status for which EndsClientRoles holds also deletes the
	// user's client roles, like DeleteUser its assignments; meta.Pending is written with it.
	UpdateUserWithLinks(ctx context.Context, prev, next User, links []LinkChange, meta Meta) error
	// DeleteUserWithLinks deletes a user like DeleteUser and, in the same transaction, their
	// links and employment number claims.
	DeleteUserWithLinks(ctx context.Context, u User, links []Link, meta Meta) error
}

// hasAdministrativeRole: team leads, administrators and main administrators do the
// administrative work around assistants (seed 003: administrative access needs team_lead or
// admin; main_admin is above admin).
func (u User) HasAdministrativeRole() bool {
	return u.HasRole(RoleTeamLead) || u.HasRole(RoleAdmin) || u.HasRole(RoleMainAdmin)
}

// requireAdministrativeAccess: managing assistants' links needs an administrative role, the
// owner, or the general right to manage users (edit on users) of tenants that use groups only.
func (c *Caller) RequireAdministrativeAccess() error {
	return c.Require(Request{Op: OpManageLinks})
}

// canReadAssistants: reading links and capabilities of others.
func (c *Caller) CanReadAssistants(userID string) bool {
	return c.Decide(Request{Op: OpReadLinks, Target: &User{ID: userID}}).Allowed
}
