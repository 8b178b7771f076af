package jobworker_test

import (
	"strings"
	"testing"
)

// TestBureauGrantOpensTheClient is seed 004 end to end: what a grant job assigns, the
// consultant's own token opens, with the programs; remove_programs keeps the client open; revoke
// closes it. Every door agrees: GET the client, POST /v1/authorize, both reverse look-ups.
func TestBureauGrantOpensTheClient(t *testing.T) {
	s := newStack(t)
	b := newBureau(t, s, 1, 2)
	owner, k, c, other := b.Owner, b.consultants[0], b.clients[0], b.clients[1]
	ka := s.env.As(b.ID, k)
	worker := s.poller(s.env.App.JobWorker())
	run := func(body map[string]any) map[string]any {
		t.Helper()
		j := submit(t, owner, body)
		return s.runUntilDone(t, owner, j["id"].(string), worker)
	}
	authorize := func(action, program string) map[string]any {
		t.Helper()
		body := map[string]any{"userId": k, "action": action, "area": "clients", "clientId": c}
		if program != "" {
			body["program"] = program
		}
		return ka.Must(t, "POST", "/v1/authorize", body, 200).Map(t)
	}

	// Before: a consultant without groups opens nothing.
	ka.Must(t, "GET", "/v1/clients/"+c, nil, 403)
	if d := authorize("view", ""); d["allowed"] != false {
		t.Fatalf("before the grant: %v", d)
	}

	if j := run(map[string]any{"action": "grant", "consultantIds": []string{k}, "clientIds": []string{c}, "programs": []string{"payroll", "bookkeeping"}}); j["status"] != "completed" {
		t.Fatalf("grant job = %v", j)
	}
	ka.Must(t, "GET", "/v1/clients/"+c, nil, 200)
	ka.Must(t, "GET", "/v1/clients/"+other, nil, 403)
	if d := authorize("edit", ""); d["allowed"] != true || !strings.Contains(d["reason"].(string), "bureau client grant") {
		t.Errorf("edit after the grant: %v", d)
	}
	if d := authorize("delete", ""); d["allowed"] != false {
		t.Errorf("a grant opens for edit, not delete: %v", d)
	}
	if d := authorize("view", "payroll"); d["allowed"] != true {
		t.Errorf("payroll: %v", d)
	}
	if d := authorize("view", "invoicing"); d["allowed"] != false || !strings.Contains(d["reason"].(string), "not granted") {
		t.Errorf("invoicing was not granted: %v", d)
	}
	// Journals are not opened by a grant (the programs are what the consultant uses).
	if d := ka.Must(t, "POST", "/v1/authorize", map[string]any{"userId": k, "action": "view", "area": "journals", "clientId": c}, 200).Map(t); d["allowed"] != false {
		t.Errorf("journals: %v", d)
	}

	// Read-back: who can access C lists K with the programs; K's clients list C with them.
	var acc struct{ Items []map[string]any }
	owner.Must(t, "GET", "/v1/clients/"+c+"/access", nil, 200).JSON(t, &acc)
	var kEntry map[string]any
	for _, it := range acc.Items {
		if it["userId"] == k {
			kEntry = it
		}
	}
	if kEntry == nil || kEntry["level"] != "edit" {
		t.Fatalf("K missing from who can access C: %v", acc.Items)
	}
	g := kEntry["grant"].(map[string]any)
	if progs := g["programs"].([]any); len(progs) != 2 || progs[0] != "bookkeeping" || progs[1] != "payroll" || g["source"] == "" || g["grantedBy"] != owner.UserID {
		t.Errorf("grant in client access = %v", g)
	}
	var mine struct{ Items []map[string]any }
	ka.Must(t, "GET", "/v1/users/"+k+"/clients", nil, 200).JSON(t, &mine)
	if len(mine.Items) != 1 || mine.Items[0]["clientId"] != c || mine.Items[0]["grant"] == nil {
		t.Errorf("K's clients = %v", mine.Items)
	}

	// Removing every program keeps the client open.
	if j := run(map[string]any{"action": "remove_programs", "consultantIds": []string{k}, "clientIds": []string{c}, "programs": []string{"payroll", "bookkeeping"}}); j["status"] != "completed" {
		t.Fatalf("remove_programs job = %v", j)
	}
	ka.Must(t, "GET", "/v1/clients/"+c, nil, 200)
	if d := authorize("view", "payroll"); d["allowed"] != false {
		t.Errorf("payroll after removal: %v", d)
	}
	// Revoke closes it.
	if j := run(map[string]any{"action": "revoke", "consultantIds": []string{k}, "clientIds": []string{c}}); j["status"] != "completed" {
		t.Fatalf("revoke job = %v", j)
	}
	ka.Must(t, "GET", "/v1/clients/"+c, nil, 403)
	ka.Must(t, "GET", "/v1/users/"+k+"/clients", nil, 200).JSON(t, &mine)
	if len(mine.Items) != 0 {
		t.Errorf("K's clients after revoke = %v", mine.Items)
	}

	// Bad input names the field.
	for _, tc := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"userId": k, "action": "view", "area": "clients", "clientId": c, "program": "no_such_program"}, "program"},
		{map[string]any{"userId": k, "action": "view", "area": "clients", "program": "payroll"}, "program"},
		{map[string]any{"userId": k, "action": "view", "area": "journals", "clientId": c, "program": "payroll"}, "area"},
	} {
		r := ka.Must(t, "POST", "/v1/authorize", tc.body, 400)
		if !strings.Contains(r.Body, tc.field) {
			t.Errorf("%v: problem does not name %s: %s", tc.body, tc.field, r.Body)
		}
	}
}

// TestJobsDecideLikeTheDirectRoutes: a program administrator naming themselves gets
// not_permitted (as PUT /v1/clients/{C}/admins/{self} answers 403), a target without the
// consultant role gets not_a_consultant, and a job with anything not done ends
// completed_with_errors with a title that says so.
func TestJobsDecideLikeTheDirectRoutes(t *testing.T) {
	s := newStack(t)
	b := newBureau(t, s, 1, 1)
	owner, k, c := b.Owner, b.consultants[0], b.clients[0]
	pa := owner.CreateUser(t, map[string]any{"name": "Program Admin", "profession": "consultant", "roles": []string{"consultant"}})
	plain := owner.CreateUser(t, map[string]any{"name": "Not A Consultant", "profession": "practitioner"})
	owner.Must(t, "PUT", "/v1/clients/"+c+"/admins/"+pa, map[string]any{"programs": []string{"payroll"}}, 200)
	paa := s.env.As(b.ID, pa)
	paa.Must(t, "PUT", "/v1/clients/"+c+"/admins/"+pa, map[string]any{"programs": []string{"payroll", "orders"}}, 403)

	// The program administrator may submit (client_admins is not needed: items are decided
	// per client), and a role-less user manager may too.
	managers := owner.CreateGroup(t, "Managers", map[string]any{"clients": map[string]any{"level": "edit", "scope": "own"}})
	owner.Must(t, "PUT", "/v1/users/"+pa+"/groups", map[string]any{"groupIds": []string{managers}}, 200)
	worker := s.poller(s.env.App.JobWorker())
	j := submit(t, paa, map[string]any{"action": "grant", "consultantIds": []string{pa, k, plain}, "clientIds": []string{c}, "programs": []string{"payroll"}})
	done := s.runUntilDone(t, paa, j["id"].(string), worker)
	if done["status"] != "completed_with_errors" {
		t.Errorf("job = %v", done)
	}
	got := results(t, paa, j["id"].(string), "")
	want := map[string]string{pa + "/" + c + "/payroll": "not_permitted", k + "/" + c + "/payroll": "assigned", plain + "/" + c + "/payroll": "not_a_consultant"}
	jsonEqual(t, "results", got, want)
	var ns struct{ Items []map[string]any }
	paa.Must(t, "GET", "/v1/notifications", nil, 200).JSON(t, &ns)
	if len(ns.Items) != 1 || !strings.Contains(ns.Items[0]["title"].(string), "2 of 3 items not done") {
		t.Errorf("notification = %v", ns.Items)
	}
	// The program administrator still has nothing at C: the self-grant did not happen.
	if d := paa.Must(t, "POST", "/v1/authorize", map[string]any{"userId": pa, "action": "view", "area": "clients", "clientId": c, "program": "payroll"}, 200).Map(t); d["allowed"] != false {
		t.Errorf("self-grant took effect: %v", d)
	}

	// Read-back of client administration: the owner (implicit) and the program administrator.
	var admins struct{ Items []map[string]any }
	owner.Must(t, "GET", "/v1/clients/"+c+"/admins", nil, 200).JSON(t, &admins)
	if len(admins.Items) != 2 || admins.Items[0]["userId"] != owner.UserID || admins.Items[0]["source"] != "owner" ||
		admins.Items[1]["userId"] != pa || admins.Items[1]["programs"].([]any)[0] != "payroll" {
		t.Errorf("admins = %v", admins.Items)
	}
	s.env.As(b.ID, k).Must(t, "GET", "/v1/clients/"+c+"/admins", nil, 403)
	owner.Must(t, "GET", "/v1/clients/c_nosuchclient000000000000/admins", nil, 404)
}

// TestGrantsStayInsideAPractice: a grant job on a hirer's own client for a clinic consultant is
// refused (not_permitted) instead of being stored to open nothing behind the practice wall.
func TestGrantsStayInsideAPractice(t *testing.T) {
	s := newStack(t)
	b := newBureau(t, s, 1, 1)
	owner, k, clinicClient := b.Owner, b.consultants[0], b.clients[0]
	act := owner.Must(t, "POST", "/v1/apps/tenants/activate", map[string]any{"templates": []string{"hirer"}}, 200).Map(t)
	hg := act["groups"].([]any)[0].(map[string]any)["id"].(string)
	hirer := s.env.As(b.ID, owner.CreateUser(t, map[string]any{"kind": "hirer", "groupIds": []string{hg}}))
	hirerClient := hirer.Must(t, "POST", "/v1/clients", map[string]any{"name": "Hirer's own"}, 201).Map(t)["id"].(string)
	worker := s.poller(s.env.App.JobWorker())
	j := submit(t, owner, map[string]any{"action": "grant", "consultantIds": []string{k}, "clientIds": []string{clinicClient, hirerClient}, "programs": []string{"payroll"}})
	done := s.runUntilDone(t, owner, j["id"].(string), worker)
	if done["status"] != "completed_with_errors" {
		t.Errorf("job = %v", done)
	}
	jsonEqual(t, "results", results(t, owner, j["id"].(string), ""), map[string]string{
		k + "/" + clinicClient + "/payroll": "assigned", k + "/" + hirerClient + "/payroll": "not_permitted"})
}
