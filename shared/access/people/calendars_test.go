package people_test

import (
	"slices"
	"testing"

	"github.com/tilgang/tilgang/shared/access"
	"github.com/tilgang/tilgang/shared/access/accesstest"
)

// Calendar access and bookable calendars name the tenant's own calendars only: a made-up id, or
// another tenant's, is refused naming the id where it was given, and nothing is stored.
func TestCalendarIDsNameTheTenantsCalendars(t *testing.T) {
	e := newEnv(t)
	mine := e.employee.User.CalendarIDs[0]
	theirs := e.Tenant().User.CalendarIDs[0]
	const unknown = "cal_00999999"
	target := e.manager.User.ID
	setAccess := func(levels map[string]access.Level) func() error {
		return func() error {
			_, err := e.People.SetCalendarAccess(e.Ctx, e.owner, target, levels, nil)
			return err
		}
	}
	for _, tc := range []struct {
		name  string
		do    func() error
		field string
	}{
		{"calendar access to an unknown calendar", setAccess(map[string]access.Level{mine: access.LevelView, unknown: access.LevelView}), unknown},
		{"calendar access to another tenant's calendar", setAccess(map[string]access.Level{theirs: access.LevelEdit}), theirs},
		// Even "none" names a calendar: an id that names nothing is a mistake worth telling.
		{"no access to another tenant's calendar", setAccess(map[string]access.Level{theirs: access.LevelNone}), theirs},
		{"calendar access above edit", setAccess(map[string]access.Level{mine: access.LevelDelete}), mine},
		{"a new user with access to another tenant's calendar", func() error {
			_, err := e.People.CreateUser(e.Ctx, e.owner, access.NewUser{Name: "New", Email: "new@example.com",
				Profession: access.ProfessionPractitioner, CalendarAccess: map[string]access.Level{theirs: access.LevelView}}, nil)
			return err
		}, "calendarAccess." + theirs},
		{"an unknown bookable calendar", func() error {
			_, err := e.People.UpdateSettings(e.Ctx, e.owner, access.SettingsPatch{BookableCalendarIDs: &[]string{mine, unknown}}, nil)
			return err
		}, "bookableCalendarIds[1]"},
		{"another tenant's calendar bookable", func() error {
			_, err := e.People.UpdateSettings(e.Ctx, e.owner, access.SettingsPatch{BookableCalendarIDs: &[]string{theirs}}, nil)
			return err
		}, "bookableCalendarIds[0]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			accesstest.WantInvalid(t, tc.do(), tc.field)
		})
	}
	if u := e.user(target); len(u.CalendarAccess) != 0 {
		t.Errorf("calendar access after the refusals: %v, want none", u.CalendarAccess)
	}
	tn, err := e.People.GetTenant(e.Ctx, e.owner)
	if err != nil || len(tn.Settings.BookableCalendarIDs) != 0 {
		t.Errorf("bookable calendars after the refusals: %v, %v; want none", tn.Settings.BookableCalendarIDs, err)
	}

	// The tenant's own calendars are accepted, and show as bookable.
	if _, err := e.People.UpdateSettings(e.Ctx, e.owner, access.SettingsPatch{BookableCalendarIDs: &[]string{mine}}, nil); err != nil {
		t.Fatal(err)
	}
	if cal, err := e.People.GetCalendar(e.Ctx, e.owner, mine); err != nil || !cal.Bookable {
		t.Errorf("the bookable calendar = %+v, %v; want it bookable", cal, err)
	}
	if err := setAccess(map[string]access.Level{mine: access.LevelView})(); err != nil {
		t.Errorf("calendar access to the tenant's calendar: %v", err)
	}
}

// Renaming calendars and moving them between colleagues is for those who edit every calendar
// or manage users; moving one changes two people's rights, so nobody takes one for themselves,
// gives more than they have on it, or touches the owner's.
func TestWhoMayEditCalendars(t *testing.T) {
	e := newEnv(t)
	// A scheduler edits every calendar and manages users: moving a calendar needs both.
	scheduler := e.User(e.owner, access.NewUser{GroupIDs: []string{e.Group(e.owner, access.Permissions{
		access.AreaCalendars: {Level: access.LevelEdit, Scope: access.ScopeAll}, access.AreaUsers: {Level: access.LevelEdit}}).ID}})
	calendarsOnly := e.User(e.owner, access.NewUser{GroupIDs: []string{
		e.Group(e.owner, access.Permissions{access.AreaCalendars: {Level: access.LevelEdit, Scope: access.ScopeAll}}).ID}})
	second := e.User(e.owner, access.NewUser{})
	ownerCal, employeeCal := e.owner.User.CalendarIDs[0], e.employee.User.CalendarIDs[0]
	rename := func(by *access.Caller, cal string) func() error {
		return func() error {
			_, err := e.People.UpdateCalendar(e.Ctx, by, cal, access.CalendarPatch{Name: ptr("Room 2")}, nil)
			return err
		}
	}
	give := func(by *access.Caller, cal, to string) func() error {
		return func() error {
			_, err := e.People.UpdateCalendar(e.Ctx, by, cal, access.CalendarPatch{OwnerID: &to}, nil)
			return err
		}
	}
	theirs := e.User(e.Tenant(), access.NewUser{}).User.ID
	for _, tc := range []struct {
		name  string
		do    func() error
		want  access.Code
		field string
	}{
		{"an employee renames a colleague's calendar", rename(e.employee, second.User.CalendarIDs[0]), access.CodeForbidden, ""},
		{"a user manager renames one", rename(e.manager, employeeCal), "ok", ""},
		{"a scheduler renames one", rename(scheduler, employeeCal), "ok", ""},
		{"an editor of every calendar renames one", rename(calendarsOnly, employeeCal), "ok", ""},
		// Who does not see users cannot name one: the new owner is unknown to them.
		{"an editor of every calendar gives one away", give(calendarsOnly, employeeCal, second.User.ID), access.CodeInvalid, "ownerId"},
		{"a scheduler takes one for themselves", give(scheduler, employeeCal, scheduler.User.ID), access.CodeForbidden, ""},
		{"a user manager gives one away without edit on it", give(e.manager, employeeCal, second.User.ID), access.CodeForbidden, "ownerId"},
		{"a scheduler gives away the owner's", give(scheduler, ownerCal, second.User.ID), access.CodeForbidden, ""},
		{"the owner gives one to an unknown user", give(e.owner, employeeCal, "u_00999999"), access.CodeInvalid, "ownerId"},
		{"the owner gives one to another tenant's user", give(e.owner, employeeCal, theirs), access.CodeInvalid, "ownerId"},
		{"an unknown calendar", rename(e.owner, "cal_00999999"), access.CodeNotFound, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.do()
			if code(err) != tc.want || accesstest.Field(err) != tc.field {
				t.Errorf("got %s on %q, want %s on %q", code(err), accesstest.Field(err), tc.want, tc.field)
			}
		})
	}
	if u := e.user(e.employee.User.ID); !slices.Equal(u.CalendarIDs, []string{employeeCal}) {
		t.Errorf("the employee's calendars after the refusals: %v, want [%s]", u.CalendarIDs, employeeCal)
	}

	// Moved by someone with edit on it, the calendar and the rights that come with it change
	// hands together.
	cal, err := e.People.UpdateCalendar(e.Ctx, scheduler, employeeCal, access.CalendarPatch{OwnerID: ptr(second.User.ID)}, nil)
	if err != nil || cal.OwnerID != second.User.ID || cal.Name != "Room 2" {
		t.Fatalf("move = %+v, %v; want owned by %s and still named Room 2", cal, err, second.User.ID)
	}
	if from, to := e.user(e.employee.User.ID), e.user(second.User.ID); len(from.CalendarIDs) != 0 || !slices.Contains(to.CalendarIDs, employeeCal) {
		t.Errorf("after the move: old owner has %v, new owner %v", from.CalendarIDs, to.CalendarIDs)
	}
	if d := e.Refresh(second).Decide(access.Request{Op: access.OpAccess, Level: access.LevelEdit, Area: access.AreaCalendars, CalendarID: employeeCal}); !d.Allowed {
		t.Errorf("the new owner cannot edit their calendar: %s", d.Reason())
	}
}

// Everyone sees the calendars they may view; those who see every calendar list them all.
// Another tenant's calendar is not found, like a missing one.
func TestWhoSeesWhichCalendars(t *testing.T) {
	e := newEnv(t)
	ids := func(c *access.Caller) []string {
		t.Helper()
		cals, _, err := e.People.ListCalendars(e.Ctx, c, access.Page{Limit: access.MaxPageLimit})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, cal := range cals {
			out = append(out, cal.ID)
		}
		slices.Sort(out)
		return out
	}
	all := ids(e.owner)
	if len(all) != 3 {
		t.Fatalf("the owner lists %v, want the three users' calendars", all)
	}
	if got := ids(e.manager); !slices.Equal(got, all) {
		t.Errorf("a user manager lists %v, want every calendar %v", got, all)
	}
	own := e.employee.User.CalendarIDs[0]
	if got := ids(e.employee); !slices.Equal(got, []string{own}) {
		t.Errorf("an employee lists %v, want only their own %s", got, own)
	}
	if _, err := e.People.GetCalendar(e.Ctx, e.employee, e.manager.User.CalendarIDs[0]); code(err) != access.CodeNotFound {
		t.Errorf("an employee reads a colleague's calendar: %s, want %s", code(err), access.CodeNotFound)
	}
	theirs := e.Tenant().User.CalendarIDs[0]
	accesstest.WantNotFoundAlike(t, func() error { _, err := e.People.GetCalendar(e.Ctx, e.owner, theirs); return err }(),
		func() error { _, err := e.People.GetCalendar(e.Ctx, e.owner, "cal_00999999"); return err }())
}
