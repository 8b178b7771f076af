package clients

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/tilgang/tilgang/shared/access"
)

// clientAudit is the audit view of a client: never its name.
func clientAudit(cl access.Client) map[string]any {
	m := map[string]any{"status": cl.Status, "source": cl.Source, "version": cl.Version}
	if cl.PolicyLevel != "" {
		m["policyLevel"] = cl.PolicyLevel
	}
	if cl.Practice != "" {
		m["hirerId"] = cl.Practice
	}
	return m
}

func assignmentAudit(a *access.Assignment) map[string]any {
	if a == nil {
		return nil
	}
	return map[string]any{"clientId": a.ClientID, "userId": a.UserID, "level": a.Level, "source": a.Source}
}

// CreateClient creates a client. Manual clients need edit on clients; clients arriving by signup
// or online booking may also come from the booking system (edit on online_booking), and get the
// tenant's new-client policy. A creator who only sees their own clients is assigned the client,
// or they could not open what they just created.
func (s *Service) CreateClient(ctx context.Context, c *access.Caller, in access.NewClient, idem *access.Idempotency) (access.Client, error) {
	if in.Source == "" {
		in.Source = access.ClientManual
	}
	if !in.Source.Valid() {
		return access.Client{}, access.Invalid("source", "must be manual, signup or online_booking")
	}
	name, err := access.Text("name", in.Name, 200, true)
	if err != nil {
		return access.Client{}, err
	}
	practice, hirer, err := s.clientPractice(ctx, c, in.HirerID)
	if err != nil {
		return access.Client{}, err
	}
	if err := c.Require(access.Request{Op: access.OpCreateClient, Source: string(in.Source), Client: &access.ClientFacts{Client: access.Client{Practice: practice}}}); err != nil {
		return access.Client{}, err
	}
	if idem != nil {
		if cl, done, err := s.replayClient(ctx, c, idem); done {
			return cl, err
		}
	}
	now := s.Now()
	cl := access.Client{ID: s.NewID("c"), TenantID: c.TenantID(), Name: name, Status: access.ClientActive, Source: in.Source,
		Version: 1, CreatedAt: now, UpdatedAt: now, Practice: practice}
	// The new-client policy applies to the clinic's clients only.
	if in.Source != access.ClientManual && practice == "" {
		t, err := s.Store.GetTenant(ctx, c.TenantID())
		if err != nil {
			return access.Client{}, err
		}
		switch t.Settings.NewClientAccess {
		case access.PolicyView:
			cl.PolicyLevel = access.LevelView
		case access.PolicyEdit:
			cl.PolicyLevel = access.LevelEdit
		}
	}
	meta := access.Meta{Audit: []access.AuditEntry{s.Audit(c, "client.create", "client", cl.ID, nil, clientAudit(cl))}}
	var assignments []access.Assignment
	if hirer != nil {
		// A client of a hirer's practice is the hirer's own from the start.
		a := access.Assignment{TenantID: cl.TenantID, ClientID: cl.ID, UserID: hirer.ID, Level: access.LevelEdit,
			Source: access.HirerAssignmentSource(in.Source), Version: 1, CreatedAt: now, UpdatedAt: now}
		assignments = append(assignments, a)
		meta.Audit = append(meta.Audit, s.Audit(c, "client.access.set", "client", cl.ID, nil, assignmentAudit(&a)))
	} else if in.Source == access.ClientManual && !c.SeesAllClientsAt(access.LevelEdit) {
		a := access.Assignment{TenantID: cl.TenantID, ClientID: cl.ID, UserID: c.User.ID, Level: access.LevelEdit,
			Source: access.AssignedManually, Version: 1, CreatedAt: now, UpdatedAt: now}
		assignments = append(assignments, a)
		meta.Audit = append(meta.Audit, s.Audit(c, "client.access.set", "client", cl.ID, nil, assignmentAudit(&a)))
	}
	meta.Idempotency = idem.Record(c.TenantID(), cl.ID, now)
	if err := s.Store.CreateClient(ctx, cl, assignments, meta); err != nil {
		if idem != nil && errors.Is(err, access.ErrConflict) {
			if cl2, done, err2 := s.replayClient(ctx, c, idem); done {
				return cl2, err2
			}
		}
		return access.Client{}, err
	}
	return cl, nil
}

func (s *Service) replayClient(ctx context.Context, c *access.Caller, idem *access.Idempotency) (access.Client, bool, error) {
	return access.Replay(ctx, s.Store, c, idem, func(id string) (access.Client, error) { return s.Store.GetClient(ctx, c.TenantID(), id) })
}

// ListClients pages through every client; it needs view on clients with scope all (users who see
// only their own clients list them with UserClients).
func (s *Service) ListClients(ctx context.Context, c *access.Caller, p access.Page) ([]access.Client, string, error) {
	if d := c.Decide(access.Request{Op: access.OpListClients}); !d.Allowed {
		return nil, "", access.Forbidden("%s; /v1/users/{userId}/clients lists your own", d.Reason())
	}
	p, err := p.Normalize()
	if err != nil {
		return nil, "", err
	}
	cls, next, err := s.Store.ListClients(ctx, c.TenantID(), p)
	return c.InPractice(cls), next, err
}

// GetClient reads a client the caller may view under the access rule.
func (s *Service) GetClient(ctx context.Context, c *access.Caller, id string) (access.Client, error) {
	if access.ValidID("clientId", id) != nil {
		return access.Client{}, access.NotFound("client")
	}
	facts, err := s.Store.ClientFacts(ctx, c.TenantID(), id, c.User.ID)
	if err != nil {
		return access.Client{}, err
	}
	if d := c.Decide(access.Request{Op: access.OpAccess, Level: access.LevelView, Area: access.AreaClients, Client: &facts}); !d.Allowed {
		return access.Client{}, access.Forbidden("this client is not one of yours, no bureau grant opens it, and your groups give no view on every client")
	}
	return facts.Client, nil
}

// assignable loads the client and the user's assignment, checking that the user can hold one.
func (s *Service) assignable(ctx context.Context, tenantID, clientID, userID string) (access.Client, *access.Assignment, access.User, error) {
	if access.ValidID("clientId", clientID) != nil {
		return access.Client{}, nil, access.User{}, access.NotFound("client")
	}
	if access.ValidID("userId", userID) != nil {
		return access.Client{}, nil, access.User{}, access.NotFound("user")
	}
	u, err := s.Store.GetUser(ctx, tenantID, userID)
	if err != nil {
		return access.Client{}, nil, access.User{}, err
	}
	cl, asg, err := s.Store.ClientWithAssignment(ctx, tenantID, clientID, userID)
	if err != nil {
		return access.Client{}, nil, access.User{}, err
	}
	return cl, asg, u, nil
}

// SetAssignment assigns a client to a user manually at a level, replacing the level (and the
// source) of an existing assignment; expiresAt (nil: never) ends it at that instant.
func (s *Service) SetAssignment(ctx context.Context, c *access.Caller, clientID, userID string, level access.Level, expiresAt *time.Time) (access.Assignment, error) {
	if level == "" {
		return access.Assignment{}, access.Invalid("level", "is required: view or edit")
	}
	if level != access.LevelView && level != access.LevelEdit {
		return access.Assignment{}, access.Invalid("level", "must be view or edit")
	}
	expiresAt, err := access.ValidExpiry("expiresAt", expiresAt, s.Now())
	if err != nil {
		return access.Assignment{}, err
	}
	var out access.Assignment
	err = access.Retry(nil, "assignment", func() error {
		cl, prev, u, err := s.assignable(ctx, c.TenantID(), clientID, userID)
		if err != nil {
			return err
		}
		if err := c.RequireManageAssignmentsOn(u, cl); err != nil {
			return err
		}
		// Nobody hands out more than they have: assigning at a level needs that level on every
		// client (scope all) — user management alone does not open clients.
		if err := c.Require(access.Request{Op: access.OpAssignAt, Level: level}); err != nil {
			return err
		}
		if u.Status == access.StatusRemoved || u.Status == access.StatusAnonymised {
			return access.Conflict("a %s user cannot be assigned clients", u.Status)
		}
		now := s.Now()
		next := access.Assignment{TenantID: c.TenantID(), ClientID: clientID, UserID: userID, Level: level,
			Source: access.AssignedManually, Version: 1, CreatedAt: now, UpdatedAt: now, ExpiresAt: expiresAt, GrantedBy: c.User.ID, Client: &cl}
		if prev != nil {
			if prev.Level == level && prev.Source == access.AssignedManually && access.SameExpiry(prev.ExpiresAt, expiresAt) && access.Live(prev.ExpiresAt, now) {
				out = *prev
				return nil
			}
			next.Version, next.CreatedAt = prev.Version+1, prev.CreatedAt
		}
		entry := s.Audit(c, "client.access.set", "client", clientID, assignmentAudit(prev), assignmentAudit(&next))
		if expiresAt != nil {
			entry.After["expiresAt"] = access.ExpiryAudit(expiresAt)
		}
		if err := s.Store.PutAssignment(ctx, prev, next, access.Meta{Audit: []access.AuditEntry{entry}}); err != nil {
			return err
		}
		out = next
		return nil
	})
	return out, err
}

// RemoveAssignment removes a user's assignment to a client; removing a missing one does nothing.
// Access the new-client policy gives is not an assignment and stays.
func (s *Service) RemoveAssignment(ctx context.Context, c *access.Caller, clientID, userID string) error {
	return access.Retry(nil, "assignment", func() error {
		cl, prev, u, err := s.assignable(ctx, c.TenantID(), clientID, userID)
		if err != nil {
			return err
		}
		if err := c.RequireManageAssignmentsOn(u, cl); err != nil || prev == nil {
			return err
		}
		entry := s.Audit(c, "client.access.delete", "client", clientID, assignmentAudit(prev), nil)
		return s.Store.DeleteAssignment(ctx, *prev, access.Meta{Audit: []access.AuditEntry{entry}})
	})
}

// CreateAppointment records an appointment of a client with an employee, assigning the client to
// the employee (never lowering an assignment they have). Manual appointments need edit on the
// employee's calendar; online bookings come from the booking system (edit on online_booking) and
// only into calendars the tenant made bookable. Nobody but the owner makes appointments for
// themselves: that would be assigning themselves any client.
//
// With an Idempotency-Key, a retry answers with the first request's appointment id and the
// assignment as it is now, and writes nothing.
func (s *Service) CreateAppointment(ctx context.Context, c *access.Caller, in access.NewAppointment, idem *access.Idempotency) (access.Appointment, error) {
	if in.ClientID == "" {
		return access.Appointment{}, access.Invalid("clientId", "is required")
	}
	if err := access.ValidID("clientId", in.ClientID); err != nil {
		return access.Appointment{}, err
	}
	if in.EmployeeID == "" {
		return access.Appointment{}, access.Invalid("employeeId", "is required")
	}
	if err := access.ValidID("employeeId", in.EmployeeID); err != nil {
		return access.Appointment{}, err
	}
	if in.CalendarID != "" {
		if err := access.ValidID("calendarId", in.CalendarID); err != nil {
			return access.Appointment{}, err
		}
	}
	switch in.Source {
	case access.AppointmentManual:
	case access.AppointmentOnlineBooking:
		if in.CalendarID == "" {
			return access.Appointment{}, access.Invalid("calendarId", "is required for an online booking")
		}
	case "":
		return access.Appointment{}, access.Invalid("source", "is required: manual or online_booking")
	default:
		return access.Appointment{}, access.Invalid("source", "must be manual or online_booking")
	}

	source := access.AssignedByAppointment
	if in.Source == access.AppointmentOnlineBooking {
		source = access.AssignedByOnlineBooking
	}
	if idem != nil {
		if apt, done, err := s.replayAppointment(ctx, c, in, idem); done {
			return apt, err
		}
	}
	if in.CalendarID != "" {
		found, err := s.Store.ExistingCalendars(ctx, c.TenantID(), []string{in.CalendarID})
		if err != nil {
			return access.Appointment{}, err
		}
		if !found[in.CalendarID] {
			return access.Appointment{}, access.Invalid("calendarId", "no such calendar")
		}
	}
	out := access.Appointment{ID: s.NewID("apt"), ClientID: in.ClientID, EmployeeID: in.EmployeeID, CalendarID: in.CalendarID, Source: in.Source}
	var meta access.Meta
	meta.Idempotency = idem.Record(c.TenantID(), out.ID, s.Now())
	err := access.Retry(nil, "assignment", func() error {
		cl, prev, emp, err := s.assignable(ctx, c.TenantID(), in.ClientID, in.EmployeeID)
		if err != nil {
			return err
		}
		if err := c.Require(access.Request{Op: access.OpAppointment, Target: &emp, Source: string(in.Source), CalendarID: in.CalendarID,
			Client: &access.ClientFacts{Client: cl}}); err != nil {
			return err
		}
		if emp.Status != access.StatusActive {
			return access.Conflict("the employee is %s and cannot take appointments", emp.Status)
		}
		if in.CalendarID != "" && !slices.Contains(emp.CalendarIDs, in.CalendarID) {
			return access.Conflict("calendar %s is not a calendar of the employee", in.CalendarID)
		}
		if in.Source == access.AppointmentOnlineBooking {
			t, err := s.Store.GetTenant(ctx, c.TenantID())
			if err != nil {
				return err
			}
			if !slices.Contains(t.Settings.BookableCalendarIDs, in.CalendarID) {
				return access.Conflict("calendar %s is not open for online booking (settings: bookableCalendarIds)", in.CalendarID)
			}
		}
		// An appointment assigns for good: a time-bound assignment (live or expired) is replaced.
		if prev != nil && prev.Level.AtLeast(appointmentLevel) && prev.ExpiresAt == nil {
			out.Assignment, out.Changed = *prev, false
			if meta.Idempotency != nil {
				return s.Store.WriteMeta(ctx, meta)
			}
			return nil
		}
		now := s.Now()
		next := access.Assignment{TenantID: c.TenantID(), ClientID: in.ClientID, UserID: in.EmployeeID, Level: appointmentLevel,
			Source: source, Version: 1, CreatedAt: now, UpdatedAt: now, Client: &cl}
		if prev != nil {
			next.Version, next.CreatedAt = prev.Version+1, prev.CreatedAt
		}
		after := assignmentAudit(&next)
		after["appointmentId"], after["appointmentSource"] = out.ID, in.Source
		if in.CalendarID != "" {
			after["calendarId"] = in.CalendarID
		}
		entry := s.Audit(c, "client.access.set", "client", in.ClientID, assignmentAudit(prev), after)
		if err := s.Store.PutAssignment(ctx, prev, next, access.Meta{Audit: []access.AuditEntry{entry}, Idempotency: meta.Idempotency}); err != nil {
			return err
		}
		out.Assignment, out.Changed = next, true
		return nil
	})
	if err != nil && idem != nil && errors.Is(err, access.ErrConflict) && !errors.Is(err, access.ErrVersionConflict) {
		// A concurrent retry with the same key may have won.
		if apt, done, err2 := s.replayAppointment(ctx, c, in, idem); done {
			return apt, err2
		}
	}
	return out, err
}

// replayAppointment answers a retried appointment: done is true when the key was used before.
func (s *Service) replayAppointment(ctx context.Context, c *access.Caller, in access.NewAppointment, idem *access.Idempotency) (access.Appointment, bool, error) {
	return access.Replay(ctx, s.Store, c, idem, func(id string) (access.Appointment, error) {
		// The same key means the same body, so the request itself describes the appointment.
		apt := access.Appointment{ID: id, ClientID: in.ClientID, EmployeeID: in.EmployeeID, CalendarID: in.CalendarID, Source: in.Source}
		_, asg, err := s.Store.ClientWithAssignment(ctx, c.TenantID(), in.ClientID, in.EmployeeID)
		if err != nil {
			return access.Appointment{}, err
		}
		if asg == nil {
			return access.Appointment{}, access.Conflict("the assignment this appointment made has since been removed")
		}
		apt.Assignment = *asg
		return apt, nil
	})
}

// accessOf explains a user's access to a client in the clients area. Users who are not active
// keep their assignments but are refused (level none).
func accessOf(u access.User, eff *access.Effective, cl access.Client, asg *access.Assignment, grant *access.ClientGrant, now time.Time) (access.Level, []access.AccessReason) {
	if lvl, reasons, walled := access.PracticeAccess(u, *eff, cl); walled {
		return lvl, reasons
	}
	r := eff.Area(access.AreaClients)
	var reasons []access.AccessReason
	var expired []access.AccessReason
	asg, grant, expired = access.LiveAccess(asg, grant, now)
	if u.IsOwner {
		reasons = append(reasons, access.AccessReason{Type: access.ReasonOwner, Level: access.LevelDelete, Detail: "the account owner"})
	}
	for _, src := range r.Sources {
		if src.Scope == access.ScopeAll && src.Level != access.LevelNone && !u.IsOwner {
			reasons = append(reasons, access.AccessReason{Type: access.ReasonScopeAll, GroupID: src.ID, Level: src.Level,
				Detail: fmt.Sprintf("%s gives clients %s on every client", access.SourceName(src), src.Level)})
		}
	}
	if asg != nil {
		reasons = append(reasons, access.AccessReason{Type: access.ReasonAssignment, Source: asg.Source, Level: access.MinLevel(r.Level, asg.Level), ExpiresAt: asg.ExpiresAt,
			Detail: fmt.Sprintf("%s with %s%s; their groups give clients %s", access.AssignmentWords[asg.Source], asg.Level, access.Until(asg.ExpiresAt), r.Level)})
	}
	if cl.PolicyLevel != "" && cl.PolicyLevel != access.LevelNone && u.Status == access.StatusActive {
		reasons = append(reasons, access.AccessReason{Type: access.ReasonPolicy, Level: access.MinLevel(r.Level, cl.PolicyLevel),
			Detail: fmt.Sprintf("the new-client policy gives every employee %s; their groups give clients %s", cl.PolicyLevel, r.Level)})
	}
	if grant != nil {
		reasons = append(reasons, access.AccessReason{Type: access.ReasonGrant, Level: grant.Level, Detail: access.GrantWords(grant), ExpiresAt: grant.ExpiresAt})
	}
	reasons = append(reasons, expired...)
	if u.Status != access.StatusActive {
		for i := range reasons {
			reasons[i].Level = access.LevelNone
			reasons[i].Detail += fmt.Sprintf("; refused while the user is %s", u.Status)
		}
		return access.LevelNone, reasons
	}
	return access.FactsLevel(eff, access.AreaClients, &access.ClientFacts{Client: cl, Assignment: asg, Grant: grant}), reasons
}

// ClientAccessList pages the users who can open a client and why, by user id. The store brings
// each page's candidates (the client's assigned and granted users, deactivated ones too, and the
// active users who may reach it without either); the policy decides each one. Assigned or
// granted users are always listed, at level none when refused; the others only when they can
// open the client.
//
// The caller's principal is read with the page's first round trip (the token names it), so it
// costs none of its own; nothing read is used before the caller is known to be allowed, and bad
// input is judged after the token, as on every route.
func (s *Service) ClientAccessList(ctx context.Context, tok access.Token, authenticate access.Authenticate, clientID string, p access.Page) ([]access.UserAccess, string, error) {
	refuse := func(bad error) error {
		c, err := authenticate(ctx)
		if err != nil {
			return err
		}
		if err := c.RequireReadClientAccess(); err != nil {
			return err
		}
		return bad
	}
	p, err := p.Normalize()
	if err != nil {
		return nil, "", refuse(err)
	}
	if access.ValidID("clientId", clientID) != nil || tok.TenantID == "" || tok.UserID == "" {
		return nil, "", refuse(access.NotFound("client"))
	}
	page, err := s.Store.ClientAccessPage(ctx, tok.TenantID, tok.UserID, clientID, p.Cursor, p.Limit)
	if err != nil {
		return nil, "", refuse(err)
	}
	c, err := access.CallerOf(tok, page.Caller, page.Groups, s.Now())
	if err != nil {
		return nil, "", err
	}
	if err := c.RequireReadClientAccess(); err != nil {
		return nil, "", err
	}
	if page.Client.ID == "" {
		return nil, "", access.NotFound("client")
	}
	// Who can open a client is that client's practice's (and the account owner's) to read.
	if err := c.Require(access.Request{Op: access.OpReadClientAccess, Client: &access.ClientFacts{Client: page.Client}}); err != nil {
		return nil, "", err
	}
	out := make([]access.UserAccess, 0, len(page.Candidates))
	for _, cand := range page.Candidates {
		u := cand.User
		eff := access.Compute(u, access.LiveGroups(u, page.Groups, c.Now))
		lvl, reasons := accessOf(u, &eff, page.Client, cand.Assignment, cand.Grant, c.Now)
		if cand.Assignment == nil && cand.Grant == nil && !lvl.AtLeast(access.LevelView) {
			continue
		}
		out = append(out, access.UserAccess{UserID: u.ID, Status: u.Status, Level: lvl, Reasons: reasons, Grant: cand.Grant})
	}
	return out, page.Next, nil
}

// UserClients pages the clients a user can open through assignments, bureau grants and the
// new-client policy, by client id.
//
// The caller's principal is read with the page (the token names it), so it costs no round trip
// of its own: one round trip in all for one's own clients. The policy clients are read with it when the tenant is known to
// have any, on the chance that the policy applies to the user; the page is read again when that
// guess was wrong: without them when the policy does not apply and the page holds a client only
// the policy gives, with them when it does and the principal's read showed the tenant has some.
func (s *Service) UserClients(ctx context.Context, tok access.Token, authenticate access.Authenticate, userID string, p access.Page) (access.UserClientsResult, error) {
	refuse := func(bad error) error {
		c, err := authenticate(ctx)
		if err != nil {
			return err
		}
		if !c.CanReadUser(userID) {
			return access.NotFound("user")
		}
		return bad
	}
	p, err := p.Normalize()
	if err != nil {
		return access.UserClientsResult{}, refuse(err)
	}
	if access.ValidID("userId", userID) != nil || tok.TenantID == "" || tok.UserID == "" {
		return access.UserClientsResult{}, refuse(access.NotFound("user"))
	}
	withPolicy := s.Store.MayHavePolicyClients(tok.TenantID)
	page, err := s.Store.UserClientsPage(ctx, tok.TenantID, tok.UserID, userID, p.Cursor, p.Limit, withPolicy)
	if err != nil {
		return access.UserClientsResult{}, refuse(err)
	}
	c, err := access.CallerOf(tok, page.Caller, page.CallerGroups, s.Now())
	if err != nil {
		return access.UserClientsResult{}, err
	}
	if !c.CanReadUser(userID) {
		return access.UserClientsResult{}, access.NotFound("user")
	}
	r, err := access.RightsOf(ctx, s.Store, c, userID)
	if err != nil {
		return access.UserClientsResult{}, err
	}
	res := access.UserClientsResult{AllClientsLevel: access.LevelNone}
	active := r.User.Status == access.StatusActive
	if all := r.Effective.Area(access.AreaClients).AllLevel; active && all.AtLeast(access.LevelView) {
		res.AllClients, res.AllClientsLevel = true, all
	}
	// The policy counts like an assignment for active users whose groups give clients at all.
	policy := active && r.Effective.Area(access.AreaClients).Level != access.LevelNone
	reread := policy && !withPolicy && s.Store.MayHavePolicyClients(c.TenantID())
	// Outside the policy, a page read with the policy clients is read again when one of them
	// is in it, or when it may have been cut short by them (its cursor would lead to an empty
	// page).
	reread = reread || !policy && withPolicy && (page.Next != "" ||
		slices.ContainsFunc(page.Candidates, func(c access.ClientCandidate) bool { return c.Assignment == nil && c.Grant == nil }))
	if reread {
		if page, err = s.Store.UserClientsPage(ctx, c.TenantID(), "", userID, p.Cursor, p.Limit, policy); err != nil {
			return access.UserClientsResult{}, err
		}
	}
	res.Next = page.Next
	for _, cand := range page.Candidates {
		lvl, reasons := accessOf(r.User, &r.Effective, cand.Client, cand.Assignment, cand.Grant, c.Now)
		if access.WalledOff(lvl, reasons) {
			continue // another practice's client (a clinic policy client, for a hirer)
		}
		res.Items = append(res.Items, access.ClientAccess{Client: cand.Client, Level: lvl, Reasons: reasons, Grant: cand.Grant})
	}
	return res, nil
}
