package storetest

import (
	"slices"
	"testing"

	"github.com/tilgang/tilgang/shared/access"
)

// testReverseLookups: ClientAccessPage brings every assigned or granted user (deactivated ones
// too) and the active users who may reach the client without either, pages by user id to the
// end without repeats, follows group, status and ownership changes at once, and refuses a
// cursor of another list; UserClientsPage merges assignments, grants and (when asked) policy
// clients by client id.
func testReverseLookups(t *testing.T, f *fixture) {
	tn, owner := f.tenant()
	other, _ := f.tenant()
	gAll := f.group(tn.ID, "Reception") // clients view, scope all
	gOwn := f.group(tn.ID, "Therapists")
	prevOwn := gOwn
	gOwn.Permissions = access.Permissions{access.AreaClients: {Level: access.LevelEdit, Scope: access.ScopeOwn}}
	gOwn.Version++
	must(t, "UpdateGroup", f.s.UpdateGroup(f.ctx, prevOwn, gOwn, access.Meta{}))
	in := func(g access.Group) func(*access.User) { return func(u *access.User) { u.GroupIDs = []string{g.ID} } }
	reception := f.createUser(tn.ID, "Reception", in(gAll))
	away := f.createUser(tn.ID, "Away", in(gAll))
	assigned := f.createUser(tn.ID, "Assigned", in(gOwn))
	granted := f.createUser(tn.ID, "Granted", in(gOwn))
	plain := f.createUser(tn.ID, "Plain", in(gOwn))
	legacy := f.createUser(tn.ID, "Legacy", func(u *access.User) {
		u.Legacy = &access.LegacyRights{Permissions: access.Permissions{access.AreaClients: {Level: access.LevelEdit, Scope: access.ScopeAll}},
			GroupRights: map[string]string{}}
	})
	for range 3 { // members of a scope-all group, for paging
		f.createUser(tn.ID, "Desk", in(gAll))
	}
	cl := f.client(tn.ID)
	f.assign(tn.ID, cl.ID, assigned.ID, access.LevelView)
	g := access.ClientGrant{TenantID: tn.ID, ClientID: cl.ID, UserID: granted.ID, Level: access.GrantLevel, Programs: []string{"payroll"},
		GrantedBy: owner.ID, GrantedAt: now(), Version: 1, UpdatedAt: now()}
	job := access.Job{ID: id("job"), TenantID: tn.ID, RequesterID: owner.ID, Action: access.JobGrant, Consultants: 1, Clients: 1,
		Status: access.JobQueued, Total: 1, Chunks: 1, CreatedAt: now()}
	must(t, "CreateJob", f.s.CreateJob(f.ctx, job, access.JobInput{ConsultantIDs: []string{granted.ID}, ClientIDs: []string{cl.ID}}, access.Meta{}))
	must(t, "ApplyJobPart", f.s.ApplyJobPart(f.ctx, access.JobPart{TenantID: tn.ID, JobID: job.ID, Programs: []access.GrantChange{{Next: &g}},
		Results: []access.PairResult{{ConsultantID: granted.ID, ClientID: cl.ID, Outcomes: map[string]access.Outcome{"payroll": access.OutcomeAssigned}}},
		Counts:  map[access.Outcome]int{access.OutcomeAssigned: 1}}))
	// Away is deactivated: no longer reached through the group.
	awayNext := away
	awayNext.Status, awayNext.Version = access.StatusDeactivated, away.Version+1
	must(t, "UpdateUser", f.s.UpdateUser(f.ctx, away, awayNext, access.Meta{}))

	candidates := func(clientID string, limit int) map[string]access.AccessCandidate {
		t.Helper()
		all, _ := pageAll(t, "ClientAccessPage", limit, func(p access.Page) ([]access.AccessCandidate, string, error) {
			page, err := f.s.ClientAccessPage(f.ctx, tn.ID, "", clientID, p.Cursor, p.Limit)
			if err == nil && len(page.Groups) != 2 {
				t.Errorf("ClientAccessPage groups = %d, want 2", len(page.Groups))
			}
			return page.Candidates, page.Next, err
		})
		out := map[string]access.AccessCandidate{}
		var order []string
		for _, c := range all {
			if _, dup := out[c.User.ID]; dup {
				t.Errorf("ClientAccessPage: %s twice", c.User.ID)
			}
			out[c.User.ID] = c
			order = append(order, c.User.ID)
		}
		if !slices.IsSorted(order) {
			t.Errorf("ClientAccessPage not by user id: %v", order)
		}
		return out
	}
	got := candidates(cl.ID, 2)
	for _, u := range []access.User{owner, reception, assigned, granted, legacy} {
		if _, ok := got[u.ID]; !ok {
			t.Errorf("ClientAccessPage misses %s", u.Name)
		}
	}
	for _, u := range []access.User{away, plain} {
		if _, ok := got[u.ID]; ok {
			t.Errorf("ClientAccessPage brings %s", u.Name)
		}
	}
	if len(got) != 5+3 {
		t.Errorf("ClientAccessPage = %d candidates, want 8", len(got))
	}
	if c := got[assigned.ID]; c.Assignment == nil || c.Assignment.Level != access.LevelView || c.User.Status != access.StatusActive || !c.User.InGroup(gOwn.ID) {
		t.Errorf("assigned candidate = %+v", c)
	}
	if c := got[granted.ID]; c.Grant == nil || !slices.Equal(c.Grant.Programs, []string{"payroll"}) {
		t.Errorf("granted candidate = %+v", c)
	}
	if c := got[owner.ID]; !c.User.IsOwner {
		t.Errorf("owner candidate = %+v", c)
	}
	if c := got[legacy.ID]; c.User.Legacy == nil {
		t.Errorf("legacy candidate = %+v", c)
	}

	// A group giving scope all reaches its members at once; deactivation removes them, also
	// when assigned (then they stay, being assigned).
	prevOwn = gOwn
	gOwn.Permissions = access.Permissions{access.AreaClients: {Level: access.LevelEdit, Scope: access.ScopeAll}}
	gOwn.Version++
	must(t, "UpdateGroup", f.s.UpdateGroup(f.ctx, prevOwn, gOwn, access.Meta{}))
	if _, ok := candidates(cl.ID, 100)[plain.ID]; !ok {
		t.Errorf("a member of a group turned scope all is missing")
	}
	assignedNext := assigned
	assignedNext.Status, assignedNext.Version = access.StatusDeactivated, assigned.Version+1
	must(t, "UpdateUser", f.s.UpdateUser(f.ctx, assigned, assignedNext, access.Meta{}))
	if c, ok := candidates(cl.ID, 3)[assigned.ID]; !ok || c.User.Status != access.StatusDeactivated || c.Assignment == nil {
		t.Errorf("deactivated assigned user = %+v, %v", c, ok)
	}
	// A policy client reaches every active user.
	pol := access.Client{ID: id("c"), TenantID: tn.ID, Name: "Signed up", Status: access.ClientActive, Source: access.ClientSignup,
		PolicyLevel: access.LevelView, Version: 1, CreatedAt: now(), UpdatedAt: now()}
	must(t, "CreateClient", f.s.CreateClient(f.ctx, pol, nil, access.Meta{}))
	if got := candidates(pol.ID, 4); len(got) != 1+4+1+1+1 { // owner, reception and desks, granted, plain, legacy
		t.Errorf("policy client: %d candidates, want 8", len(got))
	}

	first, err := f.s.ClientAccessPage(f.ctx, tn.ID, "", cl.ID, "", 1)
	must(t, "ClientAccessPage", err)
	if first.Next == "" {
		t.Fatalf("ClientAccessPage with limit 1 has no next page")
	}
	_, err = f.s.ClientAccessPage(f.ctx, tn.ID, "", pol.ID, first.Next, 10)
	wantErr(t, "ClientAccessPage with another client's cursor", err, access.ErrInvalid)
	through, err := f.s.ClientAccessPage(f.ctx, other.ID, "", cl.ID, "", 10)
	must(t, "ClientAccessPage through another tenant", err)
	if through.Client.ID != "" || len(through.Candidates) != 0 {
		t.Errorf("ClientAccessPage through another tenant = %+v, want no client and no candidates", through)
	}

	// Clients of a user: two assignments, a grant on one of them, and the policy client.
	c2 := f.client(tn.ID)
	f.assign(tn.ID, c2.ID, granted.ID, access.LevelEdit)
	f.assign(tn.ID, cl.ID, granted.ID, access.LevelEdit)
	for _, policy := range []bool{false, true} {
		var ids []string
		all, _ := pageAll(t, "UserClientsPage", 1, func(p access.Page) ([]access.ClientCandidate, string, error) {
			page, err := f.s.UserClientsPage(f.ctx, tn.ID, "", granted.ID, p.Cursor, p.Limit, policy)
			return page.Candidates, page.Next, err
		})
		for _, c := range all {
			ids = append(ids, c.Client.ID)
			if c.Client.ID == cl.ID && (c.Grant == nil || c.Assignment == nil) {
				t.Errorf("UserClientsPage: %+v, want the assignment and the grant", c)
			}
		}
		want := []string{cl.ID, c2.ID}
		if policy {
			want = append(want, pol.ID)
		}
		if !slices.Equal(ids, sorted(want...)) {
			t.Errorf("UserClientsPage(policy %v) = %v, want %v", policy, ids, sorted(want...))
		}
	}
	page, err := f.s.UserClientsPage(f.ctx, tn.ID, "", granted.ID, "", 1, false)
	must(t, "UserClientsPage", err)
	_, err = f.s.UserClientsPage(f.ctx, tn.ID, "", plain.ID, page.Next, 1, false)
	wantErr(t, "UserClientsPage with another user's cursor", err, access.ErrInvalid)

	// A deleted user leaves the lists.
	must(t, "DeleteUser", f.s.DeleteUser(f.ctx, reception, access.Meta{}))
	if _, ok := candidates(cl.ID, 100)[reception.ID]; ok {
		t.Errorf("a deleted user is still a candidate")
	}
}
