package httpapi_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/tilgang/tilgang/shared/apitest"
)

// A user who leaves for the user bank stops administering clients: restored, they do not get it
// back, and the removal's audit entry says what ended.
func TestRemovalEndsClientAdministration(t *testing.T) {
	env := apitest.New(t)
	ten := env.NewTenant(t, true)
	owner := ten.Owner
	c1, c2 := newClient(t, owner, "Bureau client 1"), newClient(t, owner, "Bureau client 2")
	uid := owner.CreateUser(t, map[string]any{"profession": "consultant", "roles": []string{"consultant"}})
	other := owner.CreateUser(t, map[string]any{"profession": "consultant", "roles": []string{"consultant"}})
	owner.Must(t, "PUT", "/v1/clients/"+c1+"/admins/"+uid, map[string]any{"system": true}, 200)
	owner.Must(t, "PUT", "/v1/clients/"+c2+"/admins/"+uid, map[string]any{"programs": []string{"payroll"}}, 200)
	owner.Must(t, "PUT", "/v1/clients/"+c1+"/access/"+uid, map[string]any{"level": "view"}, 200)
	me := env.As(ten.ID, uid)
	// As system administrator of c1 they appoint others there.
	me.Must(t, "PUT", "/v1/clients/"+c1+"/admins/"+other, map[string]any{"programs": []string{"payroll"}}, 200)
	// The administration items share the user's index partition with the assignment, which
	// is still the only client the user can open by assignment.
	if body := owner.Must(t, "GET", "/v1/users/"+uid+"/clients", nil, 200).Body; !strings.Contains(body, c1) || strings.Contains(body, c2) {
		t.Errorf("clients of the user = %s", body)
	}

	owner.Must(t, "POST", "/v1/users/"+uid+"/remove", nil, 200)
	owner.Must(t, "POST", "/v1/users/"+uid+"/restore", nil, 200)
	me.Must(t, "PUT", "/v1/clients/"+c1+"/admins/"+other, map[string]any{"system": true}, 404) // administers nothing, reads no users

	var removal map[string]any
	for _, e := range owner.Must(t, "GET", "/v1/audit?limit=100", nil, 200).Map(t)["items"].([]any) {
		if m := e.(map[string]any); m["action"] == "user.remove" && m["targetId"] == uid {
			removal = m
		}
	}
	if removal == nil {
		t.Fatal("no user.remove audit entry")
	}
	ended, _ := removal["after"].(map[string]any)["clientRolesRemoved"].(map[string]any)
	got := fmt.Sprint(ended["clientAdminOf"])
	want := []string{c1, c2}
	slices.Sort(want)
	if got != fmt.Sprint(want) || fmt.Sprint(ended["programsAt"]) != "[]" {
		t.Errorf("audit of the removal: %v, want clientAdminOf %v", ended, want)
	}
}
