package jobs

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tilgang/tilgang/shared/access"
)

// rowsPerPair is the number of results of one (consultant, client) pair.
func rowsPerPair(a access.JobAction, programs []string) int {
	if a.PerProgram() {
		return len(programs)
	}
	return 1
}

func jobAudit(j access.Job) map[string]any {
	m := map[string]any{"action": j.Action, "programs": access.NonNil(j.Programs), "consultants": j.Consultants,
		"clients": j.Clients, "total": j.Total, "chunks": j.Chunks}
	if j.ExpiresAt != nil {
		m["expiresAt"] = access.ExpiryAudit(j.ExpiresAt)
	}
	if j.ReviewID != "" {
		m["reviewId"] = j.ReviewID
	}
	return m
}

// validateJob checks a job's input: sizes first (cheap), then that every id exists.
func (s *Service) validateJob(ctx context.Context, c *access.Caller, in access.NewJob) (access.NewJob, error) {
	if in.Action == "" {
		return in, access.Invalid("action", "is required: grant, revoke or remove_programs")
	}
	if !in.Action.Valid() {
		return in, access.Invalid("action", "must be grant, revoke or remove_programs")
	}
	if len(in.ConsultantIDs) == 0 {
		return in, access.Invalid("consultantIds", "must name at least one consultant")
	}
	if len(in.ClientIDs) == 0 {
		return in, access.Invalid("clientIds", "must name at least one client")
	}
	var err error
	if in.ConsultantIDs, err = access.ValidIDs("consultantIds", in.ConsultantIDs, access.MaxJobConsultants); err != nil {
		return in, err
	}
	if in.ClientIDs, err = access.ValidIDs("clientIds", in.ClientIDs, access.MaxJobClients); err != nil {
		return in, err
	}
	switch {
	case in.Action == access.JobRevoke && len(in.Programs) > 0:
		return in, access.Invalid("programs", "must be empty for revoke, which removes client access with every program")
	case in.Action != access.JobRevoke && len(in.Programs) == 0:
		return in, access.Invalid("programs", "must name at least one program for %s", in.Action)
	}
	if in.Action != access.JobRevoke {
		if in.Programs, err = s.Programs.ValidPrograms(ctx, c.TenantID(), "programs", in.Programs); err != nil {
			return in, err
		}
	}
	if in.ExpiresAt != nil && in.Action != access.JobGrant {
		return in, access.Invalid("expiresAt", "is for grant jobs only")
	}
	if in.ExpiresAt, err = access.ValidExpiry("expiresAt", in.ExpiresAt, s.Now()); err != nil {
		return in, err
	}
	if in.DryRun && len(in.ConsultantIDs)*len(in.ClientIDs) > access.MaxDryRunPairs {
		return in, access.Invalid("dryRun", "covers at most %d consultant × client pairs; this job has %d", access.MaxDryRunPairs, len(in.ConsultantIDs)*len(in.ClientIDs))
	}
	users, err := s.Store.UsersByID(ctx, c.TenantID(), in.ConsultantIDs)
	if err != nil {
		return in, err
	}
	if missing := missingIDs(in.ConsultantIDs, func(id string) bool { _, ok := users[id]; return ok }); len(missing) > 0 {
		return in, access.Invalid("consultantIds", "no such user: %s", access.ListIDs(missing))
	}
	clients, err := s.Store.GetClients(ctx, c.TenantID(), in.ClientIDs)
	if err != nil {
		return in, err
	}
	if missing := missingIDs(in.ClientIDs, func(id string) bool { _, ok := clients[id]; return ok }); len(missing) > 0 {
		return in, access.Invalid("clientIds", "no such client: %s", access.ListIDs(missing))
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
func chunksOf(j access.Job, in access.JobInput) []access.JobChunk {
	var out []access.JobChunk
	for _, u := range in.ConsultantIDs {
		for start := 0; start < len(in.ClientIDs); start += access.ChunkClients {
			out = append(out, access.JobChunk{TenantID: j.TenantID, JobID: j.ID, Index: len(out), Action: j.Action,
				RequesterID: j.RequesterID, Programs: j.Programs, ConsultantID: u, ExpiresAt: j.ExpiresAt,
				ClientIDs: in.ClientIDs[start:min(start+access.ChunkClients, len(in.ClientIDs))]})
		}
	}
	return out
}

// fanOutsOf covers a job's chunks with fan-outs of per chunks each.
func fanOutsOf(j access.Job, per int) []access.JobFanOut {
	var out []access.JobFanOut
	for from := 0; from < j.Chunks; from += per {
		out = append(out, access.JobFanOut{TenantID: j.TenantID, JobID: j.ID, From: from, To: min(from+per, j.Chunks), CreatedAt: j.CreatedAt})
	}
	return out
}

func (s *Service) fanOutSize() int {
	if s.FanOutChunks > 0 {
		return s.FanOutChunks
	}
	return access.DefaultFanOutChunks
}

// CreateJob validates a job, queues its fan-outs and stores it; the workers then run it. With
// DryRun it returns the outcomes the job would have now, writing and queueing nothing. With an
// Idempotency-Key a retry returns the first request's job.
//
// The fan-outs are sent before the job is stored: a stored job therefore always has its messages
// queued, whatever happens to this request afterwards (an error, a timeout, a crash), and never
// stays open without them. When storing fails instead, the fan-outs name a job that does not
// exist, and the worker drops them.
func (s *Service) CreateJob(ctx context.Context, c *access.Caller, in access.NewJob, idem *access.Idempotency) (access.Job, *access.DryRun, error) {
	if err := c.RequireSubmitJobs(); err != nil {
		return access.Job{}, nil, err
	}
	if idem != nil && !in.DryRun {
		if j, done, err := s.replayJob(ctx, c, idem); done {
			return j, nil, err
		}
	}
	in, err := s.validateJob(ctx, c, in)
	if err != nil {
		return access.Job{}, nil, err
	}
	j := access.Job{ID: s.NewID("job"), TenantID: c.TenantID(), RequesterID: c.User.ID, Action: in.Action,
		Programs: access.NonNil(in.Programs), Consultants: len(in.ConsultantIDs), Clients: len(in.ClientIDs),
		Status: access.JobQueued, Counts: map[access.Outcome]int{}, CreatedAt: s.Now(), ExpiresAt: in.ExpiresAt, ReviewID: in.ReviewID}
	j.Total = len(in.ConsultantIDs) * len(in.ClientIDs) * rowsPerPair(j.Action, j.Programs)
	input := access.JobInput{ConsultantIDs: in.ConsultantIDs, ClientIDs: in.ClientIDs}
	j.Chunks = len(in.ConsultantIDs) * ((len(in.ClientIDs) + access.ChunkClients - 1) / access.ChunkClients)
	if in.DryRun {
		dr, err := s.dryRun(ctx, j, chunksOf(j, input))
		return access.Job{}, dr, err
	}
	meta := access.Meta{Audit: []access.AuditEntry{s.Audit(c, "access_job.create", "access_job", j.ID, nil, jobAudit(j))}}
	meta.Idempotency = idem.Record(c.TenantID(), j.ID, j.CreatedAt)
	if s.Queue == nil {
		return access.Job{}, nil, fmt.Errorf("create job %s: no job queue configured", j.ID)
	}
	if err := s.Queue.FanOut(ctx, fanOutsOf(j, s.fanOutSize())); err != nil {
		return access.Job{}, nil, fmt.Errorf("create job %s: queue: %w", j.ID, err)
	}
	if err := s.Store.CreateJob(ctx, j, input, meta); err != nil {
		if idem != nil && errors.Is(err, access.ErrConflict) {
			if j2, done, err2 := s.replayJob(ctx, c, idem); done {
				return j2, nil, err2
			}
		}
		return access.Job{}, nil, err
	}
	return j, nil, nil
}

// replayJob answers a retried submission: done is true when the key was used before. A stored
// job had its messages queued before it was stored, so there is nothing to resend.
func (s *Service) replayJob(ctx context.Context, c *access.Caller, idem *access.Idempotency) (access.Job, bool, error) {
	return access.Replay(ctx, s.Store, c, idem, func(id string) (access.Job, error) {
		j, err := s.Store.GetJob(ctx, c.TenantID(), id)
		return j.View(), err
	})
}

// GetJob reads a job: its requester, and the owner, may.
func (s *Service) GetJob(ctx context.Context, c *access.Caller, id string) (access.Job, error) {
	if access.ValidID("jobId", id) != nil {
		return access.Job{}, access.NotFound("access job")
	}
	j, err := s.Store.GetJob(ctx, c.TenantID(), id)
	if err != nil {
		return access.Job{}, err
	}
	if c.Decide(access.Request{Op: access.OpReadJob, Target: &access.User{ID: j.RequesterID}}).Err() != nil {
		return access.Job{}, access.Forbidden("only the job's requester and the account owner can read it")
	}
	return j.View(), nil
}

// JobResults pages a job's results, optionally only those with one outcome; it returns the job
// too, whose action words the reasons.
func (s *Service) JobResults(ctx context.Context, c *access.Caller, id string, outcome access.Outcome, p access.Page) (access.Job, []access.JobResult, string, error) {
	if outcome != "" && !outcome.Valid() {
		return access.Job{}, nil, "", access.Invalid("outcome", "must be one of %v", access.Outcomes)
	}
	p, err := p.Normalize()
	if err != nil {
		return access.Job{}, nil, "", err
	}
	j, err := s.GetJob(ctx, c, id)
	if err != nil {
		return access.Job{}, nil, "", err
	}
	rs, next, err := s.Store.ListJobResults(ctx, c.TenantID(), j.ID, outcome, p)
	return j, rs, next, err
}

// dryRun decides every chunk as the worker would, without writing.
func (s *Service) dryRun(ctx context.Context, j access.Job, chunks []access.JobChunk) (*access.DryRun, error) {
	out := &access.DryRun{Total: j.Total, Counts: map[access.Outcome]int{}}
	for _, ch := range chunks {
		parts, err := s.decideChunk(ctx, ch)
		if err != nil {
			return nil, err
		}
		for _, p := range parts {
			for o, n := range p.Counts {
				out.Counts[o] += n
			}
			out.Results = append(out.Results, access.ExpandResults(p.Results, j.Action)...)
		}
	}
	return out, nil
}

// decideChunk reads a chunk's state and decides the parts not applied yet.
func (s *Service) decideChunk(ctx context.Context, ch access.JobChunk) ([]access.JobPart, error) {
	requester, err := s.Store.GetUser(ctx, ch.TenantID, ch.RequesterID)
	found := err == nil
	if err != nil && access.ErrorCode(err) != access.CodeNotFound {
		return nil, err
	}
	owner := found && requester.IsOwner && requester.Status == access.StatusActive
	st, err := s.Store.ReadPairs(ctx, ch, access.PartPairs, owner)
	if err != nil {
		return nil, err
	}
	if found {
		st.Requester = &requester
	}
	now := s.Now()
	var parts []access.JobPart
	for pi, start := 0, 0; start < len(ch.ClientIDs); pi, start = pi+1, start+access.PartPairs {
		if st.Done[pi] {
			continue
		}
		part := access.JobPart{TenantID: ch.TenantID, JobID: ch.JobID, Chunk: ch.Index, Part: pi, Counts: map[access.Outcome]int{}}
		for _, clientID := range ch.ClientIDs[start:min(start+access.PartPairs, len(ch.ClientIDs))] {
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
func decidePair(part *access.JobPart, ch access.JobChunk, st access.PairState, owner bool, clientID string, now time.Time) {
	res := access.PairResult{ConsultantID: ch.ConsultantID, ClientID: clientID, Outcomes: map[string]access.Outcome{}}
	keys := ch.Programs
	if !ch.Action.PerProgram() {
		keys = []string{""}
	}
	set := func(o access.Outcome) {
		for _, k := range keys {
			res.Outcomes[k] = o
		}
	}
	var p access.Principal
	if st.Requester != nil {
		p.User = *st.Requester
	}
	p.User.IsOwner = owner
	p.Now = now
	admin := st.Admins[clientID]
	// systemAdmin: the requester administers every program here (owner, or a live system
	// administration), so they may set a grant's expiry and end assignments.
	systemAdmin := owner || (admin.System && access.Live(admin.ExpiresAt, now))
	grant, hasGrant := st.Grants[clientID]
	if hasGrant && ch.Action != access.JobRevoke && !access.Live(grant.ExpiresAt, now) {
		// An expired grant gives nothing: a grant job starts afresh over it (its version kept
		// for the conditional write), and there are no programs left to remove.
		grant.Programs, grant.ExpiresAt = nil, nil
	}
	asg, hasAsg := st.Assigned[clientID]
	cl, found := st.Clients[clientID]
	if !found {
		cl = access.Client{ID: clientID, TenantID: ch.TenantID}
	}
	facts := &access.ClientFacts{Client: cl, Admin: &admin}
	if hasGrant {
		facts.Grant = &grant
	}
	req := access.Request{Target: st.Consultant, Client: facts}
	switch {
	case !found:
		set(access.OutcomeClientNotFound)
	case st.Consultant == nil || st.Consultant.Status == access.StatusAnonymised:
		set(access.OutcomeConsultantNotFound)
	case ch.Action == access.JobRevoke:
		req.Op = access.OpRevokeClient
		d := access.Decide(p, req)
		switch {
		case !d.Allowed:
			set(outcomeOf(d))
		case !hasAsg && !hasGrant:
			set(access.OutcomeNotAssignedBefore)
		default:
			set(access.OutcomeRemoved)
			// The assignment goes only by the hand of one who may manage it: the owner or a
			// system administrator of the client (a program administrator ends the grant only).
			if hasAsg && systemAdmin {
				part.DeleteAssignments = append(part.DeleteAssignments, asg)
			}
			if hasGrant {
				prev := grant
				part.Programs = append(part.Programs, access.GrantChange{Prev: &prev})
			}
		}
	default:
		req.Op = access.OpGrantProgram
		if ch.Action == access.JobGrant {
			req.Level = access.GrantLevel
		}
		next := slices.Clone(grant.Programs)
		anyGranted := false
		for _, prog := range ch.Programs {
			req.Program = prog
			d := access.Decide(p, req)
			has := slices.Contains(grant.Programs, prog)
			switch {
			case !d.Allowed:
				res.Outcomes[prog] = outcomeOf(d)
			case ch.Action == access.JobGrant && has:
				res.Outcomes[prog] = access.OutcomeAlreadyAssigned
			case ch.Action == access.JobGrant:
				res.Outcomes[prog], anyGranted = access.OutcomeAssigned, true
				next = append(next, prog)
			case has:
				res.Outcomes[prog] = access.OutcomeRemoved
				next = slices.DeleteFunc(next, func(x string) bool { return x == prog })
			default:
				res.Outcomes[prog] = access.OutcomeNotAssignedBefore
			}
		}
		// A grant opens the client; removing programs keeps the access (an empty grant).
		if anyGranted || len(next) != len(grant.Programs) {
			change := access.GrantChange{}
			version := 1
			if hasGrant {
				prev := grant
				change.Prev = &prev
				version = grant.Version + 1
			}
			slices.Sort(next)
			level := grant.Level
			if level == "" {
				level = access.GrantLevel
			}
			change.Next = &access.ClientGrant{TenantID: ch.TenantID, ClientID: clientID, UserID: ch.ConsultantID, Level: level,
				Programs: next, GrantedBy: ch.RequesterID, Source: ch.JobID, GrantedAt: now, Version: version, UpdatedAt: now,
				ExpiresAt: grant.ExpiresAt, Client: &cl}
			if ch.Action == access.JobGrant && anyGranted {
				change.Next.ExpiresAt = ch.ExpiresAt
				// One record holds every program of the consultant at the client: a requester
				// who does not administer all of them never extends (or makes permanent) the
				// expiry of programs already granted; only the earlier expiry holds.
				if len(grant.Programs) > 0 && !systemAdmin {
					change.Next.ExpiresAt = earlier(grant.ExpiresAt, ch.ExpiresAt)
				}
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
func outcomeOf(d access.Decision) access.Outcome {
	switch d.Code {
	case access.CodeNotAConsultant:
		return access.OutcomeNotAConsultant
	case access.CodeInactive:
		return access.OutcomeConsultantInactive
	}
	return access.OutcomeNotPermitted
}

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

// ProcessChunk runs one queue message: it applies the chunk (ApplyChunk), then completes the job
// if this was its last part. Running it again changes nothing: applied parts are skipped by
// their markers, and completion happens once.
func (s *Service) ProcessChunk(ctx context.Context, ch access.JobChunk) error {
	if err := s.ApplyChunk(ctx, ch); err != nil {
		return err
	}
	return s.CompleteIfDone(ctx, ch.TenantID, ch.JobID)
}

// ApplyChunk decides and applies every part of a chunk not applied yet, and leaves the job's
// completion to CompleteIfDone, which a worker runs once for all the chunks of a job it applied
// together. Running it again changes nothing: applied parts are skipped by their markers.
func (s *Service) ApplyChunk(ctx context.Context, ch access.JobChunk) error {
	if err := validChunk(ch); err != nil {
		return err
	}
	for attempt := 1; ; attempt++ {
		parts, err := s.decideChunk(ctx, ch)
		if err != nil {
			return err
		}
		// A chunk's parts touch different items (their own part item, counter shard, and
		// pairs), so they are applied at once.
		errs := make([]error, len(parts))
		var wg sync.WaitGroup
		for i, p := range parts {
			wg.Go(func() { errs[i] = s.Store.ApplyJobPart(ctx, p) })
		}
		wg.Wait()
		conflict := false
		for i, err := range errs {
			switch {
			case err == nil, errors.Is(err, access.ErrPartDone):
			case errors.Is(err, access.ErrJobClosed):
				return nil
			case errors.Is(err, access.ErrVersionConflict):
				conflict = true
			default:
				return fmt.Errorf("job %s chunk %d part %d: %w", ch.JobID, ch.Index, parts[i].Part, err)
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
	return nil
}

// FailChunk records every result of a chunk not applied yet as failed, changing nothing else,
// so that a message that keeps failing still lets its job end (completed_with_errors). Running it
// again, or after the chunk was applied, changes nothing.
func (s *Service) FailChunk(ctx context.Context, ch access.JobChunk) error {
	if err := validChunk(ch); err != nil {
		return err
	}
	closed, err := s.failParts(ctx, ch)
	if err != nil || closed {
		return err
	}
	return s.CompleteIfDone(ctx, ch.TenantID, ch.JobID)
}

// failParts records the parts of a chunk not applied yet as failed; closed is true when the job
// had already ended.
func (s *Service) failParts(ctx context.Context, ch access.JobChunk) (closed bool, err error) {
	st, err := s.Store.ReadPairs(ctx, access.JobChunk{TenantID: ch.TenantID, JobID: ch.JobID, Index: ch.Index, ClientIDs: ch.ClientIDs}, access.PartPairs, true)
	if err != nil {
		return false, err
	}
	keys := ch.Programs
	if !ch.Action.PerProgram() {
		keys = []string{""}
	}
	for pi, start := 0, 0; start < len(ch.ClientIDs); pi, start = pi+1, start+access.PartPairs {
		if st.Done[pi] {
			continue
		}
		part := access.JobPart{TenantID: ch.TenantID, JobID: ch.JobID, Chunk: ch.Index, Part: pi, Counts: map[access.Outcome]int{}}
		for _, clientID := range ch.ClientIDs[start:min(start+access.PartPairs, len(ch.ClientIDs))] {
			res := access.PairResult{ConsultantID: ch.ConsultantID, ClientID: clientID, Outcomes: map[string]access.Outcome{}}
			for _, k := range keys {
				res.Outcomes[k] = access.OutcomeFailed
				part.Counts[access.OutcomeFailed]++
			}
			part.Results = append(part.Results, res)
		}
		err := s.Store.ApplyJobPart(ctx, part)
		switch {
		case err == nil, errors.Is(err, access.ErrPartDone):
		case errors.Is(err, access.ErrJobClosed):
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
func (s *Service) ExpandJob(ctx context.Context, f access.JobFanOut) error {
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
func (s *Service) storedJob(ctx context.Context, f access.JobFanOut) (access.Job, error) {
	start := time.Now()
	for {
		j, err := s.Store.GetJob(ctx, f.TenantID, f.JobID)
		if access.ErrorCode(err) != access.CodeNotFound {
			return j, err
		}
		if s.Now().Sub(f.CreatedAt) > access.JobStoreGrace {
			return access.Job{}, errNeverStored
		}
		if time.Since(start) >= jobStoreWait {
			return access.Job{}, fmt.Errorf("job %s is not stored yet; its fan-out comes back later", f.JobID)
		}
		select {
		case <-ctx.Done():
			return access.Job{}, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// chunksOfFanOut reads the job's input and returns the chunks the fan-out stands for.
func (s *Service) chunksOfFanOut(ctx context.Context, j access.Job, f access.JobFanOut) ([]access.JobChunk, error) {
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

// FailFanOut records as failed every result of a fan-out's chunks not applied yet, and completes
// the job if that was the last of it: for a fan-out in the dead-letter queue. When every chunk
// message of the fan-out was sent, those messages go their own way (to the workers, or to the
// dead-letter queue themselves) and nothing is recorded here.
func (s *Service) FailFanOut(ctx context.Context, f access.JobFanOut) error {
	if err := validFanOut(f); err != nil {
		return err
	}
	j, err := s.Store.GetJob(ctx, f.TenantID, f.JobID)
	if access.ErrorCode(err) == access.CodeNotFound {
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
	return s.CompleteIfDone(ctx, f.TenantID, f.JobID)
}

func validFanOut(f access.JobFanOut) error {
	if f.TenantID == "" || f.JobID == "" || f.From < 0 || f.To <= f.From {
		return fmt.Errorf("malformed fan-out %d-%d of job %q", f.From, f.To, f.JobID)
	}
	return nil
}

func validChunk(ch access.JobChunk) error {
	if ch.TenantID == "" || ch.JobID == "" || ch.ConsultantID == "" || ch.RequesterID == "" || !ch.Action.Valid() || len(ch.ClientIDs) == 0 {
		return fmt.Errorf("malformed job chunk %d of job %q", ch.Index, ch.JobID)
	}
	if ch.Action.PerProgram() && len(ch.Programs) == 0 {
		return fmt.Errorf("malformed job chunk %d of job %q: no programs", ch.Index, ch.JobID)
	}
	return nil
}

// CompleteIfDone ends the job, exactly once, when all its results are recorded: the store's
// conditional write lets only one of several workers that see it done succeed. A job that has
// ended already or is not done yet is left as it is, and one that does not exist (never stored,
// or gone: its chunks apply nothing) is no error.
func (s *Service) CompleteIfDone(ctx context.Context, tenantID, jobID string) error {
	j, err := s.Store.GetJob(ctx, tenantID, jobID)
	if access.ErrorCode(err) == access.CodeNotFound {
		return nil
	}
	if err != nil {
		return err
	}
	if j.Status.Final() || j.Done < j.Total {
		return nil
	}
	// Completed only when every item was done; anything not done is an error the requester
	// must see in the status and the notification's title.
	status := access.JobCompleted
	if countNotDone(j.Counts) > 0 {
		status = access.JobCompletedWithErrors
	}
	now := s.Now()
	n := access.Notification{ID: "ntf_" + strings.TrimPrefix(j.ID, "job_"), TenantID: j.TenantID, UserID: j.RequesterID,
		Type: access.NotificationJobCompleted, JobID: j.ID, Title: jobTitle(j, status), Summary: jobSummary(j),
		CreatedAt: now, ExpiresAt: now.Add(s.notificationRetention())}
	after := jobAudit(j)
	after["status"], after["counts"] = status, countsAudit(j.Counts)
	a := s.Audit(nil, "access_job.complete", "access_job", j.ID, nil, after)
	a.TenantID, a.ActorID = j.TenantID, "system"
	err = s.Store.CompleteJob(ctx, j, status, n, access.Meta{Audit: []access.AuditEntry{a}})
	if errors.Is(err, access.ErrJobClosed) {
		return nil
	}
	return err
}

func countsAudit(m map[access.Outcome]int) map[string]any {
	out := map[string]any{}
	for o, n := range m {
		out[string(o)] = n
	}
	return out
}

func jobTitle(j access.Job, st access.JobStatus) string {
	if st == access.JobCompletedWithErrors {
		return fmt.Sprintf("%s: finished with errors, %d of %d items not done", actionWords[j.Action], countNotDone(j.Counts), j.Total)
	}
	return actionWords[j.Action] + ": finished, every item done"
}

// jobSummary says what was and was not done in counts only: no names, nothing personal.
func jobSummary(j access.Job) string {
	var done, notDone []string
	for _, o := range access.Outcomes {
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

func countNotDone(m map[access.Outcome]int) int {
	n := 0
	for o, c := range m {
		if !o.Done() {
			n += c
		}
	}
	return n
}

// earlier is the earlier of two expiries; nil means never.
func earlier(a, b *time.Time) *time.Time {
	switch {
	case a == nil:
		return b
	case b == nil || a.Before(*b):
		return a
	}
	return b
}
