package access

import (
	"context"
	"errors"
	"math/rand/v2"
	"reflect"
	"time"
)

// The read-modify-write, idempotency and principal helpers every use case shares.

// IdempotencyReader reads what a first create request left for its retries.
type IdempotencyReader interface {
	// GetIdempotency returns ErrNotFound when the key was not used for op.
	GetIdempotency(ctx context.Context, tenantID, op, key string) (IdempotencyRecord, error)
}

// NewCaller makes the principal of a request from a loaded user; only active users may act.
// Its decisions are made at now: memberships, assignments and grants expired by then give nothing.
func NewCaller(u User, groups map[string]Group, requestID string, now time.Time) (*Caller, error) {
	if u.Status != StatusActive {
		return nil, &Error{Code: CodeUnauthenticated, Message: "the user is " + string(u.Status) + " and cannot sign in"}
	}
	groups = LiveGroups(u, GroupsOf(u, groups), now)
	return &Caller{User: u, Groups: groups, Effective: Compute(u, groups), RequestID: requestID, Now: now}, nil
}

// Token names a request's principal as its verified token does, before anything is read.
type Token struct{ TenantID, UserID, RequestID string }

// CallerOf makes the caller a token names from its user as read together with the rest of a
// request's reads (nil: there is no such user) and the tenant's groups. Only an active user who
// exists may act.
func CallerOf(t Token, u *User, groups map[string]Group, now time.Time) (*Caller, error) {
	if t.TenantID == "" || t.UserID == "" {
		return nil, &Error{Code: CodeUnauthenticated, Message: "the token names no tenant or user"}
	}
	if u == nil || u.ID != t.UserID {
		return nil, &Error{Code: CodeUnauthenticated, Message: "the token's user does not exist"}
	}
	return NewCaller(*u, groups, t.RequestID, now)
}

// Authenticate loads the caller of a request.
type Authenticate func(ctx context.Context) (*Caller, error)

// retryPause waits before retry n (from 1).
func retryPause(n int) {
	d := min(retryBase<<min(n, 16), retryCap)
	time.Sleep(d/4 + rand.N(d))
}

// Retry runs an optimistic read-modify-write. With an If-Match the first conflict is final
// (the client must re-read); without one the request asked for last-write-wins, so the change
// is re-applied to the fresh state after a jittered pause, and two concurrent edits both land
// instead of one being lost or handed back to the client as a 409. Only when contention outlasts
// the whole budget does the caller get a 409.
func Retry(ifMatch *int, kind string, fn func() error) error {
	for attempt := 0; ; attempt++ {
		err := fn()
		if !errors.Is(err, ErrVersionConflict) {
			return err
		}
		if ifMatch != nil {
			return Stale(kind)
		}
		if attempt == maxRetries {
			return Conflict("%s is being changed by others; retry", kind)
		}
		retryPause(attempt + 1)
	}
}

// Unchanged reports whether a read-modify-write changed nothing, so that it writes nothing: an
// empty PATCH, or one that sets what is already there, keeps the version (everyone else's ETag
// stays good) and leaves no audit entry.
func Unchanged[T any](prev, next T) bool { return reflect.DeepEqual(prev, next) }

// CheckIfMatch compares a client's If-Match with the current version.
func CheckIfMatch(ifMatch *int, current int, kind string) error {
	if ifMatch != nil && *ifMatch != current {
		return Stale(kind)
	}
	return nil
}

// Replay answers a retried create: done is true when the key was used before, and then load
// reads what the first request made. The same key with another body is refused.
func Replay[T any](ctx context.Context, store IdempotencyReader, c *Caller, idem *Idempotency, load func(resourceID string) (T, error)) (T, bool, error) {
	var zero T
	rec, err := store.GetIdempotency(ctx, c.TenantID(), idem.Operation, idem.Key)
	if errors.Is(err, ErrNotFound) {
		return zero, false, nil
	}
	if err != nil {
		return zero, true, err
	}
	if rec.RequestHash != idem.RequestHash {
		return zero, true, &Error{Code: CodeIdempotencyKey, Message: "this Idempotency-Key was used for a different request"}
	}
	v, err := load(rec.ResourceID)
	return v, true, err
}

// PrincipalReader loads a user with their groups.
type PrincipalReader interface {
	// Principal returns ErrNotFound if the user does not exist in the tenant.
	Principal(ctx context.Context, tenantID, userID string) (User, map[string]Group, error)
}

// RightsOf loads a user with their groups and computes their rights, reusing the caller's own.
func RightsOf(ctx context.Context, store PrincipalReader, c *Caller, userID string) (Rights, error) {
	if userID == c.User.ID {
		return Rights{User: c.User, Effective: c.Effective}, nil
	}
	u, groups, err := store.Principal(ctx, c.TenantID(), userID)
	if err != nil {
		return Rights{}, err
	}
	if u.IsOwner {
		groups = map[string]Group{}
	}
	return Rights{User: u, Effective: Compute(u, LiveGroups(u, groups, c.Now))}, nil
}
