package access

import (
	"context"
	"fmt"
	"maps"
	"slices"
)

// Calendar is a calendar of the tenant: kept when its owner is deleted (seed 000), so that it can
// be seen, given a new owner or opened for online booking afterwards.
type Calendar struct {
	ID       string
	TenantID string
	// OwnerID is the user whose own calendar it is; "" once that user was deleted.
	OwnerID string
	Name    string
	Version int
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

func calendarAudit(c Calendar) map[string]any {
	return map[string]any{"ownerId": c.OwnerID, "version": c.Version}
}

// canListCalendars: readers of users, of settings, of online booking and of every calendar see
// every calendar; everyone else the calendars they may view.
func (c *Caller) canSeeCalendar(id string) bool {
	return c.decide(Request{Op: OpListCalendars}).Allowed ||
		c.decide(Request{Op: OpAccess, Level: LevelView, Area: AreaCalendars, CalendarID: id}).Allowed
}

// ListCalendars pages the tenant's calendars with their owner (or none) and bookable flag. A
// caller without OpListCalendars sees only the calendars they may view (a page may then hold
// fewer than limit).
func (s *Service) ListCalendars(ctx context.Context, c *Caller, p Page) ([]Calendar, string, error) {
	p, err := p.Normalize()
	if err != nil {
		return nil, "", err
	}
	t, err := s.Store.GetTenant(ctx, c.TenantID())
	if err != nil {
		return nil, "", err
	}
	cals, next, err := s.Store.ListCalendars(ctx, c.TenantID(), p)
	if err != nil {
		return nil, "", err
	}
	out := make([]Calendar, 0, len(cals))
	for _, cal := range cals {
		if c.canSeeCalendar(cal.ID) {
			cal.Bookable = slices.Contains(t.Settings.BookableCalendarIDs, cal.ID)
			out = append(out, cal)
		}
	}
	return out, next, nil
}

// GetCalendar reads one calendar; one the caller may not see answers 404.
func (s *Service) GetCalendar(ctx context.Context, c *Caller, id string) (Calendar, error) {
	if validID("calendarId", id) != nil || !c.canSeeCalendar(id) {
		return Calendar{}, NotFound("calendar")
	}
	cal, err := s.Store.GetCalendar(ctx, c.TenantID(), id)
	if err != nil {
		return Calendar{}, err
	}
	t, err := s.Store.GetTenant(ctx, c.TenantID())
	if err != nil {
		return Calendar{}, err
	}
	cal.Bookable = slices.Contains(t.Settings.BookableCalendarIDs, cal.ID)
	return cal, nil
}

// UpdateCalendar renames a calendar or gives it a new owner (a kept calendar of a deleted
// employee, or one moved between colleagues). A new owner changes two users' rights (own
// calendars are rights), so it is decided as changing rights of both: nobody takes a calendar
// for themselves, nor gives or takes the account owner's.
func (s *Service) UpdateCalendar(ctx context.Context, c *Caller, id string, p CalendarPatch, ifMatch *int) (Calendar, error) {
	if validID("calendarId", id) != nil {
		return Calendar{}, NotFound("calendar")
	}
	var err error
	if p.Name != nil {
		if *p.Name, err = text("name", *p.Name, 100, false); err != nil {
			return Calendar{}, err
		}
	}
	if p.OwnerID != nil && validID("ownerId", *p.OwnerID) != nil {
		return Calendar{}, Invalid("ownerId", "is not a valid user id")
	}
	if err := c.require(Request{Op: OpEditCalendar}); err != nil {
		return Calendar{}, err
	}
	var out Calendar
	err = retry(ifMatch, "calendar", func() error {
		prev, err := s.Store.GetCalendar(ctx, c.TenantID(), id)
		if err != nil {
			return err
		}
		if err := checkIfMatch(ifMatch, max(prev.Version, 1), "calendar"); err != nil {
			return err
		}
		next := prev
		if p.Name != nil {
			next.Name = *p.Name
		}
		var users []UserChange
		if p.OwnerID != nil && *p.OwnerID != prev.OwnerID {
			to, err := s.Store.GetUser(ctx, c.TenantID(), *p.OwnerID)
			if isNotFoundErr(err) || (err == nil && !c.canReadUser(to.ID)) {
				return Invalid("ownerId", "no such user")
			}
			if err != nil {
				return err
			}
			if err := c.requireChangeRightsOf(to); err != nil {
				return err
			}
			if to.Status != StatusActive && to.Status != StatusDeactivated {
				return Conflict("a %s user cannot own a calendar", to.Status)
			}
			if len(to.CalendarIDs) >= 20 {
				return Conflict("a user has at most 20 own calendars")
			}
			nextTo := to
			nextTo.CalendarIDs = append(slices.Clone(to.CalendarIDs), id)
			nextTo.Version, nextTo.UpdatedAt = to.Version+1, s.Now()
			users = append(users, UserChange{to, nextTo})
			if prev.OwnerID != "" {
				from, err := s.Store.GetUser(ctx, c.TenantID(), prev.OwnerID)
				if err == nil {
					if err := c.requireChangeRightsOf(from); err != nil {
						return err
					}
					nextFrom := from
					nextFrom.CalendarIDs = slices.DeleteFunc(slices.Clone(from.CalendarIDs), func(x string) bool { return x == id })
					nextFrom.Version, nextFrom.UpdatedAt = from.Version+1, s.Now()
					users = append(users, UserChange{from, nextFrom})
				} else if !isNotFoundErr(err) {
					return err
				}
			}
			next.OwnerID = to.ID
		}
		if unchanged(prev, next) {
			out = prev
			return nil
		}
		next.Version = max(prev.Version, 1) + 1
		before, after := calendarAudit(prev), calendarAudit(next)
		if prev.Name != next.Name {
			after["changedFields"] = []string{"name"}
		}
		meta := Meta{Audit: []AuditEntry{s.audit(c, "calendar.update", "calendar", id, before, after)}}
		for _, u := range users {
			meta.Audit = append(meta.Audit, s.audit(c, "user.calendars.set", "user", u.Next.ID, userAudit(u.Prev), userAudit(u.Next)))
		}
		if err := s.Store.UpdateCalendar(ctx, prev, next, users, meta); err != nil {
			return err
		}
		out = next
		return nil
	})
	if err != nil {
		return Calendar{}, err
	}
	return s.withBookable(ctx, c, out)
}

func (s *Service) withBookable(ctx context.Context, c *Caller, cal Calendar) (Calendar, error) {
	t, err := s.Store.GetTenant(ctx, c.TenantID())
	if err != nil {
		return Calendar{}, err
	}
	cal.Bookable = slices.Contains(t.Settings.BookableCalendarIDs, cal.ID)
	if cal.Version == 0 {
		cal.Version = 1
	}
	return cal, nil
}

// initialCalendarAccess checks the individual calendar access a new user is created with, by
// the rules of SetCalendarAccess: existing calendars of the tenant, levels none, view or edit,
// and nobody hands out more than they have on a calendar themselves.
func (s *Service) initialCalendarAccess(ctx context.Context, c *Caller, in map[string]Level) (map[string]Level, error) {
	if len(in) == 0 {
		return nil, nil
	}
	if len(in) > 200 {
		return nil, Invalid("calendarAccess", "must have at most 200 calendars")
	}
	clean := map[string]Level{}
	for _, cal := range slices.Sorted(maps.Keys(in)) {
		lvl := in[cal]
		field := "calendarAccess." + cal
		if !PlausibleID(cal) {
			return nil, Invalid("calendarAccess", "names an invalid calendar id")
		}
		if lvl != LevelNone && lvl != LevelView && lvl != LevelEdit {
			return nil, Invalid(field, "must be none, view or edit")
		}
		if lvl != LevelNone {
			clean[cal] = lvl
		}
	}
	if err := s.requireCalendars(ctx, c.TenantID(), slices.Sorted(maps.Keys(in)), func(_ int, cal string) string { return "calendarAccess." + cal }); err != nil {
		return nil, err
	}
	for _, cal := range slices.Sorted(maps.Keys(clean)) {
		if !c.decide(Request{Op: OpAccess, Level: clean[cal], Area: AreaCalendars, CalendarID: cal}).Allowed {
			return nil, &Error{Code: CodeForbidden, Field: "calendarAccess." + cal, Message: fmt.Sprintf("you cannot grant %s on this calendar: it is more than you have yourself", clean[cal])}
		}
	}
	if len(clean) == 0 {
		return nil, nil
	}
	return clean, nil
}

func isNotFoundErr(err error) bool { return ErrorCode(err) == CodeNotFound }
