package access

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// The outbox. A write that owes something outside the table — a change of the user's login at
// the identity provider, a domain event — records it as an OutboxEntry in its own transaction
// (Meta.Outbox). After the commit the request applies it and deletes the entry; what fails there
// (the provider is down, the process ends) stays in the table, and SweepOutbox, which the
// anonymiser function runs every few minutes, applies it later. So no remote call runs inside an
// optimistic retry loop, nothing is undone after the fact, and nothing owed is forgotten.
//
// Login effects do not replay the change they were recorded for: they bring the login in line
// with the user as stored when they run (enabled exactly when the user is active, the stored
// email, gone when the user is). That makes them idempotent and independent of order: a
// deactivation and a reactivation whose effects run late, twice or the other way round still end
// with the login the stored user calls for. Deactivation itself takes effect at once either
// way: every request loads its principal, and a user who is not active is refused.

// Effect is the kind of an outbox entry.
type Effect string

// Effects.
const (
	EffectInvite   Effect = "login.invite"        // create the login of a new user
	EffectDisable  Effect = "login.disable"       // the user left the active status
	EffectEnable   Effect = "login.enable"        // the user became active again
	EffectDelete   Effect = "login.delete"        // the user was deleted
	EffectSetEmail Effect = "login.set_email"     // the user's email changed
	EffectPublish  Effect = "event.publish"       // publish Event
	EffectOpen     Effect = "tenant.owner_invite" // invite a new tenant's owner, or roll the tenant back
)

// OutboxEntry is one effect a committed write still owes. It holds ids, never personal data.
type OutboxEntry struct {
	ID       string
	TenantID string // "" for a system entry (the anonymiser's continuation)
	UserID   string
	Effect   Effect
	Event    *Event // for EffectPublish
	Since    time.Time
	// Position is where the entry sits in the cross-tenant index the sweep reads.
	Position string
}

// OutboxStore keeps outbox entries; they are written through Meta.Outbox.
type OutboxStore interface {
	// OutboxAfter returns up to limit entries of every tenant after position ("" = from the
	// oldest), oldest first.
	OutboxAfter(ctx context.Context, position string, limit int) ([]OutboxEntry, error)
	// DeleteOutbox removes an entry that was applied; a missing one is not an error.
	DeleteOutbox(ctx context.Context, e OutboxEntry) error
	// RollBackTenant deletes a tenant that was just opened — the tenant, its owner with their
	// email claim and calendar, its group set — together with the entry e, if e still exists and
	// the tenant is unchanged since it was opened; ErrConflict otherwise.
	RollBackTenant(ctx context.Context, t Tenant, owner User, e OutboxEntry) error
}

// outboxEntry makes an entry of the caller's write.
func (s *Service) outboxEntry(tenantID, userID string, effect Effect) OutboxEntry {
	return OutboxEntry{ID: s.NewID("ob"), TenantID: tenantID, UserID: userID, Effect: effect, Since: s.Now()}
}

// loginEffects are what a change from prev to next owes the user's login. An anonymisation owes
// its own (PendingEffects), so it records none here.
func (s *Service) loginEffects(prev, next User) []OutboxEntry {
	if next.Status == StatusAnonymised {
		return nil
	}
	var out []OutboxEntry
	wasActive, isActive := prev.Status == StatusActive, next.Status == StatusActive
	switch {
	case wasActive && !isActive:
		out = append(out, s.outboxEntry(next.TenantID, next.ID, EffectDisable))
	case !wasActive && isActive:
		out = append(out, s.outboxEntry(next.TenantID, next.ID, EffectEnable))
	}
	if next.Email != "" && prev.Email != next.Email {
		out = append(out, s.outboxEntry(next.TenantID, next.ID, EffectSetEmail))
	}
	return out
}

// applyOutbox applies entries a write just committed, deleting each that succeeded. A failure
// is logged (ids only) and left to the sweep; the write stands.
func (s *Service) applyOutbox(ctx context.Context, entries []OutboxEntry) {
	for _, e := range entries {
		if err := s.applyEntry(ctx, e); err != nil {
			s.logger().WarnContext(ctx, "outbox effect failed; the sweep retries it", "effect", string(e.Effect),
				"tenantId", e.TenantID, "userId", e.UserID, "entry", e.ID, "error", err.Error())
		}
	}
}

// applyEntry carries out one entry and deletes it.
func (s *Service) applyEntry(ctx context.Context, e OutboxEntry) error {
	if err := s.effect(ctx, e); err != nil {
		return err
	}
	return s.Store.DeleteOutbox(ctx, e)
}

// effect carries out an entry's effect; each is idempotent.
func (s *Service) effect(ctx context.Context, e OutboxEntry) error {
	switch e.Effect {
	case EffectPublish:
		if e.Event == nil {
			return nil
		}
		return s.publish(ctx, *e.Event)
	case EffectDelete:
		return wrapIdentity(s.Identity.Delete(ctx, User{ID: e.UserID, TenantID: e.TenantID, Status: StatusAnonymised}))
	case EffectOpen:
		return s.openTenant(ctx, e)
	}
	u, err := s.Store.GetUser(ctx, e.TenantID, e.UserID)
	switch {
	case errors.Is(err, ErrNotFound):
		return nil // deleted since: its own entry deletes the login
	case err != nil:
		return err
	case u.Status == StatusAnonymised:
		return nil // the anonymisation deletes the login
	}
	switch e.Effect {
	case EffectInvite:
		if err := s.Identity.Invite(ctx, u); err != nil {
			return wrapIdentity(err)
		}
		if u.Status != StatusActive {
			return wrapIdentity(s.Identity.Disable(ctx, u))
		}
		return nil
	case EffectDisable, EffectEnable:
		if u.Status == StatusActive {
			return wrapIdentity(s.Identity.Enable(ctx, u))
		}
		return wrapIdentity(s.Identity.Disable(ctx, u))
	case EffectSetEmail:
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
func (s *Service) openTenant(ctx context.Context, e OutboxEntry) error {
	t, err := s.Store.GetTenant(ctx, e.TenantID)
	if errors.Is(err, ErrNotFound) {
		return nil // rolled back already
	}
	if err != nil {
		return err
	}
	owner, err := s.Store.GetUser(ctx, e.TenantID, e.UserID)
	if errors.Is(err, ErrNotFound) {
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

// tenantRolledBack is the error of an opening whose owner could not be invited.
type tenantRolledBack struct{ err error }

func (e *tenantRolledBack) Error() string {
	return "invite owner (the tenant was rolled back): " + e.err.Error()
}
func (e *tenantRolledBack) Unwrap() error { return e.err }

// EventOutboxSweep is the detail type of the frequent scheduled event on which the anonymiser
// function only sweeps the outbox.
const EventOutboxSweep = "Outbox Sweep"

// OutboxSweep is what one SweepOutbox did: counts, never names.
type OutboxSweep struct {
	Applied int
	Pending int
}

// OutboxGrace is how old an entry must be before the sweep takes it: younger ones are still
// being applied by the request that wrote them.
const OutboxGrace = time.Minute

// SweepOutbox applies entries older than OutboxGrace, oldest first, up to max of them (500
// when max <= 0); those that fail again stay for the next sweep.
func (s *Service) SweepOutbox(ctx context.Context, max int) (OutboxSweep, error) {
	if max <= 0 {
		max = 500
	}
	var res OutboxSweep
	horizon := s.Now().Add(-OutboxGrace)
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
			if err := s.applyEntry(ctx, e); err != nil {
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
func (s *Service) PublishOwed(ctx context.Context, e Event) error {
	entry := s.outboxEntry("", "", EffectPublish)
	entry.Event = &e
	if err := s.Store.WriteMeta(ctx, Meta{Outbox: []OutboxEntry{entry}}); err != nil {
		return fmt.Errorf("record %s in the outbox: %w", e.Type, err)
	}
	s.applyOutbox(ctx, []OutboxEntry{entry})
	return nil
}

func (s *Service) logger() *slog.Logger {
	if s.Log == nil {
		return slog.Default()
	}
	return s.Log
}
