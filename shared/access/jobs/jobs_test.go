package jobs_test

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/tilgang/tilgang/shared/access"
	"github.com/tilgang/tilgang/shared/access/accesstest"
	"github.com/tilgang/tilgang/shared/localstack"
)

func TestMain(m *testing.M) { localstack.Main(m) }

var code, field = accesstest.Code, accesstest.Field

// env is a bureau: its owner, two consultants and two clients.
type env struct {
	*accesstest.Env
	owner, ann, bo *access.Caller
	c1, c2         access.Client
}

func newEnv(t *testing.T) *env {
	e := &env{Env: accesstest.New(t)}
	e.owner = e.Tenant()
	consultant := access.NewUser{Profession: access.ProfessionConsultant, Roles: []access.Role{access.RoleConsultant}}
	e.ann, e.bo = e.User(e.owner, consultant), e.User(e.owner, consultant)
	e.c1, e.c2 = e.Client(e.owner), e.Client(e.owner)
	return e
}

// run submits a job as by, plays the workers and returns the ended job.
func (e *env) run(by *access.Caller, in access.NewJob) access.Job {
	e.T.Helper()
	j, _, err := e.Jobs.CreateJob(e.Ctx, by, in, nil)
	if err != nil {
		e.T.Fatalf("create job: %v", err)
	}
	e.RunJobs()
	return e.job(by, j.ID)
}

func (e *env) job(by *access.Caller, id string) access.Job {
	e.T.Helper()
	j, err := e.Jobs.GetJob(e.Ctx, by, id)
	if err != nil {
		e.T.Fatalf("read job %s: %v", id, err)
	}
	return j
}

// results lists a job's results as "consultant client program outcome" lines, sorted.
func (e *env) results(by *access.Caller, id string) []string {
	e.T.Helper()
	_, rs, _, err := e.Jobs.JobResults(e.Ctx, by, id, "", access.Page{Limit: access.MaxPageLimit})
	if err != nil {
		e.T.Fatalf("job results: %v", err)
	}
	var out []string
	for _, r := range rs {
		out = append(out, fmt.Sprintf("%s %s %s %s", r.ConsultantID, r.ClientID, r.Program, r.Outcome))
	}
	sort.Strings(out)
	return out
}

func (e *env) opens(c *access.Caller, clientID string) bool {
	_, err := e.Clients.GetClient(e.Ctx, e.Refresh(c), clientID)
	return err == nil
}

// A grant job opens the clients to the consultants; its status, counts and notification say
// what was done; granting again finds it done; a revoke job takes it away.
func TestGrantAndRevoke(t *testing.T) {
	e := newEnv(t)
	grant := access.NewJob{Action: access.JobGrant, ConsultantIDs: []string{e.ann.User.ID, e.bo.User.ID},
		ClientIDs: []string{e.c1.ID, e.c2.ID}, Programs: []string{"payroll", "bookkeeping"}}
	j := e.run(e.owner, grant)
	if j.Status != access.JobCompleted || j.Done != 8 || j.Total != 8 || j.Counts[access.OutcomeAssigned] != 8 {
		t.Errorf("grant job = %s %d/%d %v, want completed 8/8 all assigned", j.Status, j.Done, j.Total, j.Counts)
	}
	if !e.opens(e.ann, e.c1.ID) || !e.opens(e.bo, e.c2.ID) {
		t.Error("a granted consultant cannot open the client")
	}
	ns, _, err := e.Jobs.Notifications(e.Ctx, e.owner, access.Page{})
	if err != nil || len(ns) != 1 || ns[0].JobID != j.ID {
		t.Errorf("notifications = %+v, %v; want one for the job", ns, err)
	}
	again := e.run(e.owner, grant)
	if again.Status != access.JobCompleted || again.Counts[access.OutcomeAlreadyAssigned] != 8 {
		t.Errorf("granting again = %s %v, want completed, all already assigned", again.Status, again.Counts)
	}
	rev := e.run(e.owner, access.NewJob{Action: access.JobRevoke, ConsultantIDs: []string{e.ann.User.ID}, ClientIDs: []string{e.c1.ID}})
	if rev.Status != access.JobCompleted || rev.Counts[access.OutcomeRemoved] != 1 {
		t.Errorf("revoke job = %s %v, want completed, one removed", rev.Status, rev.Counts)
	}
	if e.opens(e.ann, e.c1.ID) {
		t.Error("a revoked consultant still opens the client")
	}
	if !e.opens(e.ann, e.c2.ID) {
		t.Error("revoking one client closed another")
	}
}

// Items are decided by the direct routes' rules with the requester as principal: a program
// administrator assigns only their programs, nobody grants themselves, targets are consultants.
// Whatever was not done ends the job with errors and is listed with its reason.
func TestItemsAreDecidedAsTheRequester(t *testing.T) {
	e := newEnv(t)
	managers := e.Group(e.owner, access.Permissions{access.AreaUsers: {Level: access.LevelEdit}, access.AreaClients: {Level: access.LevelEdit, Scope: access.ScopeOwn}})
	lead := e.User(e.owner, access.NewUser{Profession: access.ProfessionConsultant, Roles: []access.Role{access.RoleConsultant}, GroupIDs: []string{managers.ID}})
	if _, err := e.Clients.SetClientAdmin(e.Ctx, e.owner, e.c1.ID, lead.User.ID, false, []string{"payroll"}, nil); err != nil {
		t.Fatal(err)
	}
	clerk := e.User(e.owner, access.NewUser{Profession: access.ProfessionReceptionist})
	lead = e.Refresh(lead)
	j := e.run(lead, access.NewJob{Action: access.JobGrant, ConsultantIDs: []string{e.ann.User.ID, lead.User.ID, clerk.User.ID},
		ClientIDs: []string{e.c1.ID, e.c2.ID}, Programs: []string{"payroll", "invoicing"}})
	if j.Status != access.JobCompletedWithErrors {
		t.Errorf("status = %s, want %s", j.Status, access.JobCompletedWithErrors)
	}
	got := e.results(lead, j.ID)
	var assigned []string
	for _, r := range got {
		if strings.HasSuffix(r, " "+string(access.OutcomeAssigned)) {
			assigned = append(assigned, r)
		}
	}
	want := []string{fmt.Sprintf("%s %s payroll assigned", e.ann.User.ID, e.c1.ID)}
	if !slices.Equal(assigned, want) {
		t.Errorf("assigned = %v, want only %v\nall results: %v", assigned, want, got)
	}
	if len(got) != j.Total || j.Done != j.Total {
		t.Errorf("%d results, done %d of %d; want every item recorded", len(got), j.Done, j.Total)
	}
	if e.opens(lead, e.c2.ID) || e.opens(clerk, e.c1.ID) {
		t.Error("the job opened a client to its requester or to a non-consultant")
	}
}

// Bad submissions are refused naming the field, and nothing is queued.
func TestBadJobsNameTheField(t *testing.T) {
	e := newEnv(t)
	later := accesstest.Start.Add(time.Hour)
	base := access.NewJob{Action: access.JobGrant, ConsultantIDs: []string{e.ann.User.ID}, ClientIDs: []string{e.c1.ID}, Programs: []string{"payroll"}}
	for _, tc := range []struct {
		name  string
		mod   func(*access.NewJob)
		field string
	}{
		{"no action", func(j *access.NewJob) { j.Action = "" }, "action"},
		{"unknown action", func(j *access.NewJob) { j.Action = "promote" }, "action"},
		{"no consultants", func(j *access.NewJob) { j.ConsultantIDs = nil }, "consultantIds"},
		{"unknown consultant", func(j *access.NewJob) { j.ConsultantIDs = []string{"u_00999999"} }, "consultantIds"},
		{"unknown client", func(j *access.NewJob) { j.ClientIDs = []string{e.c1.ID, "c_00999999"} }, "clientIds"},
		{"unknown program", func(j *access.NewJob) { j.Programs = []string{"astrology"} }, "programs"},
		{"programs on a revoke", func(j *access.NewJob) { j.Action = access.JobRevoke }, "programs"},
		{"an expiry on a removal", func(j *access.NewJob) { j.Action, j.ExpiresAt = access.JobRemovePrograms, &later }, "expiresAt"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := base
			tc.mod(&in)
			_, _, err := e.Jobs.CreateJob(e.Ctx, e.owner, in, nil)
			accesstest.WantInvalid(t, err, tc.field)
		})
	}
	if fs, _ := e.Queue.Take(); len(fs) != 0 {
		t.Errorf("refused jobs queued %d fan-outs", len(fs))
	}
	// A consultant of another tenant is no consultant of this one.
	other := e.Tenant()
	theirs := e.User(other, access.NewUser{Roles: []access.Role{access.RoleConsultant}})
	in := base
	in.ConsultantIDs = []string{theirs.User.ID}
	if _, _, err := e.Jobs.CreateJob(e.Ctx, e.owner, in, nil); field(err) != "consultantIds" {
		t.Errorf("another tenant's consultant: %v, want refused on consultantIds", err)
	}
}

// A job is its requester's and the owner's to read; another tenant's is not found.
func TestWhoReadsAJob(t *testing.T) {
	e := newEnv(t)
	j := e.run(e.owner, access.NewJob{Action: access.JobGrant, ConsultantIDs: []string{e.ann.User.ID}, ClientIDs: []string{e.c1.ID}, Programs: []string{"payroll"}})
	if _, err := e.Jobs.GetJob(e.Ctx, e.ann, j.ID); code(err) != access.CodeForbidden {
		t.Errorf("another user reads the job: %s, want %s", code(err), access.CodeForbidden)
	}
	other := e.Tenant()
	_, missing := e.Jobs.GetJob(e.Ctx, other, "job_00999999")
	_, foreign := e.Jobs.GetJob(e.Ctx, other, j.ID)
	accesstest.WantNotFoundAlike(t, foreign, missing)
}

// Deliveries are at least once: a fan-out or chunk delivered again, or completion run again,
// changes nothing, and the requester is notified once.
func TestRedeliveryChangesNothing(t *testing.T) {
	e := newEnv(t)
	j, _, err := e.Jobs.CreateJob(e.Ctx, e.owner, access.NewJob{Action: access.JobGrant, ConsultantIDs: []string{e.ann.User.ID, e.bo.User.ID},
		ClientIDs: []string{e.c1.ID, e.c2.ID}, Programs: []string{"payroll"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	fs, _ := e.Queue.Take()
	for range 2 {
		for _, f := range fs {
			if err := e.Jobs.ExpandJob(e.Ctx, f); err != nil {
				t.Fatal(err)
			}
		}
	}
	_, chunks := e.Queue.Take()
	if len(chunks) != j.Chunks {
		t.Errorf("a fan-out expanded twice sent %d chunks, want %d", len(chunks), j.Chunks)
	}
	for range 2 {
		for _, ch := range chunks {
			if err := e.Jobs.ProcessChunk(e.Ctx, ch); err != nil {
				t.Fatal(err)
			}
			// A dead-lettered copy of a chunk already applied records no failure.
			if err := e.Jobs.FailChunk(e.Ctx, ch); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := e.Jobs.CompleteIfDone(e.Ctx, e.owner.TenantID(), j.ID); err != nil {
		t.Fatal(err)
	}
	got := e.job(e.owner, j.ID)
	if got.Status != access.JobCompleted || got.Done != 4 || got.Counts[access.OutcomeAssigned] != 4 || got.Counts[access.OutcomeFailed] != 0 {
		t.Errorf("job = %s %d/%d %v, want completed 4/4 all assigned", got.Status, got.Done, got.Total, got.Counts)
	}
	if ns, _, _ := e.Jobs.Notifications(e.Ctx, e.owner, access.Page{}); len(ns) != 1 {
		t.Errorf("%d notifications, want 1", len(ns))
	}
}

// A chunk that keeps failing is recorded failed so that its job still ends, with errors; a late
// delivery of it then applies nothing.
func TestAFailedChunkLetsTheJobEnd(t *testing.T) {
	e := newEnv(t)
	j, _, err := e.Jobs.CreateJob(e.Ctx, e.owner, access.NewJob{Action: access.JobGrant, ConsultantIDs: []string{e.ann.User.ID, e.bo.User.ID},
		ClientIDs: []string{e.c1.ID}, Programs: []string{"payroll"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	fs, _ := e.Queue.Take()
	for _, f := range fs {
		if err := e.Jobs.ExpandJob(e.Ctx, f); err != nil {
			t.Fatal(err)
		}
	}
	_, chunks := e.Queue.Take()
	if len(chunks) != 2 {
		t.Fatalf("%d chunks, want one per consultant", len(chunks))
	}
	if err := e.Jobs.ProcessChunk(e.Ctx, chunks[0]); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := e.Jobs.FailChunk(e.Ctx, chunks[1]); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.Jobs.ProcessChunk(e.Ctx, chunks[1]); err != nil {
		t.Fatal(err)
	}
	got := e.job(e.owner, j.ID)
	if got.Status != access.JobCompletedWithErrors || got.Counts[access.OutcomeFailed] != 1 || got.Counts[access.OutcomeAssigned] != 1 {
		t.Errorf("job = %s %v, want completed_with_errors, one assigned and one failed", got.Status, got.Counts)
	}
	if e.opens(e.Caller(e.owner.TenantID(), chunks[1].ConsultantID), e.c1.ID) {
		t.Error("a chunk delivered after its failure was recorded still granted")
	}
}

// A job whose messages cannot be queued is not stored; a fan-out whose job was never stored is
// dropped by the worker.
func TestAJobIsStoredOnlyWithItsMessages(t *testing.T) {
	e := newEnv(t)
	e.Queue.FanOutFn = func([]access.JobFanOut) error { return errors.New("queue unavailable") }
	in := access.NewJob{Action: access.JobGrant, ConsultantIDs: []string{e.ann.User.ID}, ClientIDs: []string{e.c1.ID}, Programs: []string{"payroll"}}
	idem := &access.Idempotency{Key: "k", Operation: "POST /v1/access-jobs", RequestHash: "h"}
	if _, _, err := e.Jobs.CreateJob(e.Ctx, e.owner, in, idem); err == nil {
		t.Fatal("a job without its messages was accepted")
	}
	e.Queue.FanOutFn = nil
	// The retry with the same key creates the job now, since none was stored.
	j, _, err := e.Jobs.CreateJob(e.Ctx, e.owner, in, idem)
	if err != nil {
		t.Fatal(err)
	}
	if again, _, err := e.Jobs.CreateJob(e.Ctx, e.owner, in, idem); err != nil || again.ID != j.ID {
		t.Errorf("retry = %s, %v; want %s", again.ID, err, j.ID)
	}
	stray := access.JobFanOut{TenantID: e.owner.TenantID(), JobID: "job_00999999", From: 0, To: 1, CreatedAt: accesstest.Start.Add(-access.JobStoreGrace - time.Second)}
	if err := e.Jobs.ExpandJob(e.Ctx, stray); err != nil {
		t.Errorf("a never-stored job's fan-out: %v, want it dropped", err)
	}
	if fs, chs := e.Queue.Take(); len(fs) != 1 || len(chs) != 0 {
		t.Errorf("queued %d fan-outs and %d chunks, want the one job's fan-out only", len(fs), len(chs))
	}
}
