package clients_test

import (
	"slices"
	"testing"
	"time"

	"github.com/tilgang/tilgang/shared/access"
	"github.com/tilgang/tilgang/shared/access/accesstest"
	"github.com/tilgang/tilgang/shared/localstack"
)

func TestMain(m *testing.M) { localstack.Main(m) }

var code = accesstest.Code

// env is a tenant with a client, a manager who manages users and edits every client, and a
// therapist whose group gives edit on their own clients only.
type env struct {
	*accesstest.Env
	owner, manager, therapist *access.Caller
	client                    access.Client
}

func newEnv(t *testing.T) *env {
	e := &env{Env: accesstest.New(t)}
	e.owner = e.Tenant()
	managers := e.Group(e.owner, access.Permissions{access.AreaUsers: {Level: access.LevelEdit},
		access.AreaClients: {Level: access.LevelEdit, Scope: access.ScopeAll}})
	therapists := e.Group(e.owner, access.Permissions{access.AreaClients: {Level: access.LevelEdit, Scope: access.ScopeOwn}})
	e.manager = e.User(e.owner, access.NewUser{GroupIDs: []string{managers.ID}})
	e.therapist = e.User(e.owner, access.NewUser{GroupIDs: []string{therapists.ID}})
	e.client = e.Client(e.owner)
	return e
}

// canOpen says whether c may view a client (GetClient, the access rule of every route).
func (e *env) canOpen(c *access.Caller, clientID string) access.Code {
	_, err := e.Clients.GetClient(e.Ctx, e.Refresh(c), clientID)
	return code(err)
}

// Own clients are those assigned: a therapist opens a client once assigned, never another, and
// cannot assign themselves.
func TestOwnClientsAreTheAssignedOnes(t *testing.T) {
	e := newEnv(t)
	if got := e.canOpen(e.therapist, e.client.ID); got != access.CodeForbidden {
		t.Errorf("unassigned: %s, want %s", got, access.CodeForbidden)
	}
	if _, err := e.Clients.SetAssignment(e.Ctx, e.therapist, e.client.ID, e.therapist.User.ID, access.LevelEdit, nil); code(err) != access.CodeForbidden {
		t.Errorf("assigning oneself: %s, want %s", code(err), access.CodeForbidden)
	}
	// The manager cannot assign themselves either, though they could open it anyway.
	if _, err := e.Clients.SetAssignment(e.Ctx, e.manager, e.client.ID, e.manager.User.ID, access.LevelEdit, nil); code(err) != access.CodeForbidden {
		t.Errorf("a manager assigning themselves: %s, want %s", code(err), access.CodeForbidden)
	}
	a, err := e.Clients.SetAssignment(e.Ctx, e.manager, e.client.ID, e.therapist.User.ID, access.LevelView, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := e.canOpen(e.therapist, e.client.ID); got != "ok" {
		t.Errorf("assigned: %s, want ok", got)
	}
	// Setting the same assignment again writes nothing.
	again, err := e.Clients.SetAssignment(e.Ctx, e.manager, e.client.ID, e.therapist.User.ID, access.LevelView, nil)
	if err != nil || again.Version != a.Version {
		t.Errorf("same assignment again: v%d, %v; want v%d", again.Version, err, a.Version)
	}
	other := e.Client(e.owner)
	if got := e.canOpen(e.therapist, other.ID); got != access.CodeForbidden {
		t.Errorf("another client: %s, want %s", got, access.CodeForbidden)
	}
	if err := e.Clients.RemoveAssignment(e.Ctx, e.manager, e.client.ID, e.therapist.User.ID); err != nil {
		t.Fatal(err)
	}
	if got := e.canOpen(e.therapist, e.client.ID); got != access.CodeForbidden {
		t.Errorf("after the assignment was removed: %s, want %s", got, access.CodeForbidden)
	}
	if err := e.Clients.RemoveAssignment(e.Ctx, e.manager, e.client.ID, e.therapist.User.ID); err != nil {
		t.Errorf("removing a missing assignment: %v, want nothing done", err)
	}
}

// Nobody hands out more than they have: assigning at edit needs edit on every client, and user
// management alone opens no client.
func TestAssigningNeedsTheLevelOnEveryClient(t *testing.T) {
	e := newEnv(t)
	hr := e.Group(e.owner, access.Permissions{access.AreaUsers: {Level: access.LevelEdit}})
	viewers := e.Group(e.owner, access.Permissions{access.AreaUsers: {Level: access.LevelEdit},
		access.AreaClients: {Level: access.LevelView, Scope: access.ScopeAll}})
	onlyUsers := e.User(e.owner, access.NewUser{GroupIDs: []string{hr.ID}})
	viewer := e.User(e.owner, access.NewUser{GroupIDs: []string{viewers.ID}})
	target := e.therapist.User.ID
	for _, tc := range []struct {
		name  string
		by    *access.Caller
		level access.Level
		want  access.Code
	}{
		{"user management alone, view", onlyUsers, access.LevelView, access.CodeForbidden},
		{"view on every client, view", viewer, access.LevelView, "ok"},
		{"view on every client, edit", viewer, access.LevelEdit, access.CodeForbidden},
		{"edit on every client, edit", e.manager, access.LevelEdit, "ok"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.Clients.SetAssignment(e.Ctx, tc.by, e.client.ID, target, tc.level, nil)
			if got := code(err); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}

// Another tenant's clients and users answer not found, like missing ones.
func TestAnotherTenantsClientIsNotFound(t *testing.T) {
	e := newEnv(t)
	other := e.Tenant()
	theirs := e.Client(other)
	theirUser := e.User(other, access.NewUser{})
	for _, tc := range []struct {
		name string
		do   func(clientID, userID string) error
	}{
		{"GetClient", func(cl, _ string) error { _, err := e.Clients.GetClient(e.Ctx, e.owner, cl); return err }},
		{"SetAssignment of their client", func(cl, _ string) error {
			_, err := e.Clients.SetAssignment(e.Ctx, e.owner, cl, e.therapist.User.ID, access.LevelView, nil)
			return err
		}},
		{"SetAssignment of their user", func(_, u string) error {
			_, err := e.Clients.SetAssignment(e.Ctx, e.owner, e.client.ID, u, access.LevelView, nil)
			return err
		}},
		{"SetClientAdmin", func(cl, _ string) error {
			_, err := e.Clients.SetClientAdmin(e.Ctx, e.owner, cl, e.manager.User.ID, true, nil, nil)
			return err
		}},
		{"ClientAdmins", func(cl, _ string) error {
			_, _, err := e.Clients.ClientAdmins(e.Ctx, e.owner, cl, access.Page{})
			return err
		}},
		{"CreateAppointment", func(cl, _ string) error {
			_, err := e.Clients.CreateAppointment(e.Ctx, e.owner, access.NewAppointment{ClientID: cl, EmployeeID: e.therapist.User.ID,
				Source: access.AppointmentManual}, nil)
			return err
		}},
		{"ClientAccessList", func(cl, _ string) error {
			_, _, err := e.Clients.ClientAccessList(e.Ctx, token(e.owner), nil, cl, access.Page{})
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			accesstest.WantNotFoundAlike(t, tc.do(theirs.ID, theirUser.User.ID), tc.do("c_00999999", "u_00999999"))
		})
	}
}

func token(c *access.Caller) access.Token {
	return access.Token{TenantID: c.TenantID(), UserID: c.User.ID, RequestID: c.RequestID}
}

// Bad input is refused naming the field, before anything is read or written.
func TestBadInputNamesTheField(t *testing.T) {
	e := newEnv(t)
	past := accesstest.Start.Add(-time.Minute)
	for _, tc := range []struct {
		name  string
		do    func() error
		field string
	}{
		{"client without name", func() error {
			_, err := e.Clients.CreateClient(e.Ctx, e.owner, access.NewClient{Name: ""}, nil)
			return err
		}, "name"},
		{"client of an unknown source", func() error {
			_, err := e.Clients.CreateClient(e.Ctx, e.owner, access.NewClient{Name: "X", Source: "walk_in"}, nil)
			return err
		}, "source"},
		{"client of a hirer who is not one", func() error {
			_, err := e.Clients.CreateClient(e.Ctx, e.owner, access.NewClient{Name: "X", HirerID: e.therapist.User.ID}, nil)
			return err
		}, "hirerId"},
		{"assignment without level", func() error {
			_, err := e.Clients.SetAssignment(e.Ctx, e.owner, e.client.ID, e.therapist.User.ID, "", nil)
			return err
		}, "level"},
		{"assignment at delete", func() error {
			_, err := e.Clients.SetAssignment(e.Ctx, e.owner, e.client.ID, e.therapist.User.ID, access.LevelDelete, nil)
			return err
		}, "level"},
		{"assignment expired already", func() error {
			_, err := e.Clients.SetAssignment(e.Ctx, e.owner, e.client.ID, e.therapist.User.ID, access.LevelView, &past)
			return err
		}, "expiresAt"},
		{"appointment without employee", func() error {
			_, err := e.Clients.CreateAppointment(e.Ctx, e.owner, access.NewAppointment{ClientID: e.client.ID, Source: access.AppointmentManual}, nil)
			return err
		}, "employeeId"},
		{"online booking without calendar", func() error {
			_, err := e.Clients.CreateAppointment(e.Ctx, e.owner, access.NewAppointment{ClientID: e.client.ID,
				EmployeeID: e.therapist.User.ID, Source: access.AppointmentOnlineBooking}, nil)
			return err
		}, "calendarId"},
		{"administrator of an unknown program", func() error {
			_, err := e.Clients.SetClientAdmin(e.Ctx, e.owner, e.client.ID, e.manager.User.ID, false, []string{"astrology"}, nil)
			return err
		}, "programs"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			accesstest.WantInvalid(t, tc.do(), tc.field)
		})
	}
}

// A retried create returns what the first made and writes nothing; the same key for another
// body is refused. An appointment never lowers an assignment, and a repeated one changes nothing.
func TestRetriesChangeNothing(t *testing.T) {
	e := newEnv(t)
	idem := &access.Idempotency{Key: "k1", Operation: "POST /v1/clients", RequestHash: "h1"}
	first, err := e.Clients.CreateClient(e.Ctx, e.owner, access.NewClient{Name: "Retried"}, idem)
	if err != nil {
		t.Fatal(err)
	}
	again, err := e.Clients.CreateClient(e.Ctx, e.owner, access.NewClient{Name: "Retried"}, idem)
	if err != nil || again.ID != first.ID {
		t.Errorf("retry = %s, %v; want %s", again.ID, err, first.ID)
	}
	other := *idem
	other.RequestHash = "h2"
	if _, err := e.Clients.CreateClient(e.Ctx, e.owner, access.NewClient{Name: "Another"}, &other); code(err) != access.CodeIdempotencyKey {
		t.Errorf("same key, other body: %s, want %s", code(err), access.CodeIdempotencyKey)
	}
	if cls, _, _ := e.Clients.ListClients(e.Ctx, e.owner, access.Page{}); len(cls) != 2 {
		t.Errorf("%d clients after the retries, want 2", len(cls))
	}

	if _, err := e.Clients.SetAssignment(e.Ctx, e.owner, e.client.ID, e.therapist.User.ID, access.LevelEdit, nil); err != nil {
		t.Fatal(err)
	}
	apt := access.NewAppointment{ClientID: e.client.ID, EmployeeID: e.therapist.User.ID, Source: access.AppointmentManual}
	for i := range 2 {
		got, err := e.Clients.CreateAppointment(e.Ctx, e.owner, apt, nil)
		if err != nil || got.Changed || got.Assignment.Level != access.LevelEdit {
			t.Errorf("appointment %d: changed %v level %s, %v; want the edit assignment kept", i+1, got.Changed, got.Assignment.Level, err)
		}
	}
}

// A hirer's practice is walled off: the clinic's scope all does not reach the hirer's clients,
// and the hirer does not reach the clinic's.
func TestTheHirersPracticeWall(t *testing.T) {
	e := newEnv(t)
	if _, _, err := e.People.ActivateTenants(e.Ctx, e.owner, []string{access.HirerTemplate.ID}); err != nil {
		t.Fatal(err)
	}
	groups, _, err := e.People.ListGroups(e.Ctx, e.Refresh(e.owner), access.Page{})
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(groups, func(g access.Group) bool { return g.Template == access.HirerTemplate.ID })
	if i < 0 {
		t.Fatal("no Hirer group after activating the Tenants app")
	}
	hirer := e.User(e.owner, access.NewUser{Kind: access.KindHirer, GroupIDs: []string{groups[i].ID}})
	own, err := e.Clients.CreateClient(e.Ctx, hirer, access.NewClient{Name: "Hirer's patient"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if own.Practice != hirer.User.ID {
		t.Errorf("the hirer's client is in practice %q, want the hirer's", own.Practice)
	}
	for _, tc := range []struct {
		name   string
		who    *access.Caller
		client string
		want   access.Code
	}{
		{"the hirer opens their own client", hirer, own.ID, "ok"},
		{"the hirer opens the clinic's client", hirer, e.client.ID, access.CodeForbidden},
		{"the clinic's scope all opens the hirer's client", e.manager, own.ID, access.CodeForbidden},
		{"the clinic's scope all opens the clinic's client", e.manager, e.client.ID, "ok"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := e.canOpen(tc.who, tc.client); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
	if cls, _, err := e.Clients.ListClients(e.Ctx, e.Refresh(e.manager), access.Page{}); err != nil || slices.ContainsFunc(cls, func(c access.Client) bool { return c.ID == own.ID }) {
		t.Errorf("the clinic's list = %v, %v; want it without the hirer's client", cls, err)
	}
	// The clinic's managers cannot assign themselves into the hirer's practice either.
	if _, err := e.Clients.SetAssignment(e.Ctx, e.manager, own.ID, e.therapist.User.ID, access.LevelView, nil); code(err) == "ok" {
		t.Error("the clinic assigned a therapist to the hirer's client")
	}
}

// A client keeps a system administrator: only the owner or another system administrator removes
// one, and nobody changes their own administration.
func TestClientAdministration(t *testing.T) {
	e := newEnv(t)
	admins := e.Group(e.owner, access.Permissions{access.AreaUsers: {Level: access.LevelEdit}})
	sys := e.User(e.owner, access.NewUser{GroupIDs: []string{admins.ID}, Roles: []access.Role{access.RoleAdmin}})
	other := e.User(e.owner, access.NewUser{GroupIDs: []string{admins.ID}, Roles: []access.Role{access.RoleAdmin}})
	consultant := e.User(e.owner, access.NewUser{Roles: []access.Role{access.RoleConsultant}})
	if _, err := e.Clients.SetClientAdmin(e.Ctx, e.owner, e.client.ID, sys.User.ID, true, nil, nil); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		do   func() error
		want access.Code
	}{
		{"an administrator who is not the client's removes its system administrator", func() error {
			return e.Clients.RemoveClientAdmin(e.Ctx, other, e.client.ID, sys.User.ID)
		}, access.CodeForbidden},
		{"the system administrator makes themselves program administrator", func() error {
			_, err := e.Clients.SetClientAdmin(e.Ctx, sys, e.client.ID, sys.User.ID, false, []string{"payroll"}, nil)
			return err
		}, access.CodeForbidden},
		{"a consultant appoints themselves", func() error {
			_, err := e.Clients.SetClientAdmin(e.Ctx, consultant, e.client.ID, consultant.User.ID, true, nil, nil)
			return err
		}, access.CodeForbidden},
		{"the system administrator appoints a program administrator", func() error {
			_, err := e.Clients.SetClientAdmin(e.Ctx, sys, e.client.ID, consultant.User.ID, false, []string{"payroll"}, nil)
			return err
		}, "ok"},
		{"the owner removes the system administrator", func() error {
			return e.Clients.RemoveClientAdmin(e.Ctx, e.owner, e.client.ID, sys.User.ID)
		}, "ok"},
		{"removing it again", func() error {
			return e.Clients.RemoveClientAdmin(e.Ctx, e.owner, e.client.ID, sys.User.ID)
		}, "ok"},
	} {
		if got := code(tc.do()); got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.name, got, tc.want)
		}
	}
	list, _, err := e.Clients.ClientAdmins(e.Ctx, e.owner, e.client.ID, access.Page{})
	if err != nil || len(list) != 2 || list[0].UserID != e.owner.User.ID || list[1].UserID != consultant.User.ID {
		t.Errorf("administrators = %+v, %v; want the owner, then the program administrator", list, err)
	}
}
