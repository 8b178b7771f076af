package jobworker_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/tilgang/tilgang/shared/apitest"
	"github.com/tilgang/tilgang/shared/config"
	"github.com/tilgang/tilgang/shared/jobqueue"
	"github.com/tilgang/tilgang/shared/jobworker"
	"github.com/tilgang/tilgang/shared/localstack"
)

// syncBuffer is a log sink several goroutines write to.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) records(t *testing.T) []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(s.b.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

// TestPoisonMessagesAreParkedOnce: unreadable and unknown messages on the jobs queue and on its
// dead-letter queue are recorded once, by message id and never by body, and moved to the archive
// queue (which nothing consumes), instead of failing on every receive for the queue's retention.
// The pollers are the dev server's, so the local stack behaves as the deployed one.
func TestPoisonMessagesAreParkedOnce(t *testing.T) {
	client, q := localstack.Queues(t)
	env := apitest.NewWith(t, func(c *config.Config) {
		c.JobsQueueURL, c.JobsDLQARN, c.JobsArchiveQueueURL = q.JobsURL, q.JobsDLQARN, q.JobsArchiveURL
	})
	s := &stack{env: env, sqs: client, queues: q}
	logs := &syncBuffer{}
	w := &jobworker.Worker{Processor: env.App.Jobs, MaxReceives: jobworker.MaxReceives, DeadLetterARN: q.JobsDLQARN,
		Archive: &jobqueue.Archive{Client: client, QueueURL: q.JobsArchiveURL}, Log: slog.New(slog.NewJSONHandler(logs, nil))}

	secret := "mette.secret@example.com"
	toJobs := []string{
		"not json " + secret,
		`{"kind":"invoice","email":"` + secret + `"}`,
		`{"tenantId":"t_1","jobId":"j_1"}`, // a chunk without consultant, requester, action or clients
		`[1,2,3]`,
		`{"kind":"fanout","tenantId":"t#1","jobId":"j_1","from":0,"to":1}`,
	}
	toDLQ := []string{
		"garbage " + secret,
		// Well formed, but of a job that does not exist: recording it failed cannot succeed.
		`{"tenantId":"t_missing","jobId":"j_missing","index":0,"action":"revoke","requesterId":"u_1","consultantId":"u_2","clientIds":["c_1"]}`,
	}
	ids := map[string]string{} // message id → queue
	for url, bodies := range map[string][]string{q.JobsURL: toJobs, q.JobsDLQURL: toDLQ} {
		for _, b := range bodies {
			out, err := client.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(b)})
			if err != nil {
				t.Fatal(err)
			}
			ids[aws.ToString(out.MessageId)] = url
		}
	}
	jobs, dead := s.poller(w.Handle), s.dlqPoller(w.Handle)
	s.drain(t, jobs, q.JobsURL)
	s.drain(t, dead, q.JobsDLQURL)
	// Polling again finds nothing: nothing was left to come back.
	for _, p := range []interface {
		PollOnce(context.Context) (int, error)
	}{jobs, dead} {
		if n, err := p.PollOnce(context.Background()); err != nil || n != 0 {
			t.Errorf("a second poll got %d messages, %v", n, err)
		}
	}

	// Recorded once each, by id, without the body.
	recorded := map[string]int{}
	for _, r := range logs.records(t) {
		line, _ := json.Marshal(r)
		if strings.Contains(string(line), "secret") {
			t.Errorf("a log record holds the message body: %s", line)
		}
		if r["level"] == "ERROR" {
			id, _ := r["messageId"].(string)
			recorded[id]++
		}
	}
	unknownJob := ""
	for id, url := range ids {
		if recorded[id] > 1 {
			t.Errorf("message %s from %s recorded %d times, want once", id, url, recorded[id])
		}
		if recorded[id] == 1 {
			continue
		}
		if url == q.JobsDLQURL && unknownJob == "" {
			unknownJob = id // the unknown job's chunk may also end as recorded-failed
			continue
		}
		t.Errorf("message %s from %s not recorded", id, url)
	}

	// Parked in the archive with where they came from and why.
	parked := map[string]map[string]string{}
	deadline := time.Now().Add(10 * time.Second)
	for len(parked) < len(recorded) && time.Now().Before(deadline) {
		out, err := client.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(q.JobsArchiveURL),
			MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageAttributeNames: []string{"All"}, VisibilityTimeout: 60})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range out.Messages {
			attrs := map[string]string{}
			for k, v := range m.MessageAttributes {
				attrs[k] = aws.ToString(v.StringValue)
			}
			attrs["body"] = aws.ToString(m.Body)
			parked[attrs["originalMessageId"]] = attrs
		}
	}
	for id := range recorded {
		a, ok := parked[id]
		switch {
		case !ok:
			t.Errorf("message %s was recorded but is not in the archive", id)
		case a["reason"] == "" || (a["sourceQueue"] != "jobs" && a["sourceQueue"] != "dead-letter"):
			t.Errorf("parked message %s has attributes %v", id, a)
		}
	}
	if len(parked) < len(toJobs)+len(toDLQ)-1 {
		t.Errorf("%d messages parked, want at least %d", len(parked), len(toJobs)+len(toDLQ)-1)
	}

	// The App's own worker (what the dev server and Lambda run) is wired to the archive too.
	out, err := client.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: aws.String(q.JobsURL), MessageBody: aws.String("still not json")})
	if err != nil {
		t.Fatal(err)
	}
	s.drain(t, s.poller(env.App.JobWorker()), q.JobsURL)
	found := false
	deadline = time.Now().Add(10 * time.Second)
	for !found && time.Now().Before(deadline) {
		res, err := client.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(q.JobsArchiveURL),
			MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageAttributeNames: []string{"All"}})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range res.Messages {
			found = found || aws.ToString(m.MessageAttributes["originalMessageId"].StringValue) == aws.ToString(out.MessageId)
		}
	}
	if !found {
		t.Error("the App's job worker did not park an unreadable message in the archive queue")
	}
}
