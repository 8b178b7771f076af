// Package jobqueue sends access-job messages to the SQS queue the job worker consumes, and reads
// them back: a job's fan-outs, which the API sends, and the chunks a fan-out expands into, which
// the worker sends.
package jobqueue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/tilgang/tilgang/shared/access"
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

// kindFanOut marks a fan-out message; a message without a kind is a chunk.
const kindFanOut = "fanout"

type fanOutBody struct {
	Kind string `json:"kind"`
	access.JobFanOut
}

// Message is one message of the jobs queue: exactly one of FanOut and Chunk is set.
type Message struct {
	FanOut *access.JobFanOut
	Chunk  *access.JobChunk
}

// ErrPoison marks a message that no retry can make readable: not JSON, of a kind this code does
// not know, or without what every message of its kind has. The worker parks such a message
// instead of failing it again and again.
var ErrPoison = errors.New("poison job message")

// Decode reads a message body; every error it returns wraps ErrPoison and says what is wrong
// without quoting the body.
func Decode(body string) (Message, error) {
	var head struct {
		Kind string `json:"kind"`
	}
	if !json.Valid([]byte(body)) {
		return Message{}, fmt.Errorf("%w: not JSON", ErrPoison)
	}
	if err := json.Unmarshal([]byte(body), &head); err != nil {
		return Message{}, fmt.Errorf("%w: not a JSON object", ErrPoison)
	}
	switch head.Kind {
	case kindFanOut:
		var f fanOutBody
		if err := json.Unmarshal([]byte(body), &f); err != nil {
			return Message{}, fmt.Errorf("%w: fan-out fields of the wrong type", ErrPoison)
		}
		if !access.PlausibleID(f.TenantID) || !access.PlausibleID(f.JobID) || f.From < 0 || f.To <= f.From {
			return Message{}, fmt.Errorf("%w: fan-out without tenant, job or range", ErrPoison)
		}
		return Message{FanOut: &f.JobFanOut}, nil
	case "":
		var ch access.JobChunk
		if err := json.Unmarshal([]byte(body), &ch); err != nil {
			return Message{}, fmt.Errorf("%w: chunk fields of the wrong type", ErrPoison)
		}
		if !access.PlausibleID(ch.TenantID) || !access.PlausibleID(ch.JobID) || !access.PlausibleID(ch.RequesterID) ||
			!access.PlausibleID(ch.ConsultantID) || !ch.Action.Valid() || len(ch.ClientIDs) == 0 {
			return Message{}, fmt.Errorf("%w: chunk without tenant, job, requester, consultant, action or clients", ErrPoison)
		}
		return Message{Chunk: &ch}, nil
	}
	return Message{}, fmt.Errorf("%w: unknown kind", ErrPoison)
}

// Archive is the queue poison messages are parked in: nothing consumes it, an alarm watches it,
// and its retention (14 days) leaves time to look at what arrived.
type Archive struct {
	Client   *sqs.Client
	QueueURL string
}

// Parked is a poison message on its way to the archive.
type Parked struct {
	MessageID string // the id it had on the queue it came from
	Queue     string // "jobs" or "dead-letter"
	Reason    string // what is wrong with it, never its content
	Body      string
}

// Park sends the message to the archive queue with where it came from and why as attributes.
func (a *Archive) Park(ctx context.Context, p Parked) error {
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
		b, err := json.Marshal(fanOutBody{Kind: kindFanOut, JobFanOut: f})
		if err != nil {
			return fmt.Errorf("marshal fan-out %d: %w", f.From, err)
		}
		bodies[i] = string(b)
	}
	return q.send(ctx, bodies)
}

// Enqueue sends chunk messages. Chunks are idempotent, so an entry sent twice (a lost answer, a
// fan-out expanded again) does no harm.
func (q *SQS) Enqueue(ctx context.Context, chunks []access.JobChunk) error {
	bodies := make([]string, len(chunks))
	for i, ch := range chunks {
		b, err := json.Marshal(ch)
		if err != nil {
			return fmt.Errorf("marshal chunk %d: %w", ch.Index, err)
		}
		bodies[i] = string(b)
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
