package httpapi_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/tilgang/tilgang/shared/apitest"
)

func perm(level, scope string) map[string]any {
	m := map[string]any{"level": level}
	if scope != "" {
		m["scope"] = scope
	}
	return m
}

// adminGroup gives user management without being the owner.
func adminGroup(t *testing.T, owner *apitest.Actor) string {
	return owner.CreateGroup(t, "User admins", map[string]any{"users": perm("edit", ""), "settings": perm("view", "")})
}

func TestNobodyChangesTheirOwnRightsOrTheOwners(t *testing.T) {
	env := apitest.New(t)
	ten := env.NewTenant(t, true)
	owner := ten.Owner
	admins := adminGroup(t, owner)
	other := owner.CreateGroup(t, "Other", map[string]any{"settings": perm("view", "")})
	adminID := owner.CreateUser(t, map[string]any{"groupIds": []string{admins}})
	admin := env.As(ten.ID, adminID)
	peerID := owner.CreateUser(t, nil)

	// Their own groups, roles and calendar access.
	admin.Must(t, "PUT", "/v1/users/"+adminID+"/groups", map[string]any{"groupIds": []string{admins, other}}, 403)
	admin.Must(t, "PUT", "/v1/users/"+adminID+"/roles", map[string]any{"roles": []string{"team_lead"}}, 403)
	owner.CreateUser(t, map[string]any{"calendarIds": []string{"cal_x"}}) // calendar ids must exist
	admin.Must(t, "PUT", "/v1/users/"+adminID+"/calendar-access", map[string]any{"cal_x": "edit"}, 403)
	// A group they are a member of: saving it would change their own rights.
	admin.Must(t, "PATCH", "/v1/groups/"+admins, map[string]any{"permissions": map[string]any{"settings": perm("edit", "")}}, 403)
	admin.Must(t, "DELETE", "/v1/groups/"+admins, nil, 403)
	// The owner's rights and the owner.
	admin.Must(t, "PUT", "/v1/users/"+ten.Owner.UserID+"/groups", map[string]any{"groupIds": []string{}}, 403)
	admin.Must(t, "PATCH", "/v1/users/"+ten.Owner.UserID, map[string]any{"name": "Not the owner"}, 403)
	admin.Must(t, "POST", "/v1/users/"+ten.Owner.UserID+"/deactivate", nil, 403)
	// Administrator roles need a main administrator or the owner.
	admin.Must(t, "PUT", "/v1/users/"+peerID+"/roles", map[string]any{"roles": []string{"admin"}}, 403)
	// But they manage others.
	admin.Must(t, "PUT", "/v1/users/"+peerID+"/groups", map[string]any{"groupIds": []string{other}}, 200)
	admin.Must(t, "PATCH", "/v1/groups/"+other, map[string]any{"description": "changed"}, 200)
	// A user without user management manages nobody, but edits their own profile.
	peer := env.As(ten.ID, peerID)
	peer.Must(t, "PUT", "/v1/users/"+adminID+"/groups", map[string]any{"groupIds": []string{}}, 404) // cannot read users
	peer.Must(t, "POST", "/v1/groups", map[string]any{"name": "Mine", "permissions": map[string]any{}}, 403)
	peer.Must(t, "PATCH", "/v1/users/"+peerID, map[string]any{"name": "New Name"}, 200)
	peer.Must(t, "PATCH", "/v1/users/"+peerID, map[string]any{"profession": "receptionist"}, 403)
	// Only the owner reads the audit log.
	admin.Must(t, "GET", "/v1/audit", nil, 403)
}

func TestDeactivatedUsersTokenIsRefusedOnTheNextRequest(t *testing.T) {
	env := apitest.New(t)
	ten := env.NewTenant(t, true, "therapist")
	uid := ten.Owner.CreateUser(t, nil)
	u := env.As(ten.ID, uid)
	u.Must(t, "GET", "/v1/me", nil, 200)
	ten.Owner.Must(t, "POST", "/v1/users/"+uid+"/deactivate", nil, 200)
	r := u.Must(t, "GET", "/v1/me", nil, 401)
	if !strings.Contains(r.Headers["Content-Type"], "application/problem+json") {
		t.Errorf("content type %q", r.Headers["Content-Type"])
	}
	// Not billed while deactivated, and nothing lost.
	seats := ten.Owner.Must(t, "GET", "/v1/billing/seats", nil, 200).Map(t)
	if seats["billableSeats"].(float64) != 1 {
		t.Errorf("billable seats = %v, want 1 (the owner only)", seats["billableSeats"])
	}
	ten.Owner.Must(t, "POST", "/v1/users/"+uid+"/activate", nil, 200)
	u.Must(t, "GET", "/v1/me", nil, 200)
	// The owner cannot be deactivated.
	ten.Owner.Must(t, "POST", "/v1/users/"+ten.Owner.UserID+"/deactivate", nil, 409)
}

func TestTenantIsolation(t *testing.T) {
	env := apitest.New(t)
	a := env.NewTenant(t, true, "administrator")
	b := env.NewTenant(t, true, "administrator")
	bUser := b.Owner.CreateUser(t, nil)
	bGroup := b.Owner.CreateGroup(t, "B group", map[string]any{})
	for _, c := range []struct {
		method, path string
		body         any
	}{
		{"GET", "/v1/users/" + bUser, nil},
		{"PATCH", "/v1/users/" + bUser, map[string]any{"name": "x"}},
		{"DELETE", "/v1/users/" + bUser, nil},
		{"POST", "/v1/users/" + bUser + "/deactivate", nil},
		{"POST", "/v1/users/" + bUser + "/activate", nil},
		{"PUT", "/v1/users/" + bUser + "/groups", map[string]any{"groupIds": []string{}}},
		{"PUT", "/v1/users/" + bUser + "/roles", map[string]any{"roles": []string{}}},
		{"PUT", "/v1/users/" + bUser + "/calendar-access", map[string]any{}},
		{"GET", "/v1/users/" + bUser + "/permissions", nil},
		{"POST", "/v1/authorize", map[string]any{"userId": bUser, "action": "view", "area": "clients"}},
		{"GET", "/v1/groups/" + bGroup, nil},
		{"PATCH", "/v1/groups/" + bGroup, map[string]any{"name": "x"}},
		{"DELETE", "/v1/groups/" + bGroup, nil},
		{"PUT", "/v1/owner", map[string]any{"userId": bUser}},
	} {
		a.Owner.Must(t, c.method, c.path, c.body, 404)
	}
	// Another tenant's group cannot be joined either.
	aUser := a.Owner.CreateUser(t, nil)
	a.Owner.Must(t, "PUT", "/v1/users/"+aUser+"/groups", map[string]any{"groupIds": []string{bGroup}}, 400)
	// Lists show only the own tenant.
	for _, it := range a.Owner.Must(t, "GET", "/v1/users?limit=100", nil, 200).Map(t)["items"].([]any) {
		if it.(map[string]any)["id"] == bUser {
			t.Error("tenant A lists tenant B's user")
		}
	}
	// A token naming a user of another tenant is refused.
	env.As(a.ID, bUser).Must(t, "GET", "/v1/me", nil, 401)
	// Still there for B.
	b.Owner.Must(t, "GET", "/v1/users/"+bUser, nil, 200)
}

func TestConcurrentGroupUpdatesLoseNothing(t *testing.T) {
	env := apitest.New(t)
	ten := env.NewTenant(t, true)
	gid := ten.Owner.CreateGroup(t, "Shared", map[string]any{})
	areas := []string{"payments", "reports", "settings", "users", "apps", "online_booking"}
	var wg sync.WaitGroup
	for _, area := range areas {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ten.Owner.Must(t, "PATCH", "/v1/groups/"+gid, map[string]any{"permissions": map[string]any{area: perm("view", "")}}, 200)
		}()
	}
	wg.Wait()
	g := ten.Owner.Must(t, "GET", "/v1/groups/"+gid, nil, 200).Map(t)
	for _, area := range areas {
		if lvl := g["permissions"].(map[string]any)[area].(map[string]any)["level"]; lvl != "view" {
			t.Errorf("%s = %v after concurrent updates, want view (lost update)", area, lvl)
		}
	}
	if v := g["version"].(float64); v != float64(1+len(areas)) {
		t.Errorf("version = %v, want %d", v, 1+len(areas))
	}
	// A stale If-Match is refused with 412, the current one accepted.
	ten.Owner.Must(t, "PATCH", "/v1/groups/"+gid, map[string]any{"name": "x"}, 412, "If-Match", `"1"`)
	etag := ten.Owner.Must(t, "GET", "/v1/groups/"+gid, nil, 200).Headers["ETag"]
	ten.Owner.Must(t, "PATCH", "/v1/groups/"+gid, map[string]any{"name": "x"}, 200, "If-Match", etag)
}

func TestDuplicateEmailAcrossTenantsConcurrently(t *testing.T) {
	env := apitest.New(t)
	tenants := []*apitest.Tenant{env.NewTenant(t, true), env.NewTenant(t, true), env.NewTenant(t, true), env.NewTenant(t, true)}
	email := apitest.UniqueEmail("Same.Person")
	var wg sync.WaitGroup
	statuses := make([]int, 8)
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Case differs between attempts: uniqueness is case-insensitive.
			e := email
			if i%2 == 1 {
				e = strings.ToUpper(email)
			}
			r := tenants[i%len(tenants)].Owner.Do(t, "POST", "/v1/users", map[string]any{"name": "P", "email": e, "profession": "practitioner"})
			statuses[i] = r.Status
		}()
	}
	wg.Wait()
	created := 0
	for _, s := range statuses {
		switch s {
		case 201:
			created++
		case 409:
		default:
			t.Errorf("status %d, want 201 or 409", s)
		}
	}
	if created != 1 {
		t.Errorf("%d creates of one email succeeded, want exactly 1 (statuses %v)", created, statuses)
	}
}

func TestIdempotentCreate(t *testing.T) {
	env := apitest.New(t)
	ten := env.NewTenant(t, true)
	body := map[string]any{"name": "Ida", "email": apitest.UniqueEmail("ida"), "profession": "receptionist"}
	first := ten.Owner.Must(t, "POST", "/v1/users", body, 201, "Idempotency-Key", "k-1")
	again := ten.Owner.Must(t, "POST", "/v1/users", body, 201, "Idempotency-Key", "k-1")
	if first.Map(t)["id"] != again.Map(t)["id"] {
		t.Errorf("retry created another user: %v vs %v", first.Map(t)["id"], again.Map(t)["id"])
	}
	body["name"] = "Someone else"
	ten.Owner.Must(t, "POST", "/v1/users", body, 422, "Idempotency-Key", "k-1")
	g1 := ten.Owner.Must(t, "POST", "/v1/groups", map[string]any{"name": "G"}, 201, "Idempotency-Key", "g-1")
	g2 := ten.Owner.Must(t, "POST", "/v1/groups", map[string]any{"name": "G"}, 201, "Idempotency-Key", "g-1")
	if g1.Map(t)["id"] != g2.Map(t)["id"] {
		t.Error("group retry created another group")
	}
}

func TestEmployeesAppMustBeActive(t *testing.T) {
	env := apitest.New(t)
	ten := env.NewTenant(t, false)
	r := ten.Owner.Must(t, "POST", "/v1/users", map[string]any{"name": "A", "email": apitest.UniqueEmail("a"), "profession": "other"}, 409)
	if !strings.Contains(r.Body, "app_not_activated") {
		t.Errorf("problem = %s", r.Body)
	}
	ten.Owner.Must(t, "POST", "/v1/apps/employees/activate", map[string]any{"templates": []string{"nurse"}}, 400)
	ten.Owner.Must(t, "POST", "/v1/apps/employees/activate", map[string]any{"templates": []string{"therapist"}}, 200)
	ten.Owner.Must(t, "POST", "/v1/apps/employees/activate", map[string]any{"templates": []string{}}, 409)
}

func TestEffectivePermissionsAndSources(t *testing.T) {
	env := apitest.New(t)
	ten := env.NewTenant(t, true)
	o := ten.Owner
	own := o.CreateGroup(t, "Own edit", map[string]any{"clients": perm("edit", "own")})
	all := o.CreateGroup(t, "All view", map[string]any{"clients": perm("view", "all"), "calendars": perm("view", "own")})
	uid := o.CreateUser(t, map[string]any{"groupIds": []string{own, all}})
	p := o.Must(t, "GET", "/v1/users/"+uid+"/permissions", nil, 200).Map(t)["permissions"].(map[string]any)
	clients := p["clients"].(map[string]any)
	if clients["level"] != "edit" || clients["scope"] != "own" || clients["allLevel"] != "view" || len(clients["sources"].([]any)) != 2 {
		t.Errorf("clients = %v, want edit own with view on all, from two groups", clients)
	}
	// No group: minimal rights only.
	bare := o.CreateUser(t, nil)
	p = o.Must(t, "GET", "/v1/users/"+bare+"/permissions", nil, 200).Map(t)["permissions"].(map[string]any)
	if p["clients"].(map[string]any)["level"] != "none" || p["calendars"].(map[string]any)["level"] != "edit" {
		t.Errorf("user without group: %v", p)
	}
	// Legacy rights stay until the user's groups change, or their group changes.
	legacy := o.CreateUser(t, map[string]any{"groupIds": []string{all}, "legacyPermissions": map[string]any{"payments": perm("edit", "")}})
	check := func(want string) {
		t.Helper()
		p := o.Must(t, "GET", "/v1/users/"+legacy+"/permissions", nil, 200).Map(t)["permissions"].(map[string]any)
		if got := p["payments"].(map[string]any)["level"]; got != want {
			t.Errorf("payments = %v, want %v", got, want)
		}
	}
	check("edit")
	o.Must(t, "PATCH", "/v1/groups/"+all, map[string]any{"permissions": map[string]any{"reports": perm("view", "")}}, 200)
	check("none")
	// Individual calendar access applies where the groups give calendars with scope own.
	o.CreateUser(t, map[string]any{"calendarIds": []string{"cal_front"}}) // calendar ids must exist
	o.Must(t, "PUT", "/v1/users/"+uid+"/calendar-access", map[string]any{"cal_front": "edit"}, 200)
	d := o.Must(t, "POST", "/v1/authorize", map[string]any{"userId": uid, "action": "edit", "area": "calendars", "calendarId": "cal_front"}, 200).Map(t)
	if d["allowed"] != true {
		t.Errorf("calendar override: %v", d)
	}
	d = o.Must(t, "POST", "/v1/authorize", map[string]any{"userId": uid, "action": "view", "area": "calendars", "calendarId": "cal_other"}, 200).Map(t)
	if d["allowed"] != false {
		t.Errorf("calendar without access: %v", d)
	}
	// Deleting a group takes its rights away at once.
	o.Must(t, "DELETE", "/v1/groups/"+own, nil, 204)
	p = o.Must(t, "GET", "/v1/users/"+uid+"/permissions", nil, 200).Map(t)["permissions"].(map[string]any)
	if p["clients"].(map[string]any)["level"] != "view" {
		t.Errorf("after deleting the group: %v", p["clients"])
	}
	u := o.Must(t, "GET", "/v1/users/"+uid, nil, 200).Map(t)
	if fmt.Sprint(u["groupIds"]) != fmt.Sprint([]any{all}) {
		t.Errorf("groupIds after delete = %v", u["groupIds"])
	}
}

func TestOwnershipTransfer(t *testing.T) {
	env := apitest.New(t)
	ten := env.NewTenant(t, true)
	uid := ten.Owner.CreateUser(t, nil)
	env.As(ten.ID, uid).Must(t, "PUT", "/v1/owner", map[string]any{"userId": uid}, 403)
	s := ten.Owner.Must(t, "PUT", "/v1/owner", map[string]any{"userId": uid}, 200).Map(t)
	if s["ownerId"] != uid {
		t.Errorf("owner = %v", s["ownerId"])
	}
	me := env.As(ten.ID, uid).Must(t, "GET", "/v1/me", nil, 200).Map(t)
	if me["isOwner"] != true {
		t.Error("new owner is not owner")
	}
	ten.Owner.Must(t, "GET", "/v1/audit", nil, 403)
}

func TestUserListFiltersAndPaging(t *testing.T) {
	env := apitest.New(t)
	ten := env.NewTenant(t, true)
	g := ten.Owner.CreateGroup(t, "Filter", map[string]any{})
	var ids []string
	for i := range 7 {
		f := map[string]any{"name": fmt.Sprintf("Paged Person %d", i)}
		if i%2 == 0 {
			f["groupIds"] = []string{g}
		}
		ids = append(ids, ten.Owner.CreateUser(t, f))
	}
	ten.Owner.Must(t, "POST", "/v1/users/"+ids[1]+"/deactivate", nil, 200)
	seen := map[string]bool{}
	cursor := ""
	pages := 0
	for {
		path := "/v1/users?limit=2&q=paged+person"
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		m := ten.Owner.Must(t, "GET", path, nil, 200).Map(t)
		pages++
		for _, it := range m["items"].([]any) {
			id := it.(map[string]any)["id"].(string)
			if seen[id] {
				t.Errorf("%s seen twice", id)
			}
			seen[id] = true
		}
		next, _ := m["nextCursor"].(string)
		if next == "" {
			break
		}
		cursor = next
	}
	if len(seen) != 7 || pages < 4 {
		t.Errorf("saw %d users in %d pages, want 7 in at least 4", len(seen), pages)
	}
	m := ten.Owner.Must(t, "GET", "/v1/users?groupId="+g+"&status=active", nil, 200).Map(t)
	if n := len(m["items"].([]any)); n != 4 {
		t.Errorf("group filter: %d users, want 4", n)
	}
	m = ten.Owner.Must(t, "GET", "/v1/users?status=deactivated", nil, 200).Map(t)
	if n := len(m["items"].([]any)); n != 1 {
		t.Errorf("status filter: %d users, want 1", n)
	}
	// A cursor of another list (or tenant) is refused.
	other := env.NewTenant(t, true)
	ten.Owner.Must(t, "GET", "/v1/users?limit=1&cursor="+cursor, nil, 200)
	other.Owner.Must(t, "GET", "/v1/users?limit=1&cursor="+cursor, nil, 400)
	ten.Owner.Must(t, "GET", "/v1/users?limit=0", nil, 400)
	ten.Owner.Must(t, "GET", "/v1/users?colour=red", nil, 400)
}

func TestDeleteKeepsCalendar(t *testing.T) {
	env := apitest.New(t)
	ten := env.NewTenant(t, true)
	email := apitest.UniqueEmail("gone")
	uid := ten.Owner.CreateUser(t, map[string]any{"email": email, "calendarIds": []string{"cal_kept"}})
	ten.Owner.Must(t, "DELETE", "/v1/users/"+uid, nil, 204)
	ten.Owner.Must(t, "GET", "/v1/users/"+uid, nil, 404)
	// The email is free again.
	ten.Owner.CreateUser(t, map[string]any{"email": email})
	// The calendar is still known, without owner, so a new employee can take it over.
	res := getItem(t, env, "TENANT#"+ten.ID, "CALENDAR#cal_kept")
	if res == nil {
		t.Fatal("calendar item is gone")
	}
	if _, owned := res["ownerId"]; owned {
		t.Errorf("calendar of a deleted user still has an owner: %v", res["ownerId"])
	}
	ten.Owner.CreateUser(t, map[string]any{"calendarIds": []string{"cal_kept"}})
}
