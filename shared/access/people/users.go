package people

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"

	"github.com/tilgang/tilgang/shared/access"
)

// CreateTenant opens an account with its owner. It is a system operation (the dev server's
// /dev/tenants, a sign-up flow), not something a caller of the API does.
func (s *Service) CreateTenant(ctx context.Context, in access.NewTenant) (access.Tenant, access.User, error) {
	name, err := access.Text("name", in.Name, 200, true)
	if err != nil {
		return access.Tenant{}, access.User{}, err
	}
	ownerName, err := access.Text("owner.name", in.OwnerName, 200, true)
	if err != nil {
		return access.Tenant{}, access.User{}, err
	}
	email, err := access.NormalizeEmail("owner.email", in.OwnerEmail)
	if err != nil {
		return access.Tenant{}, access.User{}, err
	}
	now := s.Now()
	t := access.Tenant{ID: s.NewID("t"), Name: name, CreatedAt: now, UpdatedAt: now, Version: 1,
		Settings: access.Settings{NewClientAccess: access.PolicyNone, AnonymiseAfterDays: 90}}
	owner := access.User{ID: s.NewID("u"), TenantID: t.ID, Name: ownerName, Email: email,
		Profession: access.ProfessionPractitioner, Status: access.StatusActive, IsOwner: true,
		CalendarIDs: []string{s.NewID("cal")}, Version: 1, CreatedAt: now, UpdatedAt: now}
	t.OwnerID = owner.ID
	a := s.Audit(nil, "tenant.create", "tenant", t.ID, nil, map[string]any{"ownerId": owner.ID})
	a.TenantID, a.ActorID = t.ID, "system"
	// The owner's invitation is owed in the same transaction; if it fails the tenant is rolled
	// back (see openTenant), here or by the sweep should this process end first.
	open := s.outboxEntry(t.ID, owner.ID, access.EffectOpen)
	if err := s.Store.CreateTenant(ctx, t, owner, access.Meta{Audit: []access.AuditEntry{a}, Outbox: []access.OutboxEntry{open}}); err != nil {
		return access.Tenant{}, access.User{}, err
	}
	if err := s.applyAny(ctx, open); err != nil {
		return access.Tenant{}, access.User{}, fmt.Errorf("open tenant: %w", err)
	}
	return t, owner, nil
}

// UserByEmail finds a user by email in any tenant (sign-in and the dev server's tokens).
func (s *Service) UserByEmail(ctx context.Context, email string) (access.User, error) {
	e, err := access.NormalizeEmail("email", email)
	if err != nil {
		return access.User{}, err
	}
	return s.Store.UserByEmail(ctx, e)
}

// userAudit is the audit view of a user: no name, email, phone or picture, ever.
func userAudit(u access.User) map[string]any {
	m := map[string]any{
		"status": u.Status, "profession": u.Profession, "groupIds": access.NonNil(u.GroupIDs),
		"roles": access.NonNil(u.Roles), "calendarIds": access.NonNil(u.CalendarIDs), "isOwner": u.IsOwner,
		"version": u.Version,
	}
	if len(u.CalendarAccess) > 0 {
		m["calendarAccess"] = maps.Clone(u.CalendarAccess)
	}
	if u.Legacy != nil {
		m["legacyRights"] = true
	}
	if e := access.GroupExpiryAudit(u); e != nil {
		m["groupExpiresAt"] = e
	}
	if len(u.Professions) > 1 {
		m["professions"] = u.Professions
	}
	if u.Kind != "" {
		m["kind"] = u.Kind
	}
	return m
}

// personalChanges names the personal fields that differ, for the audit log.
func personalChanges(a, b access.User) []string {
	var out []string
	if a.Name != b.Name {
		out = append(out, "name")
	}
	if a.Email != b.Email {
		out = append(out, "email")
	}
	if a.Phone != b.Phone {
		out = append(out, "phone")
	}
	if a.PictureURL != b.PictureURL {
		out = append(out, "pictureUrl")
	}
	return out
}

func validPhone(field, s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	if len(s) > 32 || strings.ContainsFunc(s, func(r rune) bool {
		return !(r >= '0' && r <= '9') && !strings.ContainsRune("+ -()", r)
	}) {
		return "", access.Invalid(field, "must be a phone number of digits, spaces, +, -, ( and ), at most 32 characters")
	}
	return s, nil
}

func validURL(field, s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(s) > 2048 {
		return "", access.Invalid(field, "must be an http(s) URL of at most 2048 characters")
	}
	return s, nil
}

// existingGroups checks that every id names a group of the tenant.
func (s *Service) existingGroups(ctx context.Context, tenantID, field string, ids []string) (map[string]access.Group, error) {
	ids, err := access.ValidIDs(field, ids, 50)
	if err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return map[string]access.Group{}, nil
	}
	groups, err := s.Store.GetGroups(ctx, tenantID, ids)
	if err != nil {
		return nil, err
	}
	for i, id := range ids {
		if _, ok := groups[id]; !ok {
			return nil, access.Invalid(fmt.Sprintf("%s[%d]", field, i), "no such group")
		}
	}
	return groups, nil
}

func validRoles(roles []access.Role) ([]access.Role, error) {
	if len(roles) > len(access.Roles) {
		return nil, access.Invalid("roles", "has too many entries")
	}
	out := []access.Role{}
	for i, r := range roles {
		if !r.Valid() {
			return nil, access.Invalid(fmt.Sprintf("roles[%d]", i), "must be one of main_admin, admin, team_lead, assistant, consultant")
		}
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out, nil
}

// CreateUser creates an employee. The Employees app must be active. With an Idempotency-Key a
// retry returns the user the first request created, and writes nothing.
func (s *Service) CreateUser(ctx context.Context, c *access.Caller, in access.NewUser, idem *access.Idempotency) (access.User, error) {
	if err := c.RequireManageUsers(); err != nil {
		return access.User{}, err
	}
	if idem != nil {
		if u, done, err := s.replayUser(ctx, c, idem); done {
			return u, err
		}
	}
	t, err := s.Store.GetTenant(ctx, c.TenantID())
	if err != nil {
		return access.User{}, err
	}
	if !in.Kind.Valid() {
		return access.User{}, access.Invalid("kind", "must be employee or hirer")
	}
	if app, msg := access.AppForKind(in.Kind); !t.Settings.AppActive(app) {
		return access.User{}, &access.Error{Code: access.CodeNotActivated, Message: msg}
	}
	u, err := s.buildUser(ctx, c, in)
	if err != nil {
		return access.User{}, err
	}
	link, err := s.firstLink(ctx, c, u, in.Link)
	if err != nil {
		return access.User{}, err
	}
	meta := access.Meta{Audit: []access.AuditEntry{s.Audit(c, "user.create", "user", u.ID, nil, userAudit(u))}}
	meta.Idempotency = idem.Record(c.TenantID(), u.ID, s.Now())
	// The invitation is owed in the same transaction and sent after it (see outbox.go).
	meta.Outbox = []access.OutboxEntry{s.outboxEntry(u.TenantID, u.ID, access.EffectInvite)}
	if err := s.createUser(ctx, c, u, link, meta); err != nil {
		if idem != nil && errors.Is(err, access.ErrConflict) {
			// A concurrent retry with the same key may have won.
			if u2, done, err2 := s.replayUser(ctx, c, idem); done {
				return u2, err2
			}
		}
		return access.User{}, err
	}
	s.applyOutbox(ctx, meta.Outbox)
	return u, nil
}

// replayUser answers a retried create: done is true when the key was used before.
func (s *Service) replayUser(ctx context.Context, c *access.Caller, idem *access.Idempotency) (access.User, bool, error) {
	return access.Replay(ctx, s.Store, c, idem, func(id string) (access.User, error) { return s.Store.GetUser(ctx, c.TenantID(), id) })
}

func (s *Service) buildUser(ctx context.Context, c *access.Caller, in access.NewUser) (access.User, error) {
	var err error
	u := access.User{ID: s.NewID("u"), TenantID: c.TenantID(), Status: access.StatusActive, Version: 1}
	if u.Name, err = access.Text("name", in.Name, 200, true); err != nil {
		return access.User{}, err
	}
	if u.Email, err = access.NormalizeEmail("email", in.Email); err != nil {
		return access.User{}, err
	}
	if u.Phone, err = validPhone("phone", in.Phone); err != nil {
		return access.User{}, err
	}
	if u.PictureURL, err = validURL("pictureUrl", in.PictureURL); err != nil {
		return access.User{}, err
	}
	if u.Professions, err = access.ValidProfessions(in.Profession, in.Professions, true); err != nil {
		return access.User{}, err
	}
	u.Profession = u.Professions[0]
	if in.Kind == access.KindHirer {
		u.Kind = access.KindHirer
	}
	if u.Roles, err = validRoles(in.Roles); err != nil {
		return access.User{}, err
	}
	if err := c.RequireRoles(nil, u.Roles); err != nil {
		return access.User{}, err
	}
	groups, err := s.existingGroups(ctx, c.TenantID(), "groupIds", in.GroupIDs)
	if err != nil {
		return access.User{}, err
	}
	if err := c.RequireGroupsWithinOwnRights("groupIds", groups); err != nil {
		return access.User{}, err
	}
	u.GroupIDs = slices.Sorted(maps.Keys(groups))
	if u.CalendarIDs, err = access.ValidIDs("calendarIds", in.CalendarIDs, 20); err != nil {
		return access.User{}, err
	}
	if len(u.CalendarIDs) == 0 {
		u.CalendarIDs = []string{s.NewID("cal")}
	}
	if u.CalendarAccess, err = s.initialCalendarAccess(ctx, c, in.CalendarAccess); err != nil {
		return access.User{}, err
	}
	if in.LegacyPermissions != nil {
		// Legacy rights arrive with a migration, on the owner's authority only.
		if err := c.Require(access.Request{Op: access.OpMigrateLegacy}); err != nil {
			return access.User{}, err
		}
		perms, err := in.LegacyPermissions.Normalize("legacyPermissions")
		if err != nil {
			return access.User{}, err
		}
		u.Legacy = &access.LegacyRights{Permissions: perms, GroupRights: access.RightsFingerprints(groups)}
	}
	u.CreatedAt, u.UpdatedAt = s.Now(), s.Now()
	return u, nil
}

// GetUser reads one user.
func (s *Service) GetUser(ctx context.Context, c *access.Caller, id string) (access.User, error) {
	if !c.CanReadUser(id) {
		return access.User{}, access.NotFound("user")
	}
	return s.Store.GetUser(ctx, c.TenantID(), id)
}

// ListUsers pages through users.
func (s *Service) ListUsers(ctx context.Context, c *access.Caller, f access.UserFilter, p access.Page) ([]access.User, string, error) {
	if err := c.Require(access.Request{Op: access.OpListUsers}); err != nil {
		return nil, "", err
	}
	p, err := p.Normalize()
	if err != nil {
		return nil, "", err
	}
	for _, st := range f.Statuses {
		if !st.Valid() {
			return nil, "", access.Invalid("status", "must be active, deactivated, removed or anonymised")
		}
	}
	if f.Text, err = access.Text("q", f.Text, 100, false); err != nil {
		return nil, "", err
	}
	f.Text = strings.ToLower(f.Text)
	if f.GroupID != "" {
		if _, err := access.ValidIDs("groupId", []string{f.GroupID}, 1); err != nil {
			return nil, "", err
		}
	}
	return s.Store.ListUsers(ctx, c.TenantID(), f, p)
}

// updateUser runs an optimistic read-modify-write of one user with its audit entry.
// mutate may refuse (returning an error) after seeing the current state.
func (s *Service) updateUser(ctx context.Context, c *access.Caller, id string, ifMatch *int, action string,
	mutate func(u *access.User) error, after func(prev, next access.User) error) (access.User, error) {
	var out access.User
	var effects []access.OutboxEntry
	err := access.Retry(ifMatch, "user", func() error {
		effects = nil
		prev, err := s.Store.GetUser(ctx, c.TenantID(), id)
		if err != nil {
			return err
		}
		if err := access.CheckIfMatch(ifMatch, prev.Version, "user"); err != nil {
			return err
		}
		next := prev
		next.GroupIDs = slices.Clone(prev.GroupIDs)
		next.Roles = slices.Clone(prev.Roles)
		next.CalendarIDs = slices.Clone(prev.CalendarIDs)
		next.CalendarAccess = maps.Clone(prev.CalendarAccess)
		if err := mutate(&next); err != nil {
			return err
		}
		if access.Unchanged(prev, next) {
			out = prev // nothing to write: the version stays, no audit entry
			return nil
		}
		next.Version, next.UpdatedAt = prev.Version+1, s.Now()
		before, aft := userAudit(prev), userAudit(next)
		if changed := personalChanges(prev, next); len(changed) > 0 {
			aft["changedPersonalFields"] = changed
		}
		entry := s.Audit(c, action, "user", id, before, aft)
		effects = s.loginEffects(prev, next)
		if err := s.Store.UpdateUser(ctx, prev, next, access.Meta{Audit: []access.AuditEntry{entry}, Outbox: effects}); err != nil {
			return err
		}
		out = next
		if after != nil {
			return after(prev, next)
		}
		return nil
	})
	if err == nil {
		// After the commit, never inside the retry loop: what the login owes (outbox.go).
		s.applyOutbox(ctx, effects)
	}
	return out, err
}

// UpdateUser changes a user's profile. Users may edit their own name, email, phone and picture.
func (s *Service) UpdateUser(ctx context.Context, c *access.Caller, id string, p access.UserPatch, ifMatch *int) (access.User, error) {
	// Validate before reading so bad input never costs a write.
	var err error
	if p.Name != nil {
		if *p.Name, err = access.Text("name", *p.Name, 200, true); err != nil {
			return access.User{}, err
		}
	}
	if p.Email != nil {
		if *p.Email, err = access.NormalizeEmail("email", *p.Email); err != nil {
			return access.User{}, err
		}
	}
	if p.Phone != nil {
		if *p.Phone, err = validPhone("phone", *p.Phone); err != nil {
			return access.User{}, err
		}
	}
	if p.PictureURL != nil {
		if *p.PictureURL, err = validURL("pictureUrl", *p.PictureURL); err != nil {
			return access.User{}, err
		}
	}
	if p.Profession != nil && !p.Profession.Valid() {
		return access.User{}, access.Invalid("profession", "must be one of %v", access.Professions)
	}
	var professions []access.Profession
	if p.Professions != nil {
		var single access.Profession
		if p.Profession != nil {
			single = *p.Profession
		}
		if professions, err = access.ValidProfessions(single, *p.Professions, true); err != nil {
			return access.User{}, err
		}
	}
	if p.CalendarIDs != nil {
		ids, err := access.ValidIDs("calendarIds", *p.CalendarIDs, 20)
		if err != nil {
			return access.User{}, err
		}
		if err := s.requireCalendars(ctx, c.TenantID(), ids, indexedField("calendarIds")); err != nil {
			return access.User{}, err
		}
		p.CalendarIDs = &ids
	}
	// A new email reaches the login after the write, through the outbox (updateUser).
	return s.updateUser(ctx, c, id, ifMatch, "user.update", func(u *access.User) error {
		if u.Status == access.StatusAnonymised || u.Status == access.StatusRemoved {
			return access.Conflict("a %s user cannot be edited", u.Status)
		}
		switch {
		case u.ID == c.User.ID && c.User.IsOwner:
			// The owner has every right already; their own profile is theirs to keep.
		case p.Profession != nil || p.Professions != nil || p.CalendarIDs != nil:
			// Profession decides billing and own calendars are rights: never one's own.
			if err := c.RequireChangeRightsOf(*u); err != nil {
				return err
			}
		case u.ID != c.User.ID:
			if err := c.RequireChangeUser(*u); err != nil {
				return err
			}
		}
		if p.Name != nil {
			u.Name = *p.Name
		}
		if p.Email != nil {
			u.Email = *p.Email
		}
		if p.Phone != nil {
			u.Phone = *p.Phone
		}
		if p.PictureURL != nil {
			u.PictureURL = *p.PictureURL
		}
		if p.Profession != nil && professions == nil {
			u.Profession = *p.Profession
			u.Professions = access.ReplaceFirst(u.AllProfessions(), u.Profession)
		}
		if professions != nil {
			u.Profession, u.Professions = professions[0], professions
		}
		if p.CalendarIDs != nil {
			u.CalendarIDs = *p.CalendarIDs
		}
		return nil
	}, nil)
}

// SetRoles replaces a user's system roles.
func (s *Service) SetRoles(ctx context.Context, c *access.Caller, id string, roles []access.Role, ifMatch *int) (access.User, error) {
	if roles == nil {
		return access.User{}, access.Invalid("roles", "is required (an empty list removes every role)")
	}
	roles, err := validRoles(roles)
	if err != nil {
		return access.User{}, err
	}
	return s.updateUser(ctx, c, id, ifMatch, "user.roles.set", func(u *access.User) error {
		if err := c.RequireChangeRightsOf(*u); err != nil {
			return err
		}
		if err := c.RequireRoles(u.Roles, roles); err != nil {
			return err
		}
		if err := s.requireNoLiveLinksWithout(ctx, *u, roles); err != nil {
			return err
		}
		if u.Status == access.StatusAnonymised {
			return access.Conflict("an anonymised user has no roles")
		}
		u.Roles = roles
		return nil
	}, nil)
}

// SetCalendarAccess replaces a user's individual calendar access.
func (s *Service) SetCalendarAccess(ctx context.Context, c *access.Caller, id string, levels map[string]access.Level, ifMatch *int) (access.User, error) {
	if levels == nil {
		return access.User{}, access.Invalid("body", "must be an object of calendar id to none, view or edit")
	}
	if len(levels) > 200 {
		return access.User{}, access.Invalid("body", "must have at most 200 calendars")
	}
	clean := map[string]access.Level{}
	for cal, lvl := range levels {
		if _, err := access.ValidIDs("calendarId", []string{cal}, 1); err != nil {
			return access.User{}, access.Invalid(cal, "is not a valid calendar id")
		}
		if lvl != access.LevelNone && lvl != access.LevelView && lvl != access.LevelEdit {
			return access.User{}, access.Invalid(cal, "must be none, view or edit")
		}
		if lvl != access.LevelNone {
			clean[cal] = lvl
		}
	}
	if err := s.requireCalendars(ctx, c.TenantID(), slices.Sorted(maps.Keys(levels)), func(_ int, cal string) string { return cal }); err != nil {
		return access.User{}, err
	}
	return s.updateUser(ctx, c, id, ifMatch, "user.calendar_access.set", func(u *access.User) error {
		if err := c.RequireChangeRightsOf(*u); err != nil {
			return err
		}
		// Nobody hands out more than they have: each calendar's level, where it is new or
		// raised, must be one the caller has on that calendar themselves.
		for _, cal := range slices.Sorted(maps.Keys(clean)) {
			if prev, ok := u.CalendarAccess[cal]; ok && prev.AtLeast(clean[cal]) {
				continue
			}
			if !c.Decide(access.Request{Op: access.OpAccess, Level: clean[cal], Area: access.AreaCalendars, CalendarID: cal}).Allowed {
				return &access.Error{Code: access.CodeForbidden, Field: cal, Message: fmt.Sprintf("you cannot grant %s on this calendar: it is more than you have yourself", clean[cal])}
			}
		}
		u.CalendarAccess = clean
		return nil
	}, nil)
}

// Deactivate stops a user from signing in: their tokens are refused from the next request, no
// data is lost and they are not billed. The login is disabled after the write, through the
// outbox, which retries it until the provider has it.
func (s *Service) Deactivate(ctx context.Context, c *access.Caller, id string, ifMatch *int) (access.User, error) {
	return s.setStatus(ctx, c, id, ifMatch, access.StatusDeactivated)
}

// Activate lets a deactivated user sign in again.
func (s *Service) Activate(ctx context.Context, c *access.Caller, id string, ifMatch *int) (access.User, error) {
	return s.setStatus(ctx, c, id, ifMatch, access.StatusActive)
}

func (s *Service) setStatus(ctx context.Context, c *access.Caller, id string, ifMatch *int, to access.Status) (access.User, error) {
	action := map[access.Status]string{access.StatusActive: "user.activate", access.StatusDeactivated: "user.deactivate"}[to]
	// The status takes effect at once (every request loads its principal); the login follows
	// after the write, through the outbox (updateUser).
	return s.updateUser(ctx, c, id, ifMatch, action, func(u *access.User) error {
		if err := c.RequireChangeUser(*u); err != nil {
			return err
		}
		if u.ID == c.User.ID {
			return access.Conflict("you cannot change your own status")
		}
		if u.IsOwner {
			return access.Conflict("the account owner cannot be deactivated; transfer ownership first")
		}
		switch {
		case u.Status == to:
			return nil
		case u.Status != access.StatusActive && u.Status != access.StatusDeactivated:
			return access.Conflict("a %s user cannot be %s", u.Status, map[access.Status]string{access.StatusActive: "activated", access.StatusDeactivated: "deactivated"}[to])
		}
		u.Status = to
		return nil
	}, nil)
}

// DeleteUser deletes an employee: the person and their login go, their calendars stay, their
// client assignments and client roles go too. The login's deletion is owed in the write's own
// transaction and done after it (see outbox.go); until it is, the login cannot be used: every
// request loads its principal, and there is none.
func (s *Service) DeleteUser(ctx context.Context, c *access.Caller, id string, ifMatch *int) error {
	var owed []access.OutboxEntry
	err := access.Retry(ifMatch, "user", func() error {
		u, err := s.Store.GetUser(ctx, c.TenantID(), id)
		if err != nil {
			return err
		}
		if err := access.CheckIfMatch(ifMatch, u.Version, "user"); err != nil {
			return err
		}
		if err := c.Require(access.Request{Op: access.OpDeleteUser, Target: &u}); err != nil {
			return err
		}
		if err := s.requireNoLinks(ctx, u); err != nil {
			return err
		}
		entry := s.Audit(c, "user.delete", "user", id, userAudit(u), nil)
		meta := access.Meta{Audit: []access.AuditEntry{entry}}
		// The client stays; the user's assignments to it go with the user.
		assigned, err := s.assignedClientIDs(ctx, c.TenantID(), id)
		if err != nil {
			return err
		}
		if len(assigned) > 0 {
			meta.Audit = append(meta.Audit, s.Audit(c, "client.access.delete_all_of_user", "user", id,
				map[string]any{"clientIds": assigned}, nil))
		}
		roles, err := s.Store.ClientRolesOf(ctx, c.TenantID(), id)
		if err != nil {
			return err
		}
		if !roles.Empty() {
			meta.Audit = append(meta.Audit, s.Audit(c, "client.roles.delete_all_of_user", "user", id, roles.Audit(), nil))
		}
		meta.Outbox = []access.OutboxEntry{s.outboxEntry(u.TenantID, u.ID, access.EffectDelete)}
		if err := s.Store.DeleteUser(ctx, u, meta); err != nil {
			return err
		}
		owed = meta.Outbox
		return nil
	})
	if err != nil {
		return err
	}
	s.applyOutbox(ctx, owed)
	return nil
}

// assignedClientIDs lists the clients a user is assigned (for the audit of a user's deletion).
func (s *Service) assignedClientIDs(ctx context.Context, tenantID, userID string) ([]string, error) {
	var ids []string
	after := ""
	for {
		asgs, more, err := s.Store.UserAssignmentsAfter(ctx, tenantID, userID, after, access.MaxPageLimit)
		if err != nil {
			return nil, err
		}
		for _, a := range asgs {
			ids = append(ids, a.ClientID)
		}
		if !more || len(asgs) == 0 {
			return ids, nil
		}
		after = asgs[len(asgs)-1].ClientID
	}
}
