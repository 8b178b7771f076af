package dynamo_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/middleware"

	"github.com/tilgang/tilgang/shared/access"
	"github.com/tilgang/tilgang/shared/dynamo"
	"github.com/tilgang/tilgang/shared/localstack"
)

// throttle answers the first n batch calls as DynamoDB does under throttling: nothing done,
// every key or item handed back unprocessed. It counts the calls and when they came.
type throttle struct {
	mu    sync.Mutex
	n     int
	calls []time.Time
}

func (th *throttle) option(o *dynamodb.Options) {
	o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
		return st.Initialize.Add(middleware.InitializeMiddlewareFunc("throttle", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			th.mu.Lock()
			throttled := false
			switch p := in.Parameters.(type) {
			case *dynamodb.BatchGetItemInput:
				th.calls = append(th.calls, time.Now())
				if len(th.calls) <= th.n {
					throttled = true
					th.mu.Unlock()
					return middleware.InitializeOutput{Result: &dynamodb.BatchGetItemOutput{UnprocessedKeys: p.RequestItems}}, middleware.Metadata{}, nil
				}
			case *dynamodb.BatchWriteItemInput:
				th.calls = append(th.calls, time.Now())
				if len(th.calls) <= th.n {
					throttled = true
					th.mu.Unlock()
					return middleware.InitializeOutput{Result: &dynamodb.BatchWriteItemOutput{UnprocessedItems: p.RequestItems}}, middleware.Metadata{}, nil
				}
			}
			if !throttled {
				th.mu.Unlock()
			}
			return next.HandleInitialize(ctx, in)
		}), middleware.Before)
	})
}

// TestUnprocessedBatchItemsBackOff: unprocessed keys of BatchGetItem and items of BatchWriteItem
// are retried after the SDK's jittered backoff, not at once, and the result is complete.
func TestUnprocessedBatchItemsBackOff(t *testing.T) {
	client, table := localstack.Table(t)
	plain := dynamo.New(client, table)
	tn, _ := newTenant(t, plain)
	var ids []string
	for i := range 3 {
		g := access.Group{ID: id("g"), TenantID: tn.ID, Name: "G", Version: 1, CreatedAt: time.Now(), UpdatedAt: time.Now()}
		if err := plain.CreateGroup(context.Background(), g, auditOf(tn.ID, "group.create")); err != nil {
			t.Fatal(i, err)
		}
		ids = append(ids, g.ID)
	}
	th := &throttle{n: 2}
	s := dynamo.New(dynamodb.New(client.Options(), th.option), table)
	var pauses []time.Duration
	s.ObserveBatchPausesForTest(func(d time.Duration) { pauses = append(pauses, d) })
	got, err := s.GetGroups(context.Background(), tn.ID, ids)
	if err != nil || len(got) != len(ids) {
		t.Fatalf("GetGroups = %d groups, %v; want %d", len(got), err, len(ids))
	}
	if len(th.calls) != 3 || len(pauses) != 2 {
		t.Fatalf("%d calls with %d pauses, want 3 calls after 2 throttled ones and 2 pauses", len(th.calls), len(pauses))
	}
	for i, d := range pauses {
		if gap := th.calls[i+1].Sub(th.calls[i]); gap < d {
			t.Errorf("retry %d came %v after the call before, sooner than its backoff %v", i+1, gap, d)
		}
	}
	if pauses[0] == 0 && pauses[1] == 0 {
		t.Errorf("no backoff between retries: %v", pauses)
	}
	// The batch writer backs off the same way; a cancelled context stops it at once.
	th2 := &throttle{n: 1 << 30}
	s2 := dynamo.New(dynamodb.New(client.Options(), th2.option), table)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = s2.SeedUsers(ctx, []access.User{user(tn.ID, "seeded")})
	if err == nil {
		t.Fatal("SeedUsers succeeded although every write stayed unprocessed")
	}
	if len(th2.calls) > 5 || time.Since(start) > 2*time.Second {
		t.Errorf("%d calls in %v: the writer did not back off or did not stop with its context", len(th2.calls), time.Since(start))
	}
}
