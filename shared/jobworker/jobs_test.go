package jobworker_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tilgang/tilgang/shared/access"
	"github.com/tilgang/tilgang/shared/access/jobs"
	"github.com/tilgang/tilgang/shared/apitest"
	"github.com/tilgang/tilgang/shared/dynamo"
	"github.com/tilgang/tilgang/shared/jobworker"
	"github.com/tilgang/tilgang/shared/localstack"
)

func TestMaxReceivesMatchesTheQueue(t *testing.T) {
	if jobworker.MaxReceives != localstack.JobsMaxReceiveCount {
		t.Fatalf("jobworker.MaxReceives = %d, the queue's maxReceiveCount = %d", jobworker.MaxReceives, localstack.JobsMaxReceiveCount)
	}
}

// TestEveryOutcome runs jobs of a requester who administers some clients fully, one program of
// another and nothing of a third, over an active, a deleted and a deactivated consultant and a
// client that vanishes before the worker runs: every outcome appears, with exact counts.
func TestEveryOutcome(t *testing.T) {
	s := newStack(t)
	b := newBureau(t, s, 3, 4)
	owner := b.Owner
	k1, k2, k3 := b.consultants[0], b.consultants[1], b.consultants[2]
	c1, c2, c3, c4 := b.clients[0], b.clients[1], b.clients[2], b.clients[3]
	managers := owner.CreateGroup(t, "Managers", map[string]any{"users": map[string]any{"level": "edit"}})
	rid := owner.CreateUser(t, map[string]any{"groupIds": []string{managers}})
	req := s.env.As(b.ID, rid)
	owner.Must(t, "PUT", "/v1/clients/"+c1+"/admins/"+rid, map[string]any{"system": true}, 200)
	owner.Must(t, "PUT", "/v1/clients/"+c2+"/admins/"+rid, map[string]any{"programs": []string{"payroll"}}, 200)
	worker := s.poller(s.env.App.JobWorker())

	// The owner gives k1 bookkeeping at c1 first.
	j0 := submit(t, owner, map[string]any{"action": "grant", "consultantIds": []string{k1}, "clientIds": []string{c1}, "programs": []string{"bookkeeping"}})
	if got := s.runUntilDone(t, owner, j0["id"].(string), worker); got["status"] != "completed" {
		t.Fatalf("first job = %v", got)
	}
	owner.Must(t, "POST", "/v1/users/"+k3+"/deactivate", nil, 200)

	j := submit(t, req, map[string]any{"action": "grant", "consultantIds": []string{k1, k2, k3}, "clientIds": []string{c1, c2, c3, c4},
		"programs": []string{"payroll", "bookkeeping"}})
	if j["status"] != "queued" || j["total"].(float64) != 24 {
		t.Fatalf("submitted job = %v", j)
	}
	// Between submission and processing: k2 is deleted and c4 disappears.
	owner.Must(t, "DELETE", "/v1/users/"+k2, nil, 204)
	deleteClientItem(t, s, b.ID, c4)
	jobID := j["id"].(string)
	done := s.runUntilDone(t, req, jobID, worker)
	// Items were not done, so the job ends with errors, and says so in the notification's title.
	if done["status"] != "completed_with_errors" || done["done"].(float64) != 24 || done["progress"].(float64) != 100 {
		t.Errorf("job = %v", done)
	}
	// Permission is decided before the consultant's state: the requester learns that k3 is
	// inactive only where they may manage k3 (c1 fully, c2's payroll).
	jsonEqual(t, "grant counts", counts(done), map[string]int{"already_assigned": 1, "assigned": 2, "client_not_found": 6,
		"consultant_inactive": 3, "consultant_not_found": 6, "not_permitted": 6})
	got := results(t, req, jobID, "")
	want := map[string]string{
		k1 + "/" + c1 + "/bookkeeping": "already_assigned", k1 + "/" + c1 + "/payroll": "assigned",
		k1 + "/" + c2 + "/bookkeeping": "not_permitted", k1 + "/" + c2 + "/payroll": "assigned",
		k1 + "/" + c3 + "/bookkeeping": "not_permitted", k1 + "/" + c3 + "/payroll": "not_permitted",
	}
	for _, k := range []string{k1, k2, k3} {
		want[k+"/"+c4+"/bookkeeping"], want[k+"/"+c4+"/payroll"] = "client_not_found", "client_not_found"
	}
	for _, c := range []string{c1, c2, c3} {
		want[k2+"/"+c+"/bookkeeping"], want[k2+"/"+c+"/payroll"] = "consultant_not_found", "consultant_not_found"
	}
	want[k3+"/"+c1+"/bookkeeping"], want[k3+"/"+c1+"/payroll"] = "consultant_inactive", "consultant_inactive"
	want[k3+"/"+c2+"/bookkeeping"], want[k3+"/"+c2+"/payroll"] = "not_permitted", "consultant_inactive"
	want[k3+"/"+c3+"/bookkeeping"], want[k3+"/"+c3+"/payroll"] = "not_permitted", "not_permitted"
	jsonEqual(t, "results", got, want)
	if np := results(t, req, jobID, "not_permitted"); len(np) != 6 {
		t.Errorf("results filtered on not_permitted = %v", np)
	}
	// The grant gave k1 client access to c1 and c2 (a bureau client grant), not to c3.
	access := owner.Must(t, "GET", "/v1/users/"+k1+"/clients", nil, 200).Body
	if !strings.Contains(access, c1) || !strings.Contains(access, c2) || strings.Contains(access, c3) {
		t.Errorf("k1's clients = %s", access)
	}

	// The requester's notification: ids and counts only, no names.
	var ns struct{ Items []map[string]any }
	req.Must(t, "GET", "/v1/notifications", nil, 200).JSON(t, &ns)
	if len(ns.Items) != 1 || ns.Items[0]["jobId"] != jobID || ns.Items[0]["read"] != false {
		t.Fatalf("notifications = %v", ns.Items)
	}
	if text := ns.Items[0]["title"].(string) + ns.Items[0]["summary"].(string); strings.Contains(text, "Consultant") || strings.Contains(text, "Client AB") {
		t.Errorf("notification holds names: %s", text)
	}
	nid := ns.Items[0]["id"].(string)
	read := req.Must(t, "POST", "/v1/notifications/"+nid+"/read", nil, 200).Map(t)
	again := req.Must(t, "POST", "/v1/notifications/"+nid+"/read", nil, 200).Map(t)
	if read["read"] != true || read["readAt"] != again["readAt"] {
		t.Errorf("read = %v, again = %v", read, again)
	}
	owner.Must(t, "POST", "/v1/notifications/"+nid+"/read", nil, 404) // someone else's

	// Revoke: permitted at c1 (system administrator), not at c3; then nothing left to revoke.
	rv := submit(t, req, map[string]any{"action": "revoke", "consultantIds": []string{k1}, "clientIds": []string{c1, c3}})
	jsonEqual(t, "revoke counts", counts(s.runUntilDone(t, req, rv["id"].(string), worker)), map[string]int{"not_permitted": 1, "removed": 1})
	rv2 := submit(t, req, map[string]any{"action": "revoke", "consultantIds": []string{k1}, "clientIds": []string{c1}})
	jsonEqual(t, "second revoke counts", counts(s.runUntilDone(t, req, rv2["id"].(string), worker)), map[string]int{"not_assigned_before": 1})
	// Remove programs at c2: payroll (administered) goes, bookkeeping is not theirs to remove.
	rp := submit(t, req, map[string]any{"action": "remove_programs", "consultantIds": []string{k1}, "clientIds": []string{c2}, "programs": []string{"payroll", "bookkeeping"}})
	jsonEqual(t, "remove counts", counts(s.runUntilDone(t, req, rp["id"].(string), worker)), map[string]int{"not_permitted": 1, "removed": 1})
	rp2 := submit(t, req, map[string]any{"action": "remove_programs", "consultantIds": []string{k1}, "clientIds": []string{c2}, "programs": []string{"payroll"}})
	jsonEqual(t, "second remove counts", counts(s.runUntilDone(t, req, rp2["id"].(string), worker)), map[string]int{"not_assigned_before": 1})

	// A dry run decides without writing or queueing.
	before := s.queueDepth(t, s.queues.JobsURL)
	dry := req.Must(t, "POST", "/v1/access-jobs", map[string]any{"action": "grant", "consultantIds": []string{k1}, "clientIds": []string{c1, c3},
		"programs": []string{"payroll"}, "dryRun": true}, 200).Map(t)
	jsonEqual(t, "dry run counts", counts(dry), map[string]int{"assigned": 1, "not_permitted": 1})
	dry2 := req.Must(t, "POST", "/v1/access-jobs", map[string]any{"action": "grant", "consultantIds": []string{k1}, "clientIds": []string{c1, c3},
		"programs": []string{"payroll"}, "dryRun": true}, 200).Map(t)
	jsonEqual(t, "repeated dry run", counts(dry2), counts(dry))
	if after := s.queueDepth(t, s.queues.JobsURL); after != before {
		t.Errorf("dry run queued %d messages", after-before)
	}
	// Another user cannot read the requester's job; another tenant cannot even see it.
	k1Actor := s.env.As(b.ID, k1)
	k1Actor.Must(t, "GET", "/v1/access-jobs/"+jobID, nil, 403)
	other := s.env.NewTenant(t, true)
	other.Owner.Must(t, "GET", "/v1/access-jobs/"+jobID, nil, 404)
	other.Owner.Must(t, "GET", "/v1/access-jobs/"+jobID+"/results", nil, 404)
}

// TestDuplicateDeliveryCountsOnce hands the same messages to the worker twice, also at once.
func TestDuplicateDeliveryCountsOnce(t *testing.T) {
	s := newStack(t)
	b := newBureau(t, s, 2, 3)
	j := submit(t, b.Owner, map[string]any{"action": "grant", "consultantIds": b.consultants, "clientIds": b.clients, "programs": []string{"payroll", "invoicing"}})
	s.expand(t, 1)
	ev := s.receiveAll(t, 2)
	h := s.env.App.JobWorker()
	errs := make(chan error, 2)
	for range 2 {
		go func() {
			res, err := h(context.Background(), ev)
			if err == nil && len(res.BatchItemFailures) > 0 {
				err = errors.New("batch item failures")
			}
			errs <- err
		}()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if res, err := h(context.Background(), ev); err != nil || len(res.BatchItemFailures) > 0 {
		t.Fatalf("third delivery: %v %v", res, err)
	}
	got := b.Owner.Must(t, "GET", "/v1/access-jobs/"+j["id"].(string), nil, 200).Map(t)
	if got["status"] != "completed" || got["done"].(float64) != 12 {
		t.Errorf("job = %v", got)
	}
	jsonEqual(t, "counts", counts(got), map[string]int{"assigned": 12})
	var ns struct{ Items []map[string]any }
	b.Owner.Must(t, "GET", "/v1/notifications", nil, 200).JSON(t, &ns)
	if len(ns.Items) != 1 {
		t.Errorf("notifications = %d, want 1", len(ns.Items))
	}
	// The grants carry their clients: a consultant's clients are the principal and one Query.
	s.env.Counter.Reset()
	mine := s.env.As(b.ID, b.consultants[0]).Must(t, "GET", "/v1/users/"+b.consultants[0]+"/clients", nil, 200).Map(t)
	if items := mine["items"].([]any); len(items) != 3 || items[0].(map[string]any)["name"] != "Client AB 0" {
		t.Errorf("the consultant's clients: %v", mine)
	}
	if n := s.env.Counter.Total(); n != 2 {
		t.Errorf("the consultant's clients cost %d DynamoDB calls (%v), want 2", n, s.env.Counter.ByOperation())
	}
}

// failingStore fails the first ApplyJobPart of one part: a worker dying halfway through a chunk.
type failingStore struct {
	*dynamo.Store
	failPart int
	failed   atomic.Bool
}

func (f *failingStore) ApplyJobPart(ctx context.Context, p access.JobPart) error {
	if p.Part == f.failPart && f.failed.CompareAndSwap(false, true) {
		return errors.New("injected failure")
	}
	return f.Store.ApplyJobPart(ctx, p)
}

// TestChunkFailingHalfwayIsRedelivered: a chunk of 40 clients is applied in two parts; the
// second fails, the message is retried and the job ends with exact counts.
func TestChunkFailingHalfwayIsRedelivered(t *testing.T) {
	s := newStack(t)
	b := newBureau(t, s, 1, 40)
	j := submit(t, b.Owner, map[string]any{"action": "grant", "consultantIds": b.consultants, "clientIds": b.clients, "programs": []string{"payroll"}})
	jobID := j["id"].(string)
	s.expand(t, 1)
	ev := s.receiveAll(t, 1)

	faulty := *s.env.App.Jobs
	faulty.Store = &failingStore{Store: s.env.App.Store, failPart: 1}
	w := &jobworker.Worker{Processor: &faulty, MaxReceives: jobworker.MaxReceives}
	res, err := w.Handle(context.Background(), ev)
	if err != nil || len(res.BatchItemFailures) != 1 {
		t.Fatalf("faulty run = %v, %v; want the message reported failed", res, err)
	}
	half := b.Owner.Must(t, "GET", "/v1/access-jobs/"+jobID, nil, 200).Map(t)
	if half["status"] != "running" || half["done"].(float64) != access.PartPairs {
		t.Fatalf("after the failure job = %v, want running with %d done", half, access.PartPairs)
	}
	res, err = s.env.App.JobWorker()(context.Background(), ev)
	if err != nil || len(res.BatchItemFailures) != 0 {
		t.Fatalf("redelivery = %v, %v", res, err)
	}
	got := b.Owner.Must(t, "GET", "/v1/access-jobs/"+jobID, nil, 200).Map(t)
	if got["status"] != "completed" || got["done"].(float64) != 40 {
		t.Errorf("job = %v", got)
	}
	jsonEqual(t, "counts", counts(got), map[string]int{"assigned": 40})
	if r := results(t, b.Owner, jobID, "assigned"); len(r) != 40 {
		t.Errorf("assigned results = %d, want 40", len(r))
	}
}

// lostAckStore commits one part's transaction and then reports an error, once: the connection
// dropped after DynamoDB applied the part, so the worker cannot know it was written.
type lostAckStore struct {
	*dynamo.Store
	part int
	lost atomic.Bool
}

func (f *lostAckStore) ApplyJobPart(ctx context.Context, p access.JobPart) error {
	err := f.Store.ApplyJobPart(ctx, p)
	if err == nil && p.Part == f.part && f.lost.CompareAndSwap(false, true) {
		return errors.New("connection reset after the write")
	}
	return err
}

// staleStore misses the items of the parts applied when it reads a chunk's state, as an
// eventually consistent read can: the grants they wrote are there, their markers not yet.
type staleStore struct {
	*dynamo.Store
}

func (f staleStore) ReadPairs(ctx context.Context, ch access.JobChunk, partSize int, owner bool) (access.PairState, error) {
	st, err := f.Store.ReadPairs(ctx, ch, partSize, owner)
	st.Done = map[int]bool{}
	return st, err
}

// TestPartWrittenButNotAcknowledgedCountsOnce: a part's results, counters and grants are one
// write. A part written whose answer was lost fails its message; the redelivery finds the part
// applied and changes nothing in it, so every count, result and grant is there exactly once, the
// job ends. A delivery that decides every part again on a read that misses the parts' items
// (every pair already_assigned, nothing to change but the counts) is refused by the parts' items
// and counts nothing again. (A worker that dies before a part's write is
// TestChunkFailingHalfwayIsRedelivered.)
func TestPartWrittenButNotAcknowledgedCountsOnce(t *testing.T) {
	s := newStack(t)
	clients := 2*access.PartPairs + 6 // three parts: the lost one in the middle
	b := newBureau(t, s, 1, clients)
	programs := []string{"payroll", "invoicing"}
	j := submit(t, b.Owner, map[string]any{"action": "grant", "consultantIds": b.consultants, "clientIds": b.clients, "programs": programs})
	jobID := j["id"].(string)
	total := clients * len(programs)
	s.expand(t, 1)
	ev := s.receiveAll(t, 1)

	faulty := *s.env.App.Jobs
	faulty.Store = &lostAckStore{Store: s.env.App.Store, part: 1}
	w := &jobworker.Worker{Processor: &faulty, MaxReceives: jobworker.MaxReceives}
	if res, err := w.Handle(context.Background(), ev); err != nil || len(res.BatchItemFailures) != 1 {
		t.Fatalf("delivery with a lost answer = %v, %v; want the message reported failed", res, err)
	}
	// Every part was written; the job waits for the message to come back to end.
	mid := b.Owner.Must(t, "GET", "/v1/access-jobs/"+jobID, nil, 200).Map(t)
	if mid["status"] != "running" || int(mid["done"].(float64)) != total {
		t.Fatalf("after the lost answer job = %v, want running with all %d done", mid, total)
	}
	stale := *s.env.App.Jobs
	stale.Store = staleStore{Store: s.env.App.Store}
	for delivery, h := range []func(context.Context, events.SQSEvent) (events.SQSEventResponse, error){
		(&jobworker.Worker{Processor: &stale, MaxReceives: jobworker.MaxReceives}).Handle, s.env.App.JobWorker(), s.env.App.JobWorker(),
	} {
		delivery += 2
		if res, err := h(context.Background(), ev); err != nil || len(res.BatchItemFailures) != 0 {
			t.Fatalf("delivery %d = %v, %v", delivery, res, err)
		}
		got := b.Owner.Must(t, "GET", "/v1/access-jobs/"+jobID, nil, 200).Map(t)
		if got["status"] != "completed" || int(got["done"].(float64)) != total {
			t.Errorf("after delivery %d job = %v, want completed with %d done", delivery, got, total)
		}
		jsonEqual(t, fmt.Sprintf("counts after delivery %d", delivery), counts(got), map[string]int{"assigned": total})
		if r := results(t, b.Owner, jobID, ""); len(r) != total {
			t.Errorf("after delivery %d: %d results, want %d", delivery, len(r), total)
		}
	}
	grants, err := s.env.App.Store.GrantsOn(context.Background(), b.ID, b.clients[access.PartPairs], b.consultants)
	if g := grants[b.consultants[0]]; err != nil || g.Version != 1 || len(g.Programs) != len(programs) {
		t.Errorf("grant of the lost part = %+v, %v; want version 1 with %v", g, err, programs)
	}
	assertNotifications(t, b.Owner, 1)
}

// poisonProcessor fails one chunk every time.
type poisonProcessor struct {
	*jobs.Service
	poison int
}

func (p poisonProcessor) ApplyChunk(ctx context.Context, ch access.JobChunk) error {
	if ch.Index == p.poison {
		return errors.New("poison")
	}
	return p.Service.ApplyChunk(ctx, ch)
}

// TestPoisonMessageEndsInTheDLQ: a chunk that always fails is tried maxReceiveCount times, its
// items are recorded failed on the last try, the job ends completed_with_errors and the message
// still goes to the DLQ, where the worker's dead-letter consumer finds nothing left to record.
func TestPoisonMessageEndsInTheDLQ(t *testing.T) {
	s := newStack(t)
	s.shortVisibility(t, s.queues.JobsURL)
	b := newBureau(t, s, 2, 2)
	j := submit(t, b.Owner, map[string]any{"action": "grant", "consultantIds": b.consultants, "clientIds": b.clients, "programs": []string{"payroll", "orders", "bookkeeping"}})
	jobID := j["id"].(string)
	w := &jobworker.Worker{Processor: poisonProcessor{Service: s.env.App.Jobs, poison: 0}, MaxReceives: jobworker.MaxReceives}
	p := s.poller(w.Handle)
	got := s.runUntilDone(t, b.Owner, jobID, p)
	if got["status"] != "completed_with_errors" {
		t.Fatalf("job = %v", got)
	}
	jsonEqual(t, "counts", counts(got), map[string]int{"assigned": 6, "failed": 6})
	deadline := time.Now().Add(20 * time.Second)
	for s.queueDepth(t, s.queues.JobsDLQURL) == 0 && time.Now().Before(deadline) {
		if _, err := p.PollOnce(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if n := s.queueDepth(t, s.queues.JobsURL); n != 0 {
		t.Errorf("jobs queue still holds %d messages", n)
	}
	// It is in the DLQ: the poison chunk.
	ev := s.receive(t, s.queues.JobsDLQURL, 1)
	var ch access.JobChunk
	if err := jsonUnmarshal(ev.Records[0].Body, &ch); err != nil || ch.JobID != jobID || ch.Index != 0 {
		t.Fatalf("DLQ holds %s (%v), want chunk 0 of job %s", ev.Records[0].Body, err, jobID)
	}
	// The worker's dead-letter consumer records nothing more and deletes it.
	res, err := s.env.App.JobWorker()(context.Background(), ev)
	if err != nil || len(res.BatchItemFailures) != 0 {
		t.Fatalf("dead-letter consumer = %v, %v", res, err)
	}
	s.deleteAll(t, s.queues.JobsDLQURL, ev)
	again := b.Owner.Must(t, "GET", "/v1/access-jobs/"+jobID, nil, 200).Map(t)
	jsonEqual(t, "counts after the dead-letter consumer", counts(again), counts(got))
	if again["completedAt"] != got["completedAt"] {
		t.Errorf("job completed again: %v then %v", got["completedAt"], again["completedAt"])
	}
	if r := results(t, b.Owner, jobID, "failed"); len(r) != 6 {
		t.Errorf("failed results = %v", r)
	}
	// A redrive of the dead letter to the workers changes nothing either.
	if err := s.env.App.Jobs.ProcessChunk(context.Background(), ch); err != nil {
		t.Fatal(err)
	}
	jsonEqual(t, "counts after redrive", counts(b.Owner.Must(t, "GET", "/v1/access-jobs/"+jobID, nil, 200).Map(t)), counts(got))
	assertNotifications(t, b.Owner, 1)
}

// crashingHandler stands for a worker that dies on every batch (out of memory, a crash, a
// timeout of the whole invocation): it records nothing, and every message comes back.
func crashingHandler(context.Context, events.SQSEvent) (events.SQSEventResponse, error) {
	return events.SQSEventResponse{}, errors.New("crash")
}

// TestCrashingWorkerEndsThroughTheDLQ: chunks whose batches never finish reach the DLQ without
// anything recorded; the worker consuming the DLQ records their items failed and ends the job
// once, with its notification.
func TestCrashingWorkerEndsThroughTheDLQ(t *testing.T) {
	s := newStack(t)
	b := newBureau(t, s, 2, 3)
	j := submit(t, b.Owner, map[string]any{"action": "grant", "consultantIds": b.consultants, "clientIds": b.clients, "programs": []string{"payroll", "orders"}})
	jobID := j["id"].(string)
	s.expand(t, 1)
	s.shortVisibility(t, s.queues.JobsURL)
	crashing := s.poller(crashingHandler)
	deadline := time.Now().Add(30 * time.Second)
	for s.queueDepth(t, s.queues.JobsDLQURL) < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("the chunks did not reach the DLQ: %d there", s.queueDepth(t, s.queues.JobsDLQURL))
		}
		if _, err := crashing.PollOnce(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if got := b.Owner.Must(t, "GET", "/v1/access-jobs/"+jobID, nil, 200).Map(t); got["status"] != "queued" || got["done"].(float64) != 0 {
		t.Fatalf("before the dead-letter consumer job = %v", got)
	}
	s.drain(t, s.dlqPoller(s.env.App.JobWorker()), s.queues.JobsDLQURL)
	got := b.Owner.Must(t, "GET", "/v1/access-jobs/"+jobID, nil, 200).Map(t)
	if got["status"] != "completed_with_errors" || got["done"].(float64) != 12 {
		t.Errorf("job = %v", got)
	}
	jsonEqual(t, "counts", counts(got), map[string]int{"failed": 12})
	if r := results(t, b.Owner, jobID, "failed"); len(r) != 12 {
		t.Errorf("failed results = %d, want 12", len(r))
	}
	assertNotifications(t, b.Owner, 1)
}

// stallingProcessor never finishes one chunk: it runs until its context ends.
type stallingProcessor struct {
	*jobs.Service
	stall int
}

func (p stallingProcessor) ApplyChunk(ctx context.Context, ch access.JobChunk) error {
	if ch.Index == p.stall {
		<-ctx.Done()
		return ctx.Err()
	}
	return p.Service.ApplyChunk(ctx, ch)
}

// TestTimingOutChunkEndsTheJob: a chunk that runs out of the invocation's time fails alone (the
// other message of its batch is done and deleted), is recorded failed on its last receive with
// time kept back for it, and the job ends; the dead letter then changes nothing.
func TestTimingOutChunkEndsTheJob(t *testing.T) {
	s := newStack(t)
	b := newBureau(t, s, 2, 2)
	j := submit(t, b.Owner, map[string]any{"action": "grant", "consultantIds": b.consultants, "clientIds": b.clients, "programs": []string{"payroll"}})
	jobID := j["id"].(string)
	s.expand(t, 1)
	s.shortVisibility(t, s.queues.JobsURL)
	w := &jobworker.Worker{Processor: stallingProcessor{Service: s.env.App.Jobs, stall: 1}, MaxReceives: jobworker.MaxReceives}
	p := s.poller(w.Handle)
	p.Timeout = time.Second // the function's timeout
	got := s.runUntilDone(t, b.Owner, jobID, p)
	if got["status"] != "completed_with_errors" {
		t.Fatalf("job = %v", got)
	}
	jsonEqual(t, "counts", counts(got), map[string]int{"assigned": 2, "failed": 2})
	s.drain(t, p, s.queues.JobsURL)
	s.drain(t, s.dlqPoller(s.env.App.JobWorker()), s.queues.JobsDLQURL)
	jsonEqual(t, "counts after the dead letter", counts(b.Owner.Must(t, "GET", "/v1/access-jobs/"+jobID, nil, 200).Map(t)), counts(got))
	assertNotifications(t, b.Owner, 1)
}

func assertNotifications(t *testing.T, a *apitest.Actor, want int) {
	t.Helper()
	var ns struct{ Items []map[string]any }
	a.Must(t, "GET", "/v1/notifications", nil, 200).JSON(t, &ns)
	if len(ns.Items) != want {
		t.Errorf("notifications = %d, want %d", len(ns.Items), want)
	}
}

// TestIdempotentSubmission: the same Idempotency-Key returns the first job and queues nothing more.
func TestIdempotentSubmission(t *testing.T) {
	s := newStack(t)
	b := newBureau(t, s, 2, 1)
	body := map[string]any{"action": "grant", "consultantIds": b.consultants, "clientIds": b.clients, "programs": []string{"payroll"}}
	first := submit(t, b.Owner, body, "Idempotency-Key", "job-key-1")
	second := submit(t, b.Owner, body, "Idempotency-Key", "job-key-1")
	if first["id"] != second["id"] {
		t.Fatalf("second submission made job %v, want %v", second["id"], first["id"])
	}
	if n := s.queueDepth(t, s.queues.JobsURL); n != 1 {
		t.Errorf("queue holds %d messages, want 1 (the fan-out of one job)", n)
	}
	body["programs"] = []string{"orders"}
	b.Owner.Must(t, "POST", "/v1/access-jobs", body, 422, "Idempotency-Key", "job-key-1")
}

// TestLastSystemAdministrator: the owner is system administrator of every client and that
// cannot be taken away, so a client always keeps one; other administrators come and go.
func TestLastSystemAdministrator(t *testing.T) {
	s := newStack(t)
	b := newBureau(t, s, 2, 1)
	owner, c := b.Owner, b.clients[0]
	u1, u2 := b.consultants[0], b.consultants[1]
	owner.Must(t, "DELETE", "/v1/clients/"+c+"/admins/"+owner.UserID, nil, 409)
	owner.Must(t, "PUT", "/v1/clients/"+c+"/admins/"+owner.UserID, map[string]any{"programs": []string{"payroll"}}, 409)
	got := owner.Must(t, "PUT", "/v1/clients/"+c+"/admins/"+u1, map[string]any{"system": true}, 200).Map(t)
	if got["system"] != true || got["clientId"] != c || got["userId"] != u1 {
		t.Errorf("admin = %v", got)
	}
	sys := s.env.As(b.ID, u1)
	sys.Must(t, "DELETE", "/v1/clients/"+c+"/admins/"+owner.UserID, nil, 409)
	sys.Must(t, "PUT", "/v1/clients/"+c+"/admins/"+u1, map[string]any{"programs": []string{"payroll"}}, 403) // their own
	sys.Must(t, "PUT", "/v1/clients/"+c+"/admins/"+u2, map[string]any{"programs": []string{"payroll", "orders"}}, 200)
	s.env.As(b.ID, u2).Must(t, "PUT", "/v1/clients/"+c+"/admins/"+u1, map[string]any{"system": false, "programs": []string{"orders"}}, 404) // no right, reads no users
	owner.Must(t, "DELETE", "/v1/clients/"+c+"/admins/"+u1, nil, 204)
	owner.Must(t, "DELETE", "/v1/clients/"+c+"/admins/"+u1, nil, 204) // already gone: nothing to do
	ps := owner.Must(t, "GET", "/v1/programs", nil, 200).Map(t)["items"].([]any)
	if len(ps) < 5 {
		t.Errorf("programs = %v", ps)
	}
}

// TestBadInput: every route answers bad input with a 4xx naming the field, never a 500.
func TestBadInput(t *testing.T) {
	s := newStack(t)
	b := newBureau(t, s, 1, 1)
	o, k, c := b.Owner, b.consultants[0], b.clients[0]
	many := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = "c_" + strings.Repeat("x", 20) + string(rune('a'+i%26)) + strings.Repeat("y", i%7) + itoa(i)
		}
		return out
	}
	cases := []struct {
		method, path string
		body         any
		status       int
		field        string
	}{
		{"POST", "/v1/access-jobs", map[string]any{}, 400, "action"},
		{"POST", "/v1/access-jobs", map[string]any{"action": "promote", "consultantIds": []string{k}, "clientIds": []string{c}}, 400, "action"},
		{"POST", "/v1/access-jobs", map[string]any{"action": "grant", "consultantIds": []string{}, "clientIds": []string{c}, "programs": []string{"payroll"}}, 400, "consultantIds"},
		{"POST", "/v1/access-jobs", map[string]any{"action": "grant", "consultantIds": []string{k}, "clientIds": []string{}, "programs": []string{"payroll"}}, 400, "clientIds"},
		{"POST", "/v1/access-jobs", map[string]any{"action": "grant", "consultantIds": []string{k}, "clientIds": []string{c}}, 400, "programs"},
		{"POST", "/v1/access-jobs", map[string]any{"action": "grant", "consultantIds": []string{k}, "clientIds": []string{c}, "programs": []string{"payroll", "golf"}}, 400, "programs"},
		{"POST", "/v1/access-jobs", map[string]any{"action": "revoke", "consultantIds": []string{k}, "clientIds": []string{c}, "programs": []string{"payroll"}}, 400, "programs"},
		{"POST", "/v1/access-jobs", map[string]any{"action": "grant", "consultantIds": []string{k, "u_ghost"}, "clientIds": []string{c}, "programs": []string{"payroll"}}, 400, "consultantIds"},
		{"POST", "/v1/access-jobs", map[string]any{"action": "grant", "consultantIds": []string{k}, "clientIds": []string{c, "c_ghost"}, "programs": []string{"payroll"}}, 400, "clientIds"},
		{"POST", "/v1/access-jobs", map[string]any{"action": "grant", "consultantIds": []string{"a b"}, "clientIds": []string{c}, "programs": []string{"payroll"}}, 400, "consultantIds[0]"},
		{"POST", "/v1/access-jobs", map[string]any{"action": "grant", "consultantIds": many(501), "clientIds": []string{c}, "programs": []string{"payroll"}}, 400, "consultantIds"},
		{"POST", "/v1/access-jobs", map[string]any{"action": "grant", "consultantIds": []string{k}, "clientIds": many(5001), "programs": []string{"payroll"}}, 400, "clientIds"},
		{"POST", "/v1/access-jobs", map[string]any{"action": "grant", "consultantIds": []string{k}, "clientIds": []string{c}, "programs": []string{"payroll"}, "dryRun": "yes"}, 400, "dryRun"},
		{"POST", "/v1/access-jobs", map[string]any{"action": "grant", "consultantIds": []string{k}, "clientIds": []string{c}, "programs": []string{"payroll"}, "priority": 1}, 400, "priority"},
		{"POST", "/v1/access-jobs", `{"action": "grant",`, 400, "body"},
		{"POST", "/v1/access-jobs", map[string]any{"action": "grant", "consultantIds": []string{k}, "clientIds": many(20000), "programs": []string{"payroll"}}, 413, ""},
		{"GET", "/v1/access-jobs/job_missing", nil, 404, ""},
		{"GET", "/v1/access-jobs/job_missing?verbose=1", nil, 400, "verbose"},
		{"GET", "/v1/access-jobs/job_missing/results", nil, 404, ""},
		{"GET", "/v1/access-jobs/job_x/results?outcome=maybe", nil, 400, "outcome"},
		{"GET", "/v1/access-jobs/job_x/results?limit=0", nil, 400, "limit"},
		{"GET", "/v1/notifications?limit=1000", nil, 400, "limit"},
		{"GET", "/v1/notifications?cursor=nonsense", nil, 400, "cursor"},
		{"GET", "/v1/notifications?sort=asc", nil, 400, "sort"},
		{"POST", "/v1/notifications/ntf_missing/read", nil, 404, ""},
		{"GET", "/v1/programs?all=1", nil, 400, "all"},
		{"PUT", "/v1/clients/" + c + "/admins/" + k, map[string]any{}, 400, "programs"},
		{"PUT", "/v1/clients/" + c + "/admins/" + k, map[string]any{"programs": []string{"golf"}}, 400, "programs"},
		{"PUT", "/v1/clients/" + c + "/admins/" + k, map[string]any{"system": "yes"}, 400, "system"},
		{"PUT", "/v1/clients/" + c + "/admins/" + k, map[string]any{"system": true, "extra": 1}, 400, "extra"},
		{"PUT", "/v1/clients/c_missing/admins/" + k, map[string]any{"system": true}, 404, ""},
		{"PUT", "/v1/clients/" + c + "/admins/u_missing", map[string]any{"system": true}, 404, ""},
		{"DELETE", "/v1/clients/c_missing/admins/" + k, nil, 404, ""},
		{"DELETE", "/v1/clients/" + c + "/admins/u_missing", nil, 404, ""},
	}
	for _, tc := range cases {
		r := o.Do(t, tc.method, tc.path, tc.body)
		if r.Status != tc.status {
			t.Errorf("%s %s: status %d, want %d: %s", tc.method, tc.path, r.Status, tc.status, truncate(r.Body))
			continue
		}
		if tc.field != "" && !strings.Contains(r.Body, `"field":"`+tc.field+`"`) {
			t.Errorf("%s %s: problem does not name %s: %s", tc.method, tc.path, tc.field, truncate(r.Body))
		}
	}
	// A consultant without user or client management may not submit jobs.
	s.env.As(b.ID, k).Must(t, "POST", "/v1/access-jobs", map[string]any{"action": "grant", "consultantIds": []string{k}, "clientIds": []string{c}, "programs": []string{"payroll"}}, 403)
	// Nothing was queued by any of it.
	if n := s.queueDepth(t, s.queues.JobsURL); n != 0 {
		t.Errorf("bad input queued %d messages", n)
	}
}

// TestSampleEvent runs events/sqs-access-job-batch.json through the handler: a fan-out and
// chunks of a job that does not exist (any more) are acknowledged without writing anything.
func TestSampleEvent(t *testing.T) {
	s := newStack(t)
	root, err := localstack.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(root, "events", "sqs-access-job-batch.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ev events.SQSEvent
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	if len(ev.Records) == 0 {
		t.Fatal("the sample has no records")
	}
	res, err := s.env.App.JobWorker()(context.Background(), ev)
	if err != nil || len(res.BatchItemFailures) != 0 {
		t.Fatalf("sample batch = %v, %v", res, err)
	}
	bad := ev
	bad.Records = []events.SQSMessage{ev.Records[0]}
	bad.Records[0].Body = "not json"
	res, err = s.env.App.JobWorker()(context.Background(), bad)
	// Poison: recorded once and removed (no archive queue here), not failed on every receive.
	if err != nil || len(res.BatchItemFailures) != 0 {
		t.Fatalf("unreadable message = %v, %v; want it taken off the queue", res, err)
	}
}
