package httpapi_test

import (
	"strings"
	"testing"

	"github.com/tilgang/tilgang/shared/apitest"
)

// A user manager must not be able to raise their own rights, directly or by way of someone else.
func TestNoEscalationThroughProfileGroupsOrSecondAccounts(t *testing.T) {
	env := apitest.New(t)
	ten := env.NewTenant(t, true)
	o := ten.Owner
	managers := o.CreateGroup(t, "User managers", map[string]any{"users": perm("edit", ""), "calendars": perm("view", "own")})
	mgrID := o.CreateUser(t, map[string]any{"groupIds": []string{managers}})
	mgr := env.As(ten.ID, mgrID)
	ownerCal := o.Must(t, "GET", "/v1/users/"+ten.Owner.UserID, nil, 200).Map(t)["calendarIds"].([]any)[0].(string)

	// Own calendars and profession are rights, not profile.
	mgr.Must(t, "PATCH", "/v1/users/"+mgrID, map[string]any{"calendarIds": []string{ownerCal}}, 403)
	mgr.Must(t, "PATCH", "/v1/users/"+mgrID, map[string]any{"profession": "receptionist"}, 403)
	d := o.Must(t, "POST", "/v1/authorize", map[string]any{"userId": mgrID, "action": "view", "area": "calendars", "calendarId": ownerCal}, 200).Map(t)
	if d["allowed"] != false {
		t.Errorf("manager reached the owner's calendar: %v", d)
	}
	// Another user's calendar cannot be taken over by naming it either.
	r := mgr.Do(t, "POST", "/v1/users", map[string]any{"name": "Crony", "email": apitest.UniqueEmail("crony"), "profession": "other", "calendarIds": []string{ownerCal}})
	if r.Status != 409 {
		t.Errorf("creating a user with the owner's calendar: %d %s, want 409", r.Status, r.Body)
	}

	// Nothing beyond their own rights: not in a new group, not in an existing one, not by legacy.
	r = mgr.Do(t, "POST", "/v1/groups", map[string]any{"name": "Everything", "permissions": map[string]any{"settings": perm("edit", "")}})
	if r.Status != 403 || !strings.Contains(r.Body, "permissions") {
		t.Errorf("group above own rights: %d %s, want 403 naming permissions", r.Status, r.Body)
	}
	admins := o.CreateGroup(t, "Admins", map[string]any{"settings": perm("edit", ""), "users": perm("delete", "")})
	mgr.Must(t, "POST", "/v1/users", map[string]any{"name": "Crony", "email": apitest.UniqueEmail("crony"), "profession": "other", "groupIds": []string{admins}}, 403)
	mgr.Must(t, "POST", "/v1/users", map[string]any{"name": "Crony", "email": apitest.UniqueEmail("crony"), "profession": "other",
		"legacyPermissions": map[string]any{"settings": perm("edit", "")}}, 403)
	peer := mgr.CreateUser(t, map[string]any{"groupIds": []string{managers}})
	mgr.Must(t, "PUT", "/v1/users/"+peer+"/groups", map[string]any{"groupIds": []string{admins}}, 403)
	mgr.Must(t, "PATCH", "/v1/groups/"+admins, map[string]any{"description": "mine now"}, 403)
	// Within their rights all is well.
	helpers := mgr.CreateGroup(t, "Helpers", map[string]any{"calendars": perm("view", "own")})
	mgr.Must(t, "PUT", "/v1/users/"+peer+"/groups", map[string]any{"groupIds": []string{helpers}}, 200)
	// Individual calendar access too: not the owner's calendar, which the manager cannot see;
	// their own calendar at the level they have on it, yes.
	mgr.Must(t, "PUT", "/v1/users/"+peer+"/calendar-access", map[string]any{ownerCal: "edit"}, 403)
	mgrCal := o.Must(t, "GET", "/v1/users/"+mgrID, nil, 200).Map(t)["calendarIds"].([]any)[0].(string)
	mgr.Must(t, "PUT", "/v1/users/"+peer+"/calendar-access", map[string]any{mgrCal: "edit"}, 403)
	mgr.Must(t, "PUT", "/v1/users/"+peer+"/calendar-access", map[string]any{mgrCal: "view"}, 200)
	d = o.Must(t, "POST", "/v1/authorize", map[string]any{"userId": peer, "action": "view", "area": "calendars", "calendarId": ownerCal}, 200).Map(t)
	if d["allowed"] != false {
		t.Errorf("peer reached the owner's calendar: %v", d)
	}
}

func TestAdministratorsAreOutOfReachOfThoseBelowThem(t *testing.T) {
	env := apitest.New(t)
	ten := env.NewTenant(t, true)
	o := ten.Owner
	managers := o.CreateGroup(t, "User managers", map[string]any{"users": perm("delete", "")})
	mgr := env.As(ten.ID, o.CreateUser(t, map[string]any{"groupIds": []string{managers}}))
	admin := o.CreateUser(t, map[string]any{"roles": []string{"main_admin"}})
	mgr.Must(t, "PATCH", "/v1/users/"+admin, map[string]any{"email": apitest.UniqueEmail("hijack")}, 403)
	mgr.Must(t, "PUT", "/v1/users/"+admin+"/groups", map[string]any{"groupIds": []string{}}, 403)
	mgr.Must(t, "POST", "/v1/users/"+admin+"/deactivate", nil, 403)
	mgr.Must(t, "DELETE", "/v1/users/"+admin, nil, 403)
	// A main administrator may.
	mainAdmin := env.As(ten.ID, o.CreateUser(t, map[string]any{"roles": []string{"main_admin"}, "groupIds": []string{managers}}))
	mainAdmin.Must(t, "POST", "/v1/users/"+admin+"/deactivate", nil, 200)
}

func TestUsersOneMayNotSeeAnswer404(t *testing.T) {
	env := apitest.New(t)
	ten := env.NewTenant(t, true)
	plain := env.As(ten.ID, ten.Owner.CreateUser(t, nil))
	other := ten.Owner.CreateUser(t, nil)
	foreign := env.NewTenant(t, true)
	foreignUser := foreign.Owner.CreateUser(t, nil)
	for _, id := range []string{other, foreignUser} {
		plain.Must(t, "GET", "/v1/users/"+id, nil, 404)
		plain.Must(t, "GET", "/v1/users/"+id+"/permissions", nil, 404)
		plain.Must(t, "POST", "/v1/authorize", map[string]any{"userId": id, "action": "view", "area": "clients"}, 404)
	}
	plain.Must(t, "GET", "/v1/users/"+plain.UserID, nil, 200)
}

func TestOversizedIdsAnswer404(t *testing.T) {
	env := apitest.New(t)
	ten := env.NewTenant(t, true)
	long := strings.Repeat("u", 1100)
	for _, c := range []struct{ method, path string }{
		{"GET", "/v1/users/" + long}, {"PATCH", "/v1/users/" + long}, {"GET", "/v1/groups/" + long},
		{"GET", "/v1/users/" + long + "/permissions"}, {"DELETE", "/v1/groups/" + long},
	} {
		var body any
		if c.method == "PATCH" {
			body = map[string]any{"name": "x"}
		}
		ten.Owner.Must(t, c.method, c.path, body, 404)
	}
	ten.Owner.Must(t, "POST", "/v1/authorize", map[string]any{"userId": long, "action": "view", "area": "clients"}, 400)
	ten.Owner.Must(t, "PUT", "/v1/owner", map[string]any{"userId": long}, 404)
}

func TestCursorOfAnotherListIsRefused(t *testing.T) {
	env := apitest.New(t)
	ten := env.NewTenant(t, true, "administrator", "secretary", "therapist")
	next := ten.Owner.Must(t, "GET", "/v1/groups?limit=1", nil, 200).Map(t)["nextCursor"].(string)
	ten.Owner.Must(t, "GET", "/v1/users?cursor="+next, nil, 400)
	ten.Owner.Must(t, "GET", "/v1/groups?limit=1&cursor="+next, nil, 200)
}

func TestLegacyRightsSurviveARenameButNotARightsChange(t *testing.T) {
	env := apitest.New(t)
	ten := env.NewTenant(t, true)
	o := ten.Owner
	g := o.CreateGroup(t, "Reception", map[string]any{"calendars": perm("view", "all")})
	u := o.CreateUser(t, map[string]any{"groupIds": []string{g}, "legacyPermissions": map[string]any{"payments": perm("edit", "")}})
	payments := func() any {
		return o.Must(t, "GET", "/v1/users/"+u+"/permissions", nil, 200).Map(t)["permissions"].(map[string]any)["payments"].(map[string]any)["level"]
	}
	o.Must(t, "PATCH", "/v1/groups/"+g, map[string]any{"name": "Front desk"}, 200)
	if got := payments(); got != "edit" {
		t.Errorf("after a rename: payments %v, want edit (legacy still in force)", got)
	}
	o.Must(t, "PATCH", "/v1/groups/"+g, map[string]any{"permissions": map[string]any{"reports": perm("view", "")}}, 200)
	if got := payments(); got != "none" {
		t.Errorf("after a rights change: payments %v, want none", got)
	}
}
