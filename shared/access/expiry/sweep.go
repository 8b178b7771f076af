// Package expiry is the scheduled work around time-bound grants: it removes what expired
// (auditing each as expired, actor "system") and warns granters ahead of an expiry. Decisions
// never wait for it: the policy core in package access compares every expiry with the clock.
package expiry

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/tilgang/tilgang/shared/access"
)

// Store is what the sweep reads and writes.
type Store interface {
	access.ExpiryStore
	GetClientAdmin(ctx context.Context, tenantID, clientID, userID string) (access.ClientAdmin, error)
	DeleteClientAdmin(ctx context.Context, a access.ClientAdmin, keep *access.ClientAdmin, meta access.Meta) error
	GetUser(ctx context.Context, tenantID, userID string) (access.User, error)
	UpdateUser(ctx context.Context, prev, next access.User, meta access.Meta) error
}

// Service carries out the sweep.
type Service struct {
	access.Base
	Store Store
	// ExpiryNotice is how long before a grant expires its granter is notified
	// (access.DefaultExpiryNotice when zero); NotificationRetention is how long the notice lives
	// (access.DefaultNotificationRetention when zero).
	ExpiryNotice          time.Duration
	NotificationRetention time.Duration
}

// New returns a Service with the real clock and ULID ids.
func New(store Store) *Service { return &Service{Base: access.NewBase(), Store: store} }

func (s *Service) notificationRetention() time.Duration {
	if s.NotificationRetention > 0 {
		return s.NotificationRetention
	}
	return access.DefaultNotificationRetention
}

// ExpirySweepResult counts what one sweep did.
type ExpirySweepResult struct {
	Removed  int // items (or memberships) removed because they expired
	Notified int // granters told of a coming expiry
	Skipped  int // entries already changed by someone else (renewed, removed)
}

// sweepPage is how many index entries one read takes.
const sweepPage = 100

func (s *Service) expiryNotice() time.Duration {
	if s.ExpiryNotice > 0 {
		return s.ExpiryNotice
	}
	return access.DefaultExpiryNotice
}

// SweepExpired removes what expired (auditing each as expired, actor "system") and notifies the
// granters of what expires within the notice period, at most max entries of each (0: 1,000).
// Decisions never wait for it: an expired grant gives nothing from its instant on. Running it
// twice changes nothing more: removals are conditional on the version read, and a notice's id is
// derived from what it announces.
func (s *Service) SweepExpired(ctx context.Context, max int) (ExpirySweepResult, error) {
	if max <= 0 {
		max = 1000
	}
	var res ExpirySweepResult
	now := s.Now()
	// Expiries are kept to the second: everything up to and including now's second is due.
	due := now.Truncate(time.Second).Add(time.Second)
	err := s.walkExpiring(ctx, time.Unix(0, 0), due, max, func(ref access.ExpiringRef) error {
		done, err := s.expireOne(ctx, ref, now)
		if done {
			res.Removed++
		} else if err == nil {
			res.Skipped++
		}
		return err
	})
	if err != nil {
		return res, err
	}
	err = s.walkExpiring(ctx, due, now.Add(s.expiryNotice()), max, func(ref access.ExpiringRef) error {
		sent, err := s.noticeOne(ctx, ref, now)
		if sent {
			res.Notified++
		}
		return err
	})
	return res, err
}

func (s *Service) walkExpiring(ctx context.Context, from, to time.Time, max int, fn func(access.ExpiringRef) error) error {
	after := ""
	seen := 0
	for seen < max {
		refs, err := s.Store.ExpiringBetween(ctx, from, to, after, min(sweepPage, max-seen))
		if err != nil {
			return err
		}
		var errs []error
		for _, ref := range refs {
			if err := fn(ref); err != nil {
				errs = append(errs, fmt.Errorf("%s %s/%s/%s: %w", ref.Kind, ref.TenantID, ref.ClientID, ref.UserID, err))
			}
			after = ref.Position
		}
		seen += len(refs)
		if err := errors.Join(errs...); err != nil {
			return err
		}
		if len(refs) < sweepPage {
			return nil
		}
	}
	return nil
}

func (s *Service) systemAudit(tenantID, action, targetType, targetID string, before, after map[string]any) access.AuditEntry {
	a := s.Audit(nil, action, targetType, targetID, before, after)
	a.TenantID, a.ActorID = tenantID, "system"
	return a
}

// expireOne removes one expired item if it is still expired; done reports a removal.
func (s *Service) expireOne(ctx context.Context, ref access.ExpiringRef, now time.Time) (bool, error) {
	gone := func(err error) (bool, error) {
		if access.ErrorCode(err) == access.CodeNotFound || errors.Is(err, access.ErrVersionConflict) {
			return false, nil // removed or changed meanwhile: the next sweep sees the new state
		}
		return false, err
	}
	switch ref.Kind {
	case access.ExpiringAssignment:
		a, err := s.Store.GetAssignment(ctx, ref.TenantID, ref.ClientID, ref.UserID)
		if err != nil || access.Live(a.ExpiresAt, now) {
			return gone(err)
		}
		before := map[string]any{"clientId": a.ClientID, "userId": a.UserID, "level": a.Level, "source": a.Source}
		before["expiresAt"] = access.ExpiryAudit(a.ExpiresAt)
		meta := access.Meta{Audit: []access.AuditEntry{s.systemAudit(ref.TenantID, "client.access.expired", "client", ref.ClientID, before, nil)}}
		if err := s.Store.DeleteExpiredAssignment(ctx, a, meta); err != nil {
			return gone(err)
		}
		return true, nil
	case access.ExpiringGrant:
		g, err := s.Store.GetGrant(ctx, ref.TenantID, ref.ClientID, ref.UserID)
		if err != nil || access.Live(g.ExpiresAt, now) {
			return gone(err)
		}
		before := map[string]any{"clientId": g.ClientID, "userId": g.UserID, "level": g.Level, "programs": access.NonNil(g.Programs),
			"expiresAt": access.ExpiryAudit(g.ExpiresAt)}
		meta := access.Meta{Audit: []access.AuditEntry{s.systemAudit(ref.TenantID, "client.grant.expired", "client", ref.ClientID, before, nil)}}
		if err := s.Store.DeleteExpiredGrant(ctx, g, meta); err != nil {
			return gone(err)
		}
		return true, nil
	case access.ExpiringClientAdmin:
		a, err := s.Store.GetClientAdmin(ctx, ref.TenantID, ref.ClientID, ref.UserID)
		if err != nil || access.Live(a.ExpiresAt, now) {
			return gone(err)
		}
		before := map[string]any{"clientId": a.ClientID, "userId": a.UserID, "system": a.System, "programs": access.NonNil(a.Programs)}
		before["expiresAt"] = access.ExpiryAudit(a.ExpiresAt)
		meta := access.Meta{Audit: []access.AuditEntry{s.systemAudit(ref.TenantID, "client.admin.expired", "client", ref.ClientID, before, nil)}}
		// The owner stays system administrator of every client, so no keeper is needed.
		if err := s.Store.DeleteClientAdmin(ctx, a, nil, meta); err != nil {
			return gone(err)
		}
		return true, nil
	case access.ExpiringGroups:
		u, err := s.Store.GetUser(ctx, ref.TenantID, ref.UserID)
		if err != nil {
			return gone(err)
		}
		next := u
		next.GroupExpiry = maps.Clone(u.GroupExpiry)
		var expired []string
		for id, e := range u.GroupExpiry {
			if !access.Live(&e.At, now) {
				expired = append(expired, id)
				delete(next.GroupExpiry, id)
			}
		}
		if len(expired) == 0 {
			return false, nil
		}
		slices.Sort(expired)
		next.GroupIDs = slices.DeleteFunc(slices.Clone(u.GroupIDs), func(id string) bool { return slices.Contains(expired, id) })
		if len(next.GroupExpiry) == 0 {
			next.GroupExpiry = nil
		}
		next.Legacy = nil
		next.Version, next.UpdatedAt = u.Version+1, now
		meta := access.Meta{Audit: []access.AuditEntry{s.systemAudit(ref.TenantID, "user.groups.expired", "user", u.ID,
			map[string]any{"groupIds": access.NonNil(u.GroupIDs)}, map[string]any{"groupIds": access.NonNil(next.GroupIDs), "expired": expired})}}
		if err := s.Store.UpdateUser(ctx, u, next, meta); err != nil {
			return gone(err)
		}
		return true, nil
	}
	return false, nil
}

// noticeOne tells the granter of one expiring item, once per item and expiry.
func (s *Service) noticeOne(ctx context.Context, ref access.ExpiringRef, now time.Time) (bool, error) {
	var granter, what string
	var exp *time.Time
	switch ref.Kind {
	case access.ExpiringAssignment:
		a, err := s.Store.GetAssignment(ctx, ref.TenantID, ref.ClientID, ref.UserID)
		if err != nil {
			return false, ignoreNotFound(err)
		}
		granter, exp, what = a.GrantedBy, a.ExpiresAt, "client assignment of user "+a.UserID+" at client "+a.ClientID
	case access.ExpiringGrant:
		g, err := s.Store.GetGrant(ctx, ref.TenantID, ref.ClientID, ref.UserID)
		if err != nil {
			return false, ignoreNotFound(err)
		}
		granter, exp, what = g.GrantedBy, g.ExpiresAt, "bureau client grant of user "+g.UserID+" at client "+g.ClientID
	case access.ExpiringClientAdmin:
		a, err := s.Store.GetClientAdmin(ctx, ref.TenantID, ref.ClientID, ref.UserID)
		if err != nil {
			return false, ignoreNotFound(err)
		}
		granter, exp, what = a.GrantedBy, a.ExpiresAt, "client administration of user "+a.UserID+" at client "+a.ClientID
	case access.ExpiringGroups:
		u, err := s.Store.GetUser(ctx, ref.TenantID, ref.UserID)
		if err != nil {
			return false, ignoreNotFound(err)
		}
		sent := false
		for _, id := range slices.Sorted(maps.Keys(u.GroupExpiry)) {
			e := u.GroupExpiry[id]
			if !e.At.After(now) || e.At.Sub(now) > s.expiryNotice() {
				continue
			}
			at := e.At
			ok, err := s.notifyExpiry(ctx, ref.TenantID, e.By, "membership of user "+u.ID+" in group "+id, string(ref.Kind)+u.ID+id, &at, now)
			if err != nil {
				return sent, err
			}
			sent = sent || ok
		}
		return sent, nil
	}
	if exp == nil || !exp.After(now) {
		return false, nil
	}
	return s.notifyExpiry(ctx, ref.TenantID, granter, what, string(ref.Kind)+ref.ClientID+ref.UserID, exp, now)
}

func ignoreNotFound(err error) error {
	if access.ErrorCode(err) == access.CodeNotFound {
		return nil
	}
	return err
}

// notifyExpiry writes the granter's notice; its id is derived from what and when, so that it is
// written once whatever the number of sweeps.
func (s *Service) notifyExpiry(ctx context.Context, tenantID, granter, what, key string, exp *time.Time, now time.Time) (bool, error) {
	if granter == "" || granter == "system" {
		return false, nil
	}
	sum := sha256.Sum256([]byte(tenantID + "|" + key + "|" + exp.UTC().Format(time.RFC3339)))
	n := access.Notification{ID: "ntf_exp" + hex.EncodeToString(sum[:12]), TenantID: tenantID, UserID: granter, Type: access.NotificationExpiring,
		Title:     "Access you granted ends " + exp.UTC().Format(time.RFC3339),
		Summary:   "The " + what + " expires at " + exp.UTC().Format(time.RFC3339) + "; renew it with a later expiresAt if it is still needed.",
		CreatedAt: now, ExpiresAt: now.Add(s.notificationRetention())}
	err := s.Store.PutNotificationOnce(ctx, n)
	if errors.Is(err, access.ErrConflict) {
		return false, nil
	}
	return err == nil, err
}
