package dynamo

import (
	"context"
	"fmt"

	"github.com/tilgang/tilgang/shared/access"
)

// ListAudit pages a tenant's audit partition newest first (entry ids are time-ordered ULIDs).
func (s *Store) ListAudit(ctx context.Context, tenantID string, p access.Page) ([]access.AuditEntry, string, error) {
	items, cursor, err := s.page(ctx, query{partition: map[string]string{AttrPK: pfxAudit + tenantID}, backwards: true}, p)
	if err != nil {
		return nil, "", fmt.Errorf("list audit: %w", err)
	}
	entries, err := unmarshalAll(items, auditItem.domain)
	return entries, cursor, err
}

// GetIdempotency reads the record a first create left for its retries.
func (s *Store) GetIdempotency(ctx context.Context, tenantID, op, k string) (access.IdempotencyRecord, error) {
	var it idempotencyItem
	if err := s.getItem(ctx, key(tenantPK(tenantID), idempotencySK(op, k)), "idempotency record", &it); err != nil {
		return access.IdempotencyRecord{}, err
	}
	return access.IdempotencyRecord{TenantID: tenantID, Key: it.Key, Operation: it.Operation, RequestHash: it.RequestHash,
		ResourceID: it.ResourceID, CreatedAt: parseTS(it.CreatedAt)}, nil
}

// WriteMeta writes a change's audit entries and idempotency record without any other item.
func (s *Store) WriteMeta(ctx context.Context, meta access.Meta) error {
	t := &txn{}
	if err := t.meta(s.table, meta); err != nil {
		return err
	}
	return s.commit(ctx, t)
}
