package access

import (
	"context"
	"fmt"
	"maps"
	"slices"
)

// SettingsPatch changes some settings; nil fields stay as they are.
type SettingsPatch struct {
	NewClientAccess     *ClientPolicy
	AnonymiseAfterDays  *int
	BookableCalendarIDs *[]string
	HirerSeats          *HirerSeats
}

func tenantAudit(t Tenant) map[string]any {
	return map[string]any{
		"ownerId": t.OwnerID, "newClientAccess": t.Settings.NewClientAccess,
		"anonymiseAfterDays": t.Settings.AnonymiseAfterDays, "bookableCalendarIds": nonNil(t.Settings.BookableCalendarIDs),
		"activeApps": nonNil(t.Settings.ActiveApps), "version": t.Version, "hirerSeats": t.Settings.HirerSeats.Or(HirerSeatsBillable),
	}
}

// GetTenant reads the caller's tenant and its settings; every active user may read them.
func (s *Service) GetTenant(ctx context.Context, c *Caller) (Tenant, error) {
	return s.Store.GetTenant(ctx, c.TenantID())
}

// updateTenant runs an optimistic read-modify-write of the tenant.
func (s *Service) updateTenant(ctx context.Context, c *Caller, ifMatch *int, action string,
	mutate func(t *Tenant) ([]Group, error)) (Tenant, []Group, error) {
	var out Tenant
	var groups []Group
	err := retry(ifMatch, "settings", func() error {
		prev, err := s.Store.GetTenant(ctx, c.TenantID())
		if err != nil {
			return err
		}
		if err := checkIfMatch(ifMatch, prev.Version, "settings"); err != nil {
			return err
		}
		next := prev
		next.Settings.ActiveApps = slices.Clone(prev.Settings.ActiveApps)
		next.Settings.BookableCalendarIDs = slices.Clone(prev.Settings.BookableCalendarIDs)
		if groups, err = mutate(&next); err != nil {
			return err
		}
		if len(groups) == 0 && unchanged(prev, next) {
			out = prev // nothing to write: the version stays, no audit entry
			return nil
		}
		next.Version, next.UpdatedAt = prev.Version+1, s.Now()
		meta := Meta{Audit: []AuditEntry{s.audit(c, action, "tenant", prev.ID, tenantAudit(prev), tenantAudit(next))}}
		for _, g := range groups {
			meta.Audit = append(meta.Audit, s.audit(c, "group.create", "group", g.ID, nil, groupAudit(g)))
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
func (s *Service) UpdateSettings(ctx context.Context, c *Caller, p SettingsPatch, ifMatch *int) (Tenant, error) {
	if err := c.require(Request{Op: OpEditSettings}); err != nil {
		return Tenant{}, err
	}
	if p.NewClientAccess != nil && !p.NewClientAccess.Valid() {
		return Tenant{}, Invalid("newClientAccess", "must be none, view or edit")
	}
	if p.AnonymiseAfterDays != nil && (*p.AnonymiseAfterDays < 0 || *p.AnonymiseAfterDays > 3650) {
		return Tenant{}, Invalid("anonymiseAfterDays", "must be between 0 (never automatically) and 3650")
	}
	if p.HirerSeats != nil && !p.HirerSeats.Valid() {
		return Tenant{}, Invalid("hirerSeats", "must be billable or free")
	}
	if p.BookableCalendarIDs != nil {
		ids, err := validIDs("bookableCalendarIds", *p.BookableCalendarIDs, 500)
		if err != nil {
			return Tenant{}, err
		}
		if err := s.requireCalendars(ctx, c.TenantID(), ids, indexedField("bookableCalendarIds")); err != nil {
			return Tenant{}, err
		}
		p.BookableCalendarIDs = &ids
	}
	t, _, err := s.updateTenant(ctx, c, ifMatch, "settings.update", func(t *Tenant) ([]Group, error) {
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
func (s *Service) ActivateEmployees(ctx context.Context, c *Caller, templates []string) (Tenant, []Group, error) {
	if err := c.require(Request{Op: OpActivateApps}); err != nil {
		return Tenant{}, nil, err
	}
	if len(templates) > len(Templates) {
		return Tenant{}, nil, Invalid("templates", "has more entries than there are templates")
	}
	var chosen []Template
	for i, id := range templates {
		t, ok := TemplateByID(id)
		if !ok {
			return Tenant{}, nil, Invalid(fmt.Sprintf("templates[%d]", i), "must be one of administrator, secretary, therapist, bookkeeper")
		}
		if !slices.ContainsFunc(chosen, func(x Template) bool { return x.ID == t.ID }) {
			chosen = append(chosen, t)
		}
	}
	return s.updateTenant(ctx, c, nil, "app.employees.activate", func(t *Tenant) ([]Group, error) {
		if t.Settings.AppActive(AppEmployees) {
			return nil, Conflict("the Employees app is already active")
		}
		t.Settings.ActiveApps = append(t.Settings.ActiveApps, AppEmployees)
		groups := make([]Group, 0, len(chosen))
		for _, tpl := range chosen {
			perms, err := tpl.Permissions.Normalize("templates")
			if err != nil {
				return nil, err
			}
			groups = append(groups, Group{ID: s.NewID("g"), TenantID: t.ID, Name: tpl.Name, Description: tpl.Description,
				Permissions: perms, Template: tpl.ID, Version: 1, CreatedAt: s.Now(), UpdatedAt: s.Now()})
		}
		return groups, nil
	})
}

// OwnerTransfer names the new owner and, optionally, what the former owner keeps: by default
// the main_admin role (and their groups as they are), so that they keep administering the
// account they ran; Roles and GroupIDs, when given, replace their roles and groups instead.
type OwnerTransfer struct {
	UserID   string
	Roles    *[]Role
	GroupIDs *[]string
}

// TransferOwnership makes another active user the account owner; only the owner can. The former
// owner keeps administrative rights (OwnerTransfer).
func (s *Service) TransferOwnership(ctx context.Context, c *Caller, in OwnerTransfer) (Tenant, error) {
	if err := c.require(Request{Op: OpTransferOwnership}); err != nil {
		return Tenant{}, err
	}
	toID := in.UserID
	keepRoles := []Role{RoleMainAdmin}
	if in.Roles != nil {
		var err error
		if keepRoles, err = validRoles(*in.Roles); err != nil {
			return Tenant{}, err
		}
	}
	var keepGroups []string
	if in.GroupIDs != nil {
		groups, err := s.existingGroups(ctx, c.TenantID(), "groupIds", *in.GroupIDs)
		if err != nil {
			return Tenant{}, err
		}
		keepGroups = slices.Sorted(maps.Keys(groups))
	}
	if toID == "" {
		return Tenant{}, Invalid("userId", "is required")
	}
	if err := validID("userId", toID); err != nil {
		return Tenant{}, NotFound("user")
	}
	if toID == c.User.ID {
		return Tenant{}, Conflict("you already own the account")
	}
	var out Tenant
	err := retry(nil, "settings", func() error {
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
		if to.Status != StatusActive {
			return Conflict("ownership can only go to an active user")
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
		meta := Meta{Audit: []AuditEntry{s.audit(c, "tenant.ownership.transfer", "tenant", prevT.ID,
			map[string]any{"ownerId": from.ID},
			map[string]any{"ownerId": to.ID, "formerOwnerRoles": nonNil(nextFrom.Roles), "formerOwnerGroupIds": nonNil(nextFrom.GroupIDs)})}}
		if err := s.Store.TransferOwnership(ctx, prevT, nextT, [2]User{from, nextFrom}, [2]User{to, nextTo}, meta); err != nil {
			return err
		}
		out = nextT
		return nil
	})
	return out, err
}

// Seats is the billing view of a tenant.
type Seats struct {
	Billable     int
	Free         int
	ByProfession map[Profession]int
	// Seats lists each active person's seat and why (any billable profession bills it; hirers
	// follow the tenant's hirerSeats); Hirers counts the hirers among them.
	Seats  []Seat
	Hirers int
}

// BillingSeats counts active users by profession; deactivated, removed and anonymised users are
// never billed, receptionists and bookkeepers log in for free.
func (s *Service) BillingSeats(ctx context.Context, c *Caller) (Seats, error) {
	if err := c.require(Request{Op: OpReadSettings}); err != nil {
		return Seats{}, err
	}
	out := Seats{ByProfession: map[Profession]int{}, Seats: []Seat{}}
	for _, p := range Professions {
		out.ByProfession[p] = 0
	}
	t, err := s.Store.GetTenant(ctx, c.TenantID())
	if err != nil {
		return Seats{}, err
	}
	page := Page{Limit: MaxPageLimit}
	for {
		users, next, err := s.Store.ListUsers(ctx, c.TenantID(), UserFilter{Statuses: []Status{StatusActive}}, page)
		if err != nil {
			return Seats{}, err
		}
		for _, u := range users {
			seat := SeatOf(u, t.Settings)
			out.Seats = append(out.Seats, seat)
			for _, p := range seat.Professions {
				out.ByProfession[p]++
			}
			if u.Kind == KindHirer {
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
func (s *Service) ListAudit(ctx context.Context, c *Caller, p Page) ([]AuditEntry, string, error) {
	if err := c.require(Request{Op: OpReadAudit}); err != nil {
		return nil, "", err
	}
	p, err := p.Normalize()
	if err != nil {
		return nil, "", err
	}
	return s.Store.ListAudit(ctx, c.TenantID(), p)
}
