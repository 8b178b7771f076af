// Package people is the use cases about who works in a tenant: the tenant and its settings,
// users and their lifecycle (the user bank, anonymisation), permission groups, assistant links,
// calendars, reading rights and POST /v1/authorize, and the outbox of effects outside the table.
// Every right is decided by the policy core in package access.
package people

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/tilgang/tilgang/shared/access"
)

// Store is what the people use cases read and write.
type Store interface {
	access.AuthorizationStore
	access.TenantStore
	access.UserStore
	access.CalendarStore
	access.CalendarAdminStore
	access.GroupStore
	access.AuditStore
	access.LinkStore
	access.UserBankStore
	access.OutboxStore
	access.DirectoryReader // the export includes what a directory (SCIM) said about the person
	// Clients are read to check links, capabilities and a deleted user's assignments.
	GetClient(ctx context.Context, tenantID, clientID string) (access.Client, error)
	UserAssignmentsAfter(ctx context.Context, tenantID, userID, after string, limit int) (out []access.Assignment, more bool, err error)
	// A person's bureau grants and notifications are read for their export.
	UserGrantsAfter(ctx context.Context, tenantID, userID, after string, limit int) (out []access.ClientGrant, more bool, err error)
	ListNotifications(ctx context.Context, tenantID, userID string, now time.Time, p access.Page) ([]access.Notification, string, error)
}

// Service carries out the people use cases.
type Service struct {
	access.Base
	Store    Store
	Identity access.Identity
	// Events publishes domain events; nil publishes nothing.
	Events access.Publisher
	// Log records outbox effects that failed after their write (ids only); nil: slog.Default.
	Log *slog.Logger
}

// New returns a Service with the real clock and ULID ids.
func New(store Store, identity access.Identity) *Service {
	if identity == nil {
		identity = access.NoIdentity{}
	}
	return &Service{Base: access.NewBase(), Store: store, Identity: identity}
}

// Authenticate loads the principal of a verified token. A user who is missing, of another
// tenant, or not active is refused, so deactivation takes effect on the very next request.
// It costs one BatchGetItem (the user and the tenant's group set).
func (s *Service) Authenticate(ctx context.Context, tenantID, userID, requestID string) (*access.Caller, error) {
	tok := access.Token{TenantID: tenantID, UserID: userID, RequestID: requestID}
	if tenantID == "" || userID == "" {
		return access.CallerOf(tok, nil, nil, s.Now())
	}
	u, groups, err := s.Store.Principal(ctx, tenantID, userID)
	if errors.Is(err, access.ErrNotFound) {
		return access.CallerOf(tok, nil, nil, s.Now())
	}
	if err != nil {
		return nil, fmt.Errorf("authenticate: %w", err)
	}
	return access.CallerOf(tok, &u, groups, s.Now())
}
