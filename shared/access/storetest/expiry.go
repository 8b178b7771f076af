package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/tilgang/tilgang/shared/access"
)

// testExpiry: expiring items are found by expiry across tenants ([from, to)), keep their expiry
// and granter, leave the index when removed; removals are conditional on the version; a
// notification is written once.
func testExpiry(t *testing.T, f *fixture) {
	tn, owner := f.tenant()
	u := f.createUser(tn.ID, "Sub")
	// A second of its own far ahead, so that other subtests' items do not fall in the window.
	at := time.Now().UTC().Add(time.Duration(400+time.Now().Nanosecond()%1000) * time.Hour).Truncate(time.Second)
	cl := f.client(tn.ID)
	a := assignment(tn.ID, cl.ID, u.ID, access.LevelEdit)
	a.ExpiresAt, a.GrantedBy = &at, owner.ID
	must(t, "PutAssignment", f.s.PutAssignment(f.ctx, nil, a, access.Meta{}))
	g := f.group(tn.ID, "Temp")
	member := f.createUser(tn.ID, "Member", func(x *access.User) {
		x.GroupIDs = []string{g.ID}
		x.GroupExpiry = map[string]access.GroupExpiry{g.ID: {At: at, By: owner.ID}}
	})

	refs := f.expiring(tn.ID, at.Add(-time.Second), at.Add(time.Second))
	if len(refs) != 2 || !slices.ContainsFunc(refs, func(r access.ExpiringRef) bool {
		return r.Kind == access.ExpiringAssignment && r.ClientID == cl.ID && r.UserID == u.ID
	}) || !slices.ContainsFunc(refs, func(r access.ExpiringRef) bool { return r.Kind == access.ExpiringGroups && r.UserID == member.ID }) {
		t.Fatalf("ExpiringBetween = %+v, want the assignment and the membership", refs)
	}
	if got := f.expiring(tn.ID, at.Add(time.Second), at.Add(time.Hour)); len(got) != 0 {
		t.Errorf("ExpiringBetween after the expiry = %+v, want none", got)
	}
	if got := f.expiring(tn.ID, at.Add(-time.Hour), at); len(got) != 0 {
		t.Errorf("ExpiringBetween up to the expiry (excluded) = %+v, want none", got)
	}
	got, err := f.s.GetAssignment(f.ctx, tn.ID, cl.ID, u.ID)
	must(t, "GetAssignment", err)
	if got.ExpiresAt == nil || !got.ExpiresAt.Equal(at) || got.GrantedBy != owner.ID {
		t.Errorf("GetAssignment = %+v, want expiry %s by %s", got, at, owner.ID)
	}
	gotUser, err := f.s.GetUser(f.ctx, tn.ID, member.ID)
	must(t, "GetUser", err)
	if e := gotUser.GroupExpiry[g.ID]; !e.At.Equal(at) || e.By != owner.ID {
		t.Errorf("GroupExpiry = %+v", gotUser.GroupExpiry)
	}
	_, err = f.s.GetAssignment(f.ctx, tn.ID, cl.ID, owner.ID)
	wantErr(t, "GetAssignment missing", err, access.ErrNotFound)
	_, err = f.s.GetGrant(f.ctx, tn.ID, cl.ID, u.ID)
	wantErr(t, "GetGrant missing", err, access.ErrNotFound)

	stale := got
	stale.Version++
	wantErr(t, "DeleteExpiredAssignment stale", f.s.DeleteExpiredAssignment(f.ctx, stale, access.Meta{}), access.ErrVersionConflict)
	must(t, "DeleteExpiredAssignment", f.s.DeleteExpiredAssignment(f.ctx, got, auditMeta(tn.ID, "client.access.expired")))
	if refs := f.expiring(tn.ID, at.Add(-time.Second), at.Add(time.Second)); len(refs) != 1 || refs[0].Kind != access.ExpiringGroups {
		t.Errorf("after the removal: %+v, want only the membership", refs)
	}
	// Without expiries the user leaves the index.
	next := gotUser
	next.GroupExpiry, next.Version = nil, gotUser.Version+1
	must(t, "UpdateUser", f.s.UpdateUser(f.ctx, gotUser, next, access.Meta{}))
	if refs := f.expiring(tn.ID, at.Add(-time.Second), at.Add(time.Second)); len(refs) != 0 {
		t.Errorf("after clearing: %+v, want none", refs)
	}

	n := access.Notification{ID: id("ntf"), TenantID: tn.ID, UserID: owner.ID, Type: access.NotificationExpiring, Title: "t",
		CreatedAt: now(), ExpiresAt: now().Add(time.Hour)}
	must(t, "PutNotificationOnce", f.s.PutNotificationOnce(f.ctx, n))
	wantErr(t, "PutNotificationOnce again", f.s.PutNotificationOnce(f.ctx, n), access.ErrConflict)
}

// expiring reads one tenant's entries of the expiry index in [from, to).
func (f *fixture) expiring(tenantID string, from, to time.Time) []access.ExpiringRef {
	f.t.Helper()
	var out []access.ExpiringRef
	after := ""
	for {
		refs, err := f.s.ExpiringBetween(f.ctx, from, to, after, 2)
		must(f.t, "ExpiringBetween", err)
		for _, r := range refs {
			if r.TenantID == tenantID {
				out = append(out, r)
			}
			after = r.Position
		}
		if len(refs) < 2 {
			return out
		}
	}
}

// testReviews: a review and its items round-trip; another tenant finds nothing; item updates
// are conditional on their version and on the review being open at its version.
func testReviews(t *testing.T, f *fixture) {
	tn, owner := f.tenant()
	other, _ := f.tenant()
	n := now()
	r := access.AccessReview{ID: id("rev"), TenantID: tn.ID, CreatedBy: owner.ID, Scope: access.ReviewScope{ClientIDs: []string{"c_1"}},
		ReviewerIDs: []string{owner.ID}, Status: access.ReviewOpen, Items: 2, CreatedAt: n, Version: 1}
	exp := n.Add(time.Hour).Truncate(time.Second)
	items := []access.ReviewItem{
		{ReviewID: r.ID, TenantID: tn.ID, Kind: access.ReviewGrant, UserID: "u_2", ClientID: "c_1", Level: access.LevelEdit,
			Programs: []string{"payroll"}, Source: "job_1", GrantedBy: owner.ID, Since: n, ExpiresAt: &exp, Decision: access.ReviewUndecided, Version: 1},
		{ReviewID: r.ID, TenantID: tn.ID, Kind: access.ReviewAssignment, UserID: "u_1", ClientID: "c_1", Level: access.LevelView,
			Source: "manual", Since: n, Decision: access.ReviewUndecided, Version: 1},
	}
	must(t, "CreateReview", f.s.CreateReview(f.ctx, r, items, auditMeta(tn.ID, "access_review.create")))
	wantErr(t, "CreateReview again", f.s.CreateReview(f.ctx, r, nil, access.Meta{}), access.ErrConflict)
	got, err := f.s.GetReview(f.ctx, tn.ID, r.ID)
	must(t, "GetReview", err)
	if got.CreatedBy != owner.ID || got.Status != access.ReviewOpen || !slices.Equal(got.Scope.ClientIDs, []string{"c_1"}) {
		t.Errorf("GetReview = %+v", got)
	}
	_, err = f.s.GetReview(f.ctx, other.ID, r.ID)
	wantErr(t, "GetReview of another tenant", err, access.ErrNotFound)
	if its, err := f.s.ReviewItems(f.ctx, other.ID, r.ID); err != nil || len(its) != 0 {
		t.Errorf("ReviewItems of another tenant = %v, %v", its, err)
	}
	its, err := f.s.ReviewItems(f.ctx, tn.ID, r.ID)
	must(t, "ReviewItems", err)
	if len(its) != 2 || its[0].Kind != access.ReviewAssignment || its[1].ExpiresAt == nil || !its[1].ExpiresAt.Equal(exp) ||
		!slices.Equal(its[1].Programs, []string{"payroll"}) {
		t.Fatalf("ReviewItems = %+v, want both by key with their fields", its)
	}
	d := its[0]
	d.Decision, d.DecidedBy = access.ReviewRevoke, owner.ID
	must(t, "UpdateReviewItems", f.s.UpdateReviewItems(f.ctx, got, []access.ReviewItem{d}, auditMeta(tn.ID, "access_review.decide")))
	wantErr(t, "UpdateReviewItems stale item", f.s.UpdateReviewItems(f.ctx, got, []access.ReviewItem{d}, access.Meta{}), access.ErrVersionConflict)
	done := got
	done.Status, done.Version = access.ReviewCompleted, got.Version+1
	must(t, "CompleteReview", f.s.CompleteReview(f.ctx, got, done, access.Meta{}))
	wantErr(t, "CompleteReview again", f.s.CompleteReview(f.ctx, got, done, access.Meta{}), access.ErrVersionConflict)
	its, _ = f.s.ReviewItems(f.ctx, tn.ID, r.ID)
	wantErr(t, "UpdateReviewItems of a completed review", f.s.UpdateReviewItems(f.ctx, got, its[1:], access.Meta{}), access.ErrVersionConflict)
	if its[0].Decision != access.ReviewRevoke || its[0].Version != 2 {
		t.Errorf("decided item = %+v", its[0])
	}

	r2 := r
	r2.ID, r2.Items = id("rev"), 0
	must(t, "CreateReview second", f.s.CreateReview(f.ctx, r2, nil, access.Meta{}))
	list, _ := pageAll(t, "ListReviews", 1, func(p access.Page) ([]access.AccessReview, string, error) { return f.s.ListReviews(f.ctx, tn.ID, p) })
	if len(list) != 2 || list[0].ID != r2.ID {
		t.Errorf("ListReviews = %+v, want 2, newest first", list)
	}
}
