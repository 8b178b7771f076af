package dynamo

import (
	"context"

	"github.com/tilgang/tilgang/shared/access"
)

// CreateTenant writes the tenant with its owner in one transaction.
func (s *Store) CreateTenant(ctx context.Context, tn access.Tenant, owner access.User, meta access.Meta) error {
	t := &txn{}
	if err := t.put(s.table, tenantToItem(tn), notExists(), access.Conflict("tenant %s exists", tn.ID)); err != nil {
		return err
	}
	if err := s.putNewUser(t, owner); err != nil {
		return err
	}
	if err := s.putEmptyGroupSet(t, tn.ID); err != nil {
		return err
	}
	if err := t.meta(s.table, meta); err != nil {
		return err
	}
	return s.commit(ctx, t)
}

// GetTenant reads a tenant.
func (s *Store) GetTenant(ctx context.Context, tenantID string) (access.Tenant, error) {
	var it tenantItem
	if err := s.getItem(ctx, key(tenantPK(tenantID), skTenant), "tenant", &it); err != nil {
		return access.Tenant{}, err
	}
	return it.domain(), nil
}

// UpdateTenant replaces the tenant if its version is still prev.Version and creates groups.
func (s *Store) UpdateTenant(ctx context.Context, prev, next access.Tenant, newGroups []access.Group, meta access.Meta) error {
	t := &txn{}
	if err := t.put(s.table, tenantToItem(next), versionIs(prev.Version), access.ErrVersionConflict); err != nil {
		return err
	}
	for _, g := range newGroups {
		if err := t.put(s.table, groupToItem(g), notExists(), access.Conflict("group %s exists", g.ID)); err != nil {
			return err
		}
	}
	if err := s.setGroupsInSet(t, true, newGroups...); err != nil {
		return err
	}
	if err := t.meta(s.table, meta); err != nil {
		return err
	}
	return s.commit(ctx, t)
}

// TransferOwnership updates the tenant and both users in one transaction.
func (s *Store) TransferOwnership(ctx context.Context, prevT, nextT access.Tenant, from, to [2]access.User, meta access.Meta) error {
	t := &txn{}
	if err := t.put(s.table, tenantToItem(nextT), versionIs(prevT.Version), access.ErrVersionConflict); err != nil {
		return err
	}
	for _, pair := range [][2]access.User{from, to} {
		if err := s.putUserUpdate(t, pair[0], pair[1]); err != nil {
			return err
		}
	}
	if err := t.meta(s.table, meta); err != nil {
		return err
	}
	return s.commit(ctx, t)
}
