package access

import (
	"context"
	"strings"
	"time"

	"github.com/oklog/ulid/v2"
)

// Store is the persistence the domain needs. Every write is one transaction that also writes
// the Meta (audit entries, idempotency record), and every update is conditional on the version
// the caller read, so a concurrent change makes it fail with ErrConflict instead of being lost.
type Store interface {
	AuthorizationStore
	TenantStore
	UserStore
	CalendarStore
	CalendarAdminStore
	GroupStore
	AuditStore
	ClientStore
	LinkStore
	UserBankStore
	ProgramStore
	ClientAdminStore
	JobStore
	NotificationStore
	OutboxStore
	ExpiryStore
	ReviewStore
}

// TenantStore keeps tenants and their settings.
type TenantStore interface {
	// CreateTenant writes the tenant, its owner and the owner's email claim; ErrConflict if the
	// email is taken.
	CreateTenant(ctx context.Context, t Tenant, owner User, meta Meta) error
	// GetTenant returns ErrNotFound for an unknown tenant.
	GetTenant(ctx context.Context, tenantID string) (Tenant, error)
	// UpdateTenant writes t if its stored version is still prev.Version; ErrConflict otherwise.
	// The groups are created in the same transaction (activation of the Employees app).
	UpdateTenant(ctx context.Context, prev, next Tenant, newGroups []Group, meta Meta) error
	// TransferOwnership moves ownership between two users and updates the tenant, all
	// conditional on the versions read; ErrConflict if any changed.
	TransferOwnership(ctx context.Context, prevTenant, nextTenant Tenant, from, to [2]User, meta Meta) error
}

// UserStore keeps users, their email claims and their calendars.
type UserStore interface {
	// GetUser returns ErrNotFound for a missing user or one of another tenant.
	GetUser(ctx context.Context, tenantID, userID string) (User, error)
	// UserByEmail finds the user holding an email, in any tenant; ErrNotFound if none.
	UserByEmail(ctx context.Context, email string) (User, error)
	// CreateUser writes the user, claims its email across all tenants and creates its
	// calendars; ErrConflict (code conflict, "email") if the email is taken, or if the
	// idempotency key was used concurrently.
	CreateUser(ctx context.Context, u User, meta Meta) error
	// UpdateUser writes next if the stored version is prev.Version, moving the email claim
	// when the email changed; ErrConflict otherwise.
	UpdateUser(ctx context.Context, prev, next User, meta Meta) error
	// DeleteUser removes the user and its email claim if the stored version is u.Version;
	// the user's calendars stay, without owner. The user's client assignments and client roles
	// (ClientRolesOf) go too: in the same transaction when they fit, the rest right after (an
	// item of a deleted user gives nothing and is skipped by every reader, so a failure there
	// leaves no access).
	DeleteUser(ctx context.Context, u User, meta Meta) error
	// ListUsers pages through a tenant's users matching f.
	ListUsers(ctx context.Context, tenantID string, f UserFilter, p Page) ([]User, string, error)
}

// GroupStore keeps permission groups.
type GroupStore interface {
	GetGroup(ctx context.Context, tenantID, groupID string) (Group, error)
	// GetGroups returns the groups that exist among ids; missing ones are left out.
	GetGroups(ctx context.Context, tenantID string, ids []string) (map[string]Group, error)
	ListGroups(ctx context.Context, tenantID string, p Page) ([]Group, string, error)
	CreateGroup(ctx context.Context, g Group, meta Meta) error
	UpdateGroup(ctx context.Context, prev, next Group, meta Meta) error
	DeleteGroup(ctx context.Context, g Group, meta Meta) error
	// Principal loads a user with the groups they are in, in one round trip; ErrNotFound if
	// the user does not exist in the tenant.
	Principal(ctx context.Context, tenantID, userID string) (User, map[string]Group, error)
}

// AuditStore reads the audit log and idempotency records (both are written through Meta).
type AuditStore interface {
	// ListAudit pages a tenant's audit entries, newest first.
	ListAudit(ctx context.Context, tenantID string, p Page) ([]AuditEntry, string, error)
	// GetIdempotency returns ErrNotFound when the key was not used for op.
	GetIdempotency(ctx context.Context, tenantID, op, key string) (IdempotencyRecord, error)
	// WriteMeta writes audit entries and an idempotency record on their own, for a request
	// that changed nothing else; ErrConflict if the idempotency key was taken meanwhile.
	WriteMeta(ctx context.Context, meta Meta) error
}

// UserFilter narrows a user list.
type UserFilter struct {
	Statuses []Status // empty: active and deactivated
	GroupID  string
	Text     string // case-insensitive substring of name or email
}

// Identity is the sign-in provider (Cognito in AWS, the dev server's local issuer locally).
type Identity interface {
	// Invite creates the login of a new user.
	Invite(ctx context.Context, u User) error
	// Disable stops a user from signing in and signs them out everywhere.
	Disable(ctx context.Context, u User) error
	// Enable lets a disabled user sign in again.
	Enable(ctx context.Context, u User) error
	// Delete removes the login for good; deleting a missing login is not an error.
	Delete(ctx context.Context, u User) error
	// UpdateEmail gives the login the user's email, the address it signs in and is reached with.
	UpdateEmail(ctx context.Context, u User) error
}

// NoIdentity is an Identity that does nothing: locally the dev server issues tokens itself and
// the principal's status, loaded on every request, decides whether a token still works.
type NoIdentity struct{}

// Invite does nothing.
func (NoIdentity) Invite(context.Context, User) error { return nil }

// Disable does nothing.
func (NoIdentity) Disable(context.Context, User) error { return nil }

// Enable does nothing.
func (NoIdentity) Enable(context.Context, User) error { return nil }

// Delete does nothing.
func (NoIdentity) Delete(context.Context, User) error { return nil }

// UpdateEmail does nothing.
func (NoIdentity) UpdateEmail(context.Context, User) error { return nil }

// Base is what every use-case service shares: the clock and the id generator, injected so tests
// are deterministic, and the audit entries they build from them.
type Base struct {
	Now   func() time.Time
	NewID func(prefix string) string
}

// NewBase returns a Base with the real clock and ULID ids.
func NewBase() Base {
	return Base{Now: func() time.Time { return time.Now().UTC() }, NewID: NewULID}
}

// Audit builds an audit entry for the caller's request (c nil: the system).
func (b Base) Audit(c *Caller, action, targetType, targetID string, before, after map[string]any) AuditEntry {
	e := AuditEntry{
		ID: b.NewID("aud"), Time: b.Now(), Action: action,
		TargetType: targetType, TargetID: targetID, Before: before, After: after,
	}
	if c != nil {
		e.TenantID, e.ActorID, e.RequestID = c.TenantID(), c.User.ID, c.RequestID
		for k, v := range c.AuditTag {
			if e.After == nil {
				e.After = map[string]any{}
			}
			e.After[k] = v
		}
	}
	return e
}

// NewULID returns prefix + "_" + a lower-case ULID: sortable by creation time, unguessable.
func NewULID(prefix string) string {
	return prefix + "_" + strings.ToLower(ulid.Make().String())
}

// Caller is the authenticated principal of a request.
type Caller struct {
	User      User
	Groups    map[string]Group
	Effective Effective
	RequestID string
	// Now is the instant the request's decisions are made at (expiry compares with it).
	Now time.Time
	// AuditTag is added to the after of every audit entry the request writes (e.g. the
	// access review a change applies).
	AuditTag map[string]any
}

// TenantID is the caller's tenant.
func (c *Caller) TenantID() string { return c.User.TenantID }

// principal is the caller as the policy sees them.
func (c *Caller) Principal() Principal {
	return Principal{User: c.User, Effective: c.Effective, Now: c.Now}
}

// decide asks the policy core about the caller.
func (c *Caller) Decide(r Request) Decision { return Decide(c.Principal(), r) }

// require asks the policy core and turns a refusal into its error. A refusal about a user the
// caller may not read answers 404, exactly like a user that does not exist, so that no refusal
// tells anyone who works in the tenant.
func (c *Caller) Require(r Request) error {
	d := c.Decide(r)
	if d.Allowed {
		return nil
	}
	if d.Code == CodeForbidden && r.Target != nil && r.Op != OpReadJob && !c.CanReadUser(r.Target.ID) {
		return NotFound("user")
	}
	return d.Err()
}

// maxRetries bounds the read-modify-write loop of updates sent without If-Match. With the
// backoff below, 24 retries wait at most about 5 s in all: enough for dozens of concurrent
// writers of one item to all land (each round lets one of them through), short of any API
// timeout.
const maxRetries = 24

// Backoff of the read-modify-write loop: exponential from retryBase, capped at retryCap, with
// full jitter so that writers that collided spread out instead of colliding again.
const (
	retryBase = 4 * time.Millisecond
	retryCap  = 250 * time.Millisecond
)

// ErrVersionConflict is what stores return when a conditional write lost against a concurrent one.
var ErrVersionConflict = &Error{Code: CodeConflict, Message: "version conflict"}

// record is the idempotency record a create leaves for its retries, written in the create's own
// transaction; nil when the request carried no key.
func (idem *Idempotency) Record(tenantID, resourceID string, now time.Time) *IdempotencyRecord {
	if idem == nil {
		return nil
	}
	return &IdempotencyRecord{TenantID: tenantID, Key: idem.Key, Operation: idem.Operation,
		RequestHash: idem.RequestHash, ResourceID: resourceID, CreatedAt: now}
}
