package scim

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/tilgang/tilgang/shared/access"
)

func mustJSON(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestPatchShapes applies the operations real clients send to a rendered user and reads the
// result back.
func TestPatchShapes(t *testing.T) {
	base := access.ProvisionedUser{
		User: access.User{ID: "u1", Name: "Ada Lovelace", Email: "ada@example.com", Phone: "+47 1", Status: access.StatusActive,
			Version: 3, CreatedAt: time.Unix(0, 0), UpdatedAt: time.Unix(0, 0)},
		Directory: access.DirectoryUser{GivenName: "Ada", FamilyName: "Lovelace", ExternalID: "e1"},
	}
	for _, tt := range []struct {
		name string
		ops  string
		want func(u *access.ProvisionedUser)
	}{
		{"nothing changes when read back", `[{"op":"replace","path":"title","value":null}]`, func(*access.ProvisionedUser) {}},
		{"Entra: capitalised op, string boolean", `[{"op":"Replace","path":"active","value":"False"}]`,
			func(u *access.ProvisionedUser) { u.User.Status = access.StatusDeactivated }},
		{"Okta: path-less replace with an object", `[{"op":"replace","value":{"active":false}}]`,
			func(u *access.ProvisionedUser) { u.User.Status = access.StatusDeactivated }},
		{"path-less with dotted and extension keys", `[{"op":"Add","value":{"name.givenName":"Augusta","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber":"7"}}]`,
			func(u *access.ProvisionedUser) {
				u.Directory.GivenName, u.User.Name, u.Directory.EmployeeNumber = "Augusta", "Augusta Lovelace", "7"
			}},
		{"extension object in a path-less value", `[{"op":"replace","value":{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"R&D"}}}]`,
			func(u *access.ProvisionedUser) { u.Directory.Department = "R&D" }},
		{"Entra manager as a string", `[{"op":"Add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":"m1"}]`,
			func(u *access.ProvisionedUser) { u.Directory.ManagerID = "m1" }},
		{"filtered path replaces the work email's value only", `[{"op":"Replace","path":"emails[type eq \"work\"].value","value":"x@example.com"}]`,
			func(*access.ProvisionedUser) {}}, // userName stays the email
		{"filtered add creates the element", `[{"op":"Add","path":"phoneNumbers[type eq \"mobile\"].value","value":"+47 2"}]`,
			func(*access.ProvisionedUser) {}}, // the work phone stays the one kept
		{"remove a filtered element", `[{"op":"Remove","path":"phoneNumbers[type eq \"work\"]"}]`,
			func(u *access.ProvisionedUser) { u.User.Phone = "" }},
		{"remove an attribute", `[{"op":"remove","path":"externalId"}]`,
			func(u *access.ProvisionedUser) { u.Directory.ExternalID = "" }},
		{"userName case-insensitive attribute name", `[{"op":"replace","path":"USERNAME","value":"b@example.com"}]`,
			func(u *access.ProvisionedUser) { u.User.Email = "b@example.com" }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := userJSON(base, "https://x/scim/v2")
			var ops []any
			if err := json.Unmarshal([]byte(tt.ops), &ops); err != nil {
				t.Fatal(err)
			}
			parsed, err := patchOps(map[string]any{"Operations": ops})
			if err != nil {
				t.Fatal(err)
			}
			for _, op := range parsed {
				if err := applyPatch(res, URNUser, op); err != nil {
					t.Fatal(err)
				}
			}
			got, err := parseUser(res, &base)
			if err != nil {
				t.Fatal(err)
			}
			want := access.ProvisionedUser{User: access.User{Name: base.User.Name, Email: base.User.Email, Phone: base.User.Phone,
				Status: base.User.Status}, Directory: base.Directory}
			tt.want(&want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got  %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestGroupMembersPatchShapes(t *testing.T) {
	res := mustJSON(t, `{"members":[{"value":"u1"},{"value":"u2"},{"value":"u3"}]}`)
	for _, op := range []patchOp{
		{Op: "remove", Path: "members", Value: []any{map[string]any{"value": "u1"}}},
		{Op: "remove", Path: `members[value eq "u2"]`},
		{Op: "add", Path: "members", Value: []any{map[string]any{"value": "u3"}, map[string]any{"value": "u4"}}},
	} {
		if err := applyPatch(res, URNGroup, op); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	for _, m := range res["members"].([]any) {
		v, _ := valueOf(m)
		got = append(got, v)
	}
	if want := []string{"u3", "u4"}; !reflect.DeepEqual(got, want) {
		t.Errorf("members = %v, want %v", got, want)
	}
}

func TestEval(t *testing.T) {
	res := mustJSON(t, `{"userName":"Ada@Example.com","externalId":"E1","active":true,
		"emails":[{"value":"ada@example.com","type":"work"}],
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"7"}}`)
	for _, tt := range []struct {
		filter string
		want   bool
	}{
		{`userName eq "ada@example.com"`, true}, // case-insensitive
		{`externalId eq "e1"`, false},           // case-exact
		{`active eq true`, true},
		{`active eq "True"`, true},
		{`emails[type eq "work" and value co "ada"]`, true},
		{`emails.value sw "ada"`, true},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "7"`, true},
		{`title pr`, false},
		{`not (title pr)`, true},
		{`userName ew ".com" and (externalId eq "x" or active eq true)`, true},
	} {
		e, err := parseFilter(tt.filter)
		if err != nil {
			t.Fatalf("%s: %v", tt.filter, err)
		}
		if got := eval(e, res); got != tt.want {
			t.Errorf("%s = %v, want %v", tt.filter, got, tt.want)
		}
	}
}
