package httpapi

import (
	"context"

	"github.com/tilgang/tilgang/shared/access"
)

func (a *API) meRoutes(m map[string]routeFunc) {
	m["GET /v1/me"] = a.getMe
	m["GET /v1/users/{userId}/permissions"] = a.getPermissions
	m["POST /v1/authorize"] = a.authorize
	m["GET /v1/permission-catalogue"] = a.getCatalogue
}

func (a *API) getMe(_ context.Context, r *request) (response, error) {
	return ok(toRightsJSON(a.People.Me(r.caller))), nil
}

func (a *API) getPermissions(ctx context.Context, r *request) (response, error) {
	rights, err := a.People.Permissions(ctx, r.caller, r.path("userId"))
	if err != nil {
		return response{}, err
	}
	return ok(toRightsJSON(rights)), nil
}

type authorizeBody struct {
	UserID     string       `json:"userId"`
	Action     access.Level `json:"action"`
	Area       access.Area  `json:"area"`
	ClientID   string       `json:"clientId,omitempty"`
	CalendarID string       `json:"calendarId,omitempty"`
	Program    string       `json:"program,omitempty"`
}

type decisionJSON struct {
	Allowed bool         `json:"allowed"`
	Reason  string       `json:"reason"`
	Level   access.Level `json:"level"`
}

func (a *API) authorize(ctx context.Context, r *request) (response, error) {
	var b authorizeBody
	if err := r.decode(&b); err != nil {
		// The token is judged before the body (this route loads its principal itself).
		if _, aerr := a.People.Authenticate(ctx, r.tenantID, r.userID, r.ev.RequestContext.RequestID); aerr != nil {
			return response{}, aerr
		}
		return response{}, err
	}
	d, err := a.People.AuthorizeAs(ctx, r.tenantID, r.userID, r.ev.RequestContext.RequestID, access.AuthorizeRequest{UserID: b.UserID, Action: b.Action, Area: b.Area,
		ClientID: b.ClientID, CalendarID: b.CalendarID, Program: b.Program})
	if err != nil {
		return response{}, err
	}
	return ok(decisionJSON{Allowed: d.Allowed, Reason: d.Reason(), Level: d.Level}), nil
}

type catalogueAreaJSON struct {
	ID          access.Area `json:"id"`
	Scoped      bool        `json:"scoped"`
	Description string      `json:"description"`
}

type templateJSON struct {
	ID          string                         `json:"id"`
	Name        string                         `json:"name"`
	Description string                         `json:"description"`
	Permissions map[access.Area]permissionJSON `json:"permissions"`
}

type catalogueJSON struct {
	Version   string              `json:"version"`
	Areas     []catalogueAreaJSON `json:"areas"`
	Levels    []access.Level      `json:"levels"`
	Scopes    []access.Scope      `json:"scopes"`
	Templates []templateJSON      `json:"templates"`
}

func (a *API) getCatalogue(context.Context, *request) (response, error) {
	c := catalogueJSON{Version: access.CatalogueVersion, Levels: access.Levels, Scopes: []access.Scope{access.ScopeOwn, access.ScopeAll}}
	for _, area := range access.Areas {
		c.Areas = append(c.Areas, catalogueAreaJSON{ID: area, Scoped: area.Scoped(), Description: area.Description()})
	}
	for _, t := range access.Templates {
		perms, _ := t.Permissions.Normalize("template")
		c.Templates = append(c.Templates, templateJSON{ID: t.ID, Name: t.Name, Description: t.Description, Permissions: permissionsJSON(perms)})
	}
	return ok(c), nil
}
