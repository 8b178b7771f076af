package httpapi

import (
	"context"

	"github.com/tilgang/tilgang/shared/access"
)

func (a *API) groupRoutes(m map[string]routeFunc) {
	m["GET /v1/groups"] = a.listGroups
	m["POST /v1/groups"] = a.createGroup
	m["GET /v1/groups/{groupId}"] = a.getGroup
	m["PATCH /v1/groups/{groupId}"] = a.patchGroup
	m["DELETE /v1/groups/{groupId}"] = a.deleteGroup
}

type groupBody struct {
	Name        *string                        `json:"name"`
	Description *string                        `json:"description"`
	Permissions map[access.Area]permissionJSON `json:"permissions"`

	Disabled *bool `json:"disabled"`
}

func (a *API) createGroup(ctx context.Context, r *request) (response, error) {
	var b groupBody
	if err := r.decode(&b); err != nil {
		return response{}, err
	}
	idem, err := r.idempotency()
	if err != nil {
		return response{}, err
	}
	in := access.NewGroup{Permissions: permissionsFromJSON(b.Permissions)}
	if b.Name != nil {
		in.Name = *b.Name
	}
	if b.Description != nil {
		in.Description = *b.Description
	}
	g, err := a.People.CreateGroup(ctx, r.caller, in, idem)
	if err != nil {
		return response{}, err
	}
	return created(toGroupJSON(g), g.Version), nil
}

func (a *API) getGroup(ctx context.Context, r *request) (response, error) {
	g, err := a.People.GetGroup(ctx, r.caller, r.path("groupId"))
	if err != nil {
		return response{}, err
	}
	return okV(toGroupJSON(g), g.Version), nil
}

func (a *API) listGroups(ctx context.Context, r *request) (response, error) {
	if err := r.knownQuery("limit", "cursor"); err != nil {
		return response{}, err
	}
	p, err := r.page()
	if err != nil {
		return response{}, err
	}
	groups, next, err := a.People.ListGroups(ctx, r.caller, p)
	if err != nil {
		return response{}, err
	}
	return ok(listOf(groups, next, toGroupJSON)), nil
}

func (a *API) patchGroup(ctx context.Context, r *request) (response, error) {
	var b groupBody
	if err := r.decode(&b); err != nil {
		return response{}, err
	}
	im, err := r.ifMatch()
	if err != nil {
		return response{}, err
	}
	g, err := a.People.UpdateGroup(ctx, r.caller, r.path("groupId"), access.GroupPatch{
		Name: b.Name, Description: b.Description, Permissions: permissionsFromJSON(b.Permissions), Disabled: b.Disabled}, im)
	if err != nil {
		return response{}, err
	}
	return okV(toGroupJSON(g), g.Version), nil
}

func (a *API) deleteGroup(ctx context.Context, r *request) (response, error) {
	im, err := r.ifMatch()
	if err != nil {
		return response{}, err
	}
	if err := a.People.DeleteGroup(ctx, r.caller, r.path("groupId"), im); err != nil {
		return response{}, err
	}
	return noContent(), nil
}
