package httpapi_test

import (
	"testing"
	"time"

	"github.com/tilgang/tilgang/shared/apitest"
)

// TestReviewRevokeDoesNotReviveAnExpiredMembership: a review revokes one membership of a user
// whose other membership has already expired (no sweep yet); the expired one must not come back
// as a permanent membership.
func TestReviewRevokeDoesNotReviveAnExpiredMembership(t *testing.T) {
	env := apitest.New(t)
	clock := newFakeClock(env)
	ten := env.NewTenant(t, true)
	owner := ten.Owner
	all := owner.CreateGroup(t, "All clients", clientPerms("edit", "all", nil))
	base := owner.CreateGroup(t, "Base", map[string]any{"calendars": map[string]any{"level": "view", "scope": "own"}})
	u := owner.CreateUser(t, map[string]any{"groupIds": []string{base}})
	exp := clock.Now().Add(time.Hour)
	owner.Must(t, "PUT", "/v1/users/"+u+"/groups", map[string]any{"groupIds": []string{base, all},
		"expiresAt": map[string]string{all: rfc(exp)}}, 200)
	clock.Advance(2 * time.Hour)
	c := createClient(t, owner, "manual")
	ask := map[string]any{"userId": u, "action": "edit", "area": "clients", "clientId": c}
	if d := owner.Must(t, "POST", "/v1/authorize", ask, 200).Map(t); d["allowed"] != false {
		t.Fatalf("expired membership still gives: %v", d)
	}
	rv := owner.Must(t, "POST", "/v1/access-reviews", map[string]any{"userIds": []string{u}}, 201).Map(t)
	id := rv["id"].(string)
	items := owner.Must(t, "GET", "/v1/access-reviews/"+id+"/items", nil, 200).Map(t)
	_ = items
	owner.Must(t, "POST", "/v1/access-reviews/"+id+"/decisions", map[string]any{"items": []map[string]any{{"userId": u, "groupId": base, "decision": "revoke"}}}, 200)
	owner.Must(t, "POST", "/v1/access-reviews/"+id+"/complete", nil, 200)
	got := owner.Must(t, "GET", "/v1/users/"+u, nil, 200).Map(t)
	if gs := got["groupIds"].([]any); len(gs) != 0 {
		t.Errorf("groups after the review = %v, want none (Base revoked, All clients expired)", gs)
	}
	if d := owner.Must(t, "POST", "/v1/authorize", ask, 200).Map(t); d["allowed"] != false {
		t.Errorf("revoking Base in a review made the EXPIRED All-clients membership permanent: %v", d["reason"])
	}
}
