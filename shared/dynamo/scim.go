package dynamo

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tilgang/tilgang/shared/access"
)

// Provisioning (SCIM) items. Keys:
//
//	token by secret hash     PK=SCIMTOKEN#<sha256 hex>  SK=SCIMTOKEN
//	tenant's tokens          PK=TENANT#<t>              SK=SCIMTOKEN#<tokenId>
//	directory user record    PK=TENANT#<t>              SK=SCIMUSER#<u>     GSI1PK=TENANT#<t>#SCIMUSEREXT  GSI1SK=<externalId>
//	directory group record   PK=TENANT#<t>              SK=SCIMGROUP#<g>    GSI1PK=TENANT#<t>#SCIMGROUPNAME GSI1SK=<lower(displayName)>
//	group externalId index   PK=TENANT#<t>              SK=SCIMGROUPEXT#<externalId>\x1f<g>
//
// Every SCIM filter the API accepts is one of these reads; none reads the tenant's users.
const (
	pfxSCIMTokenHash = "SCIMTOKEN#"
	skSCIMToken      = "SCIMTOKEN"
	pfxSCIMToken     = "SCIMTOKEN#"
	pfxSCIMUser      = "SCIMUSER#"
	pfxSCIMGroup     = "SCIMGROUP#"
	pfxSCIMGroupExt  = "SCIMGROUPEXT#"
	// sep ends an indexed value inside a sort key: a control character, which no text field
	// accepts, so "eq" is an exact prefix.
	sep = "\x1f"
)

var _ access.ProvisioningStore = (*Store)(nil)

func scimUserExtPK(tenantID string) string   { return tenantPK(tenantID) + "#SCIMUSEREXT" }
func scimGroupNamePK(tenantID string) string { return tenantPK(tenantID) + "#SCIMGROUPNAME" }

type scimTokenItem struct {
	PK        string `dynamodbav:"PK"`
	SK        string `dynamodbav:"SK"`
	Type      string `dynamodbav:"type"`
	ID        string `dynamodbav:"id"`
	TenantID  string `dynamodbav:"tenantId"`
	Name      string `dynamodbav:"name"`
	CreatedBy string `dynamodbav:"createdBy"`
	CreatedAt string `dynamodbav:"createdAt"`
	Hash      string `dynamodbav:"hash"`
}

func (it scimTokenItem) domain() access.SCIMToken {
	return access.SCIMToken{ID: it.ID, TenantID: it.TenantID, Name: it.Name, CreatedBy: it.CreatedBy,
		CreatedAt: parseTS(it.CreatedAt), Hash: it.Hash}
}

func scimTokenItems(tok access.SCIMToken) (byHash, inTenant scimTokenItem) {
	it := scimTokenItem{Type: "scim_token", ID: tok.ID, TenantID: tok.TenantID, Name: tok.Name, CreatedBy: tok.CreatedBy,
		CreatedAt: ts(tok.CreatedAt), Hash: tok.Hash}
	byHash, inTenant = it, it
	byHash.PK, byHash.SK = pfxSCIMTokenHash+tok.Hash, skSCIMToken
	inTenant.PK, inTenant.SK = tenantPK(tok.TenantID), pfxSCIMToken+tok.ID
	return byHash, inTenant
}

// CreateSCIMToken writes both items of a token in one transaction.
func (s *Store) CreateSCIMToken(ctx context.Context, tok access.SCIMToken, meta access.Meta) error {
	byHash, inTenant := scimTokenItems(tok)
	t := &txn{}
	if err := t.put(s.table, byHash, notExists(), access.Conflict("token exists")); err != nil {
		return err
	}
	if err := t.put(s.table, inTenant, notExists(), access.Conflict("token exists")); err != nil {
		return err
	}
	if err := t.meta(s.table, meta); err != nil {
		return err
	}
	return s.commit(ctx, t)
}

// ListSCIMTokens reads the tenant's token items (ids are ULIDs: oldest first).
func (s *Store) ListSCIMTokens(ctx context.Context, tenantID string) ([]access.SCIMToken, error) {
	items, _, err := s.page(ctx, query{partition: map[string]string{AttrPK: tenantPK(tenantID)}, skPrefix: pfxSCIMToken},
		access.Page{Limit: access.MaxSCIMTokens * 10})
	if err != nil {
		return nil, fmt.Errorf("list scim tokens: %w", err)
	}
	return unmarshalAll(items, scimTokenItem.domain)
}

// GetSCIMToken reads one token of the tenant.
func (s *Store) GetSCIMToken(ctx context.Context, tenantID, tokenID string) (access.SCIMToken, error) {
	var it scimTokenItem
	if err := s.getItem(ctx, key(tenantPK(tenantID), pfxSCIMToken+tokenID), "scim token", &it); err != nil {
		return access.SCIMToken{}, err
	}
	return it.domain(), nil
}

// DeleteSCIMToken deletes both items of a token: from the next request on it is refused.
func (s *Store) DeleteSCIMToken(ctx context.Context, tok access.SCIMToken, meta access.Meta) error {
	t := &txn{}
	exists := expression.AttributeExists(expression.Name(AttrPK))
	if err := t.delete(s.table, key(tenantPK(tok.TenantID), pfxSCIMToken+tok.ID), &exists, access.NotFound("scim token")); err != nil {
		return err
	}
	if err := t.delete(s.table, key(pfxSCIMTokenHash+tok.Hash, skSCIMToken), nil, nil); err != nil {
		return err
	}
	if err := t.meta(s.table, meta); err != nil {
		return err
	}
	return s.commit(ctx, t)
}

// SCIMTokenByHash reads a token by the hash of its secret, strongly consistent.
func (s *Store) SCIMTokenByHash(ctx context.Context, hash string) (access.SCIMToken, error) {
	res, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table),
		Key: key(pfxSCIMTokenHash+hash, skSCIMToken), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return access.SCIMToken{}, fmt.Errorf("get scim token: %w", err)
	}
	if res.Item == nil {
		return access.SCIMToken{}, access.NotFound("scim token")
	}
	var it scimTokenItem
	if err := attributevalue.UnmarshalMap(res.Item, &it); err != nil {
		return access.SCIMToken{}, fmt.Errorf("unmarshal scim token: %w", err)
	}
	return it.domain(), nil
}

// directoryUserItem is the directory's record of a user: personal data, deleted with the user
// and when the user is anonymised (forgetDirectoryUser).
type directoryUserItem struct {
	PK             string `dynamodbav:"PK"`
	SK             string `dynamodbav:"SK"`
	GSI1PK         string `dynamodbav:"GSI1PK,omitempty"`
	GSI1SK         string `dynamodbav:"GSI1SK,omitempty"`
	Type           string `dynamodbav:"type"`
	UserID         string `dynamodbav:"userId"`
	ExternalID     string `dynamodbav:"externalId,omitempty"`
	GivenName      string `dynamodbav:"givenName,omitempty"`
	FamilyName     string `dynamodbav:"familyName,omitempty"`
	DisplayName    string `dynamodbav:"displayName,omitempty"`
	Title          string `dynamodbav:"title,omitempty"`
	PhoneType      string `dynamodbav:"phoneType,omitempty"`
	EmployeeNumber string `dynamodbav:"employeeNumber,omitempty"`
	Department     string `dynamodbav:"department,omitempty"`
	ManagerID      string `dynamodbav:"managerId,omitempty"`
}

func directoryUserKey(tenantID, userID string) map[string]types.AttributeValue {
	return key(tenantPK(tenantID), pfxSCIMUser+userID)
}

func directoryUserToItem(tenantID, userID string, d access.DirectoryUser) directoryUserItem {
	it := directoryUserItem{PK: tenantPK(tenantID), SK: pfxSCIMUser + userID, Type: "scim_user", UserID: userID,
		ExternalID: d.ExternalID, GivenName: d.GivenName, FamilyName: d.FamilyName, DisplayName: d.DisplayName,
		Title: d.Title, PhoneType: d.PhoneType, EmployeeNumber: d.EmployeeNumber, Department: d.Department, ManagerID: d.ManagerID}
	if d.ExternalID != "" {
		it.GSI1PK, it.GSI1SK = scimUserExtPK(tenantID), d.ExternalID
	}
	return it
}

func (it directoryUserItem) domain() access.DirectoryUser {
	return access.DirectoryUser{ExternalID: it.ExternalID, GivenName: it.GivenName, FamilyName: it.FamilyName,
		DisplayName: it.DisplayName, Title: it.Title, PhoneType: it.PhoneType, EmployeeNumber: it.EmployeeNumber,
		Department: it.Department, ManagerID: it.ManagerID}
}

// forgetDirectoryUser deletes a user's directory record (and so its externalId index entry) in
// t: the user is deleted or anonymised.
func (s *Store) forgetDirectoryUser(t *txn, u access.User) error {
	return t.delete(s.table, directoryUserKey(u.TenantID, u.ID), nil, nil)
}

// GetDirectoryUsers reads the records of users in one BatchGetItem.
func (s *Store) GetDirectoryUsers(ctx context.Context, tenantID string, userIDs []string) (map[string]access.DirectoryUser, error) {
	keys := make([]map[string]types.AttributeValue, 0, len(userIDs))
	for _, id := range userIDs {
		keys = append(keys, directoryUserKey(tenantID, id))
	}
	items, err := s.batchGet(ctx, keys)
	if err != nil {
		return nil, fmt.Errorf("get directory users: %w", err)
	}
	out := make(map[string]access.DirectoryUser, len(items))
	for _, av := range items {
		var it directoryUserItem
		if err := attributevalue.UnmarshalMap(av, &it); err != nil {
			return nil, fmt.Errorf("unmarshal directory user: %w", err)
		}
		out[it.UserID] = it.domain()
	}
	return out, nil
}

// indexQuery turns a match into a paged query on an index partition whose sort key is the
// value (attr holds the same value outside the key, for the filters).
func indexQuery(index, pk, attr string, m access.Match) (query, error) {
	q := query{index: index, partition: map[string]string{indexPKAttr(index): pk}}
	switch m.Op {
	case "eq":
		q.skPrefix = m.Value
		f := expression.Name(attr).Equal(expression.Value(m.Value))
		q.filter = &f
	case "sw":
		q.skPrefix = m.Value
	case "co":
		f := expression.Name(attr).Contains(m.Value)
		q.filter = &f
	case "pr":
	default:
		return q, access.Invalid("filter", "operator %s is not indexed", m.Op)
	}
	if q.skPrefix == "" && m.Op != "pr" && m.Op != "co" {
		// begins_with "" would be no condition; an empty eq or sw value matches nothing here.
		q.skPrefix = sep
	}
	return q, nil
}

func indexPKAttr(index string) string {
	if index == GSI1 {
		return AttrGSI1PK
	}
	return AttrPK
}

// DirectoryUserIDs reads the externalId index.
func (s *Store) DirectoryUserIDs(ctx context.Context, tenantID string, m access.Match, limit int) ([]string, error) {
	q, err := indexQuery(GSI1, scimUserExtPK(tenantID), "externalId", m)
	if err != nil {
		return nil, err
	}
	items, _, err := s.page(ctx, q, access.Page{Limit: limit})
	if err != nil {
		return nil, fmt.Errorf("directory users by externalId: %w", err)
	}
	return unmarshalAll(items, func(it directoryUserItem) string { return it.UserID })
}

// CreateDirectoryUser writes a new user, its email claim, calendars and record in one
// transaction.
func (s *Store) CreateDirectoryUser(ctx context.Context, u access.User, d access.DirectoryUser, meta access.Meta) error {
	t := &txn{}
	if err := s.putNewUser(t, u); err != nil {
		return err
	}
	if err := t.put(s.table, directoryUserToItem(u.TenantID, u.ID, d), nil, nil); err != nil {
		return err
	}
	if err := t.meta(s.table, meta); err != nil {
		return err
	}
	return s.commit(ctx, t)
}

// UpdateDirectoryUser replaces a user (if its version is still prev.Version) and its record.
func (s *Store) UpdateDirectoryUser(ctx context.Context, prev, next access.User, d access.DirectoryUser, meta access.Meta) error {
	t := &txn{}
	if err := s.putUserUpdate(t, prev, next); err != nil {
		return err
	}
	if err := t.put(s.table, directoryUserToItem(next.TenantID, next.ID, d), nil, nil); err != nil {
		return err
	}
	if err := t.meta(s.table, meta); err != nil {
		return err
	}
	return s.commit(ctx, t)
}

type directoryGroupItem struct {
	PK         string `dynamodbav:"PK"`
	SK         string `dynamodbav:"SK"`
	GSI1PK     string `dynamodbav:"GSI1PK"`
	GSI1SK     string `dynamodbav:"GSI1SK"`
	Type       string `dynamodbav:"type"`
	GroupID    string `dynamodbav:"groupId"`
	ExternalID string `dynamodbav:"externalId,omitempty"`
	NameKey    string `dynamodbav:"nameKey"`
}

func (it directoryGroupItem) domain() access.DirectoryGroup {
	return access.DirectoryGroup{GroupID: it.GroupID, ExternalID: it.ExternalID, NameKey: it.NameKey}
}

type groupExtItem struct {
	PK         string `dynamodbav:"PK"`
	SK         string `dynamodbav:"SK"`
	Type       string `dynamodbav:"type"`
	GroupID    string `dynamodbav:"groupId"`
	ExternalID string `dynamodbav:"externalId"`
}

func directoryGroupKey(tenantID, groupID string) map[string]types.AttributeValue {
	return key(tenantPK(tenantID), pfxSCIMGroup+groupID)
}

func groupExtKey(tenantID, ext, groupID string) map[string]types.AttributeValue {
	return key(tenantPK(tenantID), pfxSCIMGroupExt+ext+sep+groupID)
}

// putDirectoryGroup writes a group's record and moves its externalId index entry from prev.
func (s *Store) putDirectoryGroup(t *txn, tenantID string, prev *access.DirectoryGroup, d access.DirectoryGroup) error {
	it := directoryGroupItem{PK: tenantPK(tenantID), SK: pfxSCIMGroup + d.GroupID, GSI1PK: scimGroupNamePK(tenantID),
		GSI1SK: d.NameKey, Type: "scim_group", GroupID: d.GroupID, ExternalID: d.ExternalID, NameKey: d.NameKey}
	if err := t.put(s.table, it, nil, nil); err != nil {
		return err
	}
	if prev != nil && prev.ExternalID == d.ExternalID {
		return nil
	}
	if prev != nil && prev.ExternalID != "" {
		if err := t.delete(s.table, groupExtKey(tenantID, prev.ExternalID, d.GroupID), nil, nil); err != nil {
			return err
		}
	}
	if d.ExternalID != "" {
		ext := groupExtItem{PK: tenantPK(tenantID), SK: pfxSCIMGroupExt + d.ExternalID + sep + d.GroupID, Type: "scim_group_ext",
			GroupID: d.GroupID, ExternalID: d.ExternalID}
		if err := t.put(s.table, ext, nil, nil); err != nil {
			return err
		}
	}
	return nil
}

// GetDirectoryGroups reads the records of groups in one BatchGetItem.
func (s *Store) GetDirectoryGroups(ctx context.Context, tenantID string, groupIDs []string) (map[string]access.DirectoryGroup, error) {
	keys := make([]map[string]types.AttributeValue, 0, len(groupIDs))
	for _, id := range groupIDs {
		keys = append(keys, directoryGroupKey(tenantID, id))
	}
	items, err := s.batchGet(ctx, keys)
	if err != nil {
		return nil, fmt.Errorf("get directory groups: %w", err)
	}
	out := make(map[string]access.DirectoryGroup, len(items))
	for _, av := range items {
		var it directoryGroupItem
		if err := attributevalue.UnmarshalMap(av, &it); err != nil {
			return nil, fmt.Errorf("unmarshal directory group: %w", err)
		}
		out[it.GroupID] = it.domain()
	}
	return out, nil
}

// DirectoryGroupIDs reads the display name index (GSI1) or the externalId index (the tenant
// partition).
func (s *Store) DirectoryGroupIDs(ctx context.Context, tenantID, attr string, m access.Match, limit int) ([]string, error) {
	var q query
	var err error
	switch attr {
	case "displayName":
		m.Value = strings.ToLower(m.Value)
		q, err = indexQuery(GSI1, scimGroupNamePK(tenantID), "nameKey", m)
	case "externalId":
		q, err = indexQuery("", tenantPK(tenantID), "externalId", m)
		if m.Op == "eq" {
			q.skPrefix = m.Value + sep
		}
		q.skPrefix = pfxSCIMGroupExt + q.skPrefix
	default:
		return nil, access.Invalid("filter", "%s is not indexed", attr)
	}
	if err != nil {
		return nil, err
	}
	items, _, err := s.page(ctx, q, access.Page{Limit: limit})
	if err != nil {
		return nil, fmt.Errorf("directory groups by %s: %w", attr, err)
	}
	ids := make([]string, 0, len(items))
	for _, av := range items {
		v, _ := av["groupId"].(*types.AttributeValueMemberS)
		if v != nil {
			ids = append(ids, v.Value)
		}
	}
	return ids, nil
}

// ListDirectoryGroups pages through the tenant's directory group records.
func (s *Store) ListDirectoryGroups(ctx context.Context, tenantID string, p access.Page) ([]access.DirectoryGroup, string, error) {
	items, cursor, err := s.page(ctx, query{partition: map[string]string{AttrPK: tenantPK(tenantID)}, skPrefix: pfxSCIMGroup}, p)
	if err != nil {
		return nil, "", fmt.Errorf("list directory groups: %w", err)
	}
	out, err := unmarshalAll(items, directoryGroupItem.domain)
	return out, cursor, err
}

// CreateDirectoryGroup writes a new group (with the group set) and its record.
func (s *Store) CreateDirectoryGroup(ctx context.Context, g access.Group, d access.DirectoryGroup, meta access.Meta) error {
	t := &txn{}
	if err := t.put(s.table, groupToItem(g), notExists(), access.Conflict("group %s exists", g.ID)); err != nil {
		return err
	}
	if err := s.setGroupsInSet(t, true, g); err != nil {
		return err
	}
	if err := s.putDirectoryGroup(t, g.TenantID, nil, d); err != nil {
		return err
	}
	if err := t.meta(s.table, meta); err != nil {
		return err
	}
	return s.commit(ctx, t)
}

// UpdateDirectoryGroup replaces a group (if its version is still prev.Version) and its record.
func (s *Store) UpdateDirectoryGroup(ctx context.Context, prev, next access.Group, d access.DirectoryGroup, meta access.Meta) error {
	old, err := s.GetDirectoryGroups(ctx, next.TenantID, []string{next.ID})
	if err != nil {
		return err
	}
	var before *access.DirectoryGroup
	if o, ok := old[next.ID]; ok {
		before = &o
	}
	t := &txn{}
	if err := t.put(s.table, groupToItem(next), versionIs(prev.Version), access.ErrVersionConflict); err != nil {
		return err
	}
	if err := s.setGroupsInSet(t, false, next); err != nil {
		return err
	}
	if err := s.putDirectoryGroup(t, next.TenantID, before, d); err != nil {
		return err
	}
	if err := t.meta(s.table, meta); err != nil {
		return err
	}
	return s.commit(ctx, t)
}

// DeleteDirectoryGroup deletes a group, its record and its externalId index entry.
func (s *Store) DeleteDirectoryGroup(ctx context.Context, g access.Group, meta access.Meta) error {
	old, err := s.GetDirectoryGroups(ctx, g.TenantID, []string{g.ID})
	if err != nil {
		return err
	}
	t := &txn{}
	if err := t.delete(s.table, key(tenantPK(g.TenantID), pfxGroup+g.ID), versionIs(g.Version), access.ErrVersionConflict); err != nil {
		return err
	}
	if err := s.removeGroupFromSet(t, g); err != nil {
		return err
	}
	if err := t.delete(s.table, directoryGroupKey(g.TenantID, g.ID), nil, nil); err != nil {
		return err
	}
	if d, ok := old[g.ID]; ok && d.ExternalID != "" {
		if err := t.delete(s.table, groupExtKey(g.TenantID, d.ExternalID, g.ID), nil, nil); err != nil {
			return err
		}
	}
	if err := t.meta(s.table, meta); err != nil {
		return err
	}
	return s.commit(ctx, t)
}
