package people

import (
	"context"
	"slices"

	"github.com/tilgang/tilgang/shared/access"
)

// Me returns the caller's own rights (already loaded with the principal: no store calls).
func (s *Service) Me(c *access.Caller) access.Rights {
	return access.Rights{User: c.User, Effective: c.Effective}
}

// Permissions returns a user's effective permissions and where each comes from.
func (s *Service) Permissions(ctx context.Context, c *access.Caller, userID string) (access.Rights, error) {
	if err := c.RequireReadRights(userID); err != nil {
		return access.Rights{}, err
	}
	return access.RightsOf(ctx, s.Store, c, userID)
}

// AuthorizeAs answers an AuthorizeRequest for the principal a token names. Authorize is the hot
// path other services call on every request of theirs, so it reads the principal, the user asked
// about and the client in ONE round trip instead of authenticating first and reading after; the
// rules are those of every other request: the caller must exist and be active, and may ask about
// themselves, or about anyone with view on users.
func (s *Service) AuthorizeAs(ctx context.Context, tenantID, callerID, requestID string, req access.AuthorizeRequest) (access.Decision, error) {
	if tenantID == "" || callerID == "" {
		return access.Decision{}, &access.Error{Code: access.CodeUnauthenticated, Message: "the token names no tenant or user"}
	}
	if err := req.Validate(); err != nil {
		// The token is judged before the body: a refused principal hears 401 whatever it sent.
		if _, aerr := s.Authenticate(ctx, tenantID, callerID, requestID); aerr != nil {
			return access.Decision{}, aerr
		}
		return access.Decision{}, err
	}
	snap, err := s.Store.AuthorizationSnapshot(ctx, tenantID, callerID, req.UserID, req.ClientID, req.CalendarID, req.Program != "")
	if err != nil {
		return access.Decision{}, err
	}
	c, err := access.CallerOf(access.Token{TenantID: tenantID, UserID: callerID, RequestID: requestID}, snap.Caller, snap.Groups, s.Now())
	if err != nil {
		return access.Decision{}, err
	}
	if err := c.RequireReadRights(req.UserID); err != nil {
		return access.Decision{}, err
	}
	if snap.Target == nil {
		return access.Decision{}, access.NotFound("user")
	}
	if req.Program != "" {
		catalogue := snap.Programs
		if catalogue == nil {
			catalogue = access.DefaultPrograms
		}
		if !slices.ContainsFunc(catalogue, func(p access.Program) bool { return p.ID == req.Program }) {
			return access.Decision{}, access.Invalid("program", "not in the bureau package (see GET /v1/programs)")
		}
	}
	target := access.Rights{User: *snap.Target, Effective: access.Compute(*snap.Target, access.LiveGroups(*snap.Target, access.GroupsOf(*snap.Target, snap.Groups), c.Now))}
	if req.ClientID != "" && snap.Client == nil {
		return access.Decision{}, access.NotFound("client")
	}
	var facts *access.ClientFacts
	if snap.Client != nil {
		facts = &access.ClientFacts{Client: *snap.Client, Assignment: snap.Assignment, Grant: snap.Grant, Admin: snap.Admin}
	}
	return access.Decide(access.Principal{User: target.User, Effective: target.Effective, Now: c.Now},
		access.Request{Op: access.OpAccess, Level: req.Action, Area: req.Area, Client: facts, CalendarID: req.CalendarID, Calendar: snap.Calendar, Program: req.Program}), nil
}
