package httpapi

import (
	"context"
	"time"

	"github.com/tilgang/tilgang/shared/access"
)

// clientRoutes serves clients, assignments, appointments and the reverse look-ups. The client
// administrator routes of the same function are registered elsewhere.
func (a *API) clientRoutes(m map[string]routeFunc) {
	m["GET /v1/clients"] = a.listClients
	m["POST /v1/clients"] = a.createClient
	m["GET /v1/clients/{clientId}"] = a.getClient
	m["GET /v1/clients/{clientId}/access"] = a.listClientAccess
	m["PUT /v1/clients/{clientId}/access/{userId}"] = a.putAssignment
	m["DELETE /v1/clients/{clientId}/access/{userId}"] = a.deleteAssignment
	m["GET /v1/users/{userId}/clients"] = a.listUserClients
	m["POST /v1/appointments"] = a.createAppointment
}

type clientJSON struct {
	ID          string              `json:"id"`
	Name        string              `json:"name"`
	Status      access.ClientStatus `json:"status"`
	Source      access.ClientSource `json:"source"`
	PolicyLevel access.Level        `json:"policyLevel"`
	CreatedAt   time.Time           `json:"createdAt"`
	Version     int                 `json:"version"`

	// HirerID names the hirer whose own practice the client belongs to; absent: the clinic's.
	HirerID string `json:"hirerId,omitempty"`
}

func toClientJSON(c access.Client) clientJSON {
	j := clientJSON{ID: c.ID, Name: c.Name, Status: c.Status, Source: c.Source, PolicyLevel: c.PolicyLevel,
		CreatedAt: c.CreatedAt, Version: c.Version, HirerID: c.Practice}
	if j.PolicyLevel == "" {
		j.PolicyLevel = access.LevelNone
	}
	return j
}

type assignmentJSON struct {
	ClientID  string                  `json:"clientId"`
	UserID    string                  `json:"userId"`
	Level     access.Level            `json:"level"`
	Source    access.AssignmentSource `json:"source"`
	CreatedAt time.Time               `json:"createdAt"`
	UpdatedAt time.Time               `json:"updatedAt"`
	Version   int                     `json:"version"`
	ExpiresAt *time.Time              `json:"expiresAt,omitempty"`
	GrantedBy string                  `json:"grantedBy,omitempty"`
}

func toAssignmentJSON(x access.Assignment) assignmentJSON {
	return assignmentJSON{ClientID: x.ClientID, UserID: x.UserID, Level: x.Level, Source: x.Source,
		CreatedAt: x.CreatedAt, UpdatedAt: x.UpdatedAt, Version: x.Version, ExpiresAt: x.ExpiresAt, GrantedBy: x.GrantedBy}
}

type accessReasonJSON struct {
	Type    access.AccessReasonType `json:"type"`
	GroupID string                  `json:"groupId,omitempty"`
	Source  access.AssignmentSource `json:"source,omitempty"`
	Level   access.Level            `json:"level"`
	Detail  string                  `json:"detail"`
	// ExpiresAt is when an assignment or grant ends (or ended: level none).
	ExpiresAt *time.Time `json:"expiresAt,omitempty"`
}

func toReasonsJSON(rs []access.AccessReason) []accessReasonJSON {
	out := make([]accessReasonJSON, 0, len(rs))
	for _, r := range rs {
		out = append(out, accessReasonJSON{Type: r.Type, GroupID: r.GroupID, Source: r.Source, Level: r.Level, Detail: r.Detail, ExpiresAt: r.ExpiresAt})
	}
	return out
}

type clientAccessJSON struct {
	UserID  string             `json:"userId"`
	Status  access.Status      `json:"status"`
	Level   access.Level       `json:"level"`
	Reasons []accessReasonJSON `json:"reasons"`
	Grant   *grantJSON         `json:"grant,omitempty"`
}

// grantJSON is a bureau client grant: its level, its programs and where it came from.
type grantJSON struct {
	Level     access.Level `json:"level"`
	Programs  []string     `json:"programs"`
	Source    string       `json:"source,omitempty"` // the job (or request) that made the latest change
	GrantedBy string       `json:"grantedBy,omitempty"`
	GrantedAt time.Time    `json:"grantedAt"`
	ExpiresAt *time.Time   `json:"expiresAt,omitempty"`
}

func toGrantJSON(g *access.ClientGrant) *grantJSON {
	if g == nil {
		return nil
	}
	return &grantJSON{Level: g.Level, Programs: nonNil(g.Programs), Source: g.Source, GrantedBy: g.GrantedBy, GrantedAt: g.GrantedAt, ExpiresAt: g.ExpiresAt}
}

func toClientAccessJSON(u access.UserAccess) clientAccessJSON {
	return clientAccessJSON{UserID: u.UserID, Status: u.Status, Level: u.Level, Reasons: toReasonsJSON(u.Reasons), Grant: toGrantJSON(u.Grant)}
}

type userClientJSON struct {
	ClientID string              `json:"clientId"`
	Name     string              `json:"name"`
	Status   access.ClientStatus `json:"status"`
	Level    access.Level        `json:"level"`
	Reasons  []accessReasonJSON  `json:"reasons"`
	Grant    *grantJSON          `json:"grant,omitempty"`
}

type userClientPageJSON struct {
	list[userClientJSON]
	AllClients      bool         `json:"allClients"`
	AllClientsLevel access.Level `json:"allClientsLevel"`
}

func (a *API) listClients(ctx context.Context, r *request) (response, error) {
	if err := r.knownQuery("limit", "cursor"); err != nil {
		return response{}, err
	}
	p, err := r.page()
	if err != nil {
		return response{}, err
	}
	clients, next, err := a.Clients.ListClients(ctx, r.caller, p)
	if err != nil {
		return response{}, err
	}
	return ok(listOf(clients, next, toClientJSON)), nil
}

func (a *API) createClient(ctx context.Context, r *request) (response, error) {
	var b struct {
		Name    string              `json:"name"`
		Source  access.ClientSource `json:"source"`
		HirerID string              `json:"hirerId"`
	}
	if err := r.decode(&b); err != nil {
		return response{}, err
	}
	idem, err := r.idempotency()
	if err != nil {
		return response{}, err
	}
	c, err := a.Clients.CreateClient(ctx, r.caller, access.NewClient{Name: b.Name, Source: b.Source, HirerID: b.HirerID}, idem)
	if err != nil {
		return response{}, err
	}
	return created(toClientJSON(c), c.Version), nil
}

func (a *API) getClient(ctx context.Context, r *request) (response, error) {
	c, err := a.Clients.GetClient(ctx, r.caller, r.path("clientId"))
	if err != nil {
		return response{}, err
	}
	return okV(toClientJSON(c), c.Version), nil
}

func (a *API) listClientAccess(ctx context.Context, r *request) (response, error) {
	if err := r.knownQuery("limit", "cursor"); err != nil {
		return response{}, r.authenticated(ctx, err)
	}
	p, err := r.page()
	if err != nil {
		return response{}, r.authenticated(ctx, err)
	}
	users, next, err := a.Clients.ClientAccessList(ctx, r.token(), r.authenticate, r.path("clientId"), p)
	if err != nil {
		return response{}, err
	}
	return ok(listOf(users, next, toClientAccessJSON)), nil
}

func (a *API) putAssignment(ctx context.Context, r *request) (response, error) {
	var b struct {
		Level     access.Level `json:"level"`
		ExpiresAt *string      `json:"expiresAt"`
	}
	if err := r.decode(&b); err != nil {
		return response{}, err
	}
	exp, err := parseExpiry("expiresAt", b.ExpiresAt)
	if err != nil {
		return response{}, err
	}
	x, err := a.Clients.SetAssignment(ctx, r.caller, r.path("clientId"), r.path("userId"), b.Level, exp)
	if err != nil {
		return response{}, err
	}
	return ok(toAssignmentJSON(x)), nil
}

func (a *API) deleteAssignment(ctx context.Context, r *request) (response, error) {
	if err := a.Clients.RemoveAssignment(ctx, r.caller, r.path("clientId"), r.path("userId")); err != nil {
		return response{}, err
	}
	return noContent(), nil
}

func (a *API) listUserClients(ctx context.Context, r *request) (response, error) {
	if err := r.knownQuery("limit", "cursor"); err != nil {
		return response{}, r.authenticated(ctx, err)
	}
	p, err := r.page()
	if err != nil {
		return response{}, r.authenticated(ctx, err)
	}
	res, err := a.Clients.UserClients(ctx, r.token(), r.authenticate, r.path("userId"), p)
	if err != nil {
		return response{}, err
	}
	out := userClientPageJSON{list: list[userClientJSON]{Items: []userClientJSON{}, NextCursor: res.Next},
		AllClients: res.AllClients, AllClientsLevel: res.AllClientsLevel}
	for _, it := range res.Items {
		out.Items = append(out.Items, userClientJSON{ClientID: it.Client.ID, Name: it.Client.Name, Status: it.Client.Status,
			Level: it.Level, Reasons: toReasonsJSON(it.Reasons), Grant: toGrantJSON(it.Grant)})
	}
	return ok(out), nil
}

type appointmentJSON struct {
	ID                string                   `json:"id"`
	ClientID          string                   `json:"clientId"`
	EmployeeID        string                   `json:"employeeId"`
	CalendarID        string                   `json:"calendarId,omitempty"`
	Source            access.AppointmentSource `json:"source"`
	Assignment        assignmentJSON           `json:"assignment"`
	AssignmentChanged bool                     `json:"assignmentChanged"`
}

func (a *API) createAppointment(ctx context.Context, r *request) (response, error) {
	var b struct {
		ClientID   string                   `json:"clientId"`
		EmployeeID string                   `json:"employeeId"`
		CalendarID string                   `json:"calendarId"`
		Source     access.AppointmentSource `json:"source"`
	}
	if err := r.decode(&b); err != nil {
		return response{}, err
	}
	idem, err := r.idempotency()
	if err != nil {
		return response{}, err
	}
	apt, err := a.Clients.CreateAppointment(ctx, r.caller, access.NewAppointment{ClientID: b.ClientID, EmployeeID: b.EmployeeID,
		CalendarID: b.CalendarID, Source: b.Source}, idem)
	if err != nil {
		return response{}, err
	}
	return created(appointmentJSON{ID: apt.ID, ClientID: apt.ClientID, EmployeeID: apt.EmployeeID, CalendarID: apt.CalendarID,
		Source: apt.Source, Assignment: toAssignmentJSON(apt.Assignment), AssignmentChanged: apt.Changed}, 0), nil
}
