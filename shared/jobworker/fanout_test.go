package jobworker_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tilgang/tilgang/shared/access"
	"github.com/tilgang/tilgang/shared/access/clients"
	"github.com/tilgang/tilgang/shared/dynamo"
	"github.com/tilgang/tilgang/shared/httpapi"
	"github.com/tilgang/tilgang/shared/jobqueue"
	"github.com/tilgang/tilgang/shared/jobworker"
)

// storedJobs lists the ids of the jobs stored in a tenant's partition, whatever their state.
func storedJobs(t testing.TB, s *stack, tenantID string) []string {
	t.Helper()
	out, err := s.env.App.Dynamo.Query(context.Background(), &dynamodb.QueryInput{TableName: aws.String(s.env.Config.TableName),
		KeyConditionExpression: aws.String("PK = :pk AND begins_with(SK, :job)"), ConsistentRead: aws.Bool(true),
		ExpressionAttributeValues: map[string]dtypes.AttributeValue{
			":pk": &dtypes.AttributeValueMemberS{Value: "TENANT#" + tenantID}, ":job": &dtypes.AttributeValueMemberS{Value: "JOB#"}}})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, it := range out.Items {
		ids = append(ids, it["id"].(*dtypes.AttributeValueMemberS).Value)
	}
	return ids
}

// TestFanOutsCoverTheJob: the API queues one fan-out per FanOutChunks chunks, whatever the job's
// size, and the worker expands them into every chunk.
func TestFanOutsCoverTheJob(t *testing.T) {
	s := newStack(t)
	s.env.App.Jobs.FanOutChunks = 2
	b := newBureau(t, s, 5, 1)
	j := submit(t, b.Owner, map[string]any{"action": "grant", "consultantIds": b.consultants, "clientIds": b.clients, "programs": []string{"payroll", "orders"}})
	if n := s.queueDepth(t, s.queues.JobsURL); n != 3 {
		t.Errorf("the API queued %d messages, want 3 fan-outs of 5 chunks", n)
	}
	got := s.runUntilDone(t, b.Owner, j["id"].(string), s.poller(s.env.App.JobWorker()))
	if got["status"] != "completed" || got["done"].(float64) != 10 {
		t.Errorf("job = %v", got)
	}
	jsonEqual(t, "counts", counts(got), map[string]int{"assigned": 10})
	assertNotifications(t, b.Owner, 1)
}

// markerFailingStore fails the first MarkFanOutSent: a worker dying after it sent a fan-out's
// chunks and before it recorded that.
type markerFailingStore struct {
	*dynamo.Store
	calls atomic.Int32
}

func (f *markerFailingStore) MarkFanOutSent(ctx context.Context, fo access.JobFanOut) error {
	if f.calls.Add(1) == 1 {
		return errors.New("injected failure")
	}
	return f.Store.MarkFanOutSent(ctx, fo)
}

// TestFanOutExpandedAgain: a fan-out that failed after sending its chunks is expanded again on
// redelivery, which sends them twice: the job still counts every item once. Once recorded as
// sent, a fan-out delivered again sends nothing.
func TestFanOutExpandedAgain(t *testing.T) {
	s := newStack(t)
	b := newBureau(t, s, 2, 2)
	j := submit(t, b.Owner, map[string]any{"action": "grant", "consultantIds": b.consultants, "clientIds": b.clients, "programs": []string{"payroll"}})
	jobID := j["id"].(string)
	fanOut := s.receiveAll(t, 1)

	faulty := *s.env.App.Jobs
	faulty.Store = &markerFailingStore{Store: s.env.App.Store}
	w := &jobworker.Worker{Processor: &faulty, MaxReceives: jobworker.MaxReceives}
	if res, err := w.Handle(context.Background(), fanOut); err != nil || len(res.BatchItemFailures) != 1 {
		t.Fatalf("faulty expansion = %v, %v; want the fan-out reported failed", res, err)
	}
	h := s.env.App.JobWorker()
	if res, err := h(context.Background(), fanOut); err != nil || len(res.BatchItemFailures) != 0 {
		t.Fatalf("redelivered fan-out = %v, %v", res, err)
	}
	s.deleteAll(t, s.queues.JobsURL, fanOut)
	chunks := s.receiveAll(t, 4) // two chunks, each sent twice
	if res, err := h(context.Background(), chunks); err != nil || len(res.BatchItemFailures) != 0 {
		t.Fatalf("chunks = %v, %v", res, err)
	}
	s.deleteAll(t, s.queues.JobsURL, chunks)
	if res, err := h(context.Background(), fanOut); err != nil || len(res.BatchItemFailures) != 0 {
		t.Fatalf("third delivery of the fan-out = %v, %v", res, err)
	}
	if n := s.queueDepth(t, s.queues.JobsURL); n != 0 {
		t.Errorf("a fan-out recorded as sent queued %d messages again", n)
	}
	got := b.Owner.Must(t, "GET", "/v1/access-jobs/"+jobID, nil, 200).Map(t)
	if got["status"] != "completed" || got["done"].(float64) != 4 {
		t.Errorf("job = %v", got)
	}
	jsonEqual(t, "counts", counts(got), map[string]int{"assigned": 4})
	assertNotifications(t, b.Owner, 1)
}

// brokenQueue refuses every chunk: expansion keeps failing.
type brokenQueue struct{ access.JobQueue }

func (brokenQueue) Enqueue(context.Context, []access.JobChunk) error { return errors.New("queue down") }

// TestFanOutInTheDLQ: a fan-out that never got expanded ends in the DLQ, where the worker records
// every item of its chunks failed and ends the job; a fan-out that was expanded but lands there
// anyway (its batches kept timing out) records nothing, and its chunks still run.
func TestFanOutInTheDLQ(t *testing.T) {
	setUp := func(t *testing.T) (*stack, *bureau, map[string]any) {
		s := newStack(t)
		b := newBureau(t, s, 2, 3)
		return s, b, map[string]any{"action": "grant", "consultantIds": b.consultants, "clientIds": b.clients, "programs": []string{"payroll"}}
	}

	t.Run("not expanded", func(t *testing.T) {
		s, b, body := setUp(t)
		j := submit(t, b.Owner, body)
		jobID := j["id"].(string)
		s.shortVisibility(t, s.queues.JobsURL)
		broken := *s.env.App.Jobs
		broken.Queue = brokenQueue{s.env.App.Jobs.Queue}
		p := s.poller((&jobworker.Worker{Processor: &broken, MaxReceives: jobworker.MaxReceives}).Handle)
		deadline := time.Now().Add(30 * time.Second)
		for s.queueDepth(t, s.queues.JobsDLQURL) == 0 {
			if time.Now().After(deadline) {
				t.Fatal("the fan-out did not reach the DLQ")
			}
			if _, err := p.PollOnce(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		s.drain(t, s.dlqPoller(s.env.App.JobWorker()), s.queues.JobsDLQURL)
		got := b.Owner.Must(t, "GET", "/v1/access-jobs/"+jobID, nil, 200).Map(t)
		if got["status"] != "completed_with_errors" || got["done"].(float64) != 6 {
			t.Errorf("job = %v", got)
		}
		jsonEqual(t, "counts", counts(got), map[string]int{"failed": 6})
	})

	t.Run("expanded", func(t *testing.T) {
		s, b, body := setUp(t)
		j := submit(t, b.Owner, body)
		jobID := j["id"].(string)
		fanOut := s.receiveAll(t, 1)
		h := s.env.App.JobWorker()
		if res, err := h(context.Background(), fanOut); err != nil || len(res.BatchItemFailures) != 0 {
			t.Fatalf("expansion = %v, %v", res, err)
		}
		s.deleteAll(t, s.queues.JobsURL, fanOut)
		dead := fanOut
		dead.Records = []events.SQSMessage{fanOut.Records[0]}
		dead.Records[0].EventSourceARN = s.queues.JobsDLQARN
		if res, err := h(context.Background(), dead); err != nil || len(res.BatchItemFailures) != 0 {
			t.Fatalf("dead-lettered fan-out = %v, %v", res, err)
		}
		if got := b.Owner.Must(t, "GET", "/v1/access-jobs/"+jobID, nil, 200).Map(t); got["done"].(float64) != 0 {
			t.Fatalf("the dead-lettered fan-out recorded results: %v", got)
		}
		got := s.runUntilDone(t, b.Owner, jobID, s.poller(h))
		jsonEqual(t, "counts", counts(got), map[string]int{"assigned": 6})
	})
}

// TestFanOutOfAJobNeverStored: a fan-out whose submission failed after sending it is dropped by
// the worker once the job can no longer be stored, and waited for until then; in the DLQ it is
// dropped at once. Nothing is written either way.
func TestFanOutOfAJobNeverStored(t *testing.T) {
	s := newStack(t)
	b := newBureau(t, s, 1, 1)
	q := &jobqueue.SQS{Client: s.sqs, QueueURL: s.queues.JobsURL}
	h := s.env.App.JobWorker()
	send := func(created time.Time) events.SQSEvent {
		t.Helper()
		if err := q.FanOut(context.Background(), []access.JobFanOut{{TenantID: b.ID, JobID: "job_never", From: 0, To: 1, CreatedAt: created}}); err != nil {
			t.Fatal(err)
		}
		ev := s.receiveAll(t, 1)
		s.deleteAll(t, s.queues.JobsURL, ev)
		return ev
	}
	old := send(time.Now().Add(-access.JobStoreGrace - time.Minute))
	if res, err := h(context.Background(), old); err != nil || len(res.BatchItemFailures) != 0 {
		t.Errorf("fan-out past the grace = %v, %v; want it dropped", res, err)
	}
	recent := send(time.Now())
	start := time.Now()
	if res, err := h(context.Background(), recent); err != nil || len(res.BatchItemFailures) != 1 {
		t.Errorf("fan-out within the grace = %v, %v; want it back later", res, err)
	}
	if waited := time.Since(start); waited < time.Second {
		t.Errorf("the worker waited %v for the job", waited)
	}
	recent.Records[0].EventSourceARN = s.queues.JobsDLQARN
	if res, err := h(context.Background(), recent); err != nil || len(res.BatchItemFailures) != 0 {
		t.Errorf("dead-lettered fan-out = %v, %v; want it dropped", res, err)
	}
	if n := s.queueDepth(t, s.queues.JobsURL); n != 0 {
		t.Errorf("the jobs queue holds %d messages", n)
	}
	if ids := storedJobs(t, s, b.ID); len(ids) != 0 {
		t.Errorf("jobs stored: %v", ids)
	}
}

// halfQueue sends the first fan-out and fails: a partial failure to queue a job.
type halfQueue struct{ access.JobQueue }

func (q halfQueue) FanOut(ctx context.Context, fs []access.JobFanOut) error {
	if err := q.JobQueue.FanOut(ctx, fs[:1]); err != nil {
		return err
	}
	return errors.New("queue throttled")
}

// stuckQueue never answers: the API function times out while queueing.
type stuckQueue struct{ access.JobQueue }

func (stuckQueue) FanOut(ctx context.Context, _ []access.JobFanOut) error {
	<-ctx.Done()
	return ctx.Err()
}

// TestSubmissionThatCannotQueueStoresNothing: a submission that fails to queue its fan-outs,
// halfway or by running out of time, stores no job, so none stays open; the client's retry with
// its Idempotency-Key runs the job, and the stray fan-out changes nothing.
func TestSubmissionThatCannotQueueStoresNothing(t *testing.T) {
	s := newStack(t)
	svc := s.env.App.Jobs
	svc.FanOutChunks = 1
	b := newBureau(t, s, 2, 1)
	body := map[string]any{"action": "grant", "consultantIds": b.consultants, "clientIds": b.clients, "programs": []string{"payroll"}}
	real := svc.Queue

	svc.Queue = halfQueue{real}
	// Straight to the handler: the harness fails a test on any 500, and this one is expected.
	res, err := s.env.App.API(httpapi.Jobs)(context.Background(), b.Owner.Event(t, "POST", "/v1/access-jobs", body, "Idempotency-Key", "flaky-1"))
	if err != nil || res.StatusCode != 500 {
		t.Fatalf("submission that could not queue = %d %s, %v; want 500", res.StatusCode, res.Body, err)
	}
	svc.Queue = real
	if ids := storedJobs(t, s, b.ID); len(ids) != 0 {
		t.Fatalf("a submission that could not queue its fan-outs stored jobs %v", ids)
	}

	stuck := *svc
	stuck.Queue = stuckQueue{real}
	caller, err := s.env.App.People.Authenticate(context.Background(), b.ID, b.Owner.UserID, "req")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if _, _, err := stuck.CreateJob(ctx, caller, access.NewJob{Action: access.JobGrant, ConsultantIDs: b.consultants, ClientIDs: b.clients,
		Programs: []string{"payroll"}}, nil); err == nil {
		t.Fatal("a submission that timed out while queueing succeeded")
	}
	if ids := storedJobs(t, s, b.ID); len(ids) != 0 {
		t.Fatalf("a submission that timed out stored jobs %v", ids)
	}

	j := submit(t, b.Owner, body, "Idempotency-Key", "flaky-1")
	got := s.runUntilDone(t, b.Owner, j["id"].(string), s.poller(s.env.App.JobWorker()))
	jsonEqual(t, "counts", counts(got), map[string]int{"assigned": 2})
	if ids := storedJobs(t, s, b.ID); len(ids) != 1 || ids[0] != j["id"] {
		t.Errorf("stored jobs = %v, want only %v", ids, j["id"])
	}
}

// TestIdempotencyKeyIsTheCallers: two users of one tenant who send the same Idempotency-Key and
// body get a job each; each retry returns the sender's own.
func TestIdempotencyKeyIsTheCallers(t *testing.T) {
	s := newStack(t)
	b := newBureau(t, s, 1, 1)
	managers := b.Owner.CreateGroup(t, "Managers", map[string]any{"users": map[string]any{"level": "edit"}})
	other := s.env.As(b.ID, b.Owner.CreateUser(t, map[string]any{"groupIds": []string{managers}}))
	body := map[string]any{"action": "grant", "consultantIds": b.consultants, "clientIds": b.clients, "programs": []string{"payroll"}}
	mine := submit(t, b.Owner, body, "Idempotency-Key", "shared-key")
	theirs := submit(t, other, body, "Idempotency-Key", "shared-key")
	if mine["id"] == theirs["id"] || theirs["requesterId"] != other.UserID {
		t.Fatalf("the second user got job %v of %v, want a job of their own", theirs["id"], theirs["requesterId"])
	}
	if again := submit(t, other, body, "Idempotency-Key", "shared-key"); again["id"] != theirs["id"] {
		t.Errorf("the second user's retry made job %v, want %v", again["id"], theirs["id"])
	}
	if again := submit(t, b.Owner, body, "Idempotency-Key", "shared-key"); again["id"] != mine["id"] {
		t.Errorf("the owner's retry made job %v, want %v", again["id"], mine["id"])
	}
	other.Must(t, "GET", "/v1/access-jobs/"+theirs["id"].(string), nil, 200)
}

// raceStore runs before, once, just ahead of a client administrator's write: another request
// that commits in between.
type raceStore struct {
	*dynamo.Store
	before func()
	once   sync.Once
}

func (r *raceStore) DeleteClientAdmin(ctx context.Context, a access.ClientAdmin, keep *access.ClientAdmin, meta access.Meta) error {
	r.once.Do(r.before)
	return r.Store.DeleteClientAdmin(ctx, a, keep, meta)
}

func (r *raceStore) PutClientAdmin(ctx context.Context, prev *access.ClientAdmin, next access.ClientAdmin, keep *access.ClientAdmin, meta access.Meta) error {
	r.once.Do(r.before)
	return r.Store.PutClientAdmin(ctx, prev, next, keep, meta)
}

// TestSystemAdministratorsCannotRemoveEachOther: two system administrators of a client who
// remove (or demote) each other at the same moment cannot both succeed: the client keeps one
// besides the owner, and the one who lost hears 409.
func TestSystemAdministratorsCannotRemoveEachOther(t *testing.T) {
	s := newStack(t)
	b := newBureau(t, s, 2, 1)
	c, a1, a2 := b.clients[0], b.consultants[0], b.consultants[1]
	ctx := context.Background()
	svc := s.env.App.Clients
	caller := func(id string) *access.Caller {
		c, err := s.env.App.People.Authenticate(ctx, b.ID, id, "req-"+id)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	for name, change := range map[string]func(*clients.Service, *access.Caller) error{
		"remove": func(svc *clients.Service, by *access.Caller) error { return svc.RemoveClientAdmin(ctx, by, c, a2) },
		"demote": func(svc *clients.Service, by *access.Caller) error {
			_, err := svc.SetClientAdmin(ctx, by, c, a2, false, []string{"payroll"}, nil)
			return err
		},
	} {
		t.Run(name, func(t *testing.T) {
			for _, u := range []string{a1, a2} {
				b.Owner.Must(t, "PUT", "/v1/clients/"+c+"/admins/"+u, map[string]any{"system": true}, 200)
			}
			racing := *svc
			racing.Store = &raceStore{Store: s.env.App.Store, before: func() {
				// a2 removes a1 while a1's change of a2 is under way.
				if err := svc.RemoveClientAdmin(ctx, caller(a2), c, a1); err != nil {
					t.Errorf("a2 removes a1: %v", err)
				}
			}}
			err := change(&racing, caller(a1))
			if !errors.Is(err, access.ErrLastSystemAdmin) {
				t.Fatalf("a1's change of a2 after a2 removed a1 = %v, want %v", err, access.ErrLastSystemAdmin)
			}
			if p, ok := httpapi.ProblemFor(err); !ok || p.Status != 409 {
				t.Errorf("problem = %+v, want 409", p)
			}
			if ad, err := svc.Store.GetClientAdmin(ctx, b.ID, c, a2); err != nil || !ad.System {
				t.Errorf("a2 = %+v, %v; want still system administrator", ad, err)
			}
			// The owner (who stays system administrator of every client) may remove the last one.
			b.Owner.Must(t, "DELETE", "/v1/clients/"+c+"/admins/"+a2, nil, 204)
		})
	}
}
