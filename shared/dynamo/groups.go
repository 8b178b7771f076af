package dynamo

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tilgang/tilgang/shared/access"
)

// GetGroup reads a group.
func (s *Store) GetGroup(ctx context.Context, tenantID, groupID string) (access.Group, error) {
	var it groupItem
	if err := s.getItem(ctx, key(tenantPK(tenantID), pfxGroup+groupID), "group", &it); err != nil {
		return access.Group{}, err
	}
	return it.domain(), nil
}

// GetGroups reads several groups in one BatchGetItem.
func (s *Store) GetGroups(ctx context.Context, tenantID string, ids []string) (map[string]access.Group, error) {
	keys := make([]map[string]types.AttributeValue, 0, len(ids))
	for _, id := range ids {
		keys = append(keys, key(tenantPK(tenantID), pfxGroup+id))
	}
	items, err := s.batchGet(ctx, keys)
	if err != nil {
		return nil, fmt.Errorf("get groups: %w", err)
	}
	out := make(map[string]access.Group, len(items))
	for _, av := range items {
		var it groupItem
		if err := attributevalue.UnmarshalMap(av, &it); err != nil {
			return nil, fmt.Errorf("unmarshal group: %w", err)
		}
		out[it.ID] = it.domain()
	}
	return out, nil
}

// ListGroups pages through a tenant's groups.
func (s *Store) ListGroups(ctx context.Context, tenantID string, p access.Page) ([]access.Group, string, error) {
	items, cursor, err := s.page(ctx, query{partition: map[string]string{AttrPK: tenantPK(tenantID)}, skPrefix: pfxGroup}, p)
	if err != nil {
		return nil, "", fmt.Errorf("list groups: %w", err)
	}
	groups, err := unmarshalAll(items, groupItem.domain)
	return groups, cursor, err
}

// CreateGroup writes a new group.
func (s *Store) CreateGroup(ctx context.Context, g access.Group, meta access.Meta) error {
	t := &txn{}
	if err := t.put(s.table, groupToItem(g), notExists(), access.Conflict("group %s exists", g.ID)); err != nil {
		return err
	}
	if err := s.setGroupsInSet(t, true, g); err != nil {
		return err
	}
	if err := t.meta(s.table, meta); err != nil {
		return err
	}
	return s.commit(ctx, t)
}

// UpdateGroup replaces a group if its version is still prev.Version.
func (s *Store) UpdateGroup(ctx context.Context, prev, next access.Group, meta access.Meta) error {
	t := &txn{}
	if err := t.put(s.table, groupToItem(next), versionIs(prev.Version), access.ErrVersionConflict); err != nil {
		return err
	}
	if err := s.setGroupsInSet(t, false, next); err != nil {
		return err
	}
	if err := t.meta(s.table, meta); err != nil {
		return err
	}
	return s.commit(ctx, t)
}

// DeleteGroup removes a group if its version is still g.Version.
func (s *Store) DeleteGroup(ctx context.Context, g access.Group, meta access.Meta) error {
	t := &txn{}
	if err := t.delete(s.table, key(tenantPK(g.TenantID), pfxGroup+g.ID), versionIs(g.Version), access.ErrVersionConflict); err != nil {
		return err
	}
	if err := s.removeGroupFromSet(t, g); err != nil {
		return err
	}
	if err := t.meta(s.table, meta); err != nil {
		return err
	}
	return s.commit(ctx, t)
}
