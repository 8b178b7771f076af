// Package jobworker is the SQS-triggered worker of consultant access jobs. One function consumes
// the jobs queue and its dead-letter queue and tells them apart by the records' event source ARN.
// From the jobs queue it expands fan-outs into chunk messages and runs chunks, all messages of a
// batch in parallel, and reports the messages that failed so that only those are retried (the
// event source mappings have ReportBatchItemFailures). From the dead-letter queue it records what
// a message covers and is not done yet as failed, so that every job ends.
package jobworker

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tilgang/tilgang/shared/access"
	"github.com/tilgang/tilgang/shared/jobqueue"
)

// Processor runs job messages; *access.Service is one. Each method may run again on the same
// message and then changes nothing more.
type Processor interface {
	// ExpandJob sends the chunk messages of a fan-out.
	ExpandJob(ctx context.Context, f access.JobFanOut) error
	// FailFanOut records what is left of a fan-out that could not be expanded as failed.
	FailFanOut(ctx context.Context, f access.JobFanOut) error
	// ProcessChunk applies a chunk.
	ProcessChunk(ctx context.Context, ch access.JobChunk) error
	// FailChunk records what is left of a chunk as failed so that its job can end.
	FailChunk(ctx context.Context, ch access.JobChunk) error
}

// MaxReceives is the jobs queue's maxReceiveCount, as infra/stack.go and
// localstack.EnsureQueues declare it (a test checks they agree).
const MaxReceives = 5

// defaultReserve is kept back from an invocation's time; see Worker.Reserve.
const defaultReserve = 5 * time.Second

// Worker handles batches of job messages.
type Worker struct {
	Processor Processor
	// MaxReceives is the jobs queue's maxReceiveCount: on that receive a chunk that fails again
	// is recorded as failed at once, and still reported failed, so SQS moves it to the
	// dead-letter queue, whose consumer finds nothing left to record.
	MaxReceives int
	// DeadLetterARN is the ARN of the jobs queue's dead-letter queue. A record from it is a
	// message that kept failing, or that never got a fair try (a batch that timed out or
	// crashed, throttling): what it covers and is not done yet is recorded as failed. Empty:
	// every record is from the jobs queue.
	DeadLetterARN string
	// Reserve is kept back from the invocation's deadline, so that a message that runs out of
	// time is reported failed (not the whole batch, as a Lambda timeout would) and a chunk on its
	// last receive can still be recorded as failed [5s, at most a quarter of the time left].
	Reserve time.Duration
	Log     *slog.Logger
}

// Handle is the Lambda handler.
func (w *Worker) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	reserve := w.Reserve
	if reserve <= 0 {
		reserve = defaultReserve
	}
	work, cancel := ctx, context.CancelFunc(func() {})
	if deadline, ok := ctx.Deadline(); ok {
		reserve = min(reserve, time.Until(deadline)/4)
		work, cancel = context.WithDeadline(ctx, deadline.Add(-reserve))
	}
	defer cancel()
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		resp = events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}
	)
	for _, rec := range ev.Records {
		wg.Go(func() {
			if !w.handle(ctx, work, reserve, rec) {
				mu.Lock()
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: rec.MessageId})
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return resp, nil
}

// handle runs one message within work and reports whether it may be deleted. A panic fails this
// message only: unrecovered in its goroutine it would end the process and retry the whole batch.
func (w *Worker) handle(ctx, work context.Context, reserve time.Duration, rec events.SQSMessage) (ok bool) {
	log := w.logger().With("messageId", rec.MessageId)
	defer func() {
		if p := recover(); p != nil {
			log.ErrorContext(ctx, "job message panicked", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			ok = false
		}
	}()
	msg, err := jobqueue.Decode(rec.Body)
	if err != nil {
		// Nothing to record it against: it ends in, or stays in, the dead-letter queue, whose
		// age alarm asks someone to look.
		log.ErrorContext(ctx, "unreadable job message", "error", err.Error())
		return false
	}
	dead := w.DeadLetterARN != "" && rec.EventSourceARN == w.DeadLetterARN
	switch {
	case msg.FanOut != nil:
		f := *msg.FanOut
		log = log.With("tenantId", f.TenantID, "jobId", f.JobID, "fanOut", fmt.Sprintf("%d-%d", f.From, f.To-1))
		if dead {
			err = w.Processor.FailFanOut(work, f)
		} else {
			err = w.Processor.ExpandJob(work, f)
		}
	default:
		log = log.With("tenantId", msg.Chunk.TenantID, "jobId", msg.Chunk.JobID, "chunk", msg.Chunk.Index)
		if dead {
			err = w.Processor.FailChunk(work, *msg.Chunk)
		} else {
			err = w.Processor.ProcessChunk(work, *msg.Chunk)
		}
	}
	if dead {
		if err != nil {
			log.ErrorContext(ctx, "could not record a dead-lettered job message as failed; it stays in the dead-letter queue", "error", err.Error())
			return false
		}
		log.WarnContext(ctx, "dead-lettered job message: what it covers and was not done is recorded as failed")
		return true
	}
	if err == nil {
		return true
	}
	receives, _ := strconv.Atoi(rec.Attributes["ApproximateReceiveCount"])
	if msg.Chunk == nil || w.MaxReceives <= 0 || receives < w.MaxReceives {
		log.WarnContext(ctx, "job message failed; it will be retried", "receive", receives, "error", err.Error())
		return false
	}
	log.ErrorContext(ctx, "job chunk failed on its last receive; recording its items as failed", "receive", receives, "error", err.Error())
	// work may be over (the chunk ran out of time): record on a context of its own.
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), max(reserve, time.Second))
	defer cancel()
	if ferr := w.Processor.FailChunk(fctx, *msg.Chunk); ferr != nil {
		log.ErrorContext(ctx, "could not record the chunk as failed; the dead-letter queue's consumer will", "error", ferr.Error())
	}
	return false
}

func (w *Worker) logger() *slog.Logger {
	if w.Log == nil {
		return slog.Default()
	}
	return w.Log
}
