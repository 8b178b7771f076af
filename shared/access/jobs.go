package access

import (
	"context"
	"errors"
	"slices"
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
func (a JobAction) PerProgram() bool { return a != JobRevoke }

// ChangesAssignments reports whether the action may change a consultant's assignments (only
// revoke ends them), so that a job reads them only when it does.
func (a JobAction) ChangesAssignments() bool { return a == JobRevoke }

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
	// writes up to two items (assignment, programs), plus the part's item (its marker, which
	// holds its results) and a counter shard, within DynamoDB's 100 items per transaction. A
	// chunk's parts are cut by it, and its markers name them by position: changing it while a
	// job runs would misplace the parts already applied.
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
	// Client is the client, set by writers that have it; see Assignment.Client.
	Client *Client
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
	Clients    map[string]Client      // client id → the client (absent: no such client)
	Admins     map[string]ClientAdmin // client id → the requester's administration
	Assigned   map[string]Assignment  // client id → the consultant's assignment
	Grants     map[string]ClientGrant // client id → the consultant's grant
	Done       map[int]bool           // part → already applied
}

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
func (c *Caller) RequireSubmitJobs() error {
	return c.Require(Request{Op: OpSubmitJobs})
}

// ExpandPairResult lists one pair's results as rows; stores page through them with it.
func ExpandPairResult(pr PairResult) []JobResult { return ExpandResults([]PairResult{pr}, "") }

// Done reports whether an outcome means the item was done (the state asked for holds).
func (o Outcome) Done() bool {
	return o == OutcomeAssigned || o == OutcomeAlreadyAssigned || o == OutcomeRemoved || o == OutcomeNotAssignedBefore
}

// JobStoreGrace is how long after a fan-out was sent its job may still be stored: far beyond the
// API functions' timeout (10 s), after which the request that sent it is over.
const JobStoreGrace = 2 * time.Minute
