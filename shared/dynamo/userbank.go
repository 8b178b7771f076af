package dynamo

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tilgang/tilgang/shared/access"
)

// What an anonymisation still owes, and what the user lifecycle ends with a user.
//
//	pending effects   PK TENANT#t  SK ANONPENDING#u   deleteLogin, publish, forgetComments, since
//	                  GSI2PK ANONPENDING  GSI2SK since#t#u   (sparse, across tenants)
//
// The marker is written in the anonymisation's transaction (access.Meta.Pending) and deleted
// once the login is deleted, the event published and the review comments about the user removed; the sweep reads GSI2, oldest first.
const (
	pfxPending = "ANONPENDING#"
	pendingPK  = "ANONPENDING"
)

type pendingItem struct {
	PK          string `dynamodbav:"PK"`
	SK          string `dynamodbav:"SK"`
	GSI2PK      string `dynamodbav:"GSI2PK"`
	GSI2SK      string `dynamodbav:"GSI2SK"`
	Type        string `dynamodbav:"type"`
	TenantID    string `dynamodbav:"tenantId"`
	UserID      string `dynamodbav:"userId"`
	DeleteLogin bool   `dynamodbav:"deleteLogin"`
	Publish     bool   `dynamodbav:"publish"`
	// ForgetComments is absent from markers written before it existed: nothing owed there.
	ForgetComments bool   `dynamodbav:"forgetComments,omitempty"`
	Since          string `dynamodbav:"since"`
}

func pendingKey(tenantID, userID string) map[string]types.AttributeValue {
	return key(tenantPK(tenantID), pfxPending+userID)
}

func pendingToItem(p access.PendingEffects) pendingItem {
	return pendingItem{PK: tenantPK(p.TenantID), SK: pfxPending + p.UserID,
		GSI2PK: pendingPK, GSI2SK: ts(p.Since) + "#" + p.TenantID + "#" + p.UserID,
		Type: "anonymisation_pending", TenantID: p.TenantID, UserID: p.UserID,
		DeleteLogin: p.DeleteLogin, Publish: p.Publish, ForgetComments: p.ForgetComments, Since: ts(p.Since)}
}

func (it pendingItem) domain() access.PendingEffects {
	return access.PendingEffects{TenantID: it.TenantID, UserID: it.UserID, DeleteLogin: it.DeleteLogin,
		Publish: it.Publish, ForgetComments: it.ForgetComments, Since: parseTS(it.Since), Position: it.GSI2SK}
}

// GetPendingEffects reads a user's marker; ErrNotFound when nothing is owed.
func (s *Store) GetPendingEffects(ctx context.Context, tenantID, userID string) (access.PendingEffects, error) {
	var it pendingItem
	if err := s.getItem(ctx, pendingKey(tenantID, userID), "pending anonymisation effects", &it); err != nil {
		return access.PendingEffects{}, err
	}
	return it.domain(), nil
}

// PendingEffectsAfter reads the markers of every tenant from GSI2 after a position (a marker's
// GSI2SK), oldest first.
func (s *Store) PendingEffectsAfter(ctx context.Context, position string, limit int) ([]access.PendingEffects, error) {
	items, err := s.gsi2After(ctx, pendingPK, position, limit, nil)
	if err != nil {
		return nil, fmt.Errorf("pending anonymisation effects: %w", err)
	}
	return unmarshalAll(items, pendingItem.domain)
}

// errSettled is the condition failure of a marker that another run deleted meanwhile.
var errSettled = access.Conflict("the pending effects were settled meanwhile")

// SettlePendingEffects rewrites the marker with what is still owed, or deletes it when nothing
// is. The rewrite is conditional on the marker still existing, so a run that settled less
// cannot bring back a marker another run deleted.
func (s *Store) SettlePendingEffects(ctx context.Context, next access.PendingEffects) error {
	t := &txn{}
	if next.Done() {
		if err := t.delete(s.table, pendingKey(next.TenantID, next.UserID), nil, nil); err != nil {
			return err
		}
		return s.commit(ctx, t)
	}
	exists := expression.AttributeExists(expression.Name(AttrPK))
	if err := t.put(s.table, pendingToItem(next), &exists, errSettled); err != nil {
		return err
	}
	// Compared by identity: errors.Is would match any conflict.
	if err := s.commit(ctx, t); err != nil && err != errSettled {
		return err
	}
	return nil
}

// ClientRolesOf lists the clients where a user is client administrator and where they hold
// consultant programs, from the user's GSI1 partition.
func (s *Store) ClientRolesOf(ctx context.Context, tenantID, userID string) (access.ClientRoles, error) {
	roles, _, err := s.clientRoles(ctx, tenantID, userID)
	return roles, err
}

// clientRoles reads a user's client roles and the table keys of their items.
func (s *Store) clientRoles(ctx context.Context, tenantID, userID string) (access.ClientRoles, []map[string]types.AttributeValue, error) {
	var roles access.ClientRoles
	var keys []map[string]types.AttributeValue
	for _, prefix := range []string{pfxClientAdmin, pfxPrograms} {
		after := ""
		for {
			var items []map[string]types.AttributeValue
			var more bool
			var err error
			if prefix == pfxClientAdmin {
				items, more, err = s.gsi1After(ctx, userAccessPK(tenantID, userID), prefix, after, access.MaxPageLimit)
			} else {
				items, _, more, err = s.rangeAfter(ctx, GSI1, userAccessPK(tenantID, userID), pfxAccess, after, access.MaxPageLimit, 2, typeFilter(typeGrant))
			}
			if err != nil {
				return access.ClientRoles{}, nil, fmt.Errorf("client roles of user: %w", err)
			}
			for _, av := range items {
				var it struct {
					PK       string `dynamodbav:"PK"`
					SK       string `dynamodbav:"SK"`
					ClientID string `dynamodbav:"clientId"`
				}
				if err := attributevalue.UnmarshalMap(av, &it); err != nil {
					return access.ClientRoles{}, nil, fmt.Errorf("unmarshal client role: %w", err)
				}
				keys = append(keys, key(it.PK, it.SK))
				if prefix == pfxClientAdmin {
					roles.AdminOf = append(roles.AdminOf, it.ClientID)
				} else {
					roles.ProgramsAt = append(roles.ProgramsAt, it.ClientID)
				}
				after = it.ClientID
			}
			if !more || len(items) == 0 {
				break
			}
		}
	}
	return roles, keys, nil
}

// addClientRoleDeletes adds the deletion of a user's client roles to t as far as the
// transaction has room and returns the keys left for deleteKeys.
func (s *Store) addClientRoleDeletes(ctx context.Context, t *txn, tenantID, userID string) ([]map[string]types.AttributeValue, error) {
	_, keys, err := s.clientRoles(ctx, tenantID, userID)
	if err != nil {
		return nil, err
	}
	for len(keys) > 0 && len(t.items) < 100 {
		if err := t.delete(s.table, keys[0], nil, nil); err != nil {
			return nil, err
		}
		keys = keys[1:]
	}
	return keys, nil
}
