package people

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/tilgang/tilgang/shared/access"
)

// The provisioning use cases: what a tenant's directory does over SCIM (shared/scim), as the
// provisioning principal of its token (access.NewProvisioningCaller), and the owner's
// management of those tokens. Every right is asked of the policy core: OpProvisionUser,
// OpDeprovisionUser, OpProvisionGroup, OpProvisionMembership, OpManageProvisioning.

// Provisioning carries out the provisioning use cases over the people service.
type Provisioning struct {
	*Service
	Dir access.ProvisioningStore
}

// NewProvisioning returns the provisioning use cases of s, whose directory records live in dir.
func NewProvisioning(s *Service, dir access.ProvisioningStore) *Provisioning {
	return &Provisioning{Service: s, Dir: dir}
}

// scimSecretPrefix starts every provisioning token's secret, so a leaked one is recognisable
// (secret scanners) and a JWT is never mistaken for one.
const scimSecretPrefix = "tlgscim_"

// HashSCIMSecret is the stored form of a provisioning secret. The secret holds 256 random bits,
// so a fast hash is enough: nothing can be guessed from it.
func HashSCIMSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// CreateSCIMToken makes a provisioning token for the caller's tenant (the owner only) and
// returns the secret, which is never shown again.
func (p *Provisioning) CreateSCIMToken(ctx context.Context, c *access.Caller, name string) (access.SCIMToken, string, error) {
	if err := c.Require(access.Request{Op: access.OpManageProvisioning}); err != nil {
		return access.SCIMToken{}, "", err
	}
	name, err := access.Text("name", name, 100, true)
	if err != nil {
		return access.SCIMToken{}, "", err
	}
	existing, err := p.Dir.ListSCIMTokens(ctx, c.TenantID())
	if err != nil {
		return access.SCIMToken{}, "", err
	}
	if len(existing) >= access.MaxSCIMTokens {
		return access.SCIMToken{}, "", access.Conflict("a tenant has at most %d provisioning tokens: revoke one first", access.MaxSCIMTokens)
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return access.SCIMToken{}, "", fmt.Errorf("scim token secret: %w", err)
	}
	secret := scimSecretPrefix + base64.RawURLEncoding.EncodeToString(raw)
	tok := access.SCIMToken{ID: p.NewID("scim"), TenantID: c.TenantID(), Name: name, CreatedBy: c.User.ID,
		CreatedAt: p.Now(), Hash: HashSCIMSecret(secret)}
	entry := p.Audit(c, "scim_token.create", "scim_token", tok.ID, nil, map[string]any{"name": tok.Name})
	if err := p.Dir.CreateSCIMToken(ctx, tok, access.Meta{Audit: []access.AuditEntry{entry}}); err != nil {
		return access.SCIMToken{}, "", err
	}
	return tok, secret, nil
}

// ListSCIMTokens lists the tenant's provisioning tokens, without secrets (the owner only).
func (p *Provisioning) ListSCIMTokens(ctx context.Context, c *access.Caller) ([]access.SCIMToken, error) {
	if err := c.Require(access.Request{Op: access.OpManageProvisioning}); err != nil {
		return nil, err
	}
	return p.Dir.ListSCIMTokens(ctx, c.TenantID())
}

// RevokeSCIMToken deletes a token: the next request made with it is refused (the owner only).
func (p *Provisioning) RevokeSCIMToken(ctx context.Context, c *access.Caller, id string) error {
	if err := c.Require(access.Request{Op: access.OpManageProvisioning}); err != nil {
		return err
	}
	tok, err := p.Dir.GetSCIMToken(ctx, c.TenantID(), id)
	if err != nil {
		return err
	}
	entry := p.Audit(c, "scim_token.revoke", "scim_token", tok.ID, map[string]any{"name": tok.Name}, nil)
	return p.Dir.DeleteSCIMToken(ctx, tok, access.Meta{Audit: []access.AuditEntry{entry}})
}

// AuthenticateSCIM loads the principal of a provisioning token's secret. A wrong or revoked
// secret is refused, and so is a token whose tenant is gone.
func (p *Provisioning) AuthenticateSCIM(ctx context.Context, secret, requestID string) (*access.Caller, error) {
	refused := &access.Error{Code: access.CodeUnauthenticated, Message: "a valid provisioning token is required"}
	if !strings.HasPrefix(secret, scimSecretPrefix) || len(secret) > 200 {
		return nil, refused
	}
	tok, err := p.Dir.SCIMTokenByHash(ctx, HashSCIMSecret(secret))
	if errors.Is(err, access.ErrNotFound) {
		return nil, refused
	}
	if err != nil {
		return nil, fmt.Errorf("authenticate scim token: %w", err)
	}
	return access.NewProvisioningCaller(tok, requestID), nil
}

// tagged marks the audit entries of the caller's writes as the provisioning token's: the actor
// is provisioning:<tokenId>, and each entry names the token.
type tagged struct {
	Store
	c *access.Caller
}

func tagMeta(c *access.Caller, m access.Meta) access.Meta {
	if !c.IsProvisioner() {
		return m
	}
	m.Audit = slices.Clone(m.Audit)
	for i, e := range m.Audit {
		after := maps.Clone(e.After)
		if after == nil {
			after = map[string]any{}
		}
		after["provisioning"] = map[string]any{"tokenId": strings.TrimPrefix(c.User.ID, access.ProvisionerPrefix), "tokenName": c.User.Name}
		m.Audit[i].After = after
	}
	return m
}

func (t tagged) UpdateUser(ctx context.Context, prev, next access.User, meta access.Meta) error {
	return t.Store.UpdateUser(ctx, prev, next, tagMeta(t.c, meta))
}

func (t tagged) UpdateUserWithLinks(ctx context.Context, prev, next access.User, links []access.LinkChange, meta access.Meta) error {
	return t.Store.UpdateUserWithLinks(ctx, prev, next, links, tagMeta(t.c, meta))
}

// as is the people service writing with the caller's audit tag.
func (p *Provisioning) as(c *access.Caller) *Service {
	s := *p.Service
	s.Store = tagged{Store: p.Service.Store, c: c}
	return &s
}

// provisionable reports whether the directory sees a user: not the owner, not in the user bank.
func provisionable(u access.User) bool {
	return !u.IsOwner && (u.Status == access.StatusActive || u.Status == access.StatusDeactivated)
}

// GetProvisionedUser reads a user as the directory sees it.
func (p *Provisioning) GetProvisionedUser(ctx context.Context, c *access.Caller, id string) (access.ProvisionedUser, error) {
	out, err := p.ProvisionedUsers(ctx, c, []string{id})
	if err != nil {
		return access.ProvisionedUser{}, err
	}
	if len(out) == 0 {
		return access.ProvisionedUser{}, access.NotFound("user")
	}
	return out[0], nil
}

// ProvisionedUsers reads users by id, leaving out those the directory does not see.
func (p *Provisioning) ProvisionedUsers(ctx context.Context, c *access.Caller, ids []string) ([]access.ProvisionedUser, error) {
	if err := decide(c, access.Request{Op: access.OpProvisionUser}); err != nil {
		return nil, err
	}
	var users []access.User
	for _, id := range ids {
		if !access.PlausibleID(id) {
			continue
		}
		u, err := p.Store.GetUser(ctx, c.TenantID(), id)
		if errors.Is(err, access.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if provisionable(u) {
			users = append(users, u)
		}
	}
	return p.withRecords(ctx, c, users)
}

func (p *Provisioning) withRecords(ctx context.Context, c *access.Caller, users []access.User) ([]access.ProvisionedUser, error) {
	out := make([]access.ProvisionedUser, 0, len(users))
	if len(users) == 0 {
		return out, nil
	}
	ids := make([]string, len(users))
	for i, u := range users {
		ids[i] = u.ID
	}
	recs, err := p.Dir.GetDirectoryUsers(ctx, c.TenantID(), ids)
	if err != nil {
		return nil, err
	}
	for _, u := range users {
		out = append(out, access.ProvisionedUser{User: u, Directory: recs[u.ID]})
	}
	return out, nil
}

// ProvisionedUserIDsByEmail finds the user holding an email (the SCIM userName), if the
// directory sees them: one read of the email claim.
func (p *Provisioning) ProvisionedUserIDsByEmail(ctx context.Context, c *access.Caller, email string) ([]string, error) {
	if err := decide(c, access.Request{Op: access.OpProvisionUser}); err != nil {
		return nil, err
	}
	e, err := access.NormalizeEmail("userName", email)
	if err != nil {
		return []string{}, nil // no user has an address that is not one
	}
	u, err := p.Store.UserByEmail(ctx, e)
	if errors.Is(err, access.ErrNotFound) {
		return []string{}, nil
	}
	if err != nil {
		return nil, err
	}
	if u.TenantID != c.TenantID() || !provisionable(u) {
		return []string{}, nil
	}
	return []string{u.ID}, nil
}

// ProvisionedUserIDsByExternalID reads the externalId index.
func (p *Provisioning) ProvisionedUserIDsByExternalID(ctx context.Context, c *access.Caller, m access.Match, limit int) ([]string, error) {
	if err := decide(c, access.Request{Op: access.OpProvisionUser}); err != nil {
		return nil, err
	}
	return p.Dir.DirectoryUserIDs(ctx, c.TenantID(), m, limit)
}

// ListProvisionedUsers pages through the users the directory sees.
func (p *Provisioning) ListProvisionedUsers(ctx context.Context, c *access.Caller, pg access.Page) ([]access.ProvisionedUser, string, error) {
	if err := decide(c, access.Request{Op: access.OpProvisionUser}); err != nil {
		return nil, "", err
	}
	users, next, err := p.Store.ListUsers(ctx, c.TenantID(), access.UserFilter{}, pg)
	if err != nil {
		return nil, "", err
	}
	users = slices.DeleteFunc(users, func(u access.User) bool { return !provisionable(u) })
	out, err := p.withRecords(ctx, c, users)
	return out, next, err
}

// cleanDirectory validates what the directory says about a user.
func cleanDirectory(d access.DirectoryUser) (access.DirectoryUser, error) {
	fields := []struct {
		name string
		v    *string
		max  int
	}{
		{"externalId", &d.ExternalID, 200}, {"name.givenName", &d.GivenName, 200}, {"name.familyName", &d.FamilyName, 200},
		{"displayName", &d.DisplayName, 200}, {"title", &d.Title, 200}, {"phoneNumbers.type", &d.PhoneType, 20},
		{"employeeNumber", &d.EmployeeNumber, 100}, {"department", &d.Department, 200}, {"manager", &d.ManagerID, 200},
	}
	for _, f := range fields {
		v, err := access.Text(f.name, *f.v, f.max, false)
		if err != nil {
			return d, err
		}
		*f.v = v
	}
	return d, nil
}

// cleanProvisioned validates a user as the directory sends it.
func cleanProvisioned(in access.ProvisionedUser) (access.ProvisionedUser, error) {
	var err error
	if in.User.Email, err = access.NormalizeEmail("userName", in.User.Email); err != nil {
		return in, err
	}
	if in.User.Name, err = access.Text("name", in.User.Name, 200, true); err != nil {
		return in, err
	}
	if in.User.Phone, err = validPhone("phoneNumbers", in.User.Phone); err != nil {
		return in, err
	}
	if in.Directory, err = cleanDirectory(in.Directory); err != nil {
		return in, err
	}
	if in.User.Status != access.StatusActive && in.User.Status != access.StatusDeactivated {
		return in, access.Invalid("active", "must be true or false")
	}
	return in, nil
}

// emailTaken turns the store's conflict on the email claim into one naming userName.
func (p *Provisioning) emailTaken(ctx context.Context, err error, email, userID string) error {
	if !errors.Is(err, access.ErrConflict) {
		return err
	}
	if u, e := p.Store.UserByEmail(ctx, email); e == nil && u.ID != userID {
		return &access.Error{Code: access.CodeConflict, Field: "userName", Message: "this userName (email) is already in use by another user"}
	}
	return err
}

// CreateProvisionedUser creates a user the directory sends, with its record, in one
// transaction. The user has no groups and no roles; the profession is "other" until an
// administrator sets it in Tilgang.
func (p *Provisioning) CreateProvisionedUser(ctx context.Context, c *access.Caller, in access.ProvisionedUser) (access.ProvisionedUser, error) {
	if err := decide(c, access.Request{Op: access.OpProvisionUser}); err != nil {
		return access.ProvisionedUser{}, err
	}
	in, err := cleanProvisioned(in)
	if err != nil {
		return access.ProvisionedUser{}, err
	}
	t, err := p.Store.GetTenant(ctx, c.TenantID())
	if err != nil {
		return access.ProvisionedUser{}, err
	}
	if !t.Settings.AppActive(access.AppEmployees) {
		return access.ProvisionedUser{}, &access.Error{Code: access.CodeNotActivated, Message: "activate the Employees app before provisioning users"}
	}
	now := p.Now()
	u := access.User{ID: p.NewID("u"), TenantID: c.TenantID(), Name: in.User.Name, Email: in.User.Email, Phone: in.User.Phone,
		Profession: access.ProfessionOther, Professions: []access.Profession{access.ProfessionOther},
		GroupIDs: []string{}, Roles: []access.Role{}, Status: in.User.Status,
		CalendarIDs: []string{p.NewID("cal")}, Version: 1, CreatedAt: now, UpdatedAt: now}
	after := userAudit(u)
	after["directoryFields"] = directoryChanges(access.DirectoryUser{}, in.Directory)
	meta := access.Meta{Audit: []access.AuditEntry{p.Audit(c, "user.create", "user", u.ID, nil, after)}}
	meta.Outbox = []access.OutboxEntry{p.outboxEntry(u.TenantID, u.ID, access.EffectInvite)}
	if err := p.Dir.CreateDirectoryUser(ctx, u, in.Directory, tagMeta(c, meta)); err != nil {
		return access.ProvisionedUser{}, p.emailTaken(ctx, err, u.Email, u.ID)
	}
	p.applyOutbox(ctx, meta.Outbox)
	return access.ProvisionedUser{User: u, Directory: in.Directory}, nil
}

// directoryChanges names the directory fields that differ (personal data: names only).
func directoryChanges(a, b access.DirectoryUser) []string {
	out := []string{}
	for _, f := range []struct {
		name string
		x, y string
	}{
		{"externalId", a.ExternalID, b.ExternalID}, {"givenName", a.GivenName, b.GivenName}, {"familyName", a.FamilyName, b.FamilyName},
		{"displayName", a.DisplayName, b.DisplayName}, {"title", a.Title, b.Title}, {"phoneType", a.PhoneType, b.PhoneType},
		{"employeeNumber", a.EmployeeNumber, b.EmployeeNumber}, {"department", a.Department, b.Department}, {"manager", a.ManagerID, b.ManagerID},
	} {
		if f.x != f.y {
			out = append(out, f.name)
		}
	}
	return out
}

// UpdateProvisionedUser brings a user in line with what the directory sends (a SCIM replace or
// patch): profile, status and record in one transaction. A deactivation takes effect at once.
func (p *Provisioning) UpdateProvisionedUser(ctx context.Context, c *access.Caller, id string, in access.ProvisionedUser, ifMatch *int) (access.ProvisionedUser, error) {
	in, err := cleanProvisioned(in)
	if err != nil {
		return access.ProvisionedUser{}, err
	}
	var out access.ProvisionedUser
	var effects []access.OutboxEntry
	err = access.Retry(ifMatch, "user", func() error {
		effects = nil
		prev, err := p.Store.GetUser(ctx, c.TenantID(), id)
		if err != nil {
			return err
		}
		if !provisionable(prev) {
			return access.NotFound("user")
		}
		if err := access.CheckIfMatch(ifMatch, prev.Version, "user"); err != nil {
			return err
		}
		recs, err := p.Dir.GetDirectoryUsers(ctx, c.TenantID(), []string{id})
		if err != nil {
			return err
		}
		rec := recs[id]
		next := prev
		next.Name, next.Email, next.Phone, next.Status = in.User.Name, in.User.Email, in.User.Phone, in.User.Status
		profile := next.Name != prev.Name || access.EmailKey(next.Email) != access.EmailKey(prev.Email) || next.Email != prev.Email ||
			next.Phone != prev.Phone || rec != in.Directory
		if !profile && next.Status == prev.Status {
			out = access.ProvisionedUser{User: prev, Directory: rec}
			return nil
		}
		action := "user.update"
		switch {
		case next.Status == access.StatusDeactivated && prev.Status != access.StatusDeactivated:
			// Deprovisioning reaches administrators too: it raises nobody.
			if err := decide(c, access.Request{Op: access.OpDeprovisionUser, Target: &prev}); err != nil {
				return err
			}
			action = "user.deactivate"
		case next.Status == access.StatusActive && prev.Status != access.StatusActive:
			if err := decide(c, access.Request{Op: access.OpProvisionUser, Target: &prev}); err != nil {
				return err
			}
			action = "user.activate"
		}
		if profile {
			if err := decide(c, access.Request{Op: access.OpProvisionUser, Target: &prev}); err != nil {
				return err
			}
			if next.Status == prev.Status {
				action = "user.update"
			}
		}
		next.Version, next.UpdatedAt = prev.Version+1, p.Now()
		before, after := userAudit(prev), userAudit(next)
		if changed := personalChanges(prev, next); len(changed) > 0 {
			after["changedPersonalFields"] = changed
		}
		if changed := directoryChanges(rec, in.Directory); len(changed) > 0 {
			after["directoryFields"] = changed
		}
		effects = p.loginEffects(prev, next)
		meta := access.Meta{Audit: []access.AuditEntry{p.Audit(c, action, "user", id, before, after)}, Outbox: effects}
		if err := p.Dir.UpdateDirectoryUser(ctx, prev, next, in.Directory, tagMeta(c, meta)); err != nil {
			return p.emailTaken(ctx, err, next.Email, id)
		}
		out = access.ProvisionedUser{User: next, Directory: in.Directory}
		return nil
	})
	if err == nil {
		p.applyOutbox(ctx, effects)
	}
	return out, err
}

// DeprovisionUser is the directory's delete: the user goes to the user bank (every link removed,
// the login disabled, restorable by administrators until the tenant's anonymisation period
// runs out). A user already in the bank is not found.
func (p *Provisioning) DeprovisionUser(ctx context.Context, c *access.Caller, id string, ifMatch *int) error {
	s := p.as(c)
	_, err := s.updateUserAndLinksOwing(ctx, c, id, ifMatch, "user.remove", func(u *access.User, links []access.Link) ([]access.LinkChange, error) {
		if !provisionable(*u) {
			return nil, access.NotFound("user")
		}
		if err := decide(c, access.Request{Op: access.OpDeprovisionUser, Target: u}); err != nil {
			return nil, err
		}
		now := p.Now()
		u.Status, u.RemovedAt = access.StatusRemoved, &now
		var changes []access.LinkChange
		for _, l := range links {
			if l.Status != access.LinkRemoved {
				next := l
				next.Status = access.LinkRemoved
				changes = append(changes, access.LinkChange{Prev: l, Next: next})
			}
		}
		return changes, nil
	})
	return err
}

// decide asks the policy about the provisioning principal. Unlike Caller.Require it does not
// turn refusals into not found: the directory sees every user but the owner and the user bank,
// and the policy hides the owner itself (provisioning_not_owner).
func decide(c *access.Caller, r access.Request) error { return c.Decide(r).Err() }

// groupRequest asks about a directory group.
func groupRequest(op access.Op, g access.Group, directory bool) access.Request {
	return access.Request{Op: op, Group: &g, Directory: directory}
}

// GetProvisionedGroup reads a directory group; groups made in Tilgang are not the directory's.
func (p *Provisioning) GetProvisionedGroup(ctx context.Context, c *access.Caller, id string) (access.ProvisionedGroup, error) {
	out, err := p.ProvisionedGroups(ctx, c, []string{id})
	if err != nil {
		return access.ProvisionedGroup{}, err
	}
	if len(out) == 0 {
		return access.ProvisionedGroup{}, access.NotFound("group")
	}
	return out[0], nil
}

// ProvisionedGroups reads directory groups by id, in the order given, leaving out the others.
func (p *Provisioning) ProvisionedGroups(ctx context.Context, c *access.Caller, ids []string) ([]access.ProvisionedGroup, error) {
	ids = slices.DeleteFunc(slices.Clone(ids), func(id string) bool { return !access.PlausibleID(id) })
	out := []access.ProvisionedGroup{}
	if len(ids) == 0 {
		return out, nil
	}
	groups, err := p.Store.GetGroups(ctx, c.TenantID(), ids)
	if err != nil {
		return nil, err
	}
	recs, err := p.Dir.GetDirectoryGroups(ctx, c.TenantID(), ids)
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		g, ok := groups[id]
		rec, managed := recs[id]
		if !ok || !managed {
			continue
		}
		if c.Decide(groupRequest(access.OpProvisionGroup, g, true)).Allowed {
			out = append(out, access.ProvisionedGroup{Group: g, Directory: rec})
		}
	}
	return out, nil
}

// ProvisionedGroupIDs reads a directory group index: attr is "displayName" or "externalId".
func (p *Provisioning) ProvisionedGroupIDs(ctx context.Context, c *access.Caller, attr string, m access.Match, limit int) ([]string, error) {
	if err := decide(c, access.Request{Op: access.OpProvisionUser}); err != nil {
		return nil, err
	}
	return p.Dir.DirectoryGroupIDs(ctx, c.TenantID(), attr, m, limit)
}

// ListProvisionedGroups pages through the directory groups.
func (p *Provisioning) ListProvisionedGroups(ctx context.Context, c *access.Caller, pg access.Page) ([]access.ProvisionedGroup, string, error) {
	if err := decide(c, access.Request{Op: access.OpProvisionUser}); err != nil {
		return nil, "", err
	}
	recs, next, err := p.Dir.ListDirectoryGroups(ctx, c.TenantID(), pg)
	if err != nil {
		return nil, "", err
	}
	ids := make([]string, len(recs))
	for i, r := range recs {
		ids[i] = r.GroupID
	}
	out, err := p.ProvisionedGroups(ctx, c, ids)
	return out, next, err
}

// GroupsOfUser lists the directory groups a user the directory sees is in (the user's own item).
func (p *Provisioning) GroupsOfUser(ctx context.Context, c *access.Caller, userID string) ([]string, error) {
	us, err := p.ProvisionedUsers(ctx, c, []string{userID})
	if err != nil || len(us) == 0 {
		return []string{}, err
	}
	return us[0].User.GroupIDs, nil
}

// GroupMembers lists the members of a directory group the directory sees.
func (p *Provisioning) GroupMembers(ctx context.Context, c *access.Caller, groupID string) ([]access.User, error) {
	if _, err := p.GetProvisionedGroup(ctx, c, groupID); err != nil {
		return nil, err
	}
	var out []access.User
	pg := access.Page{Limit: access.MaxPageLimit}
	for {
		users, next, err := p.Store.ListUsers(ctx, c.TenantID(), access.UserFilter{GroupID: groupID}, pg)
		if err != nil {
			return nil, err
		}
		for _, u := range users {
			if provisionable(u) {
				out = append(out, u)
			}
		}
		if next == "" {
			return out, nil
		}
		pg.Cursor = next
	}
}

func groupNameKey(name string) string { return strings.ToLower(name) }

// CreateProvisionedGroup creates a directory group: a permission group without rights (an
// administrator gives it rights in Tilgang), then its members.
func (p *Provisioning) CreateProvisionedGroup(ctx context.Context, c *access.Caller, name, externalID string, members []string) (access.ProvisionedGroup, error) {
	name, err := access.Text("displayName", name, 100, true)
	if err != nil {
		return access.ProvisionedGroup{}, err
	}
	if externalID, err = access.Text("externalId", externalID, 200, false); err != nil {
		return access.ProvisionedGroup{}, err
	}
	now := p.Now()
	g := access.Group{ID: p.NewID("g"), TenantID: c.TenantID(), Name: name, Permissions: access.Permissions{}, CreatedAt: now, UpdatedAt: now}
	if err := decide(c, groupRequest(access.OpProvisionGroup, g, true)); err != nil {
		return access.ProvisionedGroup{}, err
	}
	// Every member must be one the directory may put in a group, before anything is written.
	targets, err := p.memberTargets(ctx, c, g, members)
	if err != nil {
		return access.ProvisionedGroup{}, err
	}
	g.Version = 1
	rec := access.DirectoryGroup{GroupID: g.ID, ExternalID: externalID, NameKey: groupNameKey(name)}
	meta := tagMeta(c, access.Meta{Audit: []access.AuditEntry{p.Audit(c, "group.create", "group", g.ID, nil, groupAudit(g))}})
	if err := access.Retry(nil, "group", func() error { return p.Dir.CreateDirectoryGroup(ctx, g, rec, meta) }); err != nil {
		return access.ProvisionedGroup{}, err
	}
	if err := p.ChangeMembers(ctx, c, g.ID, targets, nil); err != nil {
		return access.ProvisionedGroup{}, err
	}
	return access.ProvisionedGroup{Group: g, Directory: rec}, nil
}

// memberTargets checks that every id names a user the directory may put in g.
func (p *Provisioning) memberTargets(ctx context.Context, c *access.Caller, g access.Group, ids []string) ([]string, error) {
	if len(ids) > 1000 {
		return nil, access.Invalid("members", "must have at most 1000 entries per request")
	}
	var out []string
	for i, id := range ids {
		field := fmt.Sprintf("members[%d]", i)
		if !access.PlausibleID(id) {
			return nil, access.Invalid(field, "no such user")
		}
		u, err := p.Store.GetUser(ctx, c.TenantID(), id)
		if errors.Is(err, access.ErrNotFound) || (err == nil && !provisionable(u)) {
			return nil, access.Invalid(field, "no such user")
		}
		if err != nil {
			return nil, err
		}
		if err := decide(c, access.Request{Op: access.OpProvisionMembership, Target: &u, Group: &g, Directory: true}); err != nil {
			var e *access.Error
			if errors.As(err, &e) && e.Code == access.CodeNotFound {
				return nil, access.Invalid(field, "no such user")
			}
			return nil, err
		}
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out, nil
}

// UpdateProvisionedGroup renames a directory group or changes its externalId; nil leaves a
// field as it is.
func (p *Provisioning) UpdateProvisionedGroup(ctx context.Context, c *access.Caller, id string, name, externalID *string, ifMatch *int) (access.ProvisionedGroup, error) {
	var err error
	if name != nil {
		if *name, err = access.Text("displayName", *name, 100, true); err != nil {
			return access.ProvisionedGroup{}, err
		}
	}
	if externalID != nil {
		if *externalID, err = access.Text("externalId", *externalID, 200, false); err != nil {
			return access.ProvisionedGroup{}, err
		}
	}
	var out access.ProvisionedGroup
	err = access.Retry(ifMatch, "group", func() error {
		cur, err := p.GetProvisionedGroup(ctx, c, id)
		if err != nil {
			return err
		}
		prev, rec := cur.Group, cur.Directory
		if err := access.CheckIfMatch(ifMatch, prev.Version, "group"); err != nil {
			return err
		}
		if err := decide(c, groupRequest(access.OpProvisionGroup, prev, true)); err != nil {
			return err
		}
		next, nextRec := prev, rec
		if name != nil {
			next.Name, nextRec.NameKey = *name, groupNameKey(*name)
		}
		if externalID != nil {
			nextRec.ExternalID = *externalID
		}
		if next.Name == prev.Name && nextRec == rec {
			out = cur
			return nil
		}
		next.Version, next.UpdatedAt = prev.Version+1, p.Now()
		after := groupAudit(next)
		if nextRec.ExternalID != rec.ExternalID {
			after["externalIdChanged"] = true
		}
		meta := tagMeta(c, access.Meta{Audit: []access.AuditEntry{p.Audit(c, "group.update", "group", id, groupAudit(prev), after)}})
		if err := p.Dir.UpdateDirectoryGroup(ctx, prev, next, nextRec, meta); err != nil {
			return err
		}
		out = access.ProvisionedGroup{Group: next, Directory: nextRec}
		return nil
	})
	return out, err
}

// CheckMembers refuses, before anything is written, a member the directory may not put in the
// group (unknown, the owner, an administrator).
func (p *Provisioning) CheckMembers(ctx context.Context, c *access.Caller, groupID string, add []string) error {
	pg, err := p.GetProvisionedGroup(ctx, c, groupID)
	if err != nil {
		return err
	}
	_, err = p.memberTargets(ctx, c, pg.Group, add)
	return err
}

// ChangeMembers puts users in a directory group and takes others out, one user at a time (each
// its own write, so a retry of the whole request converges). Adding an unknown user is refused
// before anything is written; removing one that is not a member, or not seen, does nothing.
func (p *Provisioning) ChangeMembers(ctx context.Context, c *access.Caller, groupID string, add, remove []string) error {
	pg, err := p.GetProvisionedGroup(ctx, c, groupID)
	if err != nil {
		return err
	}
	add, err = p.memberTargets(ctx, c, pg.Group, add)
	if err != nil {
		return err
	}
	s := p.as(c)
	change := func(userID string, in bool) error {
		_, err := s.updateUser(ctx, c, userID, nil, "user.groups.provision", func(u *access.User) error {
			if !provisionable(*u) {
				if in {
					return access.Invalid("members", "no such user")
				}
				return nil
			}
			if u.InGroup(groupID) == in {
				return nil
			}
			if err := decide(c, access.Request{Op: access.OpProvisionMembership, Target: u, Group: &pg.Group, Directory: true}); err != nil {
				return err
			}
			if in {
				u.GroupIDs = append(u.GroupIDs, groupID)
				slices.Sort(u.GroupIDs)
			} else {
				u.GroupIDs = slices.DeleteFunc(u.GroupIDs, func(g string) bool { return g == groupID })
				if _, ok := u.GroupExpiry[groupID]; ok {
					// The membership is gone, and its end date with it (a fresh map: prev keeps its own).
					exp := maps.Clone(u.GroupExpiry)
					delete(exp, groupID)
					if len(exp) == 0 {
						exp = nil
					}
					u.GroupExpiry = exp
				}
			}
			u.Legacy = nil // the user's groups changed: legacy rights end, as with SetGroups
			return nil
		}, nil)
		if !in && errors.Is(err, access.ErrNotFound) {
			return nil
		}
		return err
	}
	for _, id := range add {
		if err := change(id, true); err != nil {
			return err
		}
	}
	for _, id := range remove {
		if !access.PlausibleID(id) || slices.Contains(add, id) {
			continue
		}
		if err := change(id, false); err != nil {
			return err
		}
	}
	return nil
}

// DeleteProvisionedGroup deletes a directory group; its members lose its rights at once.
func (p *Provisioning) DeleteProvisionedGroup(ctx context.Context, c *access.Caller, id string, ifMatch *int) error {
	err := access.Retry(ifMatch, "group", func() error {
		cur, err := p.GetProvisionedGroup(ctx, c, id)
		if err != nil {
			return err
		}
		if err := access.CheckIfMatch(ifMatch, cur.Group.Version, "group"); err != nil {
			return err
		}
		if err := decide(c, groupRequest(access.OpProvisionGroup, cur.Group, true)); err != nil {
			return err
		}
		meta := tagMeta(c, access.Meta{Audit: []access.AuditEntry{p.Audit(c, "group.delete", "group", id, groupAudit(cur.Group), nil)}})
		return p.Dir.DeleteDirectoryGroup(ctx, cur.Group, meta)
	})
	if err != nil {
		return err
	}
	return p.as(c).forgetGroup(ctx, c, id)
}
