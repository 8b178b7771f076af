package access

import (
	"context"
	"errors"
	"fmt"
	"slices"
)

// Program is a program of the bureau package (seed 004: "program i Byråpaketet"), which a
// consultant is assigned per client.
type Program struct {
	ID   string
	Name string
}

// DefaultPrograms is the bureau package of a tenant that has not set up its own catalogue.
var DefaultPrograms = []Program{
	{ID: "bookkeeping", Name: "Bookkeeping"},
	{ID: "invoicing", Name: "Invoicing"},
	{ID: "payroll", Name: "Payroll"},
	{ID: "orders", Name: "Orders"},
	{ID: "fixed_assets", Name: "Fixed assets"},
	{ID: "annual_accounts", Name: "Annual accounts"},
	{ID: "tax_returns", Name: "Tax returns"},
}

// ProgramStore keeps a tenant's own program catalogue.
type ProgramStore interface {
	// GetPrograms returns the tenant's catalogue; ErrNotFound when it has none of its own.
	GetPrograms(ctx context.Context, tenantID string) ([]Program, error)
}

// Programs lists the bureau package's programs; every active user may read them.
func (s *Service) Programs(ctx context.Context, c *Caller) ([]Program, error) {
	return s.programs(ctx, c.TenantID())
}

func (s *Service) programs(ctx context.Context, tenantID string) ([]Program, error) {
	ps, err := s.Store.GetPrograms(ctx, tenantID)
	if errors.Is(err, ErrNotFound) {
		return DefaultPrograms, nil
	}
	if err != nil {
		return nil, fmt.Errorf("programs of tenant %s: %w", tenantID, err)
	}
	return ps, nil
}

// validPrograms checks that every id is in the catalogue and returns them deduplicated, sorted.
func (s *Service) validPrograms(ctx context.Context, tenantID, field string, ids []string) ([]string, error) {
	ids, err := validIDs(field, ids, 50)
	if err != nil {
		return nil, err
	}
	catalogue, err := s.programs(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	var unknown []string
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if !slices.ContainsFunc(catalogue, func(p Program) bool { return p.ID == id }) {
			unknown = append(unknown, id)
			continue
		}
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	if len(unknown) > 0 {
		return nil, Invalid(field, "not in the bureau package (see GET /v1/programs): %s", listIDs(unknown))
	}
	slices.Sort(out)
	return out, nil
}

// listIDs renders ids for a message, shortened when there are many.
func listIDs(ids []string) string {
	const show = 20
	s := ""
	for i, id := range ids {
		if i == show {
			return fmt.Sprintf("%s and %d more", s, len(ids)-show)
		}
		if i > 0 {
			s += ", "
		}
		s += id
	}
	return s
}
