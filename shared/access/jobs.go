package access

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"
)

// JobAction is what a consultant access job does (seed 004's three bulk operations).
type JobAction string

// Job actions.
const (
	JobGrant          JobAction = "grant"           // give client access and assign programs
	JobRevoke         JobAction = "revoke"          // remove client access (and its programs)
	JobRemovePrograms JobAction = "remove_programs" // remove programs, keep client access
)

// Valid reports whether a is a known action.
func (a JobAction) Valid() bool { return a == JobGrant || a == JobRevoke || a == JobRemovePrograms }

// perProgram reports whether the action has one result per program (revoke has one per pair).
func (a JobAction) perProgram() bool { return a != JobRevoke }

// Outcome is what a job did for one (consultant, client, program), or one (consultant, client)
// for revoke.
type Outcome string

// Outcomes.
const (
	OutcomeAssigned           Outcome = "assigned"
	OutcomeAlreadyAssigned    Outcome = "already_assigned"
	OutcomeRemoved            Outcome = "removed"
	OutcomeNotAssignedBefore  Outcome = "not_assigned_before"
	OutcomeNotPermitted       Outcome = "not_permitted"
	OutcomeConsultantNotFound Outcome = "consultant_not_found"
	OutcomeConsultantInactive Outcome = "consultant_inactive"
	OutcomeClientNotFound     Outcome = "client_not_found"
	// OutcomeNotAConsultant: grants go to active users with the consultant role only.
	OutcomeNotAConsultant Outcome = "not_a_consultant"
	// OutcomeFailed marks items of a chunk that kept failing and went to the dead-letter queue.
	OutcomeFailed Outcome = "failed"
)

// Outcomes lists every outcome.
var Outcomes = []Outcome{OutcomeAssigned, OutcomeAlreadyAssigned, OutcomeRemoved, OutcomeNotAssignedBefore,
	OutcomeNotPermitted, OutcomeConsultantNotFound, OutcomeConsultantInactive, OutcomeClientNotFound, OutcomeNotAConsultant, OutcomeFailed}

// Valid reports whether o is a known outcome.
func (o Outcome) Valid() bool { return slices.Contains(Outcomes, o) }

// Reason explains an outcome of an action in words, for the results list.
func (o Outcome) Reason(a JobAction) string {
	switch o {
	case OutcomeAssigned:
		return "assigned"
	case OutcomeAlreadyAssigned:
		return "the consultant already had it"
	case OutcomeRemoved:
		return "removed"
	case OutcomeNotAssignedBefore:
		if a == JobRevoke {
			return "the consultant had no access to the client"
		}
		return "the consultant did not have the program"
	case OutcomeNotPermitted:
		if a == JobRevoke {
			return "removing client access needs system administrator of the client, or program administrator of every program the consultant has there; and nobody changes their own access"
		}
		return "you are neither system administrator of the client nor program administrator of this program there, or you named yourself: nobody grants themselves anything"
	case OutcomeNotAConsultant:
		return "client access and programs go to users with the consultant role only"
	case OutcomeConsultantNotFound:
		return "the consultant no longer exists"
	case OutcomeConsultantInactive:
		return "the consultant is not active"
	case OutcomeClientNotFound:
		return "the client no longer exists"
	case OutcomeFailed:
		return "processing failed repeatedly; nothing was changed for this item"
	}
	return ""
}

// JobStatus is where a job is.
type JobStatus string

// Job statuses. Queued and running are derived from progress; the others are final.
const (
	JobQueued              JobStatus = "queued"
	JobRunning             JobStatus = "running"
	JobCompleted           JobStatus = "completed"
	JobCompletedWithErrors JobStatus = "completed_with_errors"
	JobFailed              JobStatus = "failed"
)

// Final reports whether the job has ended.
func (s JobStatus) Final() bool {
	return s == JobCompleted || s == JobCompletedWithErrors || s == JobFailed
}

// Limits of one job.
const (
	MaxJobConsultants = 500
	MaxJobClients     = 5000
	// MaxDryRunPairs bounds a dry run, which answers synchronously.
	MaxDryRunPairs = 1000
	// ChunkClients is how many clients of one consultant one queue message carries.
	ChunkClients = 100
	// PartPairs is how many (consultant, client) pairs one transaction applies: each pair
	// writes up to three items (result, assignment, programs), plus the part's marker and the
	// job's counters, within DynamoDB's 100 items per transaction.
	PartPairs = 32
)

// Job is a consultant access job.
type Job struct {
	ID          string
	TenantID    string
	RequesterID string
	Action      JobAction
	Programs    []string
	Consultants int
	Clients     int
	// Status is JobQueued until the job ends (the store keeps only final statuses; View
	// derives queued or running from progress).
	Status JobStatus
	// Total is the number of results: consultants × clients × programs (× 1 for revoke).
	Total int
	// Done counts results recorded so far; Counts splits them by outcome.
	Done   int
	Counts map[Outcome]int
	// Chunks is the number of chunk messages the job's fan-outs expand into.
	Chunks         int
	NotificationID string
	CreatedAt      time.Time
	CompletedAt    *time.Time
	// ExpiresAt is the expiry of every grant the job writes (nil: none).
	ExpiresAt *time.Time
	// ReviewID names the access review whose revokes the job applies (audit only).
	ReviewID string
}

// View returns the job with its status derived from progress.
func (j Job) View() Job {
	if !j.Status.Final() {
		j.Status = JobQueued
		if j.Done > 0 {
			j.Status = JobRunning
		}
	}
	return j
}

// Progress is the share done, in percent.
func (j Job) Progress() float64 {
	if j.Total == 0 {
		return 100
	}
	return float64(j.Done) * 100 / float64(j.Total)
}

// JobInput is what a job was asked to cover, kept for expanding its fan-outs into chunks.
type JobInput struct {
	ConsultantIDs []string
	ClientIDs     []string
}

// JobChunk is one queue message: one consultant and up to ChunkClients clients.
type JobChunk struct {
	TenantID     string    `json:"tenantId"`
	JobID        string    `json:"jobId"`
	Index        int       `json:"index"`
	Action       JobAction `json:"action"`
	RequesterID  string    `json:"requesterId"`
	Programs     []string  `json:"programs,omitempty"`
	ConsultantID string    `json:"consultantId"`
	ClientIDs    []string  `json:"clientIds"`
	// ExpiresAt is the job's expiry of the grants it writes.
	ExpiresAt *time.Time `json:"expiresAt,omitempty"`
}

// JobFanOut is a queue message that stands for chunks From..To-1 of a job. The API sends a job's
// fan-outs before it stores the job, and the worker expands each into its chunk messages once the
// job is stored: so a stored job always has its messages queued, whatever happens to the API
// afterwards, and the API answers in the same time whatever the job's size.
type JobFanOut struct {
	TenantID string `json:"tenantId"`
	JobID    string `json:"jobId"`
	From     int    `json:"from"`
	To       int    `json:"to"`
	// CreatedAt is the job's creation time: a fan-out whose job is not stored JobStoreGrace
	// after it never will be (its submission failed) and is dropped.
	CreatedAt time.Time `json:"createdAt"`
}

// DefaultFanOutChunks is how many chunk messages one fan-out expands into: 25 SendMessageBatch
// calls, and a bounded amount of work to record as failed should the fan-out end in the
// dead-letter queue. The largest job (25,000 chunks) is 100 fan-outs, 10 calls for the API.
const DefaultFanOutChunks = 250

const (
	// jobStoreWait is how long the worker waits for the job of a fan-out to be stored (the API
	// sends the fan-out just before) before it lets the message come back later.
	jobStoreWait = 3 * time.Second
	// JobStoreGrace is how long after a fan-out was sent its job may still be stored: far beyond
	// the API functions' timeout (10 s), after which the request that sent it is over.
	JobStoreGrace = 2 * time.Minute
)

// rowsPerPair is the number of results of one (consultant, client) pair.
func rowsPerPair(a JobAction, programs []string) int {
	if a.perProgram() {
		return len(programs)
	}
	return 1
}

// PairResult is what a job did for one (consultant, client): the outcome per program, or under
// the key "" for revoke.
type PairResult struct {
	ConsultantID string
	ClientID     string
	Outcomes     map[string]Outcome
}

// JobResult is one row of a job's results.
type JobResult struct {
	ConsultantID string
	ClientID     string
	Program      string // empty for revoke
	Outcome      Outcome
}

// ClientGrant is a bureau client grant (seed 004): it opens the client to the consultant at its
// own level (GrantLevel, on the clients area) with the programs listed, whatever the
// consultant's groups say. A grant job (or the same change made another way) creates it;
// remove-programs takes programs away and keeps the access; revoke deletes it.
type ClientGrant struct {
	TenantID string
	ClientID string
	UserID   string
	Level    Level
	Programs []string
	// GrantedBy is who made the latest change; Source names the job that made it.
	GrantedBy string
	Source    string
	GrantedAt time.Time
	Version   int
	UpdatedAt time.Time
	// ExpiresAt ends the grant at that instant (nil: never).
	ExpiresAt *time.Time
}

// GrantLevel is the level a bureau grant opens its client with on the clients area: the
// consultant works in the client's records (edit), but deleting them stays with the groups.
const GrantLevel = LevelEdit

// GrantChange replaces Prev (nil: none stored) by Next (nil: delete).
type GrantChange struct {
	Prev *ClientGrant
	Next *ClientGrant
}

// JobPart is one transaction of a chunk: its results, the job's counters and the changes,
// written together or not at all.
type JobPart struct {
	TenantID string
	JobID    string
	Chunk    int
	Part     int
	Results  []PairResult
	Counts   map[Outcome]int
	// NewAssignments are created (they must not exist); DeleteAssignments are removed if
	// unchanged since read.
	NewAssignments    []Assignment
	DeleteAssignments []Assignment
	Programs          []GrantChange
}

// Rows is the number of results of the part.
func (p JobPart) Rows() int {
	n := 0
	for _, c := range p.Counts {
		n += c
	}
	return n
}

// PairState is what a job reads to decide one chunk.
type PairState struct {
	Requester  *User                  // nil when the requester no longer exists
	Consultant *User                  // nil when missing
	Clients    map[string]bool        // client id → exists
	Admins     map[string]ClientAdmin // client id → the requester's administration
	Assigned   map[string]Assignment  // client id → the consultant's assignment
	Grants     map[string]ClientGrant // client id → the consultant's grant
	Done       map[int]bool           // part → already applied
}

// errNeverStored: a fan-out's job was not stored within JobStoreGrace, so it never will be.
var errNeverStored = errors.New("the job of this fan-out was never stored")

// Errors of ApplyJobPart.
var (
	// ErrPartDone: the part's marker exists, so it was applied before; nothing was written.
	ErrPartDone = errors.New("job part already applied")
	// ErrJobClosed: the job has ended (or failed); nothing was written.
	ErrJobClosed = errors.New("job has ended")
)

// JobStore keeps jobs, their results and notifications.
type JobStore interface {
	// CreateJob writes the job and its input; ErrConflict if the idempotency key was used
	// concurrently.
	CreateJob(ctx context.Context, j Job, in JobInput, meta Meta) error
	// GetJob reads a job with a strongly consistent read; ErrNotFound for a missing job or one
	// of another tenant.
	GetJob(ctx context.Context, tenantID, jobID string) (Job, error)
	// GetJobInput reads what the job covers, strongly consistent; ErrNotFound if missing.
	GetJobInput(ctx context.Context, tenantID, jobID string) (JobInput, error)
	// FanOutSent reports whether every chunk message of the fan-out was sent.
	FanOutSent(ctx context.Context, f JobFanOut) (bool, error)
	// MarkFanOutSent records that every chunk message of the fan-out was sent.
	MarkFanOutSent(ctx context.Context, f JobFanOut) error
	// ReadPairs reads, in few round trips, the state a chunk's parts are decided on (parts of
	// partSize clients each).
	ReadPairs(ctx context.Context, ch JobChunk, partSize int, requesterOwner bool) (PairState, error)
	// ApplyJobPart writes one part in one transaction, conditional on the part's marker not
	// existing (ErrPartDone), the job being open (ErrJobClosed) and every changed item being
	// as read (ErrVersionConflict).
	ApplyJobPart(ctx context.Context, p JobPart) error
	// CompleteJob ends the job with status and writes its notification, if and only if the job
	// is open with all its results done; ErrJobClosed otherwise (someone else completed it).
	CompleteJob(ctx context.Context, j Job, status JobStatus, n Notification, meta Meta) error
	// ListJobResults pages a job's results, optionally only those with one outcome.
	ListJobResults(ctx context.Context, tenantID, jobID string, outcome Outcome, p Page) ([]JobResult, string, error)
}

// JobQueue sends job messages to the workers.
type JobQueue interface {
	// FanOut sends a job's fan-outs (retrying failed entries); an error means some were not sent.
	FanOut(ctx context.Context, fs []JobFanOut) error
	// Enqueue sends chunks (retrying failed entries); an error means some were not sent.
	Enqueue(ctx context.Context, chunks []JobChunk) error
}

// NewJob is a job to run.
type NewJob struct {
	Action        JobAction
	ConsultantIDs []string
	ClientIDs     []string
	Programs      []string
	DryRun        bool
	// ExpiresAt ends every grant a grant job writes (see expiry.go).
	ExpiresAt *time.Time
	// ReviewID names the access review the job applies (see reviews.go).
	ReviewID string
}

// DryRun is what a job would do, computed without writing anything.
type DryRun struct {
	Total   int
	Counts  map[Outcome]int
	Results []JobResult
}

// requireSubmitJobs: assigning consultants is user management or client management; the
// outcome of each item is then decided by the caller's administration of each client.
func (c *Caller) requireSubmitJobs() error {
	return c.require(Request{Op: OpSubmitJobs})
}

func jobAudit(j Job) map[string]any {
	m := map[string]any{"action": j.Action, "programs": nonNil(j.Programs), "consultants": j.Consultants,
		"clients": j.Clients, "total": j.Total, "chunks": j.Chunks}
	if j.ExpiresAt != nil {
		m["expiresAt"] = expiryAudit(j.ExpiresAt)
	}
	if j.ReviewID != "" {
		m["reviewId"] = j.ReviewID
	}
	return m
}

// validateJob checks a job's input: sizes first (cheap), then that every id exists.
func (s *Service) validateJob(ctx context.Context, c *Caller, in NewJob) (NewJob, error) {
	if in.Action == "" {
		return in, Invalid("action", "is required: grant, revoke or remove_programs")
	}
	if !in.Action.Valid() {
		return in, Invalid("action", "must be grant, revoke or remove_programs")
	}
	if len(in.ConsultantIDs) == 0 {
		return in, Invalid("consultantIds", "must name at least one consultant")
	}
	if len(in.ClientIDs) == 0 {
		return in, Invalid("clientIds", "must name at least one client")
	}
	var err error
	if in.ConsultantIDs, err = validIDs("consultantIds", in.ConsultantIDs, MaxJobConsultants); err != nil {
		return in, err
	}
	if in.ClientIDs, err = validIDs("clientIds", in.ClientIDs, MaxJobClients); err != nil {
		return in, err
	}
	switch {
	case in.Action == JobRevoke && len(in.Programs) > 0:
		return in, Invalid("programs", "must be empty for revoke, which removes client access with every program")
	case in.Action != JobRevoke && len(in.Programs) == 0:
		return in, Invalid("programs", "must name at least one program for %s", in.Action)
	}
	if in.Action != JobRevoke {
		if in.Programs, err = s.validPrograms(ctx, c.TenantID(), "programs", in.Programs); err != nil {
			return in, err
		}
	}
	if in.ExpiresAt != nil && in.Action != JobGrant {
		return in, Invalid("expiresAt", "is for grant jobs only")
	}
	if in.ExpiresAt, err = validExpiry("expiresAt", in.ExpiresAt, s.Now()); err != nil {
		return in, err
	}
	if in.DryRun && len(in.ConsultantIDs)*len(in.ClientIDs) > MaxDryRunPairs {
		return in, Invalid("dryRun", "covers at most %d consultant × client pairs; this job has %d", MaxDryRunPairs, len(in.ConsultantIDs)*len(in.ClientIDs))
	}
	users, err := s.Store.UsersByID(ctx, c.TenantID(), in.ConsultantIDs)
	if err != nil {
		return in, err
	}
	if missing := missingIDs(in.ConsultantIDs, func(id string) bool { _, ok := users[id]; return ok }); len(missing) > 0 {
		return in, Invalid("consultantIds", "no such user: %s", listIDs(missing))
	}
	clients, err := s.Store.GetClients(ctx, c.TenantID(), in.ClientIDs)
	if err != nil {
		return in, err
	}
	if missing := missingIDs(in.ClientIDs, func(id string) bool { _, ok := clients[id]; return ok }); len(missing) > 0 {
		return in, Invalid("clientIds", "no such client: %s", listIDs(missing))
	}
	return in, nil
}

func missingIDs(ids []string, exists func(string) bool) []string {
	var out []string
	for _, id := range ids {
		if !exists(id) {
			out = append(out, id)
		}
	}
	return out
}

// chunksOf splits a job into chunk messages: per consultant, clients in runs of ChunkClients.
// The order is fixed by the stored input, so that a fan-out's range always names the same chunks.
func chunksOf(j Job, in JobInput) []JobChunk {
	var out []JobChunk
	for _, u := range in.ConsultantIDs {
		for start := 0; start < len(in.ClientIDs); start += ChunkClients {
			out = append(out, JobChunk{TenantID: j.TenantID, JobID: j.ID, Index: len(out), Action: j.Action,
				RequesterID: j.RequesterID, Programs: j.Programs, ConsultantID: u, ExpiresAt: j.ExpiresAt,
				ClientIDs: in.ClientIDs[start:min(start+ChunkClients, len(in.ClientIDs))]})
		}
	}
	return out
}

// fanOutsOf covers a job's chunks with fan-outs of per chunks each.
func fanOutsOf(j Job, per int) []JobFanOut {
	var out []JobFanOut
	for from := 0; from < j.Chunks; from += per {
		out = append(out, JobFanOut{TenantID: j.TenantID, JobID: j.ID, From: from, To: min(from+per, j.Chunks), CreatedAt: j.CreatedAt})
	}
	return out
}

func (s *Service) fanOutSize() int {
	if s.FanOutChunks > 0 {
		return s.FanOutChunks
	}
	return DefaultFanOutChunks
}

// CreateJob validates a job, queues its fan-outs and stores it; the workers then run it. With
// DryRun it returns the outcomes the job would have now, writing and queueing nothing. With an
// Idempotency-Key a retry returns the first request's job.
//
// The fan-outs are sent before the job is stored: a stored job therefore always has its messages
// queued, whatever happens to this request afterwards (an error, a timeout, a crash), and never
// stays open without them. When storing fails instead, the fan-outs name a job that does not
// exist, and the worker drops them.
func (s *Service) CreateJob(ctx context.Context, c *Caller, in NewJob, idem *Idempotency) (Job, *DryRun, error) {
	if err := c.requireSubmitJobs(); err != nil {
		return Job{}, nil, err
	}
	if idem != nil && !in.DryRun {
		if j, done, err := s.replayJob(ctx, c, idem); done {
			return j, nil, err
		}
	}
	in, err := s.validateJob(ctx, c, in)
	if err != nil {
		return Job{}, nil, err
	}
	j := Job{ID: s.NewID("job"), TenantID: c.TenantID(), RequesterID: c.User.ID, Action: in.Action,
		Programs: nonNil(in.Programs), Consultants: len(in.ConsultantIDs), Clients: len(in.ClientIDs),
		Status: JobQueued, Counts: map[Outcome]int{}, CreatedAt: s.Now(), ExpiresAt: in.ExpiresAt, ReviewID: in.ReviewID}
	j.Total = len(in.ConsultantIDs) * len(in.ClientIDs) * rowsPerPair(j.Action, j.Programs)
	input := JobInput{ConsultantIDs: in.ConsultantIDs, ClientIDs: in.ClientIDs}
	j.Chunks = len(in.ConsultantIDs) * ((len(in.ClientIDs) + ChunkClients - 1) / ChunkClients)
	if in.DryRun {
		dr, err := s.dryRun(ctx, j, chunksOf(j, input))
		return Job{}, dr, err
	}
	meta := Meta{Audit: []AuditEntry{s.audit(c, "access_job.create", "access_job", j.ID, nil, jobAudit(j))}}
	meta.Idempotency = idem.record(c.TenantID(), j.ID, j.CreatedAt)
	if s.Queue == nil {
		return Job{}, nil, fmt.Errorf("create job %s: no job queue configured", j.ID)
	}
	if err := s.Queue.FanOut(ctx, fanOutsOf(j, s.fanOutSize())); err != nil {
		return Job{}, nil, fmt.Errorf("create job %s: queue: %w", j.ID, err)
	}
	if err := s.Store.CreateJob(ctx, j, input, meta); err != nil {
		if idem != nil && errors.Is(err, ErrConflict) {
			if j2, done, err2 := s.replayJob(ctx, c, idem); done {
				return j2, nil, err2
			}
		}
		return Job{}, nil, err
	}
	return j, nil, nil
}

// replayJob answers a retried submission: done is true when the key was used before. A stored
// job had its messages queued before it was stored, so there is nothing to resend.
func (s *Service) replayJob(ctx context.Context, c *Caller, idem *Idempotency) (Job, bool, error) {
	return replay(ctx, s, c, idem, func(id string) (Job, error) {
		j, err := s.Store.GetJob(ctx, c.TenantID(), id)
		return j.View(), err
	})
}

// GetJob reads a job: its requester, and the owner, may.
func (s *Service) GetJob(ctx context.Context, c *Caller, id string) (Job, error) {
	if validID("jobId", id) != nil {
		return Job{}, NotFound("access job")
	}
	j, err := s.Store.GetJob(ctx, c.TenantID(), id)
	if err != nil {
		return Job{}, err
	}
	if c.decide(Request{Op: OpReadJob, Target: &User{ID: j.RequesterID}}).Err() != nil {
		return Job{}, Forbidden("only the job's requester and the account owner can read it")
	}
	return j.View(), nil
}

// JobResults pages a job's results, optionally only those with one outcome; it returns the job
// too, whose action words the reasons.
func (s *Service) JobResults(ctx context.Context, c *Caller, id string, outcome Outcome, p Page) (Job, []JobResult, string, error) {
	if outcome != "" && !outcome.Valid() {
		return Job{}, nil, "", Invalid("outcome", "must be one of %v", Outcomes)
	}
	p, err := p.Normalize()
	if err != nil {
		return Job{}, nil, "", err
	}
	j, err := s.GetJob(ctx, c, id)
	if err != nil {
		return Job{}, nil, "", err
	}
	rs, next, err := s.Store.ListJobResults(ctx, c.TenantID(), j.ID, outcome, p)
	return j, rs, next, err
}

// dryRun decides every chunk as the worker would, without writing.
func (s *Service) dryRun(ctx context.Context, j Job, chunks []JobChunk) (*DryRun, error) {
	out := &DryRun{Total: j.Total, Counts: map[Outcome]int{}}
	for _, ch := range chunks {
		parts, err := s.decideChunk(ctx, ch)
		if err != nil {
			return nil, err
		}
		for _, p := range parts {
			for o, n := range p.Counts {
				out.Counts[o] += n
			}
			out.Results = append(out.Results, expandResults(p.Results, j.Action)...)
		}
	}
	return out, nil
}

// expandResults lists pair results as rows, programs in order.
func expandResults(prs []PairResult, a JobAction) []JobResult {
	var out []JobResult
	for _, pr := range prs {
		for _, prog := range sortedPrograms(pr.Outcomes) {
			out = append(out, JobResult{ConsultantID: pr.ConsultantID, ClientID: pr.ClientID, Program: prog, Outcome: pr.Outcomes[prog]})
		}
	}
	return out
}

// sortedPrograms returns the keys of a pair's outcomes in order.
func sortedPrograms(m map[string]Outcome) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// ExpandPairResult lists one pair's results as rows; stores page through them with it.
func ExpandPairResult(pr PairResult) []JobResult { return expandResults([]PairResult{pr}, "") }

// decideChunk reads a chunk's state and decides the parts not applied yet.
func (s *Service) decideChunk(ctx context.Context, ch JobChunk) ([]JobPart, error) {
	requester, err := s.Store.GetUser(ctx, ch.TenantID, ch.RequesterID)
	found := err == nil
	if err != nil && ErrorCode(err) != CodeNotFound {
		return nil, err
	}
	owner := found && requester.IsOwner && requester.Status == StatusActive
	st, err := s.Store.ReadPairs(ctx, ch, PartPairs, owner)
	if err != nil {
		return nil, err
	}
	if found {
		st.Requester = &requester
	}
	now := s.Now()
	var parts []JobPart
	for pi, start := 0, 0; start < len(ch.ClientIDs); pi, start = pi+1, start+PartPairs {
		if st.Done[pi] {
			continue
		}
		part := JobPart{TenantID: ch.TenantID, JobID: ch.JobID, Chunk: ch.Index, Part: pi, Counts: map[Outcome]int{}}
		for _, clientID := range ch.ClientIDs[start:min(start+PartPairs, len(ch.ClientIDs))] {
			decidePair(&part, ch, st, owner, clientID, now)
		}
		parts = append(parts, part)
	}
	return parts, nil
}

// decidePair decides one (consultant, client) with the policy core, the requester as principal:
// the same rules as the direct routes (OpGrantProgram, OpRevokeClient), so a job never does what
// a route refuses. Existence is checked first, then permission, and only then the consultant's
// current state, so that nobody learns what they may not manage.
func decidePair(part *JobPart, ch JobChunk, st PairState, owner bool, clientID string, now time.Time) {
	res := PairResult{ConsultantID: ch.ConsultantID, ClientID: clientID, Outcomes: map[string]Outcome{}}
	keys := ch.Programs
	if !ch.Action.perProgram() {
		keys = []string{""}
	}
	set := func(o Outcome) {
		for _, k := range keys {
			res.Outcomes[k] = o
		}
	}
	var p Principal
	if st.Requester != nil {
		p.User = *st.Requester
	}
	p.User.IsOwner = owner
	p.Now = now
	admin := st.Admins[clientID]
	grant, hasGrant := st.Grants[clientID]
	if hasGrant && ch.Action != JobRevoke && !live(grant.ExpiresAt, now) {
		// An expired grant gives nothing: a grant job starts afresh over it (its version kept
		// for the conditional write), and there are no programs left to remove.
		grant.Programs, grant.ExpiresAt = nil, nil
	}
	asg, hasAsg := st.Assigned[clientID]
	facts := &ClientFacts{Admin: &admin}
	if hasGrant {
		facts.Grant = &grant
	}
	req := Request{Target: st.Consultant, Client: facts}
	switch {
	case !st.Clients[clientID]:
		set(OutcomeClientNotFound)
	case st.Consultant == nil || st.Consultant.Status == StatusAnonymised:
		set(OutcomeConsultantNotFound)
	case ch.Action == JobRevoke:
		req.Op = OpRevokeClient
		d := Decide(p, req)
		switch {
		case !d.Allowed:
			set(outcomeOf(d))
		case !hasAsg && !hasGrant:
			set(OutcomeNotAssignedBefore)
		default:
			set(OutcomeRemoved)
			if hasAsg {
				part.DeleteAssignments = append(part.DeleteAssignments, asg)
			}
			if hasGrant {
				prev := grant
				part.Programs = append(part.Programs, GrantChange{Prev: &prev})
			}
		}
	default:
		req.Op = OpGrantProgram
		if ch.Action == JobGrant {
			req.Level = GrantLevel
		}
		next := slices.Clone(grant.Programs)
		anyGranted := false
		for _, prog := range ch.Programs {
			req.Program = prog
			d := Decide(p, req)
			has := slices.Contains(grant.Programs, prog)
			switch {
			case !d.Allowed:
				res.Outcomes[prog] = outcomeOf(d)
			case ch.Action == JobGrant && has:
				res.Outcomes[prog] = OutcomeAlreadyAssigned
			case ch.Action == JobGrant:
				res.Outcomes[prog], anyGranted = OutcomeAssigned, true
				next = append(next, prog)
			case has:
				res.Outcomes[prog] = OutcomeRemoved
				next = slices.DeleteFunc(next, func(x string) bool { return x == prog })
			default:
				res.Outcomes[prog] = OutcomeNotAssignedBefore
			}
		}
		// A grant opens the client; removing programs keeps the access (an empty grant).
		if anyGranted || len(next) != len(grant.Programs) {
			change := GrantChange{}
			version := 1
			if hasGrant {
				prev := grant
				change.Prev = &prev
				version = grant.Version + 1
			}
			slices.Sort(next)
			level := grant.Level
			if level == "" {
				level = GrantLevel
			}
			change.Next = &ClientGrant{TenantID: ch.TenantID, ClientID: clientID, UserID: ch.ConsultantID, Level: level,
				Programs: next, GrantedBy: ch.RequesterID, Source: ch.JobID, GrantedAt: now, Version: version, UpdatedAt: now,
				ExpiresAt: grant.ExpiresAt}
			if ch.Action == JobGrant && anyGranted {
				change.Next.ExpiresAt = ch.ExpiresAt
			}
			part.Programs = append(part.Programs, change)
		}
	}
	for _, o := range res.Outcomes {
		part.Counts[o]++
	}
	part.Results = append(part.Results, res)
}

// outcomeOf names the outcome of a refused item decision.
func outcomeOf(d Decision) Outcome {
	switch d.Code {
	case codeNotAConsultant:
		return OutcomeNotAConsultant
	case codeInactive:
		return OutcomeConsultantInactive
	}
	return OutcomeNotPermitted
}

// maxPartAttempts bounds the re-reads of a part that lost a race with another change. In
// DynamoDB every part also updates the job's counters, so parts of one job running at once
// collide there (TransactionConflict); they back off with jitter and try again.
const maxPartAttempts = 8

// backoff waits before attempt n+1: exponential from 20 ms, capped at 1 s, with full jitter so
// colliding workers spread out; it returns early when ctx ends.
func backoff(ctx context.Context, n int) error {
	d := min(20*time.Millisecond<<n, time.Second)
	t := time.NewTimer(rand.N(d) + d/4)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// ProcessChunk runs one queue message: it decides and applies every part not applied yet, then
// completes the job if this was its last part. Running it again changes nothing: applied parts
// are skipped by their markers, and completion happens once.
func (s *Service) ProcessChunk(ctx context.Context, ch JobChunk) error {
	if err := validChunk(ch); err != nil {
		return err
	}
	for attempt := 1; ; attempt++ {
		parts, err := s.decideChunk(ctx, ch)
		if err != nil {
			return err
		}
		conflict := false
		for _, p := range parts {
			err := s.Store.ApplyJobPart(ctx, p)
			switch {
			case err == nil, errors.Is(err, ErrPartDone):
			case errors.Is(err, ErrJobClosed):
				return nil
			case errors.Is(err, ErrVersionConflict):
				conflict = true
			default:
				return fmt.Errorf("job %s chunk %d part %d: %w", ch.JobID, ch.Index, p.Part, err)
			}
		}
		if !conflict {
			break
		}
		if attempt == maxPartAttempts {
			return fmt.Errorf("job %s chunk %d: items keep changing under the job", ch.JobID, ch.Index)
		}
		if err := backoff(ctx, attempt); err != nil {
			return err
		}
	}
	return s.completeIfDone(ctx, ch.TenantID, ch.JobID)
}

// FailChunk records every result of a chunk not applied yet as failed, changing nothing else,
// so that a message that keeps failing still lets its job end (completed_with_errors). Running it
// again, or after the chunk was applied, changes nothing.
func (s *Service) FailChunk(ctx context.Context, ch JobChunk) error {
	if err := validChunk(ch); err != nil {
		return err
	}
	closed, err := s.failParts(ctx, ch)
	if err != nil || closed {
		return err
	}
	return s.completeIfDone(ctx, ch.TenantID, ch.JobID)
}

// failParts records the parts of a chunk not applied yet as failed; closed is true when the job
// had already ended.
func (s *Service) failParts(ctx context.Context, ch JobChunk) (closed bool, err error) {
	st, err := s.Store.ReadPairs(ctx, JobChunk{TenantID: ch.TenantID, JobID: ch.JobID, Index: ch.Index, ClientIDs: ch.ClientIDs}, PartPairs, true)
	if err != nil {
		return false, err
	}
	keys := ch.Programs
	if !ch.Action.perProgram() {
		keys = []string{""}
	}
	for pi, start := 0, 0; start < len(ch.ClientIDs); pi, start = pi+1, start+PartPairs {
		if st.Done[pi] {
			continue
		}
		part := JobPart{TenantID: ch.TenantID, JobID: ch.JobID, Chunk: ch.Index, Part: pi, Counts: map[Outcome]int{}}
		for _, clientID := range ch.ClientIDs[start:min(start+PartPairs, len(ch.ClientIDs))] {
			res := PairResult{ConsultantID: ch.ConsultantID, ClientID: clientID, Outcomes: map[string]Outcome{}}
			for _, k := range keys {
				res.Outcomes[k] = OutcomeFailed
				part.Counts[OutcomeFailed]++
			}
			part.Results = append(part.Results, res)
		}
		err := s.Store.ApplyJobPart(ctx, part)
		switch {
		case err == nil, errors.Is(err, ErrPartDone):
		case errors.Is(err, ErrJobClosed):
			return true, nil
		default:
			return false, fmt.Errorf("job %s chunk %d part %d: record failure: %w", ch.JobID, ch.Index, pi, err)
		}
	}
	return false, nil
}

// ExpandJob sends the chunk messages of one fan-out once its job is stored. Running it again
// after it finished sends nothing; after it failed halfway it sends the chunks again, which
// their part markers make harmless. A fan-out whose job was never stored is dropped.
func (s *Service) ExpandJob(ctx context.Context, f JobFanOut) error {
	if err := validFanOut(f); err != nil {
		return err
	}
	j, err := s.storedJob(ctx, f)
	if errors.Is(err, errNeverStored) {
		return nil
	}
	if err != nil || j.Status.Final() {
		return err
	}
	if sent, err := s.Store.FanOutSent(ctx, f); err != nil || sent {
		return err
	}
	chunks, err := s.chunksOfFanOut(ctx, j, f)
	if err != nil {
		return err
	}
	if s.Queue == nil {
		return fmt.Errorf("expand job %s: no job queue configured", f.JobID)
	}
	if err := s.Queue.Enqueue(ctx, chunks); err != nil {
		return fmt.Errorf("expand job %s chunks %d-%d: %w", f.JobID, f.From, f.To-1, err)
	}
	return s.Store.MarkFanOutSent(ctx, f)
}

// storedJob reads a fan-out's job, waiting a little for it: the API sends the fan-out just before
// it stores the job. errNeverStored once the job is past JobStoreGrace and still missing.
func (s *Service) storedJob(ctx context.Context, f JobFanOut) (Job, error) {
	start := time.Now()
	for {
		j, err := s.Store.GetJob(ctx, f.TenantID, f.JobID)
		if ErrorCode(err) != CodeNotFound {
			return j, err
		}
		if s.Now().Sub(f.CreatedAt) > JobStoreGrace {
			return Job{}, errNeverStored
		}
		if time.Since(start) >= jobStoreWait {
			return Job{}, fmt.Errorf("job %s is not stored yet; its fan-out comes back later", f.JobID)
		}
		select {
		case <-ctx.Done():
			return Job{}, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// chunksOfFanOut reads the job's input and returns the chunks the fan-out stands for.
func (s *Service) chunksOfFanOut(ctx context.Context, j Job, f JobFanOut) ([]JobChunk, error) {
	in, err := s.Store.GetJobInput(ctx, j.TenantID, j.ID)
	if err != nil {
		return nil, err
	}
	all := chunksOf(j, in)
	if f.To > len(all) {
		return nil, fmt.Errorf("fan-out %d-%d of job %s: the job has %d chunks", f.From, f.To-1, f.JobID, len(all))
	}
	return all[f.From:f.To], nil
}

// failFanOutParallel bounds the chunks FailFanOut records at once.
const failFanOutParallel = 8

// FailFanOut records as failed every result of a fan-out's chunks not applied yet, and completes
// the job if that was the last of it: for a fan-out in the dead-letter queue. When every chunk
// message of the fan-out was sent, those messages go their own way (to the workers, or to the
// dead-letter queue themselves) and nothing is recorded here.
func (s *Service) FailFanOut(ctx context.Context, f JobFanOut) error {
	if err := validFanOut(f); err != nil {
		return err
	}
	j, err := s.Store.GetJob(ctx, f.TenantID, f.JobID)
	if ErrorCode(err) == CodeNotFound {
		return nil // never stored: nothing to record
	}
	if err != nil || j.Status.Final() {
		return err
	}
	if sent, err := s.Store.FanOutSent(ctx, f); err != nil || sent {
		return err
	}
	chunks, err := s.chunksOfFanOut(ctx, j, f)
	if err != nil {
		return err
	}
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		errs   []error
		closed bool
		sem    = make(chan struct{}, failFanOutParallel)
	)
	for _, ch := range chunks {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			c, err := s.failParts(ctx, ch)
			mu.Lock()
			defer mu.Unlock()
			closed = closed || c
			if err != nil {
				errs = append(errs, err)
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil || closed {
		return err
	}
	return s.completeIfDone(ctx, f.TenantID, f.JobID)
}

func validFanOut(f JobFanOut) error {
	if f.TenantID == "" || f.JobID == "" || f.From < 0 || f.To <= f.From {
		return fmt.Errorf("malformed fan-out %d-%d of job %q", f.From, f.To, f.JobID)
	}
	return nil
}

func validChunk(ch JobChunk) error {
	if ch.TenantID == "" || ch.JobID == "" || ch.ConsultantID == "" || ch.RequesterID == "" || !ch.Action.Valid() || len(ch.ClientIDs) == 0 {
		return fmt.Errorf("malformed job chunk %d of job %q", ch.Index, ch.JobID)
	}
	if ch.Action.perProgram() && len(ch.Programs) == 0 {
		return fmt.Errorf("malformed job chunk %d of job %q: no programs", ch.Index, ch.JobID)
	}
	return nil
}

// completeIfDone ends the job, exactly once, when all its results are recorded: the store's
// conditional write lets only one of several workers that see it done succeed.
func (s *Service) completeIfDone(ctx context.Context, tenantID, jobID string) error {
	j, err := s.Store.GetJob(ctx, tenantID, jobID)
	if err != nil {
		return err
	}
	if j.Status.Final() || j.Done < j.Total {
		return nil
	}
	// Completed only when every item was done; anything not done is an error the requester
	// must see in the status and the notification's title.
	status := JobCompleted
	if countNotDone(j.Counts) > 0 {
		status = JobCompletedWithErrors
	}
	now := s.Now()
	n := Notification{ID: "ntf_" + strings.TrimPrefix(j.ID, "job_"), TenantID: j.TenantID, UserID: j.RequesterID,
		Type: NotificationJobCompleted, JobID: j.ID, Title: jobTitle(j, status), Summary: jobSummary(j),
		CreatedAt: now, ExpiresAt: now.Add(s.notificationRetention())}
	after := jobAudit(j)
	after["status"], after["counts"] = status, countsAudit(j.Counts)
	a := s.audit(nil, "access_job.complete", "access_job", j.ID, nil, after)
	a.TenantID, a.ActorID = j.TenantID, "system"
	err = s.Store.CompleteJob(ctx, j, status, n, Meta{Audit: []AuditEntry{a}})
	if errors.Is(err, ErrJobClosed) {
		return nil
	}
	return err
}

func countsAudit(m map[Outcome]int) map[string]any {
	out := map[string]any{}
	for o, n := range m {
		out[string(o)] = n
	}
	return out
}

var actionWords = map[JobAction]string{
	JobGrant: "Client access and programs", JobRevoke: "Removal of client access", JobRemovePrograms: "Removal of programs",
}

func jobTitle(j Job, st JobStatus) string {
	if st == JobCompletedWithErrors {
		return fmt.Sprintf("%s: finished with errors, %d of %d items not done", actionWords[j.Action], countNotDone(j.Counts), j.Total)
	}
	return actionWords[j.Action] + ": finished, every item done"
}

// jobSummary says what was and was not done in counts only: no names, nothing personal.
func jobSummary(j Job) string {
	var done, notDone []string
	for _, o := range Outcomes {
		n := j.Counts[o]
		if n == 0 {
			continue
		}
		part := fmt.Sprintf("%d %s", n, o)
		if o.Done() {
			done = append(done, part)
		} else {
			notDone = append(notDone, part)
		}
	}
	s := fmt.Sprintf("%d of %d items done", j.Total-countNotDone(j.Counts), j.Total)
	if len(done) > 0 {
		s += " (" + strings.Join(done, ", ") + ")"
	}
	if len(notDone) > 0 {
		s += "; not done: " + strings.Join(notDone, ", ") + "; see the job's results for why"
	}
	return s
}

// Done reports whether an outcome means the item was done (the state asked for holds).
func (o Outcome) Done() bool {
	return o == OutcomeAssigned || o == OutcomeAlreadyAssigned || o == OutcomeRemoved || o == OutcomeNotAssignedBefore
}

func countNotDone(m map[Outcome]int) int {
	n := 0
	for o, c := range m {
		if !o.Done() {
			n += c
		}
	}
	return n
}
