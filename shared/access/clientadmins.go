package access

import (
	"context"
	"slices"
	"time"
)

// ClientAdmin is what a user administers at one client (seed 004): as system administrator
// every program, otherwise the programs listed. The account owner is system administrator of
// every client implicitly (no item is stored for them).
//
// A client always keeps at least one system administrator: the owner counts as one of every
// client, and an explicit system administrator is removed or demoted only by the owner (who
// remains) or by another explicit system administrator, who must still be one when the change
// is written; so two who remove each other at the same moment cannot both succeed, and the last
// explicit one is taken away only by the owner (409 otherwise).
type ClientAdmin struct {
	TenantID string
	ClientID string
	UserID   string
	System   bool
	Programs []string
	// Implicit marks the owner's administration, which is derived, never stored.
	Implicit  bool
	Version   int
	UpdatedAt time.Time
	// ExpiresAt ends the administration at that instant (nil: never); GrantedBy appointed them.
	ExpiresAt *time.Time
	GrantedBy string
}

// CanAssign reports whether the administrator may assign or remove a program at the client.
func (a ClientAdmin) CanAssign(program string) bool {
	return a.System || slices.Contains(a.Programs, program)
}

// ClientAdminStore keeps client administrators.
type ClientAdminStore interface {
	// GetClientAdmin returns ErrNotFound when the user administers nothing at the client.
	GetClientAdmin(ctx context.Context, tenantID, clientID, userID string) (ClientAdmin, error)
	// PutClientAdmin writes next if the stored item is still prev (nil: none stored);
	// ErrVersionConflict otherwise. keep, when set, names a system administrator of the client
	// who must still be one: ErrLastSystemAdmin otherwise.
	PutClientAdmin(ctx context.Context, prev *ClientAdmin, next ClientAdmin, keep *ClientAdmin, meta Meta) error
	// DeleteClientAdmin removes a if its version is still a.Version; ErrVersionConflict otherwise.
	// keep is as for PutClientAdmin.
	DeleteClientAdmin(ctx context.Context, a ClientAdmin, keep *ClientAdmin, meta Meta) error
	// ListClientAdmins pages the explicit administrators of one client, by user id.
	ListClientAdmins(ctx context.Context, tenantID, clientID string, p Page) ([]ClientAdmin, string, error)
}

// ErrLastSystemAdmin refuses a change that would leave a client without a system administrator
// other than the owner, unless the owner makes it.
var ErrLastSystemAdmin = &Error{Code: CodeConflict, Message: "this would leave the client without a system administrator " +
	"besides the account owner; only the account owner can remove or demote the last one"}
