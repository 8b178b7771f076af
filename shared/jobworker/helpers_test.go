package jobworker_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	stypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/tilgang/tilgang/shared/apitest"
	"github.com/tilgang/tilgang/shared/config"
	"github.com/tilgang/tilgang/shared/devserver"
	"github.com/tilgang/tilgang/shared/jobmsg"
	"github.com/tilgang/tilgang/shared/localstack"
)

func TestMain(m *testing.M) { localstack.Main(m) }

// stack is an App wired to fresh queues of its own.
type stack struct {
	env    *apitest.Env
	sqs    *sqs.Client
	queues localstack.QueueURLs
}

func newStack(t testing.TB) *stack {
	t.Helper()
	client, q := localstack.Queues(t)
	env := apitest.NewWith(t, func(c *config.Config) { c.JobsQueueURL, c.JobsDLQARN = q.JobsURL, q.JobsDLQARN })
	return &stack{env: env, sqs: client, queues: q}
}

// poller feeds the jobs queue to a handler exactly as Lambda's event source would.
func (s *stack) poller(h devserver.SQSHandler) *devserver.SQSPoller {
	return &devserver.SQSPoller{Client: s.sqs, QueueURL: s.queues.JobsURL, Handler: h, Name: "jobworker", Wait: time.Second}
}

// dlqPoller feeds the dead-letter queue to a handler, as the worker's second event source.
func (s *stack) dlqPoller(h devserver.SQSHandler) *devserver.SQSPoller {
	return &devserver.SQSPoller{Client: s.sqs, QueueURL: s.queues.JobsDLQURL, Handler: h, Name: "jobworker", Wait: time.Second}
}

// shortVisibility makes failed messages of a queue come back after a second, so that retries
// come within a test's time.
func (s *stack) shortVisibility(t testing.TB, url string) {
	t.Helper()
	if _, err := s.sqs.SetQueueAttributes(context.Background(), &sqs.SetQueueAttributesInput{QueueUrl: aws.String(url),
		Attributes: map[string]string{string(stypes.QueueAttributeNameVisibilityTimeout): "1"}}); err != nil {
		t.Fatal(err)
	}
}

// expand takes the n fan-outs the API queued off the jobs queue and runs them through the real
// worker, which queues their chunks.
func (s *stack) expand(t testing.TB, n int) {
	t.Helper()
	ev := s.receiveAll(t, n)
	for _, r := range ev.Records {
		if m, err := jobmsg.Decode(r.Body); err != nil || m.FanOut == nil {
			t.Fatalf("message %s is not a fan-out: %v", truncate(r.Body), err)
		}
	}
	if res, err := s.env.App.JobWorker()(context.Background(), ev); err != nil || len(res.BatchItemFailures) > 0 {
		t.Fatalf("expand: %v %v", res, err)
	}
	s.deleteAll(t, s.queues.JobsURL, ev)
}

// deleteAll deletes received messages, as the event source does after a successful batch.
func (s *stack) deleteAll(t testing.TB, url string, ev events.SQSEvent) {
	t.Helper()
	for _, r := range ev.Records {
		if _, err := s.sqs.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: aws.String(r.ReceiptHandle)}); err != nil {
			t.Fatal(err)
		}
	}
}

// drain polls a queue until it is empty (no message visible or in flight).
func (s *stack) drain(t testing.TB, p *devserver.SQSPoller, url string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for s.queueDepth(t, url) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("queue %s does not empty", url)
		}
		if _, err := p.PollOnce(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}

// runUntilDone polls the queue with the real worker until the job has ended.
func (s *stack) runUntilDone(t testing.TB, actor *apitest.Actor, jobID string, p *devserver.SQSPoller) map[string]any {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := p.PollOnce(context.Background()); err != nil {
			t.Fatal(err)
		}
		j := actor.Must(t, "GET", "/v1/access-jobs/"+jobID, nil, 200).Map(t)
		switch j["status"] {
		case "completed", "completed_with_errors", "failed":
			return j
		}
	}
	t.Fatalf("job %s did not end in time", jobID)
	return nil
}

// receiveAll takes every message off the jobs queue (they stay in flight, not deleted).
func (s *stack) receiveAll(t testing.TB, want int) events.SQSEvent {
	t.Helper()
	return s.receive(t, s.queues.JobsURL, want)
}

// receive takes want messages off a queue (they stay in flight, not deleted), as records of the
// queue's event source.
func (s *stack) receive(t testing.TB, url string, want int) events.SQSEvent {
	t.Helper()
	arn := s.queues.JobsDLQARN
	if url == s.queues.JobsURL {
		out, err := s.sqs.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url),
			AttributeNames: []stypes.QueueAttributeName{stypes.QueueAttributeNameQueueArn}})
		if err != nil {
			t.Fatal(err)
		}
		arn = out.Attributes[string(stypes.QueueAttributeNameQueueArn)]
	}
	var ev events.SQSEvent
	deadline := time.Now().Add(20 * time.Second)
	for len(ev.Records) < want && time.Now().Before(deadline) {
		out, err := s.sqs.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(url),
			MaxNumberOfMessages: 10, WaitTimeSeconds: 1, AttributeNames: []stypes.QueueAttributeName{stypes.QueueAttributeNameAll}})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range out.Messages {
			ev.Records = append(ev.Records, events.SQSMessage{MessageId: aws.ToString(m.MessageId), ReceiptHandle: aws.ToString(m.ReceiptHandle),
				Body: aws.ToString(m.Body), Attributes: m.Attributes, EventSource: "aws:sqs", EventSourceARN: arn})
		}
	}
	if len(ev.Records) != want {
		t.Fatalf("received %d messages, want %d", len(ev.Records), want)
	}
	return ev
}

// queueDepth counts a queue's messages: visible, in flight and delayed. local-aws-sqs counts a
// message just sent as delayed until its next timer tick, whatever its DelaySeconds.
func (s *stack) queueDepth(t testing.TB, url string) int {
	t.Helper()
	names := []stypes.QueueAttributeName{stypes.QueueAttributeNameApproximateNumberOfMessages,
		stypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible, stypes.QueueAttributeNameApproximateNumberOfMessagesDelayed}
	out, err := s.sqs.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url), AttributeNames: names})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, name := range names {
		v, _ := strconv.Atoi(out.Attributes[string(name)])
		n += v
	}
	return n
}

// bureau is a tenant with consultants and clients.
type bureau struct {
	*apitest.Tenant
	consultants []string
	clients     []string
}

func newBureau(t testing.TB, s *stack, consultants, clients int) *bureau {
	t.Helper()
	b := &bureau{Tenant: s.env.NewTenant(t, true)}
	for i := range consultants {
		b.consultants = append(b.consultants, b.Owner.CreateUser(t, map[string]any{"name": fmt.Sprintf("Consultant %d", i), "profession": "consultant", "roles": []string{"consultant"}}))
	}
	for i := range clients {
		r := b.Owner.Must(t, "POST", "/v1/clients", map[string]any{"name": fmt.Sprintf("Client AB %d", i)}, 201)
		b.clients = append(b.clients, r.Map(t)["id"].(string))
	}
	return b
}

func submit(t testing.TB, a *apitest.Actor, body map[string]any, headers ...string) map[string]any {
	t.Helper()
	return a.Must(t, "POST", "/v1/access-jobs", body, 202, headers...).Map(t)
}

// results reads every result of a job, paging with a small limit, keyed consultant/client/program.
func results(t testing.TB, a *apitest.Actor, jobID, outcome string) map[string]string {
	t.Helper()
	out := map[string]string{}
	cursor := ""
	for page := 0; ; page++ {
		url := "/v1/access-jobs/" + jobID + "/results?limit=7"
		if outcome != "" {
			url += "&outcome=" + outcome
		}
		if cursor != "" {
			url += "&cursor=" + cursor
		}
		var p struct {
			Items []struct {
				ConsultantID, ClientID, Program, Outcome, Reason string
			}
			NextCursor string
		}
		a.Must(t, "GET", url, nil, 200).JSON(t, &p)
		for _, it := range p.Items {
			k := it.ConsultantID + "/" + it.ClientID + "/" + it.Program
			if _, dup := out[k]; dup {
				t.Fatalf("result %s listed twice", k)
			}
			if it.Reason == "" {
				t.Errorf("result %s has no reason", k)
			}
			out[k] = it.Outcome
		}
		if p.NextCursor == "" {
			return out
		}
		if page > 10000 {
			t.Fatal("results never end")
		}
		cursor = p.NextCursor
	}
}

func counts(j map[string]any) map[string]int {
	out := map[string]int{}
	for k, v := range j["counts"].(map[string]any) {
		if n := int(v.(float64)); n > 0 {
			out[k] = n
		}
	}
	return out
}

func jsonEqual(t testing.TB, what string, got, want any) {
	t.Helper()
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	if string(g) != string(w) {
		t.Errorf("%s = %s, want %s", what, g, w)
	}
}

// deleteClientItem removes a client behind the API's back, as if it vanished mid-job.
func deleteClientItem(t testing.TB, s *stack, tenantID, clientID string) {
	t.Helper()
	_, err := s.env.App.Dynamo.DeleteItem(context.Background(), &dynamodb.DeleteItemInput{TableName: aws.String(s.env.Config.TableName),
		Key: map[string]dtypes.AttributeValue{"PK": &dtypes.AttributeValueMemberS{Value: "TENANT#" + tenantID}, "SK": &dtypes.AttributeValueMemberS{Value: "CLIENT#" + clientID}}})
	if err != nil {
		t.Fatal(err)
	}
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }

func itoa(i int) string { return strconv.Itoa(i) }

func truncate(s string) string {
	if len(s) > 300 {
		return s[:300] + "..."
	}
	return s
}
