package scim

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	filter "github.com/scim2/filter-parser/v2"

	"github.com/tilgang/tilgang/shared/access"
)

// A SCIM User is a Tilgang user with the same id. userName and the primary email are the
// user's email; name, displayName, title, phoneNumbers (one kept: primary, else work, else
// the first), active (= active / deactivated), externalId and the enterprise extension's
// employeeNumber, department and manager are kept. Other attributes are accepted and not kept.

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// userJSON renders a user as a SCIM resource.
func userJSON(pu access.ProvisionedUser, base string) map[string]any {
	u, d := pu.User, pu.Directory
	name := map[string]any{"formatted": u.Name}
	if d.GivenName != "" {
		name["givenName"] = d.GivenName
	}
	if d.FamilyName != "" {
		name["familyName"] = d.FamilyName
	}
	res := map[string]any{
		"schemas":  []any{URNUser},
		"id":       u.ID,
		"userName": u.Email,
		"name":     name,
		"active":   u.Status == access.StatusActive,
		"emails":   []any{map[string]any{"value": u.Email, "type": "work", "primary": true}},
		"meta": map[string]any{"resourceType": "User", "created": stamp(u.CreatedAt), "lastModified": stamp(u.UpdatedAt),
			"location": base + "/Users/" + u.ID, "version": etag(u.Version)},
	}
	// Only what the directory sent: a rendered user read back must be the user unchanged.
	if d.DisplayName != "" {
		res["displayName"] = d.DisplayName
	}
	if d.ExternalID != "" {
		res["externalId"] = d.ExternalID
	}
	if d.Title != "" {
		res["title"] = d.Title
	}
	if u.Phone != "" {
		typ := d.PhoneType
		if typ == "" {
			typ = "work"
		}
		res["phoneNumbers"] = []any{map[string]any{"value": u.Phone, "type": typ, "primary": true}}
	}
	ent := map[string]any{}
	if d.EmployeeNumber != "" {
		ent["employeeNumber"] = d.EmployeeNumber
	}
	if d.Department != "" {
		ent["department"] = d.Department
	}
	if d.ManagerID != "" {
		ent["manager"] = map[string]any{"value": d.ManagerID}
	}
	if len(ent) > 0 {
		res["schemas"] = []any{URNUser, URNEnterprise}
		res[URNEnterprise] = ent
	}
	return res
}

// parseUser reads a SCIM user (a POST or PUT body, or a patched resource). cur is the user as
// stored (nil on create): a body without "active" keeps the status.
func parseUser(m map[string]any, cur *access.ProvisionedUser) (access.ProvisionedUser, error) {
	var out access.ProvisionedUser
	var d access.DirectoryUser
	var err error
	userName, err := str(m, "userName", "userName")
	if err != nil {
		return out, err
	}
	emails, _ := field(m, "emails")
	if userName == "" {
		userName = primary(array(emails))
	}
	if strings.TrimSpace(userName) == "" {
		return out, badRequest("invalidValue", "userName is required")
	}
	if d.ExternalID, err = str(m, "externalId", "externalId"); err != nil {
		return out, err
	}
	if d.DisplayName, err = str(m, "displayName", "displayName"); err != nil {
		return out, err
	}
	if d.Title, err = str(m, "title", "title"); err != nil {
		return out, err
	}
	formatted := ""
	if v, ok := field(m, "name"); ok {
		n, ok := object(v)
		if !ok {
			return out, badRequest("invalidValue", "name must be an object")
		}
		if d.GivenName, err = str(n, "givenName", "name.givenName"); err != nil {
			return out, err
		}
		if d.FamilyName, err = str(n, "familyName", "name.familyName"); err != nil {
			return out, err
		}
		if formatted, err = str(n, "formatted", "name.formatted"); err != nil {
			return out, err
		}
	}
	// Tilgang's name: given and family name when the directory sends them, else the formatted
	// name, else the display name, else the userName.
	name := strings.TrimSpace(strings.TrimSpace(d.GivenName) + " " + strings.TrimSpace(d.FamilyName))
	for _, alt := range []string{formatted, d.DisplayName, userName} {
		if name == "" {
			name = strings.TrimSpace(alt)
		}
	}
	out.User.Name, out.User.Email = name, userName
	if v, ok := field(m, "phoneNumbers"); ok {
		phone, typ, err := pickPhone(array(v))
		if err != nil {
			return out, err
		}
		if phone == "" || typ == "work" {
			typ = "" // work is the default type
		}
		out.User.Phone, d.PhoneType = phone, typ
	}
	out.User.Status = access.StatusActive
	if cur != nil {
		out.User.Status = cur.User.Status
	}
	if v, ok := field(m, "active"); ok {
		active, err := boolean(v, "active")
		if err != nil {
			return out, err
		}
		out.User.Status = access.StatusDeactivated
		if active {
			out.User.Status = access.StatusActive
		}
	}
	if v, ok := field(m, URNEnterprise); ok {
		ent, ok := object(v)
		if !ok {
			return out, badRequest("invalidValue", "%s must be an object", URNEnterprise)
		}
		if d.EmployeeNumber, err = str(ent, "employeeNumber", "employeeNumber"); err != nil {
			return out, err
		}
		if d.Department, err = str(ent, "department", "department"); err != nil {
			return out, err
		}
		if mv, ok := field(ent, "manager"); ok {
			// Entra ID sends the manager's id as a string, others as {"value": id}.
			if s, ok := mv.(string); ok {
				d.ManagerID = s
			} else if o, ok := object(mv); ok {
				if d.ManagerID, err = str(o, "value", "manager.value"); err != nil {
					return out, err
				}
			} else {
				return out, badRequest("invalidValue", "manager must be an id or an object with value")
			}
		}
	}
	out.Directory = d
	return out, nil
}

// primary is the primary (else the first) value of a multi-valued attribute.
func primary(list []any) string {
	first := ""
	for _, e := range list {
		o, ok := object(e)
		if !ok {
			continue
		}
		v, _ := str(o, "value", "value")
		if first == "" {
			first = v
		}
		if p, ok := field(o, "primary"); ok {
			if b, err := boolean(p, "primary"); err == nil && b {
				return v
			}
		}
	}
	return first
}

// pickPhone keeps one phone number: the primary, else the work one, else the first.
func pickPhone(list []any) (string, string, error) {
	best, bestType, rank := "", "", 0
	for _, e := range list {
		o, ok := object(e)
		if !ok {
			return "", "", badRequest("invalidValue", "phoneNumbers must be objects with a value")
		}
		v, err := str(o, "value", "phoneNumbers.value")
		if err != nil {
			return "", "", err
		}
		typ, _ := str(o, "type", "phoneNumbers.type")
		r := 1
		if strings.EqualFold(typ, "work") {
			r = 2
		}
		if p, ok := field(o, "primary"); ok {
			if b, err := boolean(p, "phoneNumbers.primary"); err == nil && b {
				r = 3
			}
		}
		if v != "" && r > rank {
			best, bestType, rank = v, strings.ToLower(typ), r
		}
	}
	return best, bestType, nil
}

func (h *Handler) getUser(ctx context.Context, r *request) (response, error) {
	pu, err := h.P.GetProvisionedUser(ctx, r.c, r.ev.PathParameters["id"])
	if err != nil {
		return response{}, err
	}
	return userResponse(http.StatusOK, pu, r), nil
}

func userResponse(status int, pu access.ProvisionedUser, r *request) response {
	res := userJSON(pu, r.base)
	headers := map[string]string{"ETag": etag(pu.User.Version)}
	if status == http.StatusCreated {
		headers["Location"] = r.base + "/Users/" + pu.User.ID
	}
	return response{status: status, body: r.projection().apply(res), headers: headers}
}

func (h *Handler) createUser(ctx context.Context, r *request) (response, error) {
	body, err := r.body()
	if err != nil {
		return response{}, err
	}
	in, err := parseUser(body, nil)
	if err != nil {
		return response{}, err
	}
	pu, err := h.P.CreateProvisionedUser(ctx, r.c, in)
	if err != nil {
		return response{}, err
	}
	return userResponse(http.StatusCreated, pu, r), nil
}

// replaceUser is PUT: the body is the whole user (Okta sends it on every update).
func (h *Handler) replaceUser(ctx context.Context, r *request) (response, error) {
	body, err := r.body()
	if err != nil {
		return response{}, err
	}
	id := r.ev.PathParameters["id"]
	cur, err := h.P.GetProvisionedUser(ctx, r.c, id)
	if err != nil {
		return response{}, err
	}
	in, err := parseUser(body, &cur)
	if err != nil {
		return response{}, err
	}
	// Without If-Match the replacement is last-write-wins, as every update of the API.
	pu, err := h.P.UpdateProvisionedUser(ctx, r.c, id, in, r.ifMatch())
	if err != nil {
		return response{}, err
	}
	return userResponse(http.StatusOK, pu, r), nil
}

// patchUser applies the operations to the user as stored and writes the result, conditional on
// the version read; a concurrent change makes it read and apply again.
func (h *Handler) patchUser(ctx context.Context, r *request) (response, error) {
	body, err := r.body()
	if err != nil {
		return response{}, err
	}
	ops, err := patchOps(body)
	if err != nil {
		return response{}, err
	}
	id := r.ev.PathParameters["id"]
	clientMatch := r.ifMatch()
	for attempt := 0; ; attempt++ {
		cur, err := h.P.GetProvisionedUser(ctx, r.c, id)
		if err != nil {
			return response{}, err
		}
		res := userJSON(cur, r.base)
		for _, op := range ops {
			if err := applyPatch(res, URNUser, op); err != nil {
				return response{}, err
			}
		}
		in, err := parseUser(res, &cur)
		if err != nil {
			return response{}, err
		}
		ifMatch := clientMatch
		if ifMatch == nil {
			v := cur.User.Version
			ifMatch = &v
		}
		pu, err := h.P.UpdateProvisionedUser(ctx, r.c, id, in, ifMatch)
		if errors.Is(err, access.ErrStale) && clientMatch == nil && attempt < 10 {
			continue
		}
		if err != nil {
			return response{}, err
		}
		return userResponse(http.StatusOK, pu, r), nil
	}
}

func (h *Handler) deleteUser(ctx context.Context, r *request) (response, error) {
	if err := h.P.DeprovisionUser(ctx, r.c, r.ev.PathParameters["id"], r.ifMatch()); err != nil {
		return response{}, err
	}
	return response{status: http.StatusNoContent}, nil
}

// listUsers answers GET /Users: every user the directory sees, or a filter's matches.
func (h *Handler) listUsers(ctx context.Context, r *request) (response, error) {
	start, count, err := r.paging()
	if err != nil {
		return response{}, err
	}
	proj := r.projection()
	if f := r.query("filter"); f != "" {
		e, err := parseFilter(f)
		if err != nil {
			return response{}, err
		}
		ids, ok, err := plan(ctx, e, h.userIndex(r))
		if err != nil {
			return response{}, err
		}
		if !ok {
			return response{}, noIndex(f)
		}
		users, err := h.P.ProvisionedUsers(ctx, r.c, ids)
		if err != nil {
			return response{}, err
		}
		var all []map[string]any
		for _, pu := range users {
			if res := userJSON(pu, r.base); eval(e, res) {
				all = append(all, res)
			}
		}
		return page(all, start, count, proj), nil
	}
	return listEvery(start, count, proj,
		func(pg access.Page) ([]access.ProvisionedUser, string, error) {
			return h.P.ListProvisionedUsers(ctx, r.c, pg)
		},
		func(pu access.ProvisionedUser) (map[string]any, error) { return userJSON(pu, r.base), nil })
}

// listEvery answers a list without a filter: every resource, read page by page and counted to
// the end for totalResults, rendering only those of the page asked for (start is 1-based).
func listEvery[T any](start, count int, proj projection, list func(access.Page) ([]T, string, error), render func(T) (map[string]any, error)) (response, error) {
	var out []map[string]any
	total := 0
	pg := access.Page{Limit: access.MaxPageLimit}
	for {
		items, next, err := list(pg)
		if err != nil {
			return response{}, err
		}
		for _, it := range items {
			total++
			if total >= start && len(out) < count {
				res, err := render(it)
				if err != nil {
					return response{}, err
				}
				out = append(out, proj.apply(res))
			}
		}
		if next == "" {
			return listResponse(out, total, start), nil
		}
		pg.Cursor = next
	}
}

// page cuts one page out of every match.
func page(all []map[string]any, start, count int, proj projection) response {
	var out []map[string]any
	for i := start - 1; i >= 0 && i < len(all) && len(out) < count; i++ {
		out = append(out, proj.apply(all[i]))
	}
	return listResponse(out, len(all), start)
}

// userIndex answers the indexed comparisons on users.
func (h *Handler) userIndex(r *request) index {
	return func(ctx context.Context, e *filter.AttributeExpression) ([]string, bool, error) {
		m, ok := indexedValue(e)
		p := e.AttributePath
		switch {
		case !ok:
			return nil, false, nil
		case attrIs(p, URNUser, "id", "") && m.Op == "eq":
			return []string{m.Value}, true, nil
		case (attrIs(p, URNUser, "userName", "") || attrIs(p, URNUser, "emails", "value") || attrIs(p, URNUser, "emails", "")) && m.Op == "eq":
			ids, err := h.P.ProvisionedUserIDsByEmail(ctx, r.c, m.Value)
			return ids, true, err
		case attrIs(p, URNUser, "externalId", ""):
			ids, err := h.P.ProvisionedUserIDsByExternalID(ctx, r.c, m, maxFilterCandidates)
			return ids, true, err
		}
		return nil, false, nil
	}
}
