package httpapi_test

import (
	"strings"
	"testing"

	"github.com/tilgang/tilgang/shared/apitest"
	"github.com/tilgang/tilgang/shared/routes"
)

// TestBadInputOnEveryWrite sends malformed bodies to every POST, PUT and PATCH of the
// foundation and checks that each answers 400 or 413 naming the problem, and writes nothing.
func TestBadInputOnEveryWrite(t *testing.T) {
	env := apitest.New(t)
	ten := env.NewTenant(t, true)
	uid := ten.Owner.CreateUser(t, nil)
	gid := ten.Owner.CreateGroup(t, "G", map[string]any{})
	paths := map[string]string{
		"POST /v1/users":                         "/v1/users",
		"PATCH /v1/users/{userId}":               "/v1/users/" + uid,
		"PUT /v1/users/{userId}/groups":          "/v1/users/" + uid + "/groups",
		"PUT /v1/users/{userId}/roles":           "/v1/users/" + uid + "/roles",
		"PUT /v1/users/{userId}/calendar-access": "/v1/users/" + uid + "/calendar-access",
		"POST /v1/groups":                        "/v1/groups",
		"PATCH /v1/groups/{groupId}":             "/v1/groups/" + gid,
		"PATCH /v1/settings":                     "/v1/settings",
		"POST /v1/apps/employees/activate":       "/v1/apps/employees/activate",
		"PUT /v1/owner":                          "/v1/owner",
		"POST /v1/authorize":                     "/v1/authorize",
		"POST /v1/apps/tenants/activate":         "/v1/apps/tenants/activate",
		"PATCH /v1/calendars/{calendarId}":       "/v1/calendars/" + ownerCalendar(t, ten.Owner),
		"POST /v1/scim-tokens":                   "/v1/scim-tokens",
	}
	bodies := []struct {
		name string
		body string
		want int
	}{
		{"not json", `{"name": `, 400},
		{"empty", ``, 400},
		{"array", `[1,2]`, 400},
		{"two values", `{} {}`, 400},
		{"unknown field", `{"nmae": "x"}`, 400},
		{"wrong type", `{"name": 42, "groupIds": "g", "roles": 1, "permissions": [], "userId": 5, "templates": "x", "newClientAccess": 3}`, 400},
		{"oversized", `{"name": "` + strings.Repeat("a", 70<<10) + `"}`, 413},
	}
	for key, path := range paths {
		method := strings.Fields(key)[0]
		for _, b := range bodies {
			t.Run(key+"/"+b.name, func(t *testing.T) {
				env.Counter.Reset()
				r := ten.Owner.Do(t, method, path, b.body)
				if r.Status != b.want {
					t.Fatalf("status %d, want %d: %s", r.Status, b.want, r.Body)
				}
				if !strings.HasPrefix(r.Headers["Content-Type"], "application/problem+json") {
					t.Errorf("content type %q", r.Headers["Content-Type"])
				}
				if !strings.Contains(r.Body, `"detail"`) {
					t.Errorf("problem has no detail: %s", r.Body)
				}
				if w := env.Counter.Writes(); w != 0 {
					t.Errorf("%d writes for a bad request", w)
				}
			})
		}
	}
	// Field-level validation names the field.
	for _, c := range []struct {
		path  string
		body  map[string]any
		field string
	}{
		{"/v1/users", map[string]any{"name": "A", "email": "not-an-email", "profession": "practitioner"}, "email"},
		{"/v1/users", map[string]any{"name": "", "email": "a@example.com", "profession": "practitioner"}, "name"},
		{"/v1/users", map[string]any{"name": "A", "email": "a@example.com", "profession": "wizard"}, "profession"},
		{"/v1/users", map[string]any{"name": "A", "email": "a@example.com", "profession": "other", "roles": []string{"king"}}, "roles[0]"},
		{"/v1/users", map[string]any{"name": "A", "email": "a@example.com", "profession": "other", "phone": "call me"}, "phone"},
		{"/v1/groups", map[string]any{"name": "G", "permissions": map[string]any{"payments": map[string]any{"level": "edit", "scope": "all"}}}, "permissions.payments.scope"},
		{"/v1/groups", map[string]any{"name": "G", "permissions": map[string]any{"wizardry": map[string]any{"level": "edit"}}}, "permissions.wizardry"},
		{"/v1/groups", map[string]any{"name": "G", "permissions": map[string]any{"clients": map[string]any{"level": "max"}}}, "permissions.clients.level"},
	} {
		env.Counter.Reset()
		r := ten.Owner.Must(t, "POST", c.path, c.body, 400)
		if !strings.Contains(r.Body, `"field":"`+c.field+`"`) {
			t.Errorf("%v: problem does not name %s: %s", c.body, c.field, r.Body)
		}
		if w := env.Counter.Writes(); w != 0 {
			t.Errorf("%d writes for a bad request", w)
		}
	}
	ten.Owner.Must(t, "PATCH", "/v1/settings", map[string]any{"newClientAccess": "everything"}, 400)
	ten.Owner.Must(t, "PATCH", "/v1/settings", map[string]any{"anonymiseAfterDays": -1}, 400)
	ten.Owner.Must(t, "PATCH", "/v1/groups/"+gid, map[string]any{"name": "x"}, 412, "If-Match", "yesterday")
	ten.Owner.Must(t, "POST", "/v1/authorize", map[string]any{"userId": uid, "action": "fly", "area": "clients"}, 400)
	// Every foundation route of the table is covered by this test or the route-specific ones.
	for _, r := range routes.All {
		if (r.Method == "PATCH" || r.Method == "PUT" || (r.Method == "POST" && !strings.HasSuffix(r.Path, "}/deactivate") && !strings.HasSuffix(r.Path, "}/activate"))) &&
			(r.Function == routes.FnUsers || r.Function == routes.FnGroups || r.Function == routes.FnSettings || r.Function == routes.FnMe) {
			if _, ok := paths[r.Key()]; !ok && !strings.Contains(r.Path, "/remove") && !strings.Contains(r.Path, "/restore") && !strings.Contains(r.Path, "/anonymise") {
				t.Errorf("no bad-input case for %s", r.Key())
			}
		}
	}
}
