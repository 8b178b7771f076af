package jobworker_test

import (
	"testing"
)

// TestReviewRevokesInBulkThroughAJob: completing a review with many bureau-grant revokes at one
// client hands them to a revoke access job: the items say queued with the job's id, the job
// removes each grant with its per-item results, notifies the completer, and its audit names the
// review.
func TestReviewRevokesInBulkThroughAJob(t *testing.T) {
	s := newStack(t)
	b := newBureau(t, s, 11, 1)
	owner := b.Owner
	c := b.clients[0]
	worker := s.poller(s.env.App.JobWorker())
	j := submit(t, owner, map[string]any{"action": "grant", "consultantIds": b.consultants, "clientIds": []string{c}, "programs": []string{"payroll"}})
	if done := s.runUntilDone(t, owner, j["id"].(string), worker); done["status"] != "completed" {
		t.Fatalf("grant job = %v", done)
	}
	r := owner.Must(t, "POST", "/v1/access-reviews", map[string]any{"clientIds": []string{c}}, 201).Map(t)
	id := r["id"].(string)
	if r["items"].(float64) != 11 {
		t.Fatalf("review = %v, want the 11 grants", r)
	}
	var decisions []map[string]any
	for _, k := range b.consultants {
		decisions = append(decisions, map[string]any{"userId": k, "clientId": c, "decision": "revoke"})
	}
	owner.Must(t, "POST", "/v1/access-reviews/"+id+"/decisions", map[string]any{"items": decisions}, 200)
	done := owner.Must(t, "POST", "/v1/access-reviews/"+id+"/complete", nil, 200).Map(t)
	revoked := done["revoked"].([]any)
	jobID := ""
	for _, it := range revoked {
		m := it.(map[string]any)
		if m["outcome"] != "queued" || m["jobId"] == nil || (jobID != "" && m["jobId"] != jobID) {
			t.Fatalf("revoked item = %v, want queued in one job", m)
		}
		jobID = m["jobId"].(string)
	}
	if len(revoked) != 11 {
		t.Fatalf("revoked = %d, want 11", len(revoked))
	}
	if job := s.runUntilDone(t, owner, jobID, worker); job["status"] != "completed" {
		t.Fatalf("revoke job = %v", job)
	}
	for key, o := range results(t, owner, jobID, "") {
		if o != "removed" {
			t.Errorf("job result %s = %s, want removed", key, o)
		}
	}
	ask := map[string]any{"userId": b.consultants[3], "action": "view", "area": "clients", "clientId": c}
	if d := owner.Must(t, "POST", "/v1/authorize", ask, 200).Map(t); d["allowed"] != false {
		t.Errorf("after the review's job: %v", d)
	}
	found := false
	for _, it := range owner.Must(t, "GET", "/v1/audit?limit=100", nil, 200).Map(t)["items"].([]any) {
		e := it.(map[string]any)
		if after, _ := e["after"].(map[string]any); e["action"] == "access_job.complete" && e["targetId"] == jobID && after["reviewId"] == id {
			found = true
		}
	}
	if !found {
		t.Error("the job's completion audit does not name the review")
	}
}
