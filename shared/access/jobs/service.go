// Package jobs is the bureau's bulk consultant access jobs (seed 004) and the notifications they
// leave: submission, fan-out, the per-chunk decisions (by the policy core in package access, with
// the requester as principal), completion. Programs are validated by package clients.
package jobs

import (
	"context"
	"time"

	"github.com/tilgang/tilgang/shared/access"
	"github.com/tilgang/tilgang/shared/access/clients"
)

// Store is what the job use cases read and write.
type Store interface {
	access.JobStore
	access.NotificationStore
	access.IdempotencyReader
	GetUser(ctx context.Context, tenantID, userID string) (access.User, error)
	UsersByID(ctx context.Context, tenantID string, ids []string) (map[string]access.User, error)
	GetClients(ctx context.Context, tenantID string, ids []string) (map[string]access.Client, error)
}

// Service carries out the job use cases.
type Service struct {
	access.Base
	Store Store
	// Programs validates the programs a job names.
	Programs *clients.Service
	// Queue carries access-job messages to the workers; NotificationRetention is how long
	// notifications live (DefaultNotificationRetention when zero); FanOutChunks is how many
	// chunks one fan-out message stands for (DefaultFanOutChunks when zero).
	Queue                 access.JobQueue
	NotificationRetention time.Duration
	FanOutChunks          int
}

// New returns a Service with the real clock and ULID ids.
func New(store Store, programs *clients.Service, queue access.JobQueue) *Service {
	return &Service{Base: access.NewBase(), Store: store, Programs: programs, Queue: queue}
}
