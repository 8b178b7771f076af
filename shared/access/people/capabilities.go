package people

import (
	"context"
	"errors"

	"github.com/tilgang/tilgang/shared/access"
)

// Capabilities computes what a user can do towards a care recipient, as seed 003's table says.
func (s *Service) Capabilities(ctx context.Context, c *access.Caller, userID, clientID string) (access.CapabilityReport, error) {
	if clientID == "" {
		return access.CapabilityReport{}, access.Invalid("clientId", "is required")
	}
	if _, err := access.ValidIDs("clientId", []string{clientID}, 1); err != nil {
		return access.CapabilityReport{}, access.Invalid("clientId", "is not a valid id")
	}
	if !c.CanReadAssistants(userID) {
		return access.CapabilityReport{}, access.Forbidden("reading another user's capabilities needs view on users or an administrative role")
	}
	u, err := s.Store.GetUser(ctx, c.TenantID(), userID)
	if err != nil {
		return access.CapabilityReport{}, err
	}
	if err := s.clientExists(ctx, c, clientID, ""); err != nil {
		return access.CapabilityReport{}, err
	}
	var link *access.Link
	l, err := s.Store.GetLink(ctx, c.TenantID(), userID, clientID)
	switch {
	case err == nil:
		link = &l
	case !errors.Is(err, access.ErrNotFound):
		return access.CapabilityReport{}, err
	}
	r := access.CapabilityReport{UserID: userID, ClientID: clientID}
	r.State, r.Cells = access.CapabilityCells(u, link)
	return r, nil
}
