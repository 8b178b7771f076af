package dynamo

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/tilgang/tilgang/shared/access"
)

// Time-bound grants.
//
//	assignment, bureau grant, client administration (their own items):
//	    grantExpiresAt <RFC 3339>   GSI2PK EXPIRING   GSI2SK <expiresAt>#<t>#<SK>
//	user with expiring group memberships:
//	    groupExpiry {<groupId>: {at, by}}   GSI2PK EXPIRING   GSI2SK <earliest>#<t>#USER#<u>
//	    (a user in the user bank keeps its USERBANK entry instead; restoring brings this back)
//
// The sparse EXPIRING partition, sorted by expiry across tenants, is what the sweep reads: items
// due (GSI2SK before now) are removed; items due within the notice period are announced. The
// expiry is not DynamoDB's TTL attribute (expiresAt): a TTL deletion leaves no audit entry and
// comes up to days late, while every removal here is audited as "expired" and decisions never
// wait for it anyway (they compare with the clock).

const expiringPK = "EXPIRING"

// expiryFormat has a fixed width so that GSI2SK sorts by time.
const expiryFormat = "2006-01-02T15:04:05Z"

type expiringItem struct {
	GSI2PK         string `dynamodbav:"GSI2PK,omitempty"`
	GSI2SK         string `dynamodbav:"GSI2SK,omitempty"`
	GrantExpiresAt string `dynamodbav:"grantExpiresAt,omitempty"`
}

func expiryToItem(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(expiryFormat)
}

func expiryFromItem(s string) *time.Time {
	if s == "" {
		return nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return nil
	}
	return &t
}

func expiring(tenantID, sk string, exp *time.Time) expiringItem {
	if exp == nil {
		return expiringItem{}
	}
	e := expiryToItem(exp)
	return expiringItem{GSI2PK: expiringPK, GSI2SK: e + "#" + tenantID + "#" + sk, GrantExpiresAt: e}
}

type groupExpiryItem struct {
	At string `dynamodbav:"at"`
	By string `dynamodbav:"by,omitempty"`
}

func groupExpiryToItem(it *userItem, u access.User) {
	if len(u.GroupExpiry) == 0 {
		return
	}
	it.GroupExpiry = map[string]groupExpiryItem{}
	var first time.Time
	for id, e := range u.GroupExpiry {
		it.GroupExpiry[id] = groupExpiryItem{At: e.At.UTC().Format(expiryFormat), By: e.By}
		if first.IsZero() || e.At.Before(first) {
			first = e.At
		}
	}
	if it.GSI2PK == "" {
		it.GSI2PK, it.GSI2SK = expiringPK, first.UTC().Format(expiryFormat)+"#"+u.TenantID+"#"+pfxUser+u.ID
	}
}

func groupExpiryFromItem(m map[string]groupExpiryItem) map[string]access.GroupExpiry {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]access.GroupExpiry, len(m))
	for id, e := range m {
		t, err := time.Parse(time.RFC3339, e.At)
		if err != nil {
			continue
		}
		out[id] = access.GroupExpiry{At: t, By: e.By}
	}
	return out
}

// ExpiringBetween reads up to limit entries of the EXPIRING index with an expiry in [from, to),
// across tenants, oldest first, starting after the position after ("" from the start).
func (s *Store) ExpiringBetween(ctx context.Context, from, to time.Time, after string, limit int) ([]access.ExpiringRef, error) {
	lo := from.UTC().Format(expiryFormat)
	if after > lo {
		lo = after + "\x00"
	}
	hi := to.UTC().Format(expiryFormat)
	if lo >= hi {
		return nil, nil
	}
	kc := expression.Key(AttrGSI2PK).Equal(expression.Value(expiringPK)).
		And(expression.Key(AttrGSI2SK).Between(expression.Value(lo), expression.Value(hi)))
	expr, err := expression.NewBuilder().WithKeyCondition(kc).Build()
	if err != nil {
		return nil, err
	}
	res, err := s.db.Query(ctx, &dynamodb.QueryInput{TableName: aws.String(s.table), IndexName: aws.String(GSI2),
		KeyConditionExpression: expr.KeyCondition(), ExpressionAttributeNames: expr.Names(),
		ExpressionAttributeValues: expr.Values(), Limit: aws.Int32(int32(limit))})
	if err != nil {
		return nil, fmt.Errorf("expiring items: %w", err)
	}
	var out []access.ExpiringRef
	for _, av := range res.Items {
		var it struct {
			PK     string `dynamodbav:"PK"`
			SK     string `dynamodbav:"SK"`
			GSI2SK string `dynamodbav:"GSI2SK"`
		}
		if err := attributevalue.UnmarshalMap(av, &it); err != nil {
			return nil, fmt.Errorf("unmarshal expiring item: %w", err)
		}
		if it.GSI2SK >= hi {
			continue // Between is inclusive; to is not
		}
		ref := access.ExpiringRef{TenantID: strings.TrimPrefix(it.PK, pfxTenant), Position: it.GSI2SK}
		switch {
		case strings.HasPrefix(it.SK, pfxAccess):
			ref.Kind = access.ExpiringAssignment
			ref.ClientID, ref.UserID = splitPair(strings.TrimPrefix(it.SK, pfxAccess))
		case strings.HasPrefix(it.SK, pfxPrograms):
			ref.Kind = access.ExpiringGrant
			ref.ClientID, ref.UserID = splitPair(strings.TrimPrefix(it.SK, pfxPrograms))
		case strings.HasPrefix(it.SK, pfxClientAdmin):
			ref.Kind = access.ExpiringClientAdmin
			ref.ClientID, ref.UserID = splitPair(strings.TrimPrefix(it.SK, pfxClientAdmin))
		case strings.HasPrefix(it.SK, pfxUser):
			ref.Kind = access.ExpiringGroups
			ref.UserID = strings.TrimPrefix(it.SK, pfxUser)
		default:
			continue
		}
		out = append(out, ref)
	}
	return out, nil
}

func splitPair(s string) (string, string) {
	a, b, _ := strings.Cut(s, "#")
	return a, b
}

// DeleteExpiredAssignment removes an assignment if it is still the one read (its version).
func (s *Store) DeleteExpiredAssignment(ctx context.Context, a access.Assignment, meta access.Meta) error {
	return s.DeleteAssignment(ctx, a, meta)
}

// DeleteExpiredGrant removes a bureau grant if it is still the one read (its version).
func (s *Store) DeleteExpiredGrant(ctx context.Context, g access.ClientGrant, meta access.Meta) error {
	t := &txn{}
	if err := t.delete(s.table, key(tenantPK(g.TenantID), programsSK(g.ClientID, g.UserID)), versionIs(g.Version), access.ErrVersionConflict); err != nil {
		return err
	}
	if err := t.meta(s.table, meta); err != nil {
		return err
	}
	return s.commit(ctx, t)
}

// GetGrant reads one bureau grant; ErrNotFound when there is none.
func (s *Store) GetGrant(ctx context.Context, tenantID, clientID, userID string) (access.ClientGrant, error) {
	var it clientGrantItem
	if err := s.getItem(ctx, key(tenantPK(tenantID), programsSK(clientID, userID)), "client grant", &it); err != nil {
		return access.ClientGrant{}, err
	}
	return it.domain(), nil
}

// GetAssignment reads one assignment; ErrNotFound when there is none.
func (s *Store) GetAssignment(ctx context.Context, tenantID, clientID, userID string) (access.Assignment, error) {
	var it assignmentItem
	if err := s.getItem(ctx, assignmentKey(tenantID, clientID, userID), "assignment", &it); err != nil {
		return access.Assignment{}, err
	}
	return it.domain(), nil
}

// PutNotificationOnce writes a notification unless one with its id exists (ErrConflict).
func (s *Store) PutNotificationOnce(ctx context.Context, n access.Notification) error {
	t := &txn{}
	if err := t.put(s.table, notificationToItem(n), notExists(), access.Conflict("notification %s exists", n.ID)); err != nil {
		return err
	}
	return s.commit(ctx, t)
}
