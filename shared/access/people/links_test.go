package people_test

import (
	"fmt"
	"testing"

	"github.com/tilgang/tilgang/shared/access"
	"github.com/tilgang/tilgang/shared/access/accesstest"
)

// linkEnv adds to env an assistant linked to one care recipient, with the employment number
//
type linkEnv struct {
	*env
	assistant *access.Caller
	recipient access.Client
}

func newLinkEnv(t *testing.T) *linkEnv {
	e := &linkEnv{env: newEnv(t)}
	e.recipient = e.Client(e.owner)
	e.assistant = e.assistantOf(e.recipient, "A-1")
	return e
}

func (e *linkEnv) assistantOf(cl access.Client, number string) *access.Caller {
	return e.User(e.owner, access.NewUser{Roles: []access.Role{access.RoleAssistant}, Profession: access.ProfessionAssistant,
		Link: &access.NewLink{ClientID: cl.ID, EmploymentRate: 50, EmploymentNumber: number, Color: "#112233"}})
}

func newLink(clientID, number string) access.NewLink {
	return access.NewLink{ClientID: clientID, EmploymentRate: 40, EmploymentNumber: number, Color: "#AABBCC"}
}

// Links are administrative access (seed 003): team leads, administrators and user managers
// link assistants to recipients; the assistant and other employees do not.
func TestWhoMayLinkAnAssistant(t *testing.T) {
	e := newLinkEnv(t)
	teamLead := e.withRole(access.RoleTeamLead)
	admin := e.withRole(access.RoleAdmin)
	for i, tc := range []struct {
		name string
		by   *access.Caller
		want access.Code
	}{
		{"the owner", e.owner, "ok"},
		{"an administrator", admin, "ok"},
		{"a team lead", teamLead, "ok"},
		{"a user manager", e.manager, "ok"},
		{"an employee", e.employee, access.CodeForbidden},
		{"the assistant themselves", e.assistant, access.CodeForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cl := e.Client(e.owner)
			_, err := e.People.AddLink(e.Ctx, tc.by, e.assistant.User.ID, newLink(cl.ID, fmt.Sprintf("B-%d", i)))
			if got := code(err); got != tc.want {
				t.Errorf("add: got %s, want %s", got, tc.want)
			}
			_, err = e.People.RemoveLink(e.Ctx, tc.by, e.assistant.User.ID, e.recipient.ID, nil)
			if tc.want == "ok" {
				// Put it back for the next caller: re-adding a removed link is how it returns.
				if err == nil {
					_, err = e.People.AddLink(e.Ctx, e.owner, e.assistant.User.ID, newLink(e.recipient.ID, "A-1"))
				}
				if err != nil {
					t.Errorf("remove and re-add: %v", err)
				}
			} else if got := code(err); got != tc.want {
				t.Errorf("remove: got %s, want %s", got, tc.want)
			}
		})
	}
}

// A link joins an assistant to one recipient once: a second link to the same recipient is a
// conflict, only assistants have links, and an ended link comes back by adding it again.
func TestOneLinkPerAssistantAndRecipient(t *testing.T) {
	e := newLinkEnv(t)
	other := e.Client(e.owner)
	asst, rec := e.assistant.User.ID, e.recipient.ID
	removed := e.assistantOf(other, "R-1").User.ID
	if _, err := e.People.RemoveUser(e.Ctx, e.owner, removed, nil); err != nil {
		t.Fatal(err)
	}
	theirs := e.Client(e.Tenant())
	for _, tc := range []struct {
		name  string
		user  string
		in    access.NewLink
		want  access.Code
		field string
	}{
		{"the same recipient again", asst, newLink(rec, "A-2"), access.CodeConflict, ""},
		{"a user without the assistant role", e.employee.User.ID, newLink(rec, "E-1"), access.CodeConflict, ""},
		{"a removed assistant", removed, newLink(rec, "R-2"), access.CodeConflict, ""},
		{"an employment number in use", asst, newLink(other.ID, "a-1"), access.CodeConflict, ""},
		{"an unknown recipient", asst, newLink("c_00999999", "A-3"), access.CodeInvalid, "clientId"},
		{"another tenant's recipient", asst, newLink(theirs.ID, "A-3"), access.CodeInvalid, "clientId"},
		{"no recipient", asst, newLink("", "A-3"), access.CodeInvalid, "clientId"},
		{"rate above 100", asst, access.NewLink{ClientID: other.ID, EmploymentRate: 101, EmploymentNumber: "A-3", Color: "#000000"}, access.CodeInvalid, "employmentRate"},
		{"no employment number", asst, newLink(other.ID, " "), access.CodeInvalid, "employmentNumber"},
		{"the anonymised marker as number", asst, newLink(other.ID, access.Anonymised), access.CodeInvalid, "employmentNumber"},
		{"a colour by name", asst, access.NewLink{ClientID: other.ID, EmploymentRate: 40, EmploymentNumber: "A-3", Color: "red"}, access.CodeInvalid, "color"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.People.AddLink(e.Ctx, e.owner, tc.user, tc.in)
			if code(err) != tc.want || accesstest.Field(err) != tc.field {
				t.Errorf("got %s on %q, want %s on %q", code(err), accesstest.Field(err), tc.want, tc.field)
			}
		})
	}
	if links, err := e.Store.AllUserLinks(e.Ctx, e.owner.TenantID(), asst); err != nil || len(links) != 1 {
		t.Errorf("links after the refusals: %+v, %v; want the first one only", links, err)
	}

	// Ending a link keeps it as history and ends access to that recipient only.
	second, err := e.People.AddLink(e.Ctx, e.owner, asst, newLink(other.ID, "A-2"))
	if err != nil {
		t.Fatal(err)
	}
	ended, err := e.People.RemoveLink(e.Ctx, e.owner, asst, rec, nil)
	if err != nil || ended.Status != access.LinkRemoved {
		t.Fatalf("remove = %s, %v; want removed", ended.Status, err)
	}
	again, err := e.People.RemoveLink(e.Ctx, e.owner, asst, rec, nil)
	if err != nil || again.Version != ended.Version {
		t.Errorf("removing twice: v%d → v%d, %v; want no second write", ended.Version, again.Version, err)
	}
	if l, err := e.Store.GetLink(e.Ctx, e.owner.TenantID(), asst, other.ID); err != nil || l.Status != access.LinkActive || l.Version != second.Version {
		t.Errorf("the other link after the removal: %s v%d, %v; want untouched", l.Status, l.Version, err)
	}
	if r, err := e.People.Capabilities(e.Ctx, e.owner, asst, rec); err != nil || r.State != access.StateRemovedLink {
		t.Errorf("capabilities towards the ended link's recipient: %s, %v; want %s", r.State, err, access.StateRemovedLink)
	}
	for _, tc := range []struct {
		name string
		p    access.LinkPatch
		want access.Code
	}{
		{"change a removed link", access.LinkPatch{EmploymentRate: ptr(60)}, access.CodeConflict},
		{"remove by status", access.LinkPatch{Status: ptr(access.LinkRemoved)}, access.CodeInvalid},
		{"change nothing", access.LinkPatch{}, access.CodeInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := e.People.UpdateLink(e.Ctx, e.owner, asst, rec, tc.p, nil); code(err) != tc.want {
				t.Errorf("got %s, want %s", code(err), tc.want)
			}
		})
	}
	back, err := e.People.AddLink(e.Ctx, e.owner, asst, newLink(rec, "A-1"))
	if err != nil || back.Status != access.LinkActive || back.Version != ended.Version+1 || !back.CreatedAt.Equal(ended.CreatedAt) {
		t.Errorf("re-added link = %s v%d created %v, %v; want active v%d, created when first added", back.Status, back.Version, back.CreatedAt, err, ended.Version+1)
	}
}

// An assistant reads their own links and capabilities, and nobody else's: not another
// assistant's, not a recipient's list of assistants.
func TestAssistantSeesOnlyTheirOwnLinks(t *testing.T) {
	e := newLinkEnv(t)
	colleagueRecipient := e.Client(e.owner)
	colleague := e.assistantOf(colleagueRecipient, "C-1")
	asst := e.assistant.User.ID
	if _, err := e.People.AddLink(e.Ctx, e.owner, colleague.User.ID, newLink(e.recipient.ID, "C-2")); err != nil {
		t.Fatal(err)
	}
	links, _, err := e.People.ListLinks(e.Ctx, e.assistant, asst, "", access.Page{})
	if err != nil || len(links) != 1 || links[0].ClientID != e.recipient.ID || links[0].UserID != asst {
		t.Errorf("own links = %+v, %v; want the one to %s", links, err, e.recipient.ID)
	}
	if r, err := e.People.Capabilities(e.Ctx, e.assistant, asst, e.recipient.ID); err != nil || r.State != access.StateActiveLink {
		t.Errorf("own capabilities = %s, %v; want %s", r.State, err, access.StateActiveLink)
	}
	if r, err := e.People.Capabilities(e.Ctx, e.assistant, asst, colleagueRecipient.ID); err != nil || r.State != access.StateNoLink ||
		r.Cells[access.CapScheduleAccess].Value != access.CapNo {
		t.Errorf("capabilities towards a recipient they are not linked to = %s %v, %v; want %s without schedule",
			r.State, r.Cells[access.CapScheduleAccess], err, access.StateNoLink)
	}
	for _, tc := range []struct {
		name string
		do   func() error
	}{
		{"a colleague's links", func() error {
			_, _, err := e.People.ListLinks(e.Ctx, e.assistant, colleague.User.ID, "", access.Page{})
			return err
		}},
		{"a colleague's capabilities", func() error {
			_, err := e.People.Capabilities(e.Ctx, e.assistant, colleague.User.ID, colleagueRecipient.ID)
			return err
		}},
		{"their recipient's assistants", func() error {
			_, _, err := e.People.ListAssistants(e.Ctx, e.assistant, e.recipient.ID, "", access.Page{})
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := code(tc.do()); got != access.CodeForbidden && got != access.CodeNotFound {
				t.Errorf("got %s, want a refusal", got)
			}
		})
	}
	// Those who manage links see both assistants of the recipient.
	if got, _, err := e.People.ListAssistants(e.Ctx, e.manager, e.recipient.ID, access.LinkActive, access.Page{}); err != nil || len(got) != 2 {
		t.Errorf("the recipient's assistants as a user manager = %d, %v; want 2", len(got), err)
	}
}

// Another tenant's assistants, recipients and links answer not found, exactly like missing
// ones.
func TestLinksOfAnotherTenantAreNotFound(t *testing.T) {
	e := newLinkEnv(t)
	other := &linkEnv{env: &env{Env: e.Env, owner: e.Tenant()}}
	other.recipient = e.Client(other.owner)
	other.assistant = other.assistantOf(other.recipient, "T-1")
	theirs := other.assistant.User.ID
	ops := []struct {
		name string
		do   func(userID, clientID string) error
	}{
		{"ListLinks", func(u, _ string) error {
			_, _, err := e.People.ListLinks(e.Ctx, e.owner, u, "", access.Page{})
			return err
		}},
		{"ListAssistants", func(_, c string) error {
			_, _, err := e.People.ListAssistants(e.Ctx, e.owner, c, "", access.Page{})
			return err
		}},
		{"AddLink", func(u, _ string) error {
			_, err := e.People.AddLink(e.Ctx, e.owner, u, newLink(e.recipient.ID, "X-1"))
			return err
		}},
		{"UpdateLink", func(u, c string) error {
			_, err := e.People.UpdateLink(e.Ctx, e.owner, u, c, access.LinkPatch{EmploymentRate: ptr(10)}, nil)
			return err
		}},
		{"RemoveLink", func(u, c string) error { _, err := e.People.RemoveLink(e.Ctx, e.owner, u, c, nil); return err }},
		{"Capabilities", func(u, c string) error { _, err := e.People.Capabilities(e.Ctx, e.owner, u, c); return err }},
	}
	for _, op := range ops {
		t.Run(op.name, func(t *testing.T) {
			accesstest.WantNotFoundAlike(t, op.do(theirs, other.recipient.ID), op.do("u_00999999", "c_00999999"))
		})
	}
	if l, err := e.Store.GetLink(e.Ctx, other.owner.TenantID(), theirs, other.recipient.ID); err != nil || l.Status != access.LinkActive || l.Version != 1 {
		t.Errorf("their link after the attempts: %s v%d, %v; want untouched", l.Status, l.Version, err)
	}
}
