package dynamo_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tilgang/tilgang/shared/access"
	"github.com/tilgang/tilgang/shared/dynamo"
	"github.com/tilgang/tilgang/shared/localstack"
)

// A user's assignments and grants share one range of their GSI1 partition, a grant right after
// the assignment at the same client: every page of the user's clients holds both relations of
// each of its clients, and the readers of one kind see only that kind.
func TestUserRelationsShareOneRange(t *testing.T) {
	db, table := localstack.NewTable(t)
	s := dynamo.New(db, table)
	ctx := context.Background()
	now := time.Now().UTC()
	tenant, user := access.NewULID("t"), access.NewULID("u")
	var clients []string
	for i := range 4 {
		c := access.Client{ID: fmt.Sprintf("c_%03d", i), TenantID: tenant, Name: fmt.Sprintf("Client %d", i), Status: access.ClientActive,
			Source: access.ClientManual, Version: 1, CreatedAt: now, UpdatedAt: now}
		clients = append(clients, c.ID)
		var asg []access.Assignment
		if i != 3 { // the last client: a grant only
			asg = append(asg, access.Assignment{TenantID: tenant, ClientID: c.ID, UserID: user, Level: access.LevelEdit,
				Source: access.AssignedManually, Version: 1, CreatedAt: now, UpdatedAt: now})
		}
		if err := s.CreateClient(ctx, c, asg, access.Meta{}); err != nil {
			t.Fatal(err)
		}
		if i == 0 { // the first client: an assignment only
			continue
		}
		g := access.ClientGrant{TenantID: tenant, ClientID: c.ID, UserID: user, Level: access.GrantLevel, Programs: []string{"payroll"},
			GrantedAt: now, Version: 1, UpdatedAt: now}
		if err := s.PutClientGrantForTest(ctx, g); err != nil {
			t.Fatal(err)
		}
	}
	cursor, pages := "", 0
	var seen []string
	for {
		page, err := s.UserClientsPage(ctx, tenant, "", user, cursor, 1, false)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, c := range page.Candidates {
			seen = append(seen, c.Client.ID)
			i := slices.Index(clients, c.Client.ID)
			if (c.Assignment != nil) != (i != 3) || (c.Grant != nil) != (i != 0) || c.Client.Name != fmt.Sprintf("Client %d", i) {
				t.Errorf("page %d: %s with assignment %v, grant %v, name %q", pages, c.Client.ID, c.Assignment != nil, c.Grant != nil, c.Client.Name)
			}
		}
		if cursor = page.Next; cursor == "" || pages > 10 {
			break
		}
	}
	if !slices.Equal(seen, clients) {
		t.Errorf("clients over pages of 1: %v, want %v", seen, clients)
	}
	for after, want := range map[string][]string{"": {"c_000", "c_001"}, "c_000": {"c_001", "c_002"}, "c_002": nil} {
		asgs, _, err := s.UserAssignmentsAfter(ctx, tenant, user, after, 2)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, a := range asgs {
			got = append(got, a.ClientID)
		}
		if !slices.Equal(got, want) {
			t.Errorf("assignments after %q: %v, want %v", after, got, want)
		}
	}
	grants, more, err := s.UserGrantsAfter(ctx, tenant, user, "c_001", 5)
	if err != nil || more || len(grants) != 2 || grants[0].ClientID != "c_002" || grants[1].ClientID != "c_003" {
		t.Errorf("grants after c_001: %+v, more %v, %v; want c_002 and c_003", grants, more, err)
	}
	if r, err := s.ClientRolesOf(ctx, tenant, user); err != nil || !slices.Equal(r.ProgramsAt, clients[1:]) {
		t.Errorf("client roles: %+v, %v; want programs at %v", r, err, clients[1:])
	}

	// A grant written under the old key is moved beside its assignment, once.
	if _, err := db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(table),
		Key:                       map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: "TENANT#" + tenant}, "SK": &types.AttributeValueMemberS{Value: "PROGRAMS#c_001#" + user}},
		UpdateExpression:          aws.String("SET GSI1SK = :old"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":old": &types.AttributeValueMemberS{Value: "PROGRAMS#c_001"}}}); err != nil {
		t.Fatal(err)
	}
	// Until it is moved, the grant under the old key is read too (an access review must not miss
	// it), in client order, once.
	for _, limit := range []int{5, 1} {
		var got []string
		for after, more := "", true; more; {
			g, m, err := s.UserGrantsAfter(ctx, tenant, user, after, limit)
			if err != nil || len(g) == 0 && m {
				t.Fatalf("before the move, limit %d: %v, %v", limit, g, err)
			}
			for _, x := range g {
				got = append(got, x.ClientID)
				after = x.ClientID
			}
			more = m
		}
		if !slices.Equal(got, clients[1:]) {
			t.Errorf("before the move, pages of %d: %v, want %v", limit, got, clients[1:])
		}
	}
	for i, want := range []int{1, 0} {
		if n, err := s.MoveGrantIndex(ctx); err != nil || n != want {
			t.Errorf("move %d: %d moved, %v; want %d", i+1, n, err, want)
		}
	}
	if g, _, _ := s.UserGrantsAfter(ctx, tenant, user, "", 5); len(g) != 3 {
		t.Errorf("after the move: %d grants, want 3", len(g))
	}
}
