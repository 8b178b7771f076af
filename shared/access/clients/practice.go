package clients

import (
	"context"
	"errors"

	"github.com/tilgang/tilgang/shared/access"
)

// clientPractice resolves the practice a new client goes into: a hirer named by hirerId (an
// active hirer of the tenant), or else the caller's own practice (access/practice.go).
func (s *Service) clientPractice(ctx context.Context, c *access.Caller, hirerID string) (string, *access.User, error) {
	if hirerID == "" {
		if c.User.Kind == access.KindHirer {
			u := c.User
			return u.ID, &u, nil
		}
		return "", nil, nil
	}
	if access.ValidID("hirerId", hirerID) != nil {
		return "", nil, access.Invalid("hirerId", "is not a valid id")
	}
	h, err := s.Store.GetUser(ctx, c.TenantID(), hirerID)
	if err != nil && !errors.Is(err, access.ErrNotFound) {
		return "", nil, err
	}
	if err != nil || h.Kind != access.KindHirer || h.Status != access.StatusActive {
		return "", nil, access.Invalid("hirerId", "names no active hirer of this account")
	}
	return h.ID, &h, nil
}
