package access

import "context"

// Calendar is a calendar of the tenant: kept when its owner is deleted (seed 000), so that it can
// be seen, given a new owner or opened for online booking afterwards.
type Calendar struct {
	ID       string
	TenantID string
	// OwnerID is the user whose own calendar it is; "" once that user was deleted.
	OwnerID string
	// Practice is the practice of the user it belongs (or last belonged) to: "" for the
	// clinic's, a hirer's id for theirs (the practice wall applies to calendars too).
	Practice string
	Name     string
	Version  int
	// Bookable is derived from the tenant's bookableCalendarIds.
	Bookable bool
}

// CalendarPatch changes a calendar; nil fields stay as they are.
type CalendarPatch struct {
	Name    *string
	OwnerID *string
}

// UserChange is one user rewritten with another item (a calendar's new owner).
type UserChange struct {
	Prev, Next User
}

// CalendarAdminStore lists and changes calendars.
type CalendarAdminStore interface {
	// ListCalendars pages the tenant's calendars by id.
	ListCalendars(ctx context.Context, tenantID string, p Page) ([]Calendar, string, error)
	// GetCalendar returns ErrNotFound for a missing calendar or one of another tenant.
	GetCalendar(ctx context.Context, tenantID, calendarID string) (Calendar, error)
	// UpdateCalendar writes next if the stored calendar is still prev.Version, and the users
	// (the former and the new owner) conditional on the versions read; ErrVersionConflict if
	// anything changed.
	UpdateCalendar(ctx context.Context, prev, next Calendar, users []UserChange, meta Meta) error
}
