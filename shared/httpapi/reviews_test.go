package httpapi_test

import (
	"testing"

	"github.com/tilgang/tilgang/shared/apitest"
)

// reviewItems reads every item of a review the actor may see, with an optional query.
func reviewItems(t *testing.T, a *apitest.Actor, id, query string) []map[string]any {
	t.Helper()
	var out []map[string]any
	cursor := ""
	for {
		q := "?limit=1" + query
		if cursor != "" {
			q += "&cursor=" + cursor
		}
		page := a.Must(t, "GET", "/v1/access-reviews/"+id+"/items"+q, nil, 200).Map(t)
		for _, it := range page["items"].([]any) {
			out = append(out, it.(map[string]any))
		}
		next, _ := page["nextCursor"].(string)
		if next == "" {
			return out
		}
		cursor = next
	}
}

// TestAccessReviewOverAClient: a review over a client lists its grants; a revoke decision and
// completion remove that access; the audit log names the review for every decision, the change
// and the completion; undecided items are listed and left alone; nobody reviews their own
// access; other tenants and non-reviewers do not see the review.
func TestAccessReviewOverAClient(t *testing.T) {
	env := apitest.New(t)
	ten := env.NewTenant(t, true)
	owner := ten.Owner
	own := owner.CreateGroup(t, "Own clients", clientPerms("edit", "own", nil))
	managers := owner.CreateGroup(t, "Managers", clientPerms("edit", "all", map[string]any{"users": map[string]any{"level": "edit"}}))
	alice := owner.CreateUser(t, map[string]any{"groupIds": []string{own}})
	bob := owner.CreateUser(t, map[string]any{"groupIds": []string{own}})
	reviewer := owner.CreateUser(t, map[string]any{"groupIds": []string{managers}})
	outsider := owner.CreateUser(t, map[string]any{"groupIds": []string{own}})
	c := createClient(t, owner, "manual")
	for _, u := range []string{alice, bob, reviewer} {
		owner.Must(t, "PUT", "/v1/clients/"+c+"/access/"+u, map[string]any{"level": "edit"}, 200)
	}
	rev := env.As(ten.ID, reviewer)

	// Starting a review needs user or client management.
	env.As(ten.ID, outsider).Must(t, "POST", "/v1/access-reviews", map[string]any{"clientIds": []string{c}}, 403)
	owner.Must(t, "POST", "/v1/access-reviews", map[string]any{"clientIds": []string{c}, "userIds": []string{alice}}, 400)

	r := owner.Must(t, "POST", "/v1/access-reviews", map[string]any{"clientIds": []string{c}, "reviewerIds": []string{reviewer}}, 201).Map(t)
	id := r["id"].(string)
	if r["status"] != "open" || r["items"].(float64) != 3 {
		t.Fatalf("review = %v, want open with 3 items", r)
	}
	items := reviewItems(t, rev, id, "")
	if len(items) != 3 {
		t.Fatalf("items = %v, want the 3 assignments", items)
	}
	for _, it := range items {
		if it["kind"] != "assignment" || it["clientId"] != c || it["decision"] != "undecided" || it["level"] != "edit" || it["grantedBy"] != owner.UserID {
			t.Errorf("item = %v", it)
		}
	}

	// Nobody reviews their own access.
	res := rev.Must(t, "POST", "/v1/access-reviews/"+id+"/decisions", map[string]any{"items": []map[string]any{
		{"userId": reviewer, "clientId": c, "decision": "keep"}}}, 403)
	if f := problemField(t, res); f != "items[0].userId" {
		t.Errorf("self review: field = %q", f)
	}
	rev.Must(t, "POST", "/v1/access-reviews/"+id+"/decisions", map[string]any{"items": []map[string]any{
		{"userId": alice, "clientId": c, "decision": "revoke", "comment": "left the team"},
		{"userId": bob, "clientId": c, "decision": "keep"}}}, 200)
	if got := reviewItems(t, rev, id, "&decision=revoke"); len(got) != 1 || got[0]["userId"] != alice || got[0]["decidedBy"] != reviewer {
		t.Errorf("revoke items = %v", got)
	}

	// Isolation: another tenant, and a colleague who is not a reviewer, find nothing.
	other := env.NewTenant(t, true).Owner
	other.Must(t, "GET", "/v1/access-reviews/"+id, nil, 404)
	other.Must(t, "POST", "/v1/access-reviews/"+id+"/complete", nil, 404)
	env.As(ten.ID, outsider).Must(t, "GET", "/v1/access-reviews/"+id, nil, 404)
	env.As(ten.ID, outsider).Must(t, "GET", "/v1/access-reviews/"+id+"/items", nil, 404)
	if got := other.Must(t, "GET", "/v1/access-reviews", nil, 200).Map(t)["items"].([]any); len(got) != 0 {
		t.Errorf("other tenant lists %v", got)
	}

	done := rev.Must(t, "POST", "/v1/access-reviews/"+id+"/complete", nil, 200).Map(t)
	if done["review"].(map[string]any)["status"] != "completed" {
		t.Fatalf("completion = %v", done)
	}
	revoked := done["revoked"].([]any)
	if len(revoked) != 1 || revoked[0].(map[string]any)["outcome"] != "removed" {
		t.Errorf("revoked = %v", revoked)
	}
	undecided := done["undecided"].([]any)
	if len(undecided) != 1 || undecided[0].(map[string]any)["userId"] != reviewer {
		t.Errorf("undecided = %v, want the reviewer's own", undecided)
	}
	rev.Must(t, "POST", "/v1/access-reviews/"+id+"/complete", nil, 409)
	rev.Must(t, "POST", "/v1/access-reviews/"+id+"/decisions", map[string]any{"items": []map[string]any{
		{"userId": bob, "clientId": c, "decision": "revoke"}}}, 409)

	// The revoke took effect; the kept and undecided ones stay.
	if d := authorizeClient(t, owner, alice, "view", "clients", c); d["allowed"] != false {
		t.Errorf("alice after revoke: %v", d)
	}
	for _, u := range []string{bob, reviewer} {
		if d := authorizeClient(t, owner, u, "view", "clients", c); d["allowed"] != true {
			t.Errorf("%s after completion: %v", u, d)
		}
	}
	// The trail: who decided, what changed, and the completion, each naming the review.
	entries := owner.Must(t, "GET", "/v1/audit?limit=100", nil, 200).Map(t)["items"].([]any)
	seen := map[string]int{}
	for _, it := range entries {
		e := it.(map[string]any)
		after, _ := e["after"].(map[string]any)
		if after["reviewId"] != id {
			continue
		}
		seen[e["action"].(string)]++
		if e["action"] == "client.access.delete" && (e["actorId"] != reviewer || e["targetId"] != c) {
			t.Errorf("revocation audit = %v", e)
		}
	}
	for action, want := range map[string]int{"access_review.create": 1, "access_review.decide": 2, "client.access.delete": 1, "access_review.complete": 1} {
		if seen[action] != want {
			t.Errorf("audit %s naming the review = %d, want %d (all: %v)", action, seen[action], want, seen)
		}
	}
	if n := countNotifications(t, owner, "access_review_completed"); n != 1 {
		t.Errorf("creator's notifications = %d, want 1", n)
	}
	got := owner.Must(t, "GET", "/v1/access-reviews/"+id, nil, 200).Map(t)
	if counts := got["counts"].(map[string]any); counts["removed"] != float64(1) || counts["undecided"] != float64(1) || counts["keep"] != float64(1) {
		t.Errorf("counts = %v", counts)
	}
}

// TestAccessReviewVisibility: reviewers see only the items they may see; a review over users
// and over groups snapshots memberships, and a revoked membership is removed at completion.
func TestAccessReviewVisibility(t *testing.T) {
	env := apitest.New(t)
	ten := env.NewTenant(t, true)
	owner := ten.Owner
	own := owner.CreateGroup(t, "Own clients", clientPerms("edit", "own", nil))
	u := owner.CreateUser(t, map[string]any{"groupIds": []string{own}})
	blind := owner.CreateUser(t, map[string]any{"groupIds": []string{own}}) // may not read users
	c := createClient(t, owner, "manual")
	owner.Must(t, "PUT", "/v1/clients/"+c+"/access/"+u, map[string]any{"level": "view"}, 200)

	r := owner.Must(t, "POST", "/v1/access-reviews", map[string]any{"userIds": []string{u}, "reviewerIds": []string{blind}}, 201).Map(t)
	id := r["id"].(string)
	if r["items"].(float64) != 2 {
		t.Fatalf("review over a user = %v, want its membership and its assignment", r)
	}
	if got := reviewItems(t, env.As(ten.ID, blind), id, ""); len(got) != 0 {
		t.Errorf("a reviewer who may not read users sees %v", got)
	}
	env.As(ten.ID, blind).Must(t, "POST", "/v1/access-reviews/"+id+"/decisions", map[string]any{"items": []map[string]any{
		{"userId": u, "groupId": own, "decision": "revoke"}}}, 400)
	if got := reviewItems(t, owner, id, ""); len(got) != 2 {
		t.Errorf("the owner sees %v", got)
	}

	g := owner.Must(t, "POST", "/v1/access-reviews", map[string]any{"groupIds": []string{own}}, 201).Map(t)
	gid := g["id"].(string)
	if g["items"].(float64) != 2 {
		t.Fatalf("review over a group = %v, want its 2 members", g)
	}
	owner.Must(t, "POST", "/v1/access-reviews/"+gid+"/decisions", map[string]any{"items": []map[string]any{
		{"userId": u, "groupId": own, "decision": "revoke"}}}, 200)
	owner.Must(t, "POST", "/v1/access-reviews/"+gid+"/complete", nil, 200)
	after := owner.Must(t, "GET", "/v1/users/"+u, nil, 200).Map(t)
	if ids := after["groupIds"].([]any); len(ids) != 0 {
		t.Errorf("groups after the revoke = %v", ids)
	}
	list := owner.Must(t, "GET", "/v1/access-reviews", nil, 200).Map(t)["items"].([]any)
	if len(list) != 2 || list[0].(map[string]any)["id"] != gid {
		t.Errorf("reviews, newest first = %v", list)
	}
}
