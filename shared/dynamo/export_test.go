package dynamo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tilgang/tilgang/shared/access"
)

// PutClientRolesForTest makes a user client administrator and gives them consultant programs at
// n clients c_000, c_001, …, through the items' own conversions, as the client-admin routes and
// the job worker write them.
func (s *Store) PutClientRolesForTest(ctx context.Context, u access.User, n int) error {
	var reqs []types.WriteRequest
	for i := range n {
		c := fmt.Sprintf("c_%03d", i)
		for _, it := range []any{
			clientAdminToItem(access.ClientAdmin{TenantID: u.TenantID, ClientID: c, UserID: u.ID, System: true, Version: 1}),
			clientGrantToItem(access.ClientGrant{TenantID: u.TenantID, ClientID: c, UserID: u.ID, Programs: []string{"payroll"}, Version: 1}),
		} {
			av, err := attributevalue.MarshalMap(it)
			if err != nil {
				return err
			}
			reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: av}})
		}
	}
	if n > 0 {
		if err := s.flagGrantsForTest(ctx, u.TenantID); err != nil {
			return err
		}
	}
	for start := 0; start < len(reqs); start += 25 {
		if err := s.batchWrite(ctx, reqs[start:min(start+25, len(reqs))]); err != nil {
			return err
		}
	}
	return nil
}

// FillGroupSetForTest gives a tenant's group set n entries, as n group creates would.
func (s *Store) FillGroupSetForTest(ctx context.Context, tenantID string, n int) error {
	set := groupSetItem{PK: tenantPK(tenantID), SK: skGroupSet, Type: "groupset", Groups: map[string]groupSetEntry{}}
	for i := range n {
		set.Groups[fmt.Sprintf("g_%04d", i)] = groupSetEntry{Name: "G", Permissions: map[string]permItem{}, Version: 1}
	}
	av, err := attributevalue.MarshalMap(set)
	if err != nil {
		return err
	}
	_, err = s.Client().PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: av})
	return err
}

// ObserveBatchPausesForTest has f told every backoff before a retry of unprocessed batch items.
func (s *Store) ObserveBatchPausesForTest(f func(time.Duration)) { s.pauses = f }

// PutClientGrantForTest writes one bureau grant through its item conversion, as the job worker
// writes it.
func (s *Store) PutClientGrantForTest(ctx context.Context, g access.ClientGrant) error {
	av, err := attributevalue.MarshalMap(clientGrantToItem(g))
	if err != nil {
		return err
	}
	if err := s.flagGrantsForTest(ctx, g.TenantID); err != nil {
		return err
	}
	return s.batchWrite(ctx, []types.WriteRequest{{PutRequest: &types.PutRequest{Item: av}}})
}

// flagGrantsForTest sets the tenant's grants flag as the job worker's first grant would, in
// tenants that have a group set to carry it (some tests write relations under a bare tenant id).
func (s *Store) flagGrantsForTest(ctx context.Context, tenantID string) error {
	if err := s.markFlag(ctx, tenantID, flagClientGrants); !errors.Is(err, errNoGroupSet) {
		return err
	}
	return nil
}
