package dynamo

import (
	"context"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tilgang/tilgang/shared/access"
)

// Client administrators and the program catalogue.
//
//	client admin          PK TENANT#t  SK CLIENTADMIN#c#u   system, programs
//	                      GSI1PK TENANT#t#USER#u  GSI1SK CLIENTADMIN#c
//	consultant programs   PK TENANT#t  SK PROGRAMS#c#u      programs (a string set)
//	                      GSI1PK TENANT#t#USER#u  GSI1SK PROGRAMS#c
//	program catalogue     PK TENANT#t  SK PROGRAMCATALOGUE  (only when the tenant has its own)
//
// The GSI1 entries share the user's partition with their assignments (GSI1SK ACCESS#c) and let
// the user lifecycle find a user's roles to end them (userbank.go).
const (
	pfxClientAdmin = "CLIENTADMIN#"
	pfxPrograms    = "PROGRAMS#"
	skCatalogue    = "PROGRAMCATALOGUE"
)

type clientAdminItem struct {
	PK        string   `dynamodbav:"PK"`
	SK        string   `dynamodbav:"SK"`
	GSI1PK    string   `dynamodbav:"GSI1PK"`
	GSI1SK    string   `dynamodbav:"GSI1SK"`
	Type      string   `dynamodbav:"type"`
	TenantID  string   `dynamodbav:"tenantId"`
	ClientID  string   `dynamodbav:"clientId"`
	UserID    string   `dynamodbav:"userId"`
	System    bool     `dynamodbav:"system"`
	Programs  []string `dynamodbav:"programs"`
	Version   int      `dynamodbav:"version"`
	UpdatedAt string   `dynamodbav:"updatedAt"`
	GrantedBy string   `dynamodbav:"grantedBy,omitempty"`
	expiringItem
}

func clientAdminSK(clientID, userID string) string { return pfxClientAdmin + clientID + "#" + userID }

func clientAdminToItem(a access.ClientAdmin) clientAdminItem {
	return clientAdminItem{PK: tenantPK(a.TenantID), SK: clientAdminSK(a.ClientID, a.UserID),
		GSI1PK: userAccessPK(a.TenantID, a.UserID), GSI1SK: pfxClientAdmin + a.ClientID, Type: "client_admin",
		TenantID: a.TenantID, ClientID: a.ClientID, UserID: a.UserID, System: a.System,
		Programs: nonNilSlice(a.Programs), Version: a.Version, UpdatedAt: ts(a.UpdatedAt),
		expiringItem: expiring(a.TenantID, clientAdminSK(a.ClientID, a.UserID), a.ExpiresAt), GrantedBy: a.GrantedBy}
}

func (it clientAdminItem) domain() access.ClientAdmin {
	return access.ClientAdmin{TenantID: it.TenantID, ClientID: it.ClientID, UserID: it.UserID, System: it.System,
		Programs: it.Programs, Version: it.Version, UpdatedAt: parseTS(it.UpdatedAt),
		ExpiresAt: expiryFromItem(it.GrantExpiresAt), GrantedBy: it.GrantedBy}
}

// GetClientAdmin reads what a user administers at a client.
func (s *Store) GetClientAdmin(ctx context.Context, tenantID, clientID, userID string) (access.ClientAdmin, error) {
	var it clientAdminItem
	if err := s.getItem(ctx, key(tenantPK(tenantID), clientAdminSK(clientID, userID)), "client administrator", &it); err != nil {
		return access.ClientAdmin{}, err
	}
	return it.domain(), nil
}

// PutClientAdmin writes next over prev (nil: none may exist), while keep is still a system
// administrator of the client.
func (s *Store) PutClientAdmin(ctx context.Context, prev *access.ClientAdmin, next access.ClientAdmin, keep *access.ClientAdmin, meta access.Meta) error {
	cond := notExists()
	if prev != nil {
		cond = versionIs(prev.Version)
	}
	t := &txn{}
	if err := t.put(s.table, clientAdminToItem(next), cond, access.ErrVersionConflict); err != nil {
		return err
	}
	return s.commitClientAdmin(ctx, t, keep, meta)
}

// DeleteClientAdmin removes a client administrator if unchanged since read, while keep is still
// a system administrator of the client.
func (s *Store) DeleteClientAdmin(ctx context.Context, a access.ClientAdmin, keep *access.ClientAdmin, meta access.Meta) error {
	t := &txn{}
	if err := t.delete(s.table, key(tenantPK(a.TenantID), clientAdminSK(a.ClientID, a.UserID)), versionIs(a.Version), access.ErrVersionConflict); err != nil {
		return err
	}
	return s.commitClientAdmin(ctx, t, keep, meta)
}

// commitClientAdmin adds the check that keep is still a system administrator, and the meta.
func (s *Store) commitClientAdmin(ctx context.Context, t *txn, keep *access.ClientAdmin, meta access.Meta) error {
	if keep != nil {
		still := expression.AttributeExists(expression.Name(AttrPK)).And(expression.Name("system").Equal(expression.Value(true)))
		if err := t.check(s.table, key(tenantPK(keep.TenantID), clientAdminSK(keep.ClientID, keep.UserID)), still, access.ErrLastSystemAdmin); err != nil {
			return err
		}
	}
	if err := t.meta(s.table, meta); err != nil {
		return err
	}
	return s.commit(ctx, t)
}

type programItem struct {
	ID   string `dynamodbav:"id"`
	Name string `dynamodbav:"name"`
}

type catalogueItem struct {
	PK       string        `dynamodbav:"PK"`
	SK       string        `dynamodbav:"SK"`
	Type     string        `dynamodbav:"type"`
	Programs []programItem `dynamodbav:"programs"`
}

// GetPrograms reads the tenant's own program catalogue; ErrNotFound when it uses the default.
func (s *Store) GetPrograms(ctx context.Context, tenantID string) ([]access.Program, error) {
	var it catalogueItem
	if err := s.getItem(ctx, key(tenantPK(tenantID), skCatalogue), "program catalogue", &it); err != nil {
		return nil, err
	}
	return it.domain(), nil
}

func (it catalogueItem) domain() []access.Program {
	out := make([]access.Program, 0, len(it.Programs))
	for _, p := range it.Programs {
		out = append(out, access.Program{ID: p.ID, Name: p.Name})
	}
	return out
}

type clientGrantItem struct {
	PK        string   `dynamodbav:"PK"`
	SK        string   `dynamodbav:"SK"`
	GSI1PK    string   `dynamodbav:"GSI1PK"`
	GSI1SK    string   `dynamodbav:"GSI1SK"`
	Type      string   `dynamodbav:"type"`
	TenantID  string   `dynamodbav:"tenantId"`
	ClientID  string   `dynamodbav:"clientId"`
	UserID    string   `dynamodbav:"userId"`
	Level     string   `dynamodbav:"level,omitempty"`
	Programs  []string `dynamodbav:"programs,stringset,omitempty"`
	GrantedBy string   `dynamodbav:"grantedBy,omitempty"`
	Source    string   `dynamodbav:"source,omitempty"`
	GrantedAt string   `dynamodbav:"grantedAt,omitempty"`
	Version   int      `dynamodbav:"version"`
	UpdatedAt string   `dynamodbav:"updatedAt"`
	expiringItem
	clientCopy
}

func programsSK(clientID, userID string) string { return pfxPrograms + clientID + "#" + userID }

// A grant sorts right after the assignment at the same client in the user's GSI1 partition
// (GSI1SK ACCESS#<c>#PROGRAMS beside ACCESS#<c>), so that one Query of ACCESS# reads every
// relation of a user in client order. Grants written before were under PROGRAMS#<c>;
// functions/migrate moves them.
const gsi1GrantSuffix = "#PROGRAMS"

func grantGSI1SK(clientID string) string { return pfxAccess + clientID + gsi1GrantSuffix }

func clientGrantToItem(p access.ClientGrant) clientGrantItem {
	return clientGrantItem{PK: tenantPK(p.TenantID), SK: programsSK(p.ClientID, p.UserID), clientCopy: copyOfClient(p.Client),
		GSI1PK: userAccessPK(p.TenantID, p.UserID), GSI1SK: grantGSI1SK(p.ClientID), Type: typeGrant,
		TenantID: p.TenantID, ClientID: p.ClientID, UserID: p.UserID, Level: string(p.Level), Programs: p.Programs,
		GrantedBy: p.GrantedBy, Source: p.Source, GrantedAt: ts(p.GrantedAt), Version: p.Version,
		UpdatedAt: ts(p.UpdatedAt), expiringItem: expiring(p.TenantID, programsSK(p.ClientID, p.UserID), p.ExpiresAt)}
}

func (it clientGrantItem) domain() access.ClientGrant {
	slices.Sort(it.Programs) // a string set comes back in any order
	g := access.ClientGrant{TenantID: it.TenantID, ClientID: it.ClientID, UserID: it.UserID, Level: access.Level(it.Level),
		Programs: it.Programs, GrantedBy: it.GrantedBy, Source: it.Source, Version: it.Version, UpdatedAt: parseTS(it.UpdatedAt),
		ExpiresAt: expiryFromItem(it.GrantExpiresAt)}
	if g.Level == "" {
		g.Level = access.GrantLevel // grants written before grants carried a level
	}
	g.GrantedAt = g.UpdatedAt
	if it.GrantedAt != "" {
		g.GrantedAt = parseTS(it.GrantedAt)
	}
	return g
}

// ClientGrants pages the bureau grants of one client, by user id (the client's own partition).
func (s *Store) ClientGrants(ctx context.Context, tenantID, clientID string, p access.Page) ([]access.ClientGrant, string, error) {
	items, cursor, err := s.page(ctx, query{partition: map[string]string{AttrPK: tenantPK(tenantID)}, skPrefix: pfxPrograms + clientID + "#"}, p)
	if err != nil {
		return nil, "", fmt.Errorf("list grants of client: %w", err)
	}
	out, err := unmarshalAll(items, clientGrantItem.domain)
	return out, cursor, err
}

// GrantsOn reads some users' bureau grants on one client in BatchGetItem calls.
func (s *Store) GrantsOn(ctx context.Context, tenantID, clientID string, userIDs []string) (map[string]access.ClientGrant, error) {
	out := map[string]access.ClientGrant{}
	if len(userIDs) == 0 {
		return out, nil
	}
	keys := make([]map[string]types.AttributeValue, 0, len(userIDs))
	for _, u := range userIDs {
		keys = append(keys, key(tenantPK(tenantID), programsSK(clientID, u)))
	}
	items, err := s.batchGet(ctx, keys)
	if err != nil {
		return nil, fmt.Errorf("get grants: %w", err)
	}
	for _, av := range items {
		var it clientGrantItem
		if err := attributevalue.UnmarshalMap(av, &it); err != nil {
			return nil, fmt.Errorf("unmarshal grant: %w", err)
		}
		out[it.UserID] = it.domain()
	}
	return out, nil
}

// UserGrantsAfter reads a user's bureau grants from GSI1 (the user's access partition), by
// client id after `after`.
func (s *Store) UserGrantsAfter(ctx context.Context, tenantID, userID, after string, limit int) ([]access.ClientGrant, bool, error) {
	// Grants written before their GSI1 key moved beside the assignments (PROGRAMS#<c>) are read
	// too until functions/migrate has moved them: an access review's snapshot must not miss one.
	upk := userAccessPK(tenantID, userID)
	var items, old []map[string]types.AttributeValue
	var ids []string
	var more, oldMore bool
	err := parallel(
		func() (err error) {
			items, ids, more, err = s.rangeAfter(ctx, GSI1, upk, pfxAccess, after, limit, 2, typeFilter(typeGrant))
			return err
		},
		func() (err error) {
			old, _, oldMore, err = s.rangeAfter(ctx, GSI1, upk, pfxPrograms, after, limit, 1, nil)
			return err
		},
	)
	if err != nil {
		return nil, false, fmt.Errorf("grants of user: %w", err)
	}
	byID := map[string]map[string]types.AttributeValue{}
	for i, av := range items {
		byID[ids[i]] = av
	}
	var oldIDs []string
	for _, av := range old {
		var it clientGrantItem
		if err := attributevalue.UnmarshalMap(av, &it); err != nil {
			return nil, false, fmt.Errorf("unmarshal grant: %w", err)
		}
		byID[it.ClientID], oldIDs = av, append(oldIDs, it.ClientID)
	}
	page, pageMore := mergeIDs(limit, idStream{ids, more}, idStream{oldIDs, oldMore})
	out := make([]map[string]types.AttributeValue, 0, len(page))
	for _, id := range page {
		out = append(out, byID[id])
	}
	grants, err := unmarshalAll(out, clientGrantItem.domain)
	return grants, pageMore, err
}

// ListClientAdmins pages the explicit administrators of one client, by user id.
func (s *Store) ListClientAdmins(ctx context.Context, tenantID, clientID string, p access.Page) ([]access.ClientAdmin, string, error) {
	items, cursor, err := s.page(ctx, query{partition: map[string]string{AttrPK: tenantPK(tenantID)}, skPrefix: pfxClientAdmin + clientID + "#"}, p)
	if err != nil {
		return nil, "", fmt.Errorf("list administrators of client: %w", err)
	}
	out, err := unmarshalAll(items, clientAdminItem.domain)
	return out, cursor, err
}
