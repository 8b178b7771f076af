package dynamo_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/tilgang/tilgang/shared/access"
	"github.com/tilgang/tilgang/shared/dynamo"
	"github.com/tilgang/tilgang/shared/localstack"
)

// itemWrites counts the writes each item takes, by its key, from every write call of a client
// (a transaction's Put, Update and Delete; a ConditionCheck only reads).
type itemWrites struct {
	mu sync.Mutex
	n  map[string]int
}

func keyOf(m map[string]types.AttributeValue) string {
	pk, _ := m["PK"].(*types.AttributeValueMemberS)
	sk, _ := m["SK"].(*types.AttributeValueMemberS)
	if pk == nil || sk == nil {
		return "?"
	}
	return pk.Value + " | " + sk.Value
}

func (w *itemWrites) option(o *dynamodb.Options) {
	o.APIOptions = append(o.APIOptions, func(stack *middleware.Stack) error {
		return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("itemWrites",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				w.mu.Lock()
				switch p := in.Parameters.(type) {
				case *dynamodb.TransactWriteItemsInput:
					for _, it := range p.TransactItems {
						switch {
						case it.Put != nil:
							w.n[keyOf(it.Put.Item)]++
						case it.Update != nil:
							w.n[keyOf(it.Update.Key)]++
						case it.Delete != nil:
							w.n[keyOf(it.Delete.Key)]++
						}
					}
				case *dynamodb.PutItemInput:
					w.n[keyOf(p.Item)]++
				case *dynamodb.UpdateItemInput:
					w.n[keyOf(p.Key)]++
				}
				w.mu.Unlock()
				return next.HandleInitialize(ctx, in)
			}), middleware.After)
	})
}

// TestJobCountersAreSharded runs the parts of a job as parallel workers would and counts the
// writes each item takes: the job item none but its completion (parts do not touch it), each
// counter shard parts/64 and the completion's closing, every result and marker one. At the scale (100,000 items, 25 rows a
// part: 4,000 parts) that is 62-63 writes per shard over the whole job, so 50 workers can write
// no item more often than their combined part rate over 64 (see jobcounters.go).
func TestJobCountersAreSharded(t *testing.T) {
	_, table := localstack.Table(t)
	w := &itemWrites{n: map[string]int{}}
	s := dynamo.New(localstack.Shared(t).DynamoClient(w.option), table)
	ctx := context.Background()
	tenantID := id("t")
	const chunks, partsPerChunk, pairs, programs = 64, 10, 5, 5
	parts := chunks * partsPerChunk
	job := access.Job{ID: id("job"), TenantID: tenantID, RequesterID: id("u"), Action: access.JobGrant, Programs: []string{"payroll"},
		Consultants: chunks, Clients: partsPerChunk * pairs, Status: access.JobQueued, Total: parts * pairs * programs, Chunks: chunks,
		CreatedAt: time.Now().UTC()}
	if err := s.CreateJob(ctx, job, access.JobInput{}, access.Meta{}); err != nil {
		t.Fatal(err)
	}
	w.mu.Lock()
	clear(w.n)
	w.mu.Unlock()
	var wg sync.WaitGroup
	errs := make(chan error, chunks)
	for c := range chunks { // one worker per chunk at a time, eight at once
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range partsPerChunk {
				part := access.JobPart{TenantID: tenantID, JobID: job.ID, Chunk: c, Part: p,
					Counts: map[access.Outcome]int{access.OutcomeAssigned: pairs * programs}}
				for k := range pairs {
					outcomes := map[string]access.Outcome{}
					for q := range programs {
						outcomes[fmt.Sprintf("prog%d", q)] = access.OutcomeAssigned
					}
					part.Results = append(part.Results, access.PairResult{ConsultantID: fmt.Sprintf("u%02d", c),
						ClientID: fmt.Sprintf("c%02d-%02d", p, k), Outcomes: outcomes})
				}
				if err := s.ApplyJobPart(ctx, part); err != nil {
					errs <- err
					return
				}
			}
		}()
		if c%8 == 7 {
			wg.Wait()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	got, err := s.GetJob(ctx, tenantID, job.ID)
	if err != nil || got.Done != job.Total || got.Counts[access.OutcomeAssigned] != job.Total {
		t.Fatalf("job after %d parts: done %d, counts %v, %v; want %d", parts, got.Done, got.Counts, err, job.Total)
	}
	if err := s.CompleteJob(ctx, got, access.JobCompleted, access.Notification{ID: id("n"), TenantID: tenantID, UserID: job.RequesterID,
		Type: access.NotificationJobCompleted, JobID: job.ID, Title: "done", CreatedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)}, access.Meta{}); err != nil {
		t.Fatal(err)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	jobKey := "TENANT#" + tenantID + " | JOB#" + job.ID
	if n := w.n[jobKey]; n != 1 {
		t.Errorf("the job item took %d writes from %d parts and the completion, want 1 (the completion)", n, parts)
	}
	maxWrites, shards := 0, 0
	for k, n := range w.n {
		maxWrites = max(maxWrites, n)
		if n > 1 {
			shards++
		}
		if n > parts/64+1 && k != jobKey { // a shard: its parts and the completion closing it
			t.Errorf("item %s took %d writes from %d parts and the completion, want at most %d", k, n, parts, parts/64+1)
		}
	}
	if shards != 64 {
		t.Errorf("%d items took more than one write, want the 64 counter shards", shards)
	}
	t.Logf("%d parts (%d items): at most %d writes on any item; the job item only its completion", parts, job.Total, maxWrites)
}
