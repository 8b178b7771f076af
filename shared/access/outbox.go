package access

import (
	"context"
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
