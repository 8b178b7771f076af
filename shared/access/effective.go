package access

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// SourceType says where a right comes from.
type SourceType string

// Sources of a right.
const (
	SourceGroup    SourceType = "group"
	SourceOverride SourceType = "override"
	SourceLegacy   SourceType = "legacy"
	SourceOwner    SourceType = "owner"
	SourceDefault  SourceType = "default" // the minimal rights of a user without groups
	SourceRole     SourceType = "role"    // a system role (RoleRights)
	SourceGrant    SourceType = "grant"   // a bureau client grant
	// SourceDisabledGroup is a group the user is in that is disabled: listed, giving nothing.
	SourceDisabledGroup SourceType = "disabled_group"
)

// Source explains one contribution to an effective right.
type Source struct {
	Type  SourceType
	ID    string
	Name  string
	Level Level
	Scope Scope
	// Until is when a group membership giving it ends (nil: never).
	Until *time.Time
}

// AreaRight is a user's effective right on one area.
type AreaRight struct {
	// Level is the highest level any source gives.
	Level Level
	// Scope is all when Level is given for all records, own when only for the user's own.
	Scope Scope
	// AllLevel is the highest level given with scope all (record areas; none if only own).
	AllLevel Level
	Sources  []Source
}

// CalendarRight is a user's individual access to one calendar.
type CalendarRight struct {
	Level  Level
	Source Source
}

// Effective is what a user may do, with the reasons.
type Effective struct {
	UserID    string
	IsOwner   bool
	Areas     map[Area]AreaRight
	Calendars map[string]CalendarRight // individual calendar access and own calendars
	// Privs holds the administrative privileges the user has, each with the sources giving it.
	Privs map[Privilege][]Source
}

// minimalRights are those of a user without any group: their own profile and own calendar.
var minimalRights = Permissions{AreaCalendars: {Level: LevelEdit, Scope: ScopeOwn}}

// LegacyInForce reports whether a user's legacy rights still apply given their current groups.
func LegacyInForce(u User, groups map[string]Group) bool {
	if u.Legacy == nil || len(u.Legacy.GroupRights) != len(u.GroupIDs) {
		return false
	}
	for _, id := range u.GroupIDs {
		g, ok := groups[id]
		fp, recorded := u.Legacy.GroupRights[id]
		if !ok || !recorded || RightsFingerprint(g.Permissions) != fp {
			return false
		}
	}
	return true
}

// RightsFingerprint is a canonical text of what a set of permissions gives, so that two sets
// compare equal exactly when they grant the same (areas at none count as absent).
func RightsFingerprint(p Permissions) string {
	var b strings.Builder
	for _, a := range Areas {
		perm := p.Get(a)
		if perm.Level == LevelNone {
			continue
		}
		fmt.Fprintf(&b, "%s=%s/%s;", a, perm.Level, perm.Scope)
	}
	return b.String()
}

// RightsFingerprints fingerprints each group's permissions.
func RightsFingerprints(groups map[string]Group) map[string]string {
	out := make(map[string]string, len(groups))
	for id, g := range groups {
		out[id] = RightsFingerprint(g.Permissions)
	}
	return out
}

// Compute derives a user's effective rights from their groups (missing groups are ignored: a
// deleted group gives nothing), legacy rights, ownership and individual calendar access.
func Compute(u User, groups map[string]Group) Effective {
	eff := Effective{UserID: u.ID, IsOwner: u.IsOwner, Areas: map[Area]AreaRight{}, Calendars: map[string]CalendarRight{},
		Privs: map[Privilege][]Source{}}
	if u.IsOwner {
		src := Source{Type: SourceOwner, Name: "account owner", Level: LevelDelete}
		for _, c := range Privileges {
			eff.Privs[c] = []Source{src}
		}
		for _, a := range Areas {
			r := AreaRight{Level: LevelDelete, AllLevel: LevelNone, Sources: []Source{src}}
			if a.Scoped() {
				r.Scope, r.AllLevel = ScopeAll, LevelDelete
				r.Sources = []Source{{Type: SourceOwner, Name: "account owner", Level: LevelDelete, Scope: ScopeAll}}
			}
			eff.Areas[a] = r
		}
		return eff
	}
	for _, a := range Areas {
		eff.Areas[a] = AreaRight{Level: LevelNone, AllLevel: LevelNone}
	}
	type contribution struct {
		src   Source
		perms Permissions
	}
	var contributions []contribution
	switch {
	case LegacyInForce(u, groups):
		contributions = append(contributions, contribution{Source{Type: SourceLegacy, Name: "individual rights from before user management"}, u.Legacy.Permissions})
	default:
		ids := slices.Clone(u.GroupIDs)
		slices.Sort(ids)
		for _, id := range ids {
			if g, ok := groups[id]; ok && !g.Disabled {
				contributions = append(contributions, contribution{Source{Type: SourceGroup, ID: g.ID, Name: g.Name, Until: u.groupUntil(id)}, g.Permissions})
			}
		}
		if len(contributions) == 0 {
			contributions = append(contributions, contribution{Source{Type: SourceDefault, Name: "no group: own profile and own calendar only"}, minimalRights})
		}
	}
	// Roles carry rights of their own, merged with the groups' (and with legacy rights).
	for _, role := range Roles {
		if !u.HasRole(role) {
			continue
		}
		g := RoleRights[role]
		src := Source{Type: SourceRole, ID: string(role), Name: "role " + string(role)}
		if len(g.Permissions) > 0 {
			contributions = append(contributions, contribution{src, g.Permissions})
		}
		for _, c := range g.Privileges {
			eff.Privs[c] = append(eff.Privs[c], src)
		}
	}
	for _, c := range contributions {
		for _, a := range Areas {
			p := c.perms.Get(a)
			if p.Level == LevelNone {
				continue
			}
			r := eff.Areas[a]
			r.Level = MaxLevel(r.Level, p.Level)
			if a.Scoped() && p.Scope == ScopeAll {
				r.AllLevel = MaxLevel(r.AllLevel, p.Level)
			}
			s := c.src
			s.Level, s.Scope = p.Level, p.Scope
			r.Sources = append(r.Sources, s)
			eff.Areas[a] = r
		}
	}
	addDisabledGroups(&eff, u, groups)
	for _, a := range Areas {
		r := eff.Areas[a]
		if a.Scoped() {
			r.Scope = ScopeOwn
			if r.Level != LevelNone && r.AllLevel == r.Level {
				r.Scope = ScopeAll
			}
		}
		eff.Areas[a] = r
	}
	cal := eff.Areas[AreaCalendars]
	for _, id := range u.CalendarIDs {
		if cal.Level != LevelNone {
			eff.Calendars[id] = CalendarRight{Level: cal.Level, Source: Source{Type: SourceDefault, Name: "own calendar", Level: cal.Level}}
		}
	}
	// Individual calendar access applies where the groups give calendars with scope own; scope
	// all already covers every calendar at the group's level.
	if cal.Level != LevelNone {
		for _, id := range slices.Sorted(maps.Keys(u.CalendarAccess)) {
			lvl := u.CalendarAccess[id]
			if lvl == LevelNone || slices.Contains(u.CalendarIDs, id) {
				continue
			}
			eff.Calendars[id] = CalendarRight{Level: lvl, Source: Source{Type: SourceOverride, ID: id, Name: "individual calendar access", Level: lvl}}
		}
	}
	return eff
}

// describe names the sources of a right for a reason text.
func describe(r AreaRight, a Area) string {
	if len(r.Sources) == 0 {
		return fmt.Sprintf("no group gives %s", a)
	}
	parts := make([]string, 0, len(r.Sources))
	for _, s := range r.Sources {
		var who string
		switch s.Type {
		case SourceGroup:
			who = "group " + s.Name
		case SourceOwner:
			who = "the account owner"
		default:
			who = s.Name
		}
		scope := ""
		if s.Scope != "" {
			scope = " (" + string(s.Scope) + ")"
		}
		parts = append(parts, fmt.Sprintf("%s gives %s %s%s%s", who, a, s.Level, scope, until(s.Until)))
	}
	return strings.Join(parts, "; ")
}

// AuthorizeArea decides an action on an area as a whole.
func (e Effective) AuthorizeArea(action Level, a Area) Decision {
	r := e.Areas[a]
	d := Decision{Allowed: r.Level.AtLeast(action) && action != LevelNone, Level: r.Level, Reason: describe(r, a)}
	if d.Allowed && a.Scoped() && r.Scope == ScopeOwn {
		d.Reason += "; only on their own records"
		if a != AreaCalendars {
			d.Reason += ": clients assigned to them (manually, by appointment or by online booking) and clients the new-client policy opens to every employee; ask with a clientId for one client"
		}
	}
	return d
}

// AuthorizeCalendar decides an action on one calendar: scope all covers every calendar; with scope
// own the user's own calendars and their individual calendar access count.
func (e Effective) AuthorizeCalendar(action Level, calendarID string) Decision {
	r := e.Areas[AreaCalendars]
	if r.AllLevel.AtLeast(action) && action != LevelNone {
		return Decision{Allowed: true, Level: r.AllLevel, Reason: describe(r, AreaCalendars) + "; scope all covers every calendar"}
	}
	if c, ok := e.Calendars[calendarID]; ok {
		lvl := MaxLevel(c.Level, r.AllLevel)
		d := Decision{Allowed: lvl.AtLeast(action) && action != LevelNone, Level: lvl}
		if c.Source.Type == SourceOverride {
			d.Reason = fmt.Sprintf("individual calendar access gives %s on this calendar", c.Level)
		} else {
			d.Reason = fmt.Sprintf("own calendar; %s", describe(r, AreaCalendars))
		}
		return d
	}
	return Decision{Allowed: false, Level: r.AllLevel, Reason: fmt.Sprintf("not their calendar and no individual access to it; %s", describe(r, AreaCalendars))}
}
