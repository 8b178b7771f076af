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

// requireAdminOrAbove: removing and restoring users needs admin, main_admin or the owner.
func (c *Caller) requireAdminOrAbove(what string) error {
	if c.User.IsOwner || c.User.HasRole(RoleAdmin) || c.User.HasRole(RoleMainAdmin) {
		return nil
	}
	return Forbidden("%s needs the admin or main_admin role", what)
}

// requireMainAdmin: anonymising needs main_admin or the owner.
func (c *Caller) requireMainAdmin(what string) error {
	if c.User.IsOwner || c.User.HasRole(RoleMainAdmin) {
		return nil
	}
	return Forbidden("%s needs the main_admin role or the account owner", what)
}

// requireBankTarget: nobody acts on themselves or the owner, and only a main administrator or
// the owner acts on an administrator (the same rule as for administrators' roles).
func (c *Caller) requireBankTarget(u User) error {
	if u.IsOwner {
		return Conflict("the account owner cannot be removed or anonymised; transfer ownership first")
	}
	if u.ID == c.User.ID {
		return Conflict("you cannot remove, restore or anonymise yourself")
	}
	if (u.HasRole(RoleAdmin) || u.HasRole(RoleMainAdmin)) && !c.User.IsOwner && !c.User.HasRole(RoleMainAdmin) {
		return Forbidden("only a main administrator or the account owner acts on an administrator")
	}
	return nil
}

// updateUserAndLinks is updateUser for changes that rewrite the user's links in the same
// transaction. mutate returns the link changes to write (none: only the user changes); when it
// leaves the user unchanged nothing is written.
func (s *Service) updateUserAndLinks(ctx context.Context, c *Caller, tenantID, id string, ifMatch *int, action string,
	mutate func(u *User, links []Link) ([]LinkChange, error)) (User, bool, error) {
	var out User
	var wrote bool
	err := retry(ifMatch, "user", func() error {
		wrote = false
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
		entry := s.audit(c, action, "user", id, before, after)
		if c == nil {
			entry.TenantID, entry.ActorID = tenantID, "system"
		}
		if err := s.Store.UpdateUserWithLinks(ctx, prev, next, changes, Meta{Audit: []AuditEntry{entry}}); err != nil {
			return err
		}
		out, wrote = next, true
		return nil
	})
	return out, wrote, err
}

// RemoveUser puts a user in the user bank: every link is removed in the same transaction, the
// user cannot log in (their tokens are refused from the next request) and is restorable until
// anonymised. Removing a removed user again changes nothing.
func (s *Service) RemoveUser(ctx context.Context, c *Caller, id string, ifMatch *int) (User, error) {
	if err := c.requireAdminOrAbove("removing a user"); err != nil {
		return User{}, err
	}
	var disabled bool
	u, _, err := s.updateUserAndLinks(ctx, c, c.TenantID(), id, ifMatch, "user.remove", func(u *User, links []Link) ([]LinkChange, error) {
		if err := c.requireBankTarget(*u); err != nil {
			return nil, err
		}
		switch u.Status {
		case StatusRemoved:
			return nil, nil
		case StatusAnonymised:
			return nil, Conflict("an anonymised user cannot be removed")
		}
		if !disabled {
			if err := s.Identity.Disable(ctx, *u); err != nil {
				return nil, fmt.Errorf("identity provider: %w", err)
			}
			disabled = true
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
	if err != nil && disabled {
		// The write failed after the login was disabled: give an active user their login back.
		if prev, gerr := s.Store.GetUser(ctx, c.TenantID(), id); gerr == nil && prev.Status == StatusActive {
			err = errors.Join(err, s.Identity.Enable(ctx, prev))
		}
	}
	return u, err
}

// RestoreUser takes a user out of the user bank as active. Their links stay removed: an
// administrator adds the ones that still apply.
func (s *Service) RestoreUser(ctx context.Context, c *Caller, id string, ifMatch *int) (User, error) {
	if err := c.requireAdminOrAbove("restoring a user"); err != nil {
		return User{}, err
	}
	u, wrote, err := s.updateUserAndLinks(ctx, c, c.TenantID(), id, ifMatch, "user.restore", func(u *User, _ []Link) ([]LinkChange, error) {
		if err := c.requireBankTarget(*u); err != nil {
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
	if err != nil || !wrote {
		return u, err
	}
	if err := s.Identity.Enable(ctx, u); err != nil {
		return User{}, fmt.Errorf("identity provider: %w", err)
	}
	return u, nil
}

// AnonymiseUser forgets a person for good ("right to be forgotten"): name and employment
// numbers become ***, email, phone and picture are cleared, the email and employment number
// claims are deleted (both can be used again), every link is removed, the login is deleted and
// "user.anonymised" is published so other systems anonymise their copies. Anonymising again
// writes nothing but repeats the login deletion and the event, so a failed first attempt can
// simply be retried.
func (s *Service) AnonymiseUser(ctx context.Context, c *Caller, id string, ifMatch *int) (User, error) {
	if err := c.requireMainAdmin("anonymising a user"); err != nil {
		return User{}, err
	}
	return s.anonymise(ctx, c, c.TenantID(), id, ifMatch, nil)
}

// errNotDue is how the scheduled run skips a user whose state changed since the index said due.
var errNotDue = errors.New("no longer due for anonymisation")

// anonymise is AnonymiseUser for a caller or, with c nil, for the scheduled run; only (when
// set) decides from the fresh state whether the user is still due.
func (s *Service) anonymise(ctx context.Context, c *Caller, tenantID, id string, ifMatch *int, only func(User) bool) (User, error) {
	u, _, err := s.updateUserAndLinks(ctx, c, tenantID, id, ifMatch, "user.anonymise", func(u *User, links []Link) ([]LinkChange, error) {
		if only != nil && !only(*u) {
			return nil, errNotDue
		}
		if c != nil {
			if err := c.requireBankTarget(*u); err != nil {
				return nil, err
			}
		}
		if u.Status == StatusAnonymised {
			return nil, nil
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
	if err := s.Identity.Delete(ctx, u); err != nil {
		return User{}, fmt.Errorf("identity provider: %w", err)
	}
	if err := s.publish(ctx, Event{Type: EventUserAnonymised, Detail: map[string]string{"tenantId": tenantID, "userId": id}}); err != nil {
		return User{}, err
	}
	return u, nil
}

// ListUserBank pages a tenant's removed users.
func (s *Service) ListUserBank(ctx context.Context, c *Caller, p Page) ([]User, string, error) {
	if !c.User.IsOwner && !c.Can(AreaUsers, LevelView) && !c.User.hasAdministrativeRole() {
		return nil, "", Forbidden("reading the user bank needs view on users or an administrative role")
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

// UserBankStore reads the cross-tenant user bank index the scheduled anonymisation sweeps.
type UserBankStore interface {
	// UserBankAfter returns up to limit removed users after position ("" = from the oldest),
	// in order of removal time.
	UserBankAfter(ctx context.Context, position string, limit int) ([]BankEntry, error)
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

// anonymiseAll anonymises due users, a few at a time; a user who fails is counted and left
// for the next run.
func (s *Service) anonymiseAll(ctx context.Context, due []BankEntry, res SweepResult, parallel int) (SweepResult, error) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, parallel)
	for _, e := range due {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
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
			case errors.Is(err, errNotDue) || errors.Is(err, ErrNotFound):
				res.NotDue++
			default:
				res.Failed++
			}
		}()
	}
	wg.Wait()
	return res, ctx.Err()
}
