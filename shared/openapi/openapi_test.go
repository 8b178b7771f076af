package openapi

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/getkin/kin-openapi/openapi3"

	"github.com/tilgang/tilgang/shared/routes"
)

func TestDocumentLoadsAndValidates(t *testing.T) {
	doc, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if doc.T.OpenAPI != "3.1.0" {
		t.Errorf("openapi = %q, want 3.1.0", doc.T.OpenAPI)
	}
	if err := doc.T.Validate(context.Background(), openapi3.EnableExamplesValidation()); err != nil {
		t.Fatal(err)
	}
	// Loading twice gives the same document.
	if again, _ := Load(); again != doc {
		t.Error("Load is not memoised")
	}
}

func TestRoutesMatchDocument(t *testing.T) {
	doc := MustLoad()
	docKeys := doc.RouteKeys()
	var tableKeys []string
	for _, r := range append(slices.Clone(routes.All), routes.SCIM...) {
		tableKeys = append(tableKeys, r.Key())
		if !slices.Contains(docKeys, r.Key()) {
			t.Errorf("route %s is not in openapi.yaml", r.Key())
		}
	}
	for _, k := range docKeys {
		if !slices.Contains(tableKeys, k) {
			t.Errorf("openapi.yaml operation %s is not in routes.All", k)
		}
		if strings.Contains(k, " /dev/") {
			t.Errorf("dev-only route %s in the document", k)
		}
	}
}

func TestEveryOperationDocumentsErrorsAndSecurity(t *testing.T) {
	doc := MustLoad()
	if len(doc.T.Security) == 0 {
		t.Fatal("no global security requirement")
	}
	ids := map[string]string{}
	for _, k := range doc.RouteKeys() {
		op := doc.Operation(k)
		for _, code := range []int{400, 401, 404} {
			if op.Responses.Status(code) == nil {
				t.Errorf("%s: no %d response", k, code)
			}
		}
		if op.Responses.Default() == nil {
			t.Errorf("%s: no default response", k)
		}
		// The SCIM routes take a provisioning token instead, and answer SCIM errors.
		scim := strings.Contains(k, " /scim/")
		if scim && (op.Security == nil || len(*op.Security) != 1 || (*op.Security)[0]["scimToken"] == nil) {
			t.Errorf("%s: a SCIM route must require the scimToken scheme", k)
		}
		if op.Security != nil && !scim {
			t.Errorf("%s: overrides the global security", k)
		}
		if op.OperationID == "" {
			t.Errorf("%s: no operationId", k)
		} else if other, dup := ids[op.OperationID]; dup {
			t.Errorf("%s: operationId %s also used by %s", k, op.OperationID, other)
		}
		ids[op.OperationID] = k
		for code, ref := range op.Responses.Map() {
			if code[0] != '4' && code[0] != '5' && code != "default" {
				continue
			}
			if scim {
				if ref.Value.Content.Get("application/scim+json") == nil {
					t.Errorf("%s %s: SCIM error response is not application/scim+json", k, code)
				}
				continue
			}
			if ref.Value.Content.Get("application/problem+json") == nil {
				t.Errorf("%s %s: error response is not application/problem+json", k, code)
			}
		}
		// If-Match goes with 412 both ways.
		hasIfMatch := op.Parameters.GetByInAndName("header", "If-Match") != nil
		has412 := op.Responses.Status(412) != nil
		if hasIfMatch != has412 {
			t.Errorf("%s: If-Match=%v but 412=%v", k, hasIfMatch, has412)
		}
	}
	for _, k := range []string{"POST /v1/users", "POST /v1/groups", "POST /v1/clients", "POST /v1/access-jobs"} {
		if doc.Operation(k).Parameters.GetByInAndName("header", "Idempotency-Key") == nil {
			t.Errorf("%s: no Idempotency-Key", k)
		}
	}
}

func event(routeKey, path, query, body string, pathParams map[string]string) events.APIGatewayV2HTTPRequest {
	method, _, _ := strings.Cut(routeKey, " ")
	e := events.APIGatewayV2HTTPRequest{
		Version:        "2.0",
		RouteKey:       routeKey,
		RawPath:        path,
		RawQueryString: query,
		Headers:        map[string]string{"authorization": "Bearer x"},
		PathParameters: pathParams,
		Body:           body,
	}
	e.RequestContext.HTTP.Method = method
	e.RequestContext.HTTP.Path = path
	if body != "" {
		e.Headers["content-type"] = "application/json"
	}
	return e
}

func jsonResp(status int, contentType string, v any, headers ...string) events.APIGatewayV2HTTPResponse {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	h := map[string]string{"Content-Type": contentType}
	for i := 0; i+1 < len(headers); i += 2 {
		h[headers[i]] = headers[i+1]
	}
	return events.APIGatewayV2HTTPResponse{StatusCode: status, Headers: h, Body: string(b)}
}

func sampleUser() map[string]any {
	return map[string]any{
		"id":             "u1",
		"name":           "Anna Berg",
		"email":          "anna@example.com",
		"profession":     "practitioner",
		"groupIds":       []string{"g1"},
		"roles":          []string{},
		"status":         "active",
		"calendarIds":    []string{"c1"},
		"calendarAccess": map[string]string{"c2": "view"},
		"isOwner":        false,
		"createdAt":      "2024-05-01T10:00:00Z",
		"updatedAt":      "2024-05-01T10:00:00Z",
		"version":        3,
	}
}

func problem(status int) map[string]any {
	return map[string]any{
		"type":   "https://tilgang.example/problems/not-found",
		"title":  "Not found",
		"status": status,
		"detail": "user not found",
	}
}

func TestValidateResponse(t *testing.T) {
	doc := MustLoad()
	getUser := event("GET /v1/users/{userId}", "/v1/users/u1", "", "", map[string]string{"userId": "u1"})

	without := func(m map[string]any, key string) map[string]any { delete(m, key); return m }
	with := func(m map[string]any, key string, v any) map[string]any { m[key] = v; return m }

	cases := []struct {
		name string
		req  events.APIGatewayV2HTTPRequest
		resp events.APIGatewayV2HTTPResponse
		ok   bool
	}{
		{"user", getUser, jsonResp(200, "application/json", sampleUser(), "ETag", `"3"`), true},
		{"user weak etag", getUser, jsonResp(200, "application/json", sampleUser(), "ETag", `W/"3"`), true},
		{"user without etag", getUser, jsonResp(200, "application/json", sampleUser()), false},
		{"user bad etag", getUser, jsonResp(200, "application/json", sampleUser(), "ETag", `3`), false},
		{"user missing email", getUser, jsonResp(200, "application/json", without(sampleUser(), "email"), "ETag", `"3"`), false},
		{"user bad status", getUser, jsonResp(200, "application/json", with(sampleUser(), "status", "sleeping"), "ETag", `"3"`), false},
		{"user bad calendar level", getUser, jsonResp(200, "application/json", with(sampleUser(), "calendarAccess", map[string]string{"c": "delete"}), "ETag", `"3"`), false},
		// Undocumented properties are refused at every depth, so a renamed or accidental field in
		// a handler's JSON fails the API tests instead of quietly changing the contract.
		{"user with legacy rights", getUser, jsonResp(200, "application/json", with(sampleUser(), "legacyRights", true), "ETag", `"3"`), true},
		{"user with an extra property", getUser, jsonResp(200, "application/json", with(sampleUser(), "somethingNew", "x"), "ETag", `"3"`), false},
		{"list users item with an extra property", event("GET /v1/users", "/v1/users", "", "", nil),
			jsonResp(200, "application/json", map[string]any{"items": []any{with(sampleUser(), "somethingNew", "x")}}), false},
		{"list users page with an extra property", event("GET /v1/users", "/v1/users", "", "", nil),
			jsonResp(200, "application/json", map[string]any{"items": []any{}, "total": 0}), false},
		{"problem with an extra property", getUser, jsonResp(404, "application/problem+json", with(problem(404), "code", "not_found")), false},
		{"problem field with an extra property", getUser, jsonResp(400, "application/problem+json",
			with(problem(400), "errors", []map[string]string{{"field": "email", "message": "taken", "hint": "x"}})), false},
		{"user as problem content type", getUser, jsonResp(200, "application/problem+json", sampleUser(), "ETag", `"3"`), false},
		{"problem 404", getUser, jsonResp(404, "application/problem+json", problem(404)), true},
		{"problem with errors", getUser, jsonResp(400, "application/problem+json", with(problem(400), "errors", []map[string]string{{"field": "email", "message": "taken"}})), true},
		{"problem as json", getUser, jsonResp(404, "application/json", problem(404)), false},
		{"problem without title", getUser, jsonResp(404, "application/problem+json", without(problem(404), "title")), false},
		{"problem status as string", getUser, jsonResp(404, "application/problem+json", with(problem(404), "status", "404")), false},
		{"undocumented error falls to default", getUser, jsonResp(503, "application/problem+json", problem(503)), true},
		{"undocumented success", getUser, jsonResp(201, "application/json", sampleUser(), "ETag", `"3"`), false},
		{"delete 204 empty", event("DELETE /v1/users/{userId}", "/v1/users/u1", "", "", nil), events.APIGatewayV2HTTPResponse{StatusCode: 204}, true},
		{"delete 204 with body", event("DELETE /v1/users/{userId}", "/v1/users/u1", "", "", nil), events.APIGatewayV2HTTPResponse{StatusCode: 204, Body: "{}"}, false},
		{"list users", event("GET /v1/users", "/v1/users", "limit=10", "", nil),
			jsonResp(200, "application/json", map[string]any{"items": []any{sampleUser()}, "nextCursor": "abc"}), true},
		{"list users last page", event("GET /v1/users", "/v1/users", "", "", nil),
			jsonResp(200, "application/json", map[string]any{"items": []any{}}), true},
		{"list users without items", event("GET /v1/users", "/v1/users", "", "", nil),
			jsonResp(200, "application/json", map[string]any{"users": []any{}}), false},
		{"group with bad area", event("GET /v1/groups/{groupId}", "/v1/groups/g1", "", "", nil),
			jsonResp(200, "application/json", map[string]any{
				"id": "g1", "name": "Therapist", "description": "", "createdAt": "2024-05-01T10:00:00Z",
				"updatedAt": "2024-05-01T10:00:00Z", "version": 1,
				"permissions": map[string]any{"kitchen": map[string]any{"level": "view"}},
			}, "ETag", `"1"`), false},
		{"group permission with an extra property", event("GET /v1/groups/{groupId}", "/v1/groups/g1", "", "", nil),
			jsonResp(200, "application/json", map[string]any{
				"id": "g1", "name": "Therapist", "description": "", "createdAt": "2024-05-01T10:00:00Z",
				"updatedAt": "2024-05-01T10:00:00Z", "version": 1,
				"permissions": map[string]any{"clients": map[string]any{"level": "edit", "scope": "own", "inherited": true}},
			}, "ETag", `"1"`), false},
		{"group", event("GET /v1/groups/{groupId}", "/v1/groups/g1", "", "", nil),
			jsonResp(200, "application/json", map[string]any{
				"id": "g1", "name": "Therapist", "description": "", "createdAt": "2024-05-01T10:00:00Z",
				"updatedAt": "2024-05-01T10:00:00Z", "version": 1, "template": "therapist",
				"permissions": map[string]any{"clients": map[string]any{"level": "edit", "scope": "own"}, "settings": map[string]any{"level": "none"}},
			}, "ETag", `"1"`), true},
		{"dry run", event("POST /v1/access-jobs", "/v1/access-jobs", "", `{}`, nil),
			jsonResp(200, "application/json", map[string]any{"dryRun": true, "total": 1, "counts": map[string]int{"assigned": 1},
				"results": []any{map[string]any{"consultantId": "u1", "clientId": "c1", "program": "payroll", "outcome": "assigned", "reason": ""}}}), true},
		{"dry run false", event("POST /v1/access-jobs", "/v1/access-jobs", "", `{}`, nil),
			jsonResp(200, "application/json", map[string]any{"dryRun": false, "total": 0, "counts": map[string]int{}, "results": []any{}}), false},
		{"link bad colour", event("DELETE /v1/users/{userId}/links/{clientId}", "/v1/users/u1/links/c1", "", "", nil),
			jsonResp(200, "application/json", map[string]any{"clientId": "c1", "userId": "u1", "status": "removed", "employmentRate": 75,
				"employmentNumber": "A-102", "color": "blue", "createdAt": "2024-05-01T10:00:00Z", "updatedAt": "2024-05-01T10:00:00Z"}), false},
		{"link", event("DELETE /v1/users/{userId}/links/{clientId}", "/v1/users/u1/links/c1", "", "", nil),
			jsonResp(200, "application/json", map[string]any{"clientId": "c1", "userId": "u1", "status": "removed", "employmentRate": 75,
				"employmentNumber": "A-102", "color": "#3366ff", "createdAt": "2024-05-01T10:00:00Z", "updatedAt": "2024-05-01T10:00:00Z",
				"version": 2}, "ETag", `"2"`), true},
		{"capabilities partial", event("GET /v1/users/{userId}/capabilities", "/v1/users/u1/capabilities", "clientId=c1", "", nil),
			jsonResp(200, "application/json", map[string]any{"userId": "u1", "clientId": "c1", "state": "inactive_link",
				"capabilities": map[string]string{"canLogIn": "yes", "scheduleAccess": "partial", "timeReportAccess": "yes",
					"communicationAccess": "no", "profileSettings": "yes", "schedulable": "no", "inStaffList": "no",
					"shiftsStayStaffed": "yes", "timeReportReminder": "yes", "recipientCanApproveTimeReport": "yes"},
				"conditions": map[string]string{"timeReportReminder": "only if the person has shifts in the time report"},
				"notes":      map[string]string{}}), true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := doc.ValidateResponse(c.req, c.resp)
			if c.ok && err != nil {
				t.Errorf("refused: %v", err)
			}
			if !c.ok && err == nil {
				t.Error("accepted")
			}
		})
	}
}

func TestValidateRequest(t *testing.T) {
	doc := MustLoad()
	cases := []struct {
		name string
		req  events.APIGatewayV2HTTPRequest
		ok   bool
	}{
		{"create user", event("POST /v1/users", "/v1/users", "", `{"name":"Anna","email":"anna@example.com","profession":"assistant","link":{"clientId":"c1","employmentRate":75,"employmentNumber":"A-1","color":"#3366ff"}}`, nil), true},
		{"create user without email", event("POST /v1/users", "/v1/users", "", `{"name":"Anna","profession":"assistant"}`, nil), false},
		{"create user bad profession", event("POST /v1/users", "/v1/users", "", `{"name":"Anna","email":"a@b.c","profession":"chef"}`, nil), false},
		{"patch user empty (changes nothing, answers 200)", event("PATCH /v1/users/{userId}", "/v1/users/u1", "", `{}`, nil), true},
		{"patch user", event("PATCH /v1/users/{userId}", "/v1/users/u1", "", `{"phone":"+4512345678"}`, nil), true},
		{"limit too big", event("GET /v1/users", "/v1/users", "limit=500", "", nil), false},
		{"limit ok", event("GET /v1/users", "/v1/users", "limit=100&status=removed", "", nil), true},
		{"calendar access", event("PUT /v1/users/{userId}/calendar-access", "/v1/users/u1/calendar-access", "", `{"c1":"view","c2":"none"}`, nil), true},
		{"calendar access delete", event("PUT /v1/users/{userId}/calendar-access", "/v1/users/u1/calendar-access", "", `{"c1":"delete"}`, nil), false},
		{"job", event("POST /v1/access-jobs", "/v1/access-jobs", "", `{"action":"grant","consultantIds":["u1"],"clientIds":["c1"],"programs":["payroll"]}`, nil), true},
		{"job without clients", event("POST /v1/access-jobs", "/v1/access-jobs", "", `{"action":"grant","consultantIds":["u1"],"clientIds":[]}`, nil), false},
		{"no route key", event("", "/v1/groups/g1", "", "", nil), false},
	}
	cases[len(cases)-1].req.RequestContext.HTTP.Method = "GET"
	cases[len(cases)-1].ok = true // found by the router from method and path
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := doc.ValidateRequest(c.req)
			if c.ok && err != nil {
				t.Errorf("refused: %v", err)
			}
			if !c.ok && err == nil {
				t.Error("accepted")
			}
		})
	}
}

func TestIfMatchHeader(t *testing.T) {
	doc := MustLoad()
	req := event("PATCH /v1/groups/{groupId}", "/v1/groups/g1", "", `{"name":"x"}`, nil)
	for _, v := range []string{`W/"4"`, `"4"`, `*`, `"3", "4"`} {
		req.Headers["if-match"] = v
		if err := doc.ValidateRequest(req); err != nil {
			t.Errorf("If-Match %s refused: %v", v, err)
		}
	}
	req.Headers["if-match"] = `4`
	if err := doc.ValidateRequest(req); err == nil {
		t.Error("unquoted If-Match accepted")
	}
}

// TestResponseSchemasAreClosed keeps the document from drifting back: every object with named
// properties that a response can hold must refuse undocumented ones, or the response validation
// the API tests run would let a renamed field through. Objects without named properties are maps
// (permissions by area, levels by calendar id, audit snapshots) and stay open by design.
func TestResponseSchemasAreClosed(t *testing.T) {
	doc := MustLoad()
	type visit struct {
		schema  *openapi3.Schema
		inAllOf bool
	}
	seen := map[visit]bool{}
	closed := func(b openapi3.BoolSchema) bool { return b.Has != nil && !*b.Has }
	// inAllOf: the schema is an allOf member of a schema with unevaluatedProperties: false, which
	// closes it; closing the member itself would refuse its siblings' properties.
	var walk func(where string, ref *openapi3.SchemaRef, inAllOf bool)
	walk = func(where string, ref *openapi3.SchemaRef, inAllOf bool) {
		if ref == nil || ref.Value == nil || seen[visit{ref.Value, inAllOf}] {
			return
		}
		s := ref.Value
		seen[visit{s, inAllOf}] = true
		if ref.Ref != "" {
			where = ref.Ref
		}
		switch {
		case len(s.AllOf) > 0 && closed(s.AdditionalProperties):
			t.Errorf("%s: additionalProperties: false next to allOf refuses the allOf members' properties; use unevaluatedProperties: false", where)
		case len(s.Properties) > 0 && !inAllOf && !closed(s.AdditionalProperties) && !closed(s.UnevaluatedProperties):
			t.Errorf("%s: response object allows undocumented properties (add additionalProperties: false, or unevaluatedProperties: false with allOf)", where)
		}
		for name, p := range s.Properties {
			walk(where+"/properties/"+name, p, false)
		}
		walk(where+"/items", s.Items, false)
		walk(where+"/additionalProperties", s.AdditionalProperties.Schema, false)
		for i, sub := range s.AllOf {
			walk(fmt.Sprintf("%s/allOf/%d", where, i), sub, closed(s.UnevaluatedProperties))
		}
		for i, sub := range s.OneOf {
			walk(fmt.Sprintf("%s/oneOf/%d", where, i), sub, false)
		}
		for i, sub := range s.AnyOf {
			walk(fmt.Sprintf("%s/anyOf/%d", where, i), sub, false)
		}
	}
	for _, k := range doc.RouteKeys() {
		for code, resp := range doc.Operation(k).Responses.Map() {
			for mt, c := range resp.Value.Content {
				walk(k+" "+code+" "+mt, c.Schema, false)
			}
		}
	}
	if len(seen) == 0 {
		t.Fatal("no response schema walked")
	}
}

// TestEveryOperationHasADescription: the reference page (/docs) renders each operation's
// description under its summary; an operation without one says too little.
func TestEveryOperationHasADescription(t *testing.T) {
	d := MustLoad()
	for _, key := range d.RouteKeys() {
		if op := d.Operation(key); op == nil || len(strings.TrimSpace(op.Description)) < 40 {
			t.Errorf("%s has no description", key)
		}
	}
}
