package access

import (
	"context"
	"time"
)

// ExpiringKind is what an entry of the expiry index stands for.
type ExpiringKind string

// Kinds of expiring grants.
const (
	ExpiringAssignment  ExpiringKind = "assignment"
	ExpiringGrant       ExpiringKind = "grant"
	ExpiringClientAdmin ExpiringKind = "client_admin"
	ExpiringGroups      ExpiringKind = "groups" // a user's group memberships
)

// ExpiringRef names one expiring item across tenants; Position orders the index.
type ExpiringRef struct {
	Kind     ExpiringKind
	TenantID string
	ClientID string
	UserID   string
	Position string
}

// NotificationExpiring is the type of the notification a granter gets before a grant ends.
const NotificationExpiring = "grant_expiring"

// ExpiryStore reads the expiry index and removes what expired.
type ExpiryStore interface {
	// ExpiringBetween reads up to limit index entries with an expiry in [from, to), across
	// tenants, oldest first, after the position after ("" from the start).
	ExpiringBetween(ctx context.Context, from, to time.Time, after string, limit int) ([]ExpiringRef, error)
	// GetAssignment and GetGrant return ErrNotFound when there is none.
	GetAssignment(ctx context.Context, tenantID, clientID, userID string) (Assignment, error)
	GetGrant(ctx context.Context, tenantID, clientID, userID string) (ClientGrant, error)
	// DeleteExpiredAssignment and DeleteExpiredGrant remove the item if its version is still the
	// one read (ErrVersionConflict otherwise), with the meta.
	DeleteExpiredAssignment(ctx context.Context, a Assignment, meta Meta) error
	DeleteExpiredGrant(ctx context.Context, g ClientGrant, meta Meta) error
	// PutNotificationOnce writes n unless a notification with its id exists (ErrConflict).
	PutNotificationOnce(ctx context.Context, n Notification) error
}
