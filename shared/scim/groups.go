package scim

import (
	"context"
	"net/http"
	"slices"
	"strings"

	filter "github.com/scim2/filter-parser/v2"

	"github.com/tilgang/tilgang/shared/access"
)

// A SCIM Group is a permission group with the same id, created by the directory without rights
// (an administrator gives it rights in Tilgang). Its members are the users in the group and
// follow the directory. Groups made in Tilgang are not the directory's and do not appear here.

func groupJSON(pg access.ProvisionedGroup, members []access.User, withMembers bool, base string) map[string]any {
	g := pg.Group
	res := map[string]any{
		"schemas":     []any{URNGroup},
		"id":          g.ID,
		"displayName": g.Name,
		"meta": map[string]any{"resourceType": "Group", "created": stamp(g.CreatedAt), "lastModified": stamp(g.UpdatedAt),
			"location": base + "/Groups/" + g.ID, "version": etag(g.Version)},
	}
	if pg.Directory.ExternalID != "" {
		res["externalId"] = pg.Directory.ExternalID
	}
	if withMembers {
		list := make([]any, 0, len(members))
		for _, u := range members {
			list = append(list, map[string]any{"value": u.ID, "display": u.Name, "type": "User"})
		}
		res["members"] = list
	}
	return res
}

// memberIDs reads a members list: [{"value": id}, ...].
func memberIDs(v any) ([]string, error) {
	var out []string
	for i, e := range array(v) {
		id, ok := valueOf(e)
		if !ok {
			return nil, badRequest("invalidValue", "members[%d] must have a value (a user id)", i)
		}
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out, nil
}

func (h *Handler) groupResponse(ctx context.Context, status int, pg access.ProvisionedGroup, r *request) (response, error) {
	proj := r.projection()
	var members []access.User
	with := !proj.excludes("members")
	if with {
		var err error
		if members, err = h.P.GroupMembers(ctx, r.c, pg.Group.ID); err != nil {
			return response{}, err
		}
	}
	headers := map[string]string{"ETag": etag(pg.Group.Version)}
	if status == http.StatusCreated {
		headers["Location"] = r.base + "/Groups/" + pg.Group.ID
	}
	return response{status: status, body: proj.apply(groupJSON(pg, members, with, r.base)), headers: headers}, nil
}

func (h *Handler) getGroup(ctx context.Context, r *request) (response, error) {
	pg, err := h.P.GetProvisionedGroup(ctx, r.c, r.ev.PathParameters["id"])
	if err != nil {
		return response{}, err
	}
	return h.groupResponse(ctx, http.StatusOK, pg, r)
}

func (h *Handler) createGroup(ctx context.Context, r *request) (response, error) {
	body, err := r.body()
	if err != nil {
		return response{}, err
	}
	name, ext, members, err := groupBody(body)
	if err != nil {
		return response{}, err
	}
	pg, err := h.P.CreateProvisionedGroup(ctx, r.c, name, ext, members)
	if err != nil {
		return response{}, err
	}
	return h.groupResponse(ctx, http.StatusCreated, pg, r)
}

// groupBody reads what POST and PUT of a group carry: its name (required), externalId and members.
func groupBody(body map[string]any) (name, ext string, members []string, err error) {
	if name, err = str(body, "displayName", "displayName"); err != nil {
		return "", "", nil, err
	}
	if strings.TrimSpace(name) == "" {
		return "", "", nil, badRequest("invalidValue", "displayName is required")
	}
	if ext, err = str(body, "externalId", "externalId"); err != nil {
		return "", "", nil, err
	}
	mv, _ := field(body, "members")
	members, err = memberIDs(mv)
	return name, ext, members, err
}

// replaceGroup is PUT: name, externalId and the whole member list.
func (h *Handler) replaceGroup(ctx context.Context, r *request) (response, error) {
	body, err := r.body()
	if err != nil {
		return response{}, err
	}
	id := r.ev.PathParameters["id"]
	name, ext, want, err := groupBody(body)
	if err != nil {
		return response{}, err
	}
	// Members are checked before the rename, so a bad one writes nothing.
	if err := h.P.CheckMembers(ctx, r.c, id, want); err != nil {
		return response{}, err
	}
	pg, err := h.P.UpdateProvisionedGroup(ctx, r.c, id, &name, &ext, r.ifMatch())
	if err != nil {
		return response{}, err
	}
	if err := h.setMembers(ctx, r, id, want); err != nil {
		return response{}, err
	}
	return h.groupResponse(ctx, http.StatusOK, pg, r)
}

// setMembers makes the member list exactly want.
func (h *Handler) setMembers(ctx context.Context, r *request, id string, want []string) error {
	cur, err := h.P.GroupMembers(ctx, r.c, id)
	if err != nil {
		return err
	}
	var add, remove []string
	for _, u := range cur {
		if !slices.Contains(want, u.ID) {
			remove = append(remove, u.ID)
		}
	}
	for _, w := range want {
		if !slices.ContainsFunc(cur, func(u access.User) bool { return u.ID == w }) {
			add = append(add, w)
		}
	}
	return h.P.ChangeMembers(ctx, r.c, id, add, remove)
}

// patchGroup turns the operations into a rename and member changes. Members are changed as a
// difference (Entra ID and Okta add and remove a few at a time), so a large group's member list
// is read only when an operation needs it (remove all, replace, a filter other than value eq).
func (h *Handler) patchGroup(ctx context.Context, r *request) (response, error) {
	body, err := r.body()
	if err != nil {
		return response{}, err
	}
	ops, err := patchOps(body)
	if err != nil {
		return response{}, err
	}
	id := r.ev.PathParameters["id"]
	pg, err := h.P.GetProvisionedGroup(ctx, r.c, id)
	if err != nil {
		return response{}, err
	}
	attrs := map[string]any{"displayName": pg.Group.Name, "externalId": pg.Directory.ExternalID}
	var members []string // the current members, once read
	loaded := false
	current := func() ([]string, error) {
		if !loaded {
			us, err := h.P.GroupMembers(ctx, r.c, id)
			if err != nil {
				return nil, err
			}
			for _, u := range us {
				members = append(members, u.ID)
			}
			loaded = true
		}
		return members, nil
	}
	var add, remove []string
	change := func(ids []string, in bool) {
		for _, x := range ids {
			if in {
				remove = slices.DeleteFunc(remove, func(y string) bool { return y == x })
				if !slices.Contains(add, x) {
					add = append(add, x)
				}
			} else {
				add = slices.DeleteFunc(add, func(y string) bool { return y == x })
				if !slices.Contains(remove, x) {
					remove = append(remove, x)
				}
			}
		}
	}
	memberOp := func(op string, p *filter.Path, value any) error {
		switch {
		case p != nil && p.ValueExpression != nil:
			if op != "remove" {
				return badRequest("invalidPath", "members can only be added as a list (path members)")
			}
			// members[value eq "id"]: that member; any other filter is checked on each member.
			if ae, ok := p.ValueExpression.(*filter.AttributeExpression); ok && ae.Operator == filter.EQ &&
				strings.EqualFold(ae.AttributePath.AttributeName, "value") {
				if s, ok := ae.CompareValue.(string); ok {
					change([]string{s}, false)
					return nil
				}
			}
			cur, err := current()
			if err != nil {
				return err
			}
			for _, m := range cur {
				if eval(p.ValueExpression, map[string]any{"value": m}) {
					change([]string{m}, false)
				}
			}
			return nil
		case op == "add":
			ids, err := memberIDs(value)
			if err != nil {
				return err
			}
			change(ids, true)
		case op == "remove":
			if value != nil {
				ids, err := memberIDs(value)
				if err != nil {
					return err
				}
				change(ids, false)
				return nil
			}
			cur, err := current()
			if err != nil {
				return err
			}
			change(cur, false)
		case op == "replace":
			ids, err := memberIDs(value)
			if err != nil {
				return err
			}
			cur, err := current()
			if err != nil {
				return err
			}
			change(cur, false)
			change(ids, true)
		}
		return nil
	}
	for _, op := range ops {
		if op.Path == "" {
			obj, ok := object(op.Value)
			if !ok || op.Op == "remove" {
				return response{}, badRequest("invalidValue", "an operation without a path needs an object value")
			}
			rest := map[string]any{}
			for k, v := range obj {
				if strings.EqualFold(k, "members") {
					if err := memberOp(op.Op, nil, v); err != nil {
						return response{}, err
					}
					continue
				}
				rest[k] = v
			}
			if err := applyPatch(attrs, URNGroup, patchOp{Op: op.Op, Value: rest}); err != nil {
				return response{}, err
			}
			continue
		}
		p, err := parsePath(op.Path)
		if err != nil {
			return response{}, err
		}
		if strings.EqualFold(p.AttributePath.AttributeName, "members") {
			if err := memberOp(op.Op, &p, op.Value); err != nil {
				return response{}, err
			}
			continue
		}
		if err := applyPatch(attrs, URNGroup, op); err != nil {
			return response{}, err
		}
	}
	name, err := str(attrs, "displayName", "displayName")
	if err != nil {
		return response{}, err
	}
	ext, err := str(attrs, "externalId", "externalId")
	if err != nil {
		return response{}, err
	}
	// Members are checked before the rename, so a bad one writes nothing.
	if err := h.P.CheckMembers(ctx, r.c, id, add); err != nil {
		return response{}, err
	}
	if pg, err = h.P.UpdateProvisionedGroup(ctx, r.c, id, &name, &ext, r.ifMatch()); err != nil {
		return response{}, err
	}
	if err := h.P.ChangeMembers(ctx, r.c, id, add, remove); err != nil {
		return response{}, err
	}
	if pg, err = h.P.GetProvisionedGroup(ctx, r.c, id); err != nil {
		return response{}, err
	}
	return h.groupResponse(ctx, http.StatusOK, pg, r)
}

func (h *Handler) deleteGroup(ctx context.Context, r *request) (response, error) {
	if err := h.P.DeleteProvisionedGroup(ctx, r.c, r.ev.PathParameters["id"], r.ifMatch()); err != nil {
		return response{}, err
	}
	return response{status: http.StatusNoContent}, nil
}

// listGroups answers GET /Groups: the directory groups, or a filter's matches.
func (h *Handler) listGroups(ctx context.Context, r *request) (response, error) {
	start, count, err := r.paging()
	if err != nil {
		return response{}, err
	}
	proj := r.projection()
	render := func(pg access.ProvisionedGroup, needMembers bool) (map[string]any, error) {
		var members []access.User
		if needMembers {
			var err error
			if members, err = h.P.GroupMembers(ctx, r.c, pg.Group.ID); err != nil {
				return nil, err
			}
		}
		return groupJSON(pg, members, needMembers, r.base), nil
	}
	if f := r.query("filter"); f != "" {
		e, err := parseFilter(f)
		if err != nil {
			return response{}, err
		}
		ids, ok, err := plan(ctx, e, h.groupIndex(r))
		if err != nil {
			return response{}, err
		}
		if !ok {
			return response{}, noIndex(f)
		}
		groups, err := h.P.ProvisionedGroups(ctx, r.c, ids)
		if err != nil {
			return response{}, err
		}
		needMembers := !proj.excludes("members") || strings.Contains(strings.ToLower(f), "members")
		var all []map[string]any
		for _, pg := range groups {
			res, err := render(pg, needMembers)
			if err != nil {
				return response{}, err
			}
			if eval(e, res) {
				all = append(all, res)
			}
		}
		return page(all, start, count, proj), nil
	}
	return listEvery(start, count, proj,
		func(pg access.Page) ([]access.ProvisionedGroup, string, error) {
			return h.P.ListProvisionedGroups(ctx, r.c, pg)
		},
		func(g access.ProvisionedGroup) (map[string]any, error) { return render(g, !proj.excludes("members")) })
}

// groupIndex answers the indexed comparisons on groups.
func (h *Handler) groupIndex(r *request) index {
	return func(ctx context.Context, e *filter.AttributeExpression) ([]string, bool, error) {
		m, ok := indexedValue(e)
		p := e.AttributePath
		switch {
		case !ok:
			return nil, false, nil
		case attrIs(p, URNGroup, "id", "") && m.Op == "eq":
			return []string{m.Value}, true, nil
		case attrIs(p, URNGroup, "displayName", ""):
			ids, err := h.P.ProvisionedGroupIDs(ctx, r.c, "displayName", m, maxFilterCandidates)
			return ids, true, err
		case attrIs(p, URNGroup, "externalId", ""):
			ids, err := h.P.ProvisionedGroupIDs(ctx, r.c, "externalId", m, maxFilterCandidates)
			return ids, true, err
		case (attrIs(p, URNGroup, "members", "value") || attrIs(p, URNGroup, "members", "")) && m.Op == "eq":
			ids, err := h.P.GroupsOfUser(ctx, r.c, m.Value)
			return ids, true, err
		}
		return nil, false, nil
	}
}
