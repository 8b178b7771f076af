// Package jobworker is the SQS-triggered worker of consultant access jobs. One function consumes
// the jobs queue and its dead-letter queue and tells them apart by the records' event source ARN.
// From the jobs queue it expands fan-outs into chunk messages and applies chunks, all messages of
// a batch in parallel, then checks once per job whether the chunks it applied ended the job, and
// reports the messages that failed so that only those are retried (the event source mappings
// have ReportBatchItemFailures). From the dead-letter queue it records what
// a message covers and is not done yet as failed, so that every job ends. A poison message
// (unreadable, unknown) is recorded once and parked in an archive queue that nothing consumes.
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
	"github.com/tilgang/tilgang/shared/jobmsg"
)

// Processor runs job messages; *access.Service is one. Each method may run again on the same
// message and then changes nothing more.
type Processor interface {
	// ExpandJob sends the chunk messages of a fan-out.
	ExpandJob(ctx context.Context, f access.JobFanOut) error
	// FailFanOut records what is left of a fan-out that could not be expanded as failed.
	FailFanOut(ctx context.Context, f access.JobFanOut) error
	// ApplyChunk applies a chunk; it does not end the job (CompleteIfDone does).
	ApplyChunk(ctx context.Context, ch access.JobChunk) error
	// CompleteIfDone ends the job if all its results are recorded.
	CompleteIfDone(ctx context.Context, tenantID, jobID string) error
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
	// Archive parks poison messages (unreadable, of an unknown kind, or of an unknown job once
	// dead-lettered): each is logged once by its id and reason and moved there, so that it does
	// not fail again on every receive. Nil: such messages are logged once and removed.
	Archive Archive
	Log     *slog.Logger
}

// Archive is where poison messages go; *jobqueue.Archive is one.
type Archive interface {
	Park(ctx context.Context, p jobmsg.Parked) error
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
		mu      sync.Mutex
		wg      sync.WaitGroup
		failed  []string
		applied = map[jobKey][]string{} // message ids of the chunks applied, by job
	)
	for _, rec := range ev.Records {
		wg.Go(func() {
			ok, job := w.handle(ctx, work, reserve, rec)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case !ok:
				failed = append(failed, rec.MessageId)
			case job != nil:
				applied[*job] = append(applied[*job], rec.MessageId)
			}
		})
	}
	wg.Wait()
	// One completion check per job for all its chunks of the batch, once they are applied (a
	// check of every chunk would read the job and its counter shards ten times). It runs on
	// the invocation's context: a chunk that ran out of work's time leaves the reserve to it.
	for job, ids := range applied {
		wg.Go(func() {
			if err := w.complete(ctx, job); err != nil {
				w.logger().WarnContext(ctx, "could not complete the job; its chunks of this batch will be retried", "tenantId", job.tenantID,
					"jobId", job.jobID, "messages", len(ids), "error", err.Error())
				mu.Lock()
				failed = append(failed, ids...)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	resp := events.SQSEventResponse{BatchItemFailures: make([]events.SQSBatchItemFailure, 0, len(failed))}
	for _, id := range failed {
		resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: id})
	}
	return resp, nil
}

// jobKey names a job whose chunks a batch applied.
type jobKey struct{ tenantID, jobID string }

// complete runs CompleteIfDone, a panic failing it like an error.
func (w *Worker) complete(ctx context.Context, job jobKey) (err error) {
	defer func() {
		if p := recover(); p != nil {
			w.logger().ErrorContext(ctx, "job completion panicked", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	return w.Processor.CompleteIfDone(ctx, job.tenantID, job.jobID)
}

// handle runs one message within work and reports whether it may be deleted, and for a chunk
// applied from the jobs queue its job, which the caller still has to complete (the message
// may be deleted only once that is done). A panic fails this message only: unrecovered in its
// goroutine it would end the process and retry the whole batch.
func (w *Worker) handle(ctx, work context.Context, reserve time.Duration, rec events.SQSMessage) (ok bool, applied *jobKey) {
	log := w.logger().With("messageId", rec.MessageId)
	defer func() {
		if p := recover(); p != nil {
			log.ErrorContext(ctx, "job message panicked", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			ok, applied = false, nil
		}
	}()
	dead := w.DeadLetterARN != "" && rec.EventSourceARN == w.DeadLetterARN
	msg, err := jobmsg.Decode(rec.Body)
	if err != nil {
		// No retry can make it readable and there is nothing to record it against: park it
		// at once rather than fail it on every receive here and in the dead-letter queue.
		return w.park(ctx, log, rec, dead, err.Error()), nil
	}
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
			err = w.Processor.ApplyChunk(work, *msg.Chunk)
		}
	}
	if dead {
		if access.ErrorCode(err) == access.CodeNotFound {
			// Its job is unknown (never stored, or gone): recording it failed can never
			// succeed, so it is parked, not retried for the dead-letter queue's retention.
			return w.park(ctx, log, rec, dead, "unknown job: "+err.Error()), nil
		}
		if err != nil {
			log.ErrorContext(ctx, "could not record a dead-lettered job message as failed; it stays in the dead-letter queue", "error", err.Error())
			return false, nil
		}
		log.WarnContext(ctx, "dead-lettered job message: what it covers and was not done is recorded as failed")
		return true, nil
	}
	if err == nil {
		if msg.Chunk != nil {
			return true, &jobKey{tenantID: msg.Chunk.TenantID, jobID: msg.Chunk.JobID}
		}
		return true, nil
	}
	receives, _ := strconv.Atoi(rec.Attributes["ApproximateReceiveCount"])
	if msg.Chunk == nil || w.MaxReceives <= 0 || receives < w.MaxReceives {
		log.WarnContext(ctx, "job message failed; it will be retried", "receive", receives, "error", err.Error())
		return false, nil
	}
	log.ErrorContext(ctx, "job chunk failed on its last receive; recording its items as failed", "receive", receives, "error", err.Error())
	// work may be over (the chunk ran out of time): record on a context of its own.
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), max(reserve, time.Second))
	defer cancel()
	if ferr := w.Processor.FailChunk(fctx, *msg.Chunk); ferr != nil {
		log.ErrorContext(ctx, "could not record the chunk as failed; the dead-letter queue's consumer will", "error", ferr.Error())
	}
	return false, nil
}

// park records a poison message once, by its id and what is wrong with it (never its body,
// which may hold personal data), and moves it to the archive queue, which nothing consumes and an
// alarm watches; without an archive it is removed. It reports whether the message may be deleted
// from its queue: not when parking failed, so that it is not lost.
func (w *Worker) park(ctx context.Context, log *slog.Logger, rec events.SQSMessage, dead bool, reason string) bool {
	queue := "jobs"
	if dead {
		queue = "dead-letter"
	}
	log = log.With("queue", queue, "reason", reason, "receive", rec.Attributes["ApproximateReceiveCount"])
	if w.Archive == nil {
		log.ErrorContext(ctx, "poison job message removed (no archive queue configured)")
		return true
	}
	if err := w.Archive.Park(ctx, jobmsg.Parked{MessageID: rec.MessageId, Queue: queue, Reason: reason, Body: rec.Body}); err != nil {
		log.WarnContext(ctx, "could not park a poison job message; it is tried again", "error", err.Error())
		return false
	}
	log.ErrorContext(ctx, "poison job message parked in the archive queue")
	return true
}

func (w *Worker) logger() *slog.Logger {
	if w.Log == nil {
		return slog.Default()
	}
	return w.Log
}
