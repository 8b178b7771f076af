package access

import (
	"context"
	"time"
)

// ClientStatus is whether a client is current.
type ClientStatus string

// Client statuses.
const (
	ClientActive   ClientStatus = "active"
	ClientInactive ClientStatus = "inactive"
)

// ClientSource is how a client arrived.
type ClientSource string

// Client sources. Clients arriving by signup or online booking get the new-client policy.
const (
	ClientManual        ClientSource = "manual"
	ClientSignup        ClientSource = "signup"
	ClientOnlineBooking ClientSource = "online_booking"
)

// Valid reports whether s is a known source.
func (s ClientSource) Valid() bool {
	return s == ClientManual || s == ClientSignup || s == ClientOnlineBooking
}

// Client is a customer of the tenant (patient, care recipient, bureau client): what Tilgang needs
// to decide access. The name is the client's personal data: never in logs or audit entries.
type Client struct {
	ID       string
	TenantID string
	Name     string
	Status   ClientStatus
	Source   ClientSource
	// PolicyLevel is the tenant's new-client policy captured when the client arrived by signup or
	// online booking (none for manual clients). It counts as an assignment of every active
	// employee, derived when read, so that creating a client costs the same in a tenant of 2 or
	// 2,000 employees and an employee hired later sees the client too.
	PolicyLevel Level
	Version     int
	CreatedAt   time.Time
	UpdatedAt   time.Time

	// Practice is "" for the clinic's clients, or the id of the hirer whose own practice the
	// client belongs to (practice.go).
	Practice string
}

// AssignmentSource is how an assignment was made.
type AssignmentSource string

// Assignment sources.
const (
	AssignedManually        AssignmentSource = "manual"
	AssignedByAppointment   AssignmentSource = "appointment"
	AssignedByOnlineBooking AssignmentSource = "online_booking"
)

// Assignment makes a client one of a user's own clients, at a level (view or edit).
type Assignment struct {
	TenantID  string
	ClientID  string
	UserID    string
	Level     Level
	Source    AssignmentSource
	Version   int
	CreatedAt time.Time
	UpdatedAt time.Time
	// ExpiresAt ends the assignment at that instant (nil: never); GrantedBy made it.
	ExpiresAt *time.Time
	GrantedBy string
	// Client is the client, set by writers that have it: the store keeps a copy with the
	// relation (clients do not change once created), so a user's clients read in one Query.
	Client *Client
}

// AppointmentSource is who made an appointment.
type AppointmentSource string

// Appointment sources.
const (
	AppointmentManual        AppointmentSource = "manual"
	AppointmentOnlineBooking AppointmentSource = "online_booking"
)

// NewAppointment is an appointment to record: it assigns the client to the employee.
type NewAppointment struct {
	ClientID   string
	EmployeeID string
	CalendarID string
	Source     AppointmentSource
}

// Appointment is a recorded appointment and the assignment it left.
type Appointment struct {
	ID         string
	ClientID   string
	EmployeeID string
	CalendarID string
	Source     AppointmentSource
	Assignment Assignment
	// Changed is false when the employee already had at least this access: nothing was written.
	Changed bool
}

// ClientStore keeps clients and their assignments.
type ClientStore interface {
	// CreateClient writes a new client with assignments made with it (the creator's); ErrConflict
	// if the id exists or the idempotency key was used concurrently.
	CreateClient(ctx context.Context, cl Client, assignments []Assignment, meta Meta) error
	// GetClient returns ErrNotFound for a missing client or one of another tenant.
	GetClient(ctx context.Context, tenantID, clientID string) (Client, error)
	// GetClients returns the clients that exist among ids; missing ones are left out.
	GetClients(ctx context.Context, tenantID string, ids []string) (map[string]Client, error)
	// ClientWithAssignment reads a client and one user's assignment on it in one round trip;
	// the assignment is nil when there is none. ErrNotFound when the client is missing.
	ClientWithAssignment(ctx context.Context, tenantID, clientID, userID string) (Client, *Assignment, error)
	// ClientFacts reads a client with one user's assignment, bureau grant and client
	// administration there, in one round trip; ErrNotFound when the client is missing.
	ClientFacts(ctx context.Context, tenantID, clientID, userID string) (ClientFacts, error)
	// ClientGrants pages the bureau grants of one client, by user id.
	ClientGrants(ctx context.Context, tenantID, clientID string, p Page) ([]ClientGrant, string, error)
	// GrantsOn reads some users' bureau grants on one client; missing ones are left out.
	GrantsOn(ctx context.Context, tenantID, clientID string, userIDs []string) (map[string]ClientGrant, error)
	// UserGrantsAfter is UserAssignmentsAfter for a user's bureau grants.
	UserGrantsAfter(ctx context.Context, tenantID, userID, after string, limit int) (out []ClientGrant, more bool, err error)
	// ListClients pages through a tenant's clients.
	ListClients(ctx context.Context, tenantID string, p Page) ([]Client, string, error)
	// PutAssignment writes next if the stored assignment is still prev (nil: none stored);
	// ErrVersionConflict otherwise.
	PutAssignment(ctx context.Context, prev *Assignment, next Assignment, meta Meta) error
	// DeleteAssignment removes a if its version is still a.Version; ErrVersionConflict otherwise.
	DeleteAssignment(ctx context.Context, a Assignment, meta Meta) error
	// ClientAssignments pages the assignments of one client, by user id.
	ClientAssignments(ctx context.Context, tenantID, clientID string, p Page) ([]Assignment, string, error)
	// AssignmentsOn reads the assignments of some users on one client; missing ones are left out.
	AssignmentsOn(ctx context.Context, tenantID, clientID string, userIDs []string) (map[string]Assignment, error)
	// UserAssignmentsAfter returns up to limit of a user's assignments with a client id after
	// `after` ("" from the start), by client id; more reports whether any follow.
	UserAssignmentsAfter(ctx context.Context, tenantID, userID, after string, limit int) (out []Assignment, more bool, err error)
	// PolicyClientsAfter is UserAssignmentsAfter for the clients that have a policy level.
	PolicyClientsAfter(ctx context.Context, tenantID, after string, limit int) (out []Client, more bool, err error)
	// UsersByID reads several users of a tenant; missing ones are left out.
	UsersByID(ctx context.Context, tenantID string, ids []string) (map[string]User, error)
}

// ClientLevel is the access rule: a user's level on the records of one client in a record area
// is their level with scope all, or else the lower of their area level and the level the client
// is assigned to them with (an assignment, or the client's new-client policy).
func ClientLevel(e *Effective, a Area, assigned Level) Level {
	r := e.Area(a)
	if assigned == "" {
		assigned = LevelNone
	}
	return MaxLevel(r.AllLevel, MinLevel(r.Level, assigned))
}

var AssignmentWords = map[AssignmentSource]string{
	AssignedManually:        "assigned manually",
	AssignedByAppointment:   "assigned by appointment",
	AssignedByOnlineBooking: "assigned by online booking",
}

// NewClient is a client to create.
type NewClient struct {
	Name   string
	Source ClientSource // empty: manual
	// HirerID puts the client in a hirer's own practice (an online booking into their calendar);
	// empty: the caller's own practice (the clinic's, or a hirer's own).
	HirerID string
}

// seesAllClientsAt: the owner and users whose clients permission has scope all at level.
func (c *Caller) SeesAllClientsAt(l Level) bool {
	return c.Decide(Request{Op: OpAssignAt, Level: l}).Allowed
}

// requireManageAssignments: the owner, user managers and users who edit every client manage
// assignments; nobody changes their own, which would be raising their own rights.
func (c *Caller) RequireManageAssignments(target User) error {
	return c.Require(Request{Op: OpManageAssignments, Target: &target})
}

// AccessReasonType says why a user can open a client.
type AccessReasonType string

// Reasons for access to a client.
const (
	ReasonOwner      AccessReasonType = "owner"
	ReasonScopeAll   AccessReasonType = "scope_all"
	ReasonAssignment AccessReasonType = "assignment"
	ReasonPolicy     AccessReasonType = "policy"
	ReasonGrant      AccessReasonType = "grant" // a bureau client grant (seed 004)
)

// AccessReason is one reason a user can (or could) open a client.
type AccessReason struct {
	Type    AccessReasonType
	GroupID string           // scope_all: the group giving it
	Source  AssignmentSource // assignment: how it was made
	Level   Level            // the level this reason gives on its own
	Detail  string
	// ExpiresAt is when an assignment or grant ends (or ended: then Level is none).
	ExpiresAt *time.Time
}

// UserAccess is one user's access to a client, with the reasons and the bureau grant (its
// programs and where it came from), if any.
type UserAccess struct {
	UserID  string
	Status  Status
	Level   Level
	Reasons []AccessReason
	Grant   *ClientGrant
}

// ClientAccess is one client a user can open, with the reasons and the bureau grant, if any.
type ClientAccess struct {
	Client  Client
	Level   Level
	Reasons []AccessReason
	Grant   *ClientGrant
}

// requireReadClientAccess: the owner, readers of users and those who see every client.
func (c *Caller) RequireReadClientAccess() error { return c.Require(Request{Op: OpReadClientAccess}) }

// UserClientsResult is a page of the clients a user can open.
type UserClientsResult struct {
	Items []ClientAccess
	Next  string
	// AllClients is true when a scope all (or ownership) gives the user every client at
	// AllClientsLevel; Items then lists their assignments and policy clients only.
	AllClients      bool
	AllClientsLevel Level
}
