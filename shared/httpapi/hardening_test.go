package httpapi_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/tilgang/tilgang/shared/apitest"
)

// The tests of the hardening issue: each would have caught its defect through the HTTP API.

// fullWidth writes ASCII letters and digits in their full-width forms (U+FF01..).
func fullWidth(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r > 0x20 && r < 0x7f && r != '@' && r != '.' && r != '-' {
			r += 0xFF01 - 0x21
		}
		b.WriteRune(r)
	}
	return b.String()
}

func problemField(t *testing.T, r apitest.Response) string {
	t.Helper()
	errs, _ := r.Map(t)["errors"].([]any)
	if len(errs) == 0 {
		return ""
	}
	return errs[0].(map[string]any)["field"].(string)
}

// TestEmailIdentity: look-alike emails are one account, invisible and bidirectional characters
// and over-long parts are refused, and the address is shown as typed.
func TestEmailIdentity(t *testing.T) {
	env := apitest.New(t)
	owner := env.NewTenant(t, true).Owner
	tag := strings.ToLower(strings.TrimSuffix(apitest.UniqueEmail("x"), "@example.com"))
	create := func(email string) apitest.Response {
		return owner.Do(t, "POST", "/v1/users", map[string]any{"name": "Look Alike", "email": email, "profession": "other"})
	}
	// é composed (NFC) first, then decomposed (NFD): one address.
	nfc := "k\u00e9-" + tag + "@example.com"
	r := create(nfc)
	if r.Status != 201 {
		t.Fatalf("NFC: %d %s", r.Status, r.Body)
	}
	for name, email := range map[string]string{
		"NFD":        "ke\u0301-" + tag + "@example.com",
		"upper case": "K\u00c9-" + strings.ToUpper(tag) + "@EXAMPLE.com",
		"full width": fullWidth("k\u00e9-"+tag) + "@example.com",
	} {
		if r := create(email); r.Status != 409 {
			t.Errorf("%s spelling of a taken email: %d, want 409: %s", name, r.Status, r.Body)
		}
	}
	// Refused outright, naming the field.
	for name, email := range map[string]string{
		"zero-width space":  "zw\u200b-" + tag + "@example.com",
		"zero-width joiner": "zw\u200d-" + tag + "@example.com",
		"bidi override":     "\u202e" + tag + "@example.com",
		"control":           "ctl\u0007" + tag + "@example.com",
		"local part of 65":  strings.Repeat("a", 65) + "@example.com",
		"local part of 240": strings.Repeat("b", 240) + "@example.com",
		"whole of 255":      "a@" + strings.Repeat("b", 245) + ".example",
	} {
		env.Counter.Reset()
		r := create(email)
		if r.Status != 400 || problemField(t, r) != "email" {
			t.Errorf("%s: %d, want 400 naming email: %s", name, r.Status, r.Body)
		}
		if w := env.Counter.Writes(); w != 0 {
			t.Errorf("%s: %d writes", name, w)
		}
	}
	// The display form is kept as typed; look-ups by any spelling find the person.
	typed := "Anne.Berg-" + tag + "@Example.COM"
	r = create(typed)
	if r.Status != 201 {
		t.Fatalf("create %q: %d %s", typed, r.Status, r.Body)
	}
	id := r.Map(t)["id"].(string)
	if got := owner.Must(t, "GET", "/v1/users/"+id, nil, 200).Map(t)["email"]; got != typed {
		t.Errorf("email = %v, want %q as typed", got, typed)
	}
	u, err := env.App.People.UserByEmail(context.Background(), strings.ToLower(typed))
	if err != nil || u.ID != id {
		t.Errorf("UserByEmail(lower case) = %v, %v; want %s", u.ID, err, id)
	}
	// Changing only the case is no move of the claim: it is the same address.
	lower := strings.ToLower(typed)
	if got := owner.Must(t, "PATCH", "/v1/users/"+id, map[string]any{"email": lower}, 200).Map(t)["email"]; got != lower {
		t.Errorf("email after case change = %v", got)
	}
	if r := create(typed); r.Status != 409 {
		t.Errorf("the old spelling after a case change: %d, want 409", r.Status)
	}
}

// TestInvalidTextRefused: invalid UTF-8 and lone surrogates are a 400 naming the field, and
// nothing is written (they used to be stored as U+FFFD).
func TestInvalidTextRefused(t *testing.T) {
	env := apitest.New(t)
	owner := env.NewTenant(t, true).Owner
	uid := owner.CreateUser(t, nil)
	gid := owner.CreateGroup(t, "Text", map[string]any{})
	for _, c := range []struct {
		method, path, body, field string
	}{
		{"POST", "/v1/groups", "{\"name\":\"\xff\xfe\"}", "name"},
		{"POST", "/v1/groups", `{"name":"ok","description":"\ud800"}`, "description"},
		{"PATCH", "/v1/groups/" + gid, `{"name":"\udc00"}`, "name"},
		{"POST", "/v1/users", `{"name":"\ud83d","email":"a@example.com","profession":"other"}`, "name"},
		{"POST", "/v1/users", "{\"name\":\"A\",\"email\":\"a\xc0@example.com\",\"profession\":\"other\"}", "email"},
		{"PATCH", "/v1/users/" + uid, "{\"name\":\"\xed\xa0\x80\"}", "name"}, // a surrogate encoded in UTF-8
		{"PUT", "/v1/users/" + uid + "/groups", `{"groupIds":["g","\udfff"]}`, "groupIds[1]"},
		{"POST", "/v1/clients", "{\"name\":\"\xff\"}", "name"},
	} {
		env.Counter.Reset()
		r := owner.Do(t, c.method, c.path, c.body)
		if r.Status != 400 || problemField(t, r) != c.field {
			t.Errorf("%s %s %q: %d, want 400 naming %s: %s", c.method, c.path, c.body, r.Status, c.field, r.Body)
		}
		if w := env.Counter.Writes(); w != 0 {
			t.Errorf("%s %s: %d writes", c.method, c.path, w)
		}
	}
}

// TestConcurrentPatchesWithoutIfMatch: 50 PATCHes at once without If-Match, on one user, one
// group and the settings, all succeed and every one of them is applied (the version moves by
// exactly 50), where 19-30 of them used to answer 409.
func TestConcurrentPatchesWithoutIfMatch(t *testing.T) {
	env := apitest.New(t)
	owner := env.NewTenant(t, true).Owner
	uid := owner.CreateUser(t, nil)
	gid := owner.CreateGroup(t, "Busy", map[string]any{})
	const n = 50
	for _, c := range []struct {
		name, path string
		body       func(i int) map[string]any
	}{
		{"user", "/v1/users/" + uid, func(i int) map[string]any { return map[string]any{"name": fmt.Sprintf("Name %d", i)} }},
		{"group", "/v1/groups/" + gid, func(i int) map[string]any { return map[string]any{"description": fmt.Sprintf("d%d", i)} }},
		{"settings", "/v1/settings", func(i int) map[string]any { return map[string]any{"anonymiseAfterDays": 100 + i} }},
	} {
		t.Run(c.name, func(t *testing.T) {
			v0 := owner.Must(t, "GET", c.path, nil, 200).Map(t)["version"].(float64)
			statuses := make([]int, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() { statuses[i] = owner.Do(t, "PATCH", c.path, c.body(i)).Status })
			}
			wg.Wait()
			failed := 0
			for _, s := range statuses {
				if s != 200 {
					failed++
				}
			}
			if failed > 0 {
				t.Errorf("%d of %d concurrent PATCHes failed: %v", failed, n, statuses)
			}
			if v := owner.Must(t, "GET", c.path, nil, 200).Map(t)["version"].(float64); v != v0+n {
				t.Errorf("version %v after %d PATCHes from %v: an update was lost", v, n, v0)
			}
		})
	}
}

// TestIfMatchPreconditions: a tag that does not match is 412 (RFC 9110), "*" matches anything.
func TestIfMatchPreconditions(t *testing.T) {
	env := apitest.New(t)
	owner := env.NewTenant(t, true).Owner
	gid := owner.CreateGroup(t, "Tags", map[string]any{})
	etag := owner.Must(t, "GET", "/v1/groups/"+gid, nil, 200).Headers["ETag"]
	for _, tag := range []string{`"stale-version"`, "yesterday", `"99"`, `W/` + etag, `""`, `"0"`, `"01"`} {
		env.Counter.Reset()
		owner.Must(t, "PATCH", "/v1/groups/"+gid, map[string]any{"name": "x"}, 412, "If-Match", tag)
		if w := env.Counter.Writes(); w != 0 {
			t.Errorf("If-Match %s: %d writes", tag, w)
		}
	}
	etag2 := owner.Must(t, "PATCH", "/v1/groups/"+gid, map[string]any{"name": "y"}, 200, "If-Match", "*").Headers["ETag"]
	owner.Must(t, "PATCH", "/v1/groups/"+gid, map[string]any{"name": "z"}, 412, "If-Match", etag)
	owner.Must(t, "PATCH", "/v1/groups/"+gid, map[string]any{"name": "z"}, 200, "If-Match", etag2)
	owner.Must(t, "PATCH", "/v1/settings", map[string]any{"anonymiseAfterDays": 7}, 412, "If-Match", `"nope"`)
	owner.Must(t, "PATCH", "/v1/settings", map[string]any{"anonymiseAfterDays": 7}, 200, "If-Match", "*")
}

// TestEmptyPatchWritesNothing: {} and null keep the version, write nothing (no audit entry)
// and answer 200 with the current resource; so does a patch that sets what is there.
func TestEmptyPatchWritesNothing(t *testing.T) {
	env := apitest.New(t)
	owner := env.NewTenant(t, true).Owner
	uid := owner.CreateUser(t, map[string]any{"name": "Same"})
	gid := owner.CreateGroup(t, "Same", map[string]any{"clients": map[string]any{"level": "view", "scope": "own"}})
	audits := func() int {
		return len(owner.Must(t, "GET", "/v1/audit?limit=100", nil, 200).Map(t)["items"].([]any))
	}
	for _, c := range []struct {
		path string
		body any
	}{
		{"/v1/users/" + uid, "{}"}, {"/v1/users/" + uid, "null"}, {"/v1/users/" + uid, map[string]any{"name": "Same"}},
		{"/v1/groups/" + gid, "{}"}, {"/v1/groups/" + gid, "null"},
		{"/v1/groups/" + gid, map[string]any{"permissions": map[string]any{"clients": map[string]any{"level": "view"}}}},
		{"/v1/settings", "{}"}, {"/v1/settings", " null "},
	} {
		before := owner.Must(t, "GET", c.path, nil, 200)
		n := audits()
		env.Counter.Reset()
		r := owner.Must(t, "PATCH", c.path, c.body, 200)
		if w := env.Counter.Writes(); w != 0 {
			t.Errorf("PATCH %s %v: %d writes", c.path, c.body, w)
		}
		if r.Headers["ETag"] != before.Headers["ETag"] || r.Body != before.Body {
			t.Errorf("PATCH %s %v = %s %s, want the current %s %s", c.path, c.body, r.Headers["ETag"], r.Body, before.Headers["ETag"], before.Body)
		}
		if got := audits(); got != n {
			t.Errorf("PATCH %s %v: %d audit entries, want %d", c.path, c.body, got, n)
		}
	}
}

// TestCalendarIDsMustExist: calendar ids that are fabricated or another tenant's are refused
// with a 400 naming the field on every route that takes them; real ones are accepted.
func TestCalendarIDsMustExist(t *testing.T) {
	env := apitest.New(t)
	owner := env.NewTenant(t, true).Owner
	other := env.NewTenant(t, true).Owner
	uid := owner.CreateUser(t, nil)
	vid := owner.CreateUser(t, nil)
	mine := owner.Must(t, "GET", "/v1/users/"+vid, nil, 200).Map(t)["calendarIds"].([]any)[0].(string)
	ownCal := owner.Must(t, "GET", "/v1/users/"+uid, nil, 200).Map(t)["calendarIds"].([]any)[0].(string)
	client := owner.Must(t, "POST", "/v1/clients", map[string]any{"name": "Calendar client"}, 201).Map(t)["id"].(string)
	oid := other.CreateUser(t, nil)
	theirs := other.Must(t, "GET", "/v1/users/"+oid, nil, 200).Map(t)["calendarIds"].([]any)[0].(string)
	for _, bad := range []string{"cal_fabricated", theirs} {
		for _, c := range []struct {
			method, path string
			body         any
			field        string
		}{
			{"PUT", "/v1/users/" + uid + "/calendar-access", map[string]any{mine: "view", bad: "view"}, bad},
			{"PATCH", "/v1/settings", map[string]any{"bookableCalendarIds": []string{mine, bad}}, "bookableCalendarIds[1]"},
			{"PATCH", "/v1/users/" + uid, map[string]any{"calendarIds": []string{ownCal, bad}}, "calendarIds[1]"},
			{"POST", "/v1/users", map[string]any{"name": "Cal", "email": apitest.UniqueEmail("cal"), "profession": "other",
				"calendarAccess": map[string]any{mine: "view", bad: "view"}}, "calendarAccess." + bad},
			{"POST", "/v1/appointments", map[string]any{"clientId": client, "employeeId": uid, "calendarId": bad, "source": "manual"}, "calendarId"},
		} {
			env.Counter.Reset()
			r := owner.Do(t, c.method, c.path, c.body)
			if r.Status != 400 || problemField(t, r) != c.field {
				t.Errorf("%s %s with %s: %d, want 400 naming %s: %s", c.method, c.path, bad, r.Status, c.field, r.Body)
			}
			if w := env.Counter.Writes(); w != 0 {
				t.Errorf("%s %s: %d writes", c.method, c.path, w)
			}
		}
	}
	owner.Must(t, "PUT", "/v1/users/"+uid+"/calendar-access", map[string]any{mine: "view"}, 200)
	owner.Must(t, "PATCH", "/v1/settings", map[string]any{"bookableCalendarIds": []string{mine, ownCal}}, 200)
	owner.Must(t, "PATCH", "/v1/users/"+uid, map[string]any{"calendarIds": []string{ownCal}}, 200)
	owner.Must(t, "GET", "/v1/calendars/"+theirs, nil, 404)
	owner.Must(t, "PATCH", "/v1/calendars/cal_fabricated", map[string]any{"name": "x"}, 404)
}
