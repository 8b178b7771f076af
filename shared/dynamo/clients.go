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

// Clients and assignments.
//
//	client      PK TENANT#t  SK CLIENT#c
//	            GSI1PK TENANT#t#NEWCLIENTPOLICY  GSI1SK ACCESS#c   (only with a policy level)
//	assignment  PK TENANT#t  SK ACCESS#c#u
//	            GSI1PK TENANT#t#USER#u           GSI1SK ACCESS#c
//
// "Who can open client c" queries SK ACCESS#c#; "which clients can user u open" merges the
// user's GSI1 partition with the tenant's policy-client partition, both sorted by client id. The
// policy partition is sparse and written once per client, never per employee.

func clientKey(tenantID, clientID string) map[string]types.AttributeValue {
	return key(tenantPK(tenantID), pfxClient+clientID)
}

func assignmentSK(clientID, userID string) string { return pfxAccess + clientID + "#" + userID }

func assignmentKey(tenantID, clientID, userID string) map[string]types.AttributeValue {
	return key(tenantPK(tenantID), assignmentSK(clientID, userID))
}

func userAccessPK(tenantID, userID string) string { return tenantPK(tenantID) + "#USER#" + userID }
func policyClientsPK(tenantID string) string      { return tenantPK(tenantID) + "#NEWCLIENTPOLICY" }

type clientItem struct {
	PK          string `dynamodbav:"PK"`
	SK          string `dynamodbav:"SK"`
	GSI1PK      string `dynamodbav:"GSI1PK,omitempty"`
	GSI1SK      string `dynamodbav:"GSI1SK,omitempty"`
	Type        string `dynamodbav:"type"`
	ID          string `dynamodbav:"id"`
	TenantID    string `dynamodbav:"tenantId"`
	Name        string `dynamodbav:"name"`
	Status      string `dynamodbav:"status"`
	Source      string `dynamodbav:"source"`
	PolicyLevel string `dynamodbav:"policyLevel,omitempty"`
	Version     int    `dynamodbav:"version"`
	CreatedAt   string `dynamodbav:"createdAt"`
	UpdatedAt   string `dynamodbav:"updatedAt"`

	// Practice is the hirer whose own practice the client belongs to; absent: the clinic's.
	Practice string `dynamodbav:"practice,omitempty"`
}

func clientToItem(c access.Client) clientItem {
	it := clientItem{
		PK: tenantPK(c.TenantID), SK: pfxClient + c.ID, Type: "client", ID: c.ID, TenantID: c.TenantID, Name: c.Name,
		Status: string(c.Status), Source: string(c.Source), Version: c.Version,
		CreatedAt: ts(c.CreatedAt), UpdatedAt: ts(c.UpdatedAt), Practice: c.Practice,
	}
	if c.PolicyLevel != "" && c.PolicyLevel != access.LevelNone {
		it.PolicyLevel = string(c.PolicyLevel)
		it.GSI1PK, it.GSI1SK = policyClientsPK(c.TenantID), pfxAccess+c.ID
	}
	return it
}

func (it clientItem) domain() access.Client {
	return access.Client{
		ID: it.ID, TenantID: it.TenantID, Name: it.Name, Status: access.ClientStatus(it.Status),
		Source: access.ClientSource(it.Source), PolicyLevel: access.Level(it.PolicyLevel), Version: it.Version,
		CreatedAt: parseTS(it.CreatedAt), UpdatedAt: parseTS(it.UpdatedAt), Practice: it.Practice,
	}
}

type assignmentItem struct {
	PK        string `dynamodbav:"PK"`
	SK        string `dynamodbav:"SK"`
	GSI1PK    string `dynamodbav:"GSI1PK"`
	GSI1SK    string `dynamodbav:"GSI1SK"`
	Type      string `dynamodbav:"type"`
	TenantID  string `dynamodbav:"tenantId"`
	ClientID  string `dynamodbav:"clientId"`
	UserID    string `dynamodbav:"userId"`
	Level     string `dynamodbav:"level"`
	Source    string `dynamodbav:"source"`
	Version   int    `dynamodbav:"version"`
	CreatedAt string `dynamodbav:"createdAt"`
	UpdatedAt string `dynamodbav:"updatedAt"`
	GrantedBy string `dynamodbav:"grantedBy,omitempty"`
	expiringItem
	clientCopy
}

// The item types of a user's relations, which share the ACCESS# range of the user's GSI1
// partition.
const (
	typeAssignment = "assignment"
	typeGrant      = "consultant_programs"
)

// typeFilter keeps the items of one type.
func typeFilter(t string) *expression.ConditionBuilder {
	f := expression.Name("type").Equal(expression.Value(t))
	return &f
}

// clientCopy is the client a relation (assignment or grant) is on, copied when the relation is
// written by a writer that had the client: clients do not change once created, so the copy never
// goes stale, and a user's clients then read in one Query of the user's GSI1 partition instead
// of a Query and a BatchGetItem of every client. Relations without it (written before, or by a
// writer without the client) are completed from the client items.
type clientCopy struct {
	ClientName      string `dynamodbav:"clientName,omitempty"`
	ClientStatus    string `dynamodbav:"clientStatus,omitempty"`
	ClientSource    string `dynamodbav:"clientSource,omitempty"`
	ClientPolicy    string `dynamodbav:"clientPolicyLevel,omitempty"`
	ClientPractice  string `dynamodbav:"clientPractice,omitempty"`
	ClientVersion   int    `dynamodbav:"clientVersion,omitempty"`
	ClientCreatedAt string `dynamodbav:"clientCreatedAt,omitempty"`
	ClientUpdatedAt string `dynamodbav:"clientUpdatedAt,omitempty"`
}

func copyOfClient(c *access.Client) clientCopy {
	if c == nil {
		return clientCopy{}
	}
	return clientCopy{ClientName: c.Name, ClientStatus: string(c.Status), ClientSource: string(c.Source), ClientPolicy: string(c.PolicyLevel),
		ClientPractice: c.Practice, ClientVersion: c.Version, ClientCreatedAt: ts(c.CreatedAt), ClientUpdatedAt: ts(c.UpdatedAt)}
}

// client returns the copied client, if the relation has one (the status is never empty).
func (c clientCopy) client(tenantID, clientID string) (access.Client, bool) {
	if c.ClientStatus == "" {
		return access.Client{}, false
	}
	return access.Client{ID: clientID, TenantID: tenantID, Name: c.ClientName, Status: access.ClientStatus(c.ClientStatus),
		Source: access.ClientSource(c.ClientSource), PolicyLevel: access.Level(c.ClientPolicy), Practice: c.ClientPractice,
		Version: c.ClientVersion, CreatedAt: parseTS(c.ClientCreatedAt), UpdatedAt: parseTS(c.ClientUpdatedAt)}, true
}

func assignmentToItem(a access.Assignment) assignmentItem {
	return assignmentItem{expiringItem: expiring(a.TenantID, assignmentSK(a.ClientID, a.UserID), a.ExpiresAt), GrantedBy: a.GrantedBy, clientCopy: copyOfClient(a.Client),
		PK: tenantPK(a.TenantID), SK: assignmentSK(a.ClientID, a.UserID),
		GSI1PK: userAccessPK(a.TenantID, a.UserID), GSI1SK: pfxAccess + a.ClientID,
		Type: typeAssignment, TenantID: a.TenantID, ClientID: a.ClientID, UserID: a.UserID,
		Level: string(a.Level), Source: string(a.Source), Version: a.Version,
		CreatedAt: ts(a.CreatedAt), UpdatedAt: ts(a.UpdatedAt),
	}
}

func (it assignmentItem) domain() access.Assignment {
	return access.Assignment{
		TenantID: it.TenantID, ClientID: it.ClientID, UserID: it.UserID, Level: access.Level(it.Level),
		Source: access.AssignmentSource(it.Source), Version: it.Version,
		CreatedAt: parseTS(it.CreatedAt), UpdatedAt: parseTS(it.UpdatedAt),
		ExpiresAt: expiryFromItem(it.GrantExpiresAt), GrantedBy: it.GrantedBy,
	}
}

func skOf(av map[string]types.AttributeValue) string {
	if s, ok := av[AttrSK].(*types.AttributeValueMemberS); ok {
		return s.Value
	}
	return ""
}

// CreateClient writes a client and the assignments made with it in one transaction.
func (s *Store) CreateClient(ctx context.Context, c access.Client, assignments []access.Assignment, meta access.Meta) error {
	t := &txn{}
	if c.PolicyLevel != "" && c.PolicyLevel != access.LevelNone {
		t.owe(c.TenantID, flagPolicyClients)
	}
	if err := t.put(s.table, clientToItem(c), notExists(), access.Conflict("client %s exists", c.ID)); err != nil {
		return err
	}
	for _, a := range assignments {
		a.Client = &c
		if err := t.put(s.table, assignmentToItem(a), notExists(), access.ErrVersionConflict); err != nil {
			return err
		}
	}
	if err := t.meta(s.table, meta); err != nil {
		return err
	}
	return s.commit(ctx, t)
}

// GetClient reads a client; one of another tenant is simply not in this tenant's partition.
func (s *Store) GetClient(ctx context.Context, tenantID, clientID string) (access.Client, error) {
	var it clientItem
	if err := s.getItem(ctx, clientKey(tenantID, clientID), "client", &it); err != nil {
		return access.Client{}, err
	}
	return it.domain(), nil
}

// GetClients reads several clients in one BatchGetItem per 100.
func (s *Store) GetClients(ctx context.Context, tenantID string, ids []string) (map[string]access.Client, error) {
	out := map[string]access.Client{}
	if len(ids) == 0 {
		return out, nil
	}
	keys := make([]map[string]types.AttributeValue, 0, len(ids))
	for _, id := range ids {
		keys = append(keys, clientKey(tenantID, id))
	}
	items, err := s.batchGet(ctx, keys)
	if err != nil {
		return nil, fmt.Errorf("get clients: %w", err)
	}
	for _, av := range items {
		var it clientItem
		if err := attributevalue.UnmarshalMap(av, &it); err != nil {
			return nil, fmt.Errorf("unmarshal client: %w", err)
		}
		out[it.ID] = it.domain()
	}
	return out, nil
}

// ClientWithAssignment reads the client and the user's assignment in one BatchGetItem: the
// authorize path's only call after the principal.
func (s *Store) ClientWithAssignment(ctx context.Context, tenantID, clientID, userID string) (access.Client, *access.Assignment, error) {
	items, err := s.batchGet(ctx, []map[string]types.AttributeValue{clientKey(tenantID, clientID), assignmentKey(tenantID, clientID, userID)})
	if err != nil {
		return access.Client{}, nil, fmt.Errorf("get client and assignment: %w", err)
	}
	var cl *access.Client
	var asg *access.Assignment
	for _, av := range items {
		switch sk := skOf(av); {
		case sk == pfxClient+clientID:
			var it clientItem
			if err := attributevalue.UnmarshalMap(av, &it); err != nil {
				return access.Client{}, nil, fmt.Errorf("unmarshal client: %w", err)
			}
			c := it.domain()
			cl = &c
		case strings.HasPrefix(sk, pfxAccess):
			var it assignmentItem
			if err := attributevalue.UnmarshalMap(av, &it); err != nil {
				return access.Client{}, nil, fmt.Errorf("unmarshal assignment: %w", err)
			}
			a := it.domain()
			asg = &a
		}
	}
	if cl == nil {
		return access.Client{}, nil, access.NotFound("client")
	}
	return *cl, asg, nil
}

// ClientFacts reads a client with one user's assignment, bureau grant and client administration
// there, in one BatchGetItem.
func (s *Store) ClientFacts(ctx context.Context, tenantID, clientID, userID string) (access.ClientFacts, error) {
	pk := tenantPK(tenantID)
	items, err := s.batchGet(ctx, []map[string]types.AttributeValue{clientKey(tenantID, clientID), assignmentKey(tenantID, clientID, userID),
		key(pk, programsSK(clientID, userID)), key(pk, clientAdminSK(clientID, userID))})
	if err != nil {
		return access.ClientFacts{}, fmt.Errorf("get client facts: %w", err)
	}
	var f access.ClientFacts
	found := false
	for _, av := range items {
		var err error
		switch sk := skOf(av); {
		case sk == pfxClient+clientID:
			var it clientItem
			if err = attributevalue.UnmarshalMap(av, &it); err == nil {
				f.Client, found = it.domain(), true
			}
		case strings.HasPrefix(sk, pfxAccess):
			var it assignmentItem
			if err = attributevalue.UnmarshalMap(av, &it); err == nil {
				a := it.domain()
				f.Assignment = &a
			}
		case strings.HasPrefix(sk, pfxPrograms):
			var it clientGrantItem
			if err = attributevalue.UnmarshalMap(av, &it); err == nil {
				g := it.domain()
				f.Grant = &g
			}
		case strings.HasPrefix(sk, pfxClientAdmin):
			var it clientAdminItem
			if err = attributevalue.UnmarshalMap(av, &it); err == nil {
				a := it.domain()
				f.Admin = &a
			}
		}
		if err != nil {
			return access.ClientFacts{}, fmt.Errorf("unmarshal %s: %w", skOf(av), err)
		}
	}
	if !found {
		return access.ClientFacts{}, access.NotFound("client")
	}
	return f, nil
}

func typeIs(t string) *expression.ConditionBuilder {
	c := expression.Name("type").Equal(expression.Value(t))
	return &c
}

// ListClients pages a tenant's clients by id.
func (s *Store) ListClients(ctx context.Context, tenantID string, p access.Page) ([]access.Client, string, error) {
	items, cursor, err := s.page(ctx, query{partition: map[string]string{AttrPK: tenantPK(tenantID)}, skPrefix: pfxClient, filter: typeIs("client")}, p)
	if err != nil {
		return nil, "", fmt.Errorf("list clients: %w", err)
	}
	clients, err := unmarshalAll(items, clientItem.domain)
	return clients, cursor, err
}

// PutAssignment writes next over prev (nil: none may exist).
func (s *Store) PutAssignment(ctx context.Context, prev *access.Assignment, next access.Assignment, meta access.Meta) error {
	cond := notExists()
	if prev != nil {
		cond = versionIs(prev.Version)
	}
	t := &txn{}
	if err := t.put(s.table, assignmentToItem(next), cond, access.ErrVersionConflict); err != nil {
		return err
	}
	if err := t.meta(s.table, meta); err != nil {
		return err
	}
	return s.commit(ctx, t)
}

// DeleteAssignment removes an assignment if its version is still a.Version.
func (s *Store) DeleteAssignment(ctx context.Context, a access.Assignment, meta access.Meta) error {
	t := &txn{}
	if err := t.delete(s.table, assignmentKey(a.TenantID, a.ClientID, a.UserID), versionIs(a.Version), access.ErrVersionConflict); err != nil {
		return err
	}
	if err := t.meta(s.table, meta); err != nil {
		return err
	}
	return s.commit(ctx, t)
}

// ClientAssignments pages a client's assignments by user id.
func (s *Store) ClientAssignments(ctx context.Context, tenantID, clientID string, p access.Page) ([]access.Assignment, string, error) {
	partition := map[string]string{AttrPK: tenantPK(tenantID)}
	prefix := pfxAccess + clientID + "#"
	items, cursor, err := s.page(ctx, query{partition: partition, skPrefix: prefix}, p)
	if err != nil {
		return nil, "", fmt.Errorf("list assignments of client: %w", err)
	}
	out, err := unmarshalAll(items, assignmentItem.domain)
	return out, cursor, err
}

// AssignmentsOn reads some users' assignments on one client.
func (s *Store) AssignmentsOn(ctx context.Context, tenantID, clientID string, userIDs []string) (map[string]access.Assignment, error) {
	out := map[string]access.Assignment{}
	if len(userIDs) == 0 {
		return out, nil
	}
	keys := make([]map[string]types.AttributeValue, 0, len(userIDs))
	for _, u := range userIDs {
		keys = append(keys, assignmentKey(tenantID, clientID, u))
	}
	items, err := s.batchGet(ctx, keys)
	if err != nil {
		return nil, fmt.Errorf("get assignments: %w", err)
	}
	for _, av := range items {
		var it assignmentItem
		if err := attributevalue.UnmarshalMap(av, &it); err != nil {
			return nil, fmt.Errorf("unmarshal assignment: %w", err)
		}
		out[it.UserID] = it.domain()
	}
	return out, nil
}

// gsi1After reads up to limit items of a GSI1 partition whose sort key is prefix+id with id
// after `after`, in order; more reports whether any follow. It bounds the range by the prefix
// itself, so it never depends on what else shares the partition.
func (s *Store) gsi1After(ctx context.Context, pk, prefix, after string, limit int) ([]map[string]types.AttributeValue, bool, error) {
	kc := expression.Key(AttrGSI1PK).Equal(expression.Value(pk))
	if after == "" {
		kc = kc.And(expression.Key(AttrGSI1SK).BeginsWith(prefix))
	} else {
		kc = kc.And(expression.Key(AttrGSI1SK).GreaterThan(expression.Value(prefix + after)))
	}
	e, err := expression.NewBuilder().WithKeyCondition(kc).Build()
	if err != nil {
		return nil, false, fmt.Errorf("build query: %w", err)
	}
	in := &dynamodb.QueryInput{
		TableName: aws.String(s.table), IndexName: aws.String(GSI1), KeyConditionExpression: e.KeyCondition(),
		ExpressionAttributeNames: e.Names(), ExpressionAttributeValues: e.Values(), Limit: aws.Int32(int32(limit + 1)),
	}
	var out []map[string]types.AttributeValue
	for {
		res, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, false, fmt.Errorf("query %s: %w", GSI1, err)
		}
		for _, it := range res.Items {
			sk, _ := it[AttrGSI1SK].(*types.AttributeValueMemberS)
			if sk == nil || !strings.HasPrefix(sk.Value, prefix) {
				return out, false, nil // past the prefix: the range is done
			}
			if len(out) == limit {
				return out, true, nil
			}
			out = append(out, it)
		}
		if res.LastEvaluatedKey == nil {
			return out, false, nil
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
	}
}

// UserAssignmentsAfter reads a user's assignments from GSI1, by client id.
func (s *Store) UserAssignmentsAfter(ctx context.Context, tenantID, userID, after string, limit int) ([]access.Assignment, bool, error) {
	items, _, more, err := s.rangeAfter(ctx, GSI1, userAccessPK(tenantID, userID), pfxAccess, after, limit, 2, typeFilter(typeAssignment))
	if err != nil {
		return nil, false, fmt.Errorf("assignments of user: %w", err)
	}
	out, err := unmarshalAll(items, assignmentItem.domain)
	return out, more, err
}

// PolicyClientsAfter reads the tenant's clients with a policy level from GSI1, by client id.
func (s *Store) PolicyClientsAfter(ctx context.Context, tenantID, after string, limit int) ([]access.Client, bool, error) {
	items, more, err := s.gsi1After(ctx, policyClientsPK(tenantID), pfxAccess, after, limit)
	if err != nil {
		return nil, false, fmt.Errorf("policy clients: %w", err)
	}
	out, err := unmarshalAll(items, clientItem.domain)
	return out, more, err
}

// UsersByID reads several users in one BatchGetItem per 100.
func (s *Store) UsersByID(ctx context.Context, tenantID string, ids []string) (map[string]access.User, error) {
	out := map[string]access.User{}
	if len(ids) == 0 {
		return out, nil
	}
	keys := make([]map[string]types.AttributeValue, 0, len(ids))
	for _, id := range ids {
		keys = append(keys, key(tenantPK(tenantID), pfxUser+id))
	}
	items, err := s.batchGet(ctx, keys)
	if err != nil {
		return nil, fmt.Errorf("get users: %w", err)
	}
	for _, av := range items {
		u, err := unmarshalUser(av)
		if err != nil {
			return nil, err
		}
		out[u.ID] = u
	}
	return out, nil
}

// addUserAssignmentDeletes adds the deletion of a user's assignments to t as far as the
// transaction has room and returns the keys left for deleteKeys.
func (s *Store) addUserAssignmentDeletes(ctx context.Context, t *txn, u access.User) ([]map[string]types.AttributeValue, error) {
	var keys []map[string]types.AttributeValue
	after := ""
	for {
		asgs, more, err := s.UserAssignmentsAfter(ctx, u.TenantID, u.ID, after, access.MaxPageLimit)
		if err != nil {
			return nil, err
		}
		for _, a := range asgs {
			keys = append(keys, assignmentKey(a.TenantID, a.ClientID, a.UserID))
		}
		if !more || len(asgs) == 0 {
			break
		}
		after = asgs[len(asgs)-1].ClientID
	}
	for len(keys) > 0 && len(t.items) < 100 {
		if err := t.delete(s.table, keys[0], nil, nil); err != nil {
			return nil, err
		}
		keys = keys[1:]
	}
	return keys, nil
}

// deleteKeys deletes items with BatchWriteItem, 25 at a time, retrying unprocessed ones after
// the SDK's backoff (batchPause).
// Deleting is idempotent, so a retry of the whole never harms.
func (s *Store) deleteKeys(ctx context.Context, keys []map[string]types.AttributeValue) error {
	for start := 0; start < len(keys); start += 25 {
		var reqs []types.WriteRequest
		for _, k := range keys[start:min(start+25, len(keys))] {
			reqs = append(reqs, types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: k}})
		}
		if err := s.batchWrite(ctx, reqs); err != nil {
			return fmt.Errorf("delete: %w", err)
		}
	}
	return nil
}

func (s *Store) batchWrite(ctx context.Context, reqs []types.WriteRequest) error {
	for attempt := 0; len(reqs) > 0; attempt++ {
		if err := s.batchPause(ctx, attempt); err != nil {
			return fmt.Errorf("batch write: %d items unprocessed: %w", len(reqs), err)
		}
		res, err := s.db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{s.table: reqs}})
		if err != nil {
			return fmt.Errorf("batch write: %w", err)
		}
		reqs = res.UnprocessedItems[s.table]
	}
	return nil
}

// SeedUsers writes users straight into the table with BatchWriteItem, 25 at a time: for tests
// and local data sets that need thousands of employees quickly. It writes their member-index
// entries but no email claims and no audit entries, so it is no substitute for CreateUser.
func (s *Store) SeedUsers(ctx context.Context, users []access.User) error {
	for start := 0; start < len(users); start += 25 {
		var reqs []types.WriteRequest
		for _, u := range users[start:min(start+25, len(users))] {
			av, err := attributevalue.MarshalMap(userToItem(u))
			if err != nil {
				return fmt.Errorf("marshal user: %w", err)
			}
			reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: av}})
		}
		if err := s.batchWrite(ctx, reqs); err != nil {
			return fmt.Errorf("seed users: %w", err)
		}
	}
	return s.seedMembers(ctx, users)
}
