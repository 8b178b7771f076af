package dynamo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Whether a tenant has clients under the new-client policy decides whether "which clients can
// user u open" must read the policy-client partition at all. The group set, which every
// request's principal reads anyway, carries the answer (policyClients), set before the first
// such client is written and never cleared (clients are not deleted), so it is monotonic: once
// this process has seen it set for a tenant it remembers that, and a look-up can read the
// partition at once, alongside the principal, instead of after it. A tenant not (yet) known to
// have any costs no read of the partition.

// notePolicyClients remembers a tenant whose group set says it has policy clients.
func (s *Store) notePolicyClients(tenantID string, set *groupSetItem) {
	if set != nil && set.PolicyClients {
		s.policyTenants.Store(tenantID, true)
	}
}

// MayHavePolicyClients reports whether the tenant is known to have clients under the
// new-client policy: true once any read of its group set in this process said so. False means
// "not known": after this request's principal was read, it means the tenant had none then.
func (s *Store) MayHavePolicyClients(tenantID string) bool {
	_, ok := s.policyTenants.Load(tenantID)
	return ok
}

// markPolicyClients sets the tenant's flag before its first policy client is written (a
// look-up that misses the flag then finds no policy client either). It writes only while this
// process does not know the flag set: after the first client, nothing.
func (s *Store) markPolicyClients(ctx context.Context, tenantID string) error {
	if s.MayHavePolicyClients(tenantID) {
		return nil
	}
	in := &dynamodb.UpdateItemInput{TableName: aws.String(s.table), Key: groupSetKey(tenantID),
		UpdateExpression: aws.String("SET policyClients = :t"), ConditionExpression: aws.String("attribute_exists(PK)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":t": &types.AttributeValueMemberBOOL{Value: true}}}
	var err error
	for attempt := 1; attempt <= 4; attempt++ {
		_, err = s.db.UpdateItem(ctx, in)
		var conflict *types.TransactionConflictException
		if !errors.As(err, &conflict) {
			break
		}
		// A group change's transaction holds the set at this moment; the write is idempotent,
		// so it is sent again once that is done.
		time.Sleep(time.Duration(attempt*attempt) * 20 * time.Millisecond)
	}
	if err != nil {
		return fmt.Errorf("mark policy clients of tenant %s: %w", tenantID, err)
	}
	s.policyTenants.Store(tenantID, true)
	return nil
}
