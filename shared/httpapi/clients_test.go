package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tilgang/tilgang/shared/access"
	"github.com/tilgang/tilgang/shared/apitest"
	"github.com/tilgang/tilgang/shared/httpapi"
)

// clientPerms gives the same permission on the three client record areas.
func clientPerms(level, scope string, extra map[string]any) map[string]any {
	p := map[string]any{}
	for _, a := range []string{"clients", "journals", "invoices"} {
		p[a] = map[string]any{"level": level, "scope": scope}
	}
	for k, v := range extra {
		p[k] = v
	}
	return p
}

func createClient(t testing.TB, a *apitest.Actor, source string) string {
	t.Helper()
	return a.Must(t, "POST", "/v1/clients", map[string]any{"name": "Client " + access.NewULID("n")[2:10], "source": source}, 201).Map(t)["id"].(string)
}

func setPolicy(t testing.TB, owner *apitest.Actor, policy string) {
	t.Helper()
	owner.Must(t, "PATCH", "/v1/settings", map[string]any{"newClientAccess": policy}, 200)
}

func authorizeClient(t testing.TB, a *apitest.Actor, userID, action, area, clientID string) map[string]any {
	t.Helper()
	return a.Must(t, "POST", "/v1/authorize", map[string]any{"userId": userID, "action": action, "area": area, "clientId": clientID}, 200).Map(t)
}

// TestClientAccessMatrix checks the access rule for every combination of scope, area level,
// new-client policy and assignment level: max(scope-all level, min(area level, max(assignment,
// policy))).
func TestClientAccessMatrix(t *testing.T) {
	env := apitest.New(t)
	ten := env.NewTenant(t, true)
	owner := ten.Owner
	users := map[string]string{} // "own/view" → user id
	for _, scope := range []string{"own", "all"} {
		for _, level := range []string{"view", "edit"} {
			g := owner.CreateGroup(t, scope+" "+level, clientPerms(level, scope, nil))
			users[scope+"/"+level] = owner.CreateUser(t, map[string]any{"groupIds": []string{g}})
		}
	}
	clients := map[string]string{} // "policy/assigned" → client id
	for _, policy := range []string{"none", "view", "edit"} {
		setPolicy(t, owner, policy)
		for _, assigned := range []string{"none", "view", "edit"} {
			c := createClient(t, owner, "signup")
			clients[policy+"/"+assigned] = c
			if assigned == "none" {
				continue
			}
			for _, u := range users {
				owner.Must(t, "PUT", "/v1/clients/"+c+"/access/"+u, map[string]any{"level": assigned}, 200)
			}
		}
	}
	tests := []struct {
		scope, level, policy, assigned, want string
	}{
		{"own", "view", "none", "none", "none"},
		{"own", "view", "none", "view", "view"},
		{"own", "view", "none", "edit", "view"},
		{"own", "view", "view", "none", "view"},
		{"own", "view", "view", "view", "view"},
		{"own", "view", "view", "edit", "view"},
		{"own", "view", "edit", "none", "view"},
		{"own", "view", "edit", "view", "view"},
		{"own", "view", "edit", "edit", "view"},
		{"own", "edit", "none", "none", "none"},
		{"own", "edit", "none", "view", "view"},
		{"own", "edit", "none", "edit", "edit"},
		{"own", "edit", "view", "none", "view"},
		{"own", "edit", "view", "view", "view"},
		{"own", "edit", "view", "edit", "edit"},
		{"own", "edit", "edit", "none", "edit"},
		{"own", "edit", "edit", "view", "edit"},
		{"own", "edit", "edit", "edit", "edit"},
		{"all", "view", "none", "none", "view"},
		{"all", "view", "none", "view", "view"},
		{"all", "view", "none", "edit", "view"},
		{"all", "view", "view", "none", "view"},
		{"all", "view", "view", "view", "view"},
		{"all", "view", "view", "edit", "view"},
		{"all", "view", "edit", "none", "view"},
		{"all", "view", "edit", "view", "view"},
		{"all", "view", "edit", "edit", "view"},
		{"all", "edit", "none", "none", "edit"},
		{"all", "edit", "none", "view", "edit"},
		{"all", "edit", "none", "edit", "edit"},
		{"all", "edit", "view", "none", "edit"},
		{"all", "edit", "view", "view", "edit"},
		{"all", "edit", "view", "edit", "edit"},
		{"all", "edit", "edit", "none", "edit"},
		{"all", "edit", "edit", "view", "edit"},
		{"all", "edit", "edit", "edit", "edit"},
	}
	for _, tc := range tests {
		name := fmt.Sprintf("%s-%s/policy-%s/assigned-%s", tc.scope, tc.level, tc.policy, tc.assigned)
		t.Run(name, func(t *testing.T) {
			u, c := users[tc.scope+"/"+tc.level], clients[tc.policy+"/"+tc.assigned]
			for _, area := range []string{"clients", "journals", "invoices"} {
				for _, action := range []string{"view", "edit"} {
					d := authorizeClient(t, owner, u, action, area, c)
					if got := d["level"]; got != tc.want {
						t.Errorf("%s %s: level = %v, want %s (%v)", action, area, got, tc.want, d["reason"])
					}
					wantAllowed := access.Level(tc.want).AtLeast(access.Level(action))
					if d["allowed"] != wantAllowed {
						t.Errorf("%s %s: allowed = %v, want %v (%v)", action, area, d["allowed"], wantAllowed, d["reason"])
					}
				}
			}
			// The user's own view agrees: GET /v1/clients/{id} opens exactly when level >= view.
			want := 403
			if tc.want != "none" {
				want = 200
			}
			env.As(ten.ID, u).Must(t, "GET", "/v1/clients/"+c, nil, want)
		})
	}
	// Delete needs scope all: an assignment never gives more than edit.
	d := authorizeClient(t, owner, users["own/edit"], "delete", "clients", clients["edit/edit"])
	if d["allowed"] != false {
		t.Errorf("delete through an assignment allowed: %v", d)
	}
}

func TestAuthorizeReasonNamesTheAssignment(t *testing.T) {
	env := apitest.New(t)
	ten := env.NewTenant(t, true, "therapist", "secretary")
	owner := ten.Owner
	groups := map[string]string{}
	for _, g := range owner.Must(t, "GET", "/v1/groups", nil, 200).Map(t)["items"].([]any) {
		gm := g.(map[string]any)
		groups[gm["name"].(string)] = gm["id"].(string)
	}
	therapist := owner.CreateUser(t, map[string]any{"groupIds": []string{groups["Therapist"]}})
	secretary := owner.CreateUser(t, map[string]any{"groupIds": []string{groups["Secretary"]}})
	c := createClient(t, owner, "manual")
	d := authorizeClient(t, owner, therapist, "edit", "clients", c)
	if d["allowed"] != false || !strings.Contains(d["reason"].(string), "not assigned to them") {
		t.Errorf("unassigned: %v", d)
	}
	apt := env.As(ten.ID, secretary).Must(t, "POST", "/v1/appointments", map[string]any{"clientId": c, "employeeId": therapist, "source": "manual"}, 201).Map(t)
	if apt["assignment"].(map[string]any)["source"] != "appointment" {
		t.Errorf("appointment = %v", apt)
	}
	d = authorizeClient(t, owner, therapist, "edit", "journals", c)
	if want := "group Therapist gives journals edit (own); assigned by appointment"; d["allowed"] != true || d["reason"] != want {
		t.Errorf("authorize = %v, want allowed with reason %q", d, want)
	}
	d = authorizeClient(t, owner, secretary, "edit", "clients", c)
	if d["allowed"] != true || !strings.Contains(d["reason"].(string), "scope all covers every client") {
		t.Errorf("secretary: %v", d)
	}
	// The area-level explanation says what "own" means for clients.
	d = owner.Must(t, "POST", "/v1/authorize", map[string]any{"userId": therapist, "action": "view", "area": "clients"}, 200).Map(t)
	if !strings.Contains(d["reason"].(string), "new-client policy") {
		t.Errorf("area reason = %v", d["reason"])
	}
}

// seedEmployees writes n active employees in a group straight into the table.
func seedEmployees(t testing.TB, env *apitest.Env, tenantID, groupID string, n int) {
	t.Helper()
	now := time.Now().UTC()
	users := make([]access.User, 0, n)
	for i := range n {
		users = append(users, access.User{ID: access.NewULID("u"), TenantID: tenantID, Name: fmt.Sprintf("Seeded %d", i),
			Email: apitest.UniqueEmail("seed"), Profession: access.ProfessionPractitioner, GroupIDs: []string{groupID},
			Status: access.StatusActive, CalendarIDs: []string{access.NewULID("cal")}, Version: 1, CreatedAt: now, UpdatedAt: now})
	}
	if err := env.App.Store.SeedUsers(context.Background(), users); err != nil {
		t.Fatal(err)
	}
}

// TestPolicyClientCostsConstantWrites creates a client under the new-client policy in a tenant
// of 2 and one of 2,000 employees: the same number of writes (one; the tenant's first policy
// client also marks the group set), and every employee (one hired afterwards included) can
// open it.
func TestPolicyClientCostsConstantWrites(t *testing.T) {
	env := apitest.New(t)
	writes := map[int]int{}
	for _, n := range []int{2, 2000} {
		ten := env.NewTenant(t, true)
		g := ten.Owner.CreateGroup(t, "Therapist", clientPerms("edit", "own", nil))
		seedEmployees(t, env, ten.ID, g, n)
		setPolicy(t, ten.Owner, "edit")
		env.Counter.Reset()
		createClient(t, ten.Owner, "online_booking")
		if first := env.Counter.Writes(); first != 2 {
			t.Errorf("%d employees: the first policy client cost %d writes, want 2 (the flag, the client)", n, first)
		}
		env.Counter.Reset()
		c := createClient(t, ten.Owner, "online_booking")
		writes[n] = env.Counter.Writes()

		hired := ten.Owner.CreateUser(t, map[string]any{"groupIds": []string{g}})
		if d := authorizeClient(t, ten.Owner, hired, "edit", "clients", c); d["allowed"] != true {
			t.Errorf("%d employees: an employee hired later cannot edit the policy client: %v", n, d)
		}
		page := ten.Owner.Must(t, "GET", "/v1/clients/"+c+"/access?limit=100", nil, 200).Map(t)
		if got := len(page["items"].([]any)); got != 100 && n > 100 {
			t.Errorf("%d employees: first access page has %d users, want 100", n, got)
		}
		if n > 100 && page["nextCursor"] == nil {
			t.Errorf("%d employees: no next page", n)
		}
	}
	if writes[2] != writes[2000] || writes[2] != 1 {
		t.Errorf("creating a policy client: %d writes with 2 employees, %d with 2,000; want 1 and 1", writes[2], writes[2000])
	}
}

// collect follows nextCursor through a list and returns every item and the number of pages.
func collect(t *testing.T, a *apitest.Actor, path string) ([]map[string]any, int) {
	t.Helper()
	var out []map[string]any
	pages := 0
	cursor := ""
	for {
		p := path
		if cursor != "" {
			p += "&cursor=" + url.QueryEscape(cursor)
		}
		m := a.Must(t, "GET", p, nil, 200).Map(t)
		pages++
		for _, it := range m["items"].([]any) {
			out = append(out, it.(map[string]any))
		}
		next, _ := m["nextCursor"].(string)
		if next == "" {
			return out, pages
		}
		if pages > 100 {
			t.Fatal("paging does not end")
		}
		cursor = next
	}
}

func TestReverseLookupsPageAcrossSources(t *testing.T) {
	env := apitest.New(t)
	ten := env.NewTenant(t, true)
	owner := ten.Owner
	gOwn := owner.CreateGroup(t, "Therapist", clientPerms("edit", "own", map[string]any{"users": map[string]any{"level": "none"}}))
	gAll := owner.CreateGroup(t, "Reception", clientPerms("view", "all", map[string]any{"calendars": map[string]any{"level": "edit", "scope": "all"}}))
	var therapists, reception []string
	for range 11 {
		therapists = append(therapists, owner.CreateUser(t, map[string]any{"groupIds": []string{gOwn}}))
	}
	for range 2 {
		reception = append(reception, owner.CreateUser(t, map[string]any{"groupIds": []string{gAll}}))
	}
	c := createClient(t, owner, "manual")
	for i, u := range therapists[:8] {
		if i%2 == 0 {
			owner.Must(t, "PUT", "/v1/clients/"+c+"/access/"+u, map[string]any{"level": "view"}, 200)
		} else {
			env.As(ten.ID, reception[0]).Must(t, "POST", "/v1/appointments", map[string]any{"clientId": c, "employeeId": u, "source": "manual"}, 201)
		}
	}
	deactivated := therapists[7]
	owner.Must(t, "POST", "/v1/users/"+deactivated+"/deactivate", nil, 200)

	items, pages := collect(t, owner, "/v1/clients/"+c+"/access?limit=3")
	if pages < 4 {
		t.Errorf("%d pages, want at least 4 with limit 3", pages)
	}
	got := map[string]map[string]any{}
	for _, it := range items {
		id := it["userId"].(string)
		if _, dup := got[id]; dup {
			t.Errorf("user %s listed twice", id)
		}
		got[id] = it
	}
	want := append(append(slices.Clone(therapists[:8]), reception...), owner.UserID)
	if len(got) != len(want) {
		t.Errorf("%d users can access, want %d: %v", len(got), len(want), items)
	}
	for _, id := range want {
		if _, ok := got[id]; !ok {
			t.Errorf("user %s missing", id)
		}
	}
	if e := got[deactivated]; e == nil || e["level"] != "none" || e["status"] != "deactivated" {
		t.Errorf("deactivated assigned user: %v", e)
	}
	if e := got[therapists[0]]; e == nil || e["level"] != "view" {
		t.Errorf("therapist assigned with view: %v", e)
	}
	if e := got[therapists[1]]; e == nil || e["level"] != "edit" || e["reasons"].([]any)[0].(map[string]any)["source"] != "appointment" {
		t.Errorf("therapist with an appointment: %v", e)
	}
	if e := got[reception[0]]; e == nil || e["reasons"].([]any)[0].(map[string]any)["type"] != "scope_all" {
		t.Errorf("reception: %v", e)
	}
	// A cursor of one client's list is refused by another's.
	first := owner.Must(t, "GET", "/v1/clients/"+c+"/access?limit=3", nil, 200).Map(t)
	other := createClient(t, owner, "manual")
	owner.Must(t, "GET", "/v1/clients/"+other+"/access?cursor="+url.QueryEscape(first["nextCursor"].(string)), nil, 400)

	// A policy client: every active employee, by policy.
	setPolicy(t, owner, "view")
	p := createClient(t, owner, "signup")
	items, _ = collect(t, owner, "/v1/clients/"+p+"/access?limit=4")
	if want := 1 + 10 + 2; len(items) != want { // owner, active therapists, reception
		t.Errorf("policy client: %d users, want %d", len(items), want)
	}

	// Which clients therapist 0 can open: five assignments and four policy clients, one both.
	t0 := therapists[0]
	var mine []string
	for range 5 {
		setPolicy(t, owner, "none")
		id := createClient(t, owner, "manual")
		owner.Must(t, "PUT", "/v1/clients/"+id+"/access/"+t0, map[string]any{"level": "edit"}, 200)
		mine = append(mine, id)
	}
	setPolicy(t, owner, "view")
	var policy []string
	for range 3 {
		policy = append(policy, createClient(t, owner, "online_booking"))
	}
	owner.Must(t, "PUT", "/v1/clients/"+policy[1]+"/access/"+t0, map[string]any{"level": "edit"}, 200)
	wantIDs := append(append(append([]string{c}, mine...), p), policy...)
	slices.Sort(wantIDs)
	items, pages = collect(t, env.As(ten.ID, t0), "/v1/users/"+t0+"/clients?limit=2")
	var gotIDs []string
	for _, it := range items {
		gotIDs = append(gotIDs, it["clientId"].(string))
		switch id := it["clientId"].(string); id {
		case policy[1]:
			if it["level"] != "edit" || len(it["reasons"].([]any)) != 2 {
				t.Errorf("assigned policy client: %v", it)
			}
		case policy[0]:
			if it["level"] != "view" || it["reasons"].([]any)[0].(map[string]any)["type"] != "policy" {
				t.Errorf("policy client: %v", it)
			}
		}
	}
	if !slices.Equal(gotIDs, wantIDs) {
		t.Errorf("clients of therapist = %v, want %v", gotIDs, wantIDs)
	}
	if pages < 5 {
		t.Errorf("%d pages, want at least 5 with limit 2", pages)
	}
	all := owner.Must(t, "GET", "/v1/users/"+reception[0]+"/clients", nil, 200).Map(t)
	if all["allClients"] != true || all["allClientsLevel"] != "view" {
		t.Errorf("reception: allClients = %v %v", all["allClients"], all["allClientsLevel"])
	}
	if m := owner.Must(t, "GET", "/v1/users/"+t0+"/clients", nil, 200).Map(t); m["allClients"] != false {
		t.Errorf("therapist: allClients = %v", m["allClients"])
	}
	// A deactivated user keeps their assignments but is refused.
	for _, it := range owner.Must(t, "GET", "/v1/users/"+deactivated+"/clients", nil, 200).Map(t)["items"].([]any) {
		if it.(map[string]any)["level"] != "none" {
			t.Errorf("deactivated user's client: %v", it)
		}
	}
	// Another therapist cannot read t0's list; the owner and t0 can.
	env.As(ten.ID, therapists[2]).Must(t, "GET", "/v1/users/"+t0+"/clients", nil, 404)
	env.As(ten.ID, therapists[2]).Must(t, "GET", "/v1/clients/"+c+"/access", nil, 403)
	env.As(ten.ID, therapists[2]).Must(t, "GET", "/v1/clients", nil, 403)
	if n := len(env.As(ten.ID, reception[0]).Must(t, "GET", "/v1/clients?limit=100", nil, 200).Map(t)["items"].([]any)); n != len(wantIDs)+1 {
		t.Errorf("reception lists %d clients, want %d", n, len(wantIDs)+1)
	}
}

func TestAppointmentsAndOnlineBooking(t *testing.T) {
	env := apitest.New(t)
	ten := env.NewTenant(t, true)
	owner := ten.Owner
	gOwn := owner.CreateGroup(t, "Therapist", clientPerms("edit", "own", nil))
	gBooking := owner.CreateGroup(t, "Booking system", map[string]any{"online_booking": map[string]any{"level": "edit"}})
	gDesk := owner.CreateGroup(t, "Desk", map[string]any{"calendars": map[string]any{"level": "edit", "scope": "all"}})
	emp1 := owner.CreateUser(t, map[string]any{"groupIds": []string{gOwn}})
	emp2 := owner.CreateUser(t, map[string]any{"groupIds": []string{gOwn}})
	booking := env.As(ten.ID, owner.CreateUser(t, map[string]any{"groupIds": []string{gBooking}}))
	desk := env.As(ten.ID, owner.CreateUser(t, map[string]any{"groupIds": []string{gDesk}}))
	calOf := func(id string) string {
		return owner.Must(t, "GET", "/v1/users/"+id, nil, 200).Map(t)["calendarIds"].([]any)[0].(string)
	}
	cal1, cal2 := calOf(emp1), calOf(emp2)
	owner.Must(t, "PATCH", "/v1/settings", map[string]any{"bookableCalendarIds": []string{cal1}}, 200)
	c := booking.Must(t, "POST", "/v1/clients", map[string]any{"name": "Booked Client", "source": "online_booking"}, 201).Map(t)["id"].(string)

	env.Counter.Reset()
	booking.Must(t, "POST", "/v1/appointments", map[string]any{"clientId": c, "employeeId": emp2, "calendarId": cal2, "source": "online_booking"}, 409)
	if w := env.Counter.Writes(); w != 0 {
		t.Errorf("refused booking wrote %d times", w)
	}
	booking.Must(t, "POST", "/v1/appointments", map[string]any{"clientId": c, "employeeId": emp2, "calendarId": cal1, "source": "online_booking"}, 409)
	booking.Must(t, "POST", "/v1/appointments", map[string]any{"clientId": c, "employeeId": emp1, "source": "online_booking"}, 400)
	apt := booking.Must(t, "POST", "/v1/appointments", map[string]any{"clientId": c, "employeeId": emp1, "calendarId": cal1, "source": "online_booking"}, 201).Map(t)
	asg := apt["assignment"].(map[string]any)
	if asg["source"] != "online_booking" || asg["level"] != "edit" || apt["assignmentChanged"] != true {
		t.Errorf("booking = %v", apt)
	}
	env.Counter.Reset()
	again := booking.Must(t, "POST", "/v1/appointments", map[string]any{"clientId": c, "employeeId": emp1, "calendarId": cal1, "source": "online_booking"}, 201).Map(t)
	if again["assignmentChanged"] != false || env.Counter.Writes() != 0 {
		t.Errorf("repeated booking changed something: %v, %d writes", again, env.Counter.Writes())
	}
	if d := authorizeClient(t, owner, emp1, "edit", "journals", c); d["allowed"] != true {
		t.Errorf("booked employee: %v", d)
	}
	// The booking system cannot make manual appointments, nor the desk online bookings.
	// (The booking system cannot read users: a refusal about one answers 404, as for no user.)
	booking.Must(t, "POST", "/v1/appointments", map[string]any{"clientId": c, "employeeId": emp2, "source": "manual"}, 404)
	desk.Must(t, "POST", "/v1/appointments", map[string]any{"clientId": c, "employeeId": emp1, "calendarId": cal1, "source": "online_booking"}, 404)

	// A manual appointment raises a view assignment to edit and never lowers one.
	owner.Must(t, "PUT", "/v1/clients/"+c+"/access/"+emp2, map[string]any{"level": "view"}, 200)
	apt = desk.Must(t, "POST", "/v1/appointments", map[string]any{"clientId": c, "employeeId": emp2, "calendarId": cal2, "source": "manual"}, 201).Map(t)
	if asg := apt["assignment"].(map[string]any); asg["level"] != "edit" || asg["source"] != "appointment" {
		t.Errorf("appointment over a view assignment: %v", apt)
	}
	// Nobody assigns themselves through an appointment; the employee must be active.
	env.As(ten.ID, emp1).Must(t, "POST", "/v1/appointments", map[string]any{"clientId": c, "employeeId": emp1, "calendarId": cal1, "source": "manual"}, 403)
	owner.Must(t, "POST", "/v1/users/"+emp2+"/deactivate", nil, 200)
	desk.Must(t, "POST", "/v1/appointments", map[string]any{"clientId": c, "employeeId": emp2, "source": "manual"}, 409)
	desk.Must(t, "POST", "/v1/appointments", map[string]any{"clientId": "c_missing", "employeeId": emp1, "source": "manual"}, 404)
	desk.Must(t, "POST", "/v1/appointments", map[string]any{"clientId": c, "employeeId": "u_missing", "source": "manual"}, 404)
	// The owner books into their own calendar.
	owner.Must(t, "POST", "/v1/appointments", map[string]any{"clientId": c, "employeeId": owner.UserID, "source": "manual"}, 201)
}

func TestAssignmentRulesAuditAndUserDeletion(t *testing.T) {
	env := apitest.New(t)
	ten := env.NewTenant(t, true)
	owner := ten.Owner
	gOwn := owner.CreateGroup(t, "Therapist", clientPerms("edit", "own", nil))
	gAdmin := owner.CreateGroup(t, "Admin", map[string]any{"users": map[string]any{"level": "delete"},
		"clients": map[string]any{"level": "edit", "scope": "all"}})
	gHR := owner.CreateGroup(t, "HR", map[string]any{"users": map[string]any{"level": "delete"}})
	therapist := owner.CreateUser(t, map[string]any{"groupIds": []string{gOwn}})
	other := owner.CreateUser(t, map[string]any{"groupIds": []string{gOwn}})
	admin := env.As(ten.ID, owner.CreateUser(t, map[string]any{"groupIds": []string{gAdmin}}))
	name := "Very Personal Name " + access.NewULID("n")
	c := owner.Must(t, "POST", "/v1/clients", map[string]any{"name": name}, 201).Map(t)["id"].(string)

	// Self-escalation and missing rights; user management alone opens no client, so it
	// assigns none either.
	env.As(ten.ID, owner.CreateUser(t, map[string]any{"groupIds": []string{gHR}})).Must(t, "PUT", "/v1/clients/"+c+"/access/"+therapist, map[string]any{"level": "view"}, 403)
	admin.Must(t, "PUT", "/v1/clients/"+c+"/access/"+admin.UserID, map[string]any{"level": "edit"}, 403)
	env.As(ten.ID, therapist).Must(t, "PUT", "/v1/clients/"+c+"/access/"+other, map[string]any{"level": "edit"}, 404)
	env.As(ten.ID, therapist).Must(t, "PUT", "/v1/clients/"+c+"/access/"+therapist, map[string]any{"level": "edit"}, 403)

	a := admin.Must(t, "PUT", "/v1/clients/"+c+"/access/"+therapist, map[string]any{"level": "view"}, 200).Map(t)
	if a["level"] != "view" || a["source"] != "manual" {
		t.Errorf("assignment = %v", a)
	}
	a = admin.Must(t, "PUT", "/v1/clients/"+c+"/access/"+therapist, map[string]any{"level": "edit"}, 200).Map(t)
	if a["level"] != "edit" || a["version"] != float64(2) {
		t.Errorf("replaced assignment = %v", a)
	}
	env.Counter.Reset()
	admin.Must(t, "PUT", "/v1/clients/"+c+"/access/"+therapist, map[string]any{"level": "edit"}, 200)
	if w := env.Counter.Writes(); w != 0 {
		t.Errorf("unchanged assignment wrote %d times", w)
	}
	// A deactivated user keeps the assignment but is refused; activated again, allowed.
	owner.Must(t, "POST", "/v1/users/"+therapist+"/deactivate", nil, 200)
	if d := authorizeClient(t, owner, therapist, "view", "clients", c); d["allowed"] != false {
		t.Errorf("deactivated: %v", d)
	}
	owner.Must(t, "POST", "/v1/users/"+therapist+"/activate", nil, 200)
	if d := authorizeClient(t, owner, therapist, "edit", "clients", c); d["allowed"] != true {
		t.Errorf("activated again: %v", d)
	}
	// Removing: idempotent.
	admin.Must(t, "PUT", "/v1/clients/"+c+"/access/"+other, map[string]any{"level": "view"}, 200)
	admin.Must(t, "DELETE", "/v1/clients/"+c+"/access/"+other, nil, 204)
	admin.Must(t, "DELETE", "/v1/clients/"+c+"/access/"+other, nil, 204)
	if d := authorizeClient(t, owner, other, "view", "clients", c); d["allowed"] != false {
		t.Errorf("after removal: %v", d)
	}
	// Every change is audited, without the client's name.
	audit := owner.Must(t, "GET", "/v1/audit?limit=100", nil, 200)
	if strings.Contains(audit.Body, name) {
		t.Error("the client's name is in the audit log")
	}
	var entries struct {
		Items []struct {
			Action   string `json:"action"`
			TargetID string `json:"targetId"`
		} `json:"items"`
	}
	audit.JSON(t, &entries)
	count := map[string]int{}
	for _, e := range entries.Items {
		if e.TargetID == c {
			count[e.Action]++
		}
	}
	if count["client.access.set"] != 3 || count["client.access.delete"] != 1 || count["client.create"] != 1 {
		t.Errorf("audit of the client = %v", count)
	}
	// Deleting the user deletes their assignments; the client stays.
	owner.Must(t, "DELETE", "/v1/users/"+therapist, nil, 204)
	if it := getItem(t, env, "TENANT#"+ten.ID, "ACCESS#"+c+"#"+therapist); it != nil {
		t.Errorf("assignment of a deleted user is left: %v", it)
	}
	owner.Must(t, "GET", "/v1/clients/"+c, nil, 200)
	for _, it := range owner.Must(t, "GET", "/v1/clients/"+c+"/access", nil, 200).Map(t)["items"].([]any) {
		if it.(map[string]any)["userId"] == therapist {
			t.Error("deleted user still listed")
		}
	}
}

// TestDeletedUserWithManyAssignments covers the follow-up deletion beyond one transaction.
func TestDeletedUserWithManyAssignments(t *testing.T) {
	env := apitest.New(t)
	ten := env.NewTenant(t, true)
	g := ten.Owner.CreateGroup(t, "Therapist", clientPerms("edit", "own", nil))
	u := ten.Owner.CreateUser(t, map[string]any{"groupIds": []string{g}})
	for range 105 {
		c := createClient(t, ten.Owner, "manual")
		ten.Owner.Must(t, "PUT", "/v1/clients/"+c+"/access/"+u, map[string]any{"level": "view"}, 200)
	}
	ten.Owner.Must(t, "DELETE", "/v1/users/"+u, nil, 204)
	res, err := env.App.Dynamo.Query(context.Background(), &dynamodb.QueryInput{
		TableName: aws.String(env.Config.TableName), IndexName: aws.String("GSI1"),
		KeyConditionExpression:    aws.String("GSI1PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: "TENANT#" + ten.ID + "#USER#" + u}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Items) != 0 {
		t.Errorf("%d assignments left after deleting the user", len(res.Items))
	}
}

func TestClientsOfAnotherTenantAreNotFound(t *testing.T) {
	env := apitest.New(t)
	a := env.NewTenant(t, true)
	b := env.NewTenant(t, true)
	ca := createClient(t, a.Owner, "manual")
	ua := a.Owner.CreateUser(t, nil)
	ub := b.Owner.CreateUser(t, nil)
	cb := createClient(t, b.Owner, "manual")
	env.Counter.Reset()
	b.Owner.Must(t, "GET", "/v1/clients/"+ca, nil, 404)
	b.Owner.Must(t, "GET", "/v1/clients/"+ca+"/access", nil, 404)
	b.Owner.Must(t, "PUT", "/v1/clients/"+ca+"/access/"+ub, map[string]any{"level": "view"}, 404)
	b.Owner.Must(t, "PUT", "/v1/clients/"+cb+"/access/"+ua, map[string]any{"level": "view"}, 404)
	b.Owner.Must(t, "DELETE", "/v1/clients/"+ca+"/access/"+ub, nil, 404)
	b.Owner.Must(t, "GET", "/v1/users/"+ua+"/clients", nil, 404)
	b.Owner.Must(t, "POST", "/v1/appointments", map[string]any{"clientId": ca, "employeeId": ub, "source": "manual"}, 404)
	b.Owner.Must(t, "POST", "/v1/appointments", map[string]any{"clientId": cb, "employeeId": ua, "source": "manual"}, 404)
	b.Owner.Must(t, "POST", "/v1/authorize", map[string]any{"userId": ub, "action": "view", "area": "clients", "clientId": ca}, 404)
	if w := env.Counter.Writes(); w != 0 {
		t.Errorf("cross-tenant requests wrote %d times", w)
	}
	for _, it := range b.Owner.Must(t, "GET", "/v1/clients?limit=100", nil, 200).Map(t)["items"].([]any) {
		if it.(map[string]any)["id"] == ca {
			t.Error("another tenant's client listed")
		}
	}
}

func TestClientRoutesBadInput(t *testing.T) {
	env := apitest.New(t)
	ten := env.NewTenant(t, true)
	owner := ten.Owner
	u := owner.CreateUser(t, nil)
	c := createClient(t, owner, "manual")
	writes := map[string]string{
		"POST /v1/clients":                       "/v1/clients",
		"PUT /v1/clients/{clientId}/access/{id}": "/v1/clients/" + c + "/access/" + u,
		"POST /v1/appointments":                  "/v1/appointments",
	}
	bodies := []struct {
		name, body string
		want       int
	}{
		{"not json", `{"name": `, 400},
		{"empty", ``, 400},
		{"array", `[1,2]`, 400},
		{"two values", `{} {}`, 400},
		{"unknown field", `{"nmae": "x"}`, 400},
		{"wrong type", `{"name": 42, "level": 1, "source": 2, "clientId": 3, "employeeId": [], "calendarId": {}}`, 400},
		{"null fields", `{"name": null, "level": null, "clientId": null}`, 400},
		{"oversized", `{"name": "` + strings.Repeat("a", 70<<10) + `"}`, 413},
	}
	for key, path := range writes {
		method := strings.Fields(key)[0]
		for _, b := range bodies {
			t.Run(key+"/"+b.name, func(t *testing.T) {
				env.Counter.Reset()
				r := owner.Do(t, method, path, b.body)
				if r.Status != b.want {
					t.Fatalf("status %d, want %d: %s", r.Status, b.want, r.Body)
				}
				if !strings.HasPrefix(r.Headers["Content-Type"], "application/problem+json") || !strings.Contains(r.Body, `"detail"`) {
					t.Errorf("not a problem: %v %s", r.Headers, r.Body)
				}
				if w := env.Counter.Writes(); w != 0 {
					t.Errorf("%d writes for a bad request", w)
				}
			})
		}
	}
	semantic := []struct {
		method, path string
		body         any
		field        string
	}{
		{"POST", "/v1/clients", map[string]any{"name": "  "}, "name"},
		{"POST", "/v1/clients", map[string]any{"name": strings.Repeat("x", 201)}, "name"},
		{"POST", "/v1/clients", map[string]any{"name": "A", "source": "walk_in"}, "source"},
		{"POST", "/v1/clients", map[string]any{"name": "A\u0007"}, "name"},
		{"PUT", "/v1/clients/" + c + "/access/" + u, map[string]any{"level": "delete"}, "level"},
		{"PUT", "/v1/clients/" + c + "/access/" + u, map[string]any{}, "level"},
		{"POST", "/v1/appointments", map[string]any{"employeeId": u, "source": "manual"}, "clientId"},
		{"POST", "/v1/appointments", map[string]any{"clientId": c, "source": "manual"}, "employeeId"},
		{"POST", "/v1/appointments", map[string]any{"clientId": c, "employeeId": u}, "source"},
		{"POST", "/v1/appointments", map[string]any{"clientId": c, "employeeId": u, "source": "phone"}, "source"},
		{"POST", "/v1/appointments", map[string]any{"clientId": c, "employeeId": u, "source": "manual", "calendarId": "a b"}, "calendarId"},
		{"POST", "/v1/appointments", map[string]any{"clientId": "x#y", "employeeId": u, "source": "manual"}, "clientId"},
		{"GET", "/v1/clients?limit=0", nil, "limit"},
		{"GET", "/v1/clients?sort=name", nil, "sort"},
		{"GET", "/v1/clients/" + c + "/access?limit=101", nil, "limit"},
		{"GET", "/v1/clients/" + c + "/access?cursor=garbage", nil, "cursor"},
		{"GET", "/v1/users/" + u + "/clients?cursor=eyJ1IjoieCIsImEiOiJ5In0", nil, "cursor"},
		{"GET", "/v1/users/" + u + "/clients?page=2", nil, "page"},
	}
	for _, tc := range semantic {
		t.Run(tc.method+" "+tc.path+" "+tc.field, func(t *testing.T) {
			env.Counter.Reset()
			r := owner.Do(t, tc.method, tc.path, tc.body)
			if r.Status != 400 {
				t.Fatalf("status %d, want 400: %s", r.Status, r.Body)
			}
			var p struct {
				Errors []struct{ Field string } `json:"errors"`
			}
			if err := json.Unmarshal([]byte(r.Body), &p); err != nil || len(p.Errors) == 0 || p.Errors[0].Field != tc.field {
				t.Errorf("problem does not name %s: %s", tc.field, r.Body)
			}
			if w := env.Counter.Writes(); w != 0 {
				t.Errorf("%d writes for a bad request", w)
			}
		})
	}
	// Unknown ids answer 404.
	owner.Must(t, "GET", "/v1/clients/c_nope", nil, 404)
	owner.Must(t, "PUT", "/v1/clients/c_nope/access/"+u, map[string]any{"level": "view"}, 404)
	owner.Must(t, "PUT", "/v1/clients/"+c+"/access/u_nope", map[string]any{"level": "view"}, 404)
	owner.Must(t, "GET", "/v1/users/u_nope/clients", nil, 404)
}

// ownScopeTherapist makes a therapist (clients edit, scope own) with one assigned client.
func ownScopeTherapist(t testing.TB, env *apitest.Env) (*apitest.Actor, string) {
	ten := env.NewTenant(t, true, "therapist")
	gid := ten.Owner.Must(t, "GET", "/v1/groups", nil, 200).Map(t)["items"].([]any)[0].(map[string]any)["id"].(string)
	u := ten.Owner.CreateUser(t, map[string]any{"groupIds": []string{gid}})
	c := createClient(t, ten.Owner, "manual")
	ten.Owner.Must(t, "PUT", "/v1/clients/"+c+"/access/"+u, map[string]any{"level": "edit"}, 200)
	return env.As(ten.ID, u), c
}

func TestAuthorizeOnAClientCostsAtMostThreeCalls(t *testing.T) {
	env := apitest.New(t)
	u, c := ownScopeTherapist(t, env)
	env.Counter.Reset()
	d := u.Must(t, "POST", "/v1/authorize", map[string]any{"userId": u.UserID, "action": "edit", "area": "journals", "clientId": c}, 200).Map(t)
	if d["allowed"] != true {
		t.Errorf("authorize = %v", d)
	}
	if got := env.Counter.Total(); got > 3 {
		t.Errorf("POST /v1/authorize on a client cost %d DynamoDB calls (%v), want at most 3", got, env.Counter.ByOperation())
	}
}

func BenchmarkAuthorizeClientOwnScope(b *testing.B) {
	env := apitest.New(b)
	u, c := ownScopeTherapist(b, env)
	in := &dynamodb.GetItemInput{TableName: aws.String(env.Config.TableName), Key: map[string]types.AttributeValue{
		"PK": &types.AttributeValueMemberS{Value: "TENANT#" + u.TenantID},
		"SK": &types.AttributeValueMemberS{Value: "USER#" + u.UserID},
	}}
	bare := func(b *testing.B) {
		if _, err := env.App.Dynamo.GetItem(context.Background(), in); err != nil {
			b.Fatal(err)
		}
	}
	ev := u.Event(b, "POST", "/v1/authorize", map[string]any{"userId": u.UserID, "action": "edit", "area": "clients", "clientId": c})
	h := env.App.API(httpapi.Me)
	viaHandler := func(b *testing.B) {
		if res, err := h(context.Background(), ev); err != nil || res.StatusCode != 200 || !strings.Contains(res.Body, `"allowed":true`) {
			b.Fatalf("status %d: %v %s", res.StatusCode, err, res.Body)
		}
	}
	ratio := apitest.BenchRatio(b, bare, viaHandler)
	apitest.PrintRatio("POST /v1/authorize (client, own scope)", ratio, 3)
}

// TestAuthorizeOnAProgramIsOneCall: asking about one program at a client adds the user's grant,
// client administration and the program catalogue to the same BatchGetItem: still one call.
func TestAuthorizeOnAProgramIsOneCall(t *testing.T) {
	env := apitest.New(t)
	ten := env.NewTenant(t, true)
	c := ten.Owner.Must(t, "POST", "/v1/clients", map[string]any{"name": "Program Client"}, 201).Map(t)["id"].(string)
	env.Counter.Reset()
	d := ten.Owner.Must(t, "POST", "/v1/authorize", map[string]any{"userId": ten.Owner.UserID, "action": "edit", "area": "clients", "clientId": c, "program": "payroll"}, 200).Map(t)
	if d["allowed"] != true {
		t.Errorf("authorize = %v", d)
	}
	if got := env.Counter.Total(); got != 1 {
		t.Errorf("POST /v1/authorize with a program cost %d DynamoDB calls (%v), want 1", got, env.Counter.ByOperation())
	}
}

func BenchmarkAuthorizeClientProgram(b *testing.B) {
	env := apitest.New(b)
	ten := env.NewTenant(b, true)
	c := ten.Owner.Must(b, "POST", "/v1/clients", map[string]any{"name": "Program Client"}, 201).Map(b)["id"].(string)
	in := &dynamodb.GetItemInput{TableName: aws.String(env.Config.TableName), Key: map[string]types.AttributeValue{
		"PK": &types.AttributeValueMemberS{Value: "TENANT#" + ten.ID},
		"SK": &types.AttributeValueMemberS{Value: "USER#" + ten.Owner.UserID},
	}}
	bare := func(b *testing.B) {
		if _, err := env.App.Dynamo.GetItem(context.Background(), in); err != nil {
			b.Fatal(err)
		}
	}
	ev := ten.Owner.Event(b, "POST", "/v1/authorize", map[string]any{"userId": ten.Owner.UserID, "action": "edit", "area": "clients", "clientId": c, "program": "payroll"})
	h := env.App.API(httpapi.Me)
	viaHandler := func(b *testing.B) {
		if res, err := h(context.Background(), ev); err != nil || res.StatusCode != 200 || !strings.Contains(res.Body, `"allowed":true`) {
			b.Fatalf("status %d: %v %s", res.StatusCode, err, res.Body)
		}
	}
	ratio := apitest.BenchRatio(b, bare, viaHandler)
	apitest.PrintRatio("POST /v1/authorize (client and program)", ratio, 3)
}
