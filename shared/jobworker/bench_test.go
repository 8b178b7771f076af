package jobworker_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tilgang/tilgang/shared/access"
	"github.com/tilgang/tilgang/shared/apitest"
	"github.com/tilgang/tilgang/shared/dynamo"
	"github.com/tilgang/tilgang/shared/localstack"
)

// Bench sizes: the grant job of 50 consultants × 400 clients × 5 programs.
const (
	benchConsultants = 50
	benchClients     = 400
	// benchPollers stands for the worker Lambda's concurrency: each poller hands batches of 10
	// messages to one worker invocation, which runs them in parallel.
	benchPollers = 4
	// benchWriters is the raw baseline's concurrency.
	benchWriters = 8
	// grantJobPairs is how many job and baseline runs the ratio is the median of.
	grantJobPairs = 3
)

var benchPrograms = []string{"bookkeeping", "invoicing", "payroll", "orders", "fixed_assets"}

// BenchmarkGrantJob times a grant job of 100,000 program assignments from submission to its
// notification, through the real queue and worker on the local stack, against raw
// BatchWriteItem of 100,000 items into the same dynoxide in the same run.
func BenchmarkGrantJob(b *testing.B) {
	s := newStack(b)
	items := benchConsultants * benchClients * len(benchPrograms)
	var jobTime, rawTime time.Duration
	var ratios []float64
	round := 0
	for b.Loop() {
		// Pairs in turn, job first then baseline first: whichever runs second writes into a
		// table the first has grown (and the machine's load moves), so one pair alone leans
		// either way; the ratio is the pairs' median.
		for pair := range grantJobPairs {
			bu := newBureau(b, s, benchConsultants, benchClients)
			var jt, rt time.Duration
			if pair%2 == 0 {
				jt = runBenchJob(b, s, bu)
				rt = rawWrites(b, s, round, items)
			} else {
				rt = rawWrites(b, s, round, items)
				jt = runBenchJob(b, s, bu)
			}
			round++
			jobTime, rawTime = jobTime+jt, rawTime+rt
			ratios = append(ratios, jt.Seconds()/rt.Seconds())
		}
	}
	slices.Sort(ratios)
	jobRate := float64(items*round) / jobTime.Seconds()
	rawRate := float64(items*round) / rawTime.Seconds()
	b.ReportMetric(jobRate, "job-items/s")
	b.ReportMetric(rawRate, "raw-items/s")
	fmt.Fprintf(os.Stdout, "access job: %d program assignments in %.2fs = %.0f items/s; raw BatchWriteItem: %.0f items/s; job reaches %.2f of the raw rate (target >= 0.33)\n",
		items, jobTime.Seconds()/float64(round), jobRate, rawRate, jobRate/rawRate)
	fmt.Fprintf(os.Stdout, "grant job vs raw BatchWriteItem, each pair: %.2f\n", ratios)
	apitest.PrintRatio("grant job vs raw BatchWriteItem (time)", ratios[len(ratios)/2], 1.1)
}

func runBenchJob(b *testing.B, s *stack, bu *bureau) time.Duration {
	b.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	handler := s.env.App.JobWorker()
	for range benchPollers {
		p := s.poller(handler)
		wg.Go(func() { p.Run(ctx) })
	}
	// The bench watches the job through a client of its own, so that the counter holds the
	// job's calls only (submission, expansion, chunks, completion).
	watch := dynamo.New(localstack.Shared(b).DynamoClient(), s.env.Config.TableName)
	s.env.Counter.Reset()
	start := time.Now()
	j := submit(b, bu.Owner, map[string]any{"action": "grant", "consultantIds": bu.consultants, "clientIds": bu.clients, "programs": benchPrograms})
	jobID := j["id"].(string)
	for {
		got, err := watch.GetJob(ctx, bu.ID, jobID)
		if err != nil {
			b.Fatal(err)
		}
		if got.Status.Final() {
			elapsed := time.Since(start)
			if got.NotificationID == "" || got.Counts["assigned"] != got.Total {
				b.Fatalf("job ended %s with counts %v", got.Status, got.Counts)
			}
			cancel()
			wg.Wait()
			parts := float64(benchParts())
			c := s.env.Counter
			fmt.Fprintf(os.Stdout, "CALLS %-44s %.2f DynamoDB calls, %.1f items written, %.1f keys read per part of %d pairs (%v in %.0f parts)\n",
				"grant job (per part)", float64(c.Total())/parts, float64(c.ItemsWritten())/parts, float64(c.KeysRead())/parts, access.PartPairs, c.ByOperation(), parts)
			return elapsed
		}
		if time.Since(start) > 10*time.Minute {
			b.Fatalf("job %s still at %d of %d", jobID, got.Done, got.Total)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// benchParts is the number of parts (transactions) of the bench's job: per consultant, clients
// in chunks of access.ChunkClients, each cut in parts of access.PartPairs.
func benchParts() int {
	perConsultant := 0
	for start := 0; start < benchClients; start += access.ChunkClients {
		n := min(access.ChunkClients, benchClients-start)
		perConsultant += (n + access.PartPairs - 1) / access.PartPairs
	}
	return benchConsultants * perConsultant
}

// rawWrites puts n items of the size of a program assignment with BatchWriteItem (25 per call,
// benchWriters at once, unprocessed items retried).
func rawWrites(b *testing.B, s *stack, round, n int) time.Duration {
	b.Helper()
	db, table := s.env.App.Dynamo, s.env.Config.TableName
	start := time.Now()
	var wg sync.WaitGroup
	per := (n + benchWriters - 1) / benchWriters
	for w := range benchWriters {
		wg.Go(func() {
			for i := w * per; i < min((w+1)*per, n); i += 25 {
				var reqs []dtypes.WriteRequest
				for k := i; k < min(i+25, (w+1)*per, n); k++ {
					reqs = append(reqs, dtypes.WriteRequest{PutRequest: &dtypes.PutRequest{Item: map[string]dtypes.AttributeValue{
						"PK":       &dtypes.AttributeValueMemberS{Value: fmt.Sprintf("RAW#%d#%d", round, k%benchConsultants)},
						"SK":       &dtypes.AttributeValueMemberS{Value: fmt.Sprintf("PROGRAM#%08d", k)},
						"type":     &dtypes.AttributeValueMemberS{Value: "raw"},
						"programs": &dtypes.AttributeValueMemberSS{Value: []string{"payroll"}},
					}}})
				}
				for attempt := 0; len(reqs) > 0; attempt++ {
					out, err := db.BatchWriteItem(context.Background(), &dynamodb.BatchWriteItemInput{RequestItems: map[string][]dtypes.WriteRequest{table: reqs}})
					if err != nil || attempt > 10 {
						b.Errorf("batch write: %v (attempt %d)", err, attempt)
						return
					}
					reqs = out.UnprocessedItems[table]
				}
			}
		})
	}
	wg.Wait()
	return time.Since(start)
}
