package people_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/tilgang/tilgang/shared/access"
)

// A person exports their own data; the owner and main administrators export anyone's (seed:
// the right of access); nobody else exports a colleague's, whatever else they may do to them.
func TestWhoMayExportWhom(t *testing.T) {
	e := newEnv(t)
	mainAdmin := e.withRole(access.RoleMainAdmin)
	admin := e.withRole(access.RoleAdmin)
	employee := e.employee.User.ID
	for _, tc := range []struct {
		name string
		by   *access.Caller
		whom string
		want access.Code
	}{
		{"an employee themselves", e.employee, employee, "ok"},
		{"the owner, anyone", e.owner, employee, "ok"},
		{"a main administrator, anyone", mainAdmin, employee, "ok"},
		{"an administrator, a colleague", admin, employee, access.CodeForbidden},
		{"a user manager, a colleague", e.manager, employee, access.CodeForbidden},
		// Who cannot see other users does not learn they exist.
		{"an employee, a colleague", e.employee, e.manager.User.ID, access.CodeNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := e.People.ExportUser(e.Ctx, tc.by, tc.whom); code(err) != tc.want {
				t.Errorf("got %s, want %s", code(err), tc.want)
			}
		})
	}
}

// A person's export holds what is held about them (profile, groups, calendar, links, what a
// directory said, the audit entries about them or by them, the export itself) and nothing
// personal about colleagues they acted on or who acted on them.
func TestExportHoldsTheirDataAndNobodyElses(t *testing.T) {
	e := newEnv(t)
	recipient := e.Client(e.owner)
	// The manager creates an assistant and edits a colleague: the manager's export lists those
	// acts without the colleagues' personal data.
	asst := e.User(e.manager, access.NewUser{Name: "Zelda Zed", Email: "zelda@example.com", Phone: "+47 22 33 44 55",
		Roles: []access.Role{access.RoleAssistant}, Profession: access.ProfessionAssistant,
		Link: &access.NewLink{ClientID: recipient.ID, EmploymentRate: 80, EmploymentNumber: "Z-99", Color: "#123456"}}).User
	if _, err := e.People.UpdateUser(e.Ctx, e.manager, e.employee.User.ID, access.UserPatch{Name: ptr("Ingrid Secret"), Phone: ptr("+47 99 88 77 66")}, nil); err != nil {
		t.Fatal(err)
	}
	scim := e.Provisioner(e.owner)
	dir, err := e.SCIM.CreateProvisionedUser(e.Ctx, scim, access.ProvisionedUser{
		User:      access.User{Name: "Dag Directory", Email: "dag@example.com", Status: access.StatusActive},
		Directory: access.DirectoryUser{ExternalID: "ext-dag", EmployeeNumber: "E-7", Department: "Care"}})
	if err != nil {
		t.Fatal(err)
	}
	manager := e.manager.User
	zelda := []string{"Zelda", "zelda@example.com", "+47 22 33 44 55", "Z-99"}
	ingrid := []string{"Ingrid Secret", "+47 99 88 77 66"}
	for _, tc := range []struct {
		name    string
		id      string
		check   func(t *testing.T, x access.Export)
		others  []string // personal data of colleagues that must not appear
		actions []string // audit actions that must be there
	}{
		{"the manager", manager.ID, func(t *testing.T, x access.Export) {
			if len(x.Groups) != 1 || x.Groups[0].ID != e.managers.ID {
				t.Errorf("groups = %+v, want the managers' group", x.Groups)
			}
			if len(x.Calendars) != 1 || x.Calendars[0].ID != manager.CalendarIDs[0] {
				t.Errorf("calendars = %+v, want their own %v", x.Calendars, manager.CalendarIDs)
			}
		}, append(slices.Clone(zelda), ingrid...), []string{"user.create", "user.update", "link.create", "user.export"}},
		{"the assistant", asst.ID, func(t *testing.T, x access.Export) {
			if x.User.Email != "zelda@example.com" || len(x.Links) != 1 || x.Links[0].EmploymentNumber != "Z-99" {
				t.Errorf("profile and links = %q %+v, want hers", x.User.Email, x.Links)
			}
		}, append([]string{manager.Name, manager.Email}, ingrid...), []string{"user.create", "link.create", "user.export"}},
		{"the provisioned user", dir.User.ID, func(t *testing.T, x access.Export) {
			if x.Directory == nil || x.Directory.EmployeeNumber != "E-7" {
				t.Errorf("directory record = %+v, want what the directory said", x.Directory)
			}
		}, append(slices.Clone(zelda), ingrid...), []string{"user.create", "user.export"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x, err := e.People.ExportUser(e.Ctx, e.owner, tc.id)
			if err != nil {
				t.Fatal(err)
			}
			if x.User.ID != tc.id || x.Anonymised {
				t.Errorf("export of %s, anonymised %v; want %s", x.User.ID, x.Anonymised, tc.id)
			}
			tc.check(t, x)
			var actions []string
			for _, a := range x.Audit {
				actions = append(actions, a.Action)
			}
			for _, want := range tc.actions {
				if !slices.Contains(actions, want) {
					t.Errorf("audit actions %v lack %s", actions, want)
				}
			}
			raw, err := json.Marshal(x)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range tc.others {
				if strings.Contains(string(raw), s) {
					t.Errorf("the export holds %q of someone else", s)
				}
			}
		})
	}

	// Once anonymised, only the anonymised remains are exported.
	if _, err := e.People.RemoveUser(e.Ctx, e.owner, asst.ID, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := e.People.AnonymiseUser(e.Ctx, e.owner, asst.ID, nil); err != nil {
		t.Fatal(err)
	}
	x, err := e.People.ExportUser(e.Ctx, e.owner, asst.ID)
	if err != nil || !x.Anonymised || x.User.Name != access.Anonymised || len(x.Audit)+len(x.Links)+len(x.Groups) != 0 {
		t.Errorf("export after anonymisation = %q anonymised %v, %d audit %d links, %v; want the remains only",
			x.User.Name, x.Anonymised, len(x.Audit), len(x.Links), err)
	}
}
