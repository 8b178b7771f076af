package httpapi_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tilgang/tilgang/shared/apitest"
)

// fakeClock replaces the service's clock: tests move time instead of sleeping.
type fakeClock struct{ ns atomic.Int64 }

func newFakeClock(env *apitest.Env) *fakeClock {
	c := &fakeClock{}
	c.ns.Store(time.Now().UTC().Truncate(time.Second).UnixNano())
	env.App.SetClock(c.Now)
	return c
}

func (c *fakeClock) Now() time.Time          { return time.Unix(0, c.ns.Load()).UTC() }
func (c *fakeClock) Set(t time.Time)         { c.ns.Store(t.UnixNano()) }
func (c *fakeClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }
func rfc(t time.Time) string                 { return t.UTC().Format(time.RFC3339) }

// TestAssignmentExpiresAtItsInstant: an assignment with expiresAt a few seconds ahead opens the
// client until that instant and nothing from it on, with no sweep; reasons say "until" and then
// "expired at"; the reverse look-ups show the expiry; the granter is notified before; the sweep
// later removes the item and audits it as expired.
func TestAssignmentExpiresAtItsInstant(t *testing.T) {
	env := apitest.New(t)
	clock := newFakeClock(env)
	ten := env.NewTenant(t, true)
	owner := ten.Owner
	g := owner.CreateGroup(t, "Own clients", clientPerms("edit", "own", nil))
	u := owner.CreateUser(t, map[string]any{"groupIds": []string{g}})
	user := env.As(ten.ID, u)
	c := createClient(t, owner, "manual")
	start := clock.Now()
	exp := start.Add(5 * time.Second)

	a := owner.Must(t, "PUT", "/v1/clients/"+c+"/access/"+u, map[string]any{"level": "edit", "expiresAt": rfc(exp)}, 200).Map(t)
	if a["expiresAt"] != rfc(exp) || a["grantedBy"] != owner.UserID {
		t.Fatalf("assignment = %v, want expiresAt %s granted by the owner", a, rfc(exp))
	}
	d := authorizeClient(t, owner, u, "edit", "clients", c)
	if d["allowed"] != true || !strings.Contains(d["reason"].(string), "until "+rfc(exp)) {
		t.Fatalf("before expiry: authorize = %v, want allowed with until", d)
	}
	user.Must(t, "GET", "/v1/clients/"+c, nil, 200)
	entries := owner.Must(t, "GET", "/v1/clients/"+c+"/access", nil, 200).Map(t)["items"].([]any)
	if got := reasonExpiry(entries, u); got != rfc(exp) {
		t.Errorf("client access list: expiresAt = %q, want %s", got, rfc(exp))
	}
	mine := owner.Must(t, "GET", "/v1/users/"+u+"/clients", nil, 200).Map(t)["items"].([]any)
	if len(mine) != 1 || mine[0].(map[string]any)["level"] != "edit" {
		t.Errorf("user clients before expiry = %v", mine)
	}

	// The granter hears of it ahead (the notice period is 3 days), once however often the sweep runs.
	for range 2 {
		if _, err := env.App.Expiry.SweepExpired(context.Background(), 0); err != nil {
			t.Fatal(err)
		}
	}
	if n := countNotifications(t, owner, "grant_expiring"); n != 1 {
		t.Errorf("granter notifications = %d, want 1", n)
	}

	// One second before: still allowed. At the instant: refused, with no sweep run.
	clock.Set(exp.Add(-time.Second))
	if d := authorizeClient(t, owner, u, "view", "clients", c); d["allowed"] != true {
		t.Errorf("a second before expiry: authorize = %v", d)
	}
	clock.Set(exp)
	d = authorizeClient(t, owner, u, "view", "clients", c)
	if d["allowed"] != false || !strings.Contains(d["reason"].(string), "expired at "+rfc(exp)) {
		t.Fatalf("at expiry: authorize = %v, want refused, expired at", d)
	}
	user.Must(t, "GET", "/v1/clients/"+c, nil, 403)
	mine = owner.Must(t, "GET", "/v1/users/"+u+"/clients", nil, 200).Map(t)["items"].([]any)
	if len(mine) != 1 || mine[0].(map[string]any)["level"] != "none" {
		t.Errorf("user clients after expiry = %v, want the client at level none", mine)
	}
	// Setting it again renews it (the expired item is replaced, not kept as "unchanged").
	owner.Must(t, "PUT", "/v1/clients/"+c+"/access/"+u, map[string]any{"level": "edit", "expiresAt": rfc(exp.Add(time.Hour))}, 200)
	if d := authorizeClient(t, owner, u, "view", "clients", c); d["allowed"] != true {
		t.Errorf("renewed: authorize = %v", d)
	}
	clock.Set(exp.Add(time.Hour))

	// The sweep removes it afterwards and audits it as expired, by the system.
	res, err := env.App.Expiry.SweepExpired(context.Background(), 0)
	if err != nil || res.Removed < 1 {
		t.Fatalf("sweep = %+v, %v; want a removal", res, err)
	}
	if it := getItem(t, env, "TENANT#"+ten.ID, "ACCESS#"+c+"#"+u); it != nil {
		t.Errorf("assignment still stored after the sweep: %v", it)
	}
	if e := findAudit(t, owner, "client.access.expired", c); e == nil || e["actorId"] != "system" {
		t.Errorf("audit client.access.expired = %v", e)
	}
}

func reasonExpiry(entries []any, userID string) string {
	for _, e := range entries {
		m := e.(map[string]any)
		if m["userId"] != userID {
			continue
		}
		for _, r := range m["reasons"].([]any) {
			if x, ok := r.(map[string]any)["expiresAt"].(string); ok {
				return x
			}
		}
	}
	return ""
}

func countNotifications(t *testing.T, a *apitest.Actor, typ string) int {
	t.Helper()
	n := 0
	for _, it := range a.Must(t, "GET", "/v1/notifications?limit=100", nil, 200).Map(t)["items"].([]any) {
		if it.(map[string]any)["type"] == typ {
			n++
		}
	}
	return n
}

// findAudit returns the newest audit entry of an action on a target (among the last 100).
func findAudit(t *testing.T, owner *apitest.Actor, action, targetID string) map[string]any {
	t.Helper()
	for _, it := range owner.Must(t, "GET", "/v1/audit?limit=100", nil, 200).Map(t)["items"].([]any) {
		e := it.(map[string]any)
		if e["action"] == action && e["targetId"] == targetID {
			return e
		}
	}
	return nil
}

// TestGroupMembershipExpires: a membership with an expiry gives its group's rights until then
// (sources and GET /v1/me say until when), nothing from then on, and the sweep removes it.
func TestGroupMembershipExpires(t *testing.T) {
	env := apitest.New(t)
	clock := newFakeClock(env)
	ten := env.NewTenant(t, true)
	owner := ten.Owner
	all := owner.CreateGroup(t, "All clients", clientPerms("edit", "all", nil))
	base := owner.CreateGroup(t, "Base", map[string]any{"calendars": map[string]any{"level": "view", "scope": "own"}})
	u := owner.CreateUser(t, map[string]any{"groupIds": []string{base}})
	user := env.As(ten.ID, u)
	c := createClient(t, owner, "manual")
	exp := clock.Now().Add(time.Hour)

	out := owner.Must(t, "PUT", "/v1/users/"+u+"/groups", map[string]any{"groupIds": []string{base, all},
		"expiresAt": map[string]string{all: rfc(exp)}}, 200).Map(t)
	if got := out["groupExpiresAt"].(map[string]any)[all]; got != rfc(exp) {
		t.Fatalf("groupExpiresAt = %v", out["groupExpiresAt"])
	}
	me := user.Must(t, "GET", "/v1/me", nil, 200).Map(t)
	clients := me["permissions"].(map[string]any)["clients"].(map[string]any)
	if clients["level"] != "edit" {
		t.Fatalf("me clients = %v", clients)
	}
	if src := clients["sources"].([]any)[0].(map[string]any); src["until"] != rfc(exp) {
		t.Errorf("source = %v, want until %s", src, rfc(exp))
	}
	user.Must(t, "GET", "/v1/clients/"+c, nil, 200)

	clock.Set(exp)
	user.Must(t, "GET", "/v1/clients/"+c, nil, 403)
	perms := owner.Must(t, "GET", "/v1/users/"+u+"/permissions", nil, 200).Map(t)["permissions"].(map[string]any)
	if got := perms["clients"].(map[string]any)["level"]; got != "none" {
		t.Errorf("clients level after expiry = %v, want none", got)
	}
	if _, err := env.App.Expiry.SweepExpired(context.Background(), 0); err != nil {
		t.Fatal(err)
	}
	after := owner.Must(t, "GET", "/v1/users/"+u, nil, 200).Map(t)
	if ids := after["groupIds"].([]any); len(ids) != 1 || ids[0] != base || after["groupExpiresAt"] != nil {
		t.Errorf("after the sweep: groupIds = %v, groupExpiresAt = %v", ids, after["groupExpiresAt"])
	}
	if e := findAudit(t, owner, "user.groups.expired", u); e == nil {
		t.Error("no user.groups.expired audit entry")
	}
}

// TestClientAdminExpires: a program administrator with an expiry appoints until then only.
func TestClientAdminExpires(t *testing.T) {
	env := apitest.New(t)
	clock := newFakeClock(env)
	ten := env.NewTenant(t, true)
	owner := ten.Owner
	admin := owner.CreateUser(t, map[string]any{"roles": []string{"consultant"}, "profession": "consultant"})
	consultant := owner.CreateUser(t, map[string]any{"roles": []string{"consultant"}, "profession": "consultant"})
	c := createClient(t, owner, "manual")
	exp := clock.Now().Add(time.Minute)
	got := owner.Must(t, "PUT", "/v1/clients/"+c+"/admins/"+admin, map[string]any{"system": true, "expiresAt": rfc(exp)}, 200).Map(t)
	if got["expiresAt"] != rfc(exp) {
		t.Fatalf("client admin = %v", got)
	}
	list := owner.Must(t, "GET", "/v1/clients/"+c+"/admins", nil, 200).Map(t)["items"].([]any)
	if e := list[len(list)-1].(map[string]any); e["expiresAt"] != rfc(exp) {
		t.Errorf("admins list = %v", list)
	}
	as := env.As(ten.ID, admin)
	as.Must(t, "PUT", "/v1/clients/"+c+"/admins/"+consultant, map[string]any{"programs": []string{"payroll"}}, 200)
	clock.Set(exp)
	// Refused; and as the administrator may not read users, the refusal says not found.
	as.Must(t, "PUT", "/v1/clients/"+c+"/admins/"+consultant, map[string]any{"programs": []string{"invoicing"}}, 404)
	d := owner.Must(t, "POST", "/v1/authorize", map[string]any{"userId": admin, "action": "view", "area": "clients", "clientId": c, "program": "payroll"}, 200).Map(t)
	if d["allowed"] != false {
		t.Errorf("expired administrator still uses the program: %v", d)
	}
}

// TestExpiresAtValidation: in the future, at most two years ahead, RFC 3339; 400 naming the field.
func TestExpiresAtValidation(t *testing.T) {
	env := apitest.New(t)
	clock := newFakeClock(env)
	ten := env.NewTenant(t, true)
	owner := ten.Owner
	g := owner.CreateGroup(t, "Own clients", clientPerms("edit", "own", nil))
	u := owner.CreateUser(t, map[string]any{"groupIds": []string{g}})
	c := createClient(t, owner, "manual")
	now := clock.Now()
	for _, tc := range []struct {
		name, value string
	}{
		{"past", rfc(now.Add(-time.Minute))},
		{"now", rfc(now)},
		{"too far", rfc(now.Add(3 * 365 * 24 * time.Hour))},
		{"not a time", "tomorrow"},
		{"no zone", "2030-01-01T10:00:00"},
	} {
		r := owner.Must(t, "PUT", "/v1/clients/"+c+"/access/"+u, map[string]any{"level": "view", "expiresAt": tc.value}, 400)
		if f := problemField(t, r); f != "expiresAt" {
			t.Errorf("%s: field = %q, want expiresAt", tc.name, f)
		}
	}
	r := owner.Must(t, "PUT", "/v1/users/"+u+"/groups", map[string]any{"groupIds": []string{g}, "expiresAt": map[string]string{g: rfc(now.Add(-time.Hour))}}, 400)
	if f := problemField(t, r); f != "expiresAt."+g {
		t.Errorf("groups: field = %q", f)
	}
	r = owner.Must(t, "PUT", "/v1/users/"+u+"/groups", map[string]any{"groupIds": []string{}, "expiresAt": map[string]string{g: rfc(now.Add(time.Hour))}}, 400)
	if f := problemField(t, r); f != "expiresAt."+g {
		t.Errorf("groups not in groupIds: field = %q", f)
	}
	r = owner.Must(t, "PUT", "/v1/clients/"+c+"/admins/"+u, map[string]any{"system": true, "expiresAt": rfc(now)}, 400)
	if f := problemField(t, r); f != "expiresAt" {
		t.Errorf("admins: field = %q", f)
	}
	owner.Must(t, "PUT", "/v1/clients/"+c+"/access/"+u, map[string]any{"level": "view", "expiresAt": rfc(now.Add(700 * 24 * time.Hour))}, 200)
}
