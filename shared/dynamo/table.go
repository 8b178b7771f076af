// Package dynamo is the single-table DynamoDB adapter: items, keys and the Store.
package dynamo

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Key and index attribute names of the single table. The CDK stack reads these too.
const (
	AttrPK     = "PK"
	AttrSK     = "SK"
	AttrGSI1PK = "GSI1PK"
	AttrGSI1SK = "GSI1SK"
	AttrGSI2PK = "GSI2PK"
	AttrGSI2SK = "GSI2SK"
	// AttrTTL holds the epoch second after which DynamoDB may delete the item.
	AttrTTL = "expiresAt"

	// GSI1 is the inverted look-up index (for example client → users, user → clients).
	GSI1 = "GSI1"
	// GSI2 is a sparse index for cross-tenant sweeps (for example the user bank by removal time).
	GSI2 = "GSI2"
)

// CreateTableInput is the table's definition; local servers and tests create it from here, and
// the CDK stack declares the same keys and indexes.
func CreateTableInput(name string) *dynamodb.CreateTableInput {
	s := types.ScalarAttributeTypeS
	return &dynamodb.CreateTableInput{
		TableName:   aws.String(name),
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String(AttrPK), AttributeType: s},
			{AttributeName: aws.String(AttrSK), AttributeType: s},
			{AttributeName: aws.String(AttrGSI1PK), AttributeType: s},
			{AttributeName: aws.String(AttrGSI1SK), AttributeType: s},
			{AttributeName: aws.String(AttrGSI2PK), AttributeType: s},
			{AttributeName: aws.String(AttrGSI2SK), AttributeType: s},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String(AttrPK), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(AttrSK), KeyType: types.KeyTypeRange},
		},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{
			{
				IndexName: aws.String(GSI1),
				KeySchema: []types.KeySchemaElement{
					{AttributeName: aws.String(AttrGSI1PK), KeyType: types.KeyTypeHash},
					{AttributeName: aws.String(AttrGSI1SK), KeyType: types.KeyTypeRange},
				},
				Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
			},
			{
				IndexName: aws.String(GSI2),
				KeySchema: []types.KeySchemaElement{
					{AttributeName: aws.String(AttrGSI2PK), KeyType: types.KeyTypeHash},
					{AttributeName: aws.String(AttrGSI2SK), KeyType: types.KeyTypeRange},
				},
				Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
			},
		},
	}
}
