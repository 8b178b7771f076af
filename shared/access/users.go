package access

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"
)

// NewTenant is what it takes to open an account.
type NewTenant struct {
	Name       string
	OwnerName  string
	OwnerEmail string
}

// CreateTenant opens an account with its owner. It is a system operation (the dev server's
// /dev/tenants, a sign-up flow), not something a caller of the API does.
func (s *Service) CreateTenant(ctx context.Context, in NewTenant) (Tenant, User, error) {
	name, err := text("name", in.Name, 200, true)
	if err != nil {
		return Tenant{}, User{}, err
	}
	ownerName, err := text("owner.name", in.OwnerName, 200, true)
	if err != nil {
		return Tenant{}, User{}, err
	}
	email, err := NormalizeEmail("owner.email", in.OwnerEmail)
	if err != nil {
		return Tenant{}, User{}, err
	}
	now := s.Now()
	t := Tenant{ID: s.NewID("t"), Name: name, CreatedAt: now, UpdatedAt: now, Version: 1,
		Settings: Settings{NewClientAccess: PolicyNone, AnonymiseAfterDays: 90}}
	owner := User{ID: s.NewID("u"), TenantID: t.ID, Name: ownerName, Email: email,
		Profession: ProfessionPractitioner, Status: StatusActive, IsOwner: true,
		CalendarIDs: []string{s.NewID("cal")}, Version: 1, CreatedAt: now, UpdatedAt: now}
	t.OwnerID = owner.ID
	a := s.audit(nil, "tenant.create", "tenant", t.ID, nil, map[string]any{"ownerId": owner.ID})
	a.TenantID, a.ActorID = t.ID, "system"
	// The owner's invitation is owed in the same transaction; if it fails the tenant is rolled
	// back (see openTenant), here or by the sweep should this process end first.
	open := s.outboxEntry(t.ID, owner.ID, EffectOpen)
	if err := s.Store.CreateTenant(ctx, t, owner, Meta{Audit: []AuditEntry{a}, Outbox: []OutboxEntry{open}}); err != nil {
		return Tenant{}, User{}, err
	}
	if err := s.applyEntry(ctx, open); err != nil {
		return Tenant{}, User{}, fmt.Errorf("open tenant: %w", err)
	}
	return t, owner, nil
}

// UserByEmail finds a user by email in any tenant (sign-in and the dev server's tokens).
func (s *Service) UserByEmail(ctx context.Context, email string) (User, error) {
	e, err := NormalizeEmail("email", email)
	if err != nil {
		return User{}, err
	}
	return s.Store.UserByEmail(ctx, e)
}

// NewUser is a user to create.
type NewUser struct {
	Name              string
	Email             string
	Phone             string
	PictureURL        string
	Profession        Profession
	GroupIDs          []string
	Roles             []Role
	CalendarIDs       []string
	LegacyPermissions Permissions // rights of a user migrated from before groups existed
	// Link is an assistant's first link to a care recipient; required for the assistant role.
	Link *NewLink
	// Professions are all the user does (Profession, when also given, must be the first).
	Professions []Profession
	// Kind is employee (default) or hirer (the Tenants app).
	Kind UserKind
	// CalendarAccess is individual calendar access, by the rules of SetCalendarAccess.
	CalendarAccess map[string]Level
}

// UserPatch changes some fields of a user; nil fields stay as they are.
type UserPatch struct {
	Name        *string
	Email       *string
	Phone       *string
	PictureURL  *string
	Profession  *Profession
	CalendarIDs *[]string
	Professions *[]Profession
}

// userAudit is the audit view of a user: no name, email, phone or picture, ever.
func userAudit(u User) map[string]any {
	m := map[string]any{
		"status": u.Status, "profession": u.Profession, "groupIds": nonNil(u.GroupIDs),
		"roles": nonNil(u.Roles), "calendarIds": nonNil(u.CalendarIDs), "isOwner": u.IsOwner,
		"version": u.Version,
	}
	if len(u.CalendarAccess) > 0 {
		m["calendarAccess"] = maps.Clone(u.CalendarAccess)
	}
	if u.Legacy != nil {
		m["legacyRights"] = true
	}
	if len(u.Professions) > 1 {
		m["professions"] = u.Professions
	}
	if u.Kind != "" {
		m["kind"] = u.Kind
	}
	return m
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// personalChanges names the personal fields that differ, for the audit log.
func personalChanges(a, b User) []string {
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

// canManageUsers: the owner, or users with edit on user management (groups or roles).
func (c *Caller) canManageUsers() bool { return c.decide(Request{Op: OpManageUsers}).Allowed }

func (c *Caller) requireManageUsers() error { return c.require(Request{Op: OpManageUsers}) }

// requireChangeRightsOf: nobody changes their own rights or the owner's (policy OpChangeRights).
func (c *Caller) requireChangeRightsOf(target User) error {
	return c.require(Request{Op: OpChangeRights, Target: &target})
}

// requireWithinOwnRights stops a user manager from handing out more than they have themselves —
// through a group's permissions or a user's groups — which would let them escalate by way of a
// second account. The owner has every right and is never limited.
func (c *Caller) requireWithinOwnRights(field string, perms Permissions) error {
	return WithinOwnRights(c.principal(), field, perms).Err()
}

// requireGroupsWithinOwnRights applies requireWithinOwnRights to every group given to a user.
func (c *Caller) requireGroupsWithinOwnRights(field string, groups map[string]Group) error {
	for _, id := range slices.Sorted(maps.Keys(groups)) {
		if err := c.requireWithinOwnRights(field, groups[id].Permissions); err != nil {
			return err
		}
	}
	return nil
}

// requireChangeUser: who may change a user's profile or status (policy OpChangeUser).
func (c *Caller) requireChangeUser(target User) error {
	return c.require(Request{Op: OpChangeUser, Target: &target})
}

// requireRoles checks every role given or taken with the policy (OpGrantRole).
func (c *Caller) requireRoles(before, after []Role) error {
	for _, r := range Roles {
		if slices.Contains(before, r) == slices.Contains(after, r) {
			continue
		}
		if err := c.require(Request{Op: OpGrantRole, Role: r}); err != nil {
			return err
		}
	}
	return nil
}

// canReadUser: oneself, everyone with view on users, and the owner. Users one may not read do
// not exist for one: they answer 404 like another tenant's, which tells nothing about them.
func (c *Caller) canReadUser(id string) bool {
	return c.decide(Request{Op: OpReadUser, Target: &User{ID: id}}).Allowed
}

func text(field, s string, max int, required bool) (string, error) {
	s = strings.TrimSpace(s)
	if required && s == "" {
		return "", Invalid(field, "is required")
	}
	if !utf8.ValidString(s) {
		return "", Invalid(field, "must be valid UTF-8")
	}
	if utf8.RuneCountInString(s) > max {
		return "", Invalid(field, "must be at most %d characters", max)
	}
	if strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 }) {
		return "", Invalid(field, "must not contain control characters")
	}
	return s, nil
}

func validPhone(field, s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	if len(s) > 32 || strings.ContainsFunc(s, func(r rune) bool {
		return !(r >= '0' && r <= '9') && !strings.ContainsRune("+ -()", r)
	}) {
		return "", Invalid(field, "must be a phone number of digits, spaces, +, -, ( and ), at most 32 characters")
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
		return "", Invalid(field, "must be an http(s) URL of at most 2048 characters")
	}
	return s, nil
}

// PlausibleID reports whether s could be an id this API hands out: at most 64 printable ASCII
// characters, free of the key separator. Anything else names nothing, so it is refused before it
// reaches the store (where an oversized key would be a server error).
func PlausibleID(s string) bool {
	return s != "" && len(s) <= 64 && !strings.ContainsAny(s, "#/ ") &&
		!strings.ContainsFunc(s, func(r rune) bool { return r < 0x21 || r > 0x7e })
}

func validIDs(field string, ids []string, max int) ([]string, error) {
	if len(ids) > max {
		return nil, Invalid(field, "must have at most %d entries", max)
	}
	out := make([]string, 0, len(ids))
	for i, id := range ids {
		if !PlausibleID(id) {
			return nil, Invalid(fmt.Sprintf("%s[%d]", field, i), "is not a valid id")
		}
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out, nil
}

// existingGroups checks that every id names a group of the tenant.
func (s *Service) existingGroups(ctx context.Context, tenantID, field string, ids []string) (map[string]Group, error) {
	ids, err := validIDs(field, ids, 50)
	if err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return map[string]Group{}, nil
	}
	groups, err := s.Store.GetGroups(ctx, tenantID, ids)
	if err != nil {
		return nil, err
	}
	for i, id := range ids {
		if _, ok := groups[id]; !ok {
			return nil, Invalid(fmt.Sprintf("%s[%d]", field, i), "no such group")
		}
	}
	return groups, nil
}

func validRoles(roles []Role) ([]Role, error) {
	if len(roles) > len(Roles) {
		return nil, Invalid("roles", "has too many entries")
	}
	out := []Role{}
	for i, r := range roles {
		if !r.Valid() {
			return nil, Invalid(fmt.Sprintf("roles[%d]", i), "must be one of main_admin, admin, team_lead, assistant, consultant")
		}
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out, nil
}

// CreateUser creates an employee. The Employees app must be active. With an Idempotency-Key a
// retry returns the user the first request created, and writes nothing.
func (s *Service) CreateUser(ctx context.Context, c *Caller, in NewUser, idem *Idempotency) (User, error) {
	if err := c.requireManageUsers(); err != nil {
		return User{}, err
	}
	if idem != nil {
		if u, done, err := s.replayUser(ctx, c, idem); done {
			return u, err
		}
	}
	t, err := s.Store.GetTenant(ctx, c.TenantID())
	if err != nil {
		return User{}, err
	}
	if !in.Kind.Valid() {
		return User{}, Invalid("kind", "must be employee or hirer")
	}
	if app, msg := appForKind(in.Kind); !t.Settings.AppActive(app) {
		return User{}, &Error{Code: CodeNotActivated, Message: msg}
	}
	u, err := s.buildUser(ctx, c, in)
	if err != nil {
		return User{}, err
	}
	link, err := s.firstLink(ctx, c, u, in.Link)
	if err != nil {
		return User{}, err
	}
	meta := Meta{Audit: []AuditEntry{s.audit(c, "user.create", "user", u.ID, nil, userAudit(u))}}
	meta.Idempotency = idem.record(c.TenantID(), u.ID, s.Now())
	// The invitation is owed in the same transaction and sent after it (see outbox.go).
	meta.Outbox = []OutboxEntry{s.outboxEntry(u.TenantID, u.ID, EffectInvite)}
	if err := s.createUser(ctx, c, u, link, meta); err != nil {
		if idem != nil && errors.Is(err, ErrConflict) {
			// A concurrent retry with the same key may have won.
			if u2, done, err2 := s.replayUser(ctx, c, idem); done {
				return u2, err2
			}
		}
		return User{}, err
	}
	s.applyOutbox(ctx, meta.Outbox)
	return u, nil
}

// replayUser answers a retried create: done is true when the key was used before.
func (s *Service) replayUser(ctx context.Context, c *Caller, idem *Idempotency) (User, bool, error) {
	return replay(ctx, s, c, idem, func(id string) (User, error) { return s.Store.GetUser(ctx, c.TenantID(), id) })
}

func (s *Service) buildUser(ctx context.Context, c *Caller, in NewUser) (User, error) {
	var err error
	u := User{ID: s.NewID("u"), TenantID: c.TenantID(), Status: StatusActive, Version: 1}
	if u.Name, err = text("name", in.Name, 200, true); err != nil {
		return User{}, err
	}
	if u.Email, err = NormalizeEmail("email", in.Email); err != nil {
		return User{}, err
	}
	if u.Phone, err = validPhone("phone", in.Phone); err != nil {
		return User{}, err
	}
	if u.PictureURL, err = validURL("pictureUrl", in.PictureURL); err != nil {
		return User{}, err
	}
	if u.Professions, err = validProfessions(in.Profession, in.Professions, true); err != nil {
		return User{}, err
	}
	u.Profession = u.Professions[0]
	if in.Kind == KindHirer {
		u.Kind = KindHirer
	}
	if u.Roles, err = validRoles(in.Roles); err != nil {
		return User{}, err
	}
	if err := c.requireRoles(nil, u.Roles); err != nil {
		return User{}, err
	}
	groups, err := s.existingGroups(ctx, c.TenantID(), "groupIds", in.GroupIDs)
	if err != nil {
		return User{}, err
	}
	if err := c.requireGroupsWithinOwnRights("groupIds", groups); err != nil {
		return User{}, err
	}
	u.GroupIDs = slices.Sorted(maps.Keys(groups))
	if u.CalendarIDs, err = validIDs("calendarIds", in.CalendarIDs, 20); err != nil {
		return User{}, err
	}
	if len(u.CalendarIDs) == 0 {
		u.CalendarIDs = []string{s.NewID("cal")}
	}
	if u.CalendarAccess, err = s.initialCalendarAccess(ctx, c, in.CalendarAccess); err != nil {
		return User{}, err
	}
	if in.LegacyPermissions != nil {
		// Legacy rights arrive with a migration, on the owner's authority only.
		if err := c.require(Request{Op: OpMigrateLegacy}); err != nil {
			return User{}, err
		}
		perms, err := in.LegacyPermissions.Normalize("legacyPermissions")
		if err != nil {
			return User{}, err
		}
		u.Legacy = &LegacyRights{Permissions: perms, GroupRights: RightsFingerprints(groups)}
	}
	u.CreatedAt, u.UpdatedAt = s.Now(), s.Now()
	return u, nil
}

// GetUser reads one user.
func (s *Service) GetUser(ctx context.Context, c *Caller, id string) (User, error) {
	if !c.canReadUser(id) {
		return User{}, NotFound("user")
	}
	return s.Store.GetUser(ctx, c.TenantID(), id)
}

// ListUsers pages through users.
func (s *Service) ListUsers(ctx context.Context, c *Caller, f UserFilter, p Page) ([]User, string, error) {
	if err := c.require(Request{Op: OpListUsers}); err != nil {
		return nil, "", err
	}
	p, err := p.Normalize()
	if err != nil {
		return nil, "", err
	}
	for _, st := range f.Statuses {
		if !st.Valid() {
			return nil, "", Invalid("status", "must be active, deactivated, removed or anonymised")
		}
	}
	if f.Text, err = text("q", f.Text, 100, false); err != nil {
		return nil, "", err
	}
	f.Text = strings.ToLower(f.Text)
	if f.GroupID != "" {
		if _, err := validIDs("groupId", []string{f.GroupID}, 1); err != nil {
			return nil, "", err
		}
	}
	return s.Store.ListUsers(ctx, c.TenantID(), f, p)
}

// updateUser runs an optimistic read-modify-write of one user with its audit entry.
// mutate may refuse (returning an error) after seeing the current state.
func (s *Service) updateUser(ctx context.Context, c *Caller, id string, ifMatch *int, action string,
	mutate func(u *User) error, after func(prev, next User) error) (User, error) {
	var out User
	var effects []OutboxEntry
	err := retry(ifMatch, "user", func() error {
		effects = nil
		prev, err := s.Store.GetUser(ctx, c.TenantID(), id)
		if err != nil {
			return err
		}
		if err := checkIfMatch(ifMatch, prev.Version, "user"); err != nil {
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
		if unchanged(prev, next) {
			out = prev // nothing to write: the version stays, no audit entry
			return nil
		}
		next.Version, next.UpdatedAt = prev.Version+1, s.Now()
		before, aft := userAudit(prev), userAudit(next)
		if changed := personalChanges(prev, next); len(changed) > 0 {
			aft["changedPersonalFields"] = changed
		}
		entry := s.audit(c, action, "user", id, before, aft)
		effects = s.loginEffects(prev, next)
		if err := s.Store.UpdateUser(ctx, prev, next, Meta{Audit: []AuditEntry{entry}, Outbox: effects}); err != nil {
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
func (s *Service) UpdateUser(ctx context.Context, c *Caller, id string, p UserPatch, ifMatch *int) (User, error) {
	// Validate before reading so bad input never costs a write.
	var err error
	if p.Name != nil {
		if *p.Name, err = text("name", *p.Name, 200, true); err != nil {
			return User{}, err
		}
	}
	if p.Email != nil {
		if *p.Email, err = NormalizeEmail("email", *p.Email); err != nil {
			return User{}, err
		}
	}
	if p.Phone != nil {
		if *p.Phone, err = validPhone("phone", *p.Phone); err != nil {
			return User{}, err
		}
	}
	if p.PictureURL != nil {
		if *p.PictureURL, err = validURL("pictureUrl", *p.PictureURL); err != nil {
			return User{}, err
		}
	}
	if p.Profession != nil && !p.Profession.Valid() {
		return User{}, Invalid("profession", "must be one of %v", Professions)
	}
	var professions []Profession
	if p.Professions != nil {
		var single Profession
		if p.Profession != nil {
			single = *p.Profession
		}
		if professions, err = validProfessions(single, *p.Professions, true); err != nil {
			return User{}, err
		}
	}
	if p.CalendarIDs != nil {
		ids, err := validIDs("calendarIds", *p.CalendarIDs, 20)
		if err != nil {
			return User{}, err
		}
		if err := s.requireCalendars(ctx, c.TenantID(), ids, indexedField("calendarIds")); err != nil {
			return User{}, err
		}
		p.CalendarIDs = &ids
	}
	// A new email reaches the login after the write, through the outbox (updateUser).
	return s.updateUser(ctx, c, id, ifMatch, "user.update", func(u *User) error {
		if u.Status == StatusAnonymised || u.Status == StatusRemoved {
			return Conflict("a %s user cannot be edited", u.Status)
		}
		switch {
		case u.ID == c.User.ID && c.User.IsOwner:
			// The owner has every right already; their own profile is theirs to keep.
		case p.Profession != nil || p.Professions != nil || p.CalendarIDs != nil:
			// Profession decides billing and own calendars are rights: never one's own.
			if err := c.requireChangeRightsOf(*u); err != nil {
				return err
			}
		case u.ID != c.User.ID:
			if err := c.requireChangeUser(*u); err != nil {
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
			u.Professions = replaceFirst(u.AllProfessions(), u.Profession)
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

// SetGroups replaces a user's groups. Legacy rights end here: the user's groups changed.
func (s *Service) SetGroups(ctx context.Context, c *Caller, id string, groupIDs []string, ifMatch *int) (User, error) {
	if groupIDs == nil {
		return User{}, Invalid("groupIds", "is required (an empty list removes every group)")
	}
	groups, err := s.existingGroups(ctx, c.TenantID(), "groupIds", groupIDs)
	if err != nil {
		return User{}, err
	}
	if err := c.requireGroupsWithinOwnRights("groupIds", groups); err != nil {
		return User{}, err
	}
	ids := slices.Sorted(maps.Keys(groups))
	return s.updateUser(ctx, c, id, ifMatch, "user.groups.set", func(u *User) error {
		if err := c.requireChangeRightsOf(*u); err != nil {
			return err
		}
		if u.Status == StatusAnonymised {
			return Conflict("an anonymised user has no groups")
		}
		if !slices.Equal(u.GroupIDs, ids) {
			u.Legacy = nil
		}
		u.GroupIDs = ids
		return nil
	}, nil)
}

// SetRoles replaces a user's system roles.
func (s *Service) SetRoles(ctx context.Context, c *Caller, id string, roles []Role, ifMatch *int) (User, error) {
	if roles == nil {
		return User{}, Invalid("roles", "is required (an empty list removes every role)")
	}
	roles, err := validRoles(roles)
	if err != nil {
		return User{}, err
	}
	return s.updateUser(ctx, c, id, ifMatch, "user.roles.set", func(u *User) error {
		if err := c.requireChangeRightsOf(*u); err != nil {
			return err
		}
		if err := c.requireRoles(u.Roles, roles); err != nil {
			return err
		}
		if err := s.requireNoLiveLinksWithout(ctx, *u, roles); err != nil {
			return err
		}
		if u.Status == StatusAnonymised {
			return Conflict("an anonymised user has no roles")
		}
		u.Roles = roles
		return nil
	}, nil)
}

// SetCalendarAccess replaces a user's individual calendar access.
func (s *Service) SetCalendarAccess(ctx context.Context, c *Caller, id string, access map[string]Level, ifMatch *int) (User, error) {
	if access == nil {
		return User{}, Invalid("body", "must be an object of calendar id to none, view or edit")
	}
	if len(access) > 200 {
		return User{}, Invalid("body", "must have at most 200 calendars")
	}
	clean := map[string]Level{}
	for cal, lvl := range access {
		if _, err := validIDs("calendarId", []string{cal}, 1); err != nil {
			return User{}, Invalid(cal, "is not a valid calendar id")
		}
		if lvl != LevelNone && lvl != LevelView && lvl != LevelEdit {
			return User{}, Invalid(cal, "must be none, view or edit")
		}
		if lvl != LevelNone {
			clean[cal] = lvl
		}
	}
	if err := s.requireCalendars(ctx, c.TenantID(), slices.Sorted(maps.Keys(access)), func(_ int, cal string) string { return cal }); err != nil {
		return User{}, err
	}
	return s.updateUser(ctx, c, id, ifMatch, "user.calendar_access.set", func(u *User) error {
		if err := c.requireChangeRightsOf(*u); err != nil {
			return err
		}
		// Nobody hands out more than they have: each calendar's level, where it is new or
		// raised, must be one the caller has on that calendar themselves.
		for _, cal := range slices.Sorted(maps.Keys(clean)) {
			if prev, ok := u.CalendarAccess[cal]; ok && prev.AtLeast(clean[cal]) {
				continue
			}
			if !c.decide(Request{Op: OpAccess, Level: clean[cal], Area: AreaCalendars, CalendarID: cal}).Allowed {
				return &Error{Code: CodeForbidden, Field: cal, Message: fmt.Sprintf("you cannot grant %s on this calendar: it is more than you have yourself", clean[cal])}
			}
		}
		u.CalendarAccess = clean
		return nil
	}, nil)
}

// Deactivate stops a user from signing in: their tokens are refused from the next request, no
// data is lost and they are not billed. The login is disabled after the write, through the
// outbox, which retries it until the provider has it.
func (s *Service) Deactivate(ctx context.Context, c *Caller, id string, ifMatch *int) (User, error) {
	return s.setStatus(ctx, c, id, ifMatch, StatusDeactivated)
}

// Activate lets a deactivated user sign in again.
func (s *Service) Activate(ctx context.Context, c *Caller, id string, ifMatch *int) (User, error) {
	return s.setStatus(ctx, c, id, ifMatch, StatusActive)
}

func (s *Service) setStatus(ctx context.Context, c *Caller, id string, ifMatch *int, to Status) (User, error) {
	action := map[Status]string{StatusActive: "user.activate", StatusDeactivated: "user.deactivate"}[to]
	// The status takes effect at once (every request loads its principal); the login follows
	// after the write, through the outbox (updateUser).
	return s.updateUser(ctx, c, id, ifMatch, action, func(u *User) error {
		if err := c.requireChangeUser(*u); err != nil {
			return err
		}
		if u.ID == c.User.ID {
			return Conflict("you cannot change your own status")
		}
		if u.IsOwner {
			return Conflict("the account owner cannot be deactivated; transfer ownership first")
		}
		switch {
		case u.Status == to:
			return nil
		case u.Status != StatusActive && u.Status != StatusDeactivated:
			return Conflict("a %s user cannot be %s", u.Status, map[Status]string{StatusActive: "activated", StatusDeactivated: "deactivated"}[to])
		}
		u.Status = to
		return nil
	}, nil)
}

// DeleteUser deletes an employee: the person and their login go, their calendars stay, their
// client assignments and client roles go too. The login's deletion is owed in the write's own
// transaction and done after it (see outbox.go); until it is, the login cannot be used: every
// request loads its principal, and there is none.
func (s *Service) DeleteUser(ctx context.Context, c *Caller, id string, ifMatch *int) error {
	var owed []OutboxEntry
	err := retry(ifMatch, "user", func() error {
		u, err := s.Store.GetUser(ctx, c.TenantID(), id)
		if err != nil {
			return err
		}
		if err := checkIfMatch(ifMatch, u.Version, "user"); err != nil {
			return err
		}
		if err := c.require(Request{Op: OpDeleteUser, Target: &u}); err != nil {
			return err
		}
		if err := s.requireNoLinks(ctx, u); err != nil {
			return err
		}
		entry := s.audit(c, "user.delete", "user", id, userAudit(u), nil)
		meta := Meta{Audit: []AuditEntry{entry}}
		// The client stays; the user's assignments to it go with the user.
		assigned, err := s.assignedClientIDs(ctx, c.TenantID(), id)
		if err != nil {
			return err
		}
		if len(assigned) > 0 {
			meta.Audit = append(meta.Audit, s.audit(c, "client.access.delete_all_of_user", "user", id,
				map[string]any{"clientIds": assigned}, nil))
		}
		roles, err := s.Store.ClientRolesOf(ctx, c.TenantID(), id)
		if err != nil {
			return err
		}
		if !roles.Empty() {
			meta.Audit = append(meta.Audit, s.audit(c, "client.roles.delete_all_of_user", "user", id, roles.audit(), nil))
		}
		meta.Outbox = []OutboxEntry{s.outboxEntry(u.TenantID, u.ID, EffectDelete)}
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
