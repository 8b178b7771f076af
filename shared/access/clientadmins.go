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

func clientAdminAudit(a *ClientAdmin) map[string]any {
	if a == nil {
		return nil
	}
	return map[string]any{"clientId": a.ClientID, "userId": a.UserID, "system": a.System, "programs": nonNil(a.Programs)}
}

// adminAt returns what a user administers at a client: everything for the owner, nothing
// (a zero ClientAdmin) for a user with no item.
func (s *Service) adminAt(ctx context.Context, u User, clientID string) (ClientAdmin, error) {
	if u.IsOwner {
		return ClientAdmin{TenantID: u.TenantID, ClientID: clientID, UserID: u.ID, System: true, Implicit: true}, nil
	}
	a, err := s.Store.GetClientAdmin(ctx, u.TenantID, clientID, u.ID)
	if (err != nil && ErrorCode(err) == CodeNotFound) || (err == nil && !live(a.ExpiresAt, s.Now())) {
		return ClientAdmin{TenantID: u.TenantID, ClientID: clientID, UserID: u.ID}, nil // none, or expired
	}
	return a, err
}

// requireManageClientAdmins asks the policy (OpManageClientAdmins): the owner, a system
// administrator of the client, or an administrator (role) appoints its administrators; nobody
// changes their own administration, and the owner's is fixed. It returns the caller's own
// administration of the client.
func (s *Service) requireManageClientAdmins(ctx context.Context, c *Caller, clientID string, target User) (ClientAdmin, error) {
	mine, err := s.adminAt(ctx, c.User, clientID)
	if err != nil {
		return ClientAdmin{}, err
	}
	if err := c.require(Request{Op: OpManageClientAdmins, Target: &target, Client: &ClientFacts{Admin: &mine}}); err != nil {
		return ClientAdmin{}, err
	}
	return mine, nil
}

// keeper is the system administrator who must remain when prev stops being one: nil when prev
// was none, or when the owner makes the change (the owner always remains); otherwise the
// caller, an explicit system administrator of the client by requireManageClientAdmins.
func keeper(mine ClientAdmin, prev *ClientAdmin, stillSystem bool) (*ClientAdmin, error) {
	if prev == nil || !prev.System || stillSystem || mine.Implicit {
		return nil, nil
	}
	if !mine.System {
		return nil, Forbidden("removing or demoting a system administrator of a client takes the account owner or another system administrator of it")
	}
	return &mine, nil
}

// SetClientAdmin makes a user system administrator of a client and/or program administrator of
// the programs listed, replacing what they administered there.
func (s *Service) SetClientAdmin(ctx context.Context, c *Caller, clientID, userID string, system bool, programs []string, expiresAt *time.Time) (ClientAdmin, error) {
	if validID("clientId", clientID) != nil {
		return ClientAdmin{}, NotFound("client")
	}
	if validID("userId", userID) != nil {
		return ClientAdmin{}, NotFound("user")
	}
	progs, err := s.validPrograms(ctx, c.TenantID(), "programs", programs)
	if err != nil {
		return ClientAdmin{}, err
	}
	if !system && len(progs) == 0 {
		return ClientAdmin{}, Invalid("programs", "name at least one program, or set system; DELETE removes the administration")
	}
	if system {
		progs = []string{} // a system administrator administers every program
	}
	if expiresAt, err = validExpiry("expiresAt", expiresAt, s.Now()); err != nil {
		return ClientAdmin{}, err
	}
	if _, err := s.Store.GetClient(ctx, c.TenantID(), clientID); err != nil {
		return ClientAdmin{}, err
	}
	var out ClientAdmin
	err = retry(nil, "client administrator", func() error {
		target, err := s.Store.GetUser(ctx, c.TenantID(), userID)
		if err != nil {
			return err
		}
		mine, err := s.requireManageClientAdmins(ctx, c, clientID, target)
		if err != nil {
			return err
		}
		if target.Status == StatusRemoved || target.Status == StatusAnonymised {
			return Conflict("a %s user cannot administer clients", target.Status)
		}
		var prev *ClientAdmin
		if p, err := s.Store.GetClientAdmin(ctx, c.TenantID(), clientID, userID); err == nil {
			prev = &p
		} else if ErrorCode(err) != CodeNotFound {
			return err
		}
		next := ClientAdmin{TenantID: c.TenantID(), ClientID: clientID, UserID: userID, System: system,
			Programs: progs, Version: 1, UpdatedAt: s.Now(), ExpiresAt: expiresAt, GrantedBy: c.User.ID}
		if prev != nil {
			if prev.System == system && slices.Equal(prev.Programs, progs) && sameExpiry(prev.ExpiresAt, expiresAt) && live(prev.ExpiresAt, c.Now) {
				out = *prev
				return nil
			}
			next.Version = prev.Version + 1
		}
		keep, err := keeper(mine, prev, system)
		if err != nil {
			return err
		}
		entry := s.audit(c, "client.admin.set", "client", clientID, clientAdminAudit(prev), clientAdminAudit(&next))
		if expiresAt != nil {
			entry.After["expiresAt"] = expiryAudit(expiresAt)
		}
		if err := s.Store.PutClientAdmin(ctx, prev, next, keep, Meta{Audit: []AuditEntry{entry}}); err != nil {
			return err
		}
		out = next
		return nil
	})
	return out, err
}

// RemoveClientAdmin ends a user's administration of a client; removing a missing one does
// nothing. The owner's cannot be removed (409), and the last explicit system administrator is
// removed by the owner only (409 otherwise; see ClientAdmin).
func (s *Service) RemoveClientAdmin(ctx context.Context, c *Caller, clientID, userID string) error {
	if validID("clientId", clientID) != nil {
		return NotFound("client")
	}
	if validID("userId", userID) != nil {
		return NotFound("user")
	}
	if _, err := s.Store.GetClient(ctx, c.TenantID(), clientID); err != nil {
		return err
	}
	return retry(nil, "client administrator", func() error {
		target, err := s.Store.GetUser(ctx, c.TenantID(), userID)
		if err != nil {
			return err
		}
		mine, err := s.requireManageClientAdmins(ctx, c, clientID, target)
		if err != nil {
			return err
		}
		prev, err := s.Store.GetClientAdmin(ctx, c.TenantID(), clientID, userID)
		if ErrorCode(err) == CodeNotFound {
			return nil
		}
		if err != nil {
			return err
		}
		keep, err := keeper(mine, &prev, false)
		if err != nil {
			return err
		}
		entry := s.audit(c, "client.admin.delete", "client", clientID, clientAdminAudit(&prev), nil)
		return s.Store.DeleteClientAdmin(ctx, prev, keep, Meta{Audit: []AuditEntry{entry}})
	})
}

// ClientAdmins pages the administrators of a client: the account owner first (implicit system
// administrator of every client, on the first page only), then the explicit ones by user id.
func (s *Service) ClientAdmins(ctx context.Context, c *Caller, clientID string, p Page) ([]ClientAdmin, string, error) {
	if err := c.require(Request{Op: OpReadClientAdmins}); err != nil {
		return nil, "", err
	}
	p, err := p.Normalize()
	if err != nil {
		return nil, "", err
	}
	if validID("clientId", clientID) != nil {
		return nil, "", NotFound("client")
	}
	if _, err := s.Store.GetClient(ctx, c.TenantID(), clientID); err != nil {
		return nil, "", err
	}
	var out []ClientAdmin
	if p.Cursor == "" {
		t, err := s.Store.GetTenant(ctx, c.TenantID())
		if err != nil {
			return nil, "", err
		}
		out = append(out, ClientAdmin{TenantID: t.ID, ClientID: clientID, UserID: t.OwnerID, System: true, Implicit: true})
	}
	admins, next, err := s.Store.ListClientAdmins(ctx, c.TenantID(), clientID, p)
	if err != nil {
		return nil, "", err
	}
	return append(out, admins...), next, nil
}
