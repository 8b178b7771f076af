package dynamo

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tilgang/tilgang/shared/access"
)

// Access reviews.
//
//	review  PK TENANT#t   SK REVIEW#<id>            (ids are ULIDs: newest first reading backwards)
//	item    PK REVIEW#<id> SK I#<kind>#<client or group>#<user>
//
// The items are written before the review (BatchWriteItem): a failure in between leaves items
// no review points at, which nothing reads.

const (
	pfxReview     = "REVIEW#"
	pfxReviewItem = "I#"
)

type reviewItem struct {
	PK          string         `dynamodbav:"PK"`
	SK          string         `dynamodbav:"SK"`
	Type        string         `dynamodbav:"type"`
	ID          string         `dynamodbav:"id"`
	TenantID    string         `dynamodbav:"tenantId"`
	CreatedBy   string         `dynamodbav:"createdBy"`
	ClientIDs   []string       `dynamodbav:"clientIds"`
	UserIDs     []string       `dynamodbav:"userIds"`
	GroupIDs    []string       `dynamodbav:"groupIds"`
	ReviewerIDs []string       `dynamodbav:"reviewerIds"`
	DueAt       string         `dynamodbav:"dueAt,omitempty"`
	Status      string         `dynamodbav:"status"`
	Items       int            `dynamodbav:"items"`
	CreatedAt   string         `dynamodbav:"createdAt"`
	CompletedAt string         `dynamodbav:"completedAt,omitempty"`
	CompletedBy string         `dynamodbav:"completedBy,omitempty"`
	Counts      map[string]int `dynamodbav:"counts,omitempty"`
	Version     int            `dynamodbav:"version"`
}

func reviewToItem(r access.AccessReview) reviewItem {
	it := reviewItem{PK: tenantPK(r.TenantID), SK: pfxReview + r.ID, Type: "access_review", ID: r.ID, TenantID: r.TenantID,
		CreatedBy: r.CreatedBy, ClientIDs: nonNilSlice(r.Scope.ClientIDs), UserIDs: nonNilSlice(r.Scope.UserIDs),
		GroupIDs: nonNilSlice(r.Scope.GroupIDs), ReviewerIDs: nonNilSlice(r.ReviewerIDs), DueAt: expiryToItem(r.DueAt),
		Status: string(r.Status), Items: r.Items, CreatedAt: ts(r.CreatedAt), CompletedBy: r.CompletedBy, Counts: r.Counts,
		Version: r.Version}
	if r.CompletedAt != nil {
		it.CompletedAt = ts(*r.CompletedAt)
	}
	return it
}

func (it reviewItem) domain() access.AccessReview {
	r := access.AccessReview{ID: it.ID, TenantID: it.TenantID, CreatedBy: it.CreatedBy,
		Scope:       access.ReviewScope{ClientIDs: it.ClientIDs, UserIDs: it.UserIDs, GroupIDs: it.GroupIDs},
		ReviewerIDs: it.ReviewerIDs, DueAt: expiryFromItem(it.DueAt), Status: access.ReviewStatus(it.Status), Items: it.Items,
		CreatedAt: parseTS(it.CreatedAt), CompletedBy: it.CompletedBy, Counts: it.Counts, Version: it.Version}
	if it.CompletedAt != "" {
		t := parseTS(it.CompletedAt)
		r.CompletedAt = &t
	}
	return r
}

type reviewEntryItem struct {
	PK        string   `dynamodbav:"PK"`
	SK        string   `dynamodbav:"SK"`
	Type      string   `dynamodbav:"type"`
	ReviewID  string   `dynamodbav:"reviewId"`
	TenantID  string   `dynamodbav:"tenantId"`
	Kind      string   `dynamodbav:"kind"`
	UserID    string   `dynamodbav:"userId"`
	ClientID  string   `dynamodbav:"clientId,omitempty"`
	GroupID   string   `dynamodbav:"groupId,omitempty"`
	Level     string   `dynamodbav:"level,omitempty"`
	Programs  []string `dynamodbav:"programs,omitempty"`
	System    bool     `dynamodbav:"system,omitempty"`
	Source    string   `dynamodbav:"source,omitempty"`
	GrantedBy string   `dynamodbav:"grantedBy,omitempty"`
	Since     string   `dynamodbav:"since,omitempty"`
	ExpiresAt string   `dynamodbav:"grantExpiresAt,omitempty"`
	Decision  string   `dynamodbav:"decision"`
	Comment   string   `dynamodbav:"comment,omitempty"`
	DecidedBy string   `dynamodbav:"decidedBy,omitempty"`
	DecidedAt string   `dynamodbav:"decidedAt,omitempty"`
	Outcome   string   `dynamodbav:"outcome,omitempty"`
	Reason    string   `dynamodbav:"reason,omitempty"`
	JobID     string   `dynamodbav:"jobId,omitempty"`
	Version   int      `dynamodbav:"version"`
}

func reviewItemsPK(tenantID, reviewID string) string { return pfxReview + tenantID + "#" + reviewID }

func reviewEntryToItem(e access.ReviewItem) reviewEntryItem {
	it := reviewEntryItem{PK: reviewItemsPK(e.TenantID, e.ReviewID), SK: pfxReviewItem + e.Key(), Type: "access_review_item",
		ReviewID: e.ReviewID, TenantID: e.TenantID, Kind: string(e.Kind), UserID: e.UserID, ClientID: e.ClientID, GroupID: e.GroupID,
		Level: string(e.Level), Programs: e.Programs, System: e.System, Source: e.Source, GrantedBy: e.GrantedBy,
		Since: ts(e.Since), ExpiresAt: expiryToItem(e.ExpiresAt), Decision: string(e.Decision), Comment: e.Comment,
		DecidedBy: e.DecidedBy, Outcome: string(e.Outcome), Reason: e.Reason, JobID: e.JobID, Version: e.Version}
	if e.DecidedAt != nil {
		it.DecidedAt = ts(*e.DecidedAt)
	}
	return it
}

func (it reviewEntryItem) domain() access.ReviewItem {
	e := access.ReviewItem{ReviewID: it.ReviewID, TenantID: it.TenantID, Kind: access.ReviewItemKind(it.Kind), UserID: it.UserID,
		ClientID: it.ClientID, GroupID: it.GroupID, Level: access.Level(it.Level), Programs: it.Programs, System: it.System,
		Source: it.Source, GrantedBy: it.GrantedBy, Since: parseTS(it.Since), ExpiresAt: expiryFromItem(it.ExpiresAt),
		Decision: access.ReviewDecision(it.Decision), Comment: it.Comment, DecidedBy: it.DecidedBy,
		Outcome: access.ReviewOutcome(it.Outcome), Reason: it.Reason, JobID: it.JobID, Version: it.Version}
	if it.DecidedAt != "" {
		t := parseTS(it.DecidedAt)
		e.DecidedAt = &t
	}
	return e
}

// CreateReview writes the items (BatchWriteItem), then the review with its meta in one transaction.
func (s *Store) CreateReview(ctx context.Context, r access.AccessReview, items []access.ReviewItem, meta access.Meta) error {
	for start := 0; start < len(items); start += 25 {
		var reqs []types.WriteRequest
		for _, e := range items[start:min(start+25, len(items))] {
			av, err := attributevalue.MarshalMap(reviewEntryToItem(e))
			if err != nil {
				return fmt.Errorf("marshal review item: %w", err)
			}
			reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: av}})
		}
		if err := s.batchWrite(ctx, reqs); err != nil {
			return fmt.Errorf("review items: %w", err)
		}
	}
	t := &txn{}
	if err := t.put(s.table, reviewToItem(r), notExists(), access.Conflict("access review %s exists", r.ID)); err != nil {
		return err
	}
	if err := t.meta(s.table, meta); err != nil {
		return err
	}
	return s.commit(ctx, t)
}

// GetReview reads a review strongly consistently (decisions compare its version).
func (s *Store) GetReview(ctx context.Context, tenantID, id string) (access.AccessReview, error) {
	res, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: key(tenantPK(tenantID), pfxReview+id),
		ConsistentRead: aws.Bool(true)})
	if err != nil {
		return access.AccessReview{}, fmt.Errorf("get access review: %w", err)
	}
	if res.Item == nil {
		return access.AccessReview{}, access.NotFound("access review")
	}
	var it reviewItem
	if err := attributevalue.UnmarshalMap(res.Item, &it); err != nil {
		return access.AccessReview{}, fmt.Errorf("unmarshal access review: %w", err)
	}
	return it.domain(), nil
}

// ListReviews pages a tenant's reviews, newest first.
func (s *Store) ListReviews(ctx context.Context, tenantID string, p access.Page) ([]access.AccessReview, string, error) {
	items, cursor, err := s.page(ctx, query{partition: map[string]string{AttrPK: tenantPK(tenantID)}, skPrefix: pfxReview, backwards: true}, p)
	if err != nil {
		return nil, "", fmt.Errorf("list access reviews: %w", err)
	}
	out, err := unmarshalAll(items, reviewItem.domain)
	return out, cursor, err
}

// ReviewItems reads every item of a review (at most access.MaxReviewItems), by key.
func (s *Store) ReviewItems(ctx context.Context, tenantID, reviewID string) ([]access.ReviewItem, error) {
	var out []access.ReviewItem
	p := access.Page{Limit: access.MaxPageLimit}
	for {
		items, next, err := s.page(ctx, query{partition: map[string]string{AttrPK: reviewItemsPK(tenantID, reviewID)}, skPrefix: pfxReviewItem}, p)
		if err != nil {
			return nil, fmt.Errorf("review items: %w", err)
		}
		got, err := unmarshalAll(items, reviewEntryItem.domain)
		if err != nil {
			return nil, err
		}
		out = append(out, got...)
		if next == "" {
			return out, nil
		}
		p.Cursor = next
	}
}

// ForgetReviewComments removes the comments of every review item about a user in every review
// of the tenant. Reviews are bounded (access.MaxReviewItems) and anonymisation is rare, so it
// reads each review's items whole; each removal is conditional on the item still being about
// the user, so a second run, or one beside a reviewer's decision, changes nothing more.
func (s *Store) ForgetReviewComments(ctx context.Context, tenantID, userID string) error {
	p := access.Page{Limit: access.MaxPageLimit}
	for {
		reviews, next, err := s.ListReviews(ctx, tenantID, p)
		if err != nil {
			return err
		}
		for _, r := range reviews {
			items, err := s.ReviewItems(ctx, tenantID, r.ID)
			if err != nil {
				return err
			}
			for _, it := range items {
				if it.UserID != userID || it.Comment == "" {
					continue
				}
				if err := s.forgetComment(ctx, nil, key(reviewItemsPK(tenantID, r.ID), pfxReviewItem+it.Key()), userID); err != nil {
					return err
				}
			}
		}
		if next == "" {
			return nil
		}
		p.Cursor = next
	}
}

// forgetComment removes the comment of the review item at k while it is about userID (and has
// one), counting it in n when n is set.
func (s *Store) forgetComment(ctx context.Context, n *int, k map[string]types.AttributeValue, userID string) error {
	upd := expression.Remove(expression.Name("comment")).Add(expression.Name("version"), expression.Value(1))
	cond := expression.AttributeExists(expression.Name("comment")).And(expression.Name("userId").Equal(expression.Value(userID)))
	if err := s.countIf(ctx, n, k, upd, cond); err != nil {
		return fmt.Errorf("forget the comment of review item %s: %w", skOf(k), err)
	}
	return nil
}

// UpdateReviewItems writes items (version+1), each conditional on its version, while the review
// is still open at r.Version.
func (s *Store) UpdateReviewItems(ctx context.Context, r access.AccessReview, items []access.ReviewItem, meta access.Meta) error {
	t := &txn{}
	open := expression.Name("version").Equal(expression.Value(r.Version)).And(expression.Name("status").Equal(expression.Value(string(access.ReviewOpen))))
	if err := t.check(s.table, key(tenantPK(r.TenantID), pfxReview+r.ID), open, access.ErrVersionConflict); err != nil {
		return err
	}
	for _, e := range items {
		prev := e.Version
		e.Version++
		if err := t.put(s.table, reviewEntryToItem(e), versionIs(prev), access.ErrVersionConflict); err != nil {
			return err
		}
	}
	if err := t.meta(s.table, meta); err != nil {
		return err
	}
	return s.commit(ctx, t)
}

// CompleteReview writes next if the stored review is still at prev's version.
func (s *Store) CompleteReview(ctx context.Context, prev, next access.AccessReview, meta access.Meta) error {
	t := &txn{}
	if err := t.put(s.table, reviewToItem(next), versionIs(prev.Version), access.ErrVersionConflict); err != nil {
		return err
	}
	if err := t.meta(s.table, meta); err != nil {
		return err
	}
	return s.commit(ctx, t)
}
