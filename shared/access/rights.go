package access

import (
	"context"
	"fmt"
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
		return Forbidden("reading another user's rights needs view on users")
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
	return Rights{User: u, Effective: Compute(u, groups)}, nil
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
}

// Authorize answers an AuthorizeRequest with the reason. Users who are not active are never
// allowed anything.
func (s *Service) Authorize(ctx context.Context, c *Caller, req AuthorizeRequest) (Decision, error) {
	if req.UserID == "" {
		return Decision{}, Invalid("userId", "is required")
	}
	if req.Action != LevelView && req.Action != LevelEdit && req.Action != LevelDelete {
		return Decision{}, Invalid("action", "must be view, edit or delete")
	}
	if !req.Area.Valid() {
		return Decision{}, Invalid("area", "must be one of %v", Areas)
	}
	if req.ClientID != "" && req.CalendarID != "" {
		return Decision{}, Invalid("calendarId", "ask about a client or a calendar, not both")
	}
	if req.CalendarID != "" && req.Area != AreaCalendars {
		return Decision{}, Invalid("area", "must be calendars when calendarId is given")
	}
	if req.ClientID != "" && !req.Area.Scoped() {
		return Decision{}, Invalid("area", "must be clients, journals, invoices or calendars when clientId is given")
	}
	if err := c.requireReadRights(req.UserID); err != nil {
		return Decision{}, err
	}
	r, err := s.rightsOf(ctx, c, req.UserID)
	if err != nil {
		return Decision{}, err
	}
	if r.User.Status != StatusActive {
		return Decision{Allowed: false, Level: LevelNone, Reason: fmt.Sprintf("the user is %s", r.User.Status)}, nil
	}
	switch {
	case req.ClientID != "":
		return s.authorizeClient(ctx, c, r, req)
	case req.CalendarID != "":
		return r.Effective.AuthorizeCalendar(req.Action, req.CalendarID), nil
	default:
		return r.Effective.AuthorizeArea(req.Action, req.Area), nil
	}
}
