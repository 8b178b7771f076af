package dynamo_test

import (
	"context"
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

// Who can open a client reads the client's bureau grants and the legacy member list only in
// tenants whose group set says they have any. The first write of each sets the flag; a process
// that has not seen it set learns it from the page's own read of the group set and still
// answers in full; data written before the flags is flagged by the migration.
func TestTenantFlagsDecideWhatWhoCanAccessReads(t *testing.T) {
	db, table := localstack.NewTable(t)
	s := dynamo.New(db, table)
	ctx := context.Background()
	now := time.Now().UTC()
	tenant, owner := newTenant(t, s)
	client := access.Client{ID: id("c"), TenantID: tenant.ID, Name: "Client", Status: access.ClientActive, Source: access.ClientManual,
		Version: 1, CreatedAt: now, UpdatedAt: now}
	if err := s.CreateClient(ctx, client, nil, access.Meta{}); err != nil {
		t.Fatal(err)
	}
	candidates := func(st *dynamo.Store) []string {
		t.Helper()
		page, err := st.ClientAccessPage(ctx, tenant.ID, owner.ID, client.ID, "", 100)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, c := range page.Candidates {
			ids = append(ids, c.User.ID)
		}
		return ids
	}
	if got := candidates(dynamo.New(db, table)); !slices.Equal(got, []string{owner.ID}) {
		t.Fatalf("a tenant of its owner: %v", got)
	}

	legacy, consultant := user(tenant.ID, "legacy"), user(tenant.ID, "consultant")
	legacy.GroupIDs = []string{"g_old"}
	legacy.Legacy = &access.LegacyRights{Permissions: access.Permissions{access.AreaClients: {Level: access.LevelView, Scope: access.ScopeAll}},
		GroupRights: map[string]string{"g_old": "fingerprint"}}
	for _, u := range []access.User{legacy, consultant} {
		if err := s.CreateUser(ctx, u, access.Meta{}); err != nil {
			t.Fatal(err)
		}
	}
	job := access.Job{ID: id("job"), TenantID: tenant.ID, RequesterID: owner.ID, Action: access.JobGrant, Programs: []string{"invoicing"},
		Consultants: 1, Clients: 1, Status: access.JobQueued, Total: 1, Chunks: 1, CreatedAt: now}
	if err := s.CreateJob(ctx, job, access.JobInput{}, access.Meta{}); err != nil {
		t.Fatal(err)
	}
	grant := access.ClientGrant{TenantID: tenant.ID, ClientID: client.ID, UserID: consultant.ID, Level: access.LevelView,
		Programs: []string{"invoicing"}, Source: job.ID, GrantedAt: now, Version: 1, UpdatedAt: now}
	part := access.JobPart{TenantID: tenant.ID, JobID: job.ID, Counts: map[access.Outcome]int{access.OutcomeAssigned: 1},
		Programs: []access.GrantChange{{Next: &grant}}}
	if err := s.ApplyJobPart(ctx, part); err != nil {
		t.Fatal(err)
	}
	want := []string{owner.ID, legacy.ID, consultant.ID}
	slices.Sort(want)
	// A process that never saw the grants flag reads the page again once its group set says so.
	if got := candidates(dynamo.New(db, table)); !slices.Equal(got, want) {
		t.Errorf("after the first grant and legacy user, a fresh process: %v, want %v", got, want)
	}
	if got := candidates(s); !slices.Equal(got, want) {
		t.Errorf("the writing process: %v, want %v", got, want)
	}

	// The same data as written before the flags existed: the look-up misses both, until the
	// migration flags the tenant.
	if _, err := db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(table), UpdateExpression: aws.String("REMOVE clientGrants, legacyAll"),
		Key: map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: "TENANT#" + tenant.ID}, "SK": &types.AttributeValueMemberS{Value: "GROUPSET"}}}); err != nil {
		t.Fatal(err)
	}
	if got := candidates(dynamo.New(db, table)); !slices.Equal(got, []string{owner.ID}) {
		t.Fatalf("without the flags: %v, want the owner only", got)
	}
	marked, err := dynamo.New(db, table).MarkTenantFlags(ctx)
	if err != nil || marked["clientGrants"] != 1 || marked["legacyAll"] != 1 {
		t.Fatalf("migration marked %v, %v; want one tenant with grants and one with legacy rights", marked, err)
	}
	if got := candidates(dynamo.New(db, table)); !slices.Equal(got, want) {
		t.Errorf("after the migration: %v, want %v", got, want)
	}
}
