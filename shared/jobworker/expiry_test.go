package jobworker_test

import (
	"sync/atomic"
	"testing"
	"time"
)

// TestGrantJobExpiresAt: a grant job's expiresAt ends every grant it writes at that instant
// (decided against the clock, no sweep); a later grant job over the expired grant assigns again
// rather than answering already_assigned.
func TestGrantJobExpiresAt(t *testing.T) {
	s := newStack(t)
	now := time.Now().UTC().Truncate(time.Second)
	var clock atomic.Int64
	clock.Store(now.UnixNano())
	s.env.App.SetClock(func() time.Time { return time.Unix(0, clock.Load()).UTC() })
	b := newBureau(t, s, 1, 2)
	owner := b.Owner
	k, c1, c2 := b.consultants[0], b.clients[0], b.clients[1]
	worker := s.poller(s.env.App.JobWorker())
	exp := now.Add(10 * time.Second)

	j := submit(t, owner, map[string]any{"action": "grant", "consultantIds": []string{k}, "clientIds": []string{c1, c2},
		"programs": []string{"payroll"}, "expiresAt": exp.Format(time.RFC3339)})
	if j["expiresAt"] != exp.Format(time.RFC3339) {
		t.Fatalf("job = %v, want its expiresAt", j)
	}
	if done := s.runUntilDone(t, owner, j["id"].(string), worker); done["status"] != "completed" {
		t.Fatalf("job = %v", done)
	}
	entries := owner.Must(t, "GET", "/v1/clients/"+c1+"/access", nil, 200).Map(t)["items"].([]any)
	var grant map[string]any
	for _, e := range entries {
		if m := e.(map[string]any); m["userId"] == k {
			grant, _ = m["grant"].(map[string]any)
		}
	}
	if grant == nil || grant["expiresAt"] != exp.Format(time.RFC3339) {
		t.Fatalf("grant = %v, want expiresAt %s", grant, exp.Format(time.RFC3339))
	}
	ask := map[string]any{"userId": k, "action": "edit", "area": "clients", "clientId": c1, "program": "payroll"}
	if d := owner.Must(t, "POST", "/v1/authorize", ask, 200).Map(t); d["allowed"] != true {
		t.Errorf("before expiry: %v", d)
	}
	clock.Store(exp.UnixNano())
	if d := owner.Must(t, "POST", "/v1/authorize", ask, 200).Map(t); d["allowed"] != false {
		t.Errorf("at expiry: %v", d)
	}
	j2 := submit(t, owner, map[string]any{"action": "grant", "consultantIds": []string{k}, "clientIds": []string{c1}, "programs": []string{"payroll"}})
	s.runUntilDone(t, owner, j2["id"].(string), worker)
	got := results(t, owner, j2["id"].(string), "")
	if got[k+"/"+c1+"/payroll"] != "assigned" {
		t.Errorf("regrant over an expired grant = %v, want assigned", got)
	}
	if d := owner.Must(t, "POST", "/v1/authorize", ask, 200).Map(t); d["allowed"] != true {
		t.Errorf("after the new grant (no expiry): %v", d)
	}
	// expiresAt is for grant jobs only, and must be in the future.
	owner.Must(t, "POST", "/v1/access-jobs", map[string]any{"action": "revoke", "consultantIds": []string{k}, "clientIds": []string{c1},
		"expiresAt": exp.Add(time.Hour).Format(time.RFC3339)}, 400)
	owner.Must(t, "POST", "/v1/access-jobs", map[string]any{"action": "grant", "consultantIds": []string{k}, "clientIds": []string{c1},
		"programs": []string{"payroll"}, "expiresAt": now.Format(time.RFC3339)}, 400)
}
