package access

import (
	"fmt"
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

// Effective is what a user may do, with the reasons. It is a small value of fixed size (the
// areas and privileges are arrays, the calendars are read from the user when asked), so that
// computing it costs one allocation, the sources, and passing it on costs little. Read it
// through its methods.
type Effective struct {
	UserID  string
	IsOwner bool
	// areas holds the right on each area of the catalogue, by Area.index; sources holds every
	// area's sources, area after area (read-only: the owner's are shared).
	areas   [numAreas]areaRight
	sources []Source
	// privs holds the sources of each administrative privilege the user has, by
	// Privilege.index; a privilege no source gives is absent.
	privs [numPrivileges][]Source
	// The user's calendars, worded when asked (Calendar, Calendars): the groups' level on
	// calendars, the user's own calendars and their individual calendar access. They are the
	// user's own slice and map: a User's are replaced when they change, never changed in place.
	calLevel       Level
	ownCalendars   []string
	calendarAccess map[string]Level
}

// areaRight is an AreaRight kept small: its levels and scope by code (levelNames,
// scopeNames), its sources as the range [start, end) of Effective.sources.
type areaRight struct {
	level, all, scope uint8
	start, end        uint16
}

// The level and scope codes of areaRight (levelNames and scopeNames name them; code 0 is the
// zero value's "").
const (
	codeNone   = uint8(1) // levelCode(LevelNone)
	codeDelete = uint8(4) // levelCode(LevelDelete)
	codeOwn    = uint8(1)
	codeAll    = uint8(2)
)

var (
	levelNames = [...]Level{"", LevelNone, LevelView, LevelEdit, LevelDelete}
	scopeNames = [...]Scope{"", ScopeOwn, ScopeAll}
)

// levelCode is l's code: above codeNone for the levels above none, below it (the "" of the zero
// value) for one that is not a level, which therefore never counts.
func levelCode(l Level) uint8 { return uint8(l.rank() + 1) }

// Area is the user's effective right on area a (the zero AreaRight for an area not in the
// catalogue).
func (e *Effective) Area(a Area) AreaRight {
	i := a.index()
	if i < 0 {
		return AreaRight{}
	}
	x := e.areas[i]
	r := AreaRight{Level: levelNames[x.level], Scope: scopeNames[x.scope], AllLevel: levelNames[x.all]}
	if x.end > x.start {
		r.Sources = e.sources[x.start:x.end:x.end]
	}
	return r
}

// PrivilegeSources lists the sources giving privilege c (none: the user does not have it).
func (e *Effective) PrivilegeSources(c Privilege) []Source {
	if i := c.index(); i >= 0 {
		return e.privs[i]
	}
	return nil
}

// Privileges maps every privilege the user has to its sources (built when asked: answers and
// tests, not decisions, read it).
func (e *Effective) Privileges() map[Privilege][]Source {
	out := map[Privilege][]Source{}
	for _, c := range privilegeSlots {
		if s := e.privs[c.index()]; len(s) > 0 {
			out[c] = s
		}
	}
	return out
}

// Calendar is the user's individual access to one calendar: one of their own, or individual
// calendar access to another's. ok is false for any other calendar, and for every calendar
// when the groups give nothing on calendars.
func (e *Effective) Calendar(id string) (r CalendarRight, ok bool) {
	if e.calLevel == "" || e.calLevel == LevelNone {
		return CalendarRight{}, false
	}
	if slices.Contains(e.ownCalendars, id) {
		return ownCalendar(e.calLevel), true
	}
	if lvl, ok := e.calendarAccess[id]; ok && lvl != LevelNone {
		return calendarAccess(id, lvl), true
	}
	return CalendarRight{}, false
}

// Calendars maps every calendar the user has individual access to (Calendar) to that access,
// built when asked.
func (e *Effective) Calendars() map[string]CalendarRight {
	out := map[string]CalendarRight{}
	if e.calLevel == "" || e.calLevel == LevelNone {
		return out
	}
	for _, id := range e.ownCalendars {
		out[id] = ownCalendar(e.calLevel)
	}
	for id, lvl := range e.calendarAccess {
		if lvl == LevelNone || slices.Contains(e.ownCalendars, id) {
			continue
		}
		out[id] = calendarAccess(id, lvl)
	}
	return out
}

func ownCalendar(l Level) CalendarRight {
	return CalendarRight{Level: l, Source: Source{Type: SourceDefault, Name: "own calendar", Level: l}}
}

func calendarAccess(id string, l Level) CalendarRight {
	return CalendarRight{Level: l, Source: Source{Type: SourceOverride, ID: id, Name: "individual calendar access", Level: l}}
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

// Shared, read-only sources: every owner's rights and every role's privileges point at these
// (cut with their capacity at their length, so an append copies rather than writes into them).
var (
	ownerSources = []Source{{Type: SourceOwner, Name: "account owner", Level: LevelDelete}}
	// ownerAreaSources holds the owner's source on each area, by Area.index (scope all on
	// record areas).
	ownerAreaSources = func() []Source {
		out := make([]Source, len(Areas))
		for i, a := range Areas {
			out[i] = ownerSources[0]
			if a.Scoped() {
				out[i].Scope = ScopeAll
			}
		}
		return out
	}()
	// roleSources[i] is the source naming Roles[i].
	roleSources = func() [][]Source {
		out := make([][]Source, len(Roles))
		for i, role := range Roles {
			out[i] = []Source{{Type: SourceRole, ID: string(role), Name: "role " + string(role)}}
		}
		return out
	}()
)

// Compute derives a user's effective rights from their groups (missing groups are ignored: a
// deleted group gives nothing), legacy rights, ownership and individual calendar access.
func Compute(u User, groups map[string]Group) Effective {
	eff := Effective{UserID: u.ID, IsOwner: u.IsOwner}
	if u.IsOwner {
		for _, c := range Privileges {
			eff.privs[c.index()] = ownerSources
		}
		eff.sources = ownerAreaSources
		for i, a := range Areas {
			x := areaRight{level: codeDelete, all: codeNone, start: uint16(i), end: uint16(i + 1)}
			if a.Scoped() {
				x.scope, x.all = codeAll, codeDelete
			}
			eff.areas[i] = x
		}
		return eff
	}
	// The hot path of every request: the areas are built in an array, their sources share one
	// backing slice (the one allocation), and the contributions live on the stack.
	type contribution struct {
		src   Source
		perms Permissions
	}
	var buf [8]contribution
	contributions := buf[:0]
	anyDisabled := false // a group the user is in is disabled (legacy rights in force list none)
	switch {
	case LegacyInForce(u, groups):
		contributions = append(contributions, contribution{Source{Type: SourceLegacy, Name: "individual rights from before user management"}, u.Legacy.Permissions})
	default:
		ids := u.GroupIDs
		if !slices.IsSorted(ids) {
			var idbuf [16]string
			ids = append(idbuf[:0], ids...)
			slices.Sort(ids)
		}
		for _, id := range ids {
			switch g, ok := groups[id]; {
			case ok && g.Disabled:
				anyDisabled = true
			case ok:
				contributions = append(contributions, contribution{Source{Type: SourceGroup, ID: g.ID, Name: g.Name, Until: u.groupUntil(id)}, g.Permissions})
			}
		}
		if len(contributions) == 0 {
			contributions = append(contributions, contribution{Source{Type: SourceDefault, Name: "no group: own profile and own calendar only"}, minimalRights})
		}
	}
	// Roles carry rights of their own, merged with the groups' (and with legacy rights).
	for i, role := range Roles {
		if len(u.Roles) == 0 {
			break
		}
		if !u.HasRole(role) {
			continue
		}
		g := RoleRights[role]
		if len(g.Permissions) > 0 {
			contributions = append(contributions, contribution{roleSources[i][0], g.Permissions})
		}
		for _, c := range g.Privileges {
			if p := &eff.privs[c.index()]; *p == nil {
				*p = roleSources[i]
			} else {
				*p = append(*p, roleSources[i][0])
			}
		}
	}
	// Every area's sources, area after area, are gathered on the stack and copied to the heap
	// at once: one allocation, sized exactly and written in one go (beyond 16 sources the
	// gathering itself moves to the heap, one allocation more).
	var sbuf [16]Source
	gathered := sbuf[:0]
	for i, a := range Areas {
		scoped := a.Scoped()
		x := areaRight{level: codeNone, all: codeNone, start: uint16(len(gathered))}
		for ci := range contributions {
			c := &contributions[ci]
			p := c.perms.Get(a)
			if p.Level == LevelNone {
				continue
			}
			code := levelCode(p.Level)
			x.level = max(x.level, code)
			if scoped && p.Scope == ScopeAll {
				x.all = max(x.all, code)
			}
			s := c.src
			s.Level, s.Scope = p.Level, p.Scope
			gathered = append(gathered, s)
		}
		x.end = uint16(len(gathered))
		if scoped {
			x.scope = codeOwn
			if x.level != codeNone && x.all == x.level {
				x.scope = codeAll
			}
		}
		eff.areas[i] = x
	}
	if len(gathered) > 0 {
		eff.sources = make([]Source, len(gathered))
		copy(eff.sources, gathered)
	}
	// Disabled groups are listed among the sources, giving nothing (levels and scopes stay).
	if anyDisabled {
		addDisabledGroups(&eff, u, groups)
	}
	// Individual calendar access applies where the groups give calendars at all (with scope
	// all it changes nothing: that covers every calendar at the group's level).
	if cal := eff.Area(AreaCalendars); cal.Level != LevelNone {
		eff.calLevel, eff.ownCalendars, eff.calendarAccess = cal.Level, u.CalendarIDs, u.CalendarAccess
	}
	return eff
}

// describeTo names the sources of a right on area a for a reason text.
func describeTo(b *strings.Builder, sources []Source, a Area) {
	if len(sources) == 0 {
		put(b, "no group gives ", string(a))
		return
	}
	for i, s := range sources {
		if i > 0 {
			put(b, "; ")
		}
		switch s.Type {
		case SourceGroup:
			put(b, "group ", s.Name)
		case SourceOwner:
			put(b, "the account owner")
		default:
			put(b, s.Name)
		}
		put(b, " gives ", string(a), " ", string(s.Level))
		if s.Scope != "" {
			put(b, " (", string(s.Scope), ")")
		}
		put(b, until(s.Until))
	}
}

// The notes of a right with scope own (AuthorizeArea).
const (
	ownRecordsNote = "; only on their own records"
	ownClientsNote = ownRecordsNote + ": clients assigned to them (manually, by appointment or by online booking) and clients the new-client policy opens to every employee; ask with a clientId for one client"
)

// AuthorizeArea decides an action on an area as a whole.
func (e *Effective) AuthorizeArea(action Level, a Area) Decision {
	r := e.Area(a)
	d := Decision{Allowed: r.Level.AtLeast(action) && action != LevelNone, Level: r.Level}
	note := ""
	if d.Allowed && a.Scoped() && r.Scope == ScopeOwn {
		note = ownRecordsNote
		if a != AreaCalendars {
			note = ownClientsNote
		}
	}
	d.reason = rightOn("", r, a, note)
	return d
}

// AuthorizeCalendar decides an action on one calendar: scope all covers every calendar; with scope
// own the user's own calendars and their individual calendar access count.
func (e *Effective) AuthorizeCalendar(action Level, calendarID string) Decision {
	r := e.Area(AreaCalendars)
	if r.AllLevel.AtLeast(action) && action != LevelNone {
		return Decision{Allowed: true, Level: r.AllLevel, reason: rightOn("", r, AreaCalendars, "; scope all covers every calendar")}
	}
	if c, ok := e.Calendar(calendarID); ok {
		lvl := MaxLevel(c.Level, r.AllLevel)
		d := Decision{Allowed: lvl.AtLeast(action) && action != LevelNone, Level: lvl}
		if c.Source.Type == SourceOverride {
			d.reason = becauseOf("individual calendar access gives ", string(c.Level), " on this calendar")
		} else {
			d.reason = rightOn("own calendar; ", r, AreaCalendars, "")
		}
		return d
	}
	return Decision{Allowed: false, Level: r.AllLevel, reason: rightOn("not their calendar and no individual access to it; ", r, AreaCalendars, "")}
}
