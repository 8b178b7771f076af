package people

import (
	"context"
	"errors"
	"maps"

	"github.com/tilgang/tilgang/shared/access"
)

func groupAudit(g access.Group) map[string]any {
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

// CreateGroup creates a permission group.
func (s *Service) CreateGroup(ctx context.Context, c *access.Caller, in access.NewGroup, idem *access.Idempotency) (access.Group, error) {
	if err := c.RequireManageUsers(); err != nil {
		return access.Group{}, err
	}
	name, err := access.Text("name", in.Name, 100, true)
	if err != nil {
		return access.Group{}, err
	}
	desc, err := access.Text("description", in.Description, 500, false)
	if err != nil {
		return access.Group{}, err
	}
	perms, err := in.Permissions.Normalize("permissions")
	if err != nil {
		return access.Group{}, err
	}
	if err := c.RequireWithinOwnRights("permissions", perms); err != nil {
		return access.Group{}, err
	}
	if idem != nil {
		if g, done, err := s.replayGroup(ctx, c, idem); done {
			return g, err
		}
	}
	now := s.Now()
	g := access.Group{ID: s.NewID("g"), TenantID: c.TenantID(), Name: name, Description: desc, Permissions: perms,
		Version: 1, CreatedAt: now, UpdatedAt: now}
	meta := access.Meta{Audit: []access.AuditEntry{s.Audit(c, "group.create", "group", g.ID, nil, groupAudit(g))}}
	meta.Idempotency = idem.Record(c.TenantID(), g.ID, now)
	// Every group change also writes the tenant's group set, so concurrent creates can collide
	// there; a create does not depend on what it read, so it is simply tried again.
	if err := access.Retry(nil, "group", func() error { return s.Store.CreateGroup(ctx, g, meta) }); err != nil {
		if idem != nil && errors.Is(err, access.ErrConflict) {
			if g2, done, err2 := s.replayGroup(ctx, c, idem); done {
				return g2, err2
			}
		}
		return access.Group{}, err
	}
	return g, nil
}

func (s *Service) replayGroup(ctx context.Context, c *access.Caller, idem *access.Idempotency) (access.Group, bool, error) {
	return access.Replay(ctx, s.Store, c, idem, func(id string) (access.Group, error) { return s.Store.GetGroup(ctx, c.TenantID(), id) })
}

// GetGroup reads a group. Anyone in the tenant may read groups: they explain rights.
func (s *Service) GetGroup(ctx context.Context, c *access.Caller, id string) (access.Group, error) {
	return s.Store.GetGroup(ctx, c.TenantID(), id)
}

// ListGroups pages through a tenant's groups.
func (s *Service) ListGroups(ctx context.Context, c *access.Caller, p access.Page) ([]access.Group, string, error) {
	p, err := p.Normalize()
	if err != nil {
		return nil, "", err
	}
	return s.Store.ListGroups(ctx, c.TenantID(), p)
}

// UpdateGroup changes a group; its members' rights change at once, since rights are derived
// from the group on every request.
func (s *Service) UpdateGroup(ctx context.Context, c *access.Caller, id string, p access.GroupPatch, ifMatch *int) (access.Group, error) {
	var err error
	if p.Name != nil {
		if *p.Name, err = access.Text("name", *p.Name, 100, true); err != nil {
			return access.Group{}, err
		}
	}
	if p.Description != nil {
		if *p.Description, err = access.Text("description", *p.Description, 500, false); err != nil {
			return access.Group{}, err
		}
	}
	if p.Permissions != nil {
		// Validate the patch alone; merge it into the current permissions below.
		if _, err := p.Permissions.Normalize("permissions"); err != nil {
			return access.Group{}, err
		}
	}
	var out access.Group
	err = access.Retry(ifMatch, "group", func() error {
		prev, err := s.Store.GetGroup(ctx, c.TenantID(), id)
		if err != nil {
			return err
		}
		if err := access.CheckIfMatch(ifMatch, prev.Version, "group"); err != nil {
			return err
		}
		if err := c.RequireEditGroup(prev); err != nil {
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
				perm.Scope = access.ScopeOwn
			}
			next.Permissions[a] = perm
		}
		if access.Unchanged(prev, next) {
			out = prev // nothing to write: the version stays, no audit entry
			return nil
		}
		if err := c.RequireWithinOwnRights("permissions", next.Permissions); err != nil {
			return err
		}
		next.Version, next.UpdatedAt = prev.Version+1, s.Now()
		entry := s.Audit(c, "group.update", "group", id, groupAudit(prev), groupAudit(next))
		if err := s.Store.UpdateGroup(ctx, prev, next, access.Meta{Audit: []access.AuditEntry{entry}}); err != nil {
			return err
		}
		out = next
		return nil
	})
	return out, err
}

// DeleteGroup deletes a group; its members lose its rights at once. Their group lists still
// name it until the clean-up below has run, which is harmless: a missing group gives nothing.
func (s *Service) DeleteGroup(ctx context.Context, c *access.Caller, id string, ifMatch *int) error {
	err := access.Retry(ifMatch, "group", func() error {
		g, err := s.Store.GetGroup(ctx, c.TenantID(), id)
		if err != nil {
			return err
		}
		if err := access.CheckIfMatch(ifMatch, g.Version, "group"); err != nil {
			return err
		}
		if err := c.RequireEditGroup(g); err != nil {
			return err
		}
		entry := s.Audit(c, "group.delete", "group", id, groupAudit(g), nil)
		return s.Store.DeleteGroup(ctx, g, access.Meta{Audit: []access.AuditEntry{entry}})
	})
	if err != nil {
		return err
	}
	return s.forgetGroup(ctx, c, id)
}

// forgetGroup removes a deleted group's id from its former members.
func (s *Service) forgetGroup(ctx context.Context, c *access.Caller, id string) error {
	page := access.Page{Limit: access.MaxPageLimit}
	for {
		users, next, err := s.Store.ListUsers(ctx, c.TenantID(), access.UserFilter{GroupID: id, Statuses: []access.Status{access.StatusActive, access.StatusDeactivated, access.StatusRemoved}}, page)
		if err != nil {
			return err
		}
		for _, u := range users {
			_, err := s.updateUser(ctx, c, u.ID, nil, "user.groups.group_deleted", func(u *access.User) error {
				ids := u.GroupIDs[:0]
				for _, g := range u.GroupIDs {
					if g != id {
						ids = append(ids, g)
					}
				}
				u.GroupIDs = ids
				return nil
			}, nil)
			if err != nil && !errors.Is(err, access.ErrNotFound) {
				return err
			}
		}
		if next == "" {
			return nil
		}
		page.Cursor = next
	}
}
