package dynamo_test

import (
	"context"
	"errors"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"

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
	// A grant left behind by a tenant that is gone (no group set) is passed over, not an error.
	if err := s.PutClientGrantForTest(ctx, access.ClientGrant{TenantID: id("t"), ClientID: id("c"), UserID: id("u"), Version: 1}); err != nil {
		t.Fatal(err)
	}
	marked, err := dynamo.New(db, table).MarkTenantFlags(ctx)
	if err != nil || marked["clientGrants"] != 1 || marked["legacyAll"] != 1 {
		t.Fatalf("migration marked %v, %v; want one tenant with grants and one with legacy rights", marked, err)
	}
	if got := candidates(dynamo.New(db, table)); !slices.Equal(got, want) {
		t.Errorf("after the migration: %v, want %v", got, want)
	}
}

// A flag write that other transactions keep cancelling is sent four times, with a pause of about
// n² × 20 ms (half of it random) after the n-th send and none after the last, and stops waiting
// as soon as the request's context ends.
func TestTenantFlagWriteRetriesConflicts(t *testing.T) {
	db, table := localstack.NewTable(t)
	var sends atomic.Int32
	conflict := func(stack *middleware.Stack) error {
		return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("conflict",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				if _, ok := in.Parameters.(*dynamodb.TransactWriteItemsInput); ok {
					sends.Add(1)
					return middleware.InitializeOutput{}, middleware.Metadata{}, &types.TransactionCanceledException{Message: aws.String("conflict"),
						CancellationReasons: []types.CancellationReason{{Code: aws.String("TransactionConflict")}}}
				}
				return next.HandleInitialize(ctx, in)
			}), middleware.Before)
	}
	s := dynamo.New(dynamodb.New(db.Options(), func(o *dynamodb.Options) { o.APIOptions = append(o.APIOptions, conflict) }), table)
	var pauses []time.Duration
	s.ObserveBatchPausesForTest(func(d time.Duration) { pauses = append(pauses, d) })
	now := time.Now().UTC()
	policyClient := func(tenantID string) access.Client {
		return access.Client{ID: id("c"), TenantID: tenantID, Name: "Client", Status: access.ClientActive, Source: access.ClientManual,
			PolicyLevel: access.LevelView, Version: 1, CreatedAt: now, UpdatedAt: now}
	}

	// Still cancelled after the last send: a conflict the request is retried on, not a 500.
	if err := s.CreateClient(context.Background(), policyClient(id("t")), nil, access.Meta{}); !errors.Is(err, access.ErrVersionConflict) {
		t.Fatalf("a flag write that always conflicts: %v, want a version conflict", err)
	}
	if n := sends.Load(); n != 4 {
		t.Errorf("%d sends, want 4", n)
	}
	if len(pauses) != 3 {
		t.Fatalf("pauses %v, want one between each two sends and none after the last", pauses)
	}
	for i, d := range pauses {
		full := time.Duration((i+1)*(i+1)) * 20 * time.Millisecond
		if d < full/2 || d >= full {
			t.Errorf("pause %d: %v, want at least %v and under %v", i+1, d, full/2, full)
		}
	}

	sends.Store(0)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.CreateClient(ctx, policyClient(id("t")), nil, access.Meta{}); !errors.Is(err, context.Canceled) || sends.Load() != 1 {
		t.Errorf("with its context ended: %v after %d sends, want context.Canceled after 1", err, sends.Load())
	}
}
