package dynamo

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// gsi2After reads up to limit items of one cross-tenant sweep partition of GSI2 (the user bank,
// pending anonymisation effects, the outbox) after a position, which is an item's GSI2SK: the
// sweeps page through them oldest first. proj, when set, reads only those attributes.
func (s *Store) gsi2After(ctx context.Context, pk, position string, limit int, proj *expression.ProjectionBuilder) ([]map[string]types.AttributeValue, error) {
	kc := expression.Key(AttrGSI2PK).Equal(expression.Value(pk))
	if position != "" {
		kc = kc.And(expression.Key(AttrGSI2SK).GreaterThan(expression.Value(position)))
	}
	b := expression.NewBuilder().WithKeyCondition(kc)
	if proj != nil {
		b = b.WithProjection(*proj)
	}
	e, err := b.Build()
	if err != nil {
		return nil, fmt.Errorf("build query: %w", err)
	}
	res, err := s.db.Query(ctx, &dynamodb.QueryInput{TableName: aws.String(s.table), IndexName: aws.String(GSI2),
		KeyConditionExpression: e.KeyCondition(), ProjectionExpression: e.Projection(),
		ExpressionAttributeNames: e.Names(), ExpressionAttributeValues: e.Values(), Limit: aws.Int32(int32(limit))})
	if err != nil {
		return nil, fmt.Errorf("query %s %s: %w", GSI2, pk, err)
	}
	return res.Items, nil
}
