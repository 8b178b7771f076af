package people_test

import (
	"testing"

	"github.com/tilgang/tilgang/shared/access"
	"github.com/tilgang/tilgang/shared/access/accesstest"
)

// POST /v1/authorize answers for the token's user with the rules of every other request: they
// must be active, may ask about themselves, and about others only with view on users; what is
// asked about must exist in the tenant.
func TestAuthorizeAsKeepsTheRulesOfEveryRequest(t *testing.T) {
	e := newEnv(t)
	cl := e.Client(e.owner)
	tenant := e.owner.TenantID()
	gone := e.User(e.owner, access.NewUser{}).User.ID
	if _, err := e.People.Deactivate(e.Ctx, e.owner, gone, nil); err != nil {
		t.Fatal(err)
	}
	theirs := e.User(e.Tenant(), access.NewUser{}).User.ID
	ask := func(userID string) access.AuthorizeRequest {
		return access.AuthorizeRequest{UserID: userID, Action: access.LevelEdit, Area: access.AreaUsers}
	}
	for _, tc := range []struct {
		name    string
		caller  string
		req     access.AuthorizeRequest
		want    access.Code
		allowed bool
		field   string
	}{
		{"an employee about themselves", e.employee.User.ID, ask(e.employee.User.ID), "ok", false, ""},
		{"a manager about themselves", e.manager.User.ID, ask(e.manager.User.ID), "ok", true, ""},
		{"a manager about the employee", e.manager.User.ID, ask(e.employee.User.ID), "ok", false, ""},
		{"an employee about a colleague", e.employee.User.ID, ask(e.manager.User.ID), access.CodeNotFound, false, ""},
		{"a deactivated user", gone, ask(gone), access.CodeUnauthenticated, false, ""},
		{"a deactivated user with a bad body", gone, access.AuthorizeRequest{}, access.CodeUnauthenticated, false, ""},
		{"no action", e.owner.User.ID, access.AuthorizeRequest{UserID: e.employee.User.ID, Area: access.AreaUsers}, access.CodeInvalid, false, "action"},
		{"another tenant's user", e.owner.User.ID, ask(theirs), access.CodeNotFound, false, ""},
		{"an unknown client", e.owner.User.ID, access.AuthorizeRequest{UserID: e.employee.User.ID, Action: access.LevelView,
			Area: access.AreaClients, ClientID: "c_00999999"}, access.CodeNotFound, false, ""},
		{"an unknown program", e.owner.User.ID, access.AuthorizeRequest{UserID: e.employee.User.ID, Action: access.LevelView,
			Area: access.AreaClients, ClientID: cl.ID, Program: "astrology"}, access.CodeInvalid, false, "program"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := e.People.AuthorizeAs(e.Ctx, tenant, tc.caller, "req", tc.req)
			if code(err) != tc.want || accesstest.Field(err) != tc.field {
				t.Fatalf("got %s on %q, want %s on %q", code(err), accesstest.Field(err), tc.want, tc.field)
			}
			if err == nil && d.Allowed != tc.allowed {
				t.Errorf("allowed = %v (%s), want %v", d.Allowed, d.Reason(), tc.allowed)
			}
		})
	}
	// The answer about a user is the one their own rights give.
	if r, err := e.People.Permissions(e.Ctx, e.owner, e.manager.User.ID); err != nil || r.Effective.Area(access.AreaUsers).Level != access.LevelEdit {
		t.Errorf("the manager's permissions = %v, %v; want edit on users", r.Effective.Area(access.AreaUsers), err)
	}
	if me := e.People.Me(e.employee); me.User.ID != e.employee.User.ID || me.Effective.Area(access.AreaUsers).Level != access.LevelNone {
		t.Errorf("an employee's own rights = %s %v, want theirs without users", me.User.ID, me.Effective.Area(access.AreaUsers))
	}
}
