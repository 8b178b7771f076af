package jobworker_test

import (
	"sync/atomic"
	"testing"
	"time"
)

// TestProgramAdminNeverExtendsAGrantsExpiry: a program administrator of invoicing grants
// invoicing to a consultant whose payroll grant (given by the owner) is time-bound; the grant
// (one record for every program at the client) keeps the earlier expiry, so payroll still ends.
func TestProgramAdminNeverExtendsAGrantsExpiry(t *testing.T) {
	s := newStack(t)
	now := time.Now().UTC().Truncate(time.Second)
	var clock atomic.Int64
	clock.Store(now.UnixNano())
	s.env.App.SetClock(func() time.Time { return time.Unix(0, clock.Load()).UTC() })
	b := newBureau(t, s, 1, 1)
	owner := b.Owner
	k, c1 := b.consultants[0], b.clients[0]
	worker := s.poller(s.env.App.JobWorker())
	exp := now.Add(10 * time.Second)
	j := submit(t, owner, map[string]any{"action": "grant", "consultantIds": []string{k}, "clientIds": []string{c1},
		"programs": []string{"payroll"}, "expiresAt": exp.Format(time.RFC3339)})
	s.runUntilDone(t, owner, j["id"].(string), worker)

	g := owner.CreateGroup(t, "Clients edit own", map[string]any{"clients": map[string]any{"level": "edit", "scope": "own"}})
	pa := owner.CreateUser(t, map[string]any{"groupIds": []string{g}})
	owner.Must(t, "PUT", "/v1/clients/"+c1+"/admins/"+pa, map[string]any{"programs": []string{"invoicing"}}, 200)
	paA := s.env.As(b.ID, pa)
	j2 := submit(t, paA, map[string]any{"action": "grant", "consultantIds": []string{k}, "clientIds": []string{c1}, "programs": []string{"invoicing"}})
	done := s.runUntilDone(t, paA, j2["id"].(string), worker)
	_ = done
	clock.Store(exp.Add(time.Minute).UnixNano())
	ask := map[string]any{"userId": k, "action": "edit", "area": "clients", "clientId": c1, "program": "payroll"}
	d := owner.Must(t, "POST", "/v1/authorize", ask, 200).Map(t)
	if d["allowed"] == true {
		t.Errorf("payroll grant (expiring %s) still allowed after expiry because a program admin of invoicing granted invoicing: %v", exp, d)
	}
}
