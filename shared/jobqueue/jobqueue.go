// Package jobqueue is the SQS side of access jobs: it sends job messages (shared/jobmsg) to the
// queue the job worker consumes, a job's fan-outs from the API and the chunks a fan-out expands
// into from the worker, and parks poison messages in the archive queue. Only the functions that
// send (jobs, jobworker) import it, and with it the SQS client.
package jobqueue

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/tilgang/tilgang/shared/access"
	"github.com/tilgang/tilgang/shared/jobmsg"
)

// SQS is an access.JobQueue on one queue.
type SQS struct {
	Client   *sqs.Client
	QueueURL string
	// Parallel is how many SendMessageBatch calls run at once [8].
	Parallel int
}

var _ access.JobQueue = (*SQS)(nil)

// maxAttempts bounds the re-sends of entries SQS did not accept.
const maxAttempts = 5

// Archive is the queue poison messages are parked in: nothing consumes it, an alarm watches it,
// and its retention (14 days) leaves time to look at what arrived.
type Archive struct {
	Client   *sqs.Client
	QueueURL string
}

// Park sends the message to the archive queue with where it came from and why as attributes.
func (a *Archive) Park(ctx context.Context, p jobmsg.Parked) error {
	body := p.Body
	if body == "" {
		body = "(empty)" // SQS refuses an empty body
	}
	_, err := a.Client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(a.QueueURL), MessageBody: aws.String(body),
		MessageAttributes: map[string]types.MessageAttributeValue{
			"originalMessageId": {DataType: aws.String("String"), StringValue: aws.String(p.MessageID)},
			"sourceQueue":       {DataType: aws.String("String"), StringValue: aws.String(p.Queue)},
			"reason":            {DataType: aws.String("String"), StringValue: aws.String(p.Reason)},
		}})
	if err != nil {
		return fmt.Errorf("park message %s: %w", p.MessageID, err)
	}
	return nil
}

// FanOut sends a job's fan-out messages.
func (q *SQS) FanOut(ctx context.Context, fs []access.JobFanOut) error {
	bodies := make([]string, len(fs))
	for i, f := range fs {
		b, err := jobmsg.FanOut(f)
		if err != nil {
			return err
		}
		bodies[i] = b
	}
	return q.send(ctx, bodies)
}

// Enqueue sends chunk messages. Chunks are idempotent, so an entry sent twice (a lost answer, a
// fan-out expanded again) does no harm.
func (q *SQS) Enqueue(ctx context.Context, chunks []access.JobChunk) error {
	bodies := make([]string, len(chunks))
	for i, ch := range chunks {
		b, err := jobmsg.Chunk(ch)
		if err != nil {
			return err
		}
		bodies[i] = b
	}
	return q.send(ctx, bodies)
}

// send sends bodies in batches of 10, Parallel batches at once, re-sending failed entries with
// a growing pause.
func (q *SQS) send(ctx context.Context, bodies []string) error {
	parallel := q.Parallel
	if parallel <= 0 {
		parallel = 8
	}
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
		sem      = make(chan struct{}, parallel)
	)
	for start := 0; start < len(bodies); start += 10 {
		batch := bodies[start:min(start+10, len(bodies))]
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := q.sendBatch(ctx, batch); err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return firstErr
}

func (q *SQS) sendBatch(ctx context.Context, bodies []string) error {
	pending := map[string]string{}
	for i, b := range bodies {
		pending[strconv.Itoa(i)] = b
	}
	for attempt := 1; ; attempt++ {
		entries := make([]types.SendMessageBatchRequestEntry, 0, len(pending))
		for id, b := range pending {
			entries = append(entries, types.SendMessageBatchRequestEntry{Id: aws.String(id), MessageBody: aws.String(b)})
		}
		out, err := q.Client.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(q.QueueURL), Entries: entries})
		if err == nil {
			for _, ok := range out.Successful {
				delete(pending, aws.ToString(ok.Id))
			}
			if len(pending) == 0 {
				return nil
			}
		}
		if attempt == maxAttempts {
			if err != nil {
				return fmt.Errorf("send job messages: %w", err)
			}
			return fmt.Errorf("send job messages: %d not accepted after %d attempts: %s", len(pending), attempt, aws.ToString(out.Failed[0].Message))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(attempt*attempt) * 50 * time.Millisecond):
		}
	}
}
