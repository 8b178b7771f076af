package access

import (
	"testing"
)

func group(id string, version int, perms Permissions) Group {
	p, err := perms.Normalize("test")
	if err != nil {
		panic(err)
	}
	return Group{ID: id, Name: id, Version: version, Permissions: p}
}

func TestComputeTakesTheMaximumOverGroups(t *testing.T) {
	groups := map[string]Group{
		"own-edit": group("own-edit", 1, Permissions{AreaClients: {Level: LevelEdit, Scope: ScopeOwn}}),
		"all-view": group("all-view", 1, Permissions{AreaClients: {Level: LevelView, Scope: ScopeAll}, AreaPayments: {Level: LevelView}}),
		"all-del":  group("all-del", 1, Permissions{AreaClients: {Level: LevelDelete, Scope: ScopeAll}}),
	}
	tests := []struct {
		name      string
		user      User
		area      Area
		wantLevel Level
		wantScope Scope
		wantAll   Level
		wantSrc   SourceType
	}{
		{"one group", User{GroupIDs: []string{"own-edit"}}, AreaClients, LevelEdit, ScopeOwn, LevelNone, SourceGroup},
		{"own edit and all view", User{GroupIDs: []string{"own-edit", "all-view"}}, AreaClients, LevelEdit, ScopeOwn, LevelView, SourceGroup},
		{"all delete wins", User{GroupIDs: []string{"own-edit", "all-del"}}, AreaClients, LevelDelete, ScopeAll, LevelDelete, SourceGroup},
		{"unscoped area", User{GroupIDs: []string{"all-view"}}, AreaPayments, LevelView, "", LevelNone, SourceGroup},
		{"no group: nothing on clients", User{}, AreaClients, LevelNone, ScopeOwn, LevelNone, ""},
		{"no group: own calendar", User{}, AreaCalendars, LevelEdit, ScopeOwn, LevelNone, SourceDefault},
		{"deleted group gives nothing", User{GroupIDs: []string{"gone"}}, AreaClients, LevelNone, ScopeOwn, LevelNone, ""},
		{"owner has everything", User{IsOwner: true}, AreaUsers, LevelDelete, "", LevelNone, SourceOwner},
		{"legacy in force", User{GroupIDs: []string{"all-view"}, Legacy: &LegacyRights{
			Permissions: Permissions{AreaPayments: {Level: LevelEdit}}, GroupRights: RightsFingerprints(map[string]Group{"all-view": groups["all-view"]})}},
			AreaPayments, LevelEdit, "", LevelNone, SourceLegacy},
		{"legacy ends when the group changed", User{GroupIDs: []string{"all-view"}, Legacy: &LegacyRights{
			Permissions: Permissions{AreaPayments: {Level: LevelEdit}}, GroupRights: map[string]string{"all-view": "payments=edit/;"}}},
			AreaPayments, LevelView, "", LevelNone, SourceGroup},
		{"legacy ends when a group was added", User{GroupIDs: []string{"all-view", "own-edit"}, Legacy: &LegacyRights{
			Permissions: Permissions{AreaPayments: {Level: LevelEdit}}, GroupRights: RightsFingerprints(map[string]Group{"all-view": groups["all-view"]})}},
			AreaPayments, LevelView, "", LevelNone, SourceGroup},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eff := Compute(tt.user, groups)
			r := eff.Area(tt.area)
			if r.Level != tt.wantLevel || r.Scope != tt.wantScope {
				t.Errorf("got %s/%s, want %s/%s", r.Level, r.Scope, tt.wantLevel, tt.wantScope)
			}
			if tt.area.Scoped() && !tt.user.IsOwner && r.AllLevel != tt.wantAll {
				t.Errorf("all level %s, want %s", r.AllLevel, tt.wantAll)
			}
			if tt.wantSrc != "" && (len(r.Sources) == 0 || r.Sources[0].Type != tt.wantSrc) {
				t.Errorf("sources %v, want first of type %s", r.Sources, tt.wantSrc)
			}
		})
	}
}

func TestCalendarAccess(t *testing.T) {
	own := map[string]Group{"g": group("g", 1, Permissions{AreaCalendars: {Level: LevelView, Scope: ScopeOwn}})}
	all := map[string]Group{"g": group("g", 1, Permissions{AreaCalendars: {Level: LevelEdit, Scope: ScopeAll}})}
	none := map[string]Group{"g": group("g", 1, Permissions{})}
	u := User{GroupIDs: []string{"g"}, CalendarIDs: []string{"mine"}, CalendarAccess: map[string]Level{"front": LevelEdit}}
	tests := []struct {
		name   string
		groups map[string]Group
		cal    string
		action Level
		want   bool
	}{
		{"own calendar at the group level", own, "mine", LevelView, true},
		{"own calendar above the group level", own, "mine", LevelEdit, false},
		{"individual access applies with scope own", own, "front", LevelEdit, true},
		{"no access to other calendars", own, "other", LevelView, false},
		{"scope all covers every calendar", all, "other", LevelEdit, true},
		{"individual access needs calendars from a group", none, "front", LevelView, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eff := Compute(u, tt.groups)
			if got := eff.AuthorizeCalendar(tt.action, tt.cal); got.Allowed != tt.want {
				t.Errorf("allowed = %v (%s), want %v", got.Allowed, got.Reason(), tt.want)
			}
		})
	}
}

func TestNormalizeRefusesBadPermissions(t *testing.T) {
	for _, p := range []Permissions{
		{"wizardry": {Level: LevelView}},
		{AreaClients: {Level: "max"}},
		{AreaPayments: {Level: LevelView, Scope: ScopeAll}},
		{AreaClients: {Level: LevelView, Scope: "some"}},
		{AreaClients: {}},
	} {
		if _, err := p.Normalize("permissions"); ErrorCode(err) != CodeInvalid {
			t.Errorf("Normalize(%v) = %v, want invalid", p, err)
		}
	}
}

func TestNormalizeEmail(t *testing.T) {
	for in, want := range map[string]string{" Mette@Example.COM ": "mette@example.com", "a.b+c@d.dk": "a.b+c@d.dk"} {
		if got, err := NormalizeEmail("email", in); err != nil || EmailKey(got) != want {
			t.Errorf("NormalizeEmail(%q) = %q, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "no-at", "Name <a@b.dk>", "a@b", "a@@b.dk"} {
		if _, err := NormalizeEmail("email", in); ErrorCode(err) != CodeInvalid {
			t.Errorf("NormalizeEmail(%q) accepted", in)
		}
	}
}

// The effective rights keep areas and privileges in arrays: each index must match its list.
func TestAreaAndPrivilegeIndexes(t *testing.T) {
	if len(Areas) != numAreas {
		t.Fatalf("len(Areas) = %d, want numAreas %d", len(Areas), numAreas)
	}
	for i, a := range Areas {
		if got := a.index(); got != i {
			t.Errorf("%s.index() = %d, want %d", a, got, i)
		}
	}
	if len(privilegeSlots) != numPrivileges {
		t.Fatalf("len(privilegeSlots) = %d, want numPrivileges %d", len(privilegeSlots), numPrivileges)
	}
	for i, c := range privilegeSlots {
		if got := c.index(); got != i {
			t.Errorf("%s.index() = %d, want %d", c, got, i)
		}
	}
	if Area("bogus").index() != -1 || Privilege("bogus").index() != -1 {
		t.Error("an unknown area or privilege has an index")
	}
}

// The codes of the compact area rights name what they stand for.
func TestAreaRightCodes(t *testing.T) {
	for _, l := range Levels {
		if got := levelNames[levelCode(l)]; got != l {
			t.Errorf("levelNames[levelCode(%s)] = %q", l, got)
		}
	}
	if levelNames[codeNone] != LevelNone || levelNames[codeDelete] != LevelDelete {
		t.Error("codeNone or codeDelete names another level")
	}
	if scopeNames[codeOwn] != ScopeOwn || scopeNames[codeAll] != ScopeAll || scopeNames[0] != "" {
		t.Error("a scope code names another scope")
	}
	if levelCode("bogus") >= codeNone {
		t.Error("a level not in the catalogue counts")
	}
}
