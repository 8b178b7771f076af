package httpapi_test

import (
	"testing"

	"github.com/tilgang/tilgang/shared/apitest"
)

// TestTenantIsolationOfEveryRoute sends tenant A's owner at tenant B's ids on the routes of the
// client, assistant, user-bank and bureau features (the Employees routes are in
// TestTenantIsolation): each answers 404 and B's data is untouched.
func TestTenantIsolationOfEveryRoute(t *testing.T) {
	env := apitest.New(t)
	a := env.NewTenant(t, true)
	b := env.NewTenant(t, true)
	bClient := newClient(t, b.Owner, "B's recipient")
	bAssistant := newAssistant(t, b.Owner, bClient, nil)
	bRemoved := b.Owner.CreateUser(t, nil)
	b.Owner.Must(t, "POST", "/v1/users/"+bRemoved+"/remove", nil, 200)
	b.Owner.Must(t, "PUT", "/v1/clients/"+bClient+"/admins/"+bAssistant, map[string]any{"system": true}, 200)
	aClient := newClient(t, a.Owner, "A's recipient")
	aUser := a.Owner.CreateUser(t, nil)
	bCalendar := ownerCalendar(t, b.Owner)

	env.Counter.Reset()
	for _, c := range []struct {
		method, path string
		body         any
	}{
		{"POST", "/v1/users/" + bAssistant + "/remove", nil},
		{"POST", "/v1/users/" + bRemoved + "/restore", nil},
		{"POST", "/v1/users/" + bRemoved + "/anonymise", nil},
		{"GET", "/v1/users/" + bAssistant + "/capabilities?clientId=" + bClient, nil},
		{"GET", "/v1/users/" + bAssistant + "/links", nil},
		{"POST", "/v1/users/" + bAssistant + "/links", link(aClient, empNo("X"))},
		{"PATCH", "/v1/users/" + bAssistant + "/links/" + bClient, map[string]any{"employmentRate": 10}},
		{"DELETE", "/v1/users/" + bAssistant + "/links/" + bClient, nil},
		{"GET", "/v1/clients/" + bClient + "/assistants", nil},
		{"GET", "/v1/clients/" + bClient, nil},
		{"GET", "/v1/clients/" + bClient + "/access", nil},
		{"PUT", "/v1/clients/" + bClient + "/access/" + aUser, map[string]any{"level": "view"}},
		{"PUT", "/v1/clients/" + aClient + "/access/" + bAssistant, map[string]any{"level": "view"}},
		{"GET", "/v1/users/" + bAssistant + "/clients", nil},
		{"PUT", "/v1/clients/" + bClient + "/admins/" + aUser, map[string]any{"system": true}},
		{"DELETE", "/v1/clients/" + bClient + "/admins/" + bAssistant, nil},
		{"POST", "/v1/appointments", map[string]any{"clientId": bClient, "employeeId": aUser, "source": "manual"}},
		{"POST", "/v1/authorize", map[string]any{"userId": bAssistant, "action": "view", "area": "clients", "clientId": bClient}},
		{"GET", "/v1/calendars/" + bCalendar, nil},
		{"PATCH", "/v1/calendars/" + bCalendar, map[string]any{"name": "Taken", "ownerId": aUser}},
		{"GET", "/v1/users/" + bAssistant + "/export", nil},
	} {
		a.Owner.Must(t, c.method, c.path, c.body, 404)
	}
	if w := env.Counter.Writes(); w != 0 {
		t.Errorf("requests at another tenant's ids wrote %d times", w)
	}
	// B's data is as it was.
	if links := b.Owner.Must(t, "GET", "/v1/users/"+bAssistant+"/links", nil, 200).Map(t)["items"].([]any); len(links) != 1 ||
		links[0].(map[string]any)["status"] != "active" {
		t.Errorf("B's links: %v", links)
	}
	if u := b.Owner.Must(t, "GET", "/v1/users/"+bRemoved, nil, 200).Map(t); u["status"] != "removed" {
		t.Errorf("B's removed user: %v", u["status"])
	}
	// A notification id of another tenant cannot be read or marked either.
	a.Owner.Must(t, "POST", "/v1/notifications/ntf_01nothereatall000000000000/read", nil, 404)
}
