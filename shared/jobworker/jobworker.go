// Package jobworker is the SQS-triggered worker of consultant access jobs: it turns each message
// of a batch into a chunk run by the domain, in parallel, and reports the messages that failed
// so that only those are retried (the event source mapping has ReportBatchItemFailures).
package jobworker

import (
	"context"
	"encoding/json"
	"log/slog"
	"strconv"
	"sync"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tilgang/tilgang/shared/access"
)

// Processor runs job chunks; *access.Service is one.
type Processor interface {
	// ProcessChunk applies a chunk; running it again changes nothing.
	ProcessChunk(ctx context.Context, ch access.JobChunk) error
	// FailChunk records what is left of a chunk as failed so that its job can end.
	FailChunk(ctx context.Context, ch access.JobChunk) error
}

// MaxReceives is the jobs queue's maxReceiveCount, as infra/stack.go and
// localstack.EnsureQueues declare it (a test checks they agree).
const MaxReceives = 3

// Worker handles batches of job messages.
type Worker struct {
	Processor Processor
	// MaxReceives is the queue's maxReceiveCount: on that receive a chunk that fails again is
	// recorded as failed on its job, and the message is still reported failed so that SQS
	// moves it to the dead-letter queue for inspection (a redrive of it changes nothing).
	MaxReceives int
	Log         *slog.Logger
}

// Handle is the Lambda handler.
func (w *Worker) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		resp = events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}
	)
	for _, rec := range ev.Records {
		wg.Go(func() {
			if !w.handle(ctx, rec) {
				mu.Lock()
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: rec.MessageId})
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return resp, nil
}

// handle runs one message and reports whether it may be deleted.
func (w *Worker) handle(ctx context.Context, rec events.SQSMessage) bool {
	log := w.logger().With("messageId", rec.MessageId)
	var ch access.JobChunk
	if err := json.Unmarshal([]byte(rec.Body), &ch); err != nil {
		// Nothing to record it against: let it reach the dead-letter queue.
		log.ErrorContext(ctx, "unreadable job message", "error", err.Error())
		return false
	}
	log = log.With("tenantId", ch.TenantID, "jobId", ch.JobID, "chunk", ch.Index)
	err := w.Processor.ProcessChunk(ctx, ch)
	if err == nil {
		return true
	}
	receives, _ := strconv.Atoi(rec.Attributes["ApproximateReceiveCount"])
	if w.MaxReceives <= 0 || receives < w.MaxReceives {
		log.WarnContext(ctx, "job chunk failed; it will be retried", "receive", receives, "error", err.Error())
		return false
	}
	log.ErrorContext(ctx, "job chunk failed on its last receive; recording its items as failed", "receive", receives, "error", err.Error())
	if ferr := w.Processor.FailChunk(ctx, ch); ferr != nil {
		log.ErrorContext(ctx, "could not record the chunk as failed", "error", ferr.Error())
	}
	return false
}

func (w *Worker) logger() *slog.Logger {
	if w.Log == nil {
		return slog.Default()
	}
	return w.Log
}
