package dynamo

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tilgang/tilgang/shared/access"
)

// The group set is one item per tenant holding every group's permissions, kept in the same
// transaction as each group change. It lets a request load its principal — the user and the
// rights of their groups — with a single BatchGetItem of two keys known from the token,
// instead of reading the user first and its groups second. Group items stay the source for
// listing and reading groups; the set is a read model that never lags them.
const skGroupSet = "GROUPSET"

type groupSetEntry struct {
	Name        string              `dynamodbav:"name"`
	Permissions map[string]permItem `dynamodbav:"permissions"`
	Version     int                 `dynamodbav:"version"`
}

type groupSetItem struct {
	PK     string                   `dynamodbav:"PK"`
	SK     string                   `dynamodbav:"SK"`
	Type   string                   `dynamodbav:"type"`
	Groups map[string]groupSetEntry `dynamodbav:"groups"`
}

func groupSetKey(tenantID string) map[string]types.AttributeValue {
	return key(tenantPK(tenantID), skGroupSet)
}

// putEmptyGroupSet starts a tenant's group set.
func (s *Store) putEmptyGroupSet(t *txn, tenantID string) error {
	it := groupSetItem{PK: tenantPK(tenantID), SK: skGroupSet, Type: "groupset", Groups: map[string]groupSetEntry{}}
	return t.put(s.table, it, notExists(), access.Conflict("group set of tenant %s exists", tenantID))
}

// setGroupsInSet adds or replaces the entries of groups of one tenant, in one update (a
// transaction may touch an item only once).
func (s *Store) setGroupsInSet(t *txn, groups ...access.Group) error {
	if len(groups) == 0 {
		return nil
	}
	var upd expression.UpdateBuilder
	for i, g := range groups {
		entry, err := attributevalue.Marshal(groupSetEntry{Name: g.Name, Permissions: permsToItem(g.Permissions), Version: g.Version})
		if err != nil {
			return fmt.Errorf("marshal group set entry: %w", err)
		}
		if i == 0 {
			upd = expression.Set(expression.Name("groups."+g.ID), expression.Value(entry))
		} else {
			upd = upd.Set(expression.Name("groups."+g.ID), expression.Value(entry))
		}
	}
	exists := expression.AttributeExists(expression.Name(AttrPK))
	return t.update(s.table, groupSetKey(groups[0].TenantID), upd, &exists, access.ErrVersionConflict)
}

// removeGroupFromSet drops one group's entry.
func (s *Store) removeGroupFromSet(t *txn, g access.Group) error {
	upd := expression.Remove(expression.Name("groups." + g.ID))
	exists := expression.AttributeExists(expression.Name(AttrPK))
	return t.update(s.table, groupSetKey(g.TenantID), upd, &exists, access.ErrVersionConflict)
}

// Principal loads a user and the groups they are in with one BatchGetItem.
func (s *Store) Principal(ctx context.Context, tenantID, userID string) (access.User, map[string]access.Group, error) {
	userKey := key(tenantPK(tenantID), pfxUser+userID)
	items, err := s.batchGet(ctx, []map[string]types.AttributeValue{userKey, groupSetKey(tenantID)})
	if err != nil {
		return access.User{}, nil, fmt.Errorf("load principal: %w", err)
	}
	var user *userItem
	var set *groupSetItem
	for _, av := range items {
		switch av[AttrSK].(*types.AttributeValueMemberS).Value {
		case skGroupSet:
			set = &groupSetItem{}
			if err := attributevalue.UnmarshalMap(av, set); err != nil {
				return access.User{}, nil, fmt.Errorf("unmarshal group set: %w", err)
			}
		default:
			user = &userItem{}
			if err := attributevalue.UnmarshalMap(av, user); err != nil {
				return access.User{}, nil, fmt.Errorf("unmarshal user: %w", err)
			}
		}
	}
	if user == nil {
		return access.User{}, nil, access.NotFound("user")
	}
	u := user.domain()
	groups := map[string]access.Group{}
	if set == nil {
		return u, groups, nil
	}
	for _, id := range u.GroupIDs {
		if e, ok := set.Groups[id]; ok {
			groups[id] = access.Group{ID: id, TenantID: tenantID, Name: e.Name, Permissions: permsFromItem(e.Permissions), Version: e.Version}
		}
	}
	return u, groups, nil
}
