package httpapi

import (
	"context"
	"time"

	"github.com/tilgang/tilgang/shared/access"
)

// calendarRoutes serves calendars and the personal data export (the second pass over the
// seeds; the Tenants app's activation is with the settings).
func (a *API) calendarRoutes(m map[string]routeFunc) {
	m["GET /v1/calendars"] = a.listCalendars
	m["GET /v1/calendars/{calendarId}"] = a.getCalendar
	m["PATCH /v1/calendars/{calendarId}"] = a.patchCalendar
	m["GET /v1/users/{userId}/export"] = a.exportUser
}

func (a *API) activateTenants(ctx context.Context, r *request) (response, error) {
	return activateApp(ctx, r, a.People.ActivateTenants)
}

type seatJSON struct {
	UserID      string              `json:"userId"`
	Kind        access.UserKind     `json:"kind"`
	Professions []access.Profession `json:"professions"`
	Billable    bool                `json:"billable"`
	Reason      string              `json:"reason"`
}

func toSeatsJSON(seats []access.Seat) []seatJSON {
	out := make([]seatJSON, 0, len(seats))
	for _, s := range seats {
		out = append(out, seatJSON{UserID: s.UserID, Kind: s.Kind, Professions: nonNil(s.Professions), Billable: s.Billable, Reason: s.Reason})
	}
	return out
}

type calendarJSON struct {
	ID       string  `json:"id"`
	Name     string  `json:"name"`
	OwnerID  *string `json:"ownerId"` // null: kept after its owner was deleted
	Bookable bool    `json:"bookable"`
	Version  int     `json:"version"`
}

func toCalendarJSON(c access.Calendar) calendarJSON {
	j := calendarJSON{ID: c.ID, Name: c.Name, Bookable: c.Bookable, Version: max(c.Version, 1)}
	if c.OwnerID != "" {
		owner := c.OwnerID
		j.OwnerID = &owner
	}
	return j
}

func (a *API) listCalendars(ctx context.Context, r *request) (response, error) {
	if err := r.knownQuery("limit", "cursor"); err != nil {
		return response{}, err
	}
	p, err := r.page()
	if err != nil {
		return response{}, err
	}
	cals, next, err := a.People.ListCalendars(ctx, r.caller, p)
	if err != nil {
		return response{}, err
	}
	return ok(listOf(cals, next, toCalendarJSON)), nil
}

func (a *API) getCalendar(ctx context.Context, r *request) (response, error) {
	c, err := a.People.GetCalendar(ctx, r.caller, r.path("calendarId"))
	if err != nil {
		return response{}, err
	}
	return okV(toCalendarJSON(c), max(c.Version, 1)), nil
}

func (a *API) patchCalendar(ctx context.Context, r *request) (response, error) {
	var b struct {
		Name    *string `json:"name"`
		OwnerID *string `json:"ownerId"`
	}
	if err := r.decode(&b); err != nil {
		return response{}, err
	}
	im, err := r.ifMatch()
	if err != nil {
		return response{}, err
	}
	c, err := a.People.UpdateCalendar(ctx, r.caller, r.path("calendarId"), access.CalendarPatch{Name: b.Name, OwnerID: b.OwnerID}, im)
	if err != nil {
		return response{}, err
	}
	return okV(toCalendarJSON(c), max(c.Version, 1)), nil
}

type exportJSON struct {
	ExportedAt    time.Time          `json:"exportedAt"`
	Anonymised    bool               `json:"anonymised"`
	User          userJSON           `json:"user"`
	Groups        []groupJSON        `json:"groups"`
	Calendars     []calendarJSON     `json:"calendars"`
	Assignments   []assignmentJSON   `json:"clientAssignments"`
	Grants        []exportGrantJSON  `json:"clientGrants"`
	ClientAdminOf []string           `json:"clientAdminOf"`
	ProgramsAt    []string           `json:"programsAt"`
	Links         []linkJSON         `json:"links"`
	Audit         []auditJSON        `json:"audit"`
	Notifications []notificationJSON `json:"notifications"`
	// Directory is what a provisioning directory (SCIM) said about the person.
	Directory *directoryUserJSON `json:"directory,omitempty"`
}

type directoryUserJSON struct {
	ExternalID     string `json:"externalId,omitempty"`
	GivenName      string `json:"givenName,omitempty"`
	FamilyName     string `json:"familyName,omitempty"`
	DisplayName    string `json:"displayName,omitempty"`
	Title          string `json:"title,omitempty"`
	PhoneType      string `json:"phoneType,omitempty"`
	EmployeeNumber string `json:"employeeNumber,omitempty"`
	Department     string `json:"department,omitempty"`
	ManagerID      string `json:"managerId,omitempty"`
}

type exportGrantJSON struct {
	ClientID string `json:"clientId"`
	grantJSON
}

func (a *API) exportUser(ctx context.Context, r *request) (response, error) {
	if err := r.knownQuery(); err != nil {
		return response{}, err
	}
	x, err := a.People.ExportUser(ctx, r.caller, r.path("userId"))
	if err != nil {
		return response{}, err
	}
	out := exportJSON{ExportedAt: x.ExportedAt, Anonymised: x.Anonymised, User: toUserJSON(x.User),
		Groups: []groupJSON{}, Calendars: []calendarJSON{}, Assignments: []assignmentJSON{}, Grants: []exportGrantJSON{},
		ClientAdminOf: nonNil(x.ClientRoles.AdminOf), ProgramsAt: nonNil(x.ClientRoles.ProgramsAt),
		Links: []linkJSON{}, Audit: []auditJSON{}, Notifications: []notificationJSON{}}
	if d := x.Directory; d != nil {
		out.Directory = &directoryUserJSON{ExternalID: d.ExternalID, GivenName: d.GivenName, FamilyName: d.FamilyName,
			DisplayName: d.DisplayName, Title: d.Title, PhoneType: d.PhoneType, EmployeeNumber: d.EmployeeNumber,
			Department: d.Department, ManagerID: d.ManagerID}
	}
	for _, g := range x.Groups {
		out.Groups = append(out.Groups, toGroupJSON(g))
	}
	for _, c := range x.Calendars {
		out.Calendars = append(out.Calendars, toCalendarJSON(c))
	}
	for _, as := range x.Assignments {
		out.Assignments = append(out.Assignments, toAssignmentJSON(as))
	}
	for _, g := range x.Grants {
		out.Grants = append(out.Grants, exportGrantJSON{ClientID: g.ClientID, grantJSON: *toGrantJSON(&g)})
	}
	for _, l := range x.Links {
		out.Links = append(out.Links, toLinkJSON(l))
	}
	for _, e := range x.Audit {
		out.Audit = append(out.Audit, toAuditJSON(e))
	}
	for _, n := range x.Notifications {
		out.Notifications = append(out.Notifications, toNotificationJSON(n))
	}
	return ok(out), nil
}
