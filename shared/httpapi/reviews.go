package httpapi

import (
	"context"
	"time"

	"github.com/tilgang/tilgang/shared/access"
	"github.com/tilgang/tilgang/shared/access/reviews"
)

// reviewRoutes serves access reviews (served by the jobs function, with the bulk access work).
func (a *API) reviewRoutes(m map[string]routeFunc) {
	m["POST /v1/access-reviews"] = a.createReview
	m["GET /v1/access-reviews"] = a.listReviews
	m["GET /v1/access-reviews/{reviewId}"] = a.getReview
	m["GET /v1/access-reviews/{reviewId}/items"] = a.listReviewItems
	m["POST /v1/access-reviews/{reviewId}/decisions"] = a.decideReview
	m["POST /v1/access-reviews/{reviewId}/complete"] = a.completeReview
}

type reviewJSON struct {
	ID          string              `json:"id"`
	Status      access.ReviewStatus `json:"status"`
	CreatedBy   string              `json:"createdBy"`
	ClientIDs   []string            `json:"clientIds,omitempty"`
	UserIDs     []string            `json:"userIds,omitempty"`
	GroupIDs    []string            `json:"groupIds,omitempty"`
	ReviewerIDs []string            `json:"reviewerIds"`
	DueAt       *time.Time          `json:"dueAt,omitempty"`
	Items       int                 `json:"items"`
	CreatedAt   time.Time           `json:"createdAt"`
	CompletedAt *time.Time          `json:"completedAt,omitempty"`
	CompletedBy string              `json:"completedBy,omitempty"`
	Counts      map[string]int      `json:"counts,omitempty"`
	Version     int                 `json:"version"`
}

func toReviewJSON(r access.AccessReview) reviewJSON {
	return reviewJSON{ID: r.ID, Status: r.Status, CreatedBy: r.CreatedBy, ClientIDs: r.Scope.ClientIDs, UserIDs: r.Scope.UserIDs,
		GroupIDs: r.Scope.GroupIDs, ReviewerIDs: nonNil(r.ReviewerIDs), DueAt: r.DueAt, Items: r.Items, CreatedAt: r.CreatedAt,
		CompletedAt: r.CompletedAt, CompletedBy: r.CompletedBy, Counts: r.Counts, Version: r.Version}
}

type reviewItemJSON struct {
	Kind      access.ReviewItemKind `json:"kind"`
	UserID    string                `json:"userId"`
	ClientID  string                `json:"clientId,omitempty"`
	GroupID   string                `json:"groupId,omitempty"`
	Level     access.Level          `json:"level,omitempty"`
	Programs  []string              `json:"programs,omitempty"`
	System    bool                  `json:"system,omitempty"`
	Source    string                `json:"source,omitempty"`
	GrantedBy string                `json:"grantedBy,omitempty"`
	Since     *time.Time            `json:"since,omitempty"`
	ExpiresAt *time.Time            `json:"expiresAt,omitempty"`
	Decision  access.ReviewDecision `json:"decision"`
	Comment   string                `json:"comment,omitempty"`
	DecidedBy string                `json:"decidedBy,omitempty"`
	DecidedAt *time.Time            `json:"decidedAt,omitempty"`
	Outcome   access.ReviewOutcome  `json:"outcome,omitempty"`
	Reason    string                `json:"reason,omitempty"`
	JobID     string                `json:"jobId,omitempty"`
}

func toReviewItemJSON(it access.ReviewItem) reviewItemJSON {
	j := reviewItemJSON{Kind: it.Kind, UserID: it.UserID, ClientID: it.ClientID, GroupID: it.GroupID, Level: it.Level,
		Programs: it.Programs, System: it.System, Source: it.Source, GrantedBy: it.GrantedBy, ExpiresAt: it.ExpiresAt,
		Decision: it.Decision, Comment: it.Comment, DecidedBy: it.DecidedBy, DecidedAt: it.DecidedAt, Outcome: it.Outcome, Reason: it.Reason, JobID: it.JobID}
	if !it.Since.IsZero() {
		since := it.Since
		j.Since = &since
	}
	return j
}

func (a *API) createReview(ctx context.Context, r *request) (response, error) {
	var b struct {
		ClientIDs   []string `json:"clientIds"`
		UserIDs     []string `json:"userIds"`
		GroupIDs    []string `json:"groupIds"`
		ReviewerIDs []string `json:"reviewerIds"`
		DueAt       *string  `json:"dueAt"`
	}
	if err := r.decode(&b); err != nil {
		return response{}, err
	}
	due, err := parseExpiry("dueAt", b.DueAt)
	if err != nil {
		return response{}, err
	}
	rev, err := a.Reviews.CreateReview(ctx, r.caller, access.NewReview{
		Scope:       access.ReviewScope{ClientIDs: b.ClientIDs, UserIDs: b.UserIDs, GroupIDs: b.GroupIDs},
		ReviewerIDs: b.ReviewerIDs, DueAt: due})
	if err != nil {
		return response{}, err
	}
	res := created(toReviewJSON(rev), rev.Version)
	res.headers = map[string]string{"Location": "/v1/access-reviews/" + rev.ID}
	return res, nil
}

func (a *API) listReviews(ctx context.Context, r *request) (response, error) {
	if err := r.knownQuery("limit", "cursor"); err != nil {
		return response{}, err
	}
	p, err := r.page()
	if err != nil {
		return response{}, err
	}
	rs, next, err := a.Reviews.ListReviews(ctx, r.caller, p)
	if err != nil {
		return response{}, err
	}
	return ok(listOf(rs, next, toReviewJSON)), nil
}

func (a *API) getReview(ctx context.Context, r *request) (response, error) {
	if err := r.knownQuery(); err != nil {
		return response{}, err
	}
	rev, err := a.Reviews.GetReview(ctx, r.caller, r.path("reviewId"))
	if err != nil {
		return response{}, err
	}
	return okV(toReviewJSON(rev), rev.Version), nil
}

func (a *API) listReviewItems(ctx context.Context, r *request) (response, error) {
	if err := r.knownQuery("limit", "cursor", "decision"); err != nil {
		return response{}, err
	}
	p, err := r.page()
	if err != nil {
		return response{}, err
	}
	items, next, err := a.Reviews.ReviewItems(ctx, r.caller, r.path("reviewId"), access.ReviewDecision(r.ev.QueryStringParameters["decision"]), p)
	if err != nil {
		return response{}, err
	}
	return ok(listOf(items, next, toReviewItemJSON)), nil
}

func (a *API) decideReview(ctx context.Context, r *request) (response, error) {
	var b struct {
		Items []struct {
			UserID   string                `json:"userId"`
			ClientID string                `json:"clientId"`
			GroupID  string                `json:"groupId"`
			Kind     access.ReviewItemKind `json:"kind"`
			Decision access.ReviewDecision `json:"decision"`
			Comment  string                `json:"comment"`
		} `json:"items"`
	}
	if err := r.decode(&b); err != nil {
		return response{}, err
	}
	in := make([]reviews.DecisionInput, 0, len(b.Items))
	for _, it := range b.Items {
		in = append(in, reviews.DecisionInput{UserID: it.UserID, ClientID: it.ClientID, GroupID: it.GroupID, Kind: it.Kind,
			Decision: it.Decision, Comment: it.Comment})
	}
	items, err := a.Reviews.DecideReview(ctx, r.caller, r.path("reviewId"), in)
	if err != nil {
		return response{}, err
	}
	return ok(listOf(items, "", toReviewItemJSON)), nil
}

type reviewCompletionJSON struct {
	Review    reviewJSON       `json:"review"`
	Revoked   []reviewItemJSON `json:"revoked"`
	Undecided []reviewItemJSON `json:"undecided"`
}

func (a *API) completeReview(ctx context.Context, r *request) (response, error) {
	if err := r.knownQuery(); err != nil {
		return response{}, err
	}
	res, err := a.Reviews.CompleteReview(ctx, r.caller, r.path("reviewId"))
	if err != nil {
		return response{}, err
	}
	out := reviewCompletionJSON{Review: toReviewJSON(res.Review), Revoked: []reviewItemJSON{}, Undecided: []reviewItemJSON{}}
	for _, it := range res.Revoked {
		out.Revoked = append(out.Revoked, toReviewItemJSON(it))
	}
	for _, it := range res.Undecided {
		out.Undecided = append(out.Undecided, toReviewItemJSON(it))
	}
	return ok(out), nil
}
