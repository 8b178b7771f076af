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

// Key prefixes of assistant links (tenant partition) and employment number claims.
const (
	pfxLink         = "LINK#"  // SK LINK#<userId>#<clientId>
	pfxEmpNo        = "EMPNO#" // SK EMPNO#<lower-case number>: one per tenant
	pfxClientIndex  = "#CLIENT#"
	pfxAssistantIdx = "ASSISTANT#" // GSI1SK under GSI1PK TENANT#<t>#CLIENT#<c>
)

var errEmpNoTaken = access.Conflict("this employment number is already used in this organisation")

// linkItem is an assistant link. GSI1 answers "the assistants of a client".
type linkItem struct {
	PK               string `dynamodbav:"PK"`
	SK               string `dynamodbav:"SK"`
	GSI1PK           string `dynamodbav:"GSI1PK"`
	GSI1SK           string `dynamodbav:"GSI1SK"`
	Type             string `dynamodbav:"type"`
	TenantID         string `dynamodbav:"tenantId"`
	UserID           string `dynamodbav:"userId"`
	ClientID         string `dynamodbav:"clientId"`
	Status           string `dynamodbav:"status"`
	EmploymentRate   int    `dynamodbav:"employmentRate"`
	EmploymentNumber string `dynamodbav:"employmentNumber"`
	Color            string `dynamodbav:"color"`
	Version          int    `dynamodbav:"version"`
	CreatedAt        string `dynamodbav:"createdAt"`
	UpdatedAt        string `dynamodbav:"updatedAt"`
}

func linkSK(userID, clientID string) string { return pfxLink + userID + "#" + clientID }

func linkKey(tenantID, userID, clientID string) map[string]types.AttributeValue {
	return key(tenantPK(tenantID), linkSK(userID, clientID))
}

func clientLinksPK(tenantID, clientID string) string {
	return tenantPK(tenantID) + pfxClientIndex + clientID
}

func linkToItem(l access.Link) linkItem {
	return linkItem{
		PK: tenantPK(l.TenantID), SK: linkSK(l.UserID, l.ClientID),
		GSI1PK: clientLinksPK(l.TenantID, l.ClientID), GSI1SK: pfxAssistantIdx + l.UserID,
		Type: "link", TenantID: l.TenantID, UserID: l.UserID, ClientID: l.ClientID, Status: string(l.Status),
		EmploymentRate: l.EmploymentRate, EmploymentNumber: l.EmploymentNumber, Color: l.Color,
		Version: l.Version, CreatedAt: ts(l.CreatedAt), UpdatedAt: ts(l.UpdatedAt),
	}
}

func (it linkItem) domain() access.Link {
	return access.Link{
		TenantID: it.TenantID, UserID: it.UserID, ClientID: it.ClientID, Status: access.LinkStatus(it.Status),
		EmploymentRate: it.EmploymentRate, EmploymentNumber: it.EmploymentNumber, Color: it.Color,
		Version: it.Version, CreatedAt: parseTS(it.CreatedAt), UpdatedAt: parseTS(it.UpdatedAt),
	}
}

// empNoItem claims an employment number within a tenant for one link. It holds the number in
// its key, so anonymisation deletes it.
type empNoItem struct {
	PK       string `dynamodbav:"PK"`
	SK       string `dynamodbav:"SK"`
	Type     string `dynamodbav:"type"`
	UserID   string `dynamodbav:"userId"`
	ClientID string `dynamodbav:"clientId"`
}

func empNoSK(number string) string { return pfxEmpNo + strings.ToLower(number) }

func empNoKey(tenantID, number string) map[string]types.AttributeValue {
	return key(tenantPK(tenantID), empNoSK(number))
}

// claimed reports whether a link's number takes a claim: the anonymised marker never does.
func claimed(l access.Link) bool {
	return l.EmploymentNumber != "" && l.EmploymentNumber != access.Anonymised
}

func ownedBy(l access.Link) expression.ConditionBuilder {
	return expression.Name("userId").Equal(expression.Value(l.UserID)).And(expression.Name("clientId").Equal(expression.Value(l.ClientID)))
}

// moveClaim adds what moves a link's employment number claim from prev's number to next's: a
// claim is kept while its link exists, whatever the link's status, and a re-added link may
// take its own old claim again.
func (s *Store) moveClaim(t *txn, prev *access.Link, next access.Link) error {
	same := prev != nil && claimed(*prev) && claimed(next) && strings.EqualFold(prev.EmploymentNumber, next.EmploymentNumber)
	if same {
		return nil
	}
	if prev != nil && claimed(*prev) {
		owned := ownedBy(*prev)
		if err := t.delete(s.table, empNoKey(prev.TenantID, prev.EmploymentNumber), &owned, access.ErrVersionConflict); err != nil {
			return err
		}
	}
	if claimed(next) {
		it := empNoItem{PK: tenantPK(next.TenantID), SK: empNoSK(next.EmploymentNumber), Type: "empno",
			UserID: next.UserID, ClientID: next.ClientID}
		free := expression.AttributeNotExists(expression.Name(AttrPK)).Or(ownedBy(next))
		if err := t.put(s.table, it, &free, errEmpNoTaken); err != nil {
			return err
		}
	}
	return nil
}

// GetLink reads one link.
func (s *Store) GetLink(ctx context.Context, tenantID, userID, clientID string) (access.Link, error) {
	var it linkItem
	if err := s.getItem(ctx, linkKey(tenantID, userID, clientID), "link", &it); err != nil {
		return access.Link{}, err
	}
	return it.domain(), nil
}

func statusFilter(status access.LinkStatus) *expression.ConditionBuilder {
	if status == "" {
		return nil
	}
	c := expression.Name("status").Equal(expression.Value(string(status)))
	return &c
}

// ListUserLinks pages a user's links in the tenant partition.
func (s *Store) ListUserLinks(ctx context.Context, tenantID, userID string, status access.LinkStatus, p access.Page) ([]access.Link, string, error) {
	items, cursor, err := s.page(ctx, query{partition: map[string]string{AttrPK: tenantPK(tenantID)},
		skPrefix: pfxLink + userID + "#", filter: statusFilter(status)}, p)
	if err != nil {
		return nil, "", fmt.Errorf("list links of user: %w", err)
	}
	links, err := unmarshalAll(items, linkItem.domain)
	return links, cursor, err
}

// ListClientLinks pages a client's links through GSI1.
func (s *Store) ListClientLinks(ctx context.Context, tenantID, clientID string, status access.LinkStatus, p access.Page) ([]access.Link, string, error) {
	items, cursor, err := s.page(ctx, query{index: GSI1, partition: map[string]string{AttrGSI1PK: clientLinksPK(tenantID, clientID)},
		skPrefix: pfxAssistantIdx, filter: statusFilter(status)}, p)
	if err != nil {
		return nil, "", fmt.Errorf("list links of client: %w", err)
	}
	links, err := unmarshalAll(items, linkItem.domain)
	return links, cursor, err
}

// AllUserLinks reads every link of a user with a strongly consistent query, since removal and
// anonymisation must see the links written just before.
func (s *Store) AllUserLinks(ctx context.Context, tenantID, userID string) ([]access.Link, error) {
	kc := expression.Key(AttrPK).Equal(expression.Value(tenantPK(tenantID))).And(expression.Key(AttrSK).BeginsWith(pfxLink + userID + "#"))
	e, err := expression.NewBuilder().WithKeyCondition(kc).Build()
	if err != nil {
		return nil, fmt.Errorf("build query: %w", err)
	}
	in := &dynamodb.QueryInput{TableName: aws.String(s.table), KeyConditionExpression: e.KeyCondition(),
		ExpressionAttributeNames: e.Names(), ExpressionAttributeValues: e.Values(), ConsistentRead: aws.Bool(true)}
	var out []access.Link
	for {
		res, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("links of user %s: %w", userID, err)
		}
		links, err := unmarshalAll(res.Items, linkItem.domain)
		if err != nil {
			return nil, err
		}
		out = append(out, links...)
		if res.LastEvaluatedKey == nil {
			return out, nil
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
	}
}

// CreateUserWithLink writes a new assistant and their first link in one transaction.
func (s *Store) CreateUserWithLink(ctx context.Context, u access.User, l access.Link, meta access.Meta) error {
	t := &txn{}
	if err := s.putNewUser(t, u); err != nil {
		return err
	}
	if err := t.put(s.table, linkToItem(l), notExists(), access.Conflict("link exists")); err != nil {
		return err
	}
	if err := s.moveClaim(t, nil, l); err != nil {
		return err
	}
	if err := t.meta(s.table, meta); err != nil {
		return err
	}
	return s.commit(ctx, t)
}

// PutLink creates or re-adds a link and bumps its user's version.
func (s *Store) PutLink(ctx context.Context, u access.User, prev *access.Link, next access.Link, meta access.Meta) error {
	t := &txn{}
	bump := expression.Set(expression.Name("version"), expression.Value(u.Version+1)).
		Set(expression.Name("updatedAt"), expression.Value(ts(next.UpdatedAt)))
	if err := t.update(s.table, key(tenantPK(u.TenantID), pfxUser+u.ID), bump, versionIs(u.Version), access.ErrVersionConflict); err != nil {
		return err
	}
	cond := notExists()
	if prev != nil {
		cond = versionIs(prev.Version)
	}
	if err := t.put(s.table, linkToItem(next), cond, access.ErrVersionConflict); err != nil {
		return err
	}
	if err := s.moveClaim(t, prev, next); err != nil {
		return err
	}
	if err := t.meta(s.table, meta); err != nil {
		return err
	}
	return s.commit(ctx, t)
}

// UpdateLink replaces a link if its version is still prev.Version.
func (s *Store) UpdateLink(ctx context.Context, prev, next access.Link, meta access.Meta) error {
	t := &txn{}
	if err := t.put(s.table, linkToItem(next), versionIs(prev.Version), access.ErrVersionConflict); err != nil {
		return err
	}
	if err := s.moveClaim(t, &prev, next); err != nil {
		return err
	}
	if err := t.meta(s.table, meta); err != nil {
		return err
	}
	return s.commit(ctx, t)
}

// UpdateUserWithLinks writes a user and some of their links in one transaction. A change of
// status that ends the user's client roles (access.EndsClientRoles) deletes them too, in the
// transaction as far as it has room and right after it otherwise: deleting is idempotent, and
// a removed or anonymised user cannot sign in to use what is briefly left.
func (s *Store) UpdateUserWithLinks(ctx context.Context, prev, next access.User, links []access.LinkChange, meta access.Meta) error {
	t := &txn{}
	if err := s.putUserUpdate(t, prev, next); err != nil {
		return err
	}
	for _, ch := range links {
		if err := t.put(s.table, linkToItem(ch.Next), versionIs(ch.Prev.Version), access.ErrVersionConflict); err != nil {
			return err
		}
		if err := s.moveClaim(t, &ch.Prev, ch.Next); err != nil {
			return err
		}
	}
	if err := t.meta(s.table, meta); err != nil {
		return err
	}
	if next.Status == access.StatusAnonymised {
		if err := s.forgetDirectoryUser(t, next); err != nil { // its SCIM record is personal data
			return err
		}
	}
	if !access.EndsClientRoles(prev, next) {
		return s.commit(ctx, t)
	}
	rest, err := s.addClientRoleDeletes(ctx, t, next.TenantID, next.ID)
	if err != nil {
		return err
	}
	if err := s.commit(ctx, t); err != nil {
		return err
	}
	return s.deleteKeys(ctx, rest)
}

// DeleteUserWithLinks deletes a user, their email claim, client assignments, client roles,
// links and employment number claims in one transaction (assignments and roles that do not fit
// right after it); their calendars stay, without owner.
func (s *Store) DeleteUserWithLinks(ctx context.Context, u access.User, links []access.Link, meta access.Meta) error {
	t := &txn{}
	if err := t.delete(s.table, key(tenantPK(u.TenantID), pfxUser+u.ID), versionIs(u.Version), access.ErrVersionConflict); err != nil {
		return err
	}
	if err := s.indexMembers(t, &u, nil); err != nil {
		return err
	}
	if u.Email != "" {
		owned := expression.Name("userId").Equal(expression.Value(u.ID))
		if err := t.delete(s.table, avKey(emailKey(u.Email)), &owned, access.ErrVersionConflict); err != nil {
			return err
		}
	}
	if err := s.releaseCalendars(t, u, u.CalendarIDs); err != nil {
		return err
	}
	if err := s.forgetDirectoryUser(t, u); err != nil {
		return err
	}
	for _, l := range links {
		if err := t.delete(s.table, linkKey(l.TenantID, l.UserID, l.ClientID), versionIs(l.Version), access.ErrVersionConflict); err != nil {
			return err
		}
		if claimed(l) {
			owned := ownedBy(l)
			if err := t.delete(s.table, empNoKey(l.TenantID, l.EmploymentNumber), &owned, access.ErrVersionConflict); err != nil {
				return err
			}
		}
	}
	if err := t.meta(s.table, meta); err != nil {
		return err
	}
	// Assignments that do not fit in this transaction go right after it; readers skip the
	// assignments of a user who no longer exists, so the gap gives nobody access.
	rest, err := s.addUserAssignmentDeletes(ctx, t, u)
	if err != nil {
		return err
	}
	roles, err := s.addClientRoleDeletes(ctx, t, u.TenantID, u.ID)
	if err != nil {
		return err
	}
	rest = append(rest, roles...)
	if err := s.commit(ctx, t); err != nil {
		return err
	}
	return s.deleteKeys(ctx, rest)
}

// UserBankAfter reads the cross-tenant user bank index (GSI2, sorted by removal time) after a
// position, which is an entry's sort key: removedAt#tenantId#userId.
func (s *Store) UserBankAfter(ctx context.Context, position string, limit int) ([]access.BankEntry, error) {
	proj := expression.NamesList(expression.Name(AttrGSI2SK), expression.Name("tenantId"), expression.Name("id"), expression.Name("removedAt"))
	items, err := s.gsi2After(ctx, userBankPK, position, limit, &proj)
	if err != nil {
		return nil, fmt.Errorf("user bank: %w", err)
	}
	out := make([]access.BankEntry, 0, len(items))
	for _, av := range items {
		var it struct {
			Position  string `dynamodbav:"GSI2SK"`
			TenantID  string `dynamodbav:"tenantId"`
			ID        string `dynamodbav:"id"`
			RemovedAt string `dynamodbav:"removedAt"`
		}
		if err := attributevalue.UnmarshalMap(av, &it); err != nil {
			return nil, fmt.Errorf("unmarshal user bank entry: %w", err)
		}
		out = append(out, access.BankEntry{TenantID: it.TenantID, UserID: it.ID, RemovedAt: parseTS(it.RemovedAt), Position: it.Position})
	}
	return out, nil
}
