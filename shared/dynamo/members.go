package dynamo

import (
	"context"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tilgang/tilgang/shared/access"
)

// The member index lists, per tenant, the active users by what may give them every client: each
// group they are in, legacy rights that give clients with scope all, and each role that gives clients with scope all. It is kept
// in the same transaction as every write of a user item, so it never lags the users; a group
// change writes nothing here (the group set says which groups give scope all, read at query
// time). "Who can open client c" reads the lists of the groups that give scope all, so its cost
// follows the answer, not the head count.
//
//	member  PK TENANT#t#MEMBERS  SK G#<groupId>#<userId> | LEGACY#<userId> | ROLE#<role>#<userId>
//
// Each entry copies what access is computed from (status, ownership, groups and their expiry,
// roles, legacy rights, kind) and nothing personal, so reading a list needs no second read of the users and
// anonymisation has nothing to clear here. Users who are not active have no entries.
const (
	pfxMemberGroup  = "G#"
	pfxMemberLegacy = "LEGACY#"
	pfxMemberRole   = "ROLE#"
)

func membersPK(tenantID string) string { return tenantPK(tenantID) + "#MEMBERS" }

type memberItem struct {
	PK       string      `dynamodbav:"PK"`
	SK       string      `dynamodbav:"SK"`
	Type     string      `dynamodbav:"type"`
	ID       string      `dynamodbav:"id"`
	TenantID string      `dynamodbav:"tenantId"`
	Status   string      `dynamodbav:"status"`
	IsOwner  bool        `dynamodbav:"isOwner,omitempty"`
	GroupIDs []string    `dynamodbav:"groupIds"`
	Roles    []string    `dynamodbav:"roles"`
	Legacy   *legacyItem `dynamodbav:"legacy,omitempty"`
	// GroupExpiry ends memberships; Kind puts a hirer behind the practice wall.
	GroupExpiry map[string]groupExpiryItem `dynamodbav:"groupExpiry,omitempty"`
	Kind        string                     `dynamodbav:"kind,omitempty"`
}

func (it memberItem) domain() access.User {
	return userItem{ID: it.ID, TenantID: it.TenantID, Status: it.Status, IsOwner: it.IsOwner, GroupIDs: it.GroupIDs,
		Roles: it.Roles, Legacy: it.Legacy, GroupExpiry: it.GroupExpiry, Kind: it.Kind}.domain()
}

// roleReachesAll reports whether a role gives clients with scope all (none does today; the
// index follows RoleRights if one ever does).
func roleReachesAll(r access.Role) bool {
	p := access.RoleRights[r].Permissions.Get(access.AreaClients)
	return p.Level != access.LevelNone && p.Scope == access.ScopeAll
}

// memberSKs lists the entries a user has in the member index: none unless active.
func memberSKs(u *access.User) []string {
	if u == nil || u.Status != access.StatusActive {
		return nil
	}
	var out []string
	for _, g := range u.GroupIDs {
		out = append(out, pfxMemberGroup+g+"#"+u.ID)
	}
	if l := u.Legacy; l != nil {
		if p := l.Permissions.Get(access.AreaClients); p.Level != access.LevelNone && p.Scope == access.ScopeAll {
			out = append(out, pfxMemberLegacy+u.ID)
		}
	}
	for _, r := range u.Roles {
		if roleReachesAll(r) {
			out = append(out, pfxMemberRole+string(r)+"#"+u.ID)
		}
	}
	return out
}

// accessProjection reads of a user item only what a member entry copies, which is what access
// is computed from: a look-up then computes from the same fields whichever of the two it read a
// user from, and reads a tenth of a user item's attributes.
var accessProjection = sync.OnceValue(func() expression.Expression {
	var names expression.ProjectionBuilder
	for f := range reflect.TypeFor[memberItem]().Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("dynamodbav"), ",")
		if name != "" && name != "-" && name != AttrPK && name != AttrSK && name != "type" {
			names = names.AddNames(expression.Name(name))
		}
	}
	e, err := expression.NewBuilder().WithProjection(names).Build()
	if err != nil {
		panic(fmt.Sprintf("member projection: %v", err)) // the names are the struct's tags
	}
	return e
})

// accessCopies reads the users of ids as their member entries would copy them (accessProjection):
// what the look-up needs of users it found through an assignment or grant.
func (s *Store) accessCopies(ctx context.Context, tenantID string, ids []string) ([]access.User, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	keys := make([]map[string]types.AttributeValue, 0, len(ids))
	for _, id := range ids {
		keys = append(keys, key(tenantPK(tenantID), pfxUser+id))
	}
	proj := accessProjection()
	items, err := s.batchGetWith(ctx, keys, false, &proj)
	if err != nil {
		return nil, fmt.Errorf("get users: %w", err)
	}
	out := make([]access.User, 0, len(items))
	for _, av := range items {
		var it memberItem
		if err := attributevalue.UnmarshalMap(av, &it); err != nil {
			return nil, fmt.Errorf("unmarshal user: %w", err)
		}
		out = append(out, it.domain())
	}
	return out, nil
}

// memberListFlag names the tenant flag an entry under sk announces: the legacy list is read only in
// tenants flagged to have one (tenantflags.go).
func memberListFlag(sk string) (tenantFlag, bool) {
	return flagLegacyAll, strings.HasPrefix(sk, pfxMemberLegacy)
}

func memberToItem(u access.User, sk string) memberItem {
	full := userToItem(u)
	return memberItem{PK: membersPK(u.TenantID), SK: sk, Type: "member", ID: u.ID, TenantID: u.TenantID, Status: full.Status,
		IsOwner: full.IsOwner, GroupIDs: full.GroupIDs, Roles: full.Roles, Legacy: full.Legacy, GroupExpiry: full.GroupExpiry, Kind: full.Kind}
}

// sameAccessFields reports whether two versions of a user copy the same into the index.
func sameAccessFields(a, b access.User) bool {
	return a.Status == b.Status && a.IsOwner == b.IsOwner && slices.Equal(a.GroupIDs, b.GroupIDs) &&
		slices.Equal(a.Roles, b.Roles) && reflect.DeepEqual(a.Legacy, b.Legacy) &&
		reflect.DeepEqual(a.GroupExpiry, b.GroupExpiry) && a.Kind == b.Kind
}

// indexMembers adds to t what keeps the member index in step with a user write: prev is the
// stored user (nil for a new one), next the written one (nil for a deletion).
func (s *Store) indexMembers(t *txn, prev, next *access.User) error {
	before, after := memberSKs(prev), memberSKs(next)
	if prev != nil && next != nil && sameAccessFields(*prev, *next) {
		return nil
	}
	for _, sk := range after {
		if f, ok := memberListFlag(sk); ok {
			t.owe(next.TenantID, f)
		}
		if err := t.put(s.table, memberToItem(*next, sk), nil, nil); err != nil {
			return err
		}
	}
	for _, sk := range before {
		if slices.Contains(after, sk) {
			continue
		}
		if err := t.delete(s.table, key(membersPK(prev.TenantID), sk), nil, nil); err != nil {
			return err
		}
	}
	return nil
}

// seedMembers writes the member entries of users written by SeedUsers.
func (s *Store) seedMembers(ctx context.Context, users []access.User) error {
	var reqs []types.WriteRequest
	for _, u := range users {
		for _, sk := range memberSKs(&u) {
			if f, ok := memberListFlag(sk); ok {
				if err := s.markFlag(ctx, u.TenantID, f); err != nil {
					return err
				}
			}
			av, err := attributevalue.MarshalMap(memberToItem(u, sk))
			if err != nil {
				return fmt.Errorf("marshal member: %w", err)
			}
			reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: av}})
		}
	}
	for start := 0; start < len(reqs); start += 25 {
		if err := s.batchWrite(ctx, reqs[start:min(start+25, len(reqs))]); err != nil {
			return fmt.Errorf("seed members: %w", err)
		}
	}
	return nil
}

// reachAllLists names the member lists whose users may open every client without an
// assignment: the groups of the set that give clients with scope all, legacy rights (decided
// per user: they apply only while the user's groups are unchanged) and the roles that may.
func reachAllLists(set *groupSetItem) []string {
	var out []string
	if set != nil {
		for _, id := range slices.Sorted(maps.Keys(set.Groups)) {
			p := set.Groups[id].Permissions[string(access.AreaClients)]
			if p.Level != "" && p.Level != string(access.LevelNone) && p.Scope == string(access.ScopeAll) {
				out = append(out, pfxMemberGroup+id+"#")
			}
		}
	}
	if set.has(flagLegacyAll) {
		out = append(out, pfxMemberLegacy)
	}
	for _, r := range access.Roles {
		if roleReachesAll(r) {
			out = append(out, pfxMemberRole+string(r)+"#")
		}
	}
	return out
}
