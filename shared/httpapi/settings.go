package httpapi

import (
	"context"

	"github.com/tilgang/tilgang/shared/access"
)

// settingsRoutes serves the tenant's settings, its apps and its owner.
func (a *API) settingsRoutes(m map[string]routeFunc) {
	m["GET /v1/settings"] = a.getSettings
	m["PATCH /v1/settings"] = a.patchSettings
	m["POST /v1/apps/employees/activate"] = a.activateEmployees
	m["POST /v1/apps/tenants/activate"] = a.activateTenants
	m["PUT /v1/owner"] = a.putOwner
}

func (a *API) getSettings(ctx context.Context, r *request) (response, error) {
	t, err := a.People.GetTenant(ctx, r.caller)
	if err != nil {
		return response{}, err
	}
	return okV(toSettingsJSON(t), t.Version), nil
}

type settingsBody struct {
	NewClientAccess     *access.ClientPolicy `json:"newClientAccess"`
	AnonymiseAfterDays  *int                 `json:"anonymiseAfterDays"`
	BookableCalendarIDs *[]string            `json:"bookableCalendarIds"`

	HirerSeats *access.HirerSeats `json:"hirerSeats"`
}

func (a *API) patchSettings(ctx context.Context, r *request) (response, error) {
	var b settingsBody
	if err := r.decode(&b); err != nil {
		return response{}, err
	}
	im, err := r.ifMatch()
	if err != nil {
		return response{}, err
	}
	t, err := a.People.UpdateSettings(ctx, r.caller, access.SettingsPatch{
		NewClientAccess: b.NewClientAccess, AnonymiseAfterDays: b.AnonymiseAfterDays, BookableCalendarIDs: b.BookableCalendarIDs,
		HirerSeats: b.HirerSeats}, im)
	if err != nil {
		return response{}, err
	}
	return okV(toSettingsJSON(t), t.Version), nil
}

type activationJSON struct {
	Settings settingsJSON `json:"settings"`
	Groups   []groupJSON  `json:"groups"`
}

func (a *API) activateEmployees(ctx context.Context, r *request) (response, error) {
	return activateApp(ctx, r, a.People.ActivateEmployees)
}

// activateApp serves POST /v1/apps/{app}/activate: the templates to create groups from, and the
// settings and groups the activation left.
func activateApp(ctx context.Context, r *request, activate func(context.Context, *access.Caller, []string) (access.Tenant, []access.Group, error)) (response, error) {
	var b struct {
		Templates []string `json:"templates"`
	}
	if err := r.decode(&b); err != nil {
		return response{}, err
	}
	t, groups, err := activate(ctx, r.caller, b.Templates)
	if err != nil {
		return response{}, err
	}
	out := activationJSON{Settings: toSettingsJSON(t), Groups: []groupJSON{}}
	for _, g := range groups {
		out.Groups = append(out.Groups, toGroupJSON(g))
	}
	return okV(out, t.Version), nil
}

func (a *API) putOwner(ctx context.Context, r *request) (response, error) {
	var b struct {
		UserID string `json:"userId"`
		// What the former owner keeps; absent: the main_admin role and their groups.
		FormerOwnerRoles    *[]access.Role `json:"formerOwnerRoles"`
		FormerOwnerGroupIDs *[]string      `json:"formerOwnerGroupIds"`
	}
	if err := r.decode(&b); err != nil {
		return response{}, err
	}
	t, err := a.People.TransferOwnership(ctx, r.caller, access.OwnerTransfer{UserID: b.UserID, Roles: b.FormerOwnerRoles, GroupIDs: b.FormerOwnerGroupIDs})
	if err != nil {
		return response{}, err
	}
	return okV(toSettingsJSON(t), t.Version), nil
}
