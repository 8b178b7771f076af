package access

import (
	"fmt"
	"slices"
)

// Area is a part of the product a permission applies to.
type Area string

// The permission areas of catalogue version CatalogueVersion.
const (
	AreaClients       Area = "clients"
	AreaJournals      Area = "journals"
	AreaInvoices      Area = "invoices"
	AreaPayments      Area = "payments"
	AreaCalendars     Area = "calendars"
	AreaOnlineBooking Area = "online_booking"
	AreaReports       Area = "reports"
	AreaSettings      Area = "settings"
	AreaUsers         Area = "users"
	AreaApps          Area = "apps"
)

// CatalogueVersion changes whenever an area, level or template changes meaning.
const CatalogueVersion = "2026-11-01"

// Areas lists every area in catalogue order.
var Areas = []Area{AreaClients, AreaJournals, AreaInvoices, AreaPayments, AreaCalendars,
	AreaOnlineBooking, AreaReports, AreaSettings, AreaUsers, AreaApps}

// numAreas is len(Areas): the catalogue is fixed, so effective rights keep an array of areas.
const numAreas = 10

// index is a's place in Areas, -1 for an area not in the catalogue.
func (a Area) index() int {
	// A switch, not a search of Areas: every decision reads areas many times.
	switch a {
	case AreaClients:
		return 0
	case AreaJournals:
		return 1
	case AreaInvoices:
		return 2
	case AreaPayments:
		return 3
	case AreaCalendars:
		return 4
	case AreaOnlineBooking:
		return 5
	case AreaReports:
		return 6
	case AreaSettings:
		return 7
	case AreaUsers:
		return 8
	case AreaApps:
		return 9
	}
	return -1
}

var areaDescriptions = map[Area]string{
	AreaClients:       "Client records",
	AreaJournals:      "Client journals",
	AreaInvoices:      "Invoices of clients",
	AreaPayments:      "Payments and payouts",
	AreaCalendars:     "Calendars and appointments",
	AreaOnlineBooking: "Online booking set-up",
	AreaReports:       "Reports and statistics",
	AreaSettings:      "Account settings, subscription included: edit here is nearly full administrator access",
	AreaUsers:         "User management: employees and permission groups",
	AreaApps:          "Activating and configuring apps",
}

// Scoped reports whether the area has an own/all scope (record areas).
func (a Area) Scoped() bool {
	switch a {
	case AreaClients, AreaJournals, AreaInvoices, AreaCalendars:
		return true
	}
	return false
}

// Valid reports whether a is in the catalogue.
func (a Area) Valid() bool { return slices.Contains(Areas, a) }

// Description is the catalogue's one-line description of the area.
func (a Area) Description() string { return areaDescriptions[a] }

// Level is how much a permission allows; each level implies the lower ones.
type Level string

// Levels in increasing order.
const (
	LevelNone   Level = "none"
	LevelView   Level = "view"
	LevelEdit   Level = "edit"
	LevelDelete Level = "delete"
)

// Levels lists the levels in increasing order.
var Levels = []Level{LevelNone, LevelView, LevelEdit, LevelDelete}

func (l Level) rank() int {
	// A switch, not a search of Levels: every decision compares levels many times.
	switch l {
	case LevelNone:
		return 0
	case LevelView:
		return 1
	case LevelEdit:
		return 2
	case LevelDelete:
		return 3
	}
	return -1
}

// Valid reports whether l is a known level.
func (l Level) Valid() bool { return l.rank() >= 0 }

// AtLeast reports whether l implies m.
func (l Level) AtLeast(m Level) bool { return l.rank() >= m.rank() }

// MaxLevel returns the higher of two levels.
func MaxLevel(a, b Level) Level {
	if a.AtLeast(b) {
		return a
	}
	return b
}

// MinLevel returns the lower of two levels.
func MinLevel(a, b Level) Level {
	if a.AtLeast(b) {
		return b
	}
	return a
}

// Scope says whether a record-area permission covers the user's own records or all of them.
type Scope string

// Scopes.
const (
	ScopeOwn Scope = "own"
	ScopeAll Scope = "all"
)

// Permission is one area's level and, for record areas, its scope.
type Permission struct {
	Level Level
	Scope Scope // empty for areas without scope
}

// Permissions maps areas to permissions; a missing area means none.
type Permissions map[Area]Permission

// Get returns the permission on an area, none when absent.
func (p Permissions) Get(a Area) Permission {
	if perm, ok := p[a]; ok {
		return perm
	}
	return Permission{Level: LevelNone}
}

// Normalize validates p and fills defaults: scoped areas without scope get "own", unscoped areas
// lose any scope, and every catalogue area is present. field names the request field for errors.
func (p Permissions) Normalize(field string) (Permissions, error) {
	out := make(Permissions, len(Areas))
	for a, perm := range p {
		if !a.Valid() {
			return nil, Invalid(fmt.Sprintf("%s.%s", field, a), "unknown area; the catalogue has %v", Areas)
		}
		if perm.Level == "" {
			return nil, Invalid(fmt.Sprintf("%s.%s.level", field, a), "level is required (none, view, edit or delete)")
		}
		if !perm.Level.Valid() {
			return nil, Invalid(fmt.Sprintf("%s.%s.level", field, a), "must be none, view, edit or delete")
		}
		switch {
		case !a.Scoped() && perm.Scope != "":
			return nil, Invalid(fmt.Sprintf("%s.%s.scope", field, a), "area %s has no scope", a)
		case a.Scoped() && perm.Scope == "":
			perm.Scope = ScopeOwn
		case a.Scoped() && perm.Scope != ScopeOwn && perm.Scope != ScopeAll:
			return nil, Invalid(fmt.Sprintf("%s.%s.scope", field, a), "must be own or all")
		}
		out[a] = perm
	}
	for _, a := range Areas {
		if _, ok := out[a]; !ok {
			perm := Permission{Level: LevelNone}
			if a.Scoped() {
				perm.Scope = ScopeOwn
			}
			out[a] = perm
		}
	}
	return out, nil
}

// Template is a predefined permission group offered when the Employees app is activated.
type Template struct {
	ID          string
	Name        string
	Description string
	Permissions Permissions
}

func all(l Level) Permission { return Permission{Level: l, Scope: ScopeAll} }
func own(l Level) Permission { return Permission{Level: l, Scope: ScopeOwn} }
func flat(l Level) Permission {
	return Permission{Level: l}
}

// Templates are the predefined groups. They are starting points: once created, a group is the
// tenant's own and can be edited freely.
var Templates = []Template{
	{
		ID: "administrator", Name: "Administrator",
		Description: "Full access to clients, finances, settings and user management",
		Permissions: Permissions{
			AreaClients: all(LevelDelete), AreaJournals: all(LevelDelete), AreaInvoices: all(LevelDelete),
			AreaPayments: flat(LevelDelete), AreaCalendars: all(LevelDelete), AreaOnlineBooking: flat(LevelEdit),
			AreaReports: flat(LevelView), AreaSettings: flat(LevelEdit), AreaUsers: flat(LevelDelete),
			AreaApps: flat(LevelEdit),
		},
	},
	{
		ID: "secretary", Name: "Secretary",
		Description: "Reception: every calendar, online booking and client details, no journals",
		Permissions: Permissions{
			AreaClients: all(LevelEdit), AreaJournals: own(LevelNone), AreaInvoices: all(LevelEdit),
			AreaPayments: flat(LevelView), AreaCalendars: all(LevelEdit), AreaOnlineBooking: flat(LevelEdit),
			AreaReports: flat(LevelNone), AreaSettings: flat(LevelNone), AreaUsers: flat(LevelNone),
			AreaApps: flat(LevelNone),
		},
	},
	{
		ID: "therapist", Name: "Therapist",
		Description: "Practitioner: their own clients, journals, invoices and calendar",
		Permissions: Permissions{
			AreaClients: own(LevelEdit), AreaJournals: own(LevelEdit), AreaInvoices: own(LevelEdit),
			AreaPayments: flat(LevelNone), AreaCalendars: own(LevelEdit), AreaOnlineBooking: flat(LevelNone),
			AreaReports: flat(LevelNone), AreaSettings: flat(LevelNone), AreaUsers: flat(LevelNone),
			AreaApps: flat(LevelNone),
		},
	},
	{
		ID: "bookkeeper", Name: "Bookkeeper",
		Description: "Auditor: sees invoices and payments, nothing else",
		Permissions: Permissions{
			AreaClients: own(LevelNone), AreaJournals: own(LevelNone), AreaInvoices: all(LevelView),
			AreaPayments: flat(LevelView), AreaCalendars: own(LevelNone), AreaOnlineBooking: flat(LevelNone),
			AreaReports: flat(LevelNone), AreaSettings: flat(LevelNone), AreaUsers: flat(LevelNone),
			AreaApps: flat(LevelNone),
		},
	},
}

// TemplateByID finds a template.
func TemplateByID(id string) (Template, bool) {
	for _, t := range Templates {
		if t.ID == id {
			return t, true
		}
	}
	return Template{}, false
}
