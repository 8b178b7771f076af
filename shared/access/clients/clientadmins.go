package clients

import (
	"context"
	"slices"
	"time"

	"github.com/tilgang/tilgang/shared/access"
)

func clientAdminAudit(a *access.ClientAdmin) map[string]any {
	if a == nil {
		return nil
	}
	return map[string]any{"clientId": a.ClientID, "userId": a.UserID, "system": a.System, "programs": access.NonNil(a.Programs)}
}

// adminAt returns what a user administers at a client: everything for the owner, nothing
// (a zero ClientAdmin) for a user with no item.
func (s *Service) adminAt(ctx context.Context, u access.User, clientID string) (access.ClientAdmin, error) {
	if u.IsOwner {
		return access.ClientAdmin{TenantID: u.TenantID, ClientID: clientID, UserID: u.ID, System: true, Implicit: true}, nil
	}
	a, err := s.Store.GetClientAdmin(ctx, u.TenantID, clientID, u.ID)
	if (err != nil && access.ErrorCode(err) == access.CodeNotFound) || (err == nil && !access.Live(a.ExpiresAt, s.Now())) {
		return access.ClientAdmin{TenantID: u.TenantID, ClientID: clientID, UserID: u.ID}, nil // none, or expired
	}
	return a, err
}

// requireManageClientAdmins asks the policy (OpManageClientAdmins): the owner, a system
// administrator of the client, or an administrator (role) appoints its administrators; nobody
// changes their own administration, and the owner's is fixed. It returns the caller's own
// administration of the client.
func (s *Service) requireManageClientAdmins(ctx context.Context, c *access.Caller, clientID string, target access.User) (access.ClientAdmin, error) {
	mine, err := s.adminAt(ctx, c.User, clientID)
	if err != nil {
		return access.ClientAdmin{}, err
	}
	if err := c.Require(access.Request{Op: access.OpManageClientAdmins, Target: &target, Client: &access.ClientFacts{Admin: &mine}}); err != nil {
		return access.ClientAdmin{}, err
	}
	return mine, nil
}

// keeper is the system administrator who must remain when prev stops being one: nil when prev
// was none, or when the owner makes the change (the owner always remains); otherwise the
// caller, an explicit system administrator of the client by requireManageClientAdmins.
func keeper(mine access.ClientAdmin, prev *access.ClientAdmin, stillSystem bool) (*access.ClientAdmin, error) {
	if prev == nil || !prev.System || stillSystem || mine.Implicit {
		return nil, nil
	}
	if !mine.System {
		return nil, access.Forbidden("removing or demoting a system administrator of a client takes the account owner or another system administrator of it")
	}
	return &mine, nil
}

// SetClientAdmin makes a user system administrator of a client and/or program administrator of
// the programs listed, replacing what they administered there.
func (s *Service) SetClientAdmin(ctx context.Context, c *access.Caller, clientID, userID string, system bool, programs []string, expiresAt *time.Time) (access.ClientAdmin, error) {
	if access.ValidID("clientId", clientID) != nil {
		return access.ClientAdmin{}, access.NotFound("client")
	}
	if access.ValidID("userId", userID) != nil {
		return access.ClientAdmin{}, access.NotFound("user")
	}
	progs, err := s.ValidPrograms(ctx, c.TenantID(), "programs", programs)
	if err != nil {
		return access.ClientAdmin{}, err
	}
	if !system && len(progs) == 0 {
		return access.ClientAdmin{}, access.Invalid("programs", "name at least one program, or set system; DELETE removes the administration")
	}
	if system {
		progs = []string{} // a system administrator administers every program
	}
	if expiresAt, err = access.ValidExpiry("expiresAt", expiresAt, s.Now()); err != nil {
		return access.ClientAdmin{}, err
	}
	if _, err := s.Store.GetClient(ctx, c.TenantID(), clientID); err != nil {
		return access.ClientAdmin{}, err
	}
	var out access.ClientAdmin
	err = access.Retry(nil, "client administrator", func() error {
		target, err := s.Store.GetUser(ctx, c.TenantID(), userID)
		if err != nil {
			return err
		}
		mine, err := s.requireManageClientAdmins(ctx, c, clientID, target)
		if err != nil {
			return err
		}
		if target.Status == access.StatusRemoved || target.Status == access.StatusAnonymised {
			return access.Conflict("a %s user cannot administer clients", target.Status)
		}
		var prev *access.ClientAdmin
		if p, err := s.Store.GetClientAdmin(ctx, c.TenantID(), clientID, userID); err == nil {
			prev = &p
		} else if access.ErrorCode(err) != access.CodeNotFound {
			return err
		}
		next := access.ClientAdmin{TenantID: c.TenantID(), ClientID: clientID, UserID: userID, System: system,
			Programs: progs, Version: 1, UpdatedAt: s.Now(), ExpiresAt: expiresAt, GrantedBy: c.User.ID}
		if prev != nil {
			if prev.System == system && slices.Equal(prev.Programs, progs) && access.SameExpiry(prev.ExpiresAt, expiresAt) && access.Live(prev.ExpiresAt, c.Now) {
				out = *prev
				return nil
			}
			next.Version = prev.Version + 1
		}
		keep, err := keeper(mine, prev, system)
		if err != nil {
			return err
		}
		entry := s.Audit(c, "client.admin.set", "client", clientID, clientAdminAudit(prev), clientAdminAudit(&next))
		if expiresAt != nil {
			entry.After["expiresAt"] = access.ExpiryAudit(expiresAt)
		}
		if err := s.Store.PutClientAdmin(ctx, prev, next, keep, access.Meta{Audit: []access.AuditEntry{entry}}); err != nil {
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
func (s *Service) RemoveClientAdmin(ctx context.Context, c *access.Caller, clientID, userID string) error {
	if access.ValidID("clientId", clientID) != nil {
		return access.NotFound("client")
	}
	if access.ValidID("userId", userID) != nil {
		return access.NotFound("user")
	}
	if _, err := s.Store.GetClient(ctx, c.TenantID(), clientID); err != nil {
		return err
	}
	return access.Retry(nil, "client administrator", func() error {
		target, err := s.Store.GetUser(ctx, c.TenantID(), userID)
		if err != nil {
			return err
		}
		mine, err := s.requireManageClientAdmins(ctx, c, clientID, target)
		if err != nil {
			return err
		}
		prev, err := s.Store.GetClientAdmin(ctx, c.TenantID(), clientID, userID)
		if access.ErrorCode(err) == access.CodeNotFound {
			return nil
		}
		if err != nil {
			return err
		}
		keep, err := keeper(mine, &prev, false)
		if err != nil {
			return err
		}
		entry := s.Audit(c, "client.admin.delete", "client", clientID, clientAdminAudit(&prev), nil)
		return s.Store.DeleteClientAdmin(ctx, prev, keep, access.Meta{Audit: []access.AuditEntry{entry}})
	})
}

// ClientAdmins pages the administrators of a client: the account owner first (implicit system
// administrator of every client, on the first page only), then the explicit ones by user id.
func (s *Service) ClientAdmins(ctx context.Context, c *access.Caller, clientID string, p access.Page) ([]access.ClientAdmin, string, error) {
	if err := c.Require(access.Request{Op: access.OpReadClientAdmins}); err != nil {
		return nil, "", err
	}
	p, err := p.Normalize()
	if err != nil {
		return nil, "", err
	}
	if access.ValidID("clientId", clientID) != nil {
		return nil, "", access.NotFound("client")
	}
	if _, err := s.Store.GetClient(ctx, c.TenantID(), clientID); err != nil {
		return nil, "", err
	}
	var out []access.ClientAdmin
	if p.Cursor == "" {
		t, err := s.Store.GetTenant(ctx, c.TenantID())
		if err != nil {
			return nil, "", err
		}
		out = append(out, access.ClientAdmin{TenantID: t.ID, ClientID: clientID, UserID: t.OwnerID, System: true, Implicit: true})
	}
	admins, next, err := s.Store.ListClientAdmins(ctx, c.TenantID(), clientID, p)
	if err != nil {
		return nil, "", err
	}
	return append(out, admins...), next, nil
}
