package access

import "testing"

// The practice wall (practice.go) and the second-pass operations, pinned where they live.

func hirerUser(id string) User {
	u := person(id)
	u.Kind = KindHirer
	return u
}

func practiceClient(practice string) *ClientFacts {
	c := manualClient
	c.Practice = practice
	return &ClientFacts{Client: c}
}

func TestPracticeWall(t *testing.T) {
	hirer := principal(hirerUser("h1"), gTherapist)
	otherHirer := principal(hirerUser("h2"), gSecretary)
	clinicAll := principal(person("e1"), gSecretary)
	owner := principal(accountOwner())
	asg := func(f *ClientFacts) *ClientFacts { f.Assignment = assigned(LevelEdit, AssignedManually); return f }
	for _, c := range []struct {
		name    string
		p       Principal
		level   Level
		area    Area
		program string
		facts   *ClientFacts
		want    bool
	}{
		{"a hirer opens their own practice's assigned client", hirer, LevelEdit, AreaJournals, "", asg(practiceClient("h1")), true},
		{"a hirer does not reach the clinic's client, assigned or not", hirer, LevelView, AreaClients, "", asg(practiceClient("")), false},
		{"scope all stops at the wall", clinicAll, LevelView, AreaClients, "", practiceClient("h1"), false},
		{"scope all reaches the clinic's clients", clinicAll, LevelEdit, AreaClients, "", practiceClient(""), true},
		{"a hirer's scope all covers their own practice only", otherHirer, LevelView, AreaClients, "", practiceClient("h1"), false},
		{"a hirer's scope all covers their own practice", otherHirer, LevelEdit, AreaClients, "", practiceClient("h2"), true},
		{"the owner sees a hirer's client listed", owner, LevelView, AreaClients, "", practiceClient("h1"), true},
		{"the owner does not edit it", owner, LevelEdit, AreaClients, "", practiceClient("h1"), false},
		{"the owner does not read its journals", owner, LevelView, AreaJournals, "", practiceClient("h1"), false},
		{"nor its programs", owner, LevelView, AreaClients, "payroll", practiceClient("h1"), false},
		{"a bureau grant does not cross the wall", clinicAll, LevelView, AreaClients, "", func() *ClientFacts {
			f := practiceClient("h1")
			f.Grant = bureauGrant(LevelEdit)
			return f
		}(), false},
	} {
		d := Decide(c.p, Request{Op: OpAccess, Level: c.level, Area: c.area, Client: c.facts, Program: c.program})
		if d.Allowed != c.want {
			t.Errorf("%s: allowed = %v, want %v (%s)", c.name, d.Allowed, c.want, d.Reason())
		}
	}
}

func TestPracticeGuards(t *testing.T) {
	hirer := hirerUser("h1")
	emp := person("e1")
	assigner := principal(person("a1"), gAssigner)
	owner := principal(accountOwner())
	booking := principal(person("b1"), gSecretary)
	for _, c := range []struct {
		name  string
		p     Principal
		r     Request
		guard string // "" allowed
	}{
		{"no assignment of a clinic client to a hirer", assigner, Request{Op: OpManageAssignments, Target: &hirer, Client: practiceClient("")}, "same_practice"},
		{"no assignment of a hirer's client by the clinic", owner, Request{Op: OpManageAssignments, Target: &hirer, Client: practiceClient("h1")}, "own_practice"},
		{"clinic assignments as before", assigner, Request{Op: OpManageAssignments, Target: &emp, Client: practiceClient("")}, ""},
		{"no appointment of a clinic client with a hirer", owner, Request{Op: OpAppointment, Target: &hirer, Client: practiceClient(""), Source: "manual"}, "same_practice"},
		{"appointments of a hirer's client with the hirer", owner, Request{Op: OpAppointment, Target: &hirer, Client: practiceClient("h1"), Source: "manual"}, ""},
		{"manual clients only in one's own practice", booking, Request{Op: OpCreateClient, Source: "manual", Client: practiceClient("h1")}, "manual_own_practice"},
		{"online bookings into a hirer's practice", booking, Request{Op: OpCreateClient, Source: "online_booking", Client: practiceClient("h1")}, ""},
	} {
		d := Decide(c.p, c.r)
		switch {
		case c.guard == "" && !d.Allowed:
			t.Errorf("%s: refused: %s", c.name, d.Reason())
		case c.guard != "" && d.Allowed:
			t.Errorf("%s: allowed, want guard %s", c.name, c.guard)
		case c.guard != "" && d.Reason() != guardMessage(c.guard):
			t.Errorf("%s: refused for %q, want guard %s", c.name, d.Reason(), c.guard)
		}
	}
}

func guardMessage(name string) string {
	for _, g := range []guard{gSamePractice, gOwnPractice, gManualOwnPractice} {
		if g.name == name {
			return g.message
		}
	}
	return ""
}

func TestSecondPassOps(t *testing.T) {
	self := person("u1")
	for _, c := range []struct {
		name string
		p    Principal
		r    Request
		want bool
	}{
		{"a user exports themselves", principal(self), Request{Op: OpExportUser, Target: &self}, true},
		{"a main administrator exports anyone", principal(person("m", RoleMainAdmin)), Request{Op: OpExportUser, Target: &self}, true},
		{"an administrator does not", principal(person("a", RoleAdmin)), Request{Op: OpExportUser, Target: &self}, false},
		{"a user manager does not", principal(person("m"), gUserManager), Request{Op: OpExportUser, Target: &self}, false},
		{"readers of users list every calendar", principal(person("v"), gUserViewer), Request{Op: OpListCalendars}, true},
		{"a therapist does not", principal(person("t"), gTherapist), Request{Op: OpListCalendars}, false},
		{"user managers change calendars", principal(person("m"), gUserManager), Request{Op: OpEditCalendar}, true},
		{"edit on every calendar changes calendars", principal(person("s"), gSecretary), Request{Op: OpEditCalendar}, true},
		{"a bookkeeper does not", principal(person("b"), gBookkeeper), Request{Op: OpEditCalendar}, false},
	} {
		if d := Decide(c.p, c.r); d.Allowed != c.want {
			t.Errorf("%s: allowed = %v, want %v (%s)", c.name, d.Allowed, c.want, d.Reason())
		}
	}
}

func TestDisabledGroupGivesNothing(t *testing.T) {
	g := gSecretary
	g.Disabled = true
	p := principal(person("u"), g)
	r := p.Effective.Area(AreaClients)
	if r.Level != LevelNone || len(r.Sources) != 1 || r.Sources[0].Type != SourceDisabledGroup || r.Sources[0].ID != g.ID {
		t.Errorf("clients with a disabled group = %+v", r)
	}
	// Only a disabled group: the minimal rights of a user without groups.
	if cal := p.Effective.Area(AreaCalendars); cal.Level != LevelEdit || cal.Scope != ScopeOwn {
		t.Errorf("calendars = %+v", cal)
	}
	if d := Decide(p, Request{Op: OpListClients}); d.Allowed {
		t.Errorf("a disabled group still lists clients: %s", d.Reason())
	}
}

func TestProfessionsAndSeats(t *testing.T) {
	both := person("b")
	both.Professions = []Profession{ProfessionReceptionist, ProfessionPractitioner}
	desk := person("d")
	desk.Professions = []Profession{ProfessionReceptionist, ProfessionBookkeeper}
	h := hirerUser("h")
	h.Professions = []Profession{ProfessionPractitioner}
	for _, c := range []struct {
		u    User
		st   Settings
		want bool
	}{
		{both, Settings{}, true},
		{desk, Settings{}, false},
		{h, Settings{}, true},
		{h, Settings{HirerSeats: HirerSeatsFree}, false},
		{withStatus(both, StatusDeactivated), Settings{}, false},
	} {
		if s := SeatOf(c.u, c.st); s.Billable != c.want {
			t.Errorf("%s %v under %+v: billable = %v, want %v (%s)", c.u.ID, c.u.Professions, c.st, s.Billable, c.want, s.Reason)
		}
	}
	if _, err := ValidProfessions(ProfessionOther, []Profession{ProfessionPractitioner}, true); err == nil {
		t.Error("profession that is not the first of professions accepted")
	}
	if got, _ := ValidProfessions("", []Profession{ProfessionOther, ProfessionOther, ProfessionAssistant}, true); len(got) != 2 {
		t.Errorf("duplicates kept: %v", got)
	}
}
