package httpapi_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/tilgang/tilgang/shared/apitest"
)

// ownerCalendar is the first own calendar of the actor.
func ownerCalendar(t *testing.T, a *apitest.Actor) string {
	t.Helper()
	u := a.Must(t, "GET", "/v1/users/"+a.UserID, nil, 200).Map(t)
	return u["calendarIds"].([]any)[0].(string)
}

func ids(t *testing.T, r apitest.Response, key string) []string {
	t.Helper()
	var out []string
	for _, it := range r.Map(t)["items"].([]any) {
		out = append(out, it.(map[string]any)[key].(string))
	}
	return out
}

func allowed(t *testing.T, a *apitest.Actor, body map[string]any) bool {
	t.Helper()
	return a.Must(t, "POST", "/v1/authorize", body, 200).Map(t)["allowed"].(bool)
}

// TestHirersOwnPractice: seed 002's Tenants app. A hirer's clients belong to their own practice:
// the clinic's scope all does not reach them, the hirer does not reach the clinic's clients, the
// owner sees them listed (clients view) and no more; the reverse look-ups, the new-client policy,
// billing and the audit log follow, and nobody crosses the wall by assignment or appointment.
func TestHirersOwnPractice(t *testing.T) {
	env := apitest.New(t)
	ten := env.NewTenant(t, true)
	owner := ten.Owner

	// Hirers need the Tenants app.
	owner.Must(t, "POST", "/v1/users", map[string]any{"name": "Early", "email": apitest.UniqueEmail("early"), "profession": "practitioner", "kind": "hirer"}, 409)
	owner.Must(t, "POST", "/v1/users", map[string]any{"name": "Odd", "email": apitest.UniqueEmail("odd"), "profession": "practitioner", "kind": "landlord"}, 400)
	owner.Must(t, "POST", "/v1/apps/tenants/activate", map[string]any{"templates": []string{"therapist"}}, 400)
	act := owner.Must(t, "POST", "/v1/apps/tenants/activate", map[string]any{"templates": []string{"hirer"}}, 200).Map(t)
	groups := act["groups"].([]any)
	if len(groups) != 1 || groups[0].(map[string]any)["name"] != "Hirer" || !slices.Contains(act["settings"].(map[string]any)["activeApps"].([]any), any("tenants")) {
		t.Fatalf("activation = %v", act)
	}
	hirerGroup := groups[0].(map[string]any)["id"].(string)
	owner.Must(t, "POST", "/v1/apps/tenants/activate", map[string]any{"templates": []string{}}, 409)

	all := owner.CreateGroup(t, "Clinic all", map[string]any{"clients": perm("edit", "all"), "journals": perm("edit", "all"), "online_booking": perm("edit", "")})
	emp := env.As(ten.ID, owner.CreateUser(t, map[string]any{"groupIds": []string{all}}))
	hid := owner.CreateUser(t, map[string]any{"kind": "hirer", "groupIds": []string{hirerGroup}})
	hirer := env.As(ten.ID, hid)
	if k := hirer.Must(t, "GET", "/v1/users/"+hid, nil, 200).Map(t)["kind"]; k != "hirer" {
		t.Errorf("hirer kind = %v", k)
	}
	if k := emp.Must(t, "GET", "/v1/users/"+emp.UserID, nil, 200).Map(t)["kind"]; k != "employee" {
		t.Errorf("employee kind = %v", k)
	}
	// Only the owner (apps edit) activates apps.
	emp.Must(t, "POST", "/v1/apps/tenants/activate", map[string]any{"templates": []string{}}, 403)

	hc := hirer.Must(t, "POST", "/v1/clients", map[string]any{"name": "Hirer's client"}, 201).Map(t)
	if hc["hirerId"] != hid {
		t.Fatalf("hirer's client = %v", hc)
	}
	hcID := hc["id"].(string)
	cc := emp.Must(t, "POST", "/v1/clients", map[string]any{"name": "Clinic client"}, 201).Map(t)
	if _, ok := cc["hirerId"]; ok {
		t.Fatalf("clinic client = %v", cc)
	}
	ccID := cc["id"].(string)

	// The wall, both ways; scope all does not cross it.
	emp.Must(t, "GET", "/v1/clients/"+hcID, nil, 403)
	if got := ids(t, emp.Must(t, "GET", "/v1/clients", nil, 200), "id"); slices.Contains(got, hcID) || !slices.Contains(got, ccID) {
		t.Errorf("employee's client list = %v", got)
	}
	hirer.Must(t, "GET", "/v1/clients/"+hcID, nil, 200)
	hirer.Must(t, "GET", "/v1/clients/"+ccID, nil, 403)
	for _, c := range []struct {
		user, client, action, area string
		want                       bool
	}{
		{emp.UserID, hcID, "view", "clients", false},
		{emp.UserID, ccID, "edit", "journals", true},
		{hid, hcID, "edit", "journals", true},
		{hid, ccID, "view", "clients", false},
		{owner.UserID, hcID, "view", "clients", true},
		{owner.UserID, hcID, "view", "journals", false},
		{owner.UserID, hcID, "edit", "clients", false},
		{owner.UserID, ccID, "delete", "journals", true},
	} {
		if got := allowed(t, owner, map[string]any{"userId": c.user, "clientId": c.client, "action": c.action, "area": c.area}); got != c.want {
			t.Errorf("authorize %s %s %s on %s = %v, want %v", c.user, c.action, c.area, c.client, got, c.want)
		}
	}
	// The owner sees the hirer's client listed and opens it at view.
	owner.Must(t, "GET", "/v1/clients/"+hcID, nil, 200)
	if got := ids(t, owner.Must(t, "GET", "/v1/clients", nil, 200), "id"); !slices.Contains(got, hcID) {
		t.Errorf("owner's client list = %v", got)
	}

	// New clients in a hirer's practice: online bookings name the hirer; manual ones go into
	// one's own practice only; the new-client policy stays with the clinic's clients.
	owner.Must(t, "PATCH", "/v1/settings", map[string]any{"newClientAccess": "edit"}, 200)
	booked := emp.Must(t, "POST", "/v1/clients", map[string]any{"name": "Booked", "source": "online_booking", "hirerId": hid}, 201).Map(t)
	if booked["hirerId"] != hid || booked["policyLevel"] != "none" {
		t.Errorf("booked into the hirer's practice = %v", booked)
	}
	signup := emp.Must(t, "POST", "/v1/clients", map[string]any{"name": "Signed up", "source": "signup"}, 201).Map(t)
	if signup["policyLevel"] != "edit" {
		t.Errorf("clinic signup = %v", signup)
	}
	emp.Must(t, "POST", "/v1/clients", map[string]any{"name": "Smuggled", "hirerId": hid}, 403)
	emp.Must(t, "POST", "/v1/clients", map[string]any{"name": "Nobody's", "source": "online_booking", "hirerId": emp.UserID}, 400)

	// Reverse look-ups: the hirer's own clients (the clinic's policy client is not theirs).
	got := ids(t, owner.Must(t, "GET", "/v1/users/"+hid+"/clients", nil, 200), "clientId")
	slices.Sort(got)
	want := []string{hcID, booked["id"].(string)}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("hirer's clients = %v, want %v", got, want)
	}
	access := owner.Must(t, "GET", "/v1/clients/"+hcID+"/access", nil, 200)
	var who []string
	for _, it := range access.Map(t)["items"].([]any) {
		m := it.(map[string]any)
		who = append(who, m["userId"].(string)+"="+m["level"].(string))
	}
	if !slices.Contains(who, hid+"=edit") || !slices.Contains(who, owner.UserID+"=view") || slices.ContainsFunc(who, func(s string) bool { return strings.HasPrefix(s, emp.UserID) }) {
		t.Errorf("who can open the hirer's client = %v", who)
	}
	// The clinic's employees do not read who can open a hirer's client.
	emp.Must(t, "GET", "/v1/clients/"+hcID+"/access", nil, 403)
	emp.Must(t, "GET", "/v1/clients/"+ccID+"/access", nil, 200)

	// Nobody crosses the wall by assignment or appointment, the owner included.
	owner.Must(t, "PUT", "/v1/clients/"+ccID+"/access/"+hid, map[string]any{"level": "view"}, 403)
	owner.Must(t, "PUT", "/v1/clients/"+hcID+"/access/"+emp.UserID, map[string]any{"level": "view"}, 403)
	owner.Must(t, "POST", "/v1/appointments", map[string]any{"clientId": ccID, "employeeId": hid, "source": "manual"}, 403)
	// Nobody raises their own rights: a hirer's professions are not theirs to change.
	hirer.Must(t, "PATCH", "/v1/users/"+hid, map[string]any{"professions": []string{"receptionist"}}, 403)

	// Billing follows the tenant's setting for hirers.
	seat := func() map[string]any {
		s := owner.Must(t, "GET", "/v1/billing/seats", nil, 200).Map(t)
		if s["hirers"].(float64) != 1 {
			t.Errorf("hirers = %v", s["hirers"])
		}
		for _, x := range s["seats"].([]any) {
			if m := x.(map[string]any); m["userId"] == hid {
				return m
			}
		}
		t.Fatalf("no seat for the hirer: %v", s)
		return nil
	}
	if s := seat(); s["billable"] != true || s["kind"] != "hirer" {
		t.Errorf("hirer's seat by default = %v", s)
	}
	owner.Must(t, "PATCH", "/v1/settings", map[string]any{"hirerSeats": "free"}, 200)
	if s := seat(); s["billable"] != false || !strings.Contains(s["reason"].(string), "hirer") {
		t.Errorf("hirer's seat when hirers are free = %v", s)
	}
	owner.Must(t, "PATCH", "/v1/settings", map[string]any{"hirerSeats": "sometimes"}, 400)

	// The audit log names the practice and the kind.
	var sawClient, sawUser bool
	for _, e := range owner.Must(t, "GET", "/v1/audit?limit=100", nil, 200).Map(t)["items"].([]any) {
		m := e.(map[string]any)
		after, _ := m["after"].(map[string]any)
		sawClient = sawClient || (m["action"] == "client.create" && m["targetId"] == hcID && after["hirerId"] == hid)
		sawUser = sawUser || (m["action"] == "user.create" && m["targetId"] == hid && after["kind"] == "hirer")
	}
	if !sawClient || !sawUser {
		t.Errorf("audit: client with hirerId %v, hirer user with kind %v", sawClient, sawUser)
	}

	// Tenant isolation.
	other := env.NewTenant(t, true).Owner
	other.Must(t, "GET", "/v1/clients/"+hcID, nil, 404)
	other.Must(t, "POST", "/v1/clients", map[string]any{"name": "X", "source": "online_booking", "hirerId": hid}, 400)
	other.Must(t, "POST", "/v1/apps/tenants/activate", map[string]any{"templates": []string{}}, 200)
}

// TestCalendarsKeptListedAndReassigned: seed 000 keeps a deleted employee's calendar; it is
// listed without owner, opened for online booking and given a new owner, who is then the one
// who may book into it. Nobody takes a calendar for themselves; another tenant's answer 404.
func TestCalendarsKeptListedAndReassigned(t *testing.T) {
	env := apitest.New(t)
	ten := env.NewTenant(t, true)
	owner := ten.Owner
	leaver := env.As(ten.ID, owner.CreateUser(t, nil))
	cal := ownerCalendar(t, leaver)
	owner.Must(t, "DELETE", "/v1/users/"+leaver.UserID, nil, 204)

	find := func(r apitest.Response) map[string]any {
		for _, it := range r.Map(t)["items"].([]any) {
			if m := it.(map[string]any); m["id"] == cal {
				return m
			}
		}
		return nil
	}
	kept := find(owner.Must(t, "GET", "/v1/calendars", nil, 200))
	if kept == nil || kept["ownerId"] != nil || kept["bookable"] != false {
		t.Fatalf("kept calendar = %v", kept)
	}
	owner.Must(t, "PATCH", "/v1/settings", map[string]any{"bookableCalendarIds": []string{cal}}, 200)
	one := owner.Must(t, "GET", "/v1/calendars/"+cal, nil, 200)
	if one.Map(t)["bookable"] != true {
		t.Errorf("bookable calendar = %s", one.Body)
	}

	// Giving a calendar away needs edit on it (calendars edit, scope all, here).
	hr := owner.CreateGroup(t, "HR", map[string]any{"users": perm("edit", ""), "calendars": perm("edit", "all")})
	manager := env.As(ten.ID, owner.CreateUser(t, map[string]any{"groupIds": []string{hr}}))
	heir := owner.CreateUser(t, nil)
	plain := env.As(ten.ID, owner.CreateUser(t, nil))

	// Nobody takes a calendar for themselves; the owner's stays the owner's.
	manager.Must(t, "PATCH", "/v1/calendars/"+cal, map[string]any{"ownerId": manager.UserID}, 403)
	manager.Must(t, "PATCH", "/v1/calendars/"+ownerCalendar(t, owner), map[string]any{"ownerId": heir}, 403)
	plain.Must(t, "PATCH", "/v1/calendars/"+cal, map[string]any{"name": "Mine"}, 403)
	manager.Must(t, "PATCH", "/v1/calendars/"+cal, map[string]any{"ownerId": "u_nosuchuser000000000000"}, 400)

	// A new owner and a name; If-Match is honoured.
	r := manager.Must(t, "PATCH", "/v1/calendars/"+cal, map[string]any{"ownerId": heir, "name": "Room 2"}, 200, "If-Match", one.Headers["ETag"])
	if m := r.Map(t); m["ownerId"] != heir || m["name"] != "Room 2" {
		t.Errorf("reassigned = %v", m)
	}
	manager.Must(t, "PATCH", "/v1/calendars/"+cal, map[string]any{"name": "Room 3"}, 412, "If-Match", one.Headers["ETag"])
	if cals := owner.Must(t, "GET", "/v1/users/"+heir, nil, 200).Map(t)["calendarIds"].([]any); !slices.Contains(cals, any(cal)) {
		t.Errorf("heir's calendars = %v", cals)
	}
	// The heir's later calendar edits keep the name.
	owner.Must(t, "PATCH", "/v1/users/"+heir, map[string]any{"calendarIds": []string{cal}}, 200)
	if n := owner.Must(t, "GET", "/v1/calendars/"+cal, nil, 200).Map(t)["name"]; n != "Room 2" {
		t.Errorf("name after the owner's calendars changed = %v", n)
	}
	// An online booking into it now assigns the heir.
	c := owner.Must(t, "POST", "/v1/clients", map[string]any{"name": "Booker"}, 201).Map(t)["id"].(string)
	owner.Must(t, "POST", "/v1/appointments", map[string]any{"clientId": c, "employeeId": heir, "calendarId": cal, "source": "online_booking"}, 201)

	// A user without a group sees only their own calendar.
	if got := ids(t, plain.Must(t, "GET", "/v1/calendars", nil, 200), "id"); len(got) != 1 || got[0] != ownerCalendar(t, plain) {
		t.Errorf("plain user's calendars = %v", got)
	}
	plain.Must(t, "GET", "/v1/calendars/"+cal, nil, 404)

	// Tenant isolation.
	other := env.NewTenant(t, true).Owner
	other.Must(t, "GET", "/v1/calendars/"+cal, nil, 404)
	other.Must(t, "PATCH", "/v1/calendars/"+cal, map[string]any{"name": "Stolen"}, 404)
	if got := ids(t, other.Must(t, "GET", "/v1/calendars", nil, 200), "id"); slices.Contains(got, cal) {
		t.Errorf("another tenant lists %v", got)
	}
	other.Must(t, "PATCH", "/v1/settings", map[string]any{"bookableCalendarIds": []string{cal}}, 400)
}

// TestGroupDisable: a disabled group keeps its members and settings but gives no rights, and is
// shown as such in the sources; nobody enables or disables a group they are in, nor enables one
// giving more than they have.
func TestGroupDisable(t *testing.T) {
	env := apitest.New(t)
	ten := env.NewTenant(t, true)
	owner := ten.Owner
	g := owner.CreateGroup(t, "Clients", map[string]any{"clients": perm("edit", "all")})
	hr := owner.CreateGroup(t, "HR", map[string]any{"users": perm("edit", "")})
	member := env.As(ten.ID, owner.CreateUser(t, map[string]any{"groupIds": []string{g, hr}}))
	manager := env.As(ten.ID, owner.CreateUser(t, map[string]any{"groupIds": []string{hr}}))
	member.Must(t, "GET", "/v1/clients", nil, 200)

	// Nobody disables their own group; the owner does.
	member.Must(t, "PATCH", "/v1/groups/"+g, map[string]any{"disabled": true}, 403)
	d := owner.Must(t, "PATCH", "/v1/groups/"+g, map[string]any{"disabled": true}, 200).Map(t)
	if d["disabled"] != true || d["permissions"].(map[string]any)["clients"].(map[string]any)["level"] != "edit" {
		t.Fatalf("disabled group = %v", d)
	}
	member.Must(t, "GET", "/v1/clients", nil, 403)
	me := member.Must(t, "GET", "/v1/me", nil, 200).Map(t)
	clients := me["permissions"].(map[string]any)["clients"].(map[string]any)
	srcs, _ := json.Marshal(clients["sources"])
	if clients["level"] != "none" || !strings.Contains(string(srcs), `"disabled_group"`) || !strings.Contains(string(srcs), g) {
		t.Errorf("clients right with a disabled group = %v", clients)
	}
	if gids := owner.Must(t, "GET", "/v1/users/"+member.UserID, nil, 200).Map(t)["groupIds"].([]any); !slices.Contains(gids, any(g)) {
		t.Errorf("member left the disabled group: %v", gids)
	}
	// A manager without clients edit cannot enable a group giving it.
	manager.Must(t, "PATCH", "/v1/groups/"+g, map[string]any{"disabled": false}, 403)
	// Nobody raises their own rights by enabling their own group.
	member.Must(t, "PATCH", "/v1/groups/"+g, map[string]any{"disabled": false}, 403)
	owner.Must(t, "PATCH", "/v1/groups/"+g, map[string]any{"disabled": false}, 200)
	member.Must(t, "GET", "/v1/clients", nil, 200)
	// Another tenant's group is not there.
	env.NewTenant(t, true).Owner.Must(t, "PATCH", "/v1/groups/"+g, map[string]any{"disabled": true}, 404)
}

// TestCreateUserWithCalendarAccess: POST /v1/users takes calendarAccess with the rules of the PUT
// route: calendars of this tenant, levels none, view or edit, nothing beyond one's own.
func TestCreateUserWithCalendarAccess(t *testing.T) {
	env := apitest.New(t)
	ten := env.NewTenant(t, true)
	owner := ten.Owner
	cal := ownerCalendar(t, owner)
	own := owner.CreateGroup(t, "Own calendars", map[string]any{"calendars": perm("edit", "own")})
	u := owner.Must(t, "POST", "/v1/users", map[string]any{"name": "Cal", "email": apitest.UniqueEmail("cal"), "profession": "practitioner",
		"groupIds": []string{own}, "calendarAccess": map[string]string{cal: "view"}}, 201).Map(t)
	if u["calendarAccess"].(map[string]any)[cal] != "view" {
		t.Fatalf("created with = %v", u["calendarAccess"])
	}
	user := env.As(ten.ID, u["id"].(string))
	if !allowed(t, user, map[string]any{"userId": user.UserID, "action": "view", "area": "calendars", "calendarId": cal}) {
		t.Errorf("the access given at creation does not apply")
	}
	foreign := ownerCalendar(t, env.NewTenant(t, true).Owner)
	for _, c := range []struct {
		access map[string]string
		want   int
	}{
		{map[string]string{"cal_nosuchcalendar00000000": "view"}, 400},
		{map[string]string{cal: "delete"}, 400},
		{map[string]string{foreign: "view"}, 400},
	} {
		owner.Must(t, "POST", "/v1/users", map[string]any{"name": "Bad", "email": apitest.UniqueEmail("bad"), "profession": "other", "calendarAccess": c.access}, c.want)
	}
	// Nobody hands out more than they have on a calendar.
	hr := owner.CreateGroup(t, "HR", map[string]any{"users": perm("edit", "")})
	manager := env.As(ten.ID, owner.CreateUser(t, map[string]any{"groupIds": []string{hr}}))
	manager.Must(t, "POST", "/v1/users", map[string]any{"name": "Raised", "email": apitest.UniqueEmail("raised"), "profession": "other", "calendarAccess": map[string]string{cal: "edit"}}, 403)
}

// TestProfessions: one or more professions; profession is the first; billable if any is.
func TestProfessions(t *testing.T) {
	env := apitest.New(t)
	ten := env.NewTenant(t, true)
	owner := ten.Owner
	both := owner.Must(t, "POST", "/v1/users", map[string]any{"name": "Both", "email": apitest.UniqueEmail("both"), "professions": []string{"receptionist", "practitioner"}}, 201).Map(t)
	if both["profession"] != "receptionist" || len(both["professions"].([]any)) != 2 {
		t.Fatalf("two professions = %v", both)
	}
	free := owner.Must(t, "POST", "/v1/users", map[string]any{"name": "Desk", "email": apitest.UniqueEmail("desk"), "professions": []string{"receptionist", "bookkeeper"}}, 201).Map(t)
	single := owner.CreateUser(t, map[string]any{"profession": "bookkeeper"})
	owner.Must(t, "POST", "/v1/users", map[string]any{"name": "Mixed", "email": apitest.UniqueEmail("mixed"), "profession": "other", "professions": []string{"practitioner"}}, 400)
	owner.Must(t, "POST", "/v1/users", map[string]any{"name": "None", "email": apitest.UniqueEmail("none"), "professions": []string{}}, 400)
	owner.Must(t, "POST", "/v1/users", map[string]any{"name": "None", "email": apitest.UniqueEmail("none")}, 400)

	seats := owner.Must(t, "GET", "/v1/billing/seats", nil, 200).Map(t)
	billable := map[string]bool{}
	for _, s := range seats["seats"].([]any) {
		m := s.(map[string]any)
		billable[m["userId"].(string)] = m["billable"].(bool)
	}
	if !billable[both["id"].(string)] || billable[free["id"].(string)] || billable[single] {
		t.Errorf("seats = %v", seats["seats"])
	}
	if bp := seats["byProfession"].(map[string]any); bp["receptionist"].(float64) != 2 || bp["bookkeeper"].(float64) != 2 {
		t.Errorf("byProfession = %v", bp)
	}
	// profession alone replaces the first; professions replaces all.
	id := both["id"].(string)
	p := owner.Must(t, "PATCH", "/v1/users/"+id, map[string]any{"profession": "bookkeeper"}, 200).Map(t)
	if p["profession"] != "bookkeeper" || len(p["professions"].([]any)) != 2 || p["professions"].([]any)[1] != "practitioner" {
		t.Errorf("after profession = %v", p["professions"])
	}
	p = owner.Must(t, "PATCH", "/v1/users/"+single, map[string]any{"professions": []string{"bookkeeper", "consultant"}}, 200).Map(t)
	if p["profession"] != "bookkeeper" || len(p["professions"].([]any)) != 2 {
		t.Errorf("after professions = %v", p)
	}
	// Nobody changes their own professions (billing); another tenant's user is not there.
	self := env.As(ten.ID, id)
	self.Must(t, "PATCH", "/v1/users/"+id, map[string]any{"professions": []string{"receptionist"}}, 403)
	env.NewTenant(t, true).Owner.Must(t, "PATCH", "/v1/users/"+id, map[string]any{"professions": []string{"other"}}, 404)
}

// TestExportPersonalData: GDPR Art. 15. The owner and main administrators export anyone, a user
// themselves; the export holds what is stored about them and is audited; after anonymisation
// only the remains.
func TestExportPersonalData(t *testing.T) {
	env := apitest.New(t)
	ten := env.NewTenant(t, true)
	owner := ten.Owner
	g := owner.CreateGroup(t, "Own clients", map[string]any{"clients": perm("edit", "own"), "calendars": perm("edit", "own")})
	uid := owner.CreateUser(t, map[string]any{"groupIds": []string{g}})
	user := env.As(ten.ID, uid)
	c := owner.Must(t, "POST", "/v1/clients", map[string]any{"name": "Exported"}, 201).Map(t)["id"].(string)
	owner.Must(t, "PUT", "/v1/clients/"+c+"/access/"+uid, map[string]any{"level": "view"}, 200)

	x := user.Must(t, "GET", "/v1/users/"+uid+"/export", nil, 200).Map(t)
	if x["anonymised"] != false || x["user"].(map[string]any)["id"] != uid || len(x["groups"].([]any)) != 1 ||
		len(x["calendars"].([]any)) != 1 || len(x["clientAssignments"].([]any)) != 1 {
		t.Fatalf("export = %v", x)
	}
	var actions []string
	for _, e := range x["audit"].([]any) {
		actions = append(actions, e.(map[string]any)["action"].(string))
	}
	if !slices.Contains(actions, "user.create") || !slices.Contains(actions, "client.access.set") || !slices.Contains(actions, "user.export") {
		t.Errorf("export's audit entries = %v", actions)
	}

	// Who may: the owner and main administrators; an admin reads users but does not export;
	// a colleague who may not read users is told nothing.
	mainAdmin := env.As(ten.ID, owner.CreateUser(t, map[string]any{"roles": []string{"main_admin"}}))
	admin := env.As(ten.ID, owner.CreateUser(t, map[string]any{"roles": []string{"admin"}}))
	colleague := env.As(ten.ID, owner.CreateUser(t, nil))
	owner.Must(t, "GET", "/v1/users/"+uid+"/export", nil, 200)
	mainAdmin.Must(t, "GET", "/v1/users/"+uid+"/export", nil, 200)
	admin.Must(t, "GET", "/v1/users/"+uid+"/export", nil, 403)
	colleague.Must(t, "GET", "/v1/users/"+uid+"/export", nil, 404)
	env.NewTenant(t, true).Owner.Must(t, "GET", "/v1/users/"+uid+"/export", nil, 404)

	// Audited.
	n := 0
	for _, e := range owner.Must(t, "GET", "/v1/audit?limit=100", nil, 200).Map(t)["items"].([]any) {
		if m := e.(map[string]any); m["action"] == "user.export" && m["targetId"] == uid {
			n++
		}
	}
	if n != 3 {
		t.Errorf("%d user.export entries, want 3", n)
	}

	// After anonymisation, the remains only.
	owner.Must(t, "POST", "/v1/users/"+uid+"/remove", nil, 200)
	owner.Must(t, "POST", "/v1/users/"+uid+"/anonymise", nil, 200)
	x = owner.Must(t, "GET", "/v1/users/"+uid+"/export", nil, 200).Map(t)
	if x["anonymised"] != true || x["user"].(map[string]any)["name"] != "***" || len(x["groups"].([]any)) != 0 || len(x["audit"].([]any)) != 0 {
		t.Errorf("export after anonymisation = %v", x)
	}
}
