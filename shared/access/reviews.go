package access

import (
	"context"
	"slices"
	"time"
)

// Access reviews (issue 15), their types, store and rules: a snapshot of every grant in a scope (clients, users or groups) as
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
// OpDecideReview. Nobody reviews their own access (guard not_self_review). The use cases are in
// package reviews.

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
	return Decision{Level: LevelNone, Code: CodeNotFound, reason: because("access review not found")}
}
