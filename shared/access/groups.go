package access

import (
	"context"
	"errors"
	"maps"
)

// MaxGroupsPerTenant bounds the groups of one tenant. Far more than any practice needs, it keeps
// every group's rights readable in the single item each request loads with its principal.
const MaxGroupsPerTenant = 1000

// NewGroup is a group to create.
type NewGroup struct {
	Name        string
	Description string
	Permissions Permissions
}

// GroupPatch changes some fields of a group; nil fields stay as they are.
type GroupPatch struct {
	Name        *string
	Description *string
	Permissions Permissions // nil: unchanged; otherwise merged area by area
	Disabled    *bool       // a disabled group keeps members and settings, gives no rights
}

func groupAudit(g Group) map[string]any {
	perms := map[string]any{}
	for a, p := range g.Permissions {
		m := map[string]any{"level": p.Level}
		if p.Scope != "" {
			m["scope"] = p.Scope
		}
		perms[string(a)] = m
	}
	m := map[string]any{"name": g.Name, "description": g.Description, "permissions": perms, "version": g.Version}
	if g.Disabled {
		m["disabled"] = true
	}
	return m
}

// requireEditGroup: managing groups needs edit on users, and nobody edits a group they are in,
// because saving a group changes the rights of all its members at once, the editor's included.
func (c *Caller) requireEditGroup(g Group) error {
	return c.require(Request{Op: OpEditGroup, Group: &g})
}

// CreateGroup creates a permission group.
func (s *Service) CreateGroup(ctx context.Context, c *Caller, in NewGroup, idem *Idempotency) (Group, error) {
	if err := c.requireManageUsers(); err != nil {
		return Group{}, err
	}
	name, err := text("name", in.Name, 100, true)
	if err != nil {
		return Group{}, err
	}
	desc, err := text("description", in.Description, 500, false)
	if err != nil {
		return Group{}, err
	}
	perms, err := in.Permissions.Normalize("permissions")
	if err != nil {
		return Group{}, err
	}
	if err := c.requireWithinOwnRights("permissions", perms); err != nil {
		return Group{}, err
	}
	if idem != nil {
		if g, done, err := s.replayGroup(ctx, c, idem); done {
			return g, err
		}
	}
	now := s.Now()
	g := Group{ID: s.NewID("g"), TenantID: c.TenantID(), Name: name, Description: desc, Permissions: perms,
		Version: 1, CreatedAt: now, UpdatedAt: now}
	meta := Meta{Audit: []AuditEntry{s.audit(c, "group.create", "group", g.ID, nil, groupAudit(g))}}
	meta.Idempotency = idem.record(c.TenantID(), g.ID, now)
	// Every group change also writes the tenant's group set, so concurrent creates can collide
	// there; a create does not depend on what it read, so it is simply tried again.
	if err := retry(nil, "group", func() error { return s.Store.CreateGroup(ctx, g, meta) }); err != nil {
		if idem != nil && errors.Is(err, ErrConflict) {
			if g2, done, err2 := s.replayGroup(ctx, c, idem); done {
				return g2, err2
			}
		}
		return Group{}, err
	}
	return g, nil
}

func (s *Service) replayGroup(ctx context.Context, c *Caller, idem *Idempotency) (Group, bool, error) {
	return replay(ctx, s, c, idem, func(id string) (Group, error) { return s.Store.GetGroup(ctx, c.TenantID(), id) })
}

// GetGroup reads a group. Anyone in the tenant may read groups: they explain rights.
func (s *Service) GetGroup(ctx context.Context, c *Caller, id string) (Group, error) {
	return s.Store.GetGroup(ctx, c.TenantID(), id)
}

// ListGroups pages through a tenant's groups.
func (s *Service) ListGroups(ctx context.Context, c *Caller, p Page) ([]Group, string, error) {
	p, err := p.Normalize()
	if err != nil {
		return nil, "", err
	}
	return s.Store.ListGroups(ctx, c.TenantID(), p)
}

// UpdateGroup changes a group; its members' rights change at once, since rights are derived
// from the group on every request.
func (s *Service) UpdateGroup(ctx context.Context, c *Caller, id string, p GroupPatch, ifMatch *int) (Group, error) {
	var err error
	if p.Name != nil {
		if *p.Name, err = text("name", *p.Name, 100, true); err != nil {
			return Group{}, err
		}
	}
	if p.Description != nil {
		if *p.Description, err = text("description", *p.Description, 500, false); err != nil {
			return Group{}, err
		}
	}
	if p.Permissions != nil {
		// Validate the patch alone; merge it into the current permissions below.
		if _, err := p.Permissions.Normalize("permissions"); err != nil {
			return Group{}, err
		}
	}
	var out Group
	err = retry(ifMatch, "group", func() error {
		prev, err := s.Store.GetGroup(ctx, c.TenantID(), id)
		if err != nil {
			return err
		}
		if err := checkIfMatch(ifMatch, prev.Version, "group"); err != nil {
			return err
		}
		if err := c.requireEditGroup(prev); err != nil {
			return err
		}
		next := prev
		next.Permissions = maps.Clone(prev.Permissions)
		if p.Name != nil {
			next.Name = *p.Name
		}
		if p.Description != nil {
			next.Description = *p.Description
		}
		if p.Disabled != nil {
			next.Disabled = *p.Disabled
		}
		for a, perm := range p.Permissions {
			if a.Scoped() && perm.Scope == "" {
				perm.Scope = ScopeOwn
			}
			next.Permissions[a] = perm
		}
		if unchanged(prev, next) {
			out = prev // nothing to write: the version stays, no audit entry
			return nil
		}
		if err := c.requireWithinOwnRights("permissions", next.Permissions); err != nil {
			return err
		}
		next.Version, next.UpdatedAt = prev.Version+1, s.Now()
		entry := s.audit(c, "group.update", "group", id, groupAudit(prev), groupAudit(next))
		if err := s.Store.UpdateGroup(ctx, prev, next, Meta{Audit: []AuditEntry{entry}}); err != nil {
			return err
		}
		out = next
		return nil
	})
	return out, err
}

// DeleteGroup deletes a group; its members lose its rights at once. Their group lists still
// name it until the clean-up below has run, which is harmless: a missing group gives nothing.
func (s *Service) DeleteGroup(ctx context.Context, c *Caller, id string, ifMatch *int) error {
	err := retry(ifMatch, "group", func() error {
		g, err := s.Store.GetGroup(ctx, c.TenantID(), id)
		if err != nil {
			return err
		}
		if err := checkIfMatch(ifMatch, g.Version, "group"); err != nil {
			return err
		}
		if err := c.requireEditGroup(g); err != nil {
			return err
		}
		entry := s.audit(c, "group.delete", "group", id, groupAudit(g), nil)
		return s.Store.DeleteGroup(ctx, g, Meta{Audit: []AuditEntry{entry}})
	})
	if err != nil {
		return err
	}
	return s.forgetGroup(ctx, c, id)
}

// forgetGroup removes a deleted group's id from its former members.
func (s *Service) forgetGroup(ctx context.Context, c *Caller, id string) error {
	page := Page{Limit: MaxPageLimit}
	for {
		users, next, err := s.Store.ListUsers(ctx, c.TenantID(), UserFilter{GroupID: id, Statuses: []Status{StatusActive, StatusDeactivated, StatusRemoved}}, page)
		if err != nil {
			return err
		}
		for _, u := range users {
			_, err := s.updateUser(ctx, c, u.ID, nil, "user.groups.group_deleted", func(u *User) error {
				ids := u.GroupIDs[:0]
				for _, g := range u.GroupIDs {
					if g != id {
						ids = append(ids, g)
					}
				}
				u.GroupIDs = ids
				return nil
			}, nil)
			if err != nil && !errors.Is(err, ErrNotFound) {
				return err
			}
		}
		if next == "" {
			return nil
		}
		page.Cursor = next
	}
}
