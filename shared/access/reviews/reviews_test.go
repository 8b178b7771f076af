package reviews_test

import (
	"testing"

	"github.com/tilgang/tilgang/shared/access"
	"github.com/tilgang/tilgang/shared/access/accesstest"
	"github.com/tilgang/tilgang/shared/access/reviews"
	"github.com/tilgang/tilgang/shared/localstack"
)

func TestMain(m *testing.M) { localstack.Main(m) }

var code = accesstest.Code

// env is a tenant with a client that two therapists are assigned and that a reviewer (a user
// manager who edits every client) is assigned too; the owner reviews the client with the
// reviewer.
type env struct {
	*accesstest.Env
	owner, reviewer, ann, bo *access.Caller
	client                   access.Client
	review                   access.AccessReview
}

func newEnv(t *testing.T) *env {
	e := &env{Env: accesstest.New(t)}
	e.owner = e.Tenant()
	reviewers := e.Group(e.owner, access.Permissions{access.AreaUsers: {Level: access.LevelEdit},
		access.AreaClients: {Level: access.LevelEdit, Scope: access.ScopeAll}})
	therapists := e.Group(e.owner, access.Permissions{access.AreaClients: {Level: access.LevelEdit, Scope: access.ScopeOwn}})
	e.reviewer = e.User(e.owner, access.NewUser{GroupIDs: []string{reviewers.ID}, Roles: []access.Role{access.RoleAdmin}})
	e.ann = e.User(e.owner, access.NewUser{GroupIDs: []string{therapists.ID}})
	e.bo = e.User(e.owner, access.NewUser{GroupIDs: []string{therapists.ID}})
	e.client = e.Client(e.owner)
	for _, u := range []*access.Caller{e.ann, e.bo, e.reviewer} {
		if _, err := e.Clients.SetAssignment(e.Ctx, e.owner, e.client.ID, u.User.ID, access.LevelEdit, nil); err != nil {
			t.Fatal(err)
		}
	}
	var err error
	e.review, err = e.Reviews.CreateReview(e.Ctx, e.owner, access.NewReview{Scope: access.ReviewScope{ClientIDs: []string{e.client.ID}},
		ReviewerIDs: []string{e.owner.User.ID, e.reviewer.User.ID}})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) decide(by *access.Caller, userID string, d access.ReviewDecision) error {
	_, err := e.Reviews.DecideReview(e.Ctx, by, e.review.ID, []reviews.DecisionInput{{UserID: userID, ClientID: e.client.ID,
		Kind: access.ReviewAssignment, Decision: d}})
	return err
}

func (e *env) assigned(userID string) bool {
	_, err := e.Store.GetAssignment(e.Ctx, e.owner.TenantID(), e.client.ID, userID)
	return err == nil
}

// A review snapshots the grants in its scope; its revokes are applied on completion, keeps and
// undecided items stay; completing again is refused and changes nothing.
func TestCompletionAppliesTheRevokes(t *testing.T) {
	e := newEnv(t)
	if e.review.Items != 3 || e.review.Status != access.ReviewOpen {
		t.Fatalf("review = %d items, %s; want 3 open", e.review.Items, e.review.Status)
	}
	if err := e.decide(e.reviewer, e.ann.User.ID, access.ReviewRevoke); err != nil {
		t.Fatal(err)
	}
	if err := e.decide(e.reviewer, e.bo.User.ID, access.ReviewKeep); err != nil {
		t.Fatal(err)
	}
	if !e.assigned(e.ann.User.ID) {
		t.Error("a revoke decision took effect before completion")
	}
	res, err := e.Reviews.CompleteReview(e.Ctx, e.owner, e.review.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Revoked) != 1 || res.Revoked[0].Outcome != access.ReviewRemoved || len(res.Undecided) != 1 {
		t.Errorf("completion = %d revoked (%+v), %d undecided; want ann's removed and the reviewer's undecided", len(res.Revoked), res.Revoked, len(res.Undecided))
	}
	for _, tc := range []struct {
		name string
		id   string
		want bool
	}{{"revoked", e.ann.User.ID, false}, {"kept", e.bo.User.ID, true}, {"undecided", e.reviewer.User.ID, true}} {
		if got := e.assigned(tc.id); got != tc.want {
			t.Errorf("%s assignment present = %v, want %v", tc.name, got, tc.want)
		}
	}
	if r, err := e.Reviews.GetReview(e.Ctx, e.owner, e.review.ID); err != nil || r.Status != access.ReviewCompleted {
		t.Errorf("review after completion = %s, %v; want completed", r.Status, err)
	}
	if _, err := e.Reviews.CompleteReview(e.Ctx, e.owner, e.review.ID); code(err) != access.CodeConflict {
		t.Errorf("completing again: %s, want %s", code(err), access.CodeConflict)
	}
	if err := e.decide(e.owner, e.bo.User.ID, access.ReviewRevoke); code(err) != access.CodeConflict {
		t.Errorf("deciding on a completed review: %s, want %s", code(err), access.CodeConflict)
	}
	ns, _, err := e.Jobs.Notifications(e.Ctx, e.owner, access.Page{})
	if err != nil || len(ns) != 1 {
		t.Errorf("the creator's notifications = %d, %v; want 1", len(ns), err)
	}
}

// Nobody reviews their own access, only the review's people see it, and another tenant's
// review is not found.
func TestWhoDecides(t *testing.T) {
	e := newEnv(t)
	other := e.Tenant()
	for _, tc := range []struct {
		name string
		do   func() error
		want access.Code
	}{
		{"a reviewer keeps their own assignment", func() error { return e.decide(e.reviewer, e.reviewer.User.ID, access.ReviewKeep) }, access.CodeForbidden},
		{"someone outside the review decides", func() error { return e.decide(e.ann, e.bo.User.ID, access.ReviewRevoke) }, access.CodeNotFound},
		{"someone outside the review completes it", func() error {
			_, err := e.Reviews.CompleteReview(e.Ctx, e.bo, e.review.ID)
			return err
		}, access.CodeNotFound},
		{"another tenant reads it", func() error { _, err := e.Reviews.GetReview(e.Ctx, other, e.review.ID); return err }, access.CodeNotFound},
		{"another tenant reads a missing one", func() error { _, err := e.Reviews.GetReview(e.Ctx, other, "rev_00999999"); return err }, access.CodeNotFound},
		{"a therapist creates a review", func() error {
			_, err := e.Reviews.CreateReview(e.Ctx, e.ann, access.NewReview{Scope: access.ReviewScope{ClientIDs: []string{e.client.ID}}})
			return err
		}, access.CodeForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := code(tc.do()); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
	if !e.assigned(e.bo.User.ID) {
		t.Error("a refused decision took bo's access")
	}
}

// Bad reviews and decisions are refused naming the field.
func TestBadInputNamesTheField(t *testing.T) {
	e := newEnv(t)
	scope := access.ReviewScope{ClientIDs: []string{e.client.ID}}
	for _, tc := range []struct {
		name  string
		do    func() error
		field string
	}{
		{"no scope", func() error { _, err := e.Reviews.CreateReview(e.Ctx, e.owner, access.NewReview{}); return err }, "clientIds"},
		{"two scopes", func() error {
			_, err := e.Reviews.CreateReview(e.Ctx, e.owner, access.NewReview{Scope: access.ReviewScope{ClientIDs: scope.ClientIDs, UserIDs: []string{e.ann.User.ID}}})
			return err
		}, "clientIds"},
		{"unknown reviewer", func() error {
			_, err := e.Reviews.CreateReview(e.Ctx, e.owner, access.NewReview{Scope: scope, ReviewerIDs: []string{"u_00999999"}})
			return err
		}, "reviewerIds[0]"},
		{"decision neither keep nor revoke", func() error { return e.decide(e.owner, e.ann.User.ID, "maybe") }, "items[0].decision"},
		{"decision without user", func() error { return e.decide(e.owner, "", access.ReviewKeep) }, "items[0].userId"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			accesstest.WantInvalid(t, tc.do(), tc.field)
		})
	}
}

// A reviewer's comment may name the person the item is about: anonymising that person takes
// the comments about them, in every review, and leaves the others.
func TestAnonymisationTakesTheCommentsAboutTheUser(t *testing.T) {
	e := newEnv(t)
	for _, d := range []reviews.DecisionInput{
		{UserID: e.ann.User.ID, ClientID: e.client.ID, Kind: access.ReviewAssignment, Decision: access.ReviewKeep, Comment: "Ann is on leave until May"},
		{UserID: e.bo.User.ID, ClientID: e.client.ID, Kind: access.ReviewAssignment, Decision: access.ReviewKeep, Comment: "Bo covers for Ann"},
	} {
		if _, err := e.Reviews.DecideReview(e.Ctx, e.reviewer, e.review.ID, []reviews.DecisionInput{d}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.People.RemoveUser(e.Ctx, e.owner, e.ann.User.ID, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := e.People.AnonymiseUser(e.Ctx, e.owner, e.ann.User.ID, nil); err != nil {
		t.Fatal(err)
	}
	items, _, err := e.Reviews.ReviewItems(e.Ctx, e.owner, e.review.ID, "", access.Page{Limit: access.MaxPageLimit})
	if err != nil {
		t.Fatal(err)
	}
	comments := map[string]string{}
	for _, it := range items {
		comments[it.UserID] = it.Comment
	}
	if got := comments[e.ann.User.ID]; got != "" {
		t.Errorf("the anonymised user's item keeps the comment %q", got)
	}
	// Comments about others stay, even one that names her: free text cannot be told apart, so
	// what goes with her is what is about her (README, "What is not done").
	if got := comments[e.bo.User.ID]; got != "Bo covers for Ann" {
		t.Errorf("another user's item: comment %q, want it kept", got)
	}
	if _, err := e.Store.GetPendingEffects(e.Ctx, e.owner.TenantID(), e.ann.User.ID); code(err) != access.CodeNotFound {
		t.Errorf("after settling, the marker still owes something: %v", err)
	}
	// A new comment about her would keep what anonymisation removed: refused, naming the field;
	// a decision without one is still taken.
	again := reviews.DecisionInput{UserID: e.ann.User.ID, ClientID: e.client.ID, Kind: access.ReviewAssignment, Decision: access.ReviewRevoke, Comment: "Ann left"}
	_, err = e.Reviews.DecideReview(e.Ctx, e.reviewer, e.review.ID, []reviews.DecisionInput{again})
	if code(err) != access.CodeConflict || accesstest.Field(err) != "items[0].comment" {
		t.Errorf("a comment about the anonymised user: %s on %q, want %s on items[0].comment", code(err), accesstest.Field(err), access.CodeConflict)
	}
	again.Comment = ""
	if _, err := e.Reviews.DecideReview(e.Ctx, e.reviewer, e.review.ID, []reviews.DecisionInput{again}); err != nil {
		t.Errorf("a decision without a comment: %v", err)
	}
}
