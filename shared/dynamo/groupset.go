package dynamo

import (
	"context"
	"fmt"
	"strings"

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
	Disabled    bool                `dynamodbav:"disabled,omitempty"`
}

type groupSetItem struct {
	PK     string                   `dynamodbav:"PK"`
	SK     string                   `dynamodbav:"SK"`
	Type   string                   `dynamodbav:"type"`
	Groups map[string]groupSetEntry `dynamodbav:"groups"`
	// The tenant flags (tenantflags.go).
	tenantFlags
}

func groupSetKey(tenantID string) map[string]types.AttributeValue {
	return key(tenantPK(tenantID), skGroupSet)
}

// grantedOnly keeps the areas a group gives something on: a missing area reads as none, and the
// set is read on every request, so it stays small.
func grantedOnly(p access.Permissions) map[string]permItem {
	out := map[string]permItem{}
	for a, perm := range p {
		if perm.Level != access.LevelNone {
			out[string(a)] = permItem{Level: string(perm.Level), Scope: string(perm.Scope)}
		}
	}
	return out
}

// putEmptyGroupSet starts a tenant's group set.
func (s *Store) putEmptyGroupSet(t *txn, tenantID string) error {
	it := groupSetItem{PK: tenantPK(tenantID), SK: skGroupSet, Type: "groupset", Groups: map[string]groupSetEntry{}}
	return t.put(s.table, it, notExists(), access.Conflict("group set of tenant %s exists", tenantID))
}

// setGroupsInSet adds or replaces the entries of groups of one tenant, in one update (a
// transaction may touch an item only once).
//
// New groups are refused beyond access.MaxGroupsPerTenant, which keeps the set well inside
// DynamoDB's 400 KB item limit.
func (s *Store) setGroupsInSet(t *txn, adding bool, groups ...access.Group) error {
	if len(groups) == 0 {
		return nil
	}
	var upd expression.UpdateBuilder
	for i, g := range groups {
		entry, err := attributevalue.Marshal(groupSetEntry{Name: g.Name, Permissions: grantedOnly(g.Permissions), Version: g.Version, Disabled: g.Disabled})
		if err != nil {
			return fmt.Errorf("marshal group set entry: %w", err)
		}
		if i == 0 {
			upd = expression.Set(expression.Name("groups."+g.ID), expression.Value(entry))
		} else {
			upd = upd.Set(expression.Name("groups."+g.ID), expression.Value(entry))
		}
	}
	cond := expression.AttributeExists(expression.Name(AttrPK))
	failErr := error(access.ErrVersionConflict)
	if adding {
		cond = cond.And(expression.Name("groups").Size().LessThanEqual(expression.Value(access.MaxGroupsPerTenant - len(groups))))
		failErr = access.Conflict("a tenant can have at most %d permission groups", access.MaxGroupsPerTenant)
	}
	return t.update(s.table, groupSetKey(groups[0].TenantID), upd, &cond, failErr)
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
	items, err := s.consistentBatchGet(ctx, []map[string]types.AttributeValue{userKey, groupSetKey(tenantID)})
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
	s.noteFlags(tenantID, set)
	if user == nil {
		return access.User{}, nil, access.NotFound("user")
	}
	u := user.domain()
	return u, set.groups(tenantID, u.GroupIDs), nil
}

// groups converts the entries of ids that exist into groups; a nil set has none.
func (set *groupSetItem) groups(tenantID string, ids []string) map[string]access.Group {
	out := map[string]access.Group{}
	if set == nil {
		return out
	}
	for _, id := range ids {
		if e, ok := set.Groups[id]; ok {
			out[id] = access.Group{ID: id, TenantID: tenantID, Name: e.Name, Permissions: permsFromItem(e.Permissions), Version: e.Version, Disabled: e.Disabled}
		}
	}
	return out
}

// AuthorizationSnapshot reads the caller, the user asked about, the group set and, when a client
// is named, the client and the user's assignment on it: one BatchGetItem of up to five keys.
func (s *Store) AuthorizationSnapshot(ctx context.Context, tenantID, callerID, targetID, clientID, calendarID string, withPrograms bool) (access.AuthorizationSnapshot, error) {
	keys := []map[string]types.AttributeValue{key(tenantPK(tenantID), pfxUser+callerID), groupSetKey(tenantID)}
	if targetID != callerID {
		keys = append(keys, key(tenantPK(tenantID), pfxUser+targetID))
	}
	if clientID != "" {
		keys = append(keys, clientKey(tenantID, clientID), assignmentKey(tenantID, clientID, targetID),
			key(tenantPK(tenantID), programsSK(clientID, targetID)), key(tenantPK(tenantID), clientAdminSK(clientID, targetID)))
	}
	if withPrograms {
		keys = append(keys, key(tenantPK(tenantID), skCatalogue))
	}
	if calendarID != "" {
		keys = append(keys, key(tenantPK(tenantID), pfxCalendar+calendarID))
	}
	items, err := s.consistentBatchGet(ctx, keys)
	if err != nil {
		return access.AuthorizationSnapshot{}, fmt.Errorf("authorization snapshot: %w", err)
	}
	var snap access.AuthorizationSnapshot
	var set *groupSetItem
	for _, av := range items {
		var err error
		switch sk := skOf(av); {
		case sk == skGroupSet:
			set = &groupSetItem{}
			err = attributevalue.UnmarshalMap(av, set)
		case sk == pfxUser+callerID || sk == pfxUser+targetID:
			var it userItem
			if err = attributevalue.UnmarshalMap(av, &it); err == nil {
				u := it.domain()
				if u.ID == callerID {
					snap.Caller = &u
				}
				if u.ID == targetID {
					snap.Target = &u
				}
			}
		case sk == pfxClient+clientID:
			var it clientItem
			if err = attributevalue.UnmarshalMap(av, &it); err == nil {
				c := it.domain()
				snap.Client = &c
			}
		case strings.HasPrefix(sk, pfxPrograms):
			var it clientGrantItem
			if err = attributevalue.UnmarshalMap(av, &it); err == nil {
				g := it.domain()
				snap.Grant = &g
			}
		case strings.HasPrefix(sk, pfxClientAdmin):
			var it clientAdminItem
			if err = attributevalue.UnmarshalMap(av, &it); err == nil {
				a := it.domain()
				snap.Admin = &a
			}
		case calendarID != "" && sk == pfxCalendar+calendarID:
			var it calendarItem
			if err = attributevalue.UnmarshalMap(av, &it); err == nil {
				cal := it.domain()
				snap.Calendar = &cal
			}
		case sk == skCatalogue:
			var it catalogueItem
			if err = attributevalue.UnmarshalMap(av, &it); err == nil {
				snap.Programs = it.domain()
			}
		case strings.HasPrefix(sk, pfxAccess):
			var it assignmentItem
			if err = attributevalue.UnmarshalMap(av, &it); err == nil {
				a := it.domain()
				snap.Assignment = &a
			}
		}
		if err != nil {
			return access.AuthorizationSnapshot{}, fmt.Errorf("unmarshal %s: %w", skOf(av), err)
		}
	}
	var ids []string
	for _, u := range []*access.User{snap.Caller, snap.Target} {
		if u != nil {
			ids = append(ids, u.GroupIDs...)
		}
	}
	s.noteFlags(tenantID, set)
	snap.Groups = set.groups(tenantID, ids)
	return snap, nil
}
