package access

import (
	"context"
	"slices"
)

// Rights is a user's effective permissions with the user they belong to.
type Rights struct {
	User      User
	Effective Effective
}

// Me returns the caller's own rights (already loaded with the principal: no store calls).
func (s *Service) Me(c *Caller) Rights {
	return Rights{User: c.User, Effective: c.Effective}
}

// canReadRights: one's own, or anyone's with view on users.
func (c *Caller) requireReadRights(userID string) error {
	if !c.canReadUser(userID) {
		return NotFound("user")
	}
	return nil
}

// rightsOf loads a user with their groups and computes their rights, reusing the caller's.
func (s *Service) rightsOf(ctx context.Context, c *Caller, userID string) (Rights, error) {
	if userID == c.User.ID {
		return s.Me(c), nil
	}
	u, groups, err := s.Store.Principal(ctx, c.TenantID(), userID)
	if err != nil {
		return Rights{}, err
	}
	if u.IsOwner {
		groups = map[string]Group{}
	}
	return Rights{User: u, Effective: Compute(u, liveGroups(u, groups, c.Now))}, nil
}

// Permissions returns a user's effective permissions and where each comes from.
func (s *Service) Permissions(ctx context.Context, c *Caller, userID string) (Rights, error) {
	if err := c.requireReadRights(userID); err != nil {
		return Rights{}, err
	}
	return s.rightsOf(ctx, c, userID)
}

// AuthorizeRequest asks whether a user may do an action on an area, optionally on one client's
// records or one calendar.
type AuthorizeRequest struct {
	UserID     string
	Action     Level
	Area       Area
	ClientID   string
	CalendarID string
	// Program asks about one program of the bureau package at ClientID.
	Program string
}

// AuthorizationSnapshot is everything one authorization question needs, read together.
type AuthorizationSnapshot struct {
	Caller *User // nil if the token's user does not exist in the tenant
	Target *User // the user asked about; nil if missing; the caller's copy when they ask about themselves
	// Groups holds the caller's and the target's groups.
	Groups     map[string]Group
	Client     *Client // nil if no client was asked about or it does not exist
	Assignment *Assignment
	// Grant and Admin are the target's bureau grant and client administration at the client.
	Grant *ClientGrant
	Admin *ClientAdmin
	// Programs is the tenant's own program catalogue when asked for; nil: DefaultPrograms.
	Programs []Program
}

// AuthorizationStore reads an authorization snapshot.
type AuthorizationStore interface {
	// AuthorizationSnapshot reads the caller, the target user, their groups and, when clientID
	// is set, the client and the target's assignment, grant and administration there, in one
	// round trip.
	// withPrograms reads the tenant's program catalogue too.
	AuthorizationSnapshot(ctx context.Context, tenantID, callerID, targetID, clientID string, withPrograms bool) (AuthorizationSnapshot, error)
}

func (req AuthorizeRequest) validate() error {
	switch {
	case req.UserID == "":
		return Invalid("userId", "is required")
	case req.Action != LevelView && req.Action != LevelEdit && req.Action != LevelDelete:
		return Invalid("action", "must be view, edit or delete")
	case !req.Area.Valid():
		return Invalid("area", "must be one of %v", Areas)
	case req.ClientID != "" && req.CalendarID != "":
		return Invalid("calendarId", "ask about a client or a calendar, not both")
	case req.CalendarID != "" && req.Area != AreaCalendars:
		return Invalid("area", "must be calendars when calendarId is given")
	case req.ClientID != "" && !req.Area.Scoped():
		return Invalid("area", "must be clients, journals, invoices or calendars when clientId is given")
	case req.Program != "" && req.ClientID == "":
		return Invalid("program", "a program is asked about at one client: give clientId too")
	case req.Program != "" && req.Area != AreaClients:
		return Invalid("area", "must be clients when program is given")
	}
	if req.ClientID != "" {
		if err := validID("clientId", req.ClientID); err != nil {
			return err
		}
	}
	return validID("userId", req.UserID)
}

// AuthorizeAs answers an AuthorizeRequest for the principal a token names. Authorize is the hot
// path other services call on every request of theirs, so it reads the principal, the user asked
// about and the client in ONE round trip instead of authenticating first and reading after; the
// rules are those of every other request: the caller must exist and be active, and may ask about
// themselves, or about anyone with view on users.
func (s *Service) AuthorizeAs(ctx context.Context, tenantID, callerID, requestID string, req AuthorizeRequest) (Decision, error) {
	if tenantID == "" || callerID == "" {
		return Decision{}, &Error{Code: CodeUnauthenticated, Message: "the token names no tenant or user"}
	}
	if err := req.validate(); err != nil {
		return Decision{}, err
	}
	snap, err := s.Store.AuthorizationSnapshot(ctx, tenantID, callerID, req.UserID, req.ClientID, req.Program != "")
	if err != nil {
		return Decision{}, err
	}
	if snap.Caller == nil {
		return Decision{}, &Error{Code: CodeUnauthenticated, Message: "the token's user does not exist"}
	}
	c, err := newCaller(*snap.Caller, snap.Groups, requestID, s.Now())
	if err != nil {
		return Decision{}, err
	}
	if err := c.requireReadRights(req.UserID); err != nil {
		return Decision{}, err
	}
	if snap.Target == nil {
		return Decision{}, NotFound("user")
	}
	if req.Program != "" {
		catalogue := snap.Programs
		if catalogue == nil {
			catalogue = DefaultPrograms
		}
		if !slices.ContainsFunc(catalogue, func(p Program) bool { return p.ID == req.Program }) {
			return Decision{}, Invalid("program", "not in the bureau package (see GET /v1/programs)")
		}
	}
	target := Rights{User: *snap.Target, Effective: Compute(*snap.Target, liveGroups(*snap.Target, groupsOf(*snap.Target, snap.Groups), c.Now))}
	if req.ClientID != "" && snap.Client == nil {
		return Decision{}, NotFound("client")
	}
	var facts *ClientFacts
	if snap.Client != nil {
		facts = &ClientFacts{Client: *snap.Client, Assignment: snap.Assignment, Grant: snap.Grant, Admin: snap.Admin}
	}
	return DecideAccess(target.User, target.Effective, req.Action, req.Area, facts, req.CalendarID, req.Program, c.Now), nil
}

// groupsOf picks a user's groups out of a larger set; the owner's groups give nothing extra.
func groupsOf(u User, all map[string]Group) map[string]Group {
	out := map[string]Group{}
	if u.IsOwner {
		return out
	}
	for _, id := range u.GroupIDs {
		if g, ok := all[id]; ok {
			out[id] = g
		}
	}
	return out
}
