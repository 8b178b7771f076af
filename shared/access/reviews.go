package access

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Access reviews (issue 15): a snapshot of every grant in a scope (clients, users or groups) as
// review items; reviewers decide keep or revoke per item; completion applies every revoke with
// the completer as principal (the same policy rules as the direct routes), records each item's
// outcome, notifies the review's creator and closes the review. Every decision, every change
// and the completion are audited with the review's id, so the trail (who decided what, and what
// changed as a result) is readable from the API.

// ReviewStatus is where a review is.
type ReviewStatus string

// Review statuses.
const (
	ReviewOpen      ReviewStatus = "open"
	ReviewCompleted ReviewStatus = "completed"
)

// ReviewItemKind is the kind of grant a review item snapshots.
type ReviewItemKind string

// Kinds of review items.
const (
	ReviewAssignment  ReviewItemKind = "assignment"   // a client assignment
	ReviewGrant       ReviewItemKind = "grant"        // a bureau client grant
	ReviewClientAdmin ReviewItemKind = "client_admin" // client administration
	ReviewGroup       ReviewItemKind = "group"        // membership of a permission group
)

// ReviewDecision is a reviewer's verdict on an item.
type ReviewDecision string

// Decisions; ReviewUndecided is the state of an item nobody decided.
const (
	ReviewKeep      ReviewDecision = "keep"
	ReviewRevoke    ReviewDecision = "revoke"
	ReviewUndecided ReviewDecision = "undecided"
)

// ReviewOutcome is what completion did with a revoke.
type ReviewOutcome string

// Outcomes of a revoke at completion.
const (
	ReviewRemoved      ReviewOutcome = "removed"
	ReviewAlreadyGone  ReviewOutcome = "not_assigned_before" // nothing left to remove
	ReviewNotPermitted ReviewOutcome = "not_permitted"
	ReviewFailed       ReviewOutcome = "failed"
	// ReviewQueued: handed to an access job (JobID), whose results hold the outcome.
	ReviewQueued ReviewOutcome = "queued"
)

// ReviewJobThreshold is how many bureau-grant revokes at one client make completion hand them to
// a revoke access job (queued, per-item results, a notification to the completer) instead of
// applying them within the request.
const ReviewJobThreshold = 10

// NotificationReviewCompleted is the type of the notification a review's creator gets.
const NotificationReviewCompleted = "access_review_completed"

// Limits of a review.
const (
	MaxReviewScope     = 20   // clients or groups per review
	MaxReviewUsers     = 50   // users per review
	MaxReviewers       = 20   // reviewers per review
	MaxReviewItems     = 1000 // items one snapshot may hold
	MaxReviewDecisions = 25   // decisions per request
)

// ReviewScope is what a review covers: exactly one of the lists is set.
type ReviewScope struct {
	ClientIDs []string
	UserIDs   []string
	GroupIDs  []string
}

// AccessReview is one review.
type AccessReview struct {
	ID          string
	TenantID    string
	CreatedBy   string
	Scope       ReviewScope
	ReviewerIDs []string
	DueAt       *time.Time
	Status      ReviewStatus
	Items       int
	CreatedAt   time.Time
	CompletedAt *time.Time
	CompletedBy string
	// Counts holds, once completed, the number of items per decision and outcome.
	Counts  map[string]int
	Version int
}

// ReviewItem is one grant of the snapshot with its decision and, after completion, its outcome.
type ReviewItem struct {
	ReviewID  string
	TenantID  string
	Kind      ReviewItemKind
	UserID    string
	ClientID  string // assignment, grant, client_admin
	GroupID   string // group
	Level     Level  // assignment, grant
	Programs  []string
	System    bool   // client_admin
	Source    string // how it was given: assignment source, the job of a grant, "group"
	GrantedBy string
	Since     time.Time
	ExpiresAt *time.Time

	Decision  ReviewDecision
	Comment   string
	DecidedBy string
	DecidedAt *time.Time

	Outcome ReviewOutcome
	Reason  string
	JobID   string // the access job applying a queued revoke
	Version int
}

// Key identifies an item within its review.
func (it ReviewItem) Key() string {
	on := it.ClientID
	if it.Kind == ReviewGroup {
		on = it.GroupID
	}
	return string(it.Kind) + "#" + on + "#" + it.UserID
}

// ReviewStore keeps reviews and their items.
type ReviewStore interface {
	// CreateReview writes the items and then the review with the meta; ErrConflict if it exists.
	CreateReview(ctx context.Context, r AccessReview, items []ReviewItem, meta Meta) error
	// GetReview returns ErrNotFound for a missing review or one of another tenant.
	GetReview(ctx context.Context, tenantID, id string) (AccessReview, error)
	// ListReviews pages a tenant's reviews, newest first.
	ListReviews(ctx context.Context, tenantID string, p Page) ([]AccessReview, string, error)
	// ReviewItems reads every item of a review, by key.
	ReviewItems(ctx context.Context, tenantID, reviewID string) ([]ReviewItem, error)
	// UpdateReviewItems writes items, each conditional on the version read, while the review is
	// still at r.Version and open; ErrVersionConflict otherwise.
	UpdateReviewItems(ctx context.Context, r AccessReview, items []ReviewItem, meta Meta) error
	// CompleteReview writes next over prev (conditional on prev's version) with the meta.
	CompleteReview(ctx context.Context, prev, next AccessReview, meta Meta) error
}

// NewReview is a review to start.
type NewReview struct {
	Scope       ReviewScope
	ReviewerIDs []string
	DueAt       *time.Time
}

// The review rules live in the policy table (policy.go): OpManageReviews, OpReadReview,
// OpDecideReview. Nobody reviews their own access (guard not_self_review).

var gNotSelfReview = guard{"not_self_review", CodeForbidden, "nobody reviews their own access", isSelf}

// decideReview: the account owner, the review's creator and its reviewers.
func decideReview(p Principal, r Request) Decision {
	switch {
	case r.Review == nil:
		return refuse("", "no review")
	case p.User.IsOwner:
		return allow(LevelNone, "the account owner")
	case r.Review.CreatedBy == p.User.ID:
		return allow(LevelNone, "the review's creator")
	case slices.Contains(r.Review.ReviewerIDs, p.User.ID):
		return allow(LevelNone, "a reviewer of the review")
	}
	return Decision{Level: LevelNone, Code: CodeNotFound, Reason: "access review not found"}
}

func reviewAudit(r AccessReview) map[string]any {
	m := map[string]any{"reviewId": r.ID, "status": r.Status, "items": r.Items, "reviewerIds": nonNil(r.ReviewerIDs),
		"clientIds": nonNil(r.Scope.ClientIDs), "userIds": nonNil(r.Scope.UserIDs), "groupIds": nonNil(r.Scope.GroupIDs)}
	if r.DueAt != nil {
		m["dueAt"] = r.DueAt.UTC().Format(time.RFC3339)
	}
	return m
}

// CreateReview snapshots every grant in the scope as review items. The creator must be able to
// read what the scope covers; reviewers (the creator when none are named) must be active users.
func (s *Service) CreateReview(ctx context.Context, c *Caller, in NewReview) (AccessReview, error) {
	if err := c.require(Request{Op: OpManageReviews}); err != nil {
		return AccessReview{}, err
	}
	sc := in.Scope
	n := 0
	for _, l := range [][]string{sc.ClientIDs, sc.UserIDs, sc.GroupIDs} {
		if len(l) > 0 {
			n++
		}
	}
	if n != 1 {
		return AccessReview{}, Invalid("clientIds", "give exactly one of clientIds, userIds or groupIds, not empty")
	}
	var err error
	if sc.ClientIDs, err = validIDs("clientIds", sc.ClientIDs, MaxReviewScope); err != nil {
		return AccessReview{}, err
	}
	if sc.UserIDs, err = validIDs("userIds", sc.UserIDs, MaxReviewUsers); err != nil {
		return AccessReview{}, err
	}
	if sc.GroupIDs, err = validIDs("groupIds", sc.GroupIDs, MaxReviewScope); err != nil {
		return AccessReview{}, err
	}
	reviewers, err := validIDs("reviewerIds", in.ReviewerIDs, MaxReviewers)
	if err != nil {
		return AccessReview{}, err
	}
	if len(reviewers) == 0 {
		reviewers = []string{c.User.ID}
	}
	now := s.Now()
	if in.DueAt != nil {
		if in.DueAt, err = validExpiry("dueAt", in.DueAt, now); err != nil {
			return AccessReview{}, err
		}
	}
	for i, id := range reviewers {
		if !c.canReadUser(id) {
			return AccessReview{}, Invalid(fmt.Sprintf("reviewerIds[%d]", i), "no such user")
		}
	}
	rs, err := s.Store.UsersByID(ctx, c.TenantID(), reviewers)
	if err != nil {
		return AccessReview{}, err
	}
	for i, id := range reviewers {
		if u, ok := rs[id]; !ok || u.Status != StatusActive {
			return AccessReview{}, Invalid(fmt.Sprintf("reviewerIds[%d]", i), "must be an active user of the tenant")
		}
	}
	items, err := s.snapshot(ctx, c, sc, now)
	if err != nil {
		return AccessReview{}, err
	}
	r := AccessReview{ID: s.NewID("rev"), TenantID: c.TenantID(), CreatedBy: c.User.ID, Scope: sc, ReviewerIDs: reviewers,
		DueAt: in.DueAt, Status: ReviewOpen, Items: len(items), CreatedAt: now, Version: 1}
	for i := range items {
		items[i].ReviewID, items[i].TenantID, items[i].Decision, items[i].Version = r.ID, r.TenantID, ReviewUndecided, 1
	}
	meta := Meta{Audit: []AuditEntry{s.audit(c, "access_review.create", "access_review", r.ID, nil, reviewAudit(r))}}
	if err := s.Store.CreateReview(ctx, r, items, meta); err != nil {
		return AccessReview{}, err
	}
	return r, nil
}

// snapshot reads every grant in the scope; live or expired, as stored now.
func (s *Service) snapshot(ctx context.Context, c *Caller, sc ReviewScope, now time.Time) ([]ReviewItem, error) {
	var items []ReviewItem
	add := func(it ReviewItem) error {
		if len(items) >= MaxReviewItems {
			return Invalid("body", "the scope holds more than %d grants: review a smaller scope", MaxReviewItems)
		}
		items = append(items, it)
		return nil
	}
	addAssignment := func(a Assignment) error {
		return add(ReviewItem{Kind: ReviewAssignment, UserID: a.UserID, ClientID: a.ClientID, Level: a.Level, Source: string(a.Source),
			GrantedBy: a.GrantedBy, Since: a.CreatedAt, ExpiresAt: a.ExpiresAt})
	}
	addGrant := func(g ClientGrant) error {
		return add(ReviewItem{Kind: ReviewGrant, UserID: g.UserID, ClientID: g.ClientID, Level: g.Level, Programs: nonNil(g.Programs),
			Source: g.Source, GrantedBy: g.GrantedBy, Since: g.GrantedAt, ExpiresAt: g.ExpiresAt})
	}
	addAdmin := func(a ClientAdmin) error {
		return add(ReviewItem{Kind: ReviewClientAdmin, UserID: a.UserID, ClientID: a.ClientID, System: a.System, Programs: nonNil(a.Programs),
			Source: "client_admin", GrantedBy: a.GrantedBy, Since: a.UpdatedAt, ExpiresAt: a.ExpiresAt})
	}
	addGroup := func(u User, gid string) error {
		it := ReviewItem{Kind: ReviewGroup, UserID: u.ID, GroupID: gid, Source: "group", Since: u.UpdatedAt}
		if e, ok := u.GroupExpiry[gid]; ok {
			at := e.At
			it.ExpiresAt, it.GrantedBy = &at, e.By
		}
		return add(it)
	}
	switch {
	case len(sc.ClientIDs) > 0:
		if err := c.requireReadClientAccess(); err != nil {
			return nil, err
		}
		clients, err := s.Store.GetClients(ctx, c.TenantID(), sc.ClientIDs)
		if err != nil {
			return nil, err
		}
		if missing := missingIDs(sc.ClientIDs, func(id string) bool { _, ok := clients[id]; return ok }); len(missing) > 0 {
			return nil, Invalid("clientIds", "no such client: %s", listIDs(missing))
		}
		for _, cid := range sc.ClientIDs {
			if err := pages(func(p Page) (string, error) {
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
			if err := pages(func(p Page) (string, error) {
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
			if err := pages(func(p Page) (string, error) {
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
			if !c.canReadUser(uid) {
				return nil, Invalid(fmt.Sprintf("userIds[%d]", i), "no such user")
			}
		}
		users, err := s.Store.UsersByID(ctx, c.TenantID(), sc.UserIDs)
		if err != nil {
			return nil, err
		}
		if missing := missingIDs(sc.UserIDs, func(id string) bool { _, ok := users[id]; return ok }); len(missing) > 0 {
			return nil, Invalid("userIds", "no such user: %s", listIDs(missing))
		}
		for _, uid := range sc.UserIDs {
			u := users[uid]
			for _, gid := range u.GroupIDs {
				if err := addGroup(u, gid); err != nil {
					return nil, err
				}
			}
			for after, more := "", true; more; {
				var asgs []Assignment
				if asgs, more, err = s.Store.UserAssignmentsAfter(ctx, c.TenantID(), uid, after, MaxPageLimit); err != nil {
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
				var gs []ClientGrant
				if gs, more, err = s.Store.UserGrantsAfter(ctx, c.TenantID(), uid, after, MaxPageLimit); err != nil {
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
				if ErrorCode(err) == CodeNotFound {
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
		if err := c.require(Request{Op: OpListUsers}); err != nil {
			return nil, err
		}
		groups, err := s.existingGroups(ctx, c.TenantID(), "groupIds", sc.GroupIDs)
		if err != nil {
			return nil, err
		}
		for _, gid := range sc.GroupIDs {
			if _, ok := groups[gid]; !ok {
				continue
			}
			if err := pages(func(p Page) (string, error) {
				us, next, err := s.Store.ListUsers(ctx, c.TenantID(), UserFilter{GroupID: gid, Statuses: []Status{StatusActive, StatusDeactivated, StatusRemoved}}, p)
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
	slices.SortFunc(items, func(a, b ReviewItem) int { return strings.Compare(a.Key(), b.Key()) })
	return slices.CompactFunc(items, func(a, b ReviewItem) bool { return a.Key() == b.Key() }), nil
}

// pages calls fn with successive pages until it returns no cursor.
func pages(fn func(Page) (string, error)) error {
	p := Page{Limit: MaxPageLimit}
	for {
		next, err := fn(p)
		if err != nil || next == "" {
			return err
		}
		p.Cursor = next
	}
}

// GetReview reads a review: its creator, its reviewers and the owner may.
func (s *Service) GetReview(ctx context.Context, c *Caller, id string) (AccessReview, error) {
	if validID("reviewId", id) != nil {
		return AccessReview{}, NotFound("access review")
	}
	r, err := s.Store.GetReview(ctx, c.TenantID(), id)
	if err != nil {
		return AccessReview{}, err
	}
	if err := c.require(Request{Op: OpReadReview, Review: &r}); err != nil {
		return AccessReview{}, err
	}
	return r, nil
}

// ListReviews pages the reviews the caller may read, newest first.
func (s *Service) ListReviews(ctx context.Context, c *Caller, p Page) ([]AccessReview, string, error) {
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
		if c.decide(Request{Op: OpReadReview, Review: &r}).Allowed {
			out = append(out, r)
		}
	}
	return out, next, nil
}

// visible reports whether the caller may see an item: reviewers see only what they may see
// (the user, and for a client item who can open the client).
func (c *Caller) reviewItemVisible(it ReviewItem) bool {
	if !c.canReadUser(it.UserID) {
		return false
	}
	return it.ClientID == "" || c.decide(Request{Op: OpReadClientAccess}).Allowed
}

// ReviewItems pages a review's items the caller may see, by key, optionally only those with one
// decision (keep, revoke or undecided).
func (s *Service) ReviewItems(ctx context.Context, c *Caller, id string, decision ReviewDecision, p Page) ([]ReviewItem, string, error) {
	if decision != "" && decision != ReviewKeep && decision != ReviewRevoke && decision != ReviewUndecided {
		return nil, "", Invalid("decision", "must be keep, revoke or undecided")
	}
	p, err := p.Normalize()
	if err != nil {
		return nil, "", err
	}
	after := ""
	if p.Cursor != "" {
		b, err := base64.RawURLEncoding.DecodeString(p.Cursor)
		if err != nil || !strings.HasPrefix(string(b), id+"|") {
			return nil, "", Invalid("cursor", "is not a cursor of this list")
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
	var out []ReviewItem
	for _, it := range all {
		if it.Key() <= after || (decision != "" && it.Decision != decision) || !c.reviewItemVisible(it) {
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

// ReviewDecisionInput is one decision: the items of a user at a client (or in a group), all
// kinds or one.
type ReviewDecisionInput struct {
	UserID   string
	ClientID string
	GroupID  string
	Kind     ReviewItemKind
	Decision ReviewDecision
	Comment  string
}

// DecideReview records decisions on items of an open review. Each decision names items the
// caller may see; nobody decides on their own access. Every decision is audited with the review id.
func (s *Service) DecideReview(ctx context.Context, c *Caller, id string, in []ReviewDecisionInput) ([]ReviewItem, error) {
	if len(in) == 0 {
		return nil, Invalid("items", "must hold at least one decision")
	}
	if len(in) > MaxReviewDecisions {
		return nil, Invalid("items", "must have at most %d decisions per request", MaxReviewDecisions)
	}
	for i, d := range in {
		f := fmt.Sprintf("items[%d]", i)
		switch {
		case d.UserID == "":
			return nil, Invalid(f+".userId", "is required")
		case d.Decision != ReviewKeep && d.Decision != ReviewRevoke:
			return nil, Invalid(f+".decision", "must be keep or revoke")
		case d.ClientID != "" && d.GroupID != "":
			return nil, Invalid(f+".groupId", "name a client or a group, not both")
		case d.ClientID == "" && d.GroupID == "":
			return nil, Invalid(f+".clientId", "name the client (or groupId for a group membership)")
		case d.Kind != "" && d.Kind != ReviewAssignment && d.Kind != ReviewGrant && d.Kind != ReviewClientAdmin && d.Kind != ReviewGroup:
			return nil, Invalid(f+".kind", "must be assignment, grant, client_admin or group")
		case len(d.Comment) > 1000:
			return nil, Invalid(f+".comment", "must be at most 1000 characters")
		}
	}
	var out []ReviewItem
	err := retry(nil, "access review", func() error {
		r, err := s.GetReview(ctx, c, id)
		if err != nil {
			return err
		}
		if r.Status != ReviewOpen {
			return Conflict("the review is %s: decisions are closed", r.Status)
		}
		all, err := s.Store.ReviewItems(ctx, c.TenantID(), r.ID)
		if err != nil {
			return err
		}
		now := s.Now()
		byKey := map[string]int{}
		var changed []ReviewItem
		var audit []AuditEntry
		for i, d := range in {
			f := fmt.Sprintf("items[%d]", i)
			matched := 0
			for _, it := range all {
				if it.UserID != d.UserID || (d.ClientID != "" && it.ClientID != d.ClientID) || (d.GroupID != "" && it.GroupID != d.GroupID) ||
					(d.Kind != "" && it.Kind != d.Kind) || (d.ClientID == "" && it.Kind != ReviewGroup) {
					continue
				}
				if !c.reviewItemVisible(it) {
					continue
				}
				target := User{ID: it.UserID}
				if d := c.decide(Request{Op: OpDecideReview, Review: &r, Target: &target}); !d.Allowed {
					return &Error{Code: CodeForbidden, Field: f + ".userId", Message: d.Reason}
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
				audit = append(audit, s.audit(c, "access_review.decide", "access_review", r.ID,
					map[string]any{"decision": it.Decision}, after))
			}
			if matched == 0 {
				return Invalid(f, "names no item of this review")
			}
		}
		if len(changed)+len(audit) > 99 {
			return Invalid("items", "these decisions touch too many items at once: send fewer per request")
		}
		if err := s.Store.UpdateReviewItems(ctx, r, changed, Meta{Audit: audit}); err != nil {
			return err
		}
		out = changed
		return nil
	})
	return out, err
}

// ReviewCompletion is what completing a review did.
type ReviewCompletion struct {
	Review    AccessReview
	Revoked   []ReviewItem // revoke decisions with their outcomes
	Undecided []ReviewItem // items nobody decided: left as they are
}

// CompleteReview applies every revoke of an open review, each as the direct route would with
// the completer as principal (refusals are recorded as not_permitted, never forced), records
// every item's outcome, closes the review and notifies its creator. Undecided items stay as they
// are and are listed. Completing a completed review answers 409.
func (s *Service) CompleteReview(ctx context.Context, c *Caller, id string) (ReviewCompletion, error) {
	r, err := s.GetReview(ctx, c, id)
	if err != nil {
		return ReviewCompletion{}, err
	}
	if err := c.require(Request{Op: OpDecideReview, Review: &r}); err != nil {
		return ReviewCompletion{}, err
	}
	if r.Status != ReviewOpen {
		return ReviewCompletion{}, Conflict("the review is already %s", r.Status)
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
		case ReviewUndecided:
			res.Undecided = append(res.Undecided, it)
			continue
		case ReviewKeep:
			continue
		}
		if it.Outcome == "" {
			o, reason := s.applyRevoke(ctx, c, r, it)
			it.Outcome, it.Reason = o, reason
			next := it
			next.Version = it.Version
			if err := s.Store.UpdateReviewItems(ctx, r, []ReviewItem{next}, Meta{}); err != nil {
				return ReviewCompletion{}, err
			}
			it.Version++
		}
		counts[string(it.Outcome)]++
		res.Revoked = append(res.Revoked, it)
	}
	now := s.Now()
	next := r
	next.Status, next.CompletedAt, next.CompletedBy, next.Counts, next.Version = ReviewCompleted, &now, c.User.ID, counts, r.Version+1
	undecided := make([]string, 0, len(res.Undecided))
	for _, it := range res.Undecided {
		undecided = append(undecided, it.Key())
	}
	after := reviewAudit(next)
	after["counts"], after["undecided"] = counts, undecided
	notDone := len(res.Revoked) - counts[string(ReviewRemoved)] - counts[string(ReviewAlreadyGone)] - counts[string(ReviewQueued)]
	n := Notification{ID: "ntf_" + strings.TrimPrefix(r.ID, "rev_"), TenantID: r.TenantID, UserID: r.CreatedBy, Type: NotificationReviewCompleted,
		Title: fmt.Sprintf("Access review completed: %d revoked, %d not done, %d undecided", counts[string(ReviewRemoved)], notDone, len(res.Undecided)),
		Summary: fmt.Sprintf("%d items: %d kept, %d revoke decisions (%d removed, %d queued in access jobs, %d already gone, %d not permitted, %d failed), %d undecided; see the review's items for each outcome",
			r.Items, counts[string(ReviewKeep)], len(res.Revoked), counts[string(ReviewRemoved)], counts[string(ReviewQueued)], counts[string(ReviewAlreadyGone)],
			counts[string(ReviewNotPermitted)], counts[string(ReviewFailed)], len(res.Undecided)),
		CreatedAt: now, ExpiresAt: now.Add(s.notificationRetention())}
	meta := Meta{Audit: []AuditEntry{s.audit(c, "access_review.complete", "access_review", r.ID, map[string]any{"status": r.Status}, after)}}
	err = s.Store.CompleteReview(ctx, r, next, meta)
	if errors.Is(err, ErrVersionConflict) {
		return ReviewCompletion{}, Conflict("the review was completed or changed meanwhile; read it again")
	}
	if err != nil {
		return ReviewCompletion{}, err
	}
	if err := s.Store.PutNotificationOnce(ctx, n); err != nil && !errors.Is(err, ErrConflict) {
		s.logger().WarnContext(ctx, "review notification failed", "reviewId", r.ID, "error", err.Error())
	}
	res.Review = next
	return res, nil
}

// applyRevoke removes what one revoke decision names, deciding as the direct route does.
func (s *Service) applyRevoke(ctx context.Context, c *Caller, r AccessReview, it ReviewItem) (ReviewOutcome, string) {
	tag := func(e AuditEntry) AuditEntry {
		if e.After == nil {
			e.After = map[string]any{}
		}
		e.After["reviewId"] = r.ID
		return e
	}
	refused := func(err error) (ReviewOutcome, string) {
		var de *Error
		if errors.As(err, &de) && (de.Code == CodeForbidden || de.Code == CodeNotFound || de.Code == CodeConflict) {
			return ReviewNotPermitted, de.Message
		}
		s.logger().ErrorContext(ctx, "review revoke failed", "reviewId", r.ID, "item", it.Key(), "error", err.Error())
		return ReviewFailed, "the change could not be written; complete a new review or revoke it directly"
	}
	if !c.canReadUser(it.UserID) {
		return ReviewNotPermitted, "you may not read this user"
	}
	target, err := s.Store.GetUser(ctx, c.TenantID(), it.UserID)
	if ErrorCode(err) == CodeNotFound {
		return ReviewAlreadyGone, "the user no longer exists"
	}
	if err != nil {
		return refused(err)
	}
	err = retry(nil, "review item", func() error {
		switch it.Kind {
		case ReviewAssignment:
			if err := c.requireManageAssignments(target); err != nil {
				return err
			}
			a, err := s.Store.GetAssignment(ctx, c.TenantID(), it.ClientID, it.UserID)
			if err != nil {
				return err
			}
			e := tag(s.audit(c, "client.access.delete", "client", it.ClientID, assignmentAudit(&a), nil))
			return s.Store.DeleteAssignment(ctx, a, Meta{Audit: []AuditEntry{e}})
		case ReviewGrant:
			g, err := s.Store.GetGrant(ctx, c.TenantID(), it.ClientID, it.UserID)
			if err != nil {
				return err
			}
			mine, err := s.adminAt(ctx, c.User, it.ClientID)
			if err != nil {
				return err
			}
			if err := c.require(Request{Op: OpRevokeClient, Target: &target, Client: &ClientFacts{Admin: &mine, Grant: &g}}); err != nil {
				return err
			}
			e := tag(s.audit(c, "client.grant.delete", "client", it.ClientID,
				map[string]any{"clientId": g.ClientID, "userId": g.UserID, "level": g.Level, "programs": nonNil(g.Programs)}, nil))
			return s.Store.DeleteExpiredGrant(ctx, g, Meta{Audit: []AuditEntry{e}})
		case ReviewClientAdmin:
			mine, err := s.requireManageClientAdmins(ctx, c, it.ClientID, target)
			if err != nil {
				return err
			}
			prev, err := s.Store.GetClientAdmin(ctx, c.TenantID(), it.ClientID, it.UserID)
			if err != nil {
				return err
			}
			keep, err := keeper(mine, &prev, false)
			if err != nil {
				return err
			}
			e := tag(s.audit(c, "client.admin.delete", "client", it.ClientID, clientAdminAudit(&prev), nil))
			return s.Store.DeleteClientAdmin(ctx, prev, keep, Meta{Audit: []AuditEntry{e}})
		case ReviewGroup:
			if err := c.requireChangeRightsOf(target); err != nil {
				return err
			}
			prev, err := s.Store.GetUser(ctx, c.TenantID(), it.UserID)
			if err != nil {
				return err
			}
			if !prev.InGroup(it.GroupID) {
				return NotFound("membership")
			}
			next := prev
			next.GroupIDs = slices.DeleteFunc(slices.Clone(prev.GroupIDs), func(g string) bool { return g == it.GroupID })
			if len(prev.GroupExpiry) > 0 {
				next.GroupExpiry = map[string]GroupExpiry{}
				for g, e := range prev.GroupExpiry {
					if g != it.GroupID {
						next.GroupExpiry[g] = e
					}
				}
				if len(next.GroupExpiry) == 0 {
					next.GroupExpiry = nil
				}
			}
			next.Legacy = nil
			next.Version, next.UpdatedAt = prev.Version+1, s.Now()
			e := tag(s.audit(c, "user.groups.set", "user", prev.ID, userAudit(prev), userAudit(next)))
			return s.Store.UpdateUser(ctx, prev, next, Meta{Audit: []AuditEntry{e}})
		}
		return nil
	})
	switch {
	case err == nil:
		return ReviewRemoved, "removed"
	case ErrorCode(err) == CodeNotFound:
		// The caller may read the user (checked first), so not found means the grant is gone.
		return ReviewAlreadyGone, "there was nothing left to remove"
	}
	return refused(err)
}

// revokeByJobs hands bulk bureau-grant revokes to access jobs: per client with at least
// ReviewJobThreshold grant revokes not applied yet, one revoke job over those consultants, the
// completer as requester (so the job decides each item by the same rule, records per-item
// results and notifies the completer). A revoke job also ends the consultant's assignment at the
// client, so a pair with any item decided keep is left to the direct path. Items handed over are
// marked queued with the job's id; when no job can be submitted (no right to submit jobs, no
// queue) the items stay for the direct path.
func (s *Service) revokeByJobs(ctx context.Context, c *Caller, r AccessReview, all []ReviewItem) ([]ReviewItem, error) {
	kept := map[string]bool{}
	for _, it := range all {
		if it.Decision == ReviewKeep && it.ClientID != "" {
			kept[it.ClientID+"#"+it.UserID] = true
		}
	}
	byClient := map[string][]int{}
	for i, it := range all {
		if it.Kind == ReviewGrant && it.Decision == ReviewRevoke && it.Outcome == "" && !kept[it.ClientID+"#"+it.UserID] {
			byClient[it.ClientID] = append(byClient[it.ClientID], i)
		}
	}
	if s.Queue == nil || c.require(Request{Op: OpSubmitJobs}) != nil {
		return all, nil
	}
	for _, cid := range sortedKeys(byClient) {
		idx := byClient[cid]
		if len(idx) < ReviewJobThreshold {
			continue
		}
		users := make([]string, 0, len(idx))
		for _, i := range idx {
			users = append(users, all[i].UserID)
		}
		j, _, err := s.CreateJob(ctx, c, NewJob{Action: JobRevoke, ConsultantIDs: users, ClientIDs: []string{cid}, ReviewID: r.ID}, nil)
		if err != nil {
			if ErrorCode(err) != "" {
				continue // refused or invalid (a consultant deleted meanwhile): the direct path decides per item
			}
			return nil, err
		}
		changed := make([]ReviewItem, 0, len(idx))
		for _, i := range idx {
			it := all[i]
			it.Outcome, it.JobID, it.Reason = ReviewQueued, j.ID, "handed to access job "+j.ID+": its results say what was removed"
			changed = append(changed, it)
		}
		for start := 0; start < len(changed); start += 90 {
			part := changed[start:min(start+90, len(changed))]
			if err := s.Store.UpdateReviewItems(ctx, r, part, Meta{}); err != nil {
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
