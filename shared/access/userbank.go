package access

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
)

// Event is a domain event other systems react to (schedules and time reports anonymise their
// own copies on "user.anonymised"). Detail holds ids only, never personal data.
type Event struct {
	Type   string
	Detail map[string]string
}

// Event types.
const (
	EventUserAnonymised = "user.anonymised"
	// EventAnonymiserContinue asks the anonymiser to go on from a cursor in a new invocation.
	EventAnonymiserContinue = "anonymiser.continue"
)

// Publisher sends domain events (EventBridge in AWS, an SQS queue locally). Deliveries are
// at-least-once, so consumers must treat a repeated event as harmless.
type Publisher interface {
	Publish(ctx context.Context, e Event) error
}

// NoPublisher drops events; for processes that publish nothing.
type NoPublisher struct{}

// Publish does nothing.
func (NoPublisher) Publish(context.Context, Event) error { return nil }

func (s *Service) publish(ctx context.Context, e Event) error {
	if s.Events == nil {
		return nil
	}
	if err := s.Events.Publish(ctx, e); err != nil {
		return fmt.Errorf("publish %s: %w", e.Type, err)
	}
	return nil
}

// requireBank asks the policy whether the caller may do op (OpRemoveUser for removing and
// restoring, OpAnonymise) to u: nobody acts on themselves or the owner, and only holders of
// manage_admins act on an administrator.
func (c *Caller) requireBank(op Op, u User) error { return c.require(Request{Op: op, Target: &u}) }

// updateUserAndLinks is updateUser for changes that rewrite the user's links in the same
// transaction. mutate returns the link changes to write (none: only the user changes); when it
// leaves the user unchanged nothing is written. A change that anonymises the user records, in
// the same transaction, the side effects it owes (returned, nil when nothing was recorded).
func (s *Service) updateUserAndLinks(ctx context.Context, c *Caller, tenantID, id string, ifMatch *int, action string,
	mutate func(u *User, links []Link) ([]LinkChange, error)) (User, *PendingEffects, error) {
	var out User
	var pending *PendingEffects
	var owed []OutboxEntry
	err := retry(ifMatch, "user", func() error {
		pending, owed = nil, nil
		prev, err := s.Store.GetUser(ctx, tenantID, id)
		if err != nil {
			return err
		}
		if err := checkIfMatch(ifMatch, prev.Version, "user"); err != nil {
			return err
		}
		links, err := s.Store.AllUserLinks(ctx, tenantID, id)
		if err != nil {
			return err
		}
		next := prev
		next.GroupIDs, next.Roles = slices.Clone(prev.GroupIDs), slices.Clone(prev.Roles)
		next.CalendarIDs = slices.Clone(prev.CalendarIDs)
		changes, err := mutate(&next, links)
		if err != nil {
			return err
		}
		if next.Status == prev.Status && len(changes) == 0 {
			out = prev
			return nil
		}
		now := s.Now()
		next.Version, next.UpdatedAt = prev.Version+1, now
		for i := range changes {
			changes[i].Next.Version, changes[i].Next.UpdatedAt = changes[i].Prev.Version+1, now
		}
		before, after := userAudit(prev), userAudit(next)
		if changed := personalChanges(prev, next); len(changed) > 0 {
			after["changedPersonalFields"] = changed
		}
		if len(changes) > 0 {
			ids := make([]string, 0, len(changes))
			for _, ch := range changes {
				ids = append(ids, ch.Next.ClientID)
			}
			after["linksChanged"] = ids
		}
		if EndsClientRoles(prev, next) {
			// The store deletes them with this write; the entry says which they were.
			roles, err := s.Store.ClientRolesOf(ctx, tenantID, id)
			if err != nil {
				return err
			}
			if !roles.Empty() {
				after["clientRolesRemoved"] = roles.audit()
			}
		}
		entry := s.audit(c, action, "user", id, before, after)
		if c == nil {
			entry.TenantID, entry.ActorID = tenantID, "system"
		}
		meta := Meta{Audit: []AuditEntry{entry}}
		if next.Status == StatusAnonymised && prev.Status != StatusAnonymised {
			meta.Pending = &PendingEffects{TenantID: tenantID, UserID: id, DeleteLogin: true, Publish: true, Since: now}
		}
		meta.Outbox = s.loginEffects(prev, next)
		if err := s.Store.UpdateUserWithLinks(ctx, prev, next, changes, meta); err != nil {
			return err
		}
		out, pending, owed = next, meta.Pending, meta.Outbox
		return nil
	})
	if err == nil {
		s.applyOutbox(ctx, owed)
	}
	return out, pending, err
}

// updateUserAndLinksOwing is updateUserAndLinks for a caller's change that owes no anonymisation
// effects (remove, restore): the login follows through the outbox.
func (s *Service) updateUserAndLinksOwing(ctx context.Context, c *Caller, id string, ifMatch *int, action string,
	mutate func(u *User, links []Link) ([]LinkChange, error)) (User, error) {
	u, _, err := s.updateUserAndLinks(ctx, c, c.TenantID(), id, ifMatch, action, mutate)
	return u, err
}

// RemoveUser puts a user in the user bank: every link is removed in the same transaction, the
// user cannot log in (their tokens are refused from the next request) and is restorable until
// anonymised. Their client administration and consultant programs end with it. Removing a
// removed user again changes nothing. The login is disabled after the write (outbox.go).
func (s *Service) RemoveUser(ctx context.Context, c *Caller, id string, ifMatch *int) (User, error) {
	return s.updateUserAndLinksOwing(ctx, c, id, ifMatch, "user.remove", func(u *User, links []Link) ([]LinkChange, error) {
		if err := c.requireBank(OpRemoveUser, *u); err != nil {
			return nil, err
		}
		switch u.Status {
		case StatusRemoved:
			return nil, nil
		case StatusAnonymised:
			return nil, Conflict("an anonymised user cannot be removed")
		}
		now := s.Now()
		u.Status, u.RemovedAt = StatusRemoved, &now
		var changes []LinkChange
		for _, l := range links {
			if l.Status != LinkRemoved {
				next := l
				next.Status = LinkRemoved
				changes = append(changes, LinkChange{Prev: l, Next: next})
			}
		}
		return changes, nil
	})
}

// RestoreUser takes a user out of the user bank as active. Their links stay removed: an
// administrator adds the ones that still apply. The login is enabled after the write, through
// the outbox (outbox.go), which retries it until the provider has it.
func (s *Service) RestoreUser(ctx context.Context, c *Caller, id string, ifMatch *int) (User, error) {
	return s.updateUserAndLinksOwing(ctx, c, id, ifMatch, "user.restore", func(u *User, _ []Link) ([]LinkChange, error) {
		if err := c.requireBank(OpRemoveUser, *u); err != nil {
			return nil, err
		}
		switch u.Status {
		case StatusRemoved:
		case StatusAnonymised:
			return nil, Conflict("an anonymised user cannot be restored")
		default:
			return nil, Conflict("only a removed user can be restored; this one is %s", u.Status)
		}
		u.Status, u.RemovedAt = StatusActive, nil
		return nil, nil
	})
}

// AnonymiseUser forgets a person for good ("right to be forgotten"): name and employment
// numbers become ***, email, phone and picture are cleared, the email and employment number
// claims are deleted (both can be used again), every link is removed, the login is deleted and
// "user.anonymised" is published so other systems anonymise their copies. Only a user in the
// user bank can be anonymised (seed 003: "Användare > Användarbanken > Radera"). Anonymising
// again writes nothing and finishes whatever the first attempt still owes (the login deletion,
// the event); when nothing is owed it does nothing.
func (s *Service) AnonymiseUser(ctx context.Context, c *Caller, id string, ifMatch *int) (User, error) {
	return s.anonymise(ctx, c, c.TenantID(), id, ifMatch, nil)
}

// errNotDue is how the scheduled run skips a user whose state changed since the index said due.
var errNotDue = errors.New("no longer due for anonymisation")

// errEffectsPending marks an anonymisation that is written but whose login deletion or event
// failed; its marker stays for the sweep and a repeated request to finish.
var errEffectsPending = errors.New("the user is anonymised, but deleting the login or publishing the event is still pending")

// anonymise is AnonymiseUser for a caller or, with c nil, for the scheduled run; only (when
// set) decides from the fresh state whether the user is still due.
func (s *Service) anonymise(ctx context.Context, c *Caller, tenantID, id string, ifMatch *int, only func(User) bool) (User, error) {
	u, pending, err := s.updateUserAndLinks(ctx, c, tenantID, id, ifMatch, "user.anonymise", func(u *User, links []Link) ([]LinkChange, error) {
		if only != nil && !only(*u) {
			return nil, errNotDue
		}
		if c != nil {
			if err := c.requireBank(OpAnonymise, *u); err != nil {
				return nil, err
			}
		}
		switch u.Status {
		case StatusAnonymised:
			return nil, nil
		case StatusRemoved:
		default:
			return nil, Conflict("only a user in the user bank can be anonymised; remove the user first (this one is %s)", u.Status)
		}
		u.Status = StatusAnonymised
		u.Name, u.Email, u.Phone, u.PictureURL = Anonymised, "", "", ""
		u.Roles, u.GroupIDs, u.Legacy, u.CalendarAccess = []Role{}, []string{}, nil, nil
		var changes []LinkChange
		for _, l := range links {
			next := l
			next.Status, next.EmploymentNumber = LinkRemoved, Anonymised
			if next != l {
				changes = append(changes, LinkChange{Prev: l, Next: next})
			}
		}
		return changes, nil
	})
	if err != nil {
		return User{}, err
	}
	if pending == nil {
		// Anonymised before: finish what that attempt may still owe.
		p, err := s.Store.GetPendingEffects(ctx, tenantID, id)
		if errors.Is(err, ErrNotFound) {
			return u, nil
		}
		if err != nil {
			return User{}, err
		}
		pending = &p
	}
	if err := s.settle(ctx, *pending); err != nil {
		return User{}, fmt.Errorf("%w: %w", errEffectsPending, err)
	}
	return u, nil
}

// PendingEffects are the side effects of an anonymisation outside the table that have not
// happened yet: deleting the login and publishing "user.anonymised". The marker is written in
// the anonymisation's own transaction and deleted once both have succeeded, so a failing
// identity provider or event bus, or a crash between the write and the calls, leaves it for the
// sweep and a repeated POST /anonymise to finish. It holds ids only.
type PendingEffects struct {
	TenantID    string
	UserID      string
	DeleteLogin bool
	Publish     bool
	// Since is when the anonymisation was written; the sweep settles the oldest first.
	Since time.Time
	// Position is where the marker sits in the cross-tenant index of pending effects.
	Position string
}

// Done reports whether nothing is owed any more.
func (p PendingEffects) Done() bool { return !p.DeleteLogin && !p.Publish }

// settle carries out what a marker says is owed and records what is left. Both effects are
// tried even when one fails, and both are idempotent (a missing login counts as deleted, and
// consumers accept a repeated event), so a concurrent or repeated settle does no harm.
func (s *Service) settle(ctx context.Context, p PendingEffects) error {
	next := p
	var errs []error
	if p.DeleteLogin {
		if err := s.Identity.Delete(ctx, User{ID: p.UserID, TenantID: p.TenantID, Status: StatusAnonymised}); err != nil {
			errs = append(errs, fmt.Errorf("identity provider: delete the login: %w", err))
		} else {
			next.DeleteLogin = false
		}
	}
	if p.Publish {
		if err := s.publish(ctx, Event{Type: EventUserAnonymised, Detail: map[string]string{"tenantId": p.TenantID, "userId": p.UserID}}); err != nil {
			errs = append(errs, err)
		} else {
			next.Publish = false
		}
	}
	if next != p {
		if err := s.Store.SettlePendingEffects(ctx, next); err != nil {
			errs = append(errs, fmt.Errorf("record the settled effects of user %s: %w", p.UserID, err))
		}
	}
	return errors.Join(errs...)
}

// ClientRoles are what a user holds per client besides access: client administration and
// consultant programs (seed 004), as client ids.
type ClientRoles struct {
	AdminOf    []string
	ProgramsAt []string
}

// Empty reports whether the user holds none.
func (r ClientRoles) Empty() bool { return len(r.AdminOf) == 0 && len(r.ProgramsAt) == 0 }

func (r ClientRoles) audit() map[string]any {
	return map[string]any{"clientAdminOf": nonNil(r.AdminOf), "programsAt": nonNil(r.ProgramsAt)}
}

// EndsClientRoles is the rule, shared by the domain and the store, for when a user's change of
// status ends their client roles: every change into or out of the user bank or into
// anonymisation. A removed user keeps no client administration, so a restored one does not
// silently get it back; the change out of the bank is included so that roles a failed
// follow-up deletion left behind still go before the user is active again.
func EndsClientRoles(prev, next User) bool {
	if prev.Status == next.Status {
		return false
	}
	gone := func(st Status) bool { return st == StatusRemoved || st == StatusAnonymised }
	return gone(prev.Status) || gone(next.Status)
}

// ListUserBank pages a tenant's removed users.
func (s *Service) ListUserBank(ctx context.Context, c *Caller, p Page) ([]User, string, error) {
	if err := c.require(Request{Op: OpReadUserBank}); err != nil {
		return nil, "", err
	}
	p, err := p.Normalize()
	if err != nil {
		return nil, "", err
	}
	return s.Store.ListUsers(ctx, c.TenantID(), UserFilter{Statuses: []Status{StatusRemoved}}, p)
}

// BankEntry is a removed user in the cross-tenant user bank index, oldest removal first.
type BankEntry struct {
	TenantID  string
	UserID    string
	RemovedAt time.Time
	// Position is where the entry sits in the index; a sweep continues after it.
	Position string
}

// UserBankStore reads the cross-tenant indexes the scheduled anonymisation sweeps, and what
// the user lifecycle ends with a user.
type UserBankStore interface {
	// UserBankAfter returns up to limit removed users after position ("" = from the oldest),
	// in order of removal time.
	UserBankAfter(ctx context.Context, position string, limit int) ([]BankEntry, error)
	// GetPendingEffects returns what a user's anonymisation still owes; ErrNotFound if nothing.
	GetPendingEffects(ctx context.Context, tenantID, userID string) (PendingEffects, error)
	// PendingEffectsAfter returns up to limit markers of every tenant after position ("" = from
	// the oldest), oldest first.
	PendingEffectsAfter(ctx context.Context, position string, limit int) ([]PendingEffects, error)
	// SettlePendingEffects records that only next is still owed, deleting the marker when
	// nothing is. A marker that is already gone stays gone (another run settled it).
	SettlePendingEffects(ctx context.Context, next PendingEffects) error
	// ClientRolesOf lists the clients a user administers and holds consultant programs at.
	ClientRolesOf(ctx context.Context, tenantID, userID string) (ClientRoles, error)
}

// SweepOptions bound one scheduled invocation.
type SweepOptions struct {
	// After continues a previous invocation ("" = from the oldest removal).
	After string
	// MaxUsers bounds how many user bank entries one invocation handles.
	MaxUsers int
	// Deadline is when the invocation must have stopped (the Lambda deadline minus a margin);
	// zero means no deadline.
	Deadline time.Time
	// Parallel is how many users are anonymised at once.
	Parallel int
}

// SweepResult counts what one invocation did; it never names anyone.
type SweepResult struct {
	Scanned    int
	Anonymised int
	NotDue     int
	Failed     int
	// Settled counts earlier anonymisations whose login deletion and event are now done;
	// StillPending those (earlier or of this run) that still owe one of them.
	Settled      int
	StillPending int
	// Next is where a follow-up invocation continues; "" when the sweep reached the end.
	Next string
}

// minAnonymiseDays is the shortest period a tenant can set (0 means never), so users removed
// less than a day ago are never due and the sweep stops there.
const minAnonymiseDays = 1

// SweepUserBank anonymises removed users whose tenant's anonymisation period has passed,
// oldest removal first, and stops after MaxUsers entries or at the deadline, returning where a
// follow-up invocation continues. Every step re-reads the user and writes conditionally, so a
// repeated or overlapping run changes nothing that is already done.
func (s *Service) SweepUserBank(ctx context.Context, o SweepOptions) (SweepResult, error) {
	if o.MaxUsers <= 0 {
		o.MaxUsers = 500
	}
	if o.Parallel <= 0 {
		o.Parallel = 8
	}
	now := s.Now()
	horizon := now.Add(-minAnonymiseDays * 24 * time.Hour)
	var res SweepResult
	if o.After == "" {
		// A new sweep first finishes what earlier anonymisations still owe.
		if err := s.settlePending(ctx, o, &res); err != nil {
			return res, err
		}
	}
	periods := map[string]int{}
	pos := o.After
	for res.Scanned < o.MaxUsers {
		if !o.Deadline.IsZero() && time.Now().After(o.Deadline) {
			res.Next = pos
			return res, nil
		}
		entries, err := s.Store.UserBankAfter(ctx, pos, min(100, o.MaxUsers-res.Scanned))
		if err != nil {
			return res, err
		}
		if len(entries) == 0 {
			return res, nil
		}
		var due []BankEntry
		for _, e := range entries {
			if e.RemovedAt.After(horizon) {
				// Everything from here on was removed too recently for any tenant.
				res, err = s.anonymiseAll(ctx, due, res, o.Parallel)
				return res, err
			}
			res.Scanned++
			pos = e.Position
			days, ok := periods[e.TenantID]
			if !ok {
				t, err := s.Store.GetTenant(ctx, e.TenantID)
				switch {
				case errors.Is(err, ErrNotFound):
					days = 0
				case err != nil:
					return res, err
				default:
					days = t.Settings.AnonymiseAfterDays
				}
				periods[e.TenantID] = days
			}
			if days <= 0 || e.RemovedAt.After(now.Add(-time.Duration(days)*24*time.Hour)) {
				res.NotDue++
				continue
			}
			due = append(due, e)
		}
		if res, err = s.anonymiseAll(ctx, due, res, o.Parallel); err != nil {
			return res, err
		}
	}
	res.Next = pos
	return res, nil
}

// settlePending settles up to MaxUsers pending markers, oldest first; those that fail again
// stay for the next sweep.
func (s *Service) settlePending(ctx context.Context, o SweepOptions, res *SweepResult) error {
	pos := ""
	for seen := 0; seen < o.MaxUsers; {
		if !o.Deadline.IsZero() && time.Now().After(o.Deadline) {
			return nil
		}
		limit := min(100, o.MaxUsers-seen)
		markers, err := s.Store.PendingEffectsAfter(ctx, pos, limit)
		if err != nil {
			return err
		}
		if len(markers) == 0 {
			return nil
		}
		seen += len(markers)
		pos = markers[len(markers)-1].Position
		var mu sync.Mutex
		parallel(markers, o.Parallel, func(p PendingEffects) {
			err := s.settle(ctx, p)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				res.StillPending++
			} else {
				res.Settled++
			}
		})
		if err := ctx.Err(); err != nil {
			return err
		}
		if len(markers) < limit {
			return nil
		}
	}
	return nil
}

// anonymiseAll anonymises due users, a few at a time; a user who fails is counted and left
// for the next run.
func (s *Service) anonymiseAll(ctx context.Context, due []BankEntry, res SweepResult, n int) (SweepResult, error) {
	var mu sync.Mutex
	parallel(due, n, func(e BankEntry) {
		// Decide again on the fresh user: restored or already anonymised users are skipped.
		still := func(u User) bool {
			return u.Status == StatusRemoved && u.RemovedAt != nil && u.RemovedAt.Equal(e.RemovedAt)
		}
		_, err := s.anonymise(ctx, nil, e.TenantID, e.UserID, nil, still)
		mu.Lock()
		defer mu.Unlock()
		switch {
		case err == nil:
			res.Anonymised++
		case errors.Is(err, errEffectsPending):
			res.Anonymised++
			res.StillPending++
		case errors.Is(err, errNotDue) || errors.Is(err, ErrNotFound):
			res.NotDue++
		default:
			res.Failed++
		}
	})
	return res, ctx.Err()
}

// parallel runs fn on every item, at most n at a time, and waits for all of them.
func parallel[T any](items []T, n int, fn func(T)) {
	if n <= 0 {
		n = 1
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, n)
	for _, it := range items {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			fn(it)
		}()
	}
	wg.Wait()
}
