package httpapi_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tilgang/tilgang/shared/apitest"
	"github.com/tilgang/tilgang/shared/httpapi"
)

// memberOfTwoGroups makes a user whose principal needs both the user item and the groups.
func memberOfTwoGroups(t testing.TB, env *apitest.Env) (*apitest.Tenant, *apitest.Actor) {
	ten := env.NewTenant(t, true, "therapist", "bookkeeper")
	var ids []string
	for _, g := range ten.Owner.Must(t, "GET", "/v1/groups", nil, 200).Map(t)["items"].([]any) {
		ids = append(ids, g.(map[string]any)["id"].(string))
	}
	uid := ten.Owner.CreateUser(t, map[string]any{"groupIds": ids})
	return ten, env.As(ten.ID, uid)
}

func TestAuthorisingARequestCostsAtMostTwoCalls(t *testing.T) {
	env := apitest.New(t)
	_, u := memberOfTwoGroups(t, env)
	env.Counter.Reset()
	u.Must(t, "GET", "/v1/me", nil, 200)
	if got := env.Counter.Total(); got > 2 {
		t.Errorf("GET /v1/me cost %d DynamoDB calls (%v), want at most 2", got, env.Counter.ByOperation())
	}
	// Authorize reads the principal and the user asked about together: one call.
	env.Counter.Reset()
	u.Must(t, "POST", "/v1/authorize", map[string]any{"userId": u.UserID, "action": "view", "area": "invoices"}, 200)
	if got := env.Counter.Total(); got != 1 {
		t.Errorf("POST /v1/authorize cost %d DynamoDB calls (%v), want 1", got, env.Counter.ByOperation())
	}
}

// bareGetItem is the baseline: one GetItem of the same user item on the same server.
func bareGetItem(env *apitest.Env, u *apitest.Actor) func(b *testing.B) {
	in := &dynamodb.GetItemInput{TableName: aws.String(env.Config.TableName), Key: map[string]types.AttributeValue{
		"PK": &types.AttributeValueMemberS{Value: "TENANT#" + u.TenantID},
		"SK": &types.AttributeValueMemberS{Value: "USER#" + u.UserID},
	}}
	return func(b *testing.B) {
		if _, err := env.App.Dynamo.GetItem(context.Background(), in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMe(b *testing.B) {
	env := apitest.New(b)
	_, u := memberOfTwoGroups(b, env)
	ev := u.Event(b, "GET", "/v1/me", nil)
	h := env.App.API(httpapi.Me)
	ratio := apitest.BenchRatio(b, bareGetItem(env, u), func(b *testing.B) {
		if res, err := h(context.Background(), ev); err != nil || res.StatusCode != 200 {
			b.Fatalf("status %d: %v", res.StatusCode, err)
		}
	})
	apitest.PrintRatio("GET /v1/me vs bare GetItem", ratio, 2)
}

func BenchmarkAuthorize(b *testing.B) {
	env := apitest.New(b)
	_, u := memberOfTwoGroups(b, env)
	ev := u.Event(b, "POST", "/v1/authorize", map[string]any{"userId": u.UserID, "action": "edit", "area": "journals"})
	h := env.App.API(httpapi.Me)
	ratio := apitest.BenchRatio(b, bareGetItem(env, u), func(b *testing.B) {
		if res, err := h(context.Background(), ev); err != nil || res.StatusCode != 200 {
			b.Fatalf("status %d: %v", res.StatusCode, err)
		}
	})
	apitest.PrintRatio("POST /v1/authorize (area)", ratio, 3)
}
