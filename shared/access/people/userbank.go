package people

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/tilgang/tilgang/shared/access"
)

func (s *Service) publish(ctx context.Context, e access.Event) error {
	if s.Events == nil {
		return nil
	}
	if err := s.Events.Publish(ctx, e); err != nil {
		return fmt.Errorf("publish %s: %w", e.Type, err)
	}
	return nil
}

// updateUserAndLinks is updateUser for changes that rewrite the user's links in the same
// transaction. mutate returns the link changes to write (none: only the user changes); when it
// leaves the user unchanged nothing is written. A change that anonymises the user records, in
// the same transaction, the side effects it owes (returned, nil when nothing was recorded).
func (s *Service) updateUserAndLinks(ctx context.Context, c *access.Caller, tenantID, id string, ifMatch *int, action string,
	mutate func(u *access.User, links []access.Link) ([]access.LinkChange, error)) (access.User, *access.PendingEffects, error) {
	var out access.User
	var pending *access.PendingEffects
	var owed []access.OutboxEntry
	err := access.Retry(ifMatch, "user", func() error {
		pending, owed = nil, nil
		prev, err := s.Store.GetUser(ctx, tenantID, id)
		if err != nil {
			return err
		}
		if err := access.CheckIfMatch(ifMatch, prev.Version, "user"); err != nil {
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
		if access.EndsClientRoles(prev, next) {
			// The store deletes them with this write; the entry says which they were.
			roles, err := s.Store.ClientRolesOf(ctx, tenantID, id)
			if err != nil {
				return err
			}
			if !roles.Empty() {
				after["clientRolesRemoved"] = roles.Audit()
			}
		}
		entry := s.Audit(c, action, "user", id, before, after)
		if c == nil {
			entry.TenantID, entry.ActorID = tenantID, "system"
		}
		meta := access.Meta{Audit: []access.AuditEntry{entry}}
		if next.Status == access.StatusAnonymised && prev.Status != access.StatusAnonymised {
			meta.Pending = &access.PendingEffects{TenantID: tenantID, UserID: id, DeleteLogin: true, Publish: true, ForgetComments: true, Since: now}
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
func (s *Service) updateUserAndLinksOwing(ctx context.Context, c *access.Caller, id string, ifMatch *int, action string,
	mutate func(u *access.User, links []access.Link) ([]access.LinkChange, error)) (access.User, error) {
	u, _, err := s.updateUserAndLinks(ctx, c, c.TenantID(), id, ifMatch, action, mutate)
	return u, err
}

// RemoveUser puts a user in the user bank: every link is removed in the same transaction, the
// user cannot log in (their tokens are refused from the next request) and is restorable until
// anonymised. Their client administration and consultant programs end with it. Removing a
// removed user again changes nothing. The login is disabled after the write (outbox.go).
func (s *Service) RemoveUser(ctx context.Context, c *access.Caller, id string, ifMatch *int) (access.User, error) {
	return s.updateUserAndLinksOwing(ctx, c, id, ifMatch, "user.remove", func(u *access.User, links []access.Link) ([]access.LinkChange, error) {
		if err := c.RequireBank(access.OpRemoveUser, *u); err != nil {
			return nil, err
		}
		switch u.Status {
		case access.StatusRemoved:
			return nil, nil
		case access.StatusAnonymised:
			return nil, access.Conflict("an anonymised user cannot be removed")
		}
		now := s.Now()
		u.Status, u.RemovedAt = access.StatusRemoved, &now
		var changes []access.LinkChange
		for _, l := range links {
			if l.Status != access.LinkRemoved {
				next := l
				next.Status = access.LinkRemoved
				changes = append(changes, access.LinkChange{Prev: l, Next: next})
			}
		}
		return changes, nil
	})
}

// RestoreUser takes a user out of the user bank as active. Their links stay removed: an
// administrator adds the ones that still apply. The login is enabled after the write, through
// the outbox (outbox.go), which retries it until the provider has it.
func (s *Service) RestoreUser(ctx context.Context, c *access.Caller, id string, ifMatch *int) (access.User, error) {
	return s.updateUserAndLinksOwing(ctx, c, id, ifMatch, "user.restore", func(u *access.User, _ []access.Link) ([]access.LinkChange, error) {
		if err := c.RequireBank(access.OpRemoveUser, *u); err != nil {
			return nil, err
		}
		switch u.Status {
		case access.StatusRemoved:
		case access.StatusAnonymised:
			return nil, access.Conflict("an anonymised user cannot be restored")
		default:
			return nil, access.Conflict("only a removed user can be restored; this one is %s", u.Status)
		}
		u.Status, u.RemovedAt = access.StatusActive, nil
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
func (s *Service) AnonymiseUser(ctx context.Context, c *access.Caller, id string, ifMatch *int) (access.User, error) {
	return s.anonymise(ctx, c, c.TenantID(), id, ifMatch, nil)
}

// anonymise is AnonymiseUser for a caller or, with c nil, for the scheduled run; only (when
// set) decides from the fresh state whether the user is still due.
func (s *Service) anonymise(ctx context.Context, c *access.Caller, tenantID, id string, ifMatch *int, only func(access.User) bool) (access.User, error) {
	u, pending, err := s.updateUserAndLinks(ctx, c, tenantID, id, ifMatch, "user.anonymise", func(u *access.User, links []access.Link) ([]access.LinkChange, error) {
		if only != nil && !only(*u) {
			return nil, errNotDue
		}
		if c != nil {
			if err := c.RequireBank(access.OpAnonymise, *u); err != nil {
				return nil, err
			}
		}
		switch u.Status {
		case access.StatusAnonymised:
			return nil, nil
		case access.StatusRemoved:
		default:
			return nil, access.Conflict("only a user in the user bank can be anonymised; remove the user first (this one is %s)", u.Status)
		}
		u.Status = access.StatusAnonymised
		u.Name, u.Email, u.Phone, u.PictureURL = access.Anonymised, "", "", ""
		u.Roles, u.GroupIDs, u.Legacy, u.CalendarAccess = []access.Role{}, []string{}, nil, nil
		var changes []access.LinkChange
		for _, l := range links {
			next := l
			next.Status, next.EmploymentNumber = access.LinkRemoved, access.Anonymised
			if next != l {
				changes = append(changes, access.LinkChange{Prev: l, Next: next})
			}
		}
		return changes, nil
	})
	if err != nil {
		return access.User{}, err
	}
	if pending == nil {
		// Anonymised before: finish what that attempt may still owe.
		p, err := s.Store.GetPendingEffects(ctx, tenantID, id)
		if errors.Is(err, access.ErrNotFound) {
			return u, nil
		}
		if err != nil {
			return access.User{}, err
		}
		pending = &p
	}
	if err := s.settle(ctx, *pending); err != nil {
		return access.User{}, fmt.Errorf("%w: %w", errEffectsPending, err)
	}
	return u, nil
}

// settle carries out what a marker says is owed and records what is left. Every effect is
// tried even when another fails, and each is idempotent (a missing login counts as deleted,
// consumers accept a repeated event, a removed comment stays removed), so a concurrent or
// repeated settle does no harm.
func (s *Service) settle(ctx context.Context, p access.PendingEffects) error {
	next := p
	var errs []error
	if p.DeleteLogin {
		if err := s.Identity.Delete(ctx, access.User{ID: p.UserID, TenantID: p.TenantID, Status: access.StatusAnonymised}); err != nil {
			errs = append(errs, fmt.Errorf("identity provider: delete the login: %w", err))
		} else {
			next.DeleteLogin = false
		}
	}
	if p.Publish {
		if err := s.publish(ctx, access.Event{Type: access.EventUserAnonymised, Detail: map[string]string{"tenantId": p.TenantID, "userId": p.UserID}}); err != nil {
			errs = append(errs, err)
		} else {
			next.Publish = false
		}
	}
	if p.ForgetComments {
		if err := s.Store.ForgetReviewComments(ctx, p.TenantID, p.UserID); err != nil {
			errs = append(errs, fmt.Errorf("forget review comments: %w", err))
		} else {
			next.ForgetComments = false
		}
	}
	if next != p {
		if err := s.Store.SettlePendingEffects(ctx, next); err != nil {
			errs = append(errs, fmt.Errorf("record the settled effects of user %s: %w", p.UserID, err))
		}
	}
	return errors.Join(errs...)
}

// ListUserBank pages a tenant's removed users.
func (s *Service) ListUserBank(ctx context.Context, c *access.Caller, p access.Page) ([]access.User, string, error) {
	if err := c.Require(access.Request{Op: access.OpReadUserBank}); err != nil {
		return nil, "", err
	}
	p, err := p.Normalize()
	if err != nil {
		return nil, "", err
	}
	return s.Store.ListUsers(ctx, c.TenantID(), access.UserFilter{Statuses: []access.Status{access.StatusRemoved}}, p)
}

// SweepUserBank anonymises removed users whose tenant's anonymisation period has passed,
// oldest removal first, and stops after MaxUsers entries or at the deadline, returning where a
// follow-up invocation continues. Every step re-reads the user and writes conditionally, so a
// repeated or overlapping run changes nothing that is already done.
func (s *Service) SweepUserBank(ctx context.Context, o access.SweepOptions) (access.SweepResult, error) {
	if o.MaxUsers <= 0 {
		o.MaxUsers = 500
	}
	if o.Parallel <= 0 {
		o.Parallel = 8
	}
	now := s.Now()
	horizon := now.Add(-minAnonymiseDays * 24 * time.Hour)
	var res access.SweepResult
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
		var due []access.BankEntry
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
				case errors.Is(err, access.ErrNotFound):
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
func (s *Service) settlePending(ctx context.Context, o access.SweepOptions, res *access.SweepResult) error {
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
		parallel(markers, o.Parallel, func(p access.PendingEffects) {
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
func (s *Service) anonymiseAll(ctx context.Context, due []access.BankEntry, res access.SweepResult, n int) (access.SweepResult, error) {
	var mu sync.Mutex
	parallel(due, n, func(e access.BankEntry) {
		// Decide again on the fresh user: restored or already anonymised users are skipped.
		still := func(u access.User) bool {
			return u.Status == access.StatusRemoved && u.RemovedAt != nil && u.RemovedAt.Equal(e.RemovedAt)
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
		case errors.Is(err, errNotDue) || errors.Is(err, access.ErrNotFound):
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
