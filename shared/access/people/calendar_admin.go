package people

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/tilgang/tilgang/shared/access"
)

// calendarAudit is the audit view of a calendar: its name, which may name a person, is listed
// by field name only (changedFields).
func calendarAudit(c access.Calendar) map[string]any {
	return map[string]any{"ownerId": c.OwnerID, "version": c.Version}
}

// canSeeCalendar: readers of users, of settings, of online booking and of every calendar see
// every calendar; everyone else the calendars they may view.
func canSeeCalendar(c *access.Caller, id string) bool {
	return c.Decide(access.Request{Op: access.OpListCalendars}).Allowed ||
		c.Decide(access.Request{Op: access.OpAccess, Level: access.LevelView, Area: access.AreaCalendars, CalendarID: id}).Allowed
}

// ListCalendars pages the tenant's calendars with their owner (or none) and bookable flag. A
// caller without OpListCalendars sees only the calendars they may view (a page may then hold
// fewer than limit).
func (s *Service) ListCalendars(ctx context.Context, c *access.Caller, p access.Page) ([]access.Calendar, string, error) {
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
	out := make([]access.Calendar, 0, len(cals))
	for _, cal := range cals {
		if canSeeCalendar(c, cal.ID) {
			cal.Bookable = slices.Contains(t.Settings.BookableCalendarIDs, cal.ID)
			out = append(out, cal)
		}
	}
	return out, next, nil
}

// GetCalendar reads one calendar; one the caller may not see answers 404.
func (s *Service) GetCalendar(ctx context.Context, c *access.Caller, id string) (access.Calendar, error) {
	if access.ValidID("calendarId", id) != nil || !canSeeCalendar(c, id) {
		return access.Calendar{}, access.NotFound("calendar")
	}
	cal, err := s.Store.GetCalendar(ctx, c.TenantID(), id)
	if err != nil {
		return access.Calendar{}, err
	}
	t, err := s.Store.GetTenant(ctx, c.TenantID())
	if err != nil {
		return access.Calendar{}, err
	}
	cal.Bookable = slices.Contains(t.Settings.BookableCalendarIDs, cal.ID)
	return cal, nil
}

// UpdateCalendar renames a calendar or gives it a new owner (a kept calendar of a deleted
// employee, or one moved between colleagues). A new owner changes two users' rights (own
// calendars are rights), so it is decided as changing rights of both: nobody takes a calendar
// for themselves, nor gives or takes the account owner's.
func (s *Service) UpdateCalendar(ctx context.Context, c *access.Caller, id string, p access.CalendarPatch, ifMatch *int) (access.Calendar, error) {
	if access.ValidID("calendarId", id) != nil {
		return access.Calendar{}, access.NotFound("calendar")
	}
	var err error
	if p.Name != nil {
		if *p.Name, err = access.Text("name", *p.Name, 100, false); err != nil {
			return access.Calendar{}, err
		}
	}
	if p.OwnerID != nil && access.ValidID("ownerId", *p.OwnerID) != nil {
		return access.Calendar{}, access.Invalid("ownerId", "is not a valid user id")
	}
	if err := c.Require(access.Request{Op: access.OpEditCalendar}); err != nil {
		return access.Calendar{}, err
	}
	var out access.Calendar
	err = access.Retry(ifMatch, "calendar", func() error {
		prev, err := s.Store.GetCalendar(ctx, c.TenantID(), id)
		if err != nil {
			return err
		}
		if err := access.CheckIfMatch(ifMatch, max(prev.Version, 1), "calendar"); err != nil {
			return err
		}
		// A hirer's calendar is theirs: nobody of another practice renames or moves it, the
		// owner included (the practice wall; the clinic's calendars likewise stay the clinic's).
		if prev.OwnerID != "" {
			holder, err := s.Store.GetUser(ctx, c.TenantID(), prev.OwnerID)
			if err == nil && holder.Practice() != c.User.Practice() {
				return access.NotFound("calendar")
			} else if err != nil && !isNotFoundErr(err) {
				return err
			}
		}
		next := prev
		if p.Name != nil {
			next.Name = *p.Name
		}
		var users []access.UserChange
		if p.OwnerID != nil && *p.OwnerID != prev.OwnerID {
			to, err := s.Store.GetUser(ctx, c.TenantID(), *p.OwnerID)
			if isNotFoundErr(err) || (err == nil && !c.CanReadUser(to.ID)) {
				return access.Invalid("ownerId", "no such user")
			}
			if err != nil {
				return err
			}
			if err := c.RequireChangeRightsOf(to); err != nil {
				return err
			}
			// Giving a calendar away gives edit on it: nobody hands out more than they have
			// on that calendar themselves (as with individual calendar access).
			if err := c.Require(access.Request{Op: access.OpAccess, Level: access.LevelEdit, Area: access.AreaCalendars, CalendarID: id}); err != nil {
				return &access.Error{Code: access.CodeForbidden, Field: "ownerId", Message: "you cannot give this calendar to anyone: you do not have edit on it yourself"}
			}
			if to.Status != access.StatusActive && to.Status != access.StatusDeactivated {
				return access.Conflict("a %s user cannot own a calendar", to.Status)
			}
			if len(to.CalendarIDs) >= 20 {
				return access.Conflict("a user has at most 20 own calendars")
			}
			nextTo := to
			nextTo.CalendarIDs = append(slices.Clone(to.CalendarIDs), id)
			nextTo.Version, nextTo.UpdatedAt = to.Version+1, s.Now()
			users = append(users, access.UserChange{Prev: to, Next: nextTo})
			if prev.OwnerID != "" {
				from, err := s.Store.GetUser(ctx, c.TenantID(), prev.OwnerID)
				if err == nil {
					if err := c.RequireChangeRightsOf(from); err != nil {
						return err
					}
					nextFrom := from
					nextFrom.CalendarIDs = slices.DeleteFunc(slices.Clone(from.CalendarIDs), func(x string) bool { return x == id })
					nextFrom.Version, nextFrom.UpdatedAt = from.Version+1, s.Now()
					users = append(users, access.UserChange{Prev: from, Next: nextFrom})
				} else if !isNotFoundErr(err) {
					return err
				}
			}
			next.OwnerID, next.Practice = to.ID, to.Practice()
		}
		if access.Unchanged(prev, next) {
			out = prev
			return nil
		}
		next.Version = max(prev.Version, 1) + 1
		before, after := calendarAudit(prev), calendarAudit(next)
		if prev.Name != next.Name {
			after["changedFields"] = []string{"name"}
		}
		meta := access.Meta{Audit: []access.AuditEntry{s.Audit(c, "calendar.update", "calendar", id, before, after)}}
		for _, u := range users {
			meta.Audit = append(meta.Audit, s.Audit(c, "user.calendars.set", "user", u.Next.ID, userAudit(u.Prev), userAudit(u.Next)))
		}
		if err := s.Store.UpdateCalendar(ctx, prev, next, users, meta); err != nil {
			return err
		}
		out = next
		return nil
	})
	if err != nil {
		return access.Calendar{}, err
	}
	return s.withBookable(ctx, c, out)
}

func (s *Service) withBookable(ctx context.Context, c *access.Caller, cal access.Calendar) (access.Calendar, error) {
	t, err := s.Store.GetTenant(ctx, c.TenantID())
	if err != nil {
		return access.Calendar{}, err
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
func (s *Service) initialCalendarAccess(ctx context.Context, c *access.Caller, in map[string]access.Level) (map[string]access.Level, error) {
	if len(in) == 0 {
		return nil, nil
	}
	if len(in) > 200 {
		return nil, access.Invalid("calendarAccess", "must have at most 200 calendars")
	}
	clean := map[string]access.Level{}
	for _, cal := range slices.Sorted(maps.Keys(in)) {
		lvl := in[cal]
		field := "calendarAccess." + cal
		if !access.PlausibleID(cal) {
			return nil, access.Invalid("calendarAccess", "names an invalid calendar id")
		}
		if lvl != access.LevelNone && lvl != access.LevelView && lvl != access.LevelEdit {
			return nil, access.Invalid(field, "must be none, view or edit")
		}
		if lvl != access.LevelNone {
			clean[cal] = lvl
		}
	}
	if err := s.requireCalendars(ctx, c.TenantID(), slices.Sorted(maps.Keys(in)), func(_ int, cal string) string { return "calendarAccess." + cal }); err != nil {
		return nil, err
	}
	for _, cal := range slices.Sorted(maps.Keys(clean)) {
		if !c.Decide(access.Request{Op: access.OpAccess, Level: clean[cal], Area: access.AreaCalendars, CalendarID: cal}).Allowed {
			return nil, &access.Error{Code: access.CodeForbidden, Field: "calendarAccess." + cal, Message: fmt.Sprintf("you cannot grant %s on this calendar: it is more than you have yourself", clean[cal])}
		}
	}
	if len(clean) == 0 {
		return nil, nil
	}
	return clean, nil
}

func isNotFoundErr(err error) bool { return access.ErrorCode(err) == access.CodeNotFound }
