package httpapi_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tilgang/tilgang/shared/apitest"
)

func getItem(t *testing.T, env *apitest.Env, pk, sk string) map[string]types.AttributeValue {
	t.Helper()
	res, err := env.App.Dynamo.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String(env.Config.TableName),
		Key: map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: pk}, "SK": &types.AttributeValueMemberS{Value: sk}}})
	if err != nil {
		t.Fatal(err)
	}
	return res.Item
}
