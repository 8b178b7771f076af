package people

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/tilgang/tilgang/shared/access"
)

// outboxEntry makes an entry of the caller's write.
func (s *Service) outboxEntry(tenantID, userID string, effect access.Effect) access.OutboxEntry {
	return access.OutboxEntry{ID: s.NewID("ob"), TenantID: tenantID, UserID: userID, Effect: effect, Since: s.Now()}
}

// loginEffects are what a change from prev to next owes the user's login. An anonymisation owes
// its own (PendingEffects), so it records none here.
func (s *Service) loginEffects(prev, next access.User) []access.OutboxEntry {
	if next.Status == access.StatusAnonymised {
		return nil
	}
	var out []access.OutboxEntry
	wasActive, isActive := prev.Status == access.StatusActive, next.Status == access.StatusActive
	switch {
	case wasActive && !isActive:
		out = append(out, s.outboxEntry(next.TenantID, next.ID, access.EffectDisable))
	case !wasActive && isActive:
		out = append(out, s.outboxEntry(next.TenantID, next.ID, access.EffectEnable))
	}
	if next.Email != "" && prev.Email != next.Email {
		out = append(out, s.outboxEntry(next.TenantID, next.ID, access.EffectSetEmail))
	}
	return out
}

// applyOutbox applies entries a write just committed, deleting each that succeeded. A failure
// is logged (ids only) and left to the sweep; the write stands.
func (s *Service) applyOutbox(ctx context.Context, entries []access.OutboxEntry) {
	for _, e := range entries {
		if err := s.applyEntry(ctx, e); err != nil {
			s.logger().WarnContext(ctx, "outbox effect failed; the sweep retries it", "effect", string(e.Effect),
				"tenantId", e.TenantID, "userId", e.UserID, "entry", e.ID, "error", err.Error())
		}
	}
}

// applyEntry carries out one entry of a request's own write (a login effect or an event) and
// deletes it.
func (s *Service) applyEntry(ctx context.Context, e access.OutboxEntry) error {
	if err := s.effect(ctx, e); err != nil {
		return err
	}
	return s.Store.DeleteOutbox(ctx, e)
}

// applyAny is applyEntry for any entry, a tenant's opening included: for CreateTenant, which
// writes that entry, and for the sweep. Only they reach openTenant, so a function that does
// neither does not link the tenant's roll-back (nor, with it, the email normalisation tables):
// see README, "Binary sizes".
func (s *Service) applyAny(ctx context.Context, e access.OutboxEntry) error {
	if e.Effect != access.EffectOpen {
		return s.applyEntry(ctx, e)
	}
	if err := s.openTenant(ctx, e); err != nil {
		return err
	}
	return s.Store.DeleteOutbox(ctx, e)
}

// effect carries out an entry's effect; each is idempotent.
func (s *Service) effect(ctx context.Context, e access.OutboxEntry) error {
	switch e.Effect {
	case access.EffectPublish:
		if e.Event == nil {
			return nil
		}
		return s.publish(ctx, *e.Event)
	case access.EffectDelete:
		return wrapIdentity(s.Identity.Delete(ctx, access.User{ID: e.UserID, TenantID: e.TenantID, Status: access.StatusAnonymised}))
	case access.EffectOpen:
		return fmt.Errorf("outbox entry %s: a tenant's opening is applied by CreateTenant and the sweep (applyAny)", e.ID)
	}
	u, err := s.Store.GetUser(ctx, e.TenantID, e.UserID)
	switch {
	case errors.Is(err, access.ErrNotFound):
		return nil // deleted since: its own entry deletes the login
	case err != nil:
		return err
	case u.Status == access.StatusAnonymised:
		return nil // the anonymisation deletes the login
	}
	switch e.Effect {
	case access.EffectInvite:
		if err := s.Identity.Invite(ctx, u); err != nil {
			return wrapIdentity(err)
		}
		if u.Status != access.StatusActive {
			return wrapIdentity(s.Identity.Disable(ctx, u))
		}
		return nil
	case access.EffectDisable, access.EffectEnable:
		if u.Status == access.StatusActive {
			return wrapIdentity(s.Identity.Enable(ctx, u))
		}
		return wrapIdentity(s.Identity.Disable(ctx, u))
	case access.EffectSetEmail:
		if u.Email == "" {
			return nil
		}
		return wrapIdentity(s.Identity.UpdateEmail(ctx, u))
	}
	return fmt.Errorf("outbox entry %s: unknown effect %q", e.ID, e.Effect)
}

func wrapIdentity(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("identity provider: %w", err)
}

// openTenant invites a new tenant's owner; if that fails the tenant is rolled back, so that a
// sign-up never leaves an account nobody can sign in to (and its email claimed).
func (s *Service) openTenant(ctx context.Context, e access.OutboxEntry) error {
	t, err := s.Store.GetTenant(ctx, e.TenantID)
	if errors.Is(err, access.ErrNotFound) {
		return nil // rolled back already
	}
	if err != nil {
		return err
	}
	owner, err := s.Store.GetUser(ctx, e.TenantID, e.UserID)
	if errors.Is(err, access.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	ierr := s.Identity.Invite(ctx, owner)
	if ierr == nil {
		return nil
	}
	if rerr := s.Store.RollBackTenant(ctx, t, owner, e); rerr != nil {
		return errors.Join(fmt.Errorf("invite owner: %w", ierr), fmt.Errorf("roll back the tenant: %w", rerr))
	}
	// The login may have been half made: a missing one is no error to delete.
	_ = s.Identity.Delete(ctx, owner)
	return &tenantRolledBack{err: ierr}
}

// SweepOutbox applies entries older than OutboxGrace, oldest first, up to max of them (500
// when max <= 0); those that fail again stay for the next sweep.
func (s *Service) SweepOutbox(ctx context.Context, max int) (access.OutboxSweep, error) {
	if max <= 0 {
		max = 500
	}
	var res access.OutboxSweep
	horizon := s.Now().Add(-access.OutboxGrace)
	pos := ""
	for seen := 0; seen < max; {
		entries, err := s.Store.OutboxAfter(ctx, pos, min(100, max-seen))
		if err != nil {
			return res, err
		}
		if len(entries) == 0 {
			return res, nil
		}
		for _, e := range entries {
			if e.Since.After(horizon) {
				return res, nil
			}
			seen++
			pos = e.Position
			if err := s.applyAny(ctx, e); err != nil {
				var rb *tenantRolledBack
				if errors.As(err, &rb) {
					res.Applied++ // the tenant is rolled back: nothing is owed any more
					continue
				}
				res.Pending++
				s.logger().WarnContext(ctx, "outbox effect failed again", "effect", string(e.Effect), "tenantId", e.TenantID,
					"userId", e.UserID, "entry", e.ID, "error", err.Error())
				continue
			}
			res.Applied++
		}
		if err := ctx.Err(); err != nil {
			return res, err
		}
	}
	return res, nil
}

// PublishOwed publishes a system event through the outbox: the entry is written first, then
// published and deleted; if publishing fails the entry stays for the sweep and nil is returned,
// since the event is no longer lost. An error means the entry could not even be written.
func (s *Service) PublishOwed(ctx context.Context, e access.Event) error {
	entry := s.outboxEntry("", "", access.EffectPublish)
	entry.Event = &e
	if err := s.Store.WriteMeta(ctx, access.Meta{Outbox: []access.OutboxEntry{entry}}); err != nil {
		return fmt.Errorf("record %s in the outbox: %w", e.Type, err)
	}
	s.applyOutbox(ctx, []access.OutboxEntry{entry})
	return nil
}

func (s *Service) logger() *slog.Logger {
	if s.Log == nil {
		return slog.Default()
	}
	return s.Log
}
