package httpapi

import (
	"time"

	"github.com/tilgang/tilgang/shared/access"
)

// The JSON representations of the API (see shared/openapi/openapi.yaml).

type permissionJSON struct {
	Level access.Level `json:"level"`
	Scope access.Scope `json:"scope,omitempty"`
}

func permissionsJSON(p access.Permissions) map[access.Area]permissionJSON {
	out := map[access.Area]permissionJSON{}
	for _, a := range access.Areas {
		perm := p.Get(a)
		out[a] = permissionJSON{Level: perm.Level, Scope: perm.Scope}
	}
	return out
}

func permissionsFromJSON(m map[access.Area]permissionJSON) access.Permissions {
	if m == nil {
		return nil
	}
	out := access.Permissions{}
	for a, p := range m {
		out[a] = access.Permission{Level: p.Level, Scope: p.Scope}
	}
	return out
}

type userJSON struct {
	ID             string                  `json:"id"`
	Name           string                  `json:"name"`
	Email          string                  `json:"email"`
	Phone          string                  `json:"phone,omitempty"`
	PictureURL     string                  `json:"pictureUrl,omitempty"`
	Profession     access.Profession       `json:"profession"`
	GroupIDs       []string                `json:"groupIds"`
	Roles          []access.Role           `json:"roles"`
	Status         access.Status           `json:"status"`
	CalendarIDs    []string                `json:"calendarIds"`
	CalendarAccess map[string]access.Level `json:"calendarAccess"`
	IsOwner        bool                    `json:"isOwner"`
	LegacyRights   bool                    `json:"legacyRights,omitempty"`
	RemovedAt      *time.Time              `json:"removedAt,omitempty"`
	CreatedAt      time.Time               `json:"createdAt"`
	UpdatedAt      time.Time               `json:"updatedAt"`
	Version        int                     `json:"version"`
	// GroupExpiresAt ends some group memberships (group id → instant).
	GroupExpiresAt map[string]time.Time `json:"groupExpiresAt,omitempty"`

	Professions []access.Profession `json:"professions"`
	Kind        access.UserKind     `json:"kind"`
}

func toUserJSON(u access.User) userJSON {
	j := userJSON{
		ID: u.ID, Name: u.Name, Email: u.Email, Phone: u.Phone, PictureURL: u.PictureURL, Profession: u.Profession,
		GroupIDs: nonNil(u.GroupIDs), Roles: nonNil(u.Roles), Status: u.Status, CalendarIDs: nonNil(u.CalendarIDs),
		CalendarAccess: u.CalendarAccess, IsOwner: u.IsOwner, LegacyRights: u.Legacy != nil, RemovedAt: u.RemovedAt,
		CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt, Version: u.Version,
	}
	if j.CalendarAccess == nil {
		j.CalendarAccess = map[string]access.Level{}
	}
	j.GroupExpiresAt = groupExpiryJSON(u)
	j.Professions, j.Kind = nonNil(u.AllProfessions()), u.KindOf()
	return j
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

type groupJSON struct {
	ID          string                         `json:"id"`
	Name        string                         `json:"name"`
	Description string                         `json:"description"`
	Permissions map[access.Area]permissionJSON `json:"permissions"`
	Template    string                         `json:"template,omitempty"`
	CreatedAt   time.Time                      `json:"createdAt"`
	UpdatedAt   time.Time                      `json:"updatedAt"`
	Version     int                            `json:"version"`

	Disabled bool `json:"disabled"`
}

func toGroupJSON(g access.Group) groupJSON {
	return groupJSON{ID: g.ID, Name: g.Name, Description: g.Description, Permissions: permissionsJSON(g.Permissions),
		Template: g.Template, CreatedAt: g.CreatedAt, UpdatedAt: g.UpdatedAt, Version: g.Version, Disabled: g.Disabled}
}

type settingsJSON struct {
	NewClientAccess     access.ClientPolicy `json:"newClientAccess"`
	AnonymiseAfterDays  int                 `json:"anonymiseAfterDays"`
	BookableCalendarIDs []string            `json:"bookableCalendarIds"`
	ActiveApps          []string            `json:"activeApps"`
	OwnerID             string              `json:"ownerId"`
	Version             int                 `json:"version"`

	HirerSeats access.HirerSeats `json:"hirerSeats"`
}

func toSettingsJSON(t access.Tenant) settingsJSON {
	return settingsJSON{NewClientAccess: t.Settings.NewClientAccess, AnonymiseAfterDays: t.Settings.AnonymiseAfterDays,
		BookableCalendarIDs: nonNil(t.Settings.BookableCalendarIDs), ActiveApps: nonNil(t.Settings.ActiveApps),
		OwnerID: t.OwnerID, Version: t.Version, HirerSeats: t.Settings.HirerSeats.Or(access.HirerSeatsBillable)}
}

type sourceJSON struct {
	Type  access.SourceType `json:"type"`
	ID    string            `json:"id,omitempty"`
	Name  string            `json:"name,omitempty"`
	Level access.Level      `json:"level,omitempty"`
	Scope access.Scope      `json:"scope,omitempty"`
	Until *time.Time        `json:"until,omitempty"`
}

func toSourceJSON(s access.Source) sourceJSON {
	return sourceJSON{Type: s.Type, ID: s.ID, Name: s.Name, Level: s.Level, Scope: s.Scope, Until: s.Until}
}

type areaRightJSON struct {
	Level    access.Level `json:"level"`
	Scope    access.Scope `json:"scope,omitempty"`
	AllLevel access.Level `json:"allLevel,omitempty"`
	Sources  []sourceJSON `json:"sources"`
}

type calendarRightJSON struct {
	Level  access.Level `json:"level"`
	Source sourceJSON   `json:"source"`
}

type rightsJSON struct {
	UserID         string                        `json:"userId"`
	TenantID       string                        `json:"tenantId"`
	Name           string                        `json:"name"`
	IsOwner        bool                          `json:"isOwner"`
	Status         access.Status                 `json:"status"`
	Roles          []access.Role                 `json:"roles"`
	GroupIDs       []string                      `json:"groupIds"`
	GroupExpiresAt map[string]time.Time          `json:"groupExpiresAt,omitempty"`
	Permissions    map[access.Area]areaRightJSON `json:"permissions"`
	CalendarAccess map[string]calendarRightJSON  `json:"calendarAccess"`
	// Privileges are the administrative rights beyond areas (roles and ownership carry them).
	Privileges map[access.Privilege][]sourceJSON `json:"privileges"`
}

func toRightsJSON(r access.Rights) rightsJSON {
	j := rightsJSON{UserID: r.User.ID, TenantID: r.User.TenantID, Name: r.User.Name, IsOwner: r.User.IsOwner,
		Status: r.User.Status, Roles: nonNil(r.User.Roles), GroupIDs: nonNil(r.User.GroupIDs), GroupExpiresAt: groupExpiryJSON(r.User),
		Permissions: map[access.Area]areaRightJSON{}, CalendarAccess: map[string]calendarRightJSON{}}
	for _, a := range access.Areas {
		ar := r.Effective.Area(a)
		aj := areaRightJSON{Level: ar.Level, Scope: ar.Scope, Sources: []sourceJSON{}}
		if a.Scoped() && ar.AllLevel != ar.Level {
			aj.AllLevel = ar.AllLevel
		}
		for _, s := range ar.Sources {
			aj.Sources = append(aj.Sources, toSourceJSON(s))
		}
		j.Permissions[a] = aj
	}
	for id, c := range r.Effective.Calendars() {
		j.CalendarAccess[id] = calendarRightJSON{Level: c.Level, Source: toSourceJSON(c.Source)}
	}
	j.Privileges = map[access.Privilege][]sourceJSON{}
	for p, srcs := range r.Effective.Privileges() {
		for _, s := range srcs {
			j.Privileges[p] = append(j.Privileges[p], toSourceJSON(s))
		}
	}
	return j
}

type auditJSON struct {
	ID         string         `json:"id"`
	Time       time.Time      `json:"time"`
	ActorID    string         `json:"actorId"`
	Action     string         `json:"action"`
	TargetType string         `json:"targetType"`
	TargetID   string         `json:"targetId"`
	Before     map[string]any `json:"before,omitempty"`
	After      map[string]any `json:"after,omitempty"`
	RequestID  string         `json:"requestId"`
}

func toAuditJSON(e access.AuditEntry) auditJSON {
	return auditJSON{ID: e.ID, Time: e.Time, ActorID: e.ActorID, Action: e.Action, TargetType: e.TargetType,
		TargetID: e.TargetID, Before: e.Before, After: e.After, RequestID: e.RequestID}
}
