// Package clients is the use cases about the tenant's clients: clients, assignments and
// appointments, the reverse look-ups (who can open a client, which clients a user can open),
// client administration and the bureau's programs. Every right is decided by the policy core in
// package access.
package clients

import (
	"context"

	"github.com/tilgang/tilgang/shared/access"
)

// Store is what the client use cases read and write.
type Store interface {
	access.ClientStore
	access.ClientAdminStore
	access.ProgramStore
	access.IdempotencyReader
	GetTenant(ctx context.Context, tenantID string) (access.Tenant, error)
	GetUser(ctx context.Context, tenantID, userID string) (access.User, error)
	Principal(ctx context.Context, tenantID, userID string) (access.User, map[string]access.Group, error)
	ListGroups(ctx context.Context, tenantID string, p access.Page) ([]access.Group, string, error)
	WriteMeta(ctx context.Context, meta access.Meta) error
	// ExistingCalendars checks an appointment's calendar (access.CalendarStore).
	ExistingCalendars(ctx context.Context, tenantID string, ids []string) (map[string]bool, error)
}

// Service carries out the client use cases.
type Service struct {
	access.Base
	Store Store
}

// New returns a Service with the real clock and ULID ids.
func New(store Store) *Service { return &Service{Base: access.NewBase(), Store: store} }
