package httpapi

import (
	"context"
	"time"

	"github.com/tilgang/tilgang/shared/access"
)

// linkRoutes serves assistant links (seed 003).
func (a *API) linkRoutes(m map[string]routeFunc) {
	m["GET /v1/users/{userId}/links"] = a.listLinks
	m["POST /v1/users/{userId}/links"] = a.addLink
	m["PATCH /v1/users/{userId}/links/{clientId}"] = a.patchLink
	m["DELETE /v1/users/{userId}/links/{clientId}"] = a.removeLink
	m["GET /v1/clients/{clientId}/assistants"] = a.listAssistants
}

// capabilityRoutes serves the capability matrix (seed 003).
func (a *API) capabilityRoutes(m map[string]routeFunc) {
	m["GET /v1/users/{userId}/capabilities"] = a.getCapabilities
}

// userBankRoutes serves the user bank: removing, restoring and anonymising users (seed 003).
func (a *API) userBankRoutes(m map[string]routeFunc) {
	m["POST /v1/users/{userId}/remove"] = a.userAction(a.People.RemoveUser)
	m["POST /v1/users/{userId}/restore"] = a.userAction(a.People.RestoreUser)
	m["POST /v1/users/{userId}/anonymise"] = a.userAction(a.People.AnonymiseUser)
	m["GET /v1/user-bank"] = a.listUserBank
}

type linkJSON struct {
	ClientID         string            `json:"clientId"`
	UserID           string            `json:"userId"`
	Status           access.LinkStatus `json:"status"`
	EmploymentRate   int               `json:"employmentRate"`
	EmploymentNumber string            `json:"employmentNumber"`
	Color            string            `json:"color"`
	CreatedAt        time.Time         `json:"createdAt"`
	UpdatedAt        time.Time         `json:"updatedAt"`
	Version          int               `json:"version"`
}

func toLinkJSON(l access.Link) linkJSON {
	return linkJSON{ClientID: l.ClientID, UserID: l.UserID, Status: l.Status, EmploymentRate: l.EmploymentRate,
		EmploymentNumber: l.EmploymentNumber, Color: l.Color, CreatedAt: l.CreatedAt, UpdatedAt: l.UpdatedAt, Version: l.Version}
}

// linkBody is a link to create, alone or as the first link of a new assistant.
type linkBody struct {
	ClientID         string `json:"clientId"`
	EmploymentRate   int    `json:"employmentRate"`
	EmploymentNumber string `json:"employmentNumber"`
	Color            string `json:"color"`
}

func (b *linkBody) domain() *access.NewLink {
	if b == nil {
		return nil
	}
	return &access.NewLink{ClientID: b.ClientID, EmploymentRate: b.EmploymentRate, EmploymentNumber: b.EmploymentNumber, Color: b.Color}
}

func (r *request) linkStatus() access.LinkStatus {
	return access.LinkStatus(r.ev.QueryStringParameters["status"])
}

func (a *API) listLinks(ctx context.Context, r *request) (response, error) {
	if err := r.knownQuery("limit", "cursor", "status"); err != nil {
		return response{}, err
	}
	p, err := r.page()
	if err != nil {
		return response{}, err
	}
	links, next, err := a.People.ListLinks(ctx, r.caller, r.path("userId"), r.linkStatus(), p)
	if err != nil {
		return response{}, err
	}
	return ok(listOf(links, next, toLinkJSON)), nil
}

func (a *API) listAssistants(ctx context.Context, r *request) (response, error) {
	if err := r.knownQuery("limit", "cursor", "status"); err != nil {
		return response{}, err
	}
	p, err := r.page()
	if err != nil {
		return response{}, err
	}
	links, next, err := a.People.ListAssistants(ctx, r.caller, r.path("clientId"), r.linkStatus(), p)
	if err != nil {
		return response{}, err
	}
	return ok(listOf(links, next, toLinkJSON)), nil
}

func (a *API) addLink(ctx context.Context, r *request) (response, error) {
	var b linkBody
	if err := r.decode(&b); err != nil {
		return response{}, err
	}
	l, err := a.People.AddLink(ctx, r.caller, r.path("userId"), *b.domain())
	if err != nil {
		return response{}, err
	}
	return created(toLinkJSON(l), l.Version), nil
}

type patchLinkBody struct {
	EmploymentRate   *int               `json:"employmentRate"`
	EmploymentNumber *string            `json:"employmentNumber"`
	Color            *string            `json:"color"`
	Status           *access.LinkStatus `json:"status"`
}

func (a *API) patchLink(ctx context.Context, r *request) (response, error) {
	var b patchLinkBody
	if err := r.decode(&b); err != nil {
		return response{}, err
	}
	im, err := r.ifMatch()
	if err != nil {
		return response{}, err
	}
	l, err := a.People.UpdateLink(ctx, r.caller, r.path("userId"), r.path("clientId"), access.LinkPatch{
		EmploymentRate: b.EmploymentRate, EmploymentNumber: b.EmploymentNumber, Color: b.Color, Status: b.Status,
	}, im)
	if err != nil {
		return response{}, err
	}
	return okV(toLinkJSON(l), l.Version), nil
}

func (a *API) removeLink(ctx context.Context, r *request) (response, error) {
	im, err := r.ifMatch()
	if err != nil {
		return response{}, err
	}
	l, err := a.People.RemoveLink(ctx, r.caller, r.path("userId"), r.path("clientId"), im)
	if err != nil {
		return response{}, err
	}
	return okV(toLinkJSON(l), l.Version), nil
}

type capabilitiesJSON struct {
	UserID       string                                       `json:"userId"`
	ClientID     string                                       `json:"clientId"`
	State        access.CapabilityState                       `json:"state"`
	Capabilities map[access.Capability]access.CapabilityValue `json:"capabilities"`
	// Conditions qualify a "yes" or "partial" ("only if the person has shifts ...").
	Conditions map[access.Capability]string `json:"conditions"`
	// Notes explain a "no" ("the user no longer exists").
	Notes map[access.Capability]string `json:"notes"`
}

func toCapabilitiesJSON(r access.CapabilityReport) capabilitiesJSON {
	j := capabilitiesJSON{UserID: r.UserID, ClientID: r.ClientID, State: r.State,
		Capabilities: map[access.Capability]access.CapabilityValue{}, Conditions: map[access.Capability]string{},
		Notes: map[access.Capability]string{}}
	for c, cell := range r.Cells {
		j.Capabilities[c] = cell.Value
		if cell.Condition != "" {
			j.Conditions[c] = cell.Condition
		}
		if cell.Note != "" {
			j.Notes[c] = cell.Note
		}
	}
	return j
}

func (a *API) getCapabilities(ctx context.Context, r *request) (response, error) {
	if err := r.knownQuery("clientId"); err != nil {
		return response{}, err
	}
	rep, err := a.People.Capabilities(ctx, r.caller, r.path("userId"), r.ev.QueryStringParameters["clientId"])
	if err != nil {
		return response{}, err
	}
	return ok(toCapabilitiesJSON(rep)), nil
}

func (a *API) listUserBank(ctx context.Context, r *request) (response, error) {
	if err := r.knownQuery("limit", "cursor"); err != nil {
		return response{}, err
	}
	p, err := r.page()
	if err != nil {
		return response{}, err
	}
	users, next, err := a.People.ListUserBank(ctx, r.caller, p)
	if err != nil {
		return response{}, err
	}
	return ok(listOf(users, next, toUserJSON)), nil
}
