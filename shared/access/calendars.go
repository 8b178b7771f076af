package access

import (
	"context"
	"fmt"
)

// CalendarStore tells which calendars a tenant has.
type CalendarStore interface {
	// ExistingCalendars returns the ids among ids that name a calendar of the tenant (a calendar
	// of another tenant is not in this tenant's partition, so it does not exist here).
	ExistingCalendars(ctx context.Context, tenantID string, ids []string) (map[string]bool, error)
}

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
			return Invalid(fieldOf(i, id), "no such calendar")
		}
	}
	return nil
}

// indexedField names the i-th entry of a list field ("calendarIds[2]").
func indexedField(field string) func(int, string) string {
	return func(i int, _ string) string { return fmt.Sprintf("%s[%d]", field, i) }
}
