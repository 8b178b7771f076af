// Package jobqueue sends access-job chunks to the SQS queue the job worker consumes.
package jobqueue

import (
	"context"
	"encoding/json"
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
	// Parallel is how many SendMessageBatch calls run at once [8]: a job of 500 consultants ×
	// 5,000 clients is 25,000 messages, which must be sent within an API request's time.
	Parallel int
}

var _ access.JobQueue = (*SQS)(nil)

// maxAttempts bounds the re-sends of entries SQS did not accept.
const maxAttempts = 5

// Enqueue sends the chunks in batches of 10, re-sending failed entries with a growing pause.
// Chunks are idempotent, so an entry sent twice (a lost answer) does no harm.
func (q *SQS) Enqueue(ctx context.Context, chunks []access.JobChunk) error {
	bodies := make([]string, len(chunks))
	for i, ch := range chunks {
		b, err := json.Marshal(ch)
		if err != nil {
			return fmt.Errorf("marshal chunk %d: %w", ch.Index, err)
		}
		bodies[i] = string(b)
	}
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
				return fmt.Errorf("send job chunks: %w", err)
			}
			return fmt.Errorf("send job chunks: %d not accepted after %d attempts: %s", len(pending), attempt, aws.ToString(out.Failed[0].Message))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(attempt*attempt) * 50 * time.Millisecond):
		}
	}
}
