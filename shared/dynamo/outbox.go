package dynamo

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/tilgang/tilgang/shared/access"
)

// The outbox (access.OutboxEntry):
//
//	entry   PK TENANT#t (OUTBOX#SYSTEM for system entries)  SK OUTBOX#<id>   effect, userId, event
//	        GSI2PK OUTBOX  GSI2SK since#<id>   (sparse, across tenants, oldest first)
//
// Entries are written in the transaction of the change that owes them (access.Meta.Outbox) and
// deleted once applied; the sweep reads GSI2.
const (
	pfxOutbox      = "OUTBOX#"
	outboxPK       = "OUTBOX"
	outboxSystemPK = "OUTBOX#SYSTEM"
)

type outboxItem struct {
	PK          string            `dynamodbav:"PK"`
	SK          string            `dynamodbav:"SK"`
	GSI2PK      string            `dynamodbav:"GSI2PK"`
	GSI2SK      string            `dynamodbav:"GSI2SK"`
	Type        string            `dynamodbav:"type"`
	ID          string            `dynamodbav:"id"`
	TenantID    string            `dynamodbav:"tenantId,omitempty"`
	UserID      string            `dynamodbav:"userId,omitempty"`
	Effect      string            `dynamodbav:"effect"`
	EventType   string            `dynamodbav:"eventType,omitempty"`
	EventDetail map[string]string `dynamodbav:"eventDetail,omitempty"`
	Since       string            `dynamodbav:"since"`
}

func outboxKey(e access.OutboxEntry) map[string]string {
	pk := outboxSystemPK
	if e.TenantID != "" {
		pk = tenantPK(e.TenantID)
	}
	return map[string]string{AttrPK: pk, AttrSK: pfxOutbox + e.ID}
}

func outboxToItem(e access.OutboxEntry) outboxItem {
	k := outboxKey(e)
	it := outboxItem{PK: k[AttrPK], SK: k[AttrSK], GSI2PK: outboxPK, GSI2SK: ts(e.Since) + "#" + e.ID, Type: "outbox",
		ID: e.ID, TenantID: e.TenantID, UserID: e.UserID, Effect: string(e.Effect), Since: ts(e.Since)}
	if e.Event != nil {
		it.EventType, it.EventDetail = e.Event.Type, e.Event.Detail
	}
	return it
}

func (it outboxItem) domain() access.OutboxEntry {
	e := access.OutboxEntry{ID: it.ID, TenantID: it.TenantID, UserID: it.UserID, Effect: access.Effect(it.Effect),
		Since: parseTS(it.Since), Position: it.GSI2SK}
	if it.EventType != "" {
		e.Event = &access.Event{Type: it.EventType, Detail: it.EventDetail}
	}
	return e
}

// outbox adds a change's outbox entries to its transaction.
func (t *txn) outbox(table string, entries []access.OutboxEntry) error {
	for _, e := range entries {
		if err := t.put(table, outboxToItem(e), notExists(), access.Conflict("outbox entry %s exists", e.ID)); err != nil {
			return err
		}
	}
	return nil
}

// OutboxAfter reads entries of every tenant from GSI2 after a position, oldest first.
func (s *Store) OutboxAfter(ctx context.Context, position string, limit int) ([]access.OutboxEntry, error) {
	items, err := s.gsi2After(ctx, outboxPK, position, limit, nil)
	if err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	return unmarshalAll(items, outboxItem.domain)
}

// DeleteOutbox deletes an applied entry.
func (s *Store) DeleteOutbox(ctx context.Context, e access.OutboxEntry) error {
	if _, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.table), Key: avKey(outboxKey(e))}); err != nil {
		return fmt.Errorf("delete outbox entry %s: %w", e.ID, err)
	}
	return nil
}

// RollBackTenant deletes a tenant that was just opened, with its owner, their email claim and
// calendars, the group set and the outbox entry, in one transaction: only if the entry still
// exists (nobody applied or rolled it back meanwhile) and the tenant and owner are unchanged.
func (s *Store) RollBackTenant(ctx context.Context, tn access.Tenant, owner access.User, e access.OutboxEntry) error {
	t := &txn{}
	changed := access.Conflict("tenant %s changed since it was opened", tn.ID)
	if err := t.delete(s.table, key(tenantPK(tn.ID), skTenant), versionIs(tn.Version), changed); err != nil {
		return err
	}
	if err := t.delete(s.table, key(tenantPK(tn.ID), pfxUser+owner.ID), versionIs(owner.Version), changed); err != nil {
		return err
	}
	if err := s.indexMembers(t, &owner, nil); err != nil {
		return err
	}
	owned := expression.Name("userId").Equal(expression.Value(owner.ID))
	if err := t.delete(s.table, avKey(emailKey(owner.Email)), &owned, changed); err != nil {
		return err
	}
	for _, cal := range owner.CalendarIDs {
		if err := t.delete(s.table, key(tenantPK(tn.ID), pfxCalendar+cal), nil, nil); err != nil {
			return err
		}
	}
	if err := t.delete(s.table, key(tenantPK(tn.ID), skGroupSet), nil, nil); err != nil {
		return err
	}
	exists := expression.AttributeExists(expression.Name(AttrPK))
	if err := t.delete(s.table, avKey(outboxKey(e)), &exists, access.Conflict("outbox entry %s was applied meanwhile", e.ID)); err != nil {
		return err
	}
	return s.commit(ctx, t)
}
