package access

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
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
	// ListAccessCandidates pages the tenant's active users who may see a client without being
	// assigned: with everyone, every active user; otherwise the owner, members of the groups
	// named, and users with legacy rights (the caller computes their exact rights).
	ListAccessCandidates(ctx context.Context, tenantID string, everyone bool, groupIDs []string, p Page) ([]User, string, error)
}

// ClientLevel is the access rule: a user's level on the records of one client in a record area
// is their level with scope all, or else the lower of their area level and the level the client
// is assigned to them with (an assignment, or the client's new-client policy).
func ClientLevel(e Effective, a Area, assigned Level) Level {
	r := e.Areas[a]
	if assigned == "" {
		assigned = LevelNone
	}
	return MaxLevel(r.AllLevel, MinLevel(r.Level, assigned))
}

// grantLevel is what a bureau grant gives in an area on its own: its level on the clients
// area, nothing elsewhere (the programs say what else the consultant does there).
func grantLevel(a Area, g *ClientGrant) Level {
	if g == nil || a != AreaClients || g.Level == "" {
		return LevelNone
	}
	return g.Level
}

// factsLevel is the level the rule gives on one client in an area: ClientLevel, raised by a
// bureau grant, which opens the client whatever the groups say.
func factsLevel(e Effective, a Area, f *ClientFacts) Level {
	return MaxLevel(ClientLevel(e, a, assignedLevel(f.Client, f.Assignment)), grantLevel(a, f.Grant))
}

// assignedLevel is what a client is assigned to an active user with: their assignment or the
// client's policy, whichever is higher.
func assignedLevel(cl Client, asg *Assignment) Level {
	l := LevelNone
	if asg != nil {
		l = asg.Level
	}
	if cl.PolicyLevel != "" {
		l = MaxLevel(l, cl.PolicyLevel)
	}
	return l
}

var assignmentWords = map[AssignmentSource]string{
	AssignedManually:        "assigned manually",
	AssignedByAppointment:   "assigned by appointment",
	AssignedByOnlineBooking: "assigned by online booking",
}

// clientReason explains a level on one client for the authorize answer.
func clientReason(e Effective, a Area, f *ClientFacts) string {
	r := e.Areas[a]
	cl, asg := f.Client, f.Assignment
	parts := []string{describe(r, a)}
	if e.IsOwner || (r.AllLevel != LevelNone && r.AllLevel == r.Level) {
		parts = append(parts, "scope all covers every client")
		return strings.Join(parts, "; ")
	}
	if asg != nil {
		w := assignmentWords[asg.Source]
		if asg.Level != LevelEdit {
			w += " with " + string(asg.Level)
		}
		parts = append(parts, w)
	}
	if cl.PolicyLevel != "" && cl.PolicyLevel != LevelNone {
		parts = append(parts, fmt.Sprintf("the new-client policy gives every employee %s", cl.PolicyLevel))
	}
	if g := f.Grant; g != nil && a == AreaClients {
		parts = append(parts, grantWords(g))
	}
	if asg == nil && f.Grant == nil && (cl.PolicyLevel == "" || cl.PolicyLevel == LevelNone) {
		if r.AllLevel != LevelNone {
			parts = append(parts, fmt.Sprintf("scope all gives %s; not assigned to them", r.AllLevel))
		} else {
			parts = append(parts, "not assigned to them")
		}
	}
	return strings.Join(parts, "; ")
}

// grantWords describes a bureau grant: its level, programs and where it came from.
func grantWords(g *ClientGrant) string {
	w := fmt.Sprintf("a bureau client grant gives clients %s", g.Level)
	if len(g.Programs) > 0 {
		w += " with the programs " + strings.Join(g.Programs, ", ")
	} else {
		w += " with no programs"
	}
	if g.Source != "" {
		w += " (by " + g.Source + ")"
	}
	return w
}

// clientDecision decides an action on one client's records (and, when r.Program is set, on
// one program there: the program must be granted, or the user must be its administrator).
func clientDecision(e Effective, r Request, f *ClientFacts) Decision {
	lvl := factsLevel(e, r.Area, f)
	d := Decision{Allowed: lvl.AtLeast(r.Level), Level: lvl, Reason: clientReason(e, r.Area, f), Code: CodeForbidden}
	if g := f.Grant; g != nil && r.Area == AreaClients {
		d.Sources = append(d.Sources, Source{Type: SourceGrant, ID: g.Source, Name: "bureau client grant", Level: g.Level})
	}
	if r.Program == "" || !d.Allowed {
		return d
	}
	switch {
	case e.IsOwner:
		d.Reason += "; the account owner uses every program"
	case f.Grant != nil && slices.Contains(f.Grant.Programs, r.Program):
		d.Reason += "; program " + r.Program + " is granted to them at this client"
	case f.Admin != nil && f.Admin.CanAssign(r.Program):
		d.Reason += "; they administer program " + r.Program + " at this client"
	default:
		d.Allowed = false
		d.Reason += "; program " + r.Program + " is not granted to them at this client"
	}
	return d
}

func validID(field, id string) error {
	if _, err := validIDs(field, []string{id}, 1); err != nil {
		return Invalid(field, "is not a valid id")
	}
	return nil
}

// clientAudit is the audit view of a client: never its name.
func clientAudit(cl Client) map[string]any {
	m := map[string]any{"status": cl.Status, "source": cl.Source, "version": cl.Version}
	if cl.PolicyLevel != "" {
		m["policyLevel"] = cl.PolicyLevel
	}
	if cl.Practice != "" {
		m["hirerId"] = cl.Practice
	}
	return m
}

func assignmentAudit(a *Assignment) map[string]any {
	if a == nil {
		return nil
	}
	return map[string]any{"clientId": a.ClientID, "userId": a.UserID, "level": a.Level, "source": a.Source}
}

// NewClient is a client to create.
type NewClient struct {
	Name   string
	Source ClientSource // empty: manual
	// HirerID puts the client in a hirer's own practice (an online booking into their calendar);
	// empty: the caller's own practice (the clinic's, or a hirer's own).
	HirerID string
}

// CreateClient creates a client. Manual clients need edit on clients; clients arriving by signup
// or online booking may also come from the booking system (edit on online_booking), and get the
// tenant's new-client policy. A creator who only sees their own clients is assigned the client,
// or they could not open what they just created.
func (s *Service) CreateClient(ctx context.Context, c *Caller, in NewClient, idem *Idempotency) (Client, error) {
	if in.Source == "" {
		in.Source = ClientManual
	}
	if !in.Source.Valid() {
		return Client{}, Invalid("source", "must be manual, signup or online_booking")
	}
	name, err := text("name", in.Name, 200, true)
	if err != nil {
		return Client{}, err
	}
	practice, hirer, err := s.clientPractice(ctx, c, in.HirerID)
	if err != nil {
		return Client{}, err
	}
	if err := c.require(Request{Op: OpCreateClient, Source: string(in.Source), Client: &ClientFacts{Client: Client{Practice: practice}}}); err != nil {
		return Client{}, err
	}
	if idem != nil {
		if cl, done, err := s.replayClient(ctx, c, idem); done {
			return cl, err
		}
	}
	now := s.Now()
	cl := Client{ID: s.NewID("c"), TenantID: c.TenantID(), Name: name, Status: ClientActive, Source: in.Source,
		Version: 1, CreatedAt: now, UpdatedAt: now, Practice: practice}
	// The new-client policy applies to the clinic's clients only.
	if in.Source != ClientManual && practice == "" {
		t, err := s.Store.GetTenant(ctx, c.TenantID())
		if err != nil {
			return Client{}, err
		}
		switch t.Settings.NewClientAccess {
		case PolicyView:
			cl.PolicyLevel = LevelView
		case PolicyEdit:
			cl.PolicyLevel = LevelEdit
		}
	}
	meta := Meta{Audit: []AuditEntry{s.audit(c, "client.create", "client", cl.ID, nil, clientAudit(cl))}}
	var assignments []Assignment
	if hirer != nil {
		// A client of a hirer's practice is the hirer's own from the start.
		a := Assignment{TenantID: cl.TenantID, ClientID: cl.ID, UserID: hirer.ID, Level: LevelEdit,
			Source: hirerAssignmentSource(in.Source), Version: 1, CreatedAt: now, UpdatedAt: now}
		assignments = append(assignments, a)
		meta.Audit = append(meta.Audit, s.audit(c, "client.access.set", "client", cl.ID, nil, assignmentAudit(&a)))
	} else if in.Source == ClientManual && !c.seesAllClientsAt(LevelEdit) {
		a := Assignment{TenantID: cl.TenantID, ClientID: cl.ID, UserID: c.User.ID, Level: LevelEdit,
			Source: AssignedManually, Version: 1, CreatedAt: now, UpdatedAt: now}
		assignments = append(assignments, a)
		meta.Audit = append(meta.Audit, s.audit(c, "client.access.set", "client", cl.ID, nil, assignmentAudit(&a)))
	}
	meta.Idempotency = idem.record(c.TenantID(), cl.ID, now)
	if err := s.Store.CreateClient(ctx, cl, assignments, meta); err != nil {
		if idem != nil && errors.Is(err, ErrConflict) {
			if cl2, done, err2 := s.replayClient(ctx, c, idem); done {
				return cl2, err2
			}
		}
		return Client{}, err
	}
	return cl, nil
}

func (s *Service) replayClient(ctx context.Context, c *Caller, idem *Idempotency) (Client, bool, error) {
	return replay(ctx, s, c, idem, func(id string) (Client, error) { return s.Store.GetClient(ctx, c.TenantID(), id) })
}

// seesAllClientsAt: the owner and users whose clients permission has scope all at level.
func (c *Caller) seesAllClientsAt(l Level) bool {
	return c.decide(Request{Op: OpAssignAt, Level: l}).Allowed
}

// ListClients pages through every client; it needs view on clients with scope all (users who see
// only their own clients list them with UserClients).
func (s *Service) ListClients(ctx context.Context, c *Caller, p Page) ([]Client, string, error) {
	if d := c.decide(Request{Op: OpListClients}); !d.Allowed {
		return nil, "", Forbidden("%s; /v1/users/{userId}/clients lists your own", d.Reason)
	}
	p, err := p.Normalize()
	if err != nil {
		return nil, "", err
	}
	cls, next, err := s.Store.ListClients(ctx, c.TenantID(), p)
	return c.inPractice(cls), next, err
}

// GetClient reads a client the caller may view under the access rule.
func (s *Service) GetClient(ctx context.Context, c *Caller, id string) (Client, error) {
	if validID("clientId", id) != nil {
		return Client{}, NotFound("client")
	}
	facts, err := s.Store.ClientFacts(ctx, c.TenantID(), id, c.User.ID)
	if err != nil {
		return Client{}, err
	}
	if d := c.decide(Request{Op: OpAccess, Level: LevelView, Area: AreaClients, Client: &facts}); !d.Allowed {
		return Client{}, Forbidden("this client is not one of yours, no bureau grant opens it, and your groups give no view on every client")
	}
	return facts.Client, nil
}

// requireManageAssignments: the owner, user managers and users who edit every client manage
// assignments; nobody changes their own, which would be raising their own rights.
func (c *Caller) requireManageAssignments(target User) error {
	return c.require(Request{Op: OpManageAssignments, Target: &target})
}

// assignable loads the client and the user's assignment, checking that the user can hold one.
func (s *Service) assignable(ctx context.Context, tenantID, clientID, userID string) (Client, *Assignment, User, error) {
	if validID("clientId", clientID) != nil {
		return Client{}, nil, User{}, NotFound("client")
	}
	if validID("userId", userID) != nil {
		return Client{}, nil, User{}, NotFound("user")
	}
	u, err := s.Store.GetUser(ctx, tenantID, userID)
	if err != nil {
		return Client{}, nil, User{}, err
	}
	cl, asg, err := s.Store.ClientWithAssignment(ctx, tenantID, clientID, userID)
	if err != nil {
		return Client{}, nil, User{}, err
	}
	return cl, asg, u, nil
}

// SetAssignment assigns a client to a user manually at a level, replacing the level (and the
// source) of an existing assignment.
func (s *Service) SetAssignment(ctx context.Context, c *Caller, clientID, userID string, level Level) (Assignment, error) {
	if level == "" {
		return Assignment{}, Invalid("level", "is required: view or edit")
	}
	if level != LevelView && level != LevelEdit {
		return Assignment{}, Invalid("level", "must be view or edit")
	}
	var out Assignment
	err := retry(nil, "assignment", func() error {
		cl, prev, u, err := s.assignable(ctx, c.TenantID(), clientID, userID)
		if err != nil {
			return err
		}
		if err := c.requireManageAssignmentsOn(u, cl); err != nil {
			return err
		}
		// Nobody hands out more than they have: assigning at a level needs that level on every
		// client (scope all) — user management alone does not open clients.
		if err := c.require(Request{Op: OpAssignAt, Level: level}); err != nil {
			return err
		}
		if u.Status == StatusRemoved || u.Status == StatusAnonymised {
			return Conflict("a %s user cannot be assigned clients", u.Status)
		}
		now := s.Now()
		next := Assignment{TenantID: c.TenantID(), ClientID: clientID, UserID: userID, Level: level,
			Source: AssignedManually, Version: 1, CreatedAt: now, UpdatedAt: now}
		if prev != nil {
			if prev.Level == level && prev.Source == AssignedManually {
				out = *prev
				return nil
			}
			next.Version, next.CreatedAt = prev.Version+1, prev.CreatedAt
		}
		entry := s.audit(c, "client.access.set", "client", clientID, assignmentAudit(prev), assignmentAudit(&next))
		if err := s.Store.PutAssignment(ctx, prev, next, Meta{Audit: []AuditEntry{entry}}); err != nil {
			return err
		}
		out = next
		return nil
	})
	return out, err
}

// RemoveAssignment removes a user's assignment to a client; removing a missing one does nothing.
// Access the new-client policy gives is not an assignment and stays.
func (s *Service) RemoveAssignment(ctx context.Context, c *Caller, clientID, userID string) error {
	return retry(nil, "assignment", func() error {
		cl, prev, u, err := s.assignable(ctx, c.TenantID(), clientID, userID)
		if err != nil {
			return err
		}
		if err := c.requireManageAssignmentsOn(u, cl); err != nil || prev == nil {
			return err
		}
		entry := s.audit(c, "client.access.delete", "client", clientID, assignmentAudit(prev), nil)
		return s.Store.DeleteAssignment(ctx, *prev, Meta{Audit: []AuditEntry{entry}})
	})
}

// appointmentLevel is what an appointment assigns: the employee treats the client, so their own
// groups' level applies in full (the assignment's level only ever lowers it).
const appointmentLevel = LevelEdit

// CreateAppointment records an appointment of a client with an employee, assigning the client to
// the employee (never lowering an assignment they have). Manual appointments need edit on the
// employee's calendar; online bookings come from the booking system (edit on online_booking) and
// only into calendars the tenant made bookable. Nobody but the owner makes appointments for
// themselves: that would be assigning themselves any client.
//
// With an Idempotency-Key, a retry answers with the first request's appointment id and the
// assignment as it is now, and writes nothing.
func (s *Service) CreateAppointment(ctx context.Context, c *Caller, in NewAppointment, idem *Idempotency) (Appointment, error) {
	if in.ClientID == "" {
		return Appointment{}, Invalid("clientId", "is required")
	}
	if err := validID("clientId", in.ClientID); err != nil {
		return Appointment{}, err
	}
	if in.EmployeeID == "" {
		return Appointment{}, Invalid("employeeId", "is required")
	}
	if err := validID("employeeId", in.EmployeeID); err != nil {
		return Appointment{}, err
	}
	if in.CalendarID != "" {
		if err := validID("calendarId", in.CalendarID); err != nil {
			return Appointment{}, err
		}
	}
	switch in.Source {
	case AppointmentManual:
	case AppointmentOnlineBooking:
		if in.CalendarID == "" {
			return Appointment{}, Invalid("calendarId", "is required for an online booking")
		}
	case "":
		return Appointment{}, Invalid("source", "is required: manual or online_booking")
	default:
		return Appointment{}, Invalid("source", "must be manual or online_booking")
	}

	source := AssignedByAppointment
	if in.Source == AppointmentOnlineBooking {
		source = AssignedByOnlineBooking
	}
	if idem != nil {
		if apt, done, err := s.replayAppointment(ctx, c, in, idem); done {
			return apt, err
		}
	}
	if in.CalendarID != "" {
		if err := s.requireCalendars(ctx, c.TenantID(), []string{in.CalendarID}, func(int, string) string { return "calendarId" }); err != nil {
			return Appointment{}, err
		}
	}
	out := Appointment{ID: s.NewID("apt"), ClientID: in.ClientID, EmployeeID: in.EmployeeID, CalendarID: in.CalendarID, Source: in.Source}
	var meta Meta
	meta.Idempotency = idem.record(c.TenantID(), out.ID, s.Now())
	err := retry(nil, "assignment", func() error {
		cl, prev, emp, err := s.assignable(ctx, c.TenantID(), in.ClientID, in.EmployeeID)
		if err != nil {
			return err
		}
		if err := c.require(Request{Op: OpAppointment, Target: &emp, Source: string(in.Source), CalendarID: in.CalendarID, Client: &ClientFacts{Client: cl}}); err != nil {
			return err
		}
		if emp.Status != StatusActive {
			return Conflict("the employee is %s and cannot take appointments", emp.Status)
		}
		if in.CalendarID != "" && !slices.Contains(emp.CalendarIDs, in.CalendarID) {
			return Conflict("calendar %s is not a calendar of the employee", in.CalendarID)
		}
		if in.Source == AppointmentOnlineBooking {
			t, err := s.Store.GetTenant(ctx, c.TenantID())
			if err != nil {
				return err
			}
			if !slices.Contains(t.Settings.BookableCalendarIDs, in.CalendarID) {
				return Conflict("calendar %s is not open for online booking (settings: bookableCalendarIds)", in.CalendarID)
			}
		}
		if prev != nil && prev.Level.AtLeast(appointmentLevel) {
			out.Assignment, out.Changed = *prev, false
			if meta.Idempotency != nil {
				return s.Store.WriteMeta(ctx, meta)
			}
			return nil
		}
		now := s.Now()
		next := Assignment{TenantID: c.TenantID(), ClientID: in.ClientID, UserID: in.EmployeeID, Level: appointmentLevel,
			Source: source, Version: 1, CreatedAt: now, UpdatedAt: now}
		if prev != nil {
			next.Version, next.CreatedAt = prev.Version+1, prev.CreatedAt
		}
		after := assignmentAudit(&next)
		after["appointmentId"], after["appointmentSource"] = out.ID, in.Source
		if in.CalendarID != "" {
			after["calendarId"] = in.CalendarID
		}
		entry := s.audit(c, "client.access.set", "client", in.ClientID, assignmentAudit(prev), after)
		if err := s.Store.PutAssignment(ctx, prev, next, Meta{Audit: []AuditEntry{entry}, Idempotency: meta.Idempotency}); err != nil {
			return err
		}
		out.Assignment, out.Changed = next, true
		return nil
	})
	if err != nil && idem != nil && errors.Is(err, ErrConflict) && !errors.Is(err, ErrVersionConflict) {
		// A concurrent retry with the same key may have won.
		if apt, done, err2 := s.replayAppointment(ctx, c, in, idem); done {
			return apt, err2
		}
	}
	return out, err
}

// replayAppointment answers a retried appointment: done is true when the key was used before.
func (s *Service) replayAppointment(ctx context.Context, c *Caller, in NewAppointment, idem *Idempotency) (Appointment, bool, error) {
	return replay(ctx, s, c, idem, func(id string) (Appointment, error) {
		// The same key means the same body, so the request itself describes the appointment.
		apt := Appointment{ID: id, ClientID: in.ClientID, EmployeeID: in.EmployeeID, CalendarID: in.CalendarID, Source: in.Source}
		_, asg, err := s.Store.ClientWithAssignment(ctx, c.TenantID(), in.ClientID, in.EmployeeID)
		if err != nil {
			return Appointment{}, err
		}
		if asg == nil {
			return Appointment{}, Conflict("the assignment this appointment made has since been removed")
		}
		apt.Assignment = *asg
		return apt, nil
	})
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

// accessOf explains a user's access to a client in the clients area. Users who are not active
// keep their assignments but are refused (level none).
func accessOf(u User, eff Effective, cl Client, asg *Assignment, grant *ClientGrant) (Level, []AccessReason) {
	if lvl, reasons, walled := practiceAccess(u, eff, cl); walled {
		return lvl, reasons
	}
	r := eff.Areas[AreaClients]
	var reasons []AccessReason
	if u.IsOwner {
		reasons = append(reasons, AccessReason{Type: ReasonOwner, Level: LevelDelete, Detail: "the account owner"})
	}
	for _, src := range r.Sources {
		if src.Scope == ScopeAll && src.Level != LevelNone && !u.IsOwner {
			reasons = append(reasons, AccessReason{Type: ReasonScopeAll, GroupID: src.ID, Level: src.Level,
				Detail: fmt.Sprintf("%s gives clients %s on every client", sourceName(src), src.Level)})
		}
	}
	if asg != nil {
		reasons = append(reasons, AccessReason{Type: ReasonAssignment, Source: asg.Source, Level: MinLevel(r.Level, asg.Level),
			Detail: fmt.Sprintf("%s with %s; their groups give clients %s", assignmentWords[asg.Source], asg.Level, r.Level)})
	}
	if cl.PolicyLevel != "" && cl.PolicyLevel != LevelNone && u.Status == StatusActive {
		reasons = append(reasons, AccessReason{Type: ReasonPolicy, Level: MinLevel(r.Level, cl.PolicyLevel),
			Detail: fmt.Sprintf("the new-client policy gives every employee %s; their groups give clients %s", cl.PolicyLevel, r.Level)})
	}
	if grant != nil {
		reasons = append(reasons, AccessReason{Type: ReasonGrant, Level: grant.Level, Detail: grantWords(grant)})
	}
	if u.Status != StatusActive {
		for i := range reasons {
			reasons[i].Level = LevelNone
			reasons[i].Detail += fmt.Sprintf("; refused while the user is %s", u.Status)
		}
		return LevelNone, reasons
	}
	return factsLevel(eff, AreaClients, &ClientFacts{Client: cl, Assignment: asg, Grant: grant}), reasons
}

// userAccess explains one user's access to a client, with their grant from grants if any.
func userAccess(u User, eff Effective, cl Client, asg *Assignment, grants map[string]ClientGrant) UserAccess {
	var grant *ClientGrant
	if g, ok := grants[u.ID]; ok {
		grant = &g
	}
	lvl, reasons := accessOf(u, eff, cl, asg, grant)
	return UserAccess{UserID: u.ID, Status: u.Status, Level: lvl, Reasons: reasons, Grant: grant}
}

func sourceName(s Source) string {
	if s.Type == SourceGroup {
		return "group " + s.Name
	}
	return s.Name
}

// allGroups loads every group of the tenant (groups are few; rights are derived from them).
func (s *Service) allGroups(ctx context.Context, tenantID string) (map[string]Group, error) {
	out := map[string]Group{}
	p := Page{Limit: MaxPageLimit}
	for {
		gs, next, err := s.Store.ListGroups(ctx, tenantID, p)
		if err != nil {
			return nil, err
		}
		for _, g := range gs {
			out[g.ID] = g
		}
		if next == "" {
			return out, nil
		}
		p.Cursor = next
	}
}

// requireReadClientAccess: the owner, readers of users and those who see every client.
func (c *Caller) requireReadClientAccess() error { return c.require(Request{Op: OpReadClientAccess}) }

// maxCandidateGroups bounds the groups named in one candidate filter; with more scope-all groups
// the filter falls back to every active user (still correct, only less selective).
const maxCandidateGroups = 40

// ClientAccessList pages the users who can open a client and why. It pages three sources one
// after the other: first the client's assignments (by user id, with their bureau grants), then
// the client's bureau grants of users without an assignment, then the active users who need
// neither (the owner, members of scope-all groups, or every active employee when the client has a
// policy level), skipping those already listed. Assigned or granted users who are deactivated are
// listed with level none.
func (s *Service) ClientAccessList(ctx context.Context, c *Caller, clientID string, p Page) ([]UserAccess, string, error) {
	if err := c.requireReadClientAccess(); err != nil {
		return nil, "", err
	}
	p, err := p.Normalize()
	if err != nil {
		return nil, "", err
	}
	if validID("clientId", clientID) != nil {
		return nil, "", NotFound("client")
	}
	cur, err := decodeAccessCursor(p.Cursor, clientID)
	if err != nil {
		return nil, "", err
	}
	cl, err := s.Store.GetClient(ctx, c.TenantID(), clientID)
	if err != nil {
		return nil, "", err
	}
	if err := c.require(Request{Op: OpReadClientAccess, Client: &ClientFacts{Client: cl}}); err != nil {
		return nil, "", err
	}
	groups, err := s.allGroups(ctx, c.TenantID())
	if err != nil {
		return nil, "", err
	}
	var out []UserAccess
	if cur.Phase == phaseAssigned {
		asgs, next, err := s.Store.ClientAssignments(ctx, c.TenantID(), clientID, Page{Limit: p.Limit, Cursor: cur.Inner})
		if err != nil {
			return nil, "", err
		}
		ids := make([]string, 0, len(asgs))
		for _, a := range asgs {
			ids = append(ids, a.UserID)
		}
		users, err := s.Store.UsersByID(ctx, c.TenantID(), ids)
		if err != nil {
			return nil, "", err
		}
		grants, err := s.Store.GrantsOn(ctx, c.TenantID(), clientID, ids)
		if err != nil {
			return nil, "", err
		}
		for _, a := range asgs {
			u, ok := users[a.UserID]
			if !ok {
				continue // left behind by a deleted user: it gives nothing
			}
			out = append(out, userAccess(u, Compute(u, groups), cl, &a, grants))
		}
		if next != "" {
			return out, encodeAccessCursor(accessCursor{Client: clientID, Phase: phaseAssigned, Inner: next}), nil
		}
		cur = accessCursor{Client: clientID, Phase: phaseGranted}
		if len(out) >= p.Limit {
			return out, encodeAccessCursor(cur), nil
		}
	}
	// Bureau grants of users without an assignment (those were listed with it).
	if cur.Phase == phaseGranted {
		gs, next, err := s.Store.ClientGrants(ctx, c.TenantID(), clientID, Page{Limit: p.Limit - len(out), Cursor: cur.Inner})
		if err != nil {
			return nil, "", err
		}
		ids := make([]string, 0, len(gs))
		grants := make(map[string]ClientGrant, len(gs))
		for _, g := range gs {
			ids = append(ids, g.UserID)
			grants[g.UserID] = g
		}
		assigned, err := s.Store.AssignmentsOn(ctx, c.TenantID(), clientID, ids)
		if err != nil {
			return nil, "", err
		}
		users, err := s.Store.UsersByID(ctx, c.TenantID(), ids)
		if err != nil {
			return nil, "", err
		}
		for _, g := range gs {
			u, ok := users[g.UserID]
			if _, listed := assigned[g.UserID]; !ok || listed {
				continue
			}
			out = append(out, userAccess(u, Compute(u, groups), cl, nil, grants))
		}
		if next != "" {
			return out, encodeAccessCursor(accessCursor{Client: clientID, Phase: phaseGranted, Inner: next}), nil
		}
		cur = accessCursor{Client: clientID, Phase: phaseUnassigned}
		if len(out) >= p.Limit {
			return out, encodeAccessCursor(cur), nil
		}
	}
	var allGroupIDs []string
	for _, g := range groups {
		if perm := g.Permissions.Get(AreaClients); perm.Scope == ScopeAll && perm.Level != LevelNone {
			allGroupIDs = append(allGroupIDs, g.ID)
		}
	}
	slices.Sort(allGroupIDs)
	everyone := cl.PolicyLevel != "" && cl.PolicyLevel != LevelNone || len(allGroupIDs) > maxCandidateGroups
	users, next, err := s.Store.ListAccessCandidates(ctx, c.TenantID(), everyone, allGroupIDs, Page{Limit: p.Limit - len(out), Cursor: cur.Inner})
	if err != nil {
		return nil, "", err
	}
	ids := make([]string, 0, len(users))
	for _, u := range users {
		ids = append(ids, u.ID)
	}
	assigned, err := s.Store.AssignmentsOn(ctx, c.TenantID(), clientID, ids)
	if err != nil {
		return nil, "", err
	}
	granted, err := s.Store.GrantsOn(ctx, c.TenantID(), clientID, ids)
	if err != nil {
		return nil, "", err
	}
	for _, u := range users {
		_, hasAsg := assigned[u.ID]
		_, hasGrant := granted[u.ID]
		if hasAsg || hasGrant {
			continue // listed with their assignment or grant
		}
		ua := userAccess(u, Compute(u, groups), cl, nil, nil)
		if !ua.Level.AtLeast(LevelView) {
			continue
		}
		out = append(out, ua)
	}
	if next == "" {
		return out, "", nil
	}
	return out, encodeAccessCursor(accessCursor{Client: clientID, Phase: phaseUnassigned, Inner: next}), nil
}

// UserClientsResult is a page of the clients a user can open.
type UserClientsResult struct {
	Items []ClientAccess
	Next  string
	// AllClients is true when a scope all (or ownership) gives the user every client at
	// AllClientsLevel; Items then lists their assignments and policy clients only.
	AllClients      bool
	AllClientsLevel Level
}

// UserClients pages the clients a user can open through assignments, bureau grants and the
// new-client policy, merged by client id from the user's assignments, the user's grants and the
// tenant's policy clients.
func (s *Service) UserClients(ctx context.Context, c *Caller, userID string, p Page) (UserClientsResult, error) {
	if !c.canReadUser(userID) {
		return UserClientsResult{}, NotFound("user")
	}
	p, err := p.Normalize()
	if err != nil {
		return UserClientsResult{}, err
	}
	if validID("userId", userID) != nil {
		return UserClientsResult{}, NotFound("user")
	}
	after, err := decodeUserClientsCursor(p.Cursor, userID)
	if err != nil {
		return UserClientsResult{}, err
	}
	r, err := s.rightsOf(ctx, c, userID)
	if err != nil {
		return UserClientsResult{}, err
	}
	res := UserClientsResult{AllClientsLevel: LevelNone}
	active := r.User.Status == StatusActive
	if all := r.Effective.Areas[AreaClients].AllLevel; active && all.AtLeast(LevelView) {
		res.AllClients, res.AllClientsLevel = true, all
	}
	asgs, moreA, err := s.Store.UserAssignmentsAfter(ctx, c.TenantID(), userID, after, p.Limit)
	if err != nil {
		return UserClientsResult{}, err
	}
	grants, moreG, err := s.Store.UserGrantsAfter(ctx, c.TenantID(), userID, after, p.Limit)
	if err != nil {
		return UserClientsResult{}, err
	}
	var policy []Client
	moreP := false
	// The policy counts like an assignment for active users whose groups give clients at all.
	if active && r.Effective.Areas[AreaClients].Level != LevelNone {
		if policy, moreP, err = s.Store.PolicyClientsAfter(ctx, c.TenantID(), after, p.Limit); err != nil {
			return UserClientsResult{}, err
		}
	}
	// Merge the three id-ordered streams; a page ends at the limit or where any stream was cut
	// short, so that no id beyond what every stream covered is passed over.
	type entry struct {
		asg    *Assignment
		grant  *ClientGrant
		client *Client
	}
	merged := map[string]*entry{}
	get := func(id string) *entry {
		e, ok := merged[id]
		if !ok {
			e = &entry{}
			merged[id] = e
		}
		return e
	}
	bound := "" // the highest id every stream is complete up to, when one was cut
	cut := func(more bool, last string) {
		if more && (bound == "" || last < bound) {
			bound = last
		}
	}
	for i := range asgs {
		get(asgs[i].ClientID).asg = &asgs[i]
	}
	for i := range grants {
		get(grants[i].ClientID).grant = &grants[i]
	}
	for i := range policy {
		get(policy[i].ID).client = &policy[i]
	}
	if len(asgs) > 0 {
		cut(moreA, asgs[len(asgs)-1].ClientID)
	}
	if len(grants) > 0 {
		cut(moreG, grants[len(grants)-1].ClientID)
	}
	if len(policy) > 0 {
		cut(moreP, policy[len(policy)-1].ID)
	}
	ids := slices.Sorted(maps.Keys(merged))
	if bound != "" {
		ids = slices.DeleteFunc(ids, func(id string) bool { return id > bound })
	}
	if len(ids) > p.Limit {
		ids = ids[:p.Limit]
	}
	more := moreA || moreG || moreP || len(merged) > len(ids)
	var need []string
	for _, id := range ids {
		if merged[id].client == nil {
			need = append(need, id)
		}
	}
	clients, err := s.Store.GetClients(ctx, c.TenantID(), need)
	if err != nil {
		return UserClientsResult{}, err
	}
	for _, id := range ids {
		e := merged[id]
		cl := e.client
		if cl == nil {
			got, ok := clients[id]
			if !ok {
				continue
			}
			cl = &got
		}
		lvl, reasons := accessOf(r.User, r.Effective, *cl, e.asg, e.grant)
		if walledOff(lvl, reasons) {
			continue // another practice's client (a clinic policy client, for a hirer)
		}
		res.Items = append(res.Items, ClientAccess{Client: *cl, Level: lvl, Reasons: reasons, Grant: e.grant})
	}
	if more && len(ids) > 0 {
		res.Next = encodeUserClientsCursor(userID, ids[len(ids)-1])
	}
	return res, nil
}

// assignedClientIDs lists the clients a user is assigned (for the audit of a user's deletion).
func (s *Service) assignedClientIDs(ctx context.Context, tenantID, userID string) ([]string, error) {
	var ids []string
	after := ""
	for {
		asgs, more, err := s.Store.UserAssignmentsAfter(ctx, tenantID, userID, after, MaxPageLimit)
		if err != nil {
			return nil, err
		}
		for _, a := range asgs {
			ids = append(ids, a.ClientID)
		}
		if !more || len(asgs) == 0 {
			return ids, nil
		}
		after = asgs[len(asgs)-1].ClientID
	}
}

// Cursors of the reverse look-ups: opaque to clients, bound to the client or user they page, so
// a cursor of one list is refused by another.

const (
	phaseAssigned   = "a"
	phaseGranted    = "g"
	phaseUnassigned = "u"
)

type accessCursor struct {
	Client string `json:"c"`
	Phase  string `json:"p"`
	Inner  string `json:"i,omitempty"`
}

func encodeAccessCursor(c accessCursor) string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeAccessCursor(s, clientID string) (accessCursor, error) {
	if s == "" {
		return accessCursor{Client: clientID, Phase: phaseAssigned}, nil
	}
	var c accessCursor
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(s) > 4096 || json.Unmarshal(b, &c) != nil || c.Client != clientID ||
		(c.Phase != phaseAssigned && c.Phase != phaseGranted && c.Phase != phaseUnassigned) || (c.Phase == phaseAssigned && c.Inner == "") {
		return accessCursor{}, Invalid("cursor", "is not a cursor of this list")
	}
	return c, nil
}

type userClientsCursor struct {
	User  string `json:"u"`
	After string `json:"a"`
}

func encodeUserClientsCursor(userID, after string) string {
	b, _ := json.Marshal(userClientsCursor{User: userID, After: after})
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeUserClientsCursor(s, userID string) (string, error) {
	if s == "" {
		return "", nil
	}
	var c userClientsCursor
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(s) > 1024 || json.Unmarshal(b, &c) != nil || c.User != userID || validID("cursor", c.After) != nil {
		return "", Invalid("cursor", "is not a cursor of this list")
	}
	return c.After, nil
}
