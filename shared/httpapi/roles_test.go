package httpapi_test

import (
	"strings"
	"testing"

	"github.com/tilgang/tilgang/shared/apitest"
)

// TestRolesCarryRights: seed 003's roles are the administrative rights, with or without a group
// (RoleRights): main_admin and admin administer users, only main_admin anonymises and manages
// administrators, team_lead manages links, consultant and assistant get nothing by role. The
// sources name the role, and nobody raises their own rights through roles.
func TestRolesCarryRights(t *testing.T) {
	env := apitest.New(t)
	ten := env.NewTenant(t, true)
	owner := ten.Owner
	withRoles := func(roles ...string) *apitest.Actor {
		return env.As(ten.ID, owner.CreateUser(t, map[string]any{"roles": roles}))
	}
	mainAdmin, admin, lead, consultant := withRoles("main_admin"), withRoles("admin"), withRoles("team_lead"), withRoles("consultant")

	// main_admin with no group creates users; admin too.
	mainAdmin.Must(t, "POST", "/v1/users", map[string]any{"name": "By Main", "email": "bymain@example.com", "profession": "practitioner"}, 201)
	victim := admin.Must(t, "POST", "/v1/users", map[string]any{"name": "By Admin", "email": "byadmin@example.com", "profession": "practitioner"}, 201).Map(t)["id"].(string)
	lead.Must(t, "POST", "/v1/users", map[string]any{"name": "By Lead", "email": "bylead@example.com", "profession": "practitioner"}, 403)
	consultant.Must(t, "GET", "/v1/users", nil, 403)
	lead.Must(t, "GET", "/v1/users", nil, 200)

	// admin removes to the user bank and restores; only main_admin anonymises.
	admin.Must(t, "POST", "/v1/users/"+victim+"/remove", nil, 200)
	admin.Must(t, "POST", "/v1/users/"+victim+"/anonymise", nil, 403)
	mainAdmin.Must(t, "POST", "/v1/users/"+victim+"/anonymise", nil, 200)

	// Administrators are managed by main_admin (and the owner) only, roles included.
	admin.Must(t, "PUT", "/v1/users/"+lead.UserID+"/roles", map[string]any{"roles": []string{"admin"}}, 403)
	admin.Must(t, "PUT", "/v1/users/"+mainAdmin.UserID+"/groups", map[string]any{"groupIds": []string{}}, 403)
	mainAdmin.Must(t, "PUT", "/v1/users/"+consultant.UserID+"/roles", map[string]any{"roles": []string{"consultant", "admin"}}, 200)
	// Nobody raises their own rights, roles included.
	lead.Must(t, "PUT", "/v1/users/"+lead.UserID+"/roles", map[string]any{"roles": []string{"team_lead", "admin"}}, 403)
	mainAdmin.Must(t, "PUT", "/v1/users/"+mainAdmin.UserID+"/roles", map[string]any{"roles": []string{}}, 403)
	// A group-only user manager cannot hand out a role carrying privileges they lack.
	hr := owner.CreateGroup(t, "HR", map[string]any{"users": perm("edit", "")})
	hrUser := env.As(ten.ID, owner.CreateUser(t, map[string]any{"groupIds": []string{hr}}))
	plain := owner.CreateUser(t, nil)
	hrUser.Must(t, "PUT", "/v1/users/"+plain+"/roles", map[string]any{"roles": []string{"team_lead"}}, 403)
	hrUser.Must(t, "PUT", "/v1/users/"+plain+"/roles", map[string]any{"roles": []string{"consultant"}}, 200)

	// The sources name the role; the privileges are listed with theirs.
	me := admin.Must(t, "GET", "/v1/me", nil, 200).Map(t)
	users := me["permissions"].(map[string]any)["users"].(map[string]any)
	srcs := users["sources"].([]any)
	if users["level"] != "delete" || len(srcs) != 1 || srcs[0].(map[string]any)["type"] != "role" || srcs[0].(map[string]any)["id"] != "admin" {
		t.Errorf("admin's users right = %v", users)
	}
	privs := me["privileges"].(map[string]any)
	if privs["user_bank"] == nil || privs["anonymise"] != nil || privs["audit"] != nil {
		t.Errorf("admin's privileges = %v", privs)
	}
	if p := owner.Must(t, "GET", "/v1/me", nil, 200).Map(t)["privileges"].(map[string]any); p["audit"] == nil || p["ownership"] == nil {
		t.Errorf("owner's privileges = %v", p)
	}
}

// TestFormerOwnerKeepsAdministering: after PUT /v1/owner the former owner is main_admin by
// default (not a no-group user), or keeps what the request names.
func TestFormerOwnerKeepsAdministering(t *testing.T) {
	env := apitest.New(t)
	ten := env.NewTenant(t, true)
	former := ten.Owner
	next := former.CreateUser(t, nil)
	former.Must(t, "PUT", "/v1/owner", map[string]any{"userId": next, "formerOwnerRoles": []string{"root"}}, 400)
	former.Must(t, "PUT", "/v1/owner", map[string]any{"userId": next, "formerOwnerGroupIds": []string{"g_nosuchgroup0000000000000"}}, 400)
	former.Must(t, "PUT", "/v1/owner", map[string]any{"userId": next}, 200)
	me := former.Must(t, "GET", "/v1/me", nil, 200).Map(t)
	if me["isOwner"] != false || len(me["roles"].([]any)) != 1 || me["roles"].([]any)[0] != "main_admin" {
		t.Errorf("former owner = %v", me)
	}
	former.Must(t, "POST", "/v1/users", map[string]any{"name": "Still Admin", "email": "stilladmin@example.com", "profession": "other"}, 201)
	former.Must(t, "GET", "/v1/audit", nil, 403)

	// Handing it back with an explicit choice: the other keeps only the groups named.
	nextOwner := env.As(ten.ID, next)
	g := nextOwner.CreateGroup(t, "Desk", map[string]any{"calendars": perm("edit", "all")})
	nextOwner.Must(t, "PUT", "/v1/owner", map[string]any{"userId": former.UserID, "formerOwnerRoles": []string{}, "formerOwnerGroupIds": []string{g}}, 200)
	me = nextOwner.Must(t, "GET", "/v1/me", nil, 200).Map(t)
	if len(me["roles"].([]any)) != 0 || len(me["groupIds"].([]any)) != 1 || me["groupIds"].([]any)[0] != g {
		t.Errorf("second former owner = %v", me)
	}
}

// TestAuthorizeJudgesTheTokenFirst: a deactivated user's token gets 401 on POST /v1/authorize
// whatever the body, bad JSON and bad fields included; a good token with a bad body gets 400.
func TestAuthorizeJudgesTheTokenFirst(t *testing.T) {
	env := apitest.New(t)
	ten := env.NewTenant(t, true)
	uid := ten.Owner.CreateUser(t, nil)
	u := env.As(ten.ID, uid)
	badField := map[string]any{"userId": uid, "action": "fly", "area": "clients"}
	u.Must(t, "POST", "/v1/authorize", badField, 400)
	u.Must(t, "POST", "/v1/authorize", "not an object", 400)
	ten.Owner.Must(t, "POST", "/v1/users/"+uid+"/deactivate", nil, 200)
	u.Must(t, "POST", "/v1/authorize", badField, 401)
	u.Must(t, "POST", "/v1/authorize", "not an object", 401)
}

// TestCalendarTakeoverNeedsEditOnIt: moving a colleague's calendar to someone else gives edit on
// it, so it needs edit on it, as individual calendar access does.
func TestCalendarTakeoverNeedsEditOnIt(t *testing.T) {
	env := apitest.New(t)
	ten := env.NewTenant(t, true)
	owner := ten.Owner
	mgr := owner.CreateGroup(t, "Managers", map[string]any{"users": perm("edit", ""), "calendars": perm("view", "own")})
	m := env.As(ten.ID, owner.CreateUser(t, map[string]any{"groupIds": []string{mgr}}))
	victim := owner.CreateUser(t, nil)
	crony := owner.CreateUser(t, nil)
	vcal := owner.Must(t, "GET", "/v1/users/"+victim, nil, 200).Map(t)["calendarIds"].([]any)[0].(string)
	m.Must(t, "PUT", "/v1/users/"+crony+"/calendar-access", map[string]any{vcal: "view"}, 403)
	m.Must(t, "PATCH", "/v1/calendars/"+vcal, map[string]any{"ownerId": crony}, 403)
	owner.Must(t, "PATCH", "/v1/calendars/"+vcal, map[string]any{"ownerId": crony}, 200)
}

// TestHirerCalendarsAreBehindTheWall: neither the account owner nor a clinic employee whose
// group covers every calendar reaches a hirer's calendar, through POST /v1/authorize or by
// renaming it; the hirer does not reach the clinic's calendars either.
func TestHirerCalendarsAreBehindTheWall(t *testing.T) {
	env := apitest.New(t)
	ten := env.NewTenant(t, true)
	o := ten.Owner
	act := o.Must(t, "POST", "/v1/apps/tenants/activate", map[string]any{"templates": []string{"hirer"}}, 200).Map(t)
	hg := act["groups"].([]any)[0].(map[string]any)["id"].(string)
	hid := o.CreateUser(t, map[string]any{"kind": "hirer", "groupIds": []string{hg}})
	calOf := func(uid string) string {
		return o.Must(t, "GET", "/v1/users/"+uid, nil, 200).Map(t)["calendarIds"].([]any)[0].(string)
	}
	hcal := calOf(hid)
	all := o.CreateGroup(t, "Clinic all", map[string]any{"calendars": perm("edit", "all"), "users": perm("view", "")})
	emp := o.CreateUser(t, map[string]any{"groupIds": []string{all}})
	for _, who := range []string{o.UserID, emp} {
		d := o.Must(t, "POST", "/v1/authorize", map[string]any{"userId": who, "action": "view", "area": "calendars", "calendarId": hcal}, 200).Map(t)
		if d["allowed"] != false || !strings.Contains(d["reason"].(string), "another practice") {
			t.Errorf("%s on the hirer's calendar: %v", who, d)
		}
	}
	env.As(ten.ID, emp).Must(t, "PATCH", "/v1/calendars/"+hcal, map[string]any{"name": "taken"}, 404)
	if d := o.Must(t, "POST", "/v1/authorize", map[string]any{"userId": hid, "action": "view", "area": "calendars", "calendarId": calOf(emp)}, 200).Map(t); d["allowed"] != false {
		t.Errorf("hirer on a clinic calendar: %v", d)
	}
	// The hirer's own calendar stays theirs.
	if d := o.Must(t, "POST", "/v1/authorize", map[string]any{"userId": hid, "action": "edit", "area": "calendars", "calendarId": hcal}, 200).Map(t); d["allowed"] != true {
		t.Errorf("hirer on their own calendar: %v", d)
	}
}
