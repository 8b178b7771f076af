package access

import (
	"slices"
	"time"
)

// Tenant is an organisation (an account) with exactly one owner.
type Tenant struct {
	ID        string
	Name      string
	OwnerID   string
	Settings  Settings
	Version   int
	CreatedAt time.Time
	UpdatedAt time.Time
}

// ClientPolicy is what every active employee gets on a client that signs up or books online.
type ClientPolicy string

// New-client access policies.
const (
	PolicyNone ClientPolicy = "none"
	PolicyView ClientPolicy = "view"
	PolicyEdit ClientPolicy = "edit"
)

// Valid reports whether p is a known policy.
func (p ClientPolicy) Valid() bool { return p == PolicyNone || p == PolicyView || p == PolicyEdit }

// App names.
const AppEmployees = "employees"

// Settings are a tenant's account settings.
type Settings struct {
	NewClientAccess     ClientPolicy
	AnonymiseAfterDays  int // 0 = never automatically
	BookableCalendarIDs []string
	ActiveApps          []string

	// HirerSeats says how hirers (the Tenants app) are billed (hirers.go).
	HirerSeats HirerSeats
}

// AppActive reports whether an app is activated.
func (s Settings) AppActive(app string) bool { return slices.Contains(s.ActiveApps, app) }

// Status is where a user is in their lifecycle.
type Status string

// User statuses.
const (
	StatusActive      Status = "active"
	StatusDeactivated Status = "deactivated"
	StatusRemoved     Status = "removed"
	StatusAnonymised  Status = "anonymised"
)

// Valid reports whether s is a known status.
func (s Status) Valid() bool {
	return s == StatusActive || s == StatusDeactivated || s == StatusRemoved || s == StatusAnonymised
}

// Profession is what a user does; it decides billing.
type Profession string

// Professions.
const (
	ProfessionPractitioner Profession = "practitioner"
	ProfessionReceptionist Profession = "receptionist"
	ProfessionBookkeeper   Profession = "bookkeeper"
	ProfessionAssistant    Profession = "assistant"
	ProfessionConsultant   Profession = "consultant"
	ProfessionOther        Profession = "other"
)

// Professions lists every profession.
var Professions = []Profession{ProfessionPractitioner, ProfessionReceptionist, ProfessionBookkeeper,
	ProfessionAssistant, ProfessionConsultant, ProfessionOther}

// Valid reports whether p is a known profession.
func (p Profession) Valid() bool { return slices.Contains(Professions, p) }

// Billable reports whether a seat of this profession is paid for: receptionists and bookkeepers
// who are not practitioners log in for free.
func (p Profession) Billable() bool {
	return p != ProfessionReceptionist && p != ProfessionBookkeeper
}

// Role is a fixed system role.
type Role string

// System roles.
const (
	RoleMainAdmin  Role = "main_admin"
	RoleAdmin      Role = "admin"
	RoleTeamLead   Role = "team_lead"
	RoleAssistant  Role = "assistant"
	RoleConsultant Role = "consultant"
)

// Roles lists every role.
var Roles = []Role{RoleMainAdmin, RoleAdmin, RoleTeamLead, RoleAssistant, RoleConsultant}

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return slices.Contains(Roles, r) }

// Administrative reports whether the role manages other administrators' roles when granted.
func (r Role) Administrative() bool { return r == RoleMainAdmin || r == RoleAdmin }

// User is an employee of a tenant.
type User struct {
	ID         string
	TenantID   string
	Name       string
	Email      string // as the user typed it (see NormalizeEmail); EmailKey is its identity
	Phone      string
	PictureURL string
	Profession Profession
	GroupIDs   []string
	Roles      []Role
	Status     Status
	IsOwner    bool
	// CalendarIDs are the user's own calendars.
	CalendarIDs []string
	// CalendarAccess is individual access to other calendars (calendar id → level).
	CalendarAccess map[string]Level
	// Legacy holds rights set per user before groups existed; see LegacyRights.
	Legacy *LegacyRights
	// RemovedAt is when the user was put in the user bank.
	RemovedAt *time.Time
	Version   int
	CreatedAt time.Time
	UpdatedAt time.Time

	// GroupExpiry ends memberships of some groups at an instant (see expiry.go).
	GroupExpiry map[string]GroupExpiry
	// Professions are all the user does, Profession first (hirers.go: AllProfessions).
	Professions []Profession
	// Kind is employee (empty) or hirer: a hirer's clients are their own practice's.
	Kind UserKind
}

// HasRole reports whether the user has a system role.
func (u User) HasRole(r Role) bool { return slices.Contains(u.Roles, r) }

// InGroup reports whether the user is a member of a group.
func (u User) InGroup(id string) bool { return slices.Contains(u.GroupIDs, id) }

// Billable reports whether the user takes a paid seat: active with any billable profession. A
// hirer's seat also follows the tenant's HirerSeats (see Seat).
func (u User) Billable() bool { return u.Status == StatusActive && u.anyBillableProfession() }

// LegacyRights are individual rights a migrated user had before permission groups existed. They
// stay in force while the user's groups are exactly those recorded, each still giving the rights
// it gave then: adding the user to a group, or changing the rights of one of their groups, ends
// them (renaming a group does not).
type LegacyRights struct {
	Permissions Permissions
	// GroupRights holds RightsFingerprint of each of the user's groups at migration.
	GroupRights map[string]string
}

// Group is a named set of permissions.
type Group struct {
	ID          string
	TenantID    string
	Name        string
	Description string
	Permissions Permissions
	Template    string // the template it was created from, if any
	Version     int
	CreatedAt   time.Time
	UpdatedAt   time.Time

	// Disabled groups keep their members and settings but give no rights (Compute).
	Disabled bool
}

// AuditEntry records one change. Before and After hold no personal data: personal fields are
// listed by name in Changed instead of by value.
type AuditEntry struct {
	ID         string
	TenantID   string
	Time       time.Time
	ActorID    string
	Action     string
	TargetType string
	TargetID   string
	Before     map[string]any
	After      map[string]any
	RequestID  string
}

// Idempotency identifies a create request that may be retried.
type Idempotency struct {
	Key         string
	Operation   string // e.g. "POST /v1/users"
	RequestHash string
}

// IdempotencyRecord is what a first request left behind for its retries.
type IdempotencyRecord struct {
	TenantID    string
	Key         string
	Operation   string
	RequestHash string
	ResourceID  string
	CreatedAt   time.Time
}

// Meta is written in the same transaction as a change: its audit entries and, for creates, the
// idempotency record.
type Meta struct {
	Audit       []AuditEntry
	Idempotency *IdempotencyRecord
	// ReleaseIdempotency deletes a record in the same transaction: undoing a create frees its
	// key, so that the client's retry creates again instead of replaying what was undone.
	ReleaseIdempotency *IdempotencyRecord
	// Pending records side effects outside the table that the change still owes (deleting a
	// login, publishing an event), in the same transaction, so that a failure after the write
	// leaves them to be retried instead of forgotten.
	Pending *PendingEffects
	// Outbox records effects outside the table the change owes (see outbox.go), applied after
	// the commit and swept until they succeed.
	Outbox []OutboxEntry
}

// Page asks for one page of a list.
type Page struct {
	Limit  int
	Cursor string
}

// MaxPageLimit bounds every list page.
const MaxPageLimit = 100

// Normalize applies the default and the maximum limit.
func (p Page) Normalize() (Page, error) {
	switch {
	case p.Limit == 0:
		p.Limit = 50
	case p.Limit < 0 || p.Limit > MaxPageLimit:
		return p, Invalid("limit", "must be between 1 and %d", MaxPageLimit)
	}
	return p, nil
}

// NormalizeEmail checks that an email is a bare address by the rule in email.go and returns the
// form to keep and show (trimmed, NFC, as typed); EmailKey gives its identity.
func NormalizeEmail(field, s string) (string, error) { return normalizeEmail(field, s) }
