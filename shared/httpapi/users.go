package httpapi

import (
	"context"
	"strings"

	"github.com/tilgang/tilgang/shared/access"
)

func (a *API) userRoutes(m map[string]routeFunc) {
	m["GET /v1/users"] = a.listUsers
	m["POST /v1/users"] = a.createUser
	m["GET /v1/users/{userId}"] = a.getUser
	m["PATCH /v1/users/{userId}"] = a.patchUser
	m["DELETE /v1/users/{userId}"] = a.deleteUser
	m["POST /v1/users/{userId}/deactivate"] = a.userAction(a.People.Deactivate)
	m["POST /v1/users/{userId}/activate"] = a.userAction(a.People.Activate)
	m["PUT /v1/users/{userId}/groups"] = a.putGroups
	m["PUT /v1/users/{userId}/roles"] = a.putRoles
	m["PUT /v1/users/{userId}/calendar-access"] = a.putCalendarAccess
}

type createUserBody struct {
	Name              string                         `json:"name"`
	Email             string                         `json:"email"`
	Phone             string                         `json:"phone"`
	PictureURL        string                         `json:"pictureUrl"`
	Profession        access.Profession              `json:"profession"`
	GroupIDs          []string                       `json:"groupIds"`
	Roles             []access.Role                  `json:"roles"`
	CalendarIDs       []string                       `json:"calendarIds"`
	LegacyPermissions map[access.Area]permissionJSON `json:"legacyPermissions"`
	// Link is an assistant's first link, created in the same transaction as the user.
	Link *linkBody `json:"link"`

	Professions    []access.Profession     `json:"professions"`
	Kind           access.UserKind         `json:"kind"`
	CalendarAccess map[string]access.Level `json:"calendarAccess"`
}

func (a *API) createUser(ctx context.Context, r *request) (response, error) {
	var b createUserBody
	if err := r.decode(&b); err != nil {
		return response{}, err
	}
	idem, err := r.idempotency()
	if err != nil {
		return response{}, err
	}
	u, err := a.People.CreateUser(ctx, r.caller, access.NewUser{
		Name: b.Name, Email: b.Email, Phone: b.Phone, PictureURL: b.PictureURL, Profession: b.Profession,
		GroupIDs: b.GroupIDs, Roles: b.Roles, CalendarIDs: b.CalendarIDs, LegacyPermissions: permissionsFromJSON(b.LegacyPermissions),
		Link: b.Link.domain(), Professions: b.Professions, Kind: b.Kind, CalendarAccess: b.CalendarAccess,
	}, idem)
	if err != nil {
		return response{}, err
	}
	return created(toUserJSON(u), u.Version), nil
}

func (a *API) getUser(ctx context.Context, r *request) (response, error) {
	u, err := a.People.GetUser(ctx, r.caller, r.path("userId"))
	if err != nil {
		return response{}, err
	}
	return okV(toUserJSON(u), u.Version), nil
}

func (a *API) listUsers(ctx context.Context, r *request) (response, error) {
	if err := r.knownQuery("limit", "cursor", "status", "groupId", "q"); err != nil {
		return response{}, err
	}
	p, err := r.page()
	if err != nil {
		return response{}, err
	}
	q := r.ev.QueryStringParameters
	f := access.UserFilter{GroupID: q["groupId"], Text: q["q"]}
	if s := q["status"]; s != "" {
		for _, st := range strings.Split(s, ",") {
			f.Statuses = append(f.Statuses, access.Status(strings.TrimSpace(st)))
		}
	}
	users, next, err := a.People.ListUsers(ctx, r.caller, f, p)
	if err != nil {
		return response{}, err
	}
	return ok(listOf(users, next, toUserJSON)), nil
}

type patchUserBody struct {
	Name        *string            `json:"name"`
	Email       *string            `json:"email"`
	Phone       *string            `json:"phone"`
	PictureURL  *string            `json:"pictureUrl"`
	Profession  *access.Profession `json:"profession"`
	CalendarIDs *[]string          `json:"calendarIds"`

	Professions *[]access.Profession `json:"professions"`
}

func (a *API) patchUser(ctx context.Context, r *request) (response, error) {
	var b patchUserBody
	if err := r.decode(&b); err != nil {
		return response{}, err
	}
	im, err := r.ifMatch()
	if err != nil {
		return response{}, err
	}
	u, err := a.People.UpdateUser(ctx, r.caller, r.path("userId"), access.UserPatch{
		Name: b.Name, Email: b.Email, Phone: b.Phone, PictureURL: b.PictureURL, Profession: b.Profession, CalendarIDs: b.CalendarIDs,
		Professions: b.Professions,
	}, im)
	if err != nil {
		return response{}, err
	}
	return okV(toUserJSON(u), u.Version), nil
}

func (a *API) deleteUser(ctx context.Context, r *request) (response, error) {
	im, err := r.ifMatch()
	if err != nil {
		return response{}, err
	}
	if err := a.People.DeleteUser(ctx, r.caller, r.path("userId"), im); err != nil {
		return response{}, err
	}
	return noContent(), nil
}

// userAction serves the bodiless lifecycle actions (deactivate, activate, remove, ...).
func (a *API) userAction(fn func(context.Context, *access.Caller, string, *int) (access.User, error)) routeFunc {
	return func(ctx context.Context, r *request) (response, error) {
		if strings.TrimSpace(r.ev.Body) != "" && strings.TrimSpace(r.ev.Body) != "{}" {
			return response{}, access.Invalid("body", "this action takes no body")
		}
		im, err := r.ifMatch()
		if err != nil {
			return response{}, err
		}
		u, err := fn(ctx, r.caller, r.path("userId"), im)
		if err != nil {
			return response{}, err
		}
		return okV(toUserJSON(u), u.Version), nil
	}
}

func (a *API) putGroups(ctx context.Context, r *request) (response, error) {
	var b struct {
		GroupIDs  []string          `json:"groupIds"`
		ExpiresAt map[string]string `json:"expiresAt"`
	}
	if err := r.decode(&b); err != nil {
		return response{}, err
	}
	im, err := r.ifMatch()
	if err != nil {
		return response{}, err
	}
	exp, err := parseGroupExpiry(b.ExpiresAt)
	if err != nil {
		return response{}, err
	}
	u, err := a.People.SetGroupsUntil(ctx, r.caller, r.path("userId"), b.GroupIDs, exp, im)
	if err != nil {
		return response{}, err
	}
	return okV(toUserJSON(u), u.Version), nil
}

func (a *API) putRoles(ctx context.Context, r *request) (response, error) {
	var b struct {
		Roles []access.Role `json:"roles"`
	}
	if err := r.decode(&b); err != nil {
		return response{}, err
	}
	im, err := r.ifMatch()
	if err != nil {
		return response{}, err
	}
	u, err := a.People.SetRoles(ctx, r.caller, r.path("userId"), b.Roles, im)
	if err != nil {
		return response{}, err
	}
	return okV(toUserJSON(u), u.Version), nil
}

func (a *API) putCalendarAccess(ctx context.Context, r *request) (response, error) {
	var b map[string]access.Level
	if err := r.decode(&b); err != nil {
		return response{}, err
	}
	im, err := r.ifMatch()
	if err != nil {
		return response{}, err
	}
	u, err := a.People.SetCalendarAccess(ctx, r.caller, r.path("userId"), b, im)
	if err != nil {
		return response{}, err
	}
	return okV(toUserJSON(u), u.Version), nil
}
