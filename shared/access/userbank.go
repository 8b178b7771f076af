package access

import (
	"context"
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

// requireBank asks the policy whether the caller may do op (OpRemoveUser for removing and
// restoring, OpAnonymise) to u: nobody acts on themselves or the owner, and only holders of
// manage_admins act on an administrator.
func (c *Caller) RequireBank(op Op, u User) error { return c.Require(Request{Op: op, Target: &u}) }

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
	// ForgetComments: the comments of access review items about the user (a reviewer's free
	// text may name them) are still to be removed.
	ForgetComments bool
	// Since is when the anonymisation was written; the sweep settles the oldest first.
	Since time.Time
	// Position is where the marker sits in the cross-tenant index of pending effects.
	Position string
}

// Done reports whether nothing is owed any more.
func (p PendingEffects) Done() bool { return !p.DeleteLogin && !p.Publish && !p.ForgetComments }

// ClientRoles are what a user holds per client besides access: client administration and
// consultant programs (seed 004), as client ids.
type ClientRoles struct {
	AdminOf    []string
	ProgramsAt []string
}

// Empty reports whether the user holds none.
func (r ClientRoles) Empty() bool { return len(r.AdminOf) == 0 && len(r.ProgramsAt) == 0 }

func (r ClientRoles) Audit() map[string]any {
	return map[string]any{"clientAdminOf": NonNil(r.AdminOf), "programsAt": NonNil(r.ProgramsAt)}
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
	// ForgetReviewComments removes the comments of every access review item about a user, in
	// every review of the tenant; running it again changes nothing.
	ForgetReviewComments(ctx context.Context, tenantID, userID string) error
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
