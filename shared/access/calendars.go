package access

import (
	"context"
)

// CalendarStore tells which calendars a tenant has.
type CalendarStore interface {
	// ExistingCalendars returns the ids among ids that name a calendar of the tenant (a calendar
	// of another tenant is not in this tenant's partition, so it does not exist here).
	ExistingCalendars(ctx context.Context, tenantID string, ids []string) (map[string]bool, error)
}
