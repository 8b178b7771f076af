// Package reviews is the access reviews use cases (issue 15): a snapshot of every grant in a
// scope as review items, keep or revoke decisions by reviewers who see only what they may see and
// never decide on their own access, and completion, which applies every revoke through the use
// cases of packages clients and people (bulk bureau-grant revokes through an access job of
// package jobs), each audited with the review's id. The rules are in the policy core (package
// access: OpManageReviews, OpReadReview, OpDecideReview, guard not_self_review).
package reviews

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/tilgang/tilgang/shared/access"
	"github.com/tilgang/tilgang/shared/access/clients"
	"github.com/tilgang/tilgang/shared/access/jobs"
	"github.com/tilgang/tilgang/shared/access/people"
)

// Store is what the review use cases read and write.
type Store interface {
	access.ReviewStore
	GetUser(ctx context.Context, tenantID, userID string) (access.User, error)
	UsersByID(ctx context.Context, tenantID string, ids []string) (map[string]access.User, error)
	ListUsers(ctx context.Context, tenantID string, f access.UserFilter, p access.Page) ([]access.User, string, error)
	GetGroups(ctx context.Context, tenantID string, ids []string) (map[string]access.Group, error)
	GetClients(ctx context.Context, tenantID string, ids []string) (map[string]access.Client, error)
	ClientAssignments(ctx context.Context, tenantID, clientID string, p access.Page) ([]access.Assignment, string, error)
	ClientGrants(ctx context.Context, tenantID, clientID string, p access.Page) ([]access.ClientGrant, string, error)
	ListClientAdmins(ctx context.Context, tenantID, clientID string, p access.Page) ([]access.ClientAdmin, string, error)
	UserAssignmentsAfter(ctx context.Context, tenantID, userID, after string, limit int) ([]access.Assignment, bool, error)
	UserGrantsAfter(ctx context.Context, tenantID, userID, after string, limit int) ([]access.ClientGrant, bool, error)
	ClientRolesOf(ctx context.Context, tenantID, userID string) (access.ClientRoles, error)
	GetClientAdmin(ctx context.Context, tenantID, clientID, userID string) (access.ClientAdmin, error)
	GetAssignment(ctx context.Context, tenantID, clientID, userID string) (access.Assignment, error)
	GetGrant(ctx context.Context, tenantID, clientID, userID string) (access.ClientGrant, error)
	DeleteExpiredGrant(ctx context.Context, g access.ClientGrant, meta access.Meta) error
	PutNotificationOnce(ctx context.Context, n access.Notification) error
}

// Service carries out the review use cases. Revokes go through the use cases that own each kind
// of grant, so that they are decided and audited exactly as the direct routes are.
type Service struct {
	access.Base
	Store   Store
	Clients *clients.Service
	People  *people.Service
	Jobs    *jobs.Service
	// NotificationRetention is how long the completion notice lives (default when zero).
	NotificationRetention time.Duration
	// Log records revokes that failed for a reason other than a refusal (ids only).
	Log *slog.Logger
}

// New returns a Service with the real clock and ULID ids.
func New(store Store, cls *clients.Service, ppl *people.Service, jbs *jobs.Service) *Service {
	return &Service{Base: access.NewBase(), Store: store, Clients: cls, People: ppl, Jobs: jbs}
}

func (s *Service) logger() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}

func (s *Service) notificationRetention() time.Duration {
	if s.NotificationRetention > 0 {
		return s.NotificationRetention
	}
	return access.DefaultNotificationRetention
}

func missingIDs(ids []string, exists func(string) bool) []string {
	var out []string
	for _, id := range ids {
		if !exists(id) {
			out = append(out, id)
		}
	}
	return out
}

func reviewAudit(r access.AccessReview) map[string]any {
	m := map[string]any{"reviewId": r.ID, "status": r.Status, "items": r.Items, "reviewerIds": access.NonNil(r.ReviewerIDs),
		"clientIds": access.NonNil(r.Scope.ClientIDs), "userIds": access.NonNil(r.Scope.UserIDs), "groupIds": access.NonNil(r.Scope.GroupIDs)}
	if r.DueAt != nil {
		m["dueAt"] = r.DueAt.UTC().Format(time.RFC3339)
	}
	return m
}

// CreateReview snapshots every grant in the scope as review items. The creator must be able to
// read what the scope covers; reviewers (the creator when none are named) must be active users.
func (s *Service) CreateReview(ctx context.Context, c *access.Caller, in access.NewReview) (access.AccessReview, error) {
	if err := c.Require(access.Request{Op: access.OpManageReviews}); err != nil {
		return access.AccessReview{}, err
	}
	sc := in.Scope
	n := 0
	for _, l := range [][]string{sc.ClientIDs, sc.UserIDs, sc.GroupIDs} {
		if len(l) > 0 {
			n++
		}
	}
	if n != 1 {
		return access.AccessReview{}, access.Invalid("clientIds", "give exactly one of clientIds, userIds or groupIds, not empty")
	}
	var err error
	if sc.ClientIDs, err = access.ValidIDs("clientIds", sc.ClientIDs, access.MaxReviewScope); err != nil {
		return access.AccessReview{}, err
	}
	if sc.UserIDs, err = access.ValidIDs("userIds", sc.UserIDs, access.MaxReviewUsers); err != nil {
		return access.AccessReview{}, err
	}
	if sc.GroupIDs, err = access.ValidIDs("groupIds", sc.GroupIDs, access.MaxReviewScope); err != nil {
		return access.AccessReview{}, err
	}
	reviewers, err := access.ValidIDs("reviewerIds", in.ReviewerIDs, access.MaxReviewers)
	if err != nil {
		return access.AccessReview{}, err
	}
	if len(reviewers) == 0 {
		reviewers = []string{c.User.ID}
	}
	now := s.Now()
	if in.DueAt != nil {
		if in.DueAt, err = access.ValidExpiry("dueAt", in.DueAt, now); err != nil {
			return access.AccessReview{}, err
		}
	}
	for i, id := range reviewers {
		if !c.CanReadUser(id) {
			return access.AccessReview{}, access.Invalid(fmt.Sprintf("reviewerIds[%d]", i), "no such user")
		}
	}
	rs, err := s.Store.UsersByID(ctx, c.TenantID(), reviewers)
	if err != nil {
		return access.AccessReview{}, err
	}
	for i, id := range reviewers {
		if u, ok := rs[id]; !ok || u.Status != access.StatusActive {
			return access.AccessReview{}, access.Invalid(fmt.Sprintf("reviewerIds[%d]", i), "must be an active user of the tenant")
		}
	}
	items, err := s.snapshot(ctx, c, sc, now)
	if err != nil {
		return access.AccessReview{}, err
	}
	r := access.AccessReview{ID: s.NewID("rev"), TenantID: c.TenantID(), CreatedBy: c.User.ID, Scope: sc, ReviewerIDs: reviewers,
		DueAt: in.DueAt, Status: access.ReviewOpen, Items: len(items), CreatedAt: now, Version: 1}
	for i := range items {
		items[i].ReviewID, items[i].TenantID, items[i].Decision, items[i].Version = r.ID, r.TenantID, access.ReviewUndecided, 1
	}
	meta := access.Meta{Audit: []access.AuditEntry{s.Audit(c, "access_review.create", "access_review", r.ID, nil, reviewAudit(r))}}
	if err := s.Store.CreateReview(ctx, r, items, meta); err != nil {
		return access.AccessReview{}, err
	}
	return r, nil
}

// snapshot reads every grant in the scope; live or expired, as stored now.
func (s *Service) snapshot(ctx context.Context, c *access.Caller, sc access.ReviewScope, now time.Time) ([]access.ReviewItem, error) {
	var items []access.ReviewItem
	add := func(it access.ReviewItem) error {
		if len(items) >= access.MaxReviewItems {
			return access.Invalid("body", "the scope holds more than %d grants: review a smaller scope", access.MaxReviewItems)
		}
		items = append(items, it)
		return nil
	}
	addAssignment := func(a access.Assignment) error {
		return add(access.ReviewItem{Kind: access.ReviewAssignment, UserID: a.UserID, ClientID: a.ClientID, Level: a.Level, Source: string(a.Source),
			GrantedBy: a.GrantedBy, Since: a.CreatedAt, ExpiresAt: a.ExpiresAt})
	}
	addGrant := func(g access.ClientGrant) error {
		return add(access.ReviewItem{Kind: access.ReviewGrant, UserID: g.UserID, ClientID: g.ClientID, Level: g.Level, Programs: access.NonNil(g.Programs),
			Source: g.Source, GrantedBy: g.GrantedBy, Since: g.GrantedAt, ExpiresAt: g.ExpiresAt})
	}
	addAdmin := func(a access.ClientAdmin) error {
		return add(access.ReviewItem{Kind: access.ReviewClientAdmin, UserID: a.UserID, ClientID: a.ClientID, System: a.System, Programs: access.NonNil(a.Programs),
			Source: "client_admin", GrantedBy: a.GrantedBy, Since: a.UpdatedAt, ExpiresAt: a.ExpiresAt})
	}
	addGroup := func(u access.User, gid string) error {
		it := access.ReviewItem{Kind: access.ReviewGroup, UserID: u.ID, GroupID: gid, Source: "group", Since: u.UpdatedAt}
		if e, ok := u.GroupExpiry[gid]; ok {
			at := e.At
			it.ExpiresAt, it.GrantedBy = &at, e.By
		}
		return add(it)
	}
	switch {
	case len(sc.ClientIDs) > 0:
		if err := c.RequireReadClientAccess(); err != nil {
			return nil, err
		}
		clients, err := s.Store.GetClients(ctx, c.TenantID(), sc.ClientIDs)
		if err != nil {
			return nil, err
		}
		if missing := missingIDs(sc.ClientIDs, func(id string) bool { _, ok := clients[id]; return ok }); len(missing) > 0 {
			return nil, access.Invalid("clientIds", "no such client: %s", access.ListIDs(missing))
		}
		for _, cid := range sc.ClientIDs {
			if err := pages(func(p access.Page) (string, error) {
				asgs, next, err := s.Store.ClientAssignments(ctx, c.TenantID(), cid, p)
				for _, a := range asgs {
					if err := addAssignment(a); err != nil {
						return "", err
					}
				}
				return next, err
			}); err != nil {
				return nil, err
			}
			if err := pages(func(p access.Page) (string, error) {
				gs, next, err := s.Store.ClientGrants(ctx, c.TenantID(), cid, p)
				for _, g := range gs {
					if err := addGrant(g); err != nil {
						return "", err
					}
				}
				return next, err
			}); err != nil {
				return nil, err
			}
			if err := pages(func(p access.Page) (string, error) {
				as, next, err := s.Store.ListClientAdmins(ctx, c.TenantID(), cid, p)
				for _, a := range as {
					if err := addAdmin(a); err != nil {
						return "", err
					}
				}
				return next, err
			}); err != nil {
				return nil, err
			}
		}
	case len(sc.UserIDs) > 0:
		for i, uid := range sc.UserIDs {
			if !c.CanReadUser(uid) {
				return nil, access.Invalid(fmt.Sprintf("userIds[%d]", i), "no such user")
			}
		}
		users, err := s.Store.UsersByID(ctx, c.TenantID(), sc.UserIDs)
		if err != nil {
			return nil, err
		}
		if missing := missingIDs(sc.UserIDs, func(id string) bool { _, ok := users[id]; return ok }); len(missing) > 0 {
			return nil, access.Invalid("userIds", "no such user: %s", access.ListIDs(missing))
		}
		for _, uid := range sc.UserIDs {
			u := users[uid]
			for _, gid := range u.GroupIDs {
				if err := addGroup(u, gid); err != nil {
					return nil, err
				}
			}
			for after, more := "", true; more; {
				var asgs []access.Assignment
				if asgs, more, err = s.Store.UserAssignmentsAfter(ctx, c.TenantID(), uid, after, access.MaxPageLimit); err != nil {
					return nil, err
				}
				for _, a := range asgs {
					if err := addAssignment(a); err != nil {
						return nil, err
					}
					after = a.ClientID
				}
				more = more && len(asgs) > 0
			}
			for after, more := "", true; more; {
				var gs []access.ClientGrant
				if gs, more, err = s.Store.UserGrantsAfter(ctx, c.TenantID(), uid, after, access.MaxPageLimit); err != nil {
					return nil, err
				}
				for _, g := range gs {
					if err := addGrant(g); err != nil {
						return nil, err
					}
					after = g.ClientID
				}
				more = more && len(gs) > 0
			}
			roles, err := s.Store.ClientRolesOf(ctx, c.TenantID(), uid)
			if err != nil {
				return nil, err
			}
			for _, cid := range roles.AdminOf {
				a, err := s.Store.GetClientAdmin(ctx, c.TenantID(), cid, uid)
				if access.ErrorCode(err) == access.CodeNotFound {
					continue
				}
				if err != nil {
					return nil, err
				}
				if err := addAdmin(a); err != nil {
					return nil, err
				}
			}
		}
	default:
		if err := c.Require(access.Request{Op: access.OpListUsers}); err != nil {
			return nil, err
		}
		groups, err := s.Store.GetGroups(ctx, c.TenantID(), sc.GroupIDs)
		if err != nil {
			return nil, err
		}
		if missing := missingIDs(sc.GroupIDs, func(id string) bool { _, ok := groups[id]; return ok }); len(missing) > 0 {
			return nil, access.Invalid("groupIds", "no such group: %s", access.ListIDs(missing))
		}
		for _, gid := range sc.GroupIDs {
			if _, ok := groups[gid]; !ok {
				continue
			}
			if err := pages(func(p access.Page) (string, error) {
				us, next, err := s.Store.ListUsers(ctx, c.TenantID(), access.UserFilter{GroupID: gid, Statuses: []access.Status{access.StatusActive, access.StatusDeactivated, access.StatusRemoved}}, p)
				for _, u := range us {
					if err := addGroup(u, gid); err != nil {
						return "", err
					}
				}
				return next, err
			}); err != nil {
				return nil, err
			}
		}
	}
	slices.SortFunc(items, func(a, b access.ReviewItem) int { return strings.Compare(a.Key(), b.Key()) })
	return slices.CompactFunc(items, func(a, b access.ReviewItem) bool { return a.Key() == b.Key() }), nil
}

// pages calls fn with successive pages until it returns no cursor.
func pages(fn func(access.Page) (string, error)) error {
	p := access.Page{Limit: access.MaxPageLimit}
	for {
		next, err := fn(p)
		if err != nil || next == "" {
			return err
		}
		p.Cursor = next
	}
}

// GetReview reads a review: its creator, its reviewers and the owner may.
func (s *Service) GetReview(ctx context.Context, c *access.Caller, id string) (access.AccessReview, error) {
	if access.ValidID("reviewId", id) != nil {
		return access.AccessReview{}, access.NotFound("access review")
	}
	r, err := s.Store.GetReview(ctx, c.TenantID(), id)
	if err != nil {
		return access.AccessReview{}, err
	}
	if err := c.Require(access.Request{Op: access.OpReadReview, Review: &r}); err != nil {
		return access.AccessReview{}, err
	}
	return r, nil
}

// ListReviews pages the reviews the caller may read, newest first.
func (s *Service) ListReviews(ctx context.Context, c *access.Caller, p access.Page) ([]access.AccessReview, string, error) {
	p, err := p.Normalize()
	if err != nil {
		return nil, "", err
	}
	rs, next, err := s.Store.ListReviews(ctx, c.TenantID(), p)
	if err != nil {
		return nil, "", err
	}
	out := rs[:0]
	for _, r := range rs {
		if c.Decide(access.Request{Op: access.OpReadReview, Review: &r}).Allowed {
			out = append(out, r)
		}
	}
	return out, next, nil
}

// visible reports whether the caller may see an item: reviewers see only what they may see
// (the user, and for a client item who can open the client).
func visible(c *access.Caller, it access.ReviewItem) bool {
	if !c.CanReadUser(it.UserID) {
		return false
	}
	return it.ClientID == "" || c.Decide(access.Request{Op: access.OpReadClientAccess}).Allowed
}

// ReviewItems pages a review's items the caller may see, by key, optionally only those with one
// decision (keep, revoke or undecided).
func (s *Service) ReviewItems(ctx context.Context, c *access.Caller, id string, decision access.ReviewDecision, p access.Page) ([]access.ReviewItem, string, error) {
	if decision != "" && decision != access.ReviewKeep && decision != access.ReviewRevoke && decision != access.ReviewUndecided {
		return nil, "", access.Invalid("decision", "must be keep, revoke or undecided")
	}
	p, err := p.Normalize()
	if err != nil {
		return nil, "", err
	}
	after := ""
	if p.Cursor != "" {
		b, err := base64.RawURLEncoding.DecodeString(p.Cursor)
		if err != nil || !strings.HasPrefix(string(b), id+"|") {
			return nil, "", access.Invalid("cursor", "is not a cursor of this list")
		}
		after = strings.TrimPrefix(string(b), id+"|")
	}
	r, err := s.GetReview(ctx, c, id)
	if err != nil {
		return nil, "", err
	}
	all, err := s.Store.ReviewItems(ctx, c.TenantID(), r.ID)
	if err != nil {
		return nil, "", err
	}
	var out []access.ReviewItem
	for _, it := range all {
		if it.Key() <= after || (decision != "" && it.Decision != decision) || !visible(c, it) {
			continue
		}
		if len(out) == p.Limit {
			last := out[len(out)-1].Key()
			return out, base64.RawURLEncoding.EncodeToString([]byte(r.ID + "|" + last)), nil
		}
		out = append(out, it)
	}
	return out, "", nil
}

// DecisionInput is one decision: the items of a user at a client (or in a group), all
// kinds or one.
type DecisionInput struct {
	UserID   string
	ClientID string
	GroupID  string
	Kind     access.ReviewItemKind
	Decision access.ReviewDecision
	Comment  string
}

// refuseCommentsOnAnonymised refuses a comment on an item about an anonymised user: the
// anonymisation removed the comments about them (a settled effect of its marker), and a new one
// would keep what it removed. A decision without a comment stays possible.
func (s *Service) refuseCommentsOnAnonymised(ctx context.Context, c *access.Caller, in []DecisionInput) error {
	var ids []string
	for _, d := range in {
		if strings.TrimSpace(d.Comment) != "" && !slices.Contains(ids, d.UserID) {
			ids = append(ids, d.UserID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	users, err := s.Store.UsersByID(ctx, c.TenantID(), ids)
	if err != nil {
		return err
	}
	for i, d := range in {
		if u, ok := users[d.UserID]; ok && u.Status == access.StatusAnonymised && strings.TrimSpace(d.Comment) != "" {
			return &access.Error{Code: access.CodeConflict, Field: fmt.Sprintf("items[%d].comment", i),
				Message: "the user is anonymised: a comment about them is not kept"}
		}
	}
	return nil
}

// DecideReview records decisions on items of an open review. Each decision names items the
// caller may see; nobody decides on their own access. Every decision is audited with the review id.
func (s *Service) DecideReview(ctx context.Context, c *access.Caller, id string, in []DecisionInput) ([]access.ReviewItem, error) {
	if len(in) == 0 {
		return nil, access.Invalid("items", "must hold at least one decision")
	}
	if len(in) > access.MaxReviewDecisions {
		return nil, access.Invalid("items", "must have at most %d decisions per request", access.MaxReviewDecisions)
	}
	for i, d := range in {
		f := fmt.Sprintf("items[%d]", i)
		switch {
		case d.UserID == "":
			return nil, access.Invalid(f+".userId", "is required")
		case d.Decision != access.ReviewKeep && d.Decision != access.ReviewRevoke:
			return nil, access.Invalid(f+".decision", "must be keep or revoke")
		case d.ClientID != "" && d.GroupID != "":
			return nil, access.Invalid(f+".groupId", "name a client or a group, not both")
		case d.ClientID == "" && d.GroupID == "":
			return nil, access.Invalid(f+".clientId", "name the client (or groupId for a group membership)")
		case d.Kind != "" && d.Kind != access.ReviewAssignment && d.Kind != access.ReviewGrant && d.Kind != access.ReviewClientAdmin && d.Kind != access.ReviewGroup:
			return nil, access.Invalid(f+".kind", "must be assignment, grant, client_admin or group")
		case len(d.Comment) > 1000:
			return nil, access.Invalid(f+".comment", "must be at most 1000 characters")
		}
	}
	if err := s.refuseCommentsOnAnonymised(ctx, c, in); err != nil {
		return nil, err
	}
	var out []access.ReviewItem
	err := access.Retry(nil, "access review", func() error {
		r, err := s.GetReview(ctx, c, id)
		if err != nil {
			return err
		}
		if r.Status != access.ReviewOpen {
			return access.Conflict("the review is %s: decisions are closed", r.Status)
		}
		all, err := s.Store.ReviewItems(ctx, c.TenantID(), r.ID)
		if err != nil {
			return err
		}
		now := s.Now()
		byKey := map[string]int{}
		var changed []access.ReviewItem
		var audit []access.AuditEntry
		for i, d := range in {
			f := fmt.Sprintf("items[%d]", i)
			matched := 0
			for _, it := range all {
				if it.UserID != d.UserID || (d.ClientID != "" && it.ClientID != d.ClientID) || (d.GroupID != "" && it.GroupID != d.GroupID) ||
					(d.Kind != "" && it.Kind != d.Kind) || (d.ClientID == "" && it.Kind != access.ReviewGroup) {
					continue
				}
				if !visible(c, it) {
					continue
				}
				target := access.User{ID: it.UserID}
				if d := c.Decide(access.Request{Op: access.OpDecideReview, Review: &r, Target: &target}); !d.Allowed {
					return &access.Error{Code: access.CodeForbidden, Field: f + ".userId", Message: d.Reason()}
				}
				matched++
				next := it
				if k, ok := byKey[it.Key()]; ok {
					next = changed[k]
				}
				next.Decision, next.Comment, next.DecidedBy = d.Decision, strings.TrimSpace(d.Comment), c.User.ID
				at := now
				next.DecidedAt = &at
				if k, ok := byKey[it.Key()]; ok {
					changed[k] = next
				} else {
					byKey[it.Key()] = len(changed)
					changed = append(changed, next)
				}
				after := map[string]any{"reviewId": r.ID, "kind": it.Kind, "userId": it.UserID, "decision": d.Decision}
				if it.ClientID != "" {
					after["clientId"] = it.ClientID
				}
				if it.GroupID != "" {
					after["groupId"] = it.GroupID
				}
				audit = append(audit, s.Audit(c, "access_review.decide", "access_review", r.ID,
					map[string]any{"decision": it.Decision}, after))
			}
			if matched == 0 {
				return access.Invalid(f, "names no item of this review")
			}
		}
		if len(changed)+len(audit) > 99 {
			return access.Invalid("items", "these decisions touch too many items at once: send fewer per request")
		}
		if err := s.Store.UpdateReviewItems(ctx, r, changed, access.Meta{Audit: audit}); err != nil {
			return err
		}
		out = changed
		return nil
	})
	return out, err
}

// ReviewCompletion is what completing a review did.
type ReviewCompletion struct {
	Review    access.AccessReview
	Revoked   []access.ReviewItem // revoke decisions with their outcomes
	Undecided []access.ReviewItem // items nobody decided: left as they are
}

// CompleteReview applies every revoke of an open review, each as the direct route would with
// the completer as principal (refusals are recorded as not_permitted, never forced), records
// every item's outcome, closes the review and notifies its creator. Undecided items stay as they
// are and are listed. Completing a completed review answers 409.
func (s *Service) CompleteReview(ctx context.Context, c *access.Caller, id string) (ReviewCompletion, error) {
	r, err := s.GetReview(ctx, c, id)
	if err != nil {
		return ReviewCompletion{}, err
	}
	if err := c.Require(access.Request{Op: access.OpDecideReview, Review: &r}); err != nil {
		return ReviewCompletion{}, err
	}
	if r.Status != access.ReviewOpen {
		return ReviewCompletion{}, access.Conflict("the review is already %s", r.Status)
	}
	all, err := s.Store.ReviewItems(ctx, c.TenantID(), r.ID)
	if err != nil {
		return ReviewCompletion{}, err
	}
	all, err = s.revokeByJobs(ctx, c, r, all)
	if err != nil {
		return ReviewCompletion{}, err
	}
	var res ReviewCompletion
	counts := map[string]int{}
	for _, it := range all {
		counts[string(it.Decision)]++
		switch it.Decision {
		case access.ReviewUndecided:
			res.Undecided = append(res.Undecided, it)
			continue
		case access.ReviewKeep:
			continue
		}
		if it.Outcome == "" {
			o, reason := s.applyRevoke(ctx, c, r, it)
			it.Outcome, it.Reason = o, reason
			next := it
			next.Version = it.Version
			if err := s.Store.UpdateReviewItems(ctx, r, []access.ReviewItem{next}, access.Meta{}); err != nil {
				return ReviewCompletion{}, err
			}
			it.Version++
		}
		counts[string(it.Outcome)]++
		res.Revoked = append(res.Revoked, it)
	}
	now := s.Now()
	next := r
	next.Status, next.CompletedAt, next.CompletedBy, next.Counts, next.Version = access.ReviewCompleted, &now, c.User.ID, counts, r.Version+1
	undecided := make([]string, 0, len(res.Undecided))
	for _, it := range res.Undecided {
		undecided = append(undecided, it.Key())
	}
	after := reviewAudit(next)
	after["counts"], after["undecided"] = counts, undecided
	notDone := len(res.Revoked) - counts[string(access.ReviewRemoved)] - counts[string(access.ReviewAlreadyGone)] - counts[string(access.ReviewQueued)]
	n := access.Notification{ID: "ntf_" + strings.TrimPrefix(r.ID, "rev_"), TenantID: r.TenantID, UserID: r.CreatedBy, Type: access.NotificationReviewCompleted,
		Title: fmt.Sprintf("Access review completed: %d revoked, %d not done, %d undecided", counts[string(access.ReviewRemoved)], notDone, len(res.Undecided)),
		Summary: fmt.Sprintf("%d items: %d kept, %d revoke decisions (%d removed, %d queued in access jobs, %d already gone, %d not permitted, %d failed), %d undecided; see the review's items for each outcome",
			r.Items, counts[string(access.ReviewKeep)], len(res.Revoked), counts[string(access.ReviewRemoved)], counts[string(access.ReviewQueued)], counts[string(access.ReviewAlreadyGone)],
			counts[string(access.ReviewNotPermitted)], counts[string(access.ReviewFailed)], len(res.Undecided)),
		CreatedAt: now, ExpiresAt: now.Add(s.notificationRetention())}
	meta := access.Meta{Audit: []access.AuditEntry{s.Audit(c, "access_review.complete", "access_review", r.ID, map[string]any{"status": r.Status}, after)}}
	err = s.Store.CompleteReview(ctx, r, next, meta)
	if errors.Is(err, access.ErrVersionConflict) {
		return ReviewCompletion{}, access.Conflict("the review was completed or changed meanwhile; read it again")
	}
	if err != nil {
		return ReviewCompletion{}, err
	}
	if err := s.Store.PutNotificationOnce(ctx, n); err != nil && !errors.Is(err, access.ErrConflict) {
		s.logger().WarnContext(ctx, "review notification failed", "reviewId", r.ID, "error", err.Error())
	}
	res.Review = next
	return res, nil
}

// revokeByJobs hands bulk bureau-grant revokes to access jobs: per client with at least
// access.ReviewJobThreshold grant revokes not applied yet, one revoke job over those consultants, the
// completer as requester (so the job decides each item by the same rule, records per-item
// results and notifies the completer). A revoke job also ends the consultant's assignment at the
// client, so a pair with any item decided keep is left to the direct path. Items handed over are
// marked queued with the job's id; when no job can be submitted (no right to submit jobs, no
// queue) the items stay for the direct path.
func (s *Service) revokeByJobs(ctx context.Context, c *access.Caller, r access.AccessReview, all []access.ReviewItem) ([]access.ReviewItem, error) {
	kept := map[string]bool{}
	for _, it := range all {
		// Anything at the client that is not decided revoke stays as it is: a revoke job would
		// take the assignment along with the grant.
		if it.Decision != access.ReviewRevoke && it.ClientID != "" {
			kept[it.ClientID+"#"+it.UserID] = true
		}
	}
	byClient := map[string][]int{}
	for i, it := range all {
		if it.Kind == access.ReviewGrant && it.Decision == access.ReviewRevoke && it.Outcome == "" && !kept[it.ClientID+"#"+it.UserID] {
			byClient[it.ClientID] = append(byClient[it.ClientID], i)
		}
	}
	if s.Jobs == nil || s.Jobs.Queue == nil || c.Require(access.Request{Op: access.OpSubmitJobs}) != nil {
		return all, nil
	}
	for _, cid := range sortedKeys(byClient) {
		idx := byClient[cid]
		if len(idx) < access.ReviewJobThreshold {
			continue
		}
		users := make([]string, 0, len(idx))
		for _, i := range idx {
			users = append(users, all[i].UserID)
		}
		j, _, err := s.Jobs.CreateJob(ctx, c, access.NewJob{Action: access.JobRevoke, ConsultantIDs: users, ClientIDs: []string{cid}, ReviewID: r.ID}, nil)
		if err != nil {
			if access.ErrorCode(err) != "" {
				continue // refused or invalid (a consultant deleted meanwhile): the direct path decides per item
			}
			return nil, err
		}
		changed := make([]access.ReviewItem, 0, len(idx))
		for _, i := range idx {
			it := all[i]
			it.Outcome, it.JobID, it.Reason = access.ReviewQueued, j.ID, "handed to access job "+j.ID+": its results say what was removed"
			changed = append(changed, it)
		}
		for start := 0; start < len(changed); start += 90 {
			part := changed[start:min(start+90, len(changed))]
			if err := s.Store.UpdateReviewItems(ctx, r, part, access.Meta{}); err != nil {
				return nil, err
			}
		}
		for k, i := range idx {
			all[i] = changed[k]
			all[i].Version++
		}
	}
	return all, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// applyRevoke removes what one revoke decision names through the use case that owns it, with
// the completer as principal and the review's id on every audit entry.
func (s *Service) applyRevoke(ctx context.Context, c *access.Caller, r access.AccessReview, it access.ReviewItem) (access.ReviewOutcome, string) {
	if !c.CanReadUser(it.UserID) {
		return access.ReviewNotPermitted, "you may not read this user"
	}
	tagged := *c
	tagged.AuditTag = map[string]any{"reviewId": r.ID}
	tc := &tagged
	gone := func(err error) bool { return access.ErrorCode(err) == access.CodeNotFound }
	var err error
	switch it.Kind {
	case access.ReviewAssignment:
		if _, err = s.Store.GetAssignment(ctx, c.TenantID(), it.ClientID, it.UserID); err == nil {
			err = s.Clients.RemoveAssignment(ctx, tc, it.ClientID, it.UserID)
		}
	case access.ReviewClientAdmin:
		if _, err = s.Store.GetClientAdmin(ctx, c.TenantID(), it.ClientID, it.UserID); err == nil {
			err = s.Clients.RemoveClientAdmin(ctx, tc, it.ClientID, it.UserID)
		}
	case access.ReviewGrant:
		err = access.Retry(nil, "client grant", func() error { return s.removeGrant(ctx, tc, it) })
	case access.ReviewGroup:
		var u access.User
		if u, err = s.Store.GetUser(ctx, c.TenantID(), it.UserID); err == nil {
			if !u.InGroup(it.GroupID) {
				return access.ReviewAlreadyGone, "there was nothing left to remove"
			}
			// Memberships that have already expired go too: rewriting them without their expiry
			// would bring them back for good.
			ids := slices.DeleteFunc(slices.Clone(u.GroupIDs), func(g string) bool {
				e, timed := u.GroupExpiry[g]
				return g == it.GroupID || timed && !access.Live(&e.At, s.Now())
			})
			exp := map[string]time.Time{}
			for g, e := range u.GroupExpiry {
				if g != it.GroupID && access.Live(&e.At, s.Now()) {
					exp[g] = e.At
				}
			}
			_, err = s.People.SetGroupsUntil(ctx, tc, it.UserID, ids, exp, nil)
		}
	}
	switch {
	case err == nil:
		return access.ReviewRemoved, "removed"
	case gone(err) && c.CanReadUser(it.UserID):
		return access.ReviewAlreadyGone, "there was nothing left to remove"
	}
	var de *access.Error
	if errors.As(err, &de) && de.Code != access.CodeInvalid {
		return access.ReviewNotPermitted, de.Message
	}
	s.logger().ErrorContext(ctx, "review revoke failed", "reviewId", r.ID, "item", it.Key(), "error", err.Error())
	return access.ReviewFailed, "the change could not be written; revoke it directly or in a new review"
}

// removeGrant ends one bureau grant as a revoke job item would: the completer must be system
// administrator of the client, or program administrator of every program the consultant has there.
func (s *Service) removeGrant(ctx context.Context, c *access.Caller, it access.ReviewItem) error {
	g, err := s.Store.GetGrant(ctx, c.TenantID(), it.ClientID, it.UserID)
	if err != nil {
		return err
	}
	target, err := s.Store.GetUser(ctx, c.TenantID(), it.UserID)
	if err != nil {
		return err
	}
	mine := access.ClientAdmin{System: c.User.IsOwner, Implicit: c.User.IsOwner}
	if !c.User.IsOwner {
		a, err := s.Store.GetClientAdmin(ctx, c.TenantID(), it.ClientID, c.User.ID)
		switch {
		case err == nil:
			mine = a
		case access.ErrorCode(err) != access.CodeNotFound:
			return err
		}
	}
	if err := c.Require(access.Request{Op: access.OpRevokeClient, Target: &target, Client: &access.ClientFacts{Admin: &mine, Grant: &g}}); err != nil {
		return err
	}
	e := s.Audit(c, "client.grant.delete", "client", it.ClientID, map[string]any{"clientId": g.ClientID, "userId": g.UserID,
		"level": g.Level, "programs": access.NonNil(g.Programs)}, nil)
	return s.Store.DeleteExpiredGrant(ctx, g, access.Meta{Audit: []access.AuditEntry{e}})
}
