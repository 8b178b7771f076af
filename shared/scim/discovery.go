package scim

import (
	"context"
	"net/http"
	"strings"
)

// The discovery documents (RFC 7644, section 4; RFC 7643, sections 5-7), as data.

func (h *Handler) serviceProviderConfig(_ context.Context, r *request) (response, error) {
	return response{status: http.StatusOK, body: map[string]any{
		"schemas":          []any{URNServiceProvider},
		"documentationUri": "https://github.com/tilgang/tilgang#provisioning-scim-20",
		"patch":            map[string]any{"supported": true},
		"bulk":             map[string]any{"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
		"filter":           map[string]any{"supported": true, "maxResults": maxResults},
		"changePassword":   map[string]any{"supported": false},
		"sort":             map[string]any{"supported": false},
		"etag":             map[string]any{"supported": true},
		"authenticationSchemes": []any{map[string]any{
			"type": "oauthbearertoken", "name": "Provisioning token", "primary": true,
			"description": "A tenant's provisioning token (POST /v1/scim-tokens) in Authorization: Bearer",
		}},
		"meta": map[string]any{"resourceType": "ServiceProviderConfig", "location": r.base + "/ServiceProviderConfig"},
	}}, nil
}

func resourceTypesJSON(base string) []map[string]any {
	return []map[string]any{
		{
			"schemas": []any{URNResourceType}, "id": "User", "name": "User", "endpoint": "/Users",
			"description": "An employee of the tenant", "schema": URNUser,
			"schemaExtensions": []any{map[string]any{"schema": URNEnterprise, "required": false}},
			"meta":             map[string]any{"resourceType": "ResourceType", "location": base + "/ResourceTypes/User"},
		},
		{
			"schemas": []any{URNResourceType}, "id": "Group", "name": "Group", "endpoint": "/Groups",
			"description": "A permission group the directory manages (created without rights)", "schema": URNGroup,
			"meta": map[string]any{"resourceType": "ResourceType", "location": base + "/ResourceTypes/Group"},
		},
	}
}

func (h *Handler) resourceTypes(_ context.Context, r *request) (response, error) {
	all := resourceTypesJSON(r.base)
	return listResponse(all, len(all), 1), nil
}

func (h *Handler) resourceType(_ context.Context, r *request) (response, error) {
	for _, t := range resourceTypesJSON(r.base) {
		if strings.EqualFold(t["id"].(string), r.ev.PathParameters["id"]) {
			return response{status: http.StatusOK, body: t}, nil
		}
	}
	return response{}, &Error{Status: http.StatusNotFound, Detail: "no such resource type"}
}

// attr describes one attribute of a schema.
func attr(name, typ string, multi, required bool, mutability, uniqueness string, sub ...map[string]any) map[string]any {
	a := map[string]any{
		"name": name, "type": typ, "multiValued": multi, "required": required, "caseExact": false,
		"mutability": mutability, "returned": "default", "uniqueness": uniqueness,
	}
	if name == "id" || name == "externalId" || name == "value" {
		a["caseExact"] = true
	}
	if len(sub) > 0 {
		list := make([]any, len(sub))
		for i, s := range sub {
			list[i] = s
		}
		a["subAttributes"] = list
	}
	return a
}

func schemasJSON(base string) []map[string]any {
	rw, ro := "readWrite", "readOnly"
	multiValue := func(name string) map[string]any {
		return attr(name, "complex", true, false, rw, "none",
			attr("value", "string", false, false, rw, "none"), attr("type", "string", false, false, rw, "none"),
			attr("primary", "boolean", false, false, rw, "none"))
	}
	schema := func(id, name, desc string, attrs ...map[string]any) map[string]any {
		list := make([]any, len(attrs))
		for i, a := range attrs {
			list[i] = a
		}
		return map[string]any{"schemas": []any{URNSchema}, "id": id, "name": name, "description": desc, "attributes": list,
			"meta": map[string]any{"resourceType": "Schema", "location": base + "/Schemas/" + id}}
	}
	return []map[string]any{
		schema(URNUser, "User", "A Tilgang user: userName is the email, unique across all tenants",
			attr("userName", "string", false, true, rw, "server"),
			attr("name", "complex", false, false, rw, "none",
				attr("formatted", "string", false, false, rw, "none"), attr("givenName", "string", false, false, rw, "none"),
				attr("familyName", "string", false, false, rw, "none")),
			attr("displayName", "string", false, false, rw, "none"),
			attr("title", "string", false, false, rw, "none"),
			attr("active", "boolean", false, false, rw, "none"),
			multiValue("emails"), multiValue("phoneNumbers")),
		schema(URNEnterprise, "EnterpriseUser", "Enterprise user",
			attr("employeeNumber", "string", false, false, rw, "none"),
			attr("department", "string", false, false, rw, "none"),
			attr("manager", "complex", false, false, rw, "none",
				attr("value", "string", false, false, rw, "none"), attr("$ref", "reference", false, false, ro, "none"))),
		schema(URNGroup, "Group", "A permission group the directory manages",
			attr("displayName", "string", false, true, rw, "none"),
			attr("members", "complex", true, false, rw, "none",
				attr("value", "string", false, false, "immutable", "none"), attr("display", "string", false, false, ro, "none"),
				attr("$ref", "reference", false, false, "immutable", "none"), attr("type", "string", false, false, "immutable", "none"))),
	}
}

func (h *Handler) schemas(_ context.Context, r *request) (response, error) {
	all := schemasJSON(r.base)
	return listResponse(all, len(all), 1), nil
}

func (h *Handler) schema(_ context.Context, r *request) (response, error) {
	for _, s := range schemasJSON(r.base) {
		if strings.EqualFold(s["id"].(string), r.ev.PathParameters["id"]) {
			return response{status: http.StatusOK, body: s}, nil
		}
	}
	return response{}, &Error{Status: http.StatusNotFound, Detail: "no such schema"}
}
