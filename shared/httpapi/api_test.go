package httpapi_test

import (
	"testing"

	"github.com/tilgang/tilgang/shared/apitest"
	"github.com/tilgang/tilgang/shared/localstack"
)

func TestMain(m *testing.M) { localstack.Main(m) }

func TestEmployeesWalkthrough(t *testing.T) {
	env := apitest.New(t)
	ten := env.NewTenant(t, true, "administrator", "secretary", "therapist", "bookkeeper")
	owner := ten.Owner
	groups := owner.Must(t, "GET", "/v1/groups", nil, 200).Map(t)["items"].([]any)
	if len(groups) != 4 {
		t.Fatalf("groups = %d, want 4", len(groups))
	}
	g1 := owner.CreateGroup(t, "Front desk", map[string]any{"calendars": map[string]any{"level": "edit", "scope": "all"}})
	g2 := owner.CreateGroup(t, "Journals", map[string]any{"journals": map[string]any{"level": "view", "scope": "own"}, "clients": map[string]any{"level": "edit", "scope": "own"}})
	uid := owner.CreateUser(t, map[string]any{"groupIds": []string{g1, g2}})
	perms := owner.Must(t, "GET", "/v1/users/"+uid+"/permissions", nil, 200).Map(t)["permissions"].(map[string]any)
	if got := perms["calendars"].(map[string]any)["scope"]; got != "all" {
		t.Errorf("calendars scope = %v, want all", got)
	}
	if got := perms["clients"].(map[string]any)["level"]; got != "edit" {
		t.Errorf("clients level = %v, want edit", got)
	}
	me := env.As(ten.ID, uid).Must(t, "GET", "/v1/me", nil, 200).Map(t)
	if me["userId"] != uid {
		t.Errorf("me = %v", me)
	}
	d := owner.Must(t, "POST", "/v1/authorize", map[string]any{"userId": uid, "action": "edit", "area": "calendars", "calendarId": "cal_x"}, 200).Map(t)
	if d["allowed"] != true {
		t.Errorf("authorize = %v", d)
	}
	owner.Must(t, "GET", "/v1/audit", nil, 200)
	owner.Must(t, "GET", "/v1/billing/seats", nil, 200)
	owner.Must(t, "GET", "/v1/permission-catalogue", nil, 200)
	owner.Must(t, "GET", "/v1/settings", nil, 200)
}
