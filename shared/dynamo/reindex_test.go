package dynamo_test

import (
	"context"
	"maps"
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

// memberKeys lists the member index entries in the table.
func memberKeys(t *testing.T, db *dynamodb.Client, table string) map[string]map[string]types.AttributeValue {
	t.Helper()
	out := map[string]map[string]types.AttributeValue{}
	in := &dynamodb.ScanInput{TableName: aws.String(table), FilterExpression: aws.String("#t = :m"),
		ExpressionAttributeNames:  map[string]string{"#t": "type"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":m": &types.AttributeValueMemberS{Value: "member"}}}
	for p := dynamodb.NewScanPaginator(db, in); p.HasMorePages(); {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range page.Items {
			k := map[string]types.AttributeValue{"PK": it["PK"], "SK": it["SK"]}
			out[it["PK"].(*types.AttributeValueMemberS).Value+" "+it["SK"].(*types.AttributeValueMemberS).Value] = k
		}
	}
	return out
}

// Users written before the member index existed get their entries from a reindex, an entry no
// user should have goes, and a second run changes nothing.
func TestReindexMembersBackfillsAndIsIdempotent(t *testing.T) {
	db, table := localstack.NewTable(t)
	s := dynamo.New(db, table)
	ctx := context.Background()
	now := time.Now().UTC()
	tenant := access.NewULID("t")
	for i, status := range []access.Status{access.StatusActive, access.StatusActive, access.StatusDeactivated} {
		u := access.User{ID: access.NewULID("u"), TenantID: tenant, Name: "Backfilled", Email: access.NewULID("b") + "@example.com",
			Profession: access.ProfessionPractitioner, Status: status, GroupIDs: []string{"g_a", "g_b"}[:i%2+1],
			Version: 1, CreatedAt: now, UpdatedAt: now}
		if err := s.CreateUser(ctx, u, access.Meta{}); err != nil {
			t.Fatal(err)
		}
	}
	indexed := memberKeys(t, db, table)
	if len(indexed) != 3 { // the active users' memberships: 1 + 2
		t.Fatalf("%d entries after the writes, want 3: %v", len(indexed), slices.Collect(maps.Keys(indexed)))
	}
	// The data as it was before the index: no entries; plus one left behind by a lost write.
	for _, k := range indexed {
		if _, err := db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(table), Key: k}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: map[string]types.AttributeValue{
		"PK": &types.AttributeValueMemberS{Value: "TENANT#" + tenant + "#MEMBERS"}, "SK": &types.AttributeValueMemberS{Value: "G#g_gone#u_gone"},
		"type": &types.AttributeValueMemberS{Value: "member"}}}); err != nil {
		t.Fatal(err)
	}
	rep, err := s.ReindexMembers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Users != 3 || rep.Put != 3 || rep.Deleted != 1 {
		t.Errorf("first run: %+v, want 3 users, 3 put, 1 deleted", rep)
	}
	if got := memberKeys(t, db, table); !slices.Equal(slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(indexed))) {
		t.Errorf("entries after the reindex: %v, want %v", slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(indexed)))
	}
	rep, err = s.ReindexMembers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Put != 0 || rep.Deleted != 0 {
		t.Errorf("second run: %+v, want nothing changed", rep)
	}
}

// A tenant whose policy clients predate the group set's flag gets it from the migration, and a
// fresh process learns it from the tenant's principal.
func TestMarkTenantFlags(t *testing.T) {
	db, table := localstack.NewTable(t)
	s := dynamo.New(db, table)
	ctx := context.Background()
	now := time.Now().UTC()
	tenant, owner := newTenant(t, s)
	c := access.Client{ID: access.NewULID("c"), TenantID: tenant.ID, Name: "Booked", Status: access.ClientActive, Source: access.ClientOnlineBooking,
		PolicyLevel: access.LevelView, Version: 1, CreatedAt: now, UpdatedAt: now}
	if err := s.CreateClient(ctx, c, nil, access.Meta{}); err != nil {
		t.Fatal(err)
	}
	// The client as written before the flag: remove it.
	if _, err := db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(table), UpdateExpression: aws.String("REMOVE policyClients"),
		Key: map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: "TENANT#" + tenant.ID}, "SK": &types.AttributeValueMemberS{Value: "GROUPSET"}}}); err != nil {
		t.Fatal(err)
	}
	fresh := dynamo.New(db, table)
	if _, _, err := fresh.Principal(ctx, tenant.ID, owner.ID); err != nil || fresh.MayHavePolicyClients(tenant.ID) {
		t.Fatalf("without the flag: %v, known %v", err, fresh.MayHavePolicyClients(tenant.ID))
	}
	if n, err := dynamo.New(db, table).MarkTenantFlags(ctx); err != nil || n["policyClients"] != 1 {
		t.Fatalf("marked %v, %v; want 1 tenant with policy clients", n, err)
	}
	if _, _, err := fresh.Principal(ctx, tenant.ID, owner.ID); err != nil || !fresh.MayHavePolicyClients(tenant.ID) {
		t.Errorf("after the migration, the principal's read does not tell: %v", err)
	}
}

// Users anonymised before anonymisation took their calendars' names lose them to the
// migration; a second run changes nothing.
func TestForgetAnonymisedCalendarNames(t *testing.T) {
	db, table := localstack.NewTable(t)
	s := dynamo.New(db, table)
	ctx := context.Background()
	tenant, _ := newTenant(t, s)
	u := user(tenant.ID, "astrid")
	if err := s.CreateUser(ctx, u, access.Meta{}); err != nil {
		t.Fatal(err)
	}
	next := u
	next.Status, next.Name, next.Email, next.Version = access.StatusAnonymised, access.Anonymised, "", u.Version+1
	if err := s.UpdateUser(ctx, u, next, access.Meta{}); err != nil {
		t.Fatal(err)
	}
	// The calendar as anonymisation left it before: still named after her.
	calKey := map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: "TENANT#" + tenant.ID},
		"SK": &types.AttributeValueMemberS{Value: "CALENDAR#" + u.CalendarIDs[0]}}
	if _, err := db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(table), Key: calKey,
		UpdateExpression:          aws.String("SET #n = :n"),
		ExpressionAttributeNames:  map[string]string{"#n": "name"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":n": &types.AttributeValueMemberS{Value: "Astrid's room"}}}); err != nil {
		t.Fatal(err)
	}
	// Another of her calendars, given to a colleague since the migration's scan read her (as
	// the scan saw it: still in her list), keeps the name its new owner chose.
	moved := "cal_moved"
	mine := next
	mine.CalendarIDs = append(slices.Clone(next.CalendarIDs), moved)
	if err := s.SeedUsers(ctx, []access.User{mine}); err != nil {
		t.Fatal(err)
	}
	movedKey := map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: "TENANT#" + tenant.ID},
		"SK": &types.AttributeValueMemberS{Value: "CALENDAR#" + moved}}
	if _, err := db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(table), Key: movedKey,
		UpdateExpression:         aws.String("SET #n = :n, #o = :o, #t = :t, #id = :id, #tn = :tn"),
		ExpressionAttributeNames: map[string]string{"#n": "name", "#o": "ownerId", "#t": "type", "#id": "id", "#tn": "tenantId"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":n": &types.AttributeValueMemberS{Value: "Bob's room"},
			":o": &types.AttributeValueMemberS{Value: "u_bob"}, ":t": &types.AttributeValueMemberS{Value: "calendar"},
			":id": &types.AttributeValueMemberS{Value: moved}, ":tn": &types.AttributeValueMemberS{Value: tenant.ID}}}); err != nil {
		t.Fatal(err)
	}
	for run, want := range []int{1, 0} {
		if n, err := s.ForgetAnonymisedCalendarNames(ctx); err != nil || n != want {
			t.Fatalf("run %d: %d names forgotten, %v; want %d", run+1, n, err, want)
		}
	}
	c, err := s.GetCalendar(ctx, tenant.ID, u.CalendarIDs[0])
	if err != nil || c.Name != "" {
		t.Errorf("calendar after the migration: %+v, %v; want no name", c, err)
	}
	if c, err := s.GetCalendar(ctx, tenant.ID, moved); err != nil || c.Name != "Bob's room" {
		t.Errorf("the colleague's calendar after the migration: %+v, %v; want its name kept", c, err)
	}
}

// Users anonymised before anonymisation removed review comments lose them to the migration; a
// comment about someone else stays, and a second run changes nothing.
func TestForgetAnonymisedReviewComments(t *testing.T) {
	db, table := localstack.NewTable(t)
	s := dynamo.New(db, table)
	ctx := context.Background()
	tenant, _ := newTenant(t, s)
	u, other := user(tenant.ID, "astrid"), user(tenant.ID, "bo")
	for _, x := range []access.User{u, other} {
		if err := s.CreateUser(ctx, x, access.Meta{}); err != nil {
			t.Fatal(err)
		}
	}
	next := u
	next.Status, next.Name, next.Email, next.Version = access.StatusAnonymised, access.Anonymised, "", u.Version+1
	if err := s.UpdateUser(ctx, u, next, access.Meta{}); err != nil {
		t.Fatal(err)
	}
	str := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	itemKey := func(userID string) map[string]types.AttributeValue {
		return map[string]types.AttributeValue{"PK": str("REVIEW#" + tenant.ID + "#r_1"), "SK": str("I#group#g_1#" + userID)}
	}
	for _, id := range []string{u.ID, other.ID} {
		it := itemKey(id)
		it["type"], it["tenantId"], it["userId"], it["comment"] = str("access_review_item"), str(tenant.ID), str(id), str("ask "+id+" about it")
		it["version"] = &types.AttributeValueMemberN{Value: "1"}
		if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: it}); err != nil {
			t.Fatal(err)
		}
	}
	for run, want := range []int{1, 0} {
		if n, err := s.ForgetAnonymisedReviewComments(ctx); err != nil || n != want {
			t.Fatalf("run %d: %d comments removed, %v; want %d", run+1, n, err, want)
		}
	}
	for id, want := range map[string]bool{u.ID: false, other.ID: true} {
		out, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: itemKey(id)})
		if _, has := out.Item["comment"]; err != nil || has != want {
			t.Errorf("item about %s: comment kept %v, %v; want %v", id, has, err, want)
		}
	}
}
