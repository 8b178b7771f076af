package storetest

import (
	"errors"
	"slices"
	"testing"

	"github.com/tilgang/tilgang/shared/access"
)

// testCalendars: calendars are listed and read by tenant, renamed and given a new owner in one
// transaction with both users, conditional on the version read; a user's own calendar changes
// keep the name; deleting the owner keeps the calendar without owner.
func testCalendars(t *testing.T, f *fixture) {
	tn, _ := f.tenant()
	other, _ := f.tenant()
	u := f.createUser(tn.ID, "Leaver")
	v := f.createUser(tn.ID, "Heir")
	cal := u.CalendarIDs[0]

	got, err := f.s.GetCalendar(f.ctx, tn.ID, cal)
	must(t, "GetCalendar", err)
	if got.ID != cal || got.OwnerID != u.ID || got.Version < 1 {
		t.Errorf("GetCalendar = %+v", got)
	}
	if _, err := f.s.GetCalendar(f.ctx, other.ID, cal); !errors.Is(err, access.ErrNotFound) {
		t.Errorf("another tenant's calendar: err = %v, want ErrNotFound", err)
	}
	var listed []string
	p := access.Page{Limit: 1}
	for {
		cals, next, err := f.s.ListCalendars(f.ctx, tn.ID, p)
		must(t, "ListCalendars", err)
		for _, c := range cals {
			listed = append(listed, c.ID)
		}
		if next == "" {
			break
		}
		p.Cursor = next
	}
	if !slices.Contains(listed, cal) || !slices.Contains(listed, v.CalendarIDs[0]) || len(listed) != 3 {
		t.Errorf("ListCalendars = %v", listed)
	}

	next := got
	next.Name, next.OwnerID, next.Version = "Room 2", v.ID, got.Version+1
	nextV, nextU := v, u
	nextV.CalendarIDs, nextV.Version = append(slices.Clone(v.CalendarIDs), cal), v.Version+1
	nextU.CalendarIDs, nextU.Version = nil, u.Version+1
	must(t, "UpdateCalendar", f.s.UpdateCalendar(f.ctx, got, next, []access.UserChange{{Prev: v, Next: nextV}, {Prev: u, Next: nextU}}, auditMeta(tn.ID, "calendar.update")))
	if err := f.s.UpdateCalendar(f.ctx, got, next, nil, access.Meta{}); !errors.Is(err, access.ErrConflict) {
		t.Errorf("stale UpdateCalendar: err = %v, want ErrConflict", err)
	}
	after, err := f.s.GetCalendar(f.ctx, tn.ID, cal)
	must(t, "GetCalendar", err)
	if after.Name != "Room 2" || after.OwnerID != v.ID || after.Version != next.Version {
		t.Errorf("after UpdateCalendar = %+v", after)
	}
	heir, err := f.s.GetUser(f.ctx, tn.ID, v.ID)
	must(t, "GetUser", err)
	if !slices.Contains(heir.CalendarIDs, cal) || heir.Version != nextV.Version {
		t.Errorf("heir = %+v", heir)
	}
	// The heir's own calendar edits keep the name.
	again := heir
	again.CalendarIDs, again.Version = []string{cal}, heir.Version+1
	must(t, "UpdateUser", f.s.UpdateUser(f.ctx, heir, again, access.Meta{}))
	if c, _ := f.s.GetCalendar(f.ctx, tn.ID, cal); c.Name != "Room 2" || c.OwnerID != v.ID {
		t.Errorf("after the owner's calendars changed = %+v", c)
	}
	// Deleting the owner keeps the calendar, without owner.
	must(t, "DeleteUser", f.s.DeleteUser(f.ctx, again, access.Meta{}))
	if c, _ := f.s.GetCalendar(f.ctx, tn.ID, cal); c.Name != "Room 2" || c.OwnerID != "" {
		t.Errorf("after the owner's deletion = %+v", c)
	}
}

// testSecondPassFields: a user's kind and professions, a group's disabled flag (in the group and
// in the principal's group set), a client's practice and the tenant's hirer seats round-trip.
func testSecondPassFields(t *testing.T, f *fixture) {
	tn, _ := f.tenant()
	h := f.createUser(tn.ID, "Hirer", func(u *access.User) {
		u.Kind = access.KindHirer
		u.Professions = []access.Profession{access.ProfessionPractitioner, access.ProfessionReceptionist}
	})
	got, err := f.s.GetUser(f.ctx, tn.ID, h.ID)
	must(t, "GetUser", err)
	if got.Kind != access.KindHirer || !slices.Equal(got.Professions, h.Professions) {
		t.Errorf("hirer = kind %q, professions %v", got.Kind, got.Professions)
	}
	g := f.group(tn.ID, "G")
	dis := g
	dis.Disabled, dis.Version = true, g.Version+1
	must(t, "UpdateGroup", f.s.UpdateGroup(f.ctx, g, dis, access.Meta{}))
	if gg, _ := f.s.GetGroup(f.ctx, tn.ID, g.ID); !gg.Disabled {
		t.Error("group not disabled")
	}
	m := f.createUser(tn.ID, "Member", func(u *access.User) { u.GroupIDs = []string{g.ID} })
	_, groups, err := f.s.Principal(f.ctx, tn.ID, m.ID)
	must(t, "Principal", err)
	if !groups[g.ID].Disabled {
		t.Error("the group set does not say the group is disabled")
	}
	cl := access.Client{ID: id("c"), TenantID: tn.ID, Name: "Hirer's", Status: access.ClientActive, Source: access.ClientManual,
		Version: 1, CreatedAt: now(), UpdatedAt: now(), Practice: h.ID}
	must(t, "CreateClient", f.s.CreateClient(f.ctx, cl, nil, access.Meta{}))
	if c, _ := f.s.GetClient(f.ctx, tn.ID, cl.ID); c.Practice != h.ID {
		t.Errorf("client practice = %q", c.Practice)
	}
	nt := tn
	nt.Settings.HirerSeats, nt.Version = access.HirerSeatsFree, tn.Version+1
	must(t, "UpdateTenant", f.s.UpdateTenant(f.ctx, tn, nt, nil, access.Meta{}))
	if t2, _ := f.s.GetTenant(f.ctx, tn.ID); t2.Settings.HirerSeats != access.HirerSeatsFree {
		t.Errorf("hirer seats = %q", t2.Settings.HirerSeats)
	}
}
