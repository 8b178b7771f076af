package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/tilgang/tilgang/shared/access"
	"github.com/tilgang/tilgang/shared/apitest"
	"github.com/tilgang/tilgang/shared/app"
	"github.com/tilgang/tilgang/shared/config"
	"github.com/tilgang/tilgang/shared/localstack"
)

func TestMain(m *testing.M) { localstack.Main(m) }

// newEnv is an App on a table of its own, so that no other test's user bank is swept.
func newEnv(t *testing.T, adjust func(*config.Config)) *apitest.Env {
	t.Helper()
	_, table := localstack.NewTable(t)
	return apitest.NewWith(t, func(c *config.Config) {
		c.TableName = table
		adjust(c)
	})
}

// scheduleEvent is the sample EventBridge Scheduler sends (events/schedule-anonymise.json).
func scheduleEvent(t *testing.T) events.EventBridgeEvent {
	t.Helper()
	root, err := localstack.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(root, "events", "schedule-anonymise.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ev events.EventBridgeEvent
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.DetailType != "Scheduled Event" {
		t.Fatalf("sample detail-type = %q", ev.DetailType)
	}
	return ev
}

// recorder is a Publisher that keeps what it is given.
type recorder struct {
	mu     sync.Mutex
	events []access.Event
}

func (r *recorder) Publish(_ context.Context, e access.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
	return nil
}

func (r *recorder) take() []access.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.events
	r.events = nil
	return out
}

// snapshot renders every item of the table, sorted, to compare two states.
func snapshot(t *testing.T, env *apitest.Env) string {
	t.Helper()
	var rows []string
	p := dynamodb.NewScanPaginator(env.App.Dynamo, &dynamodb.ScanInput{TableName: aws.String(env.Config.TableName)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range page.Items {
			b, _ := json.Marshal(it)
			rows = append(rows, string(b))
		}
	}
	sort.Strings(rows)
	return strings.Join(rows, "\n")
}

// later moves the service's clock forward, as if the sweep ran days after the removals.
func later(env *apitest.Env, d time.Duration) {
	env.App.People.Now = func() time.Time { return time.Now().UTC().Add(d) }
}

func setPeriod(t *testing.T, ten *apitest.Tenant, days int) {
	t.Helper()
	ten.Owner.Must(t, "PATCH", "/v1/settings", map[string]any{"anonymiseAfterDays": days}, 200)
}

func TestScheduledRunTwice(t *testing.T) {
	env := newEnv(t, func(*config.Config) {})
	rec := &recorder{}
	env.App.People.Events = rec
	due, never, young := env.NewTenant(t, true), env.NewTenant(t, true), env.NewTenant(t, true)
	setPeriod(t, due, 30)
	setPeriod(t, never, 0)
	setPeriod(t, young, 90)
	var dueIDs []string
	for i := 0; i < 3; i++ {
		id := due.Owner.CreateUser(t, nil)
		due.Owner.Must(t, "POST", "/v1/users/"+id+"/remove", nil, 200)
		dueIDs = append(dueIDs, id)
	}
	keep := due.Owner.CreateUser(t, nil) // removed, then restored: not in the bank
	due.Owner.Must(t, "POST", "/v1/users/"+keep+"/remove", nil, 200)
	due.Owner.Must(t, "POST", "/v1/users/"+keep+"/restore", nil, 200)
	for _, ten := range []*apitest.Tenant{never, young} {
		id := ten.Owner.CreateUser(t, nil)
		ten.Owner.Must(t, "POST", "/v1/users/"+id+"/remove", nil, 200)
	}

	later(env, 40*24*time.Hour)
	run := env.App.Anonymiser()
	if err := run(context.Background(), scheduleEvent(t)); err != nil {
		t.Fatal(err)
	}
	for _, id := range dueIDs {
		u := due.Owner.Must(t, "GET", "/v1/users/"+id, nil, 200).Map(t)
		if u["status"] != "anonymised" || u["name"] != "***" {
			t.Errorf("due user = %v", u)
		}
	}
	if got := due.Owner.Must(t, "GET", "/v1/users/"+keep, nil, 200).Map(t)["status"]; got != "active" {
		t.Errorf("restored user = %v", got)
	}
	for _, ten := range []*apitest.Tenant{never, young} {
		if got := len(ten.Owner.Must(t, "GET", "/v1/user-bank", nil, 200).Map(t)["items"].([]any)); got != 1 {
			t.Errorf("tenant %s user bank = %d, want 1 (not due)", ten.ID, got)
		}
	}
	evs := rec.take()
	if len(evs) != 3 {
		t.Fatalf("events = %v, want 3 user.anonymised", evs)
	}
	for _, e := range evs {
		if e.Type != access.EventUserAnonymised || e.Detail["tenantId"] != due.ID || len(e.Detail) != 2 {
			t.Errorf("event = %+v", e)
		}
	}

	// The second run changes nothing: no write, no event.
	before := snapshot(t, env)
	if err := run(context.Background(), scheduleEvent(t)); err != nil {
		t.Fatal(err)
	}
	if after := snapshot(t, env); after != before {
		t.Errorf("the second run changed the table")
	}
	if evs := rec.take(); len(evs) != 0 {
		t.Errorf("second run published %v", evs)
	}
}

// A tenant with 1,000 removed users is anonymised across several invocations, each bounded,
// each handing over to the next through an anonymiser.continue event.
func TestAnonymiseThousandAcrossInvocations(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds 1,000 users")
	}
	env := newEnv(t, func(*config.Config) {})
	rec := &recorder{}
	env.App.People.Events = rec
	env.App.AnonymiserBatch = 300
	ten := env.NewTenant(t, true)
	setPeriod(t, ten, 30)
	removedAt := time.Now().UTC().Add(-time.Hour)
	const n = 1000
	var wg sync.WaitGroup
	errs := make(chan error, n)
	sem := make(chan struct{}, 8)
	for i := 0; i < n; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			at := removedAt.Add(time.Duration(i) * time.Millisecond)
			u := access.User{ID: fmt.Sprintf("u_bulk%04d", i), TenantID: ten.ID, Name: fmt.Sprintf("Bulk %d", i),
				Email: apitest.UniqueEmail("bulk"), Profession: access.ProfessionOther, Status: access.StatusRemoved,
				RemovedAt: &at, Version: 1, CreatedAt: at, UpdatedAt: at}
			errs <- env.App.Store.CreateUser(context.Background(), u, access.Meta{})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}

	later(env, 31*24*time.Hour)
	run := env.App.Anonymiser()
	ev := scheduleEvent(t)
	invocations := 0
	anonymised := 0
	for {
		invocations++
		if invocations > 10 {
			t.Fatal("the sweep does not end")
		}
		if err := run(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
		var next *access.Event
		for _, e := range rec.take() {
			switch e.Type {
			case access.EventUserAnonymised:
				anonymised++
			case access.EventAnonymiserContinue:
				next = &e
			}
		}
		if next == nil {
			break
		}
		detail, _ := json.Marshal(next.Detail)
		ev = events.EventBridgeEvent{DetailType: next.Type, Source: "tilgang", Detail: detail}
	}
	if invocations < 4 {
		t.Errorf("invocations = %d, want at least 4 with a batch of 300", invocations)
	}
	if anonymised != n {
		t.Errorf("anonymised = %d, want %d", anonymised, n)
	}
	if got := len(ten.Owner.Must(t, "GET", "/v1/user-bank", nil, 200).Map(t)["items"].([]any)); got != 0 {
		t.Errorf("user bank after the sweep = %d, want 0", got)
	}
}

// Locally the events go to the events queue in EventBridge's shape, and the events worker runs
// the anonymiser's continuations from it.
func TestEventsQueueCarriesAnonymisationAndContinuations(t *testing.T) {
	client, q := localstack.Queues(t)
	env := newEnv(t, func(c *config.Config) { c.EventsQueueURL = q.EventsURL })
	env.App.AnonymiserBatch = 1
	ten := env.NewTenant(t, true)
	setPeriod(t, ten, 1)
	for i := 0; i < 3; i++ {
		id := ten.Owner.CreateUser(t, nil)
		ten.Owner.Must(t, "POST", "/v1/users/"+id+"/remove", nil, 200)
	}
	later(env, 2*24*time.Hour)
	if err := env.App.Anonymiser()(context.Background(), scheduleEvent(t)); err != nil {
		t.Fatal(err)
	}
	worker := env.App.EventsWorker()
	types := map[string]int{}
	for empty := 0; empty < 2; {
		out, err := client.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(q.EventsURL),
			MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) == 0 {
			empty++
			continue
		}
		var batch events.SQSEvent
		for _, m := range out.Messages {
			var ev events.EventBridgeEvent
			if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &ev); err != nil {
				t.Fatalf("message %s is not an EventBridge event: %v", aws.ToString(m.Body), err)
			}
			types[ev.DetailType]++
			if ev.DetailType == access.EventUserAnonymised && !strings.Contains(string(ev.Detail), ten.ID) {
				t.Errorf("detail = %s", ev.Detail)
			}
			batch.Records = append(batch.Records, events.SQSMessage{MessageId: aws.ToString(m.MessageId), Body: aws.ToString(m.Body)})
			_, _ = client.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: aws.String(q.EventsURL), ReceiptHandle: m.ReceiptHandle})
		}
		res, err := worker(context.Background(), batch)
		if err != nil || len(res.BatchItemFailures) > 0 {
			t.Fatalf("worker = %v, %v", res, err)
		}
	}
	if types[access.EventUserAnonymised] != 3 || types[access.EventAnonymiserContinue] < 2 {
		t.Errorf("events = %v, want 3 user.anonymised and continuations", types)
	}
	if got := len(ten.Owner.Must(t, "GET", "/v1/user-bank", nil, 200).Map(t)["items"].([]any)); got != 0 {
		t.Errorf("user bank = %d, want 0", got)
	}
}

// flaky is an identity provider and an event publisher that fail while fail is set; it counts
// the login deletions and keeps the events that succeeded.
type flaky struct {
	access.NoIdentity
	mu      sync.Mutex
	fail    bool
	deleted map[string]int
	events  []access.Event
}

func (f *flaky) set(fail bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail = fail
}

func (f *flaky) Delete(_ context.Context, u access.User) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail {
		return fmt.Errorf("identity provider unavailable")
	}
	f.deleted[u.ID]++
	return nil
}

func (f *flaky) Publish(_ context.Context, e access.Event) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail {
		return fmt.Errorf("event bus unavailable")
	}
	f.events = append(f.events, e)
	return nil
}

// A scheduled run whose login deletions and events fail still anonymises, and leaves markers;
// the next run deletes each login and publishes each event exactly once and removes the
// markers; the run after that does nothing.
func TestScheduledRunRetriesLoginDeletionAndEvent(t *testing.T) {
	env := newEnv(t, func(*config.Config) {})
	ten := env.NewTenant(t, true)
	setPeriod(t, ten, 30)
	var ids []string
	for i := 0; i < 2; i++ {
		id := ten.Owner.CreateUser(t, nil)
		ten.Owner.Must(t, "POST", "/v1/users/"+id+"/remove", nil, 200)
		ids = append(ids, id)
	}
	f := &flaky{fail: true, deleted: map[string]int{}}
	env.App.People.Identity, env.App.People.Events = f, f
	marker := func(id string) bool {
		t.Helper()
		_, err := env.App.Store.GetPendingEffects(context.Background(), ten.ID, id)
		if err != nil && !errors.Is(err, access.ErrNotFound) {
			t.Fatal(err)
		}
		return err == nil
	}

	later(env, 40*24*time.Hour)
	run := env.App.Anonymiser()
	if err := run(context.Background(), scheduleEvent(t)); err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if got := ten.Owner.Must(t, "GET", "/v1/users/"+id, nil, 200).Map(t)["status"]; got != "anonymised" || !marker(id) {
			t.Errorf("user after the failing run: %v, marker %v; want anonymised with a marker", got, marker(id))
		}
	}

	f.set(false)
	if err := run(context.Background(), scheduleEvent(t)); err != nil {
		t.Fatal(err)
	}
	if err := run(context.Background(), scheduleEvent(t)); err != nil {
		t.Fatal(err)
	}
	published := map[string]int{}
	for _, e := range f.events {
		if e.Type == access.EventUserAnonymised && e.Detail["tenantId"] == ten.ID {
			published[e.Detail["userId"]]++
		}
	}
	for _, id := range ids {
		if f.deleted[id] != 1 || published[id] != 1 || marker(id) {
			t.Errorf("user %s: %d login deletions, %d events, marker %v; want 1, 1, none", id, f.deleted[id], published[id], marker(id))
		}
	}
	if len(f.events) != len(ids) {
		t.Errorf("events %v, want one per user", f.events)
	}
}

// The anonymiser's continuation goes through the outbox: when it cannot be published the run
// does not fail, the continuation stays owed, and the next outbox sweep (minutes later, not the
// next night) publishes it, once.
func TestContinuationSurvivesAFailedPublish(t *testing.T) {
	env := newEnv(t, func(*config.Config) {})
	env.App.AnonymiserBatch = 1
	ten := env.NewTenant(t, true)
	setPeriod(t, ten, 30)
	for i := 0; i < 3; i++ {
		id := ten.Owner.CreateUser(t, nil)
		ten.Owner.Must(t, "POST", "/v1/users/"+id+"/remove", nil, 200)
	}
	f := &flaky{fail: true, deleted: map[string]int{}}
	env.App.People.Events = f
	later(env, 40*24*time.Hour)
	run := env.App.Anonymiser()
	if err := run(context.Background(), scheduleEvent(t)); err != nil {
		t.Fatalf("a run whose continuation cannot be published failed: %v", err)
	}
	owedContinuation := func() int {
		t.Helper()
		entries, err := env.App.Store.OutboxAfter(context.Background(), "", 100)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, e := range entries {
			if e.Effect == access.EffectPublish && e.Event != nil && e.Event.Type == access.EventAnonymiserContinue {
				n++
			}
		}
		return n
	}
	if owedContinuation() != 1 {
		t.Fatalf("owed continuations = %d, want 1", owedContinuation())
	}
	f.set(false)
	later(env, 40*24*time.Hour+access.OutboxGrace+time.Second)
	if err := run(context.Background(), app.OutboxSweepEvent(time.Now())); err != nil {
		t.Fatal(err)
	}
	continued := 0
	for _, e := range f.events {
		if e.Type == access.EventAnonymiserContinue && e.Detail["cursor"] != "" {
			continued++
		}
	}
	if continued != 1 || owedContinuation() != 0 {
		t.Errorf("continuations published %d, still owed %d; want 1 and 0", continued, owedContinuation())
	}
}
