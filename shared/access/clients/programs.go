package clients

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/tilgang/tilgang/shared/access"
)

// Programs lists the bureau package's programs; every active user may read them.
func (s *Service) Programs(ctx context.Context, c *access.Caller) ([]access.Program, error) {
	return s.CatalogueOf(ctx, c.TenantID())
}

// CatalogueOf is the tenant's bureau package: its own catalogue, or DefaultPrograms.
func (s *Service) CatalogueOf(ctx context.Context, tenantID string) ([]access.Program, error) {
	ps, err := s.Store.GetPrograms(ctx, tenantID)
	if errors.Is(err, access.ErrNotFound) {
		return access.DefaultPrograms, nil
	}
	if err != nil {
		return nil, fmt.Errorf("programs of tenant %s: %w", tenantID, err)
	}
	return ps, nil
}

// ValidPrograms checks that every id is in the catalogue and returns them deduplicated, sorted.
func (s *Service) ValidPrograms(ctx context.Context, tenantID, field string, ids []string) ([]string, error) {
	ids, err := access.ValidIDs(field, ids, 50)
	if err != nil {
		return nil, err
	}
	catalogue, err := s.CatalogueOf(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	var unknown []string
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if !slices.ContainsFunc(catalogue, func(p access.Program) bool { return p.ID == id }) {
			unknown = append(unknown, id)
			continue
		}
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	if len(unknown) > 0 {
		return nil, access.Invalid(field, "not in the bureau package (see GET /v1/programs): %s", access.ListIDs(unknown))
	}
	slices.Sort(out)
	return out, nil
}
