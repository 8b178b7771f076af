package access

import (
	"context"
)

// Rights is a user's effective permissions with the user they belong to.
type Rights struct {
	User      User
	Effective Effective
}

// canReadRights: one's own, or anyone's with view on users.
func (c *Caller) RequireReadRights(userID string) error {
	if !c.CanReadUser(userID) {
		return NotFound("user")
	}
	return nil
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
	// Calendar is the calendar asked about; nil when none was asked about or it is missing.
	Calendar *Calendar
}

// AuthorizationStore reads an authorization snapshot.
type AuthorizationStore interface {
	// AuthorizationSnapshot reads the caller, the target user, their groups and, when clientID
	// is set, the client and the target's assignment, grant and administration there, in one
	// round trip.
	// withPrograms reads the tenant's program catalogue too.
	AuthorizationSnapshot(ctx context.Context, tenantID, callerID, targetID, clientID, calendarID string, withPrograms bool) (AuthorizationSnapshot, error)
}

func (req AuthorizeRequest) Validate() error {
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
		if err := ValidID("clientId", req.ClientID); err != nil {
			return err
		}
	}
	return ValidID("userId", req.UserID)
}
