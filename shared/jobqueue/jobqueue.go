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

// Decode reads a message body.
func Decode(body string) (Message, error) {
	var head struct {
		Kind string `json:"kind"`
	}
	if err := json.Unmarshal([]byte(body), &head); err != nil {
		return Message{}, fmt.Errorf("decode job message: %w", err)
	}
	switch head.Kind {
	case kindFanOut:
		var f fanOutBody
		if err := json.Unmarshal([]byte(body), &f); err != nil {
			return Message{}, fmt.Errorf("decode fan-out: %w", err)
		}
		return Message{FanOut: &f.JobFanOut}, nil
	case "":
		var ch access.JobChunk
		if err := json.Unmarshal([]byte(body), &ch); err != nil {
			return Message{}, fmt.Errorf("decode chunk: %w", err)
		}
		return Message{Chunk: &ch}, nil
	}
	return Message{}, errors.New("decode job message: unknown kind")
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
