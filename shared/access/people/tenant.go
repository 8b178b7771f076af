package people

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/tilgang/tilgang/shared/access"
)

func tenantAudit(t access.Tenant) map[string]any {
	return map[string]any{
		"ownerId": t.OwnerID, "newClientAccess": t.Settings.NewClientAccess,
		"anonymiseAfterDays": t.Settings.AnonymiseAfterDays, "bookableCalendarIds": access.NonNil(t.Settings.BookableCalendarIDs),
		"activeApps": access.NonNil(t.Settings.ActiveApps), "version": t.Version, "hirerSeats": t.Settings.HirerSeats.Or(access.HirerSeatsBillable),
	}
}

// GetTenant reads the caller's tenant and its settings; every active user may read them.
func (s *Service) GetTenant(ctx context.Context, c *access.Caller) (access.Tenant, error) {
	return s.Store.GetTenant(ctx, c.TenantID())
}

// updateTenant runs an optimistic read-modify-write of the tenant.
func (s *Service) updateTenant(ctx context.Context, c *access.Caller, ifMatch *int, action string,
	mutate func(t *access.Tenant) ([]access.Group, error)) (access.Tenant, []access.Group, error) {
	var out access.Tenant
	var groups []access.Group
	err := access.Retry(ifMatch, "settings", func() error {
		prev, err := s.Store.GetTenant(ctx, c.TenantID())
		if err != nil {
			return err
		}
		if err := access.CheckIfMatch(ifMatch, prev.Version, "settings"); err != nil {
			return err
		}
		next := prev
		next.Settings.ActiveApps = slices.Clone(prev.Settings.ActiveApps)
		next.Settings.BookableCalendarIDs = slices.Clone(prev.Settings.BookableCalendarIDs)
		if groups, err = mutate(&next); err != nil {
			return err
		}
		if len(groups) == 0 && access.Unchanged(prev, next) {
			out = prev // nothing to write: the version stays, no audit entry
			return nil
		}
		next.Version, next.UpdatedAt = prev.Version+1, s.Now()
		meta := access.Meta{Audit: []access.AuditEntry{s.Audit(c, action, "tenant", prev.ID, tenantAudit(prev), tenantAudit(next))}}
		for _, g := range groups {
			meta.Audit = append(meta.Audit, s.Audit(c, "group.create", "group", g.ID, nil, groupAudit(g)))
		}
		if err := s.Store.UpdateTenant(ctx, prev, next, groups, meta); err != nil {
			return err
		}
		out = next
		return nil
	})
	return out, groups, err
}

// UpdateSettings changes settings; it needs edit on settings.
func (s *Service) UpdateSettings(ctx context.Context, c *access.Caller, p access.SettingsPatch, ifMatch *int) (access.Tenant, error) {
	if err := c.Require(access.Request{Op: access.OpEditSettings}); err != nil {
		return access.Tenant{}, err
	}
	if p.NewClientAccess != nil && !p.NewClientAccess.Valid() {
		return access.Tenant{}, access.Invalid("newClientAccess", "must be none, view or edit")
	}
	if p.AnonymiseAfterDays != nil && (*p.AnonymiseAfterDays < 0 || *p.AnonymiseAfterDays > 3650) {
		return access.Tenant{}, access.Invalid("anonymiseAfterDays", "must be between 0 (never automatically) and 3650")
	}
	if p.HirerSeats != nil && !p.HirerSeats.Valid() {
		return access.Tenant{}, access.Invalid("hirerSeats", "must be billable or free")
	}
	if p.BookableCalendarIDs != nil {
		ids, err := access.ValidIDs("bookableCalendarIds", *p.BookableCalendarIDs, 500)
		if err != nil {
			return access.Tenant{}, err
		}
		if err := s.requireCalendars(ctx, c.TenantID(), ids, indexedField("bookableCalendarIds")); err != nil {
			return access.Tenant{}, err
		}
		p.BookableCalendarIDs = &ids
	}
	t, _, err := s.updateTenant(ctx, c, ifMatch, "settings.update", func(t *access.Tenant) ([]access.Group, error) {
		if p.NewClientAccess != nil {
			t.Settings.NewClientAccess = *p.NewClientAccess
		}
		if p.AnonymiseAfterDays != nil {
			t.Settings.AnonymiseAfterDays = *p.AnonymiseAfterDays
		}
		if p.BookableCalendarIDs != nil {
			t.Settings.BookableCalendarIDs = *p.BookableCalendarIDs
		}
		if p.HirerSeats != nil {
			t.Settings.HirerSeats = *p.HirerSeats
		}
		return nil, nil
	})
	return t, err
}

// ActivateEmployees activates the Employees app and creates the chosen predefined groups.
func (s *Service) ActivateEmployees(ctx context.Context, c *access.Caller, templates []string) (access.Tenant, []access.Group, error) {
	if err := c.Require(access.Request{Op: access.OpActivateApps}); err != nil {
		return access.Tenant{}, nil, err
	}
	if len(templates) > len(access.Templates) {
		return access.Tenant{}, nil, access.Invalid("templates", "has more entries than there are templates")
	}
	var chosen []access.Template
	for i, id := range templates {
		t, ok := access.TemplateByID(id)
		if !ok {
			return access.Tenant{}, nil, access.Invalid(fmt.Sprintf("templates[%d]", i), "must be one of administrator, secretary, therapist, bookkeeper")
		}
		if !slices.ContainsFunc(chosen, func(x access.Template) bool { return x.ID == t.ID }) {
			chosen = append(chosen, t)
		}
	}
	return s.updateTenant(ctx, c, nil, "app.employees.activate", func(t *access.Tenant) ([]access.Group, error) {
		if t.Settings.AppActive(access.AppEmployees) {
			return nil, access.Conflict("the Employees app is already active")
		}
		t.Settings.ActiveApps = append(t.Settings.ActiveApps, access.AppEmployees)
		groups := make([]access.Group, 0, len(chosen))
		for _, tpl := range chosen {
			perms, err := tpl.Permissions.Normalize("templates")
			if err != nil {
				return nil, err
			}
			groups = append(groups, access.Group{ID: s.NewID("g"), TenantID: t.ID, Name: tpl.Name, Description: tpl.Description,
				Permissions: perms, Template: tpl.ID, Version: 1, CreatedAt: s.Now(), UpdatedAt: s.Now()})
		}
		return groups, nil
	})
}

// TransferOwnership makes another active user the account owner; only the owner can. The former
// owner keeps administrative rights (OwnerTransfer).
func (s *Service) TransferOwnership(ctx context.Context, c *access.Caller, in access.OwnerTransfer) (access.Tenant, error) {
	if err := c.Require(access.Request{Op: access.OpTransferOwnership}); err != nil {
		return access.Tenant{}, err
	}
	toID := in.UserID
	keepRoles := []access.Role{access.RoleMainAdmin}
	if in.Roles != nil {
		var err error
		if keepRoles, err = validRoles(*in.Roles); err != nil {
			return access.Tenant{}, err
		}
	}
	var keepGroups []string
	if in.GroupIDs != nil {
		groups, err := s.existingGroups(ctx, c.TenantID(), "groupIds", *in.GroupIDs)
		if err != nil {
			return access.Tenant{}, err
		}
		keepGroups = slices.Sorted(maps.Keys(groups))
	}
	if toID == "" {
		return access.Tenant{}, access.Invalid("userId", "is required")
	}
	if err := access.ValidID("userId", toID); err != nil {
		return access.Tenant{}, access.NotFound("user")
	}
	if toID == c.User.ID {
		return access.Tenant{}, access.Conflict("you already own the account")
	}
	var out access.Tenant
	err := access.Retry(nil, "settings", func() error {
		prevT, err := s.Store.GetTenant(ctx, c.TenantID())
		if err != nil {
			return err
		}
		from, err := s.Store.GetUser(ctx, c.TenantID(), c.User.ID)
		if err != nil {
			return err
		}
		to, err := s.Store.GetUser(ctx, c.TenantID(), toID)
		if err != nil {
			return err
		}
		if to.Status != access.StatusActive {
			return access.Conflict("ownership can only go to an active user")
		}
		if to.Kind == access.KindHirer {
			// The owner opens every client of the clinic; a hirer rents a room and reaches only
			// their own practice's clients. Made owner, they would reach the clinic's too.
			return access.Conflict("ownership cannot go to a hirer: the owner opens every client of the clinic")
		}
		nextT := prevT
		nextT.OwnerID, nextT.Version, nextT.UpdatedAt = to.ID, prevT.Version+1, s.Now()
		nextFrom, nextTo := from, to
		nextFrom.IsOwner, nextFrom.Version, nextFrom.UpdatedAt = false, from.Version+1, s.Now()
		nextFrom.Roles = keepRoles
		if in.GroupIDs != nil {
			nextFrom.GroupIDs, nextFrom.Legacy = keepGroups, nil
		}
		nextTo.IsOwner, nextTo.Version, nextTo.UpdatedAt = true, to.Version+1, s.Now()
		meta := access.Meta{Audit: []access.AuditEntry{s.Audit(c, "tenant.ownership.transfer", "tenant", prevT.ID,
			map[string]any{"ownerId": from.ID},
			map[string]any{"ownerId": to.ID, "formerOwnerRoles": access.NonNil(nextFrom.Roles), "formerOwnerGroupIds": access.NonNil(nextFrom.GroupIDs)})}}
		if err := s.Store.TransferOwnership(ctx, prevT, nextT, [2]access.User{from, nextFrom}, [2]access.User{to, nextTo}, meta); err != nil {
			return err
		}
		out = nextT
		return nil
	})
	return out, err
}

// BillingSeats counts active users by profession; deactivated, removed and anonymised users are
// never billed, receptionists and bookkeepers log in for free.
func (s *Service) BillingSeats(ctx context.Context, c *access.Caller) (access.Seats, error) {
	if err := c.Require(access.Request{Op: access.OpReadSettings}); err != nil {
		return access.Seats{}, err
	}
	out := access.Seats{ByProfession: map[access.Profession]int{}, Seats: []access.Seat{}}
	for _, p := range access.Professions {
		out.ByProfession[p] = 0
	}
	t, err := s.Store.GetTenant(ctx, c.TenantID())
	if err != nil {
		return access.Seats{}, err
	}
	page := access.Page{Limit: access.MaxPageLimit}
	for {
		users, next, err := s.Store.ListUsers(ctx, c.TenantID(), access.UserFilter{Statuses: []access.Status{access.StatusActive}}, page)
		if err != nil {
			return access.Seats{}, err
		}
		for _, u := range users {
			seat := access.SeatOf(u, t.Settings)
			out.Seats = append(out.Seats, seat)
			for _, p := range seat.Professions {
				out.ByProfession[p]++
			}
			if u.Kind == access.KindHirer {
				out.Hirers++
			}
			if seat.Billable {
				out.Billable++
			} else {
				out.Free++
			}
		}
		if next == "" {
			return out, nil
		}
		page.Cursor = next
	}
}

// ListAudit pages the audit log, newest first; only the account owner reads it.
func (s *Service) ListAudit(ctx context.Context, c *access.Caller, p access.Page) ([]access.AuditEntry, string, error) {
	if err := c.Require(access.Request{Op: access.OpReadAudit}); err != nil {
		return nil, "", err
	}
	p, err := p.Normalize()
	if err != nil {
		return nil, "", err
	}
	return s.Store.ListAudit(ctx, c.TenantID(), p)
}
