package people

import (
	"context"
	"fmt"

	"github.com/tilgang/tilgang/shared/access"
)

// requireCalendars checks that every id names a calendar of the tenant: a fabricated id, or
// another tenant's, is refused with a 400 naming the field (fieldOf(i, id)), never stored.
func (s *Service) requireCalendars(ctx context.Context, tenantID string, ids []string, fieldOf func(i int, id string) string) error {
	if len(ids) == 0 {
		return nil
	}
	found, err := s.Store.ExistingCalendars(ctx, tenantID, ids)
	if err != nil {
		return fmt.Errorf("read calendars: %w", err)
	}
	for i, id := range ids {
		if !found[id] {
			return access.Invalid(fieldOf(i, id), "no such calendar")
		}
	}
	return nil
}

// indexedField names the i-th entry of a list field ("calendarIds[2]").
func indexedField(field string) func(int, string) string {
	return func(i int, _ string) string { return fmt.Sprintf("%s[%d]", field, i) }
}
