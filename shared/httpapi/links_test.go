package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tilgang/tilgang/shared/access"
	"github.com/tilgang/tilgang/shared/apitest"
)

// seedStatusTable is seed 003's "Överblick status" table as the article prints it: one row per
// capability, the cells of the columns active link, inactive link, removed link, removed user,
// hard-deleted.
var seedStatusTable = []struct {
	capability string
	cells      [5]string
}{
	{"canLogIn", [5]string{"Ja", "Ja", "Ja", "Nej", "Nej, Användare finns inte"}},
	{"scheduleAccess", [5]string{"Ja", "Ja", "Nej", "Nej", "Nej, Användare finns inte"}},
	{"timeReportAccess", [5]string{"Ja", "Ja", "Nej", "Nej", "Nej, Användare finns inte"}},
	{"communicationAccess", [5]string{"Ja", "Ja", "Nej", "Nej", "Nej, Användare finns inte"}},
	{"profileSettings", [5]string{"Ja", "Ja", "Ja", "Nej", "Nej, Användare finns inte"}},
	{"schedulable", [5]string{"Ja", "Nej", "Nej", "Nej", "Nej, Användare finns inte"}},
	{"inStaffList", [5]string{"Ja", "Ja", "Ja", "Nej. Enbart i Användarbanken", "Nej, Användare finns inte"}},
	{"shiftsStayStaffed", [5]string{"Ja", "Delvis. Sparas pass om i schemat blir det obemannat",
		"Delvis. Sparas pass om i schemat blir det obemannat", "Delvis. Sparas pass om i schemat blir det obemannat",
		"Delvis. Eventuellt schema anonymsieras"}},
	{"timeReportReminder", [5]string{"Ja, om personen har pass i sin tidrapport", "Ja, om personen har pass i sin tidrapport",
		"Ja, om personen har pass i sin tidrapport", "Ja, om personen har pass i sin tidrapport", "Nej, Användare finns inte"}},
	{"recipientCanApproveTimeReport", [5]string{"Ja, om personen har pass i sin tidrapport", "Ja, om personen har pass i sin tidrapport",
		"Nej, koppling måste finnas", "Nej, koppling måste finnas", "Nej, Användare finns inte"}},
}

var seedColumns = [5]string{"active_link", "inactive_link", "removed_link", "removed_user", "anonymised"}

// seedTexts translates the seed's qualifying texts.
var seedTexts = map[string]string{
	"om personen har pass i sin tidrapport":       "only if the person has shifts in the time report",
	"Sparas pass om i schemat blir det obemannat": "shifts stay staffed, but a shift that is saved again in the schedule becomes unstaffed",
	"Eventuellt schema anonymsieras":              "any schedule is anonymised",
	"Användare finns inte":                        "the user no longer exists",
	"koppling måste finnas":                       "a link must exist",
	"Enbart i Användarbanken":                     "only in the user bank",
}

// expectCell reads a seed cell: value, and the text that must appear as condition (yes,
// partial) or note (no).
func expectCell(t *testing.T, cell string) (value, text string) {
	t.Helper()
	head, rest, _ := strings.Cut(cell, ",")
	if h, r, ok := strings.Cut(cell, "."); ok && len(h) < len(head) {
		head, rest = h, r
	}
	rest = strings.TrimSpace(rest)
	switch head {
	case "Ja":
		value = "yes"
	case "Nej":
		value = "no"
	case "Delvis":
		value = "partial"
	default:
		t.Fatalf("seed cell %q: unknown value", cell)
	}
	if rest != "" {
		var ok bool
		if text, ok = seedTexts[rest]; !ok {
			t.Fatalf("seed cell %q: no translation for %q", cell, rest)
		}
	}
	return value, text
}

// checkColumn compares one capabilities response with one column of the seed's table.
func checkColumn(t *testing.T, got map[string]any, col int) {
	t.Helper()
	if got["state"] != seedColumns[col] {
		t.Fatalf("state = %v, want %s", got["state"], seedColumns[col])
	}
	caps := got["capabilities"].(map[string]any)
	conds := got["conditions"].(map[string]any)
	notes := got["notes"].(map[string]any)
	if len(caps) != len(seedStatusTable) {
		t.Errorf("%d capabilities, want %d", len(caps), len(seedStatusTable))
	}
	for _, row := range seedStatusTable {
		value, text := expectCell(t, row.cells[col])
		if caps[row.capability] != value {
			t.Errorf("%s / %s = %v, want %s (seed: %q)", seedColumns[col], row.capability, caps[row.capability], value, row.cells[col])
		}
		gotText := conds[row.capability]
		if value == "no" {
			gotText = notes[row.capability]
			if _, ok := conds[row.capability]; ok {
				t.Errorf("%s / %s: a no has a condition %v", seedColumns[col], row.capability, conds[row.capability])
			}
		}
		if text == "" && gotText != nil {
			t.Errorf("%s / %s: text %v, want none", seedColumns[col], row.capability, gotText)
		}
		if text != "" && gotText != text {
			t.Errorf("%s / %s: text %v, want %q (seed: %q)", seedColumns[col], row.capability, gotText, text, row.cells[col])
		}
	}
}

// The matrix as data, every cell of the five seed columns.
func TestCapabilityMatrixData(t *testing.T) {
	for col, state := range seedColumns {
		for _, row := range seedStatusTable {
			value, text := expectCell(t, row.cells[col])
			cell := access.CapabilityCell(access.Capability(row.capability), access.CapabilityState(state))
			got := cell.Condition
			if value == "no" {
				got = cell.Note
			}
			if string(cell.Value) != value || got != text {
				t.Errorf("%s / %s = %+v, want %s %q", state, row.capability, cell, value, text)
			}
		}
	}
}

func newClient(t *testing.T, owner *apitest.Actor, name string) string {
	t.Helper()
	return owner.Must(t, "POST", "/v1/clients", map[string]any{"name": name}, 201).Map(t)["id"].(string)
}

func link(clientID, number string) map[string]any {
	return map[string]any{"clientId": clientID, "employmentRate": 75, "employmentNumber": number, "color": "#3366ff"}
}

func empNo(prefix string) string { return prefix + "-" + access.NewULID("n")[2:14] }

func newAssistant(t *testing.T, owner *apitest.Actor, clientID string, fields map[string]any) string {
	t.Helper()
	body := map[string]any{"profession": "assistant", "roles": []string{"assistant"}, "link": link(clientID, empNo("A"))}
	for k, v := range fields {
		body[k] = v
	}
	return owner.CreateUser(t, body)
}

// The capability matrix through the API: one assistant and recipient walked through every
// column of the seed's table, checked cell by cell.
func TestCapabilitiesCellByCell(t *testing.T) {
	env := apitest.New(t)
	ten := env.NewTenant(t, true)
	owner := ten.Owner
	c1, c2 := newClient(t, owner, "Recipient one"), newClient(t, owner, "Recipient two")
	uid := newAssistant(t, owner, c1, nil)
	caps := func(client string) map[string]any {
		return owner.Must(t, "GET", "/v1/users/"+uid+"/capabilities?clientId="+client, nil, 200).Map(t)
	}

	checkColumn(t, caps(c1), 0)
	// The assistant reads their own.
	env.As(ten.ID, uid).Must(t, "GET", "/v1/users/"+uid+"/capabilities?clientId="+c1, nil, 200)

	owner.Must(t, "PATCH", "/v1/users/"+uid+"/links/"+c1, map[string]any{"status": "inactive"}, 200)
	checkColumn(t, caps(c1), 1)

	owner.Must(t, "DELETE", "/v1/users/"+uid+"/links/"+c1, nil, 200)
	checkColumn(t, caps(c1), 2)

	// Never linked: the removed link's column, under its own state.
	nl := caps(c2)
	if nl["state"] != "no_link" {
		t.Fatalf("state = %v, want no_link", nl["state"])
	}
	nl["state"] = "removed_link"
	checkColumn(t, nl, 2)

	owner.Must(t, "POST", "/v1/users/"+uid+"/links", link(c2, empNo("B")), 201)
	owner.Must(t, "POST", "/v1/users/"+uid+"/deactivate", nil, 200)
	// Deactivated: the link's column with the rows deactivation changes; the recipient of the
	// removed link cannot approve the time report, the one of the active link can.
	for client, approve := range map[string]string{c2: "yes", c1: "no"} {
		got := caps(client)
		if got["state"] != "deactivated_user" || got["capabilities"].(map[string]any)["canLogIn"] != "no" {
			t.Errorf("deactivated: %v", got)
		}
		if v := got["capabilities"].(map[string]any)["recipientCanApproveTimeReport"]; v != approve {
			t.Errorf("deactivated, client %s: recipientCanApproveTimeReport = %v, want %s", client, v, approve)
		}
	}
	if note := caps(c1)["notes"].(map[string]any)["recipientCanApproveTimeReport"]; note != "a link must exist" {
		t.Errorf("deactivated, removed link: note %v", note)
	}
	owner.Must(t, "POST", "/v1/users/"+uid+"/activate", nil, 200)

	owner.Must(t, "POST", "/v1/users/"+uid+"/remove", nil, 200)
	checkColumn(t, caps(c2), 3)
	checkColumn(t, caps(c1), 3)

	owner.Must(t, "POST", "/v1/users/"+uid+"/anonymise", nil, 200)
	checkColumn(t, caps(c2), 4)
}

// active → deactivated → removed → restored → removed → anonymised, with the actors who may and
// those who may not.
func TestUserLifecycle(t *testing.T) {
	env := apitest.New(t)
	ten := env.NewTenant(t, true)
	owner := ten.Owner
	as := func(id string) *apitest.Actor { return env.As(ten.ID, id) }
	mainAdmin := as(owner.CreateUser(t, map[string]any{"roles": []string{"main_admin"}}))
	admin := as(owner.CreateUser(t, map[string]any{"roles": []string{"admin"}}))
	teamLead := as(owner.CreateUser(t, map[string]any{"roles": []string{"team_lead"}}))
	plain := as(owner.CreateUser(t, nil))
	c1, c2 := newClient(t, owner, "R1"), newClient(t, owner, "R2")
	uid := newAssistant(t, owner, c1, nil)
	user := "/v1/users/" + uid

	// Administrative access (links) needs team_lead or admin.
	plain.Must(t, "POST", user+"/links", link(c2, empNo("P")), 403)
	teamLead.Must(t, "POST", user+"/links", link(c2, empNo("T")), 201)
	teamLead.Must(t, "PATCH", user+"/links/"+c2, map[string]any{"status": "inactive", "employmentRate": 50}, 200)
	if got := len(owner.Must(t, "GET", user+"/links", nil, 200).Map(t)["items"].([]any)); got != 2 {
		t.Fatalf("links = %d, want 2", got)
	}
	as(uid).Must(t, "GET", user+"/links", nil, 200)
	as(uid).Must(t, "GET", "/v1/users/"+plain.UserID+"/links", nil, 403)
	ass := teamLead.Must(t, "GET", "/v1/clients/"+c2+"/assistants?status=inactive", nil, 200).Map(t)["items"].([]any)
	if len(ass) != 1 || ass[0].(map[string]any)["userId"] != uid {
		t.Errorf("assistants of c2 = %v", ass)
	}

	owner.Must(t, "POST", user+"/deactivate", nil, 200)
	as(uid).Must(t, "GET", "/v1/me", nil, 401)

	// Removing needs admin or above.
	plain.Must(t, "POST", user+"/remove", nil, 404) // cannot read users: no oracle
	teamLead.Must(t, "POST", user+"/remove", nil, 403)
	admin.Must(t, "POST", "/v1/users/"+mainAdmin.UserID+"/remove", nil, 403) // an admin cannot remove a main admin
	admin.Must(t, "POST", "/v1/users/"+owner.UserID+"/remove", nil, 409)
	admin.Must(t, "POST", "/v1/users/"+admin.UserID+"/remove", nil, 409)
	r := admin.Must(t, "POST", user+"/remove", nil, 200).Map(t)
	if r["status"] != "removed" || r["removedAt"] == nil {
		t.Errorf("removed user = %v", r)
	}
	admin.Must(t, "POST", user+"/remove", nil, 200) // again: nothing changes
	for _, l := range owner.Must(t, "GET", user+"/links", nil, 200).Map(t)["items"].([]any) {
		if l.(map[string]any)["status"] != "removed" {
			t.Errorf("link after removal = %v", l)
		}
	}
	bank := admin.Must(t, "GET", "/v1/user-bank", nil, 200).Map(t)["items"].([]any)
	if len(bank) != 1 || bank[0].(map[string]any)["id"] != uid {
		t.Errorf("user bank = %v", bank)
	}
	plain.Must(t, "GET", "/v1/user-bank", nil, 403)
	owner.Must(t, "POST", user+"/links", link(c2, empNo("X")), 409) // a removed user gets no links

	// Restoring needs admin or above; links stay removed.
	teamLead.Must(t, "POST", user+"/restore", nil, 403)
	r = admin.Must(t, "POST", user+"/restore", nil, 200).Map(t)
	if r["status"] != "active" || r["removedAt"] != nil {
		t.Errorf("restored user = %v", r)
	}
	admin.Must(t, "POST", user+"/restore", nil, 409)
	as(uid).Must(t, "GET", "/v1/me", nil, 200)
	if got := owner.Must(t, "GET", user+"/links?status=removed", nil, 200).Map(t)["items"].([]any); len(got) != 2 {
		t.Errorf("removed links after restore = %d, want 2", len(got))
	}
	if got := len(owner.Must(t, "GET", "/v1/user-bank", nil, 200).Map(t)["items"].([]any)); got != 0 {
		t.Errorf("user bank after restore = %d, want 0", got)
	}
	owner.Must(t, "POST", user+"/links", link(c1, empNo("R")), 201) // re-added by an admin

	// Only a user in the user bank is anonymised (seed 003: Användarbanken > Radera).
	if p := mainAdmin.Must(t, "POST", user+"/anonymise", nil, 409).Map(t); !strings.Contains(fmt.Sprint(p["detail"]), "user bank") {
		t.Errorf("anonymising an active user: %v, want the rule named", p)
	}
	owner.Must(t, "POST", user+"/deactivate", nil, 200)
	mainAdmin.Must(t, "POST", user+"/anonymise", nil, 409)
	owner.Must(t, "POST", user+"/activate", nil, 200)

	mainAdmin.Must(t, "POST", user+"/remove", nil, 200)
	as(uid).Must(t, "GET", "/v1/me", nil, 401)

	// Anonymising needs main_admin or the owner.
	admin.Must(t, "POST", user+"/anonymise", nil, 403)
	teamLead.Must(t, "POST", user+"/anonymise", nil, 403)
	mainAdmin.Must(t, "POST", "/v1/users/"+owner.UserID+"/anonymise", nil, 409)
	a := mainAdmin.Must(t, "POST", user+"/anonymise", nil, 200).Map(t)
	if a["status"] != "anonymised" || a["name"] != "***" || a["email"] != "" {
		t.Errorf("anonymised user = %v", a)
	}
	mainAdmin.Must(t, "POST", user+"/anonymise", nil, 200) // twice is harmless
	owner.Must(t, "POST", user+"/restore", nil, 409)
	owner.Must(t, "POST", user+"/remove", nil, 409)
	owner.Must(t, "PATCH", user+"/links/"+c1, map[string]any{"color": "#000000"}, 409)
	for _, l := range owner.Must(t, "GET", user+"/links", nil, 200).Map(t)["items"].([]any) {
		if m := l.(map[string]any); m["status"] != "removed" || m["employmentNumber"] != "***" {
			t.Errorf("link after anonymisation = %v", m)
		}
	}
	as(uid).Must(t, "GET", "/v1/me", nil, 401)
}

func TestAssistantCreationNeedsItsFirstLink(t *testing.T) {
	env := apitest.New(t)
	ten := env.NewTenant(t, true)
	owner := ten.Owner
	c := newClient(t, owner, "R")
	base := func(extra map[string]any) map[string]any {
		b := map[string]any{"name": "A", "email": apitest.UniqueEmail("a"), "profession": "assistant", "roles": []string{"assistant"}}
		for k, v := range extra {
			b[k] = v
		}
		return b
	}
	n := empNo("E")
	for _, tc := range []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"assistant without link", base(nil), "link"},
		{"link without assistant role", base(map[string]any{"roles": []string{}, "link": link(c, n)}), "link"},
		{"unknown client", base(map[string]any{"link": link("c_nope", n)}), "link.clientId"},
		{"rate 0", base(map[string]any{"link": map[string]any{"clientId": c, "employmentRate": 0, "employmentNumber": n, "color": "#123456"}}), "link.employmentRate"},
		{"rate 101", base(map[string]any{"link": map[string]any{"clientId": c, "employmentRate": 101, "employmentNumber": n, "color": "#123456"}}), "link.employmentRate"},
		{"bad colour", base(map[string]any{"link": map[string]any{"clientId": c, "employmentRate": 10, "employmentNumber": n, "color": "blue"}}), "link.color"},
		{"no number", base(map[string]any{"link": map[string]any{"clientId": c, "employmentRate": 10, "employmentNumber": " ", "color": "#123456"}}), "link.employmentNumber"},
		{"unknown link field", base(map[string]any{"link": map[string]any{"clientId": c, "employmentRate": 10, "employmentNumber": n, "color": "#123456", "x": 1}}), "x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := owner.Must(t, "POST", "/v1/users", tc.body, 400).Map(t)
			if !strings.Contains(fmt.Sprint(p["errors"]), tc.field) {
				t.Errorf("problem = %v, want field %s", p, tc.field)
			}
		})
	}
	// The employment number is unique in the tenant, and a failed create writes nothing.
	uid := owner.CreateUser(t, base(map[string]any{"link": link(c, n)}))
	email := apitest.UniqueEmail("dup")
	owner.Must(t, "POST", "/v1/users", base(map[string]any{"email": email, "link": link(c, strings.ToLower(n))}), 409)
	owner.Must(t, "POST", "/v1/users", base(map[string]any{"email": email, "link": link(c, empNo("F"))}), 201)
	if got := owner.Must(t, "GET", "/v1/clients/"+c+"/assistants", nil, 200).Map(t)["items"].([]any); len(got) != 2 {
		t.Errorf("assistants = %d, want 2", len(got))
	}
	// The role cannot be taken while links are live, and an assistant with links is not deleted.
	owner.Must(t, "PUT", "/v1/users/"+uid+"/roles", map[string]any{"roles": []string{}}, 409)
	owner.Must(t, "DELETE", "/v1/users/"+uid, nil, 409)
	owner.Must(t, "DELETE", "/v1/users/"+uid+"/links/"+c, nil, 200)
	owner.Must(t, "PUT", "/v1/users/"+uid+"/roles", map[string]any{"roles": []string{}}, 200)
}

func TestLinkRoutesBadInput(t *testing.T) {
	env := apitest.New(t)
	ten := env.NewTenant(t, true)
	other := env.NewTenant(t, true)
	owner := ten.Owner
	c := newClient(t, owner, "R")
	otherClient := newClient(t, other.Owner, "Other")
	otherUser := newAssistant(t, other.Owner, otherClient, nil)
	uid := newAssistant(t, owner, c, nil)
	plain := owner.CreateUser(t, nil)
	u := "/v1/users/" + uid
	for _, tc := range []struct {
		method, path string
		body         any
		status       int
		field        string
	}{
		{"GET", u + "/links?status=gone", nil, 400, "status"},
		{"GET", u + "/links?limit=0", nil, 400, "limit"},
		{"GET", u + "/links?cursor=zzz", nil, 400, "cursor"},
		{"GET", u + "/links?color=1", nil, 400, "color"},
		{"GET", "/v1/users/" + otherUser + "/links", nil, 404, ""},
		{"POST", u + "/links", `{"clientId":`, 400, "body"},
		{"POST", u + "/links", map[string]any{"clientId": c, "employmentRate": "75", "employmentNumber": "x", "color": "#ffffff"}, 400, "employmentRate"},
		{"POST", u + "/links", map[string]any{"employmentRate": 75, "employmentNumber": "x", "color": "#ffffff"}, 400, "clientId"},
		{"POST", u + "/links", map[string]any{"clientId": "a/b", "employmentRate": 75, "employmentNumber": "x", "color": "#ffffff"}, 400, "clientId"},
		{"POST", u + "/links", link(otherClient, empNo("O")), 400, "clientId"},
		{"POST", u + "/links", map[string]any{"clientId": c, "employmentRate": 75, "employmentNumber": "***", "color": "#ffffff"}, 400, "employmentNumber"},
		{"POST", u + "/links", map[string]any{"clientId": c, "employmentRate": 75, "employmentNumber": strings.Repeat("9", 65), "color": "#ffffff"}, 400, "employmentNumber"},
		{"POST", u + "/links", map[string]any{"clientId": c, "employmentRate": 75, "employmentNumber": "x", "color": "#fffffg"}, 400, "color"},
		{"POST", u + "/links", link(c, empNo("D")), 409, ""}, // already linked
		{"POST", "/v1/users/" + plain + "/links", link(c, empNo("N")), 409, ""},
		{"POST", "/v1/users/" + otherUser + "/links", link(c, empNo("N")), 404, ""},
		{"POST", "/v1/users/u_missing/links", link(c, empNo("N")), 404, ""},
		{"PATCH", u + "/links/" + c, map[string]any{}, 400, "body"},
		{"PATCH", u + "/links/" + c, map[string]any{"status": "removed"}, 400, "status"},
		{"PATCH", u + "/links/" + c, map[string]any{"employmentRate": 1000}, 400, "employmentRate"},
		{"PATCH", u + "/links/" + c, map[string]any{"color": "red"}, 400, "color"},
		{"PATCH", u + "/links/" + c, map[string]any{"employmentNumber": ""}, 400, "employmentNumber"},
		{"PATCH", u + "/links/" + c, map[string]any{"colour": "#000000"}, 400, "colour"},
		{"PATCH", u + "/links/" + c, map[string]any{"color": "#000000"}, 412, ""},
		{"PATCH", u + "/links/" + otherClient, map[string]any{"color": "#000000"}, 404, ""},
		{"DELETE", u + "/links/c_missing", nil, 404, ""},
		{"DELETE", "/v1/users/" + otherUser + "/links/" + otherClient, nil, 404, ""},
		{"GET", "/v1/clients/" + otherClient + "/assistants", nil, 404, ""},
		{"GET", "/v1/clients/" + c + "/assistants?status=x", nil, 400, "status"},
		{"GET", "/v1/clients/" + c + "/assistants?limit=500", nil, 400, "limit"},
		{"GET", u + "/capabilities", nil, 400, "clientId"},
		{"GET", u + "/capabilities?clientId=a%23b", nil, 400, "clientId"},
		{"GET", u + "/capabilities?clientId=" + c + "&x=1", nil, 400, "x"},
		{"GET", u + "/capabilities?clientId=" + otherClient, nil, 404, ""},
		{"GET", "/v1/users/" + otherUser + "/capabilities?clientId=" + c, nil, 404, ""},
		{"POST", u + "/remove", map[string]any{"reason": "x"}, 400, "body"},
		{"POST", u + "/restore", nil, 409, ""},
		{"POST", u + "/anonymise", "nope", 400, "body"},
		{"POST", "/v1/users/" + otherUser + "/remove", nil, 404, ""},
		{"POST", "/v1/users/" + otherUser + "/restore", nil, 404, ""},
		{"POST", "/v1/users/" + otherUser + "/anonymise", nil, 404, ""},
		{"GET", "/v1/user-bank?limit=-1", nil, 400, "limit"},
		{"GET", "/v1/user-bank?status=removed", nil, 400, "status"},
	} {
		t.Run(tc.method+" "+tc.path+" "+fmt.Sprint(tc.status), func(t *testing.T) {
			var headers []string
			switch {
			case tc.status == http.StatusPreconditionFailed:
				headers = []string{"If-Match", `"99"`}
			case tc.field == "If-Match":
				headers = []string{"If-Match", "yesterday"}
			}
			r := owner.Do(t, tc.method, tc.path, tc.body, headers...)
			if r.Status != tc.status {
				t.Fatalf("status = %d, want %d: %s", r.Status, tc.status, r.Body)
			}
			if tc.field != "" && !strings.Contains(r.Body, `"field":"`+tc.field+`"`) {
				t.Errorf("problem %s does not name %s", r.Body, tc.field)
			}
		})
	}
	// An entity tag this API never handed out matches nothing: 412, as RFC 9110 says, not 400.
	owner.Must(t, "PATCH", u+"/links/"+c, map[string]any{"color": "#000000"}, 412, "If-Match", "yesterday")
	// Nothing of the refused requests was written.
	if got := owner.Must(t, "GET", u+"/links", nil, 200).Map(t)["items"].([]any); len(got) != 1 {
		t.Errorf("links = %v, want the first one only", got)
	}
}

// After anonymising a user, no item of the table holds their name, email or phone.
func TestAnonymiseLeavesNoPersonalData(t *testing.T) {
	env := apitest.New(t)
	ten := env.NewTenant(t, true, "administrator")
	owner := ten.Owner
	c1, c2 := newClient(t, owner, "R1"), newClient(t, owner, "R2")
	tag := strings.ToLower(access.NewULID("p")[2:])
	name := "Zelda Quixote " + tag
	email := "zelda." + tag + "@example.com"
	phone := fmt.Sprintf("+46 70 %09d", time.Now().UnixNano()%1e9)
	number := "EMP-" + tag
	groups := owner.Must(t, "GET", "/v1/groups", nil, 200).Map(t)["items"].([]any)
	uid := newAssistant(t, owner, c1, map[string]any{"name": name, "email": email, "phone": phone,
		"pictureUrl": "https://img.example.com/" + tag + ".png", "groupIds": []string{groups[0].(map[string]any)["id"].(string)},
		"link": link(c1, number)})
	me := env.As(ten.ID, uid)
	me.Must(t, "PATCH", "/v1/users/"+uid, map[string]any{"name": name + " Jr", "phone": phone}, 200)
	owner.Must(t, "POST", "/v1/users/"+uid+"/links", link(c2, number+"-2"), 201)
	owner.Must(t, "PATCH", "/v1/users/"+uid+"/links/"+c2, map[string]any{"employmentNumber": number + "-3"}, 200)
	owner.Must(t, "POST", "/v1/users/"+uid+"/remove", nil, 200)
	owner.Must(t, "POST", "/v1/users/"+uid+"/anonymise", nil, 200)

	needles := []string{strings.ToLower(name), strings.ToLower(email), strings.ToLower(phone), tag}
	var items int
	p := dynamodb.NewScanPaginator(env.App.Dynamo, &dynamodb.ScanInput{TableName: aws.String(env.Config.TableName)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range page.Items {
			items++
			for attr, v := range it {
				s := strings.ToLower(attr + "=" + flatten(v))
				for _, n := range needles {
					if strings.Contains(s, n) {
						t.Errorf("item %s/%s still holds %q in %s", str(it["PK"]), str(it["SK"]), n, attr)
					}
				}
			}
		}
	}
	if items == 0 {
		t.Fatal("the scan read no items")
	}
	// The email can be used again.
	owner.CreateUser(t, map[string]any{"email": email})
}

func str(v types.AttributeValue) string {
	if s, ok := v.(*types.AttributeValueMemberS); ok {
		return s.Value
	}
	return ""
}

// flatten renders every string, number and nested value of an attribute.
func flatten(v types.AttributeValue) string {
	switch x := v.(type) {
	case *types.AttributeValueMemberS:
		return x.Value
	case *types.AttributeValueMemberN:
		return x.Value
	case *types.AttributeValueMemberSS:
		return strings.Join(x.Value, " ")
	case *types.AttributeValueMemberL:
		var b strings.Builder
		for _, e := range x.Value {
			b.WriteString(flatten(e) + " ")
		}
		return b.String()
	case *types.AttributeValueMemberM:
		var b strings.Builder
		for k, e := range x.Value {
			b.WriteString(k + "=" + flatten(e) + " ")
		}
		return b.String()
	case *types.AttributeValueMemberB:
		return string(x.Value)
	}
	return ""
}
