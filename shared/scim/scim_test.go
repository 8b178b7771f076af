package scim_test

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/tilgang/tilgang/shared/apitest"
)

const (
	urnUser       = "urn:ietf:params:scim:schemas:core:2.0:User"
	urnGroup      = "urn:ietf:params:scim:schemas:core:2.0:Group"
	urnEnterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	urnPatch      = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	urnError      = "urn:ietf:params:scim:api:messages:2.0:Error"
)

// provisioned is a tenant with a provisioning token.
type provisioned struct {
	*tenant
	token   string
	tokenID string
}

func withToken(t *testing.T, ten *tenant, name string) *provisioned {
	t.Helper()
	r := ten.v1(t, "", "POST", "/v1/scim-tokens", map[string]any{"name": name})
	if r.Status != 201 {
		t.Fatalf("create token: %d %s", r.Status, r.Raw)
	}
	m := r.Map(t)
	return &provisioned{tenant: ten, token: m["secret"].(string), tokenID: m["id"].(string)}
}

func (p *provisioned) must(t *testing.T, method, path string, body any, want int, headers ...string) map[string]any {
	t.Helper()
	r := p.scim(t, p.token, method, path, body, headers...)
	if r.Status != want {
		t.Fatalf("%s %s: status %d, want %d: %s", method, path, r.Status, want, r.Raw)
	}
	if r.Raw == "" {
		return nil
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/scim+json") {
		t.Errorf("%s %s: Content-Type %q, want application/scim+json", method, path, ct)
	}
	return r.Map(t)
}

// scimError checks a SCIM error document.
func (p *provisioned) scimError(t *testing.T, method, path string, body any, status int, scimType string) {
	t.Helper()
	m := p.must(t, method, path, body, status)
	if got := fmt.Sprint(m["schemas"]); got != "["+urnError+"]" {
		t.Errorf("%s %s: schemas %s, want the Error URN", method, path, got)
	}
	if got := m["status"]; got != fmt.Sprint(status) {
		t.Errorf("%s %s: status field %v, want %q", method, path, got, fmt.Sprint(status))
	}
	if got, _ := m["scimType"].(string); got != scimType {
		t.Errorf("%s %s: scimType %q, want %q (%v)", method, path, got, scimType, m["detail"])
	}
}

func (p *provisioned) owner(t *testing.T, method, path string, body any, want int) map[string]any {
	t.Helper()
	r := p.v1(t, "", method, path, body)
	if r.Status != want {
		t.Fatalf("owner %s %s: status %d, want %d: %s", method, path, r.Status, want, r.Raw)
	}
	if r.Raw == "" {
		return nil
	}
	return r.Map(t)
}

func filterQ(f string) string { return "filter=" + url.QueryEscape(f) }

func total(t *testing.T, m map[string]any) int {
	t.Helper()
	n, ok := m["totalResults"].(float64)
	if !ok {
		t.Fatalf("no totalResults in %v", m)
	}
	return int(n)
}

func groupIDs(m map[string]any) []string {
	var out []string
	for _, g := range m["groupIds"].([]any) {
		out = append(out, g.(string))
	}
	return out
}

// auditBy lists the audit entries of a provisioning token: actor provisioning:<id>, and the
// token's name in each entry.
func auditBy(t *testing.T, p *provisioned) []map[string]any {
	t.Helper()
	var out []map[string]any
	cursor := ""
	for {
		path := "/v1/audit?limit=100"
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		page := p.owner(t, "GET", path, nil, 200)
		for _, it := range page["items"].([]any) {
			e := it.(map[string]any)
			if e["actorId"] != "provisioning:"+p.tokenID {
				continue
			}
			after, _ := e["after"].(map[string]any)
			prov, _ := after["provisioning"].(map[string]any)
			if prov["tokenName"] == nil {
				t.Errorf("audit entry %v %v does not name the token", e["action"], e["targetId"])
			}
			out = append(out, e)
		}
		c, _ := page["nextCursor"].(string)
		if c == "" {
			return out
		}
		cursor = c
	}
}

func actions(entries []map[string]any) []string {
	var out []string
	for _, e := range entries {
		out = append(out, e["action"].(string))
	}
	return out
}

// TestEntraIDSequence replays what the Entra ID provisioning service sends: match by userName,
// create, update by PATCH with capitalised ops and filtered paths, deactivate and re-activate
// with string booleans, a group matched by displayName and created, members added and removed
// with value lists, and the hard delete; and checks the Tilgang side after each step.
func TestEntraIDSequence(t *testing.T) {
	stacks(t, func(t *testing.T, s stack) {
		p := withToken(t, s.newTenant(t), "Entra ID")
		email := apitest.UniqueEmail("ada")

		if m := p.must(t, "GET", "/scim/v2/Users?"+filterQ(`userName eq "`+email+`"`), nil, 200); total(t, m) != 0 {
			t.Fatalf("match before create: %v", m)
		}
		created := p.must(t, "POST", "/scim/v2/Users", map[string]any{
			"schemas":    []any{urnUser, urnEnterprise},
			"externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
			"userName":   email, "active": true, "displayName": "Ada Lovelace",
			"emails":       []any{map[string]any{"primary": true, "type": "work", "value": email}},
			"meta":         map[string]any{"resourceType": "User"},
			"name":         map[string]any{"formatted": "Ada Lovelace", "familyName": "Lovelace", "givenName": "Ada"},
			"roles":        []any{},
			"title":        "Analyst",
			"phoneNumbers": []any{map[string]any{"type": "work", "value": "+47 22 00 00 00"}},
			urnEnterprise:  map[string]any{"employeeNumber": "701984", "department": "Research"},
		}, 201)
		id := created["id"].(string)
		meta := created["meta"].(map[string]any)
		if meta["resourceType"] != "User" || !strings.HasSuffix(meta["location"].(string), "/scim/v2/Users/"+id) || meta["version"] != `W/"1"` {
			t.Errorf("meta = %v", meta)
		}
		u := p.owner(t, "GET", "/v1/users/"+id, nil, 200)
		if u["status"] != "active" || u["name"] != "Ada Lovelace" || u["email"] != email || u["phone"] != "+47 22 00 00 00" || len(groupIDs(u)) != 0 {
			t.Errorf("tilgang user after create = %v", u)
		}
		if m := p.must(t, "GET", "/scim/v2/Users?"+filterQ(`externalId eq "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef"`), nil, 200); total(t, m) != 1 {
			t.Errorf("externalId eq: %v", m)
		}

		newEmail := apitest.UniqueEmail("augusta")
		patched := p.must(t, "PATCH", "/scim/v2/Users/"+id, map[string]any{"schemas": []any{urnPatch}, "Operations": []any{
			map[string]any{"op": "Replace", "path": "userName", "value": newEmail},
			map[string]any{"op": "Replace", "path": "name.givenName", "value": "Augusta"},
			map[string]any{"op": "Replace", "path": `emails[type eq "work"].value`, "value": newEmail},
			map[string]any{"op": "Add", "path": `phoneNumbers[type eq "mobile"].value`, "value": "+47 900 00 000"},
			map[string]any{"op": "Replace", "path": urnEnterprise + ":employeeNumber", "value": "42"},
			map[string]any{"op": "Add", "path": urnEnterprise + ":manager", "value": "mgr-entra-1"},
		}}, 200)
		if got := patched[urnEnterprise].(map[string]any); got["employeeNumber"] != "42" || got["manager"].(map[string]any)["value"] != "mgr-entra-1" {
			t.Errorf("enterprise after patch = %v", got)
		}
		u = p.owner(t, "GET", "/v1/users/"+id, nil, 200)
		if u["name"] != "Augusta Lovelace" || u["email"] != newEmail || u["phone"] != "+47 22 00 00 00" {
			t.Errorf("tilgang user after patch = %v", u)
		}

		// Deactivate: the user's own requests are refused from the next one on.
		p.must(t, "PATCH", "/scim/v2/Users/"+id, map[string]any{"schemas": []any{urnPatch}, "Operations": []any{
			map[string]any{"op": "Replace", "path": "active", "value": "False"}}}, 200)
		if u = p.owner(t, "GET", "/v1/users/"+id, nil, 200); u["status"] != "deactivated" {
			t.Errorf("status after deactivate = %v", u["status"])
		}
		if r := p.v1(t, id, "GET", "/v1/me", nil); r.Status != 401 {
			t.Errorf("deactivated user's token: %d, want 401", r.Status)
		}
		p.must(t, "PATCH", "/scim/v2/Users/"+id, map[string]any{"schemas": []any{urnPatch}, "Operations": []any{
			map[string]any{"op": "Replace", "path": "active", "value": "True"}}}, 200)
		if u = p.owner(t, "GET", "/v1/users/"+id, nil, 200); u["status"] != "active" {
			t.Errorf("status after re-activate = %v", u["status"])
		}
		if r := p.v1(t, id, "GET", "/v1/me", nil); r.Status != 200 {
			t.Errorf("re-activated user's token: %d, want 200", r.Status)
		}

		// Groups: matched by displayName, created, members added and removed.
		if m := p.must(t, "GET", "/scim/v2/Groups?excludedAttributes=members&"+filterQ(`displayName eq "Therapists"`), nil, 200); total(t, m) != 0 {
			t.Fatalf("group match before create: %v", m)
		}
		g := p.must(t, "POST", "/scim/v2/Groups", map[string]any{"schemas": []any{urnGroup}, "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
			"displayName": "Therapists", "members": []any{}}, 201)
		gid := g["id"].(string)
		tg := p.owner(t, "GET", "/v1/groups/"+gid, nil, 200)
		if tg["name"] != "Therapists" {
			t.Errorf("tilgang group = %v", tg)
		}
		for area, perm := range tg["permissions"].(map[string]any) {
			if lvl := perm.(map[string]any)["level"]; lvl != "none" {
				t.Errorf("a directory group is created without rights; %s = %v", area, lvl)
			}
		}
		p.must(t, "PATCH", "/scim/v2/Groups/"+gid, map[string]any{"schemas": []any{urnPatch}, "Operations": []any{
			map[string]any{"op": "Add", "path": "members", "value": []any{map[string]any{"value": id}}}}}, 200)
		if u = p.owner(t, "GET", "/v1/users/"+id, nil, 200); !slices.Contains(groupIDs(u), gid) {
			t.Errorf("groups after member add = %v", u["groupIds"])
		}
		if m := p.must(t, "GET", "/scim/v2/Groups?excludedAttributes=members&"+filterQ(`id eq "`+gid+`" and members[value eq "`+id+`"]`), nil, 200); total(t, m) != 1 {
			t.Errorf("membership check: %v", m)
		} else if _, has := m["Resources"].([]any)[0].(map[string]any)["members"]; has {
			t.Errorf("excludedAttributes=members still lists members")
		}
		p.must(t, "PATCH", "/scim/v2/Groups/"+gid, map[string]any{"schemas": []any{urnPatch}, "Operations": []any{
			map[string]any{"op": "Remove", "path": "members", "value": []any{map[string]any{"value": id}}}}}, 200)
		if u = p.owner(t, "GET", "/v1/users/"+id, nil, 200); slices.Contains(groupIDs(u), gid) {
			t.Errorf("groups after member remove = %v", u["groupIds"])
		}

		// Delete: to the user bank, not anonymised.
		p.must(t, "DELETE", "/scim/v2/Users/"+id, nil, 204)
		if u = p.owner(t, "GET", "/v1/users/"+id, nil, 200); u["status"] != "removed" || u["email"] != newEmail {
			t.Errorf("tilgang user after delete = %v", u)
		}
		bank := p.owner(t, "GET", "/v1/user-bank", nil, 200)
		if !strings.Contains(fmt.Sprint(bank), id) {
			t.Errorf("deleted user not in the user bank: %v", bank)
		}
		p.scimError(t, "GET", "/scim/v2/Users/"+id, nil, 404, "")

		got := actions(auditBy(t, p))
		for _, want := range []string{"user.create", "user.update", "user.deactivate", "user.activate", "group.create",
			"user.groups.provision", "user.remove"} {
			if !slices.Contains(got, want) {
				t.Errorf("audit by the token lacks %s: %v", want, got)
			}
		}
	})
}

// TestOktaSequence replays what Okta sends: match by userName with paging, create, PUT of the
// whole user, deactivate and re-activate by a path-less replace, group push with members added
// and removed by a filtered path, rename by a path-less replace, group and user delete.
func TestOktaSequence(t *testing.T) {
	stacks(t, func(t *testing.T, s stack) {
		p := withToken(t, s.newTenant(t), "Okta")
		email := apitest.UniqueEmail("bob")
		if m := p.must(t, "GET", "/scim/v2/Users?"+filterQ(`userName eq "`+email+`"`)+"&startIndex=1&count=100", nil, 200); total(t, m) != 0 {
			t.Fatalf("match before create: %v", m)
		}
		user := map[string]any{
			"schemas": []any{urnUser}, "userName": email,
			"name":        map[string]any{"givenName": "Bob", "familyName": "Smith"},
			"emails":      []any{map[string]any{"primary": true, "value": email, "type": "work"}},
			"displayName": "Bob Smith", "locale": "en-US", "externalId": "00u1abcd", "groups": []any{},
			"password": "Xy9-not-kept", "active": true,
		}
		id := p.must(t, "POST", "/scim/v2/Users", user, 201)["id"].(string)
		got := p.must(t, "GET", "/scim/v2/Users/"+id, nil, 200)
		if got["userName"] != email || got["active"] != true || got["externalId"] != "00u1abcd" {
			t.Errorf("GET after create = %v", got)
		}

		user["id"] = id
		user["name"] = map[string]any{"givenName": "Robert", "familyName": "Smith"}
		user["phoneNumbers"] = []any{map[string]any{"value": "+1 415 555 0100", "type": "mobile", "primary": true}}
		p.must(t, "PUT", "/scim/v2/Users/"+id, user, 200)
		u := p.owner(t, "GET", "/v1/users/"+id, nil, 200)
		if u["name"] != "Robert Smith" || u["phone"] != "+1 415 555 0100" || u["status"] != "active" {
			t.Errorf("tilgang user after PUT = %v", u)
		}

		for _, active := range []bool{false, true} {
			p.must(t, "PATCH", "/scim/v2/Users/"+id, map[string]any{"schemas": []any{urnPatch}, "Operations": []any{
				map[string]any{"op": "replace", "value": map[string]any{"active": active}}}}, 200)
			want := map[bool]string{false: "deactivated", true: "active"}[active]
			if u = p.owner(t, "GET", "/v1/users/"+id, nil, 200); u["status"] != want {
				t.Errorf("status after active=%v: %v", active, u["status"])
			}
		}

		g := p.must(t, "POST", "/scim/v2/Groups", map[string]any{"schemas": []any{urnGroup}, "displayName": "Okta Staff", "members": []any{}}, 201)
		gid := g["id"].(string)
		p.must(t, "PATCH", "/scim/v2/Groups/"+gid, map[string]any{"schemas": []any{urnPatch}, "Operations": []any{
			map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": id, "display": email}}}}}, 200)
		if u = p.owner(t, "GET", "/v1/users/"+id, nil, 200); !slices.Contains(groupIDs(u), gid) {
			t.Errorf("groups after add = %v", u["groupIds"])
		}
		grp := p.must(t, "GET", "/scim/v2/Groups/"+gid, nil, 200)
		if ms, _ := grp["members"].([]any); len(ms) != 1 || ms[0].(map[string]any)["value"] != id {
			t.Errorf("members = %v", grp["members"])
		}
		p.must(t, "PATCH", "/scim/v2/Groups/"+gid, map[string]any{"schemas": []any{urnPatch}, "Operations": []any{
			map[string]any{"op": "remove", "path": `members[value eq "` + id + `"]`}}}, 200)
		if u = p.owner(t, "GET", "/v1/users/"+id, nil, 200); slices.Contains(groupIDs(u), gid) {
			t.Errorf("groups after remove = %v", u["groupIds"])
		}
		p.must(t, "PATCH", "/scim/v2/Groups/"+gid, map[string]any{"schemas": []any{urnPatch}, "Operations": []any{
			map[string]any{"op": "replace", "value": map[string]any{"id": gid, "displayName": "Okta Staff 2"}}}}, 200)
		if tg := p.owner(t, "GET", "/v1/groups/"+gid, nil, 200); tg["name"] != "Okta Staff 2" {
			t.Errorf("group after rename = %v", tg["name"])
		}
		m := p.must(t, "GET", "/scim/v2/Groups?"+filterQ(`displayName eq "okta staff 2"`)+"&excludedAttributes=members", nil, 200)
		if total(t, m) != 1 {
			t.Errorf("displayName eq (case-insensitive) = %v", m)
		}
		p.must(t, "DELETE", "/scim/v2/Groups/"+gid, nil, 204)
		p.owner(t, "GET", "/v1/groups/"+gid, nil, 404)

		p.must(t, "DELETE", "/scim/v2/Users/"+id, nil, 204)
		if u = p.owner(t, "GET", "/v1/users/"+id, nil, 200); u["status"] != "removed" {
			t.Errorf("status after delete = %v", u["status"])
		}
		if got := actions(auditBy(t, p)); !slices.Contains(got, "group.delete") || !slices.Contains(got, "user.remove") {
			t.Errorf("audit by the token = %v", got)
		}
	})
}

// TestBadRequestsGetSCIMErrors checks the SCIM error documents and their scimType.
func TestBadRequestsGetSCIMErrors(t *testing.T) {
	s := eventStack{env: apitest.New(t)}
	p := withToken(t, s.newTenant(t), "Entra ID")
	email := apitest.UniqueEmail("err")
	id := p.must(t, "POST", "/scim/v2/Users", map[string]any{"schemas": []any{urnUser}, "userName": email,
		"name": map[string]any{"givenName": "E", "familyName": "R"}}, 201)["id"].(string)
	patch := func(ops ...any) map[string]any { return map[string]any{"schemas": []any{urnPatch}, "Operations": ops} }

	for _, tt := range []struct {
		name, method, path string
		body               any
		status             int
		scimType           string
	}{
		{"filter syntax", "GET", "/scim/v2/Users?" + filterQ(`userName eq`), nil, 400, "invalidFilter"},
		{"filter not indexed", "GET", "/scim/v2/Users?" + filterQ(`title eq "x"`), nil, 400, "invalidFilter"},
		{"filter sw on userName", "GET", "/scim/v2/Users?" + filterQ(`userName sw "a"`), nil, 400, "invalidFilter"},
		{"filter or with a side not indexed", "GET", "/scim/v2/Users?" + filterQ(`externalId eq "a" or active eq true`), nil, 400, "invalidFilter"},
		{"filter not", "GET", "/scim/v2/Groups?" + filterQ(`not (displayName eq "a")`), nil, 400, "invalidFilter"},
		{"no userName", "POST", "/scim/v2/Users", map[string]any{"schemas": []any{urnUser}, "active": true}, 400, "invalidValue"},
		{"bad email", "POST", "/scim/v2/Users", map[string]any{"userName": "not an email"}, 400, "invalidValue"},
		{"userName taken", "POST", "/scim/v2/Users", map[string]any{"userName": strings.ToUpper(email)}, 409, "uniqueness"},
		{"not JSON", "POST", "/scim/v2/Users", "{", 400, "invalidSyntax"},
		{"active not boolean", "POST", "/scim/v2/Users", map[string]any{"userName": apitest.UniqueEmail("x"), "active": "maybe"}, 400, "invalidValue"},
		{"bad phone", "POST", "/scim/v2/Users", map[string]any{"userName": apitest.UniqueEmail("x"), "phoneNumbers": []any{map[string]any{"value": "call me"}}}, 400, "invalidValue"},
		{"no Operations", "PATCH", "/scim/v2/Users/" + id, map[string]any{"schemas": []any{urnPatch}}, 400, "invalidSyntax"},
		{"unknown op", "PATCH", "/scim/v2/Users/" + id, patch(map[string]any{"op": "frobnicate", "path": "title", "value": "x"}), 400, "invalidSyntax"},
		{"remove without path", "PATCH", "/scim/v2/Users/" + id, patch(map[string]any{"op": "remove"}), 400, "noTarget"},
		{"bad path", "PATCH", "/scim/v2/Users/" + id, patch(map[string]any{"op": "replace", "path": `emails[type eq`, "value": "x"}), 400, "invalidPath"},
		{"id is immutable", "PATCH", "/scim/v2/Users/" + id, patch(map[string]any{"op": "replace", "path": "id", "value": "x"}), 400, "mutability"},
		{"path-less value not an object", "PATCH", "/scim/v2/Users/" + id, patch(map[string]any{"op": "replace", "value": "x"}), 400, "invalidValue"},
		{"active string not boolean", "PATCH", "/scim/v2/Users/" + id, patch(map[string]any{"op": "Replace", "path": "active", "value": "Nope"}), 400, "invalidValue"},
		{"group without name", "POST", "/scim/v2/Groups", map[string]any{"members": []any{}}, 400, "invalidValue"},
		{"unknown member", "POST", "/scim/v2/Groups", map[string]any{"displayName": "G", "members": []any{map[string]any{"value": "u_nobody"}}}, 400, "invalidValue"},
		{"unknown user", "GET", "/scim/v2/Users/u_nobody", nil, 404, ""},
		{"stale If-Match", "PUT", "/scim/v2/Users/" + id, map[string]any{"userName": email}, 412, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.name == "stale If-Match" {
				r := p.scim(t, p.token, tt.method, tt.path, tt.body, "If-Match", `W/"99"`)
				if r.Status != 412 {
					t.Errorf("status %d, want 412: %s", r.Status, r.Raw)
				}
				return
			}
			p.scimError(t, tt.method, tt.path, tt.body, tt.status, tt.scimType)
		})
	}
	// A rename with a bad member writes nothing, the rename included.
	gid := p.must(t, "POST", "/scim/v2/Groups", map[string]any{"displayName": "Kept"}, 201)["id"].(string)
	p.scimError(t, "PATCH", "/scim/v2/Groups/"+gid, patch(
		map[string]any{"op": "replace", "path": "displayName", "value": "Renamed"},
		map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": "u_nobody"}}}), 400, "invalidValue")
	if g := p.must(t, "GET", "/scim/v2/Groups/"+gid, nil, 200); g["displayName"] != "Kept" {
		t.Errorf("a refused PATCH renamed the group to %v", g["displayName"])
	}
	// Nothing of the refused creates was written.
	if m := p.must(t, "GET", "/scim/v2/Users", nil, 200); total(t, m) != 1 {
		t.Errorf("users after refused creates: %v", m["totalResults"])
	}
}

// TestTokens: only the owner manages tokens; the secret is shown once; a wrong or revoked
// token is 401; a token reaches its own tenant only.
func TestTokens(t *testing.T) {
	stacks(t, func(t *testing.T, s stack) {
		ten := s.newTenant(t)
		p := withToken(t, ten, "Entra ID")
		list := p.owner(t, "GET", "/v1/scim-tokens", nil, 200)
		items := list["items"].([]any)
		if len(items) != 1 || items[0].(map[string]any)["name"] != "Entra ID" {
			t.Errorf("tokens = %v", list)
		}
		if _, has := items[0].(map[string]any)["secret"]; has || strings.Contains(fmt.Sprint(list), p.token) {
			t.Error("the token list shows a secret")
		}
		// An administrator is not the owner.
		admin := p.owner(t, "POST", "/v1/users", map[string]any{"name": "Admin", "email": apitest.UniqueEmail("adm"),
			"profession": "other", "roles": []any{"main_admin"}}, 201)["id"].(string)
		if r := p.v1(t, admin, "POST", "/v1/scim-tokens", map[string]any{"name": "x"}); r.Status != 403 {
			t.Errorf("main_admin creates a token: %d, want 403", r.Status)
		}
		if r := p.v1(t, admin, "GET", "/v1/scim-tokens", nil); r.Status != 403 {
			t.Errorf("main_admin lists tokens: %d, want 403", r.Status)
		}

		for _, tok := range []string{"", "tlgscim_wrong", "not-even-a-scim-token"} {
			r := p.scim(t, tok, "GET", "/scim/v2/Users", nil)
			if r.Status != 401 || !strings.Contains(r.Raw, urnError) {
				t.Errorf("token %q: %d %s, want a 401 SCIM error", tok, r.Status, r.Raw)
			}
		}
		p.must(t, "GET", "/scim/v2/ServiceProviderConfig", nil, 200)

		// Another tenant's token does not see this tenant's users.
		other := withToken(t, s.newTenant(t), "Okta")
		id := p.must(t, "POST", "/scim/v2/Users", map[string]any{"userName": apitest.UniqueEmail("t")}, 201)["id"].(string)
		other.scimError(t, "GET", "/scim/v2/Users/"+id, nil, 404, "")
		other.scimError(t, "PATCH", "/scim/v2/Users/"+id, map[string]any{"Operations": []any{map[string]any{"op": "replace", "path": "active", "value": false}}}, 404, "")
		other.scimError(t, "DELETE", "/scim/v2/Users/"+id, nil, 404, "")
		if m := other.must(t, "GET", "/scim/v2/Users", nil, 200); total(t, m) != 0 {
			t.Errorf("another tenant's list = %v", m)
		}

		p.owner(t, "DELETE", "/v1/scim-tokens/"+p.tokenID, nil, 204)
		if r := p.scim(t, p.token, "GET", "/scim/v2/Users", nil); r.Status != 401 {
			t.Errorf("revoked token: %d, want 401", r.Status)
		}
		p.owner(t, "DELETE", "/v1/scim-tokens/"+p.tokenID, nil, 404)
	})
}

// TestSCIMTokenReachesNothingOutsideSCIM: on /v1 a provisioning token is no JWT: 401.
func TestSCIMTokenReachesNothingOutsideSCIM(t *testing.T) {
	s := newHTTPStack(t)
	p := withToken(t, s.newTenant(t), "Entra ID")
	for _, path := range []string{"/v1/me", "/v1/users", "/v1/scim-tokens"} {
		if r := s.do(t, p.token, "GET", path, "", nil); r.Status != 401 {
			t.Errorf("GET %s with a SCIM token: %d, want 401", path, r.Status)
		}
	}
}

// TestProvisioningCannotEscalate: the directory never reaches the owner, never changes an
// administrator but to deactivate them, never manages groups made in Tilgang, and never gives
// rights; a directory group's rights come from an administrator, its members from the directory.
func TestProvisioningCannotEscalate(t *testing.T) {
	s := eventStack{env: apitest.New(t)}
	ten := s.newTenant(t)
	p := withToken(t, ten, "Entra ID")
	ownerEmail := p.owner(t, "GET", "/v1/users/"+ten.OwnerID, nil, 200)["email"].(string)

	p.scimError(t, "GET", "/scim/v2/Users/"+ten.OwnerID, nil, 404, "")
	if m := p.must(t, "GET", "/scim/v2/Users?"+filterQ(`userName eq "`+ownerEmail+`"`), nil, 200); total(t, m) != 0 {
		t.Errorf("the owner is visible to the directory: %v", m)
	}
	p.scimError(t, "PATCH", "/scim/v2/Users/"+ten.OwnerID, map[string]any{"Operations": []any{map[string]any{"op": "replace", "path": "active", "value": false}}}, 404, "")
	p.scimError(t, "DELETE", "/scim/v2/Users/"+ten.OwnerID, nil, 404, "")
	if u := p.owner(t, "GET", "/v1/users/"+ten.OwnerID, nil, 200); u["status"] != "active" {
		t.Fatalf("owner status = %v", u["status"])
	}

	// An administrator: the directory may deactivate them, not change them or re-activate them.
	adminEmail := apitest.UniqueEmail("admin")
	admin := p.owner(t, "POST", "/v1/users", map[string]any{"name": "Admin", "email": adminEmail, "profession": "other",
		"roles": []any{"admin"}}, 201)["id"].(string)
	p.scimError(t, "PATCH", "/scim/v2/Users/"+admin, map[string]any{"Operations": []any{map[string]any{"op": "replace", "path": "userName", "value": apitest.UniqueEmail("evil")}}}, 403, "")
	if u := p.owner(t, "GET", "/v1/users/"+admin, nil, 200); u["email"] != adminEmail {
		t.Errorf("admin email changed to %v", u["email"])
	}
	p.must(t, "PATCH", "/scim/v2/Users/"+admin, map[string]any{"Operations": []any{map[string]any{"op": "replace", "path": "active", "value": false}}}, 200)
	p.scimError(t, "PATCH", "/scim/v2/Users/"+admin, map[string]any{"Operations": []any{map[string]any{"op": "replace", "path": "active", "value": true}}}, 403, "")

	// A group made in Tilgang is not the directory's.
	adminGroup := p.owner(t, "POST", "/v1/groups", map[string]any{"name": "Administrators", "permissions": map[string]any{"users": map[string]any{"level": "delete"}}}, 201)["id"].(string)
	p.scimError(t, "GET", "/scim/v2/Groups/"+adminGroup, nil, 404, "")
	p.scimError(t, "PATCH", "/scim/v2/Groups/"+adminGroup, map[string]any{"Operations": []any{map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": admin}}}}}, 404, "")
	p.scimError(t, "DELETE", "/scim/v2/Groups/"+adminGroup, nil, 404, "")
	if m := p.must(t, "GET", "/scim/v2/Groups", nil, 200); total(t, m) != 0 {
		t.Errorf("Tilgang's groups listed to the directory: %v", m)
	}

	// A directory group given rights by the owner: the directory decides who is in it.
	uid := p.must(t, "POST", "/scim/v2/Users", map[string]any{"userName": apitest.UniqueEmail("nurse")}, 201)["id"].(string)
	gid := p.must(t, "POST", "/scim/v2/Groups", map[string]any{"displayName": "Nurses"}, 201)["id"].(string)
	p.owner(t, "PATCH", "/v1/groups/"+gid, map[string]any{"permissions": map[string]any{"clients": map[string]any{"level": "edit", "scope": "own"}}}, 200)
	p.must(t, "PATCH", "/scim/v2/Groups/"+gid, map[string]any{"Operations": []any{map[string]any{"op": "Add", "path": "members", "value": []any{map[string]any{"value": uid}}}}}, 200)
	perms := p.owner(t, "GET", "/v1/users/"+uid+"/permissions", nil, 200)["permissions"].(map[string]any)
	if lvl := perms["clients"].(map[string]any)["level"]; lvl != "edit" {
		t.Errorf("member's clients level = %v, want edit from the directory group", lvl)
	}
	// But never an administrator into it.
	p.scimError(t, "PATCH", "/scim/v2/Groups/"+gid, map[string]any{"Operations": []any{map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": admin}}}}}, 403, "")
}

// TestListsAndFilters: paging with startIndex/count and totalResults, the indexed operators.
func TestListsAndFilters(t *testing.T) {
	s := eventStack{env: apitest.New(t)}
	p := withToken(t, s.newTenant(t), "Okta")
	var ids []string
	for i := range 5 {
		ids = append(ids, p.must(t, "POST", "/scim/v2/Users", map[string]any{"userName": apitest.UniqueEmail("list"),
			"externalId": fmt.Sprintf("ext-%d-%s", i, map[bool]string{true: "even", false: "odd"}[i%2 == 0])}, 201)["id"].(string))
	}
	m := p.must(t, "GET", "/scim/v2/Users?startIndex=2&count=2", nil, 200)
	if total(t, m) != 5 || m["itemsPerPage"] != float64(2) || m["startIndex"] != float64(2) || len(m["Resources"].([]any)) != 2 {
		t.Errorf("page = %v", m)
	}
	for _, tt := range []struct {
		filter string
		want   int
	}{
		{`externalId eq "ext-1-odd"`, 1},
		{`externalId sw "ext-"`, 5},
		{`externalId co "even"`, 3},
		{`externalId pr`, 5},
		{`externalId sw "ext-" and externalId co "odd"`, 2},
		{`externalId eq "ext-0-even" or externalId eq "ext-1-odd"`, 2},
		{`externalId co "even" and active eq true`, 3},
		{`id eq "` + ids[3] + `"`, 1},
		{`externalId eq "EXT-1-ODD"`, 0}, // externalId is case-exact
	} {
		if got := total(t, p.must(t, "GET", "/scim/v2/Users?"+filterQ(tt.filter), nil, 200)); got != tt.want {
			t.Errorf("%s: %d results, want %d", tt.filter, got, tt.want)
		}
	}
	m = p.must(t, "GET", "/scim/v2/Users?attributes=userName&"+filterQ(`id eq "`+ids[0]+`"`), nil, 200)
	res := m["Resources"].([]any)[0].(map[string]any)
	if _, has := res["name"]; has || res["userName"] == nil || res["id"] == nil {
		t.Errorf("attributes=userName gave %v", res)
	}
	for _, path := range []string{"/scim/v2/ResourceTypes", "/scim/v2/ResourceTypes/User", "/scim/v2/Schemas",
		"/scim/v2/Schemas/" + urnEnterprise, "/scim/v2/ServiceProviderConfig"} {
		p.must(t, "GET", path, nil, 200)
	}
}

// TestAnonymisationForgetsTheDirectoryRecord: what the directory said about a person (names,
// employee number, externalId) is personal data and goes with the anonymisation.
func TestAnonymisationForgetsTheDirectoryRecord(t *testing.T) {
	s := eventStack{env: apitest.New(t)}
	p := withToken(t, s.newTenant(t), "Entra ID")
	id := p.must(t, "POST", "/scim/v2/Users", map[string]any{"userName": apitest.UniqueEmail("gone"), "externalId": "ext-gone",
		"name": map[string]any{"givenName": "Gone", "familyName": "Person"}, urnEnterprise: map[string]any{"employeeNumber": "9"}}, 201)["id"].(string)
	// The export (GDPR Art. 15) includes it.
	x := p.owner(t, "GET", "/v1/users/"+id+"/export", nil, 200)
	if d, _ := x["directory"].(map[string]any); d["employeeNumber"] != "9" || d["externalId"] != "ext-gone" || d["givenName"] != "Gone" {
		t.Errorf("export's directory = %v", x["directory"])
	}
	p.must(t, "DELETE", "/scim/v2/Users/"+id, nil, 204)
	recs, err := s.env.App.Store.GetDirectoryUsers(t.Context(), p.ID, []string{id})
	if err != nil || recs[id].EmployeeNumber != "9" {
		t.Fatalf("record after removal to the bank = %v, %v (kept: the user can be restored)", recs, err)
	}
	p.owner(t, "POST", "/v1/users/"+id+"/anonymise", nil, 200)
	if recs, err = s.env.App.Store.GetDirectoryUsers(t.Context(), p.ID, []string{id}); err != nil || len(recs) != 0 {
		t.Errorf("record after anonymisation = %v, %v", recs, err)
	}
	if m := p.must(t, "GET", "/scim/v2/Users?"+filterQ(`externalId eq "ext-gone"`), nil, 200); total(t, m) != 0 {
		t.Errorf("externalId still found: %v", m)
	}
}
