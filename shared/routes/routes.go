// Package routes is the one list of the HTTP API's routes and the Lambda function serving each.
// The dev server and the CDK stack both read it, so a route is declared exactly once.
package routes

import (
	"slices"
	"strings"
)

// Function names: one deployable API Lambda per resource, plus the workers.
const (
	FnMe       = "me"
	FnUsers    = "users"
	FnGroups   = "groups"
	FnSettings = "settings"
	FnAudit    = "audit"
	FnClients  = "clients"
	FnLinks    = "links"
	FnJobs     = "jobs"

	// FnJobWorker consumes access-job chunks from SQS.
	FnJobWorker = "jobworker"
	// FnAnonymiser is the scheduled GDPR anonymisation worker.
	FnAnonymiser = "anonymiser"
	// FnConsole serves the admin console's static files and the API reference (Public).
	FnConsole = "console"
)

// Route is one API Gateway HTTP API route and the function that serves it.
type Route struct {
	Method   string
	Path     string // API Gateway template, e.g. /v1/users/{userId}
	Function string
}

// Key is the API Gateway route key, e.g. "GET /v1/users/{userId}".
func (r Route) Key() string { return r.Method + " " + r.Path }

// All lists every route of the API.
var All = []Route{
	{"GET", "/v1/me", FnMe},
	{"GET", "/v1/users/{userId}/permissions", FnMe},
	{"GET", "/v1/users/{userId}/capabilities", FnMe},
	{"POST", "/v1/authorize", FnMe},
	{"GET", "/v1/permission-catalogue", FnMe},

	{"GET", "/v1/users", FnUsers},
	{"POST", "/v1/users", FnUsers},
	{"GET", "/v1/users/{userId}", FnUsers},
	{"PATCH", "/v1/users/{userId}", FnUsers},
	{"DELETE", "/v1/users/{userId}", FnUsers},
	{"POST", "/v1/users/{userId}/deactivate", FnUsers},
	{"POST", "/v1/users/{userId}/activate", FnUsers},
	{"POST", "/v1/users/{userId}/remove", FnUsers},
	{"POST", "/v1/users/{userId}/restore", FnUsers},
	{"POST", "/v1/users/{userId}/anonymise", FnUsers},
	{"PUT", "/v1/users/{userId}/groups", FnUsers},
	{"PUT", "/v1/users/{userId}/roles", FnUsers},
	{"PUT", "/v1/users/{userId}/calendar-access", FnUsers},
	{"GET", "/v1/user-bank", FnUsers},
	{"GET", "/v1/users/{userId}/export", FnUsers},
	{"GET", "/v1/calendars", FnUsers},
	{"GET", "/v1/calendars/{calendarId}", FnUsers},
	{"PATCH", "/v1/calendars/{calendarId}", FnUsers},

	{"GET", "/v1/groups", FnGroups},
	{"POST", "/v1/groups", FnGroups},
	{"GET", "/v1/groups/{groupId}", FnGroups},
	{"PATCH", "/v1/groups/{groupId}", FnGroups},
	{"DELETE", "/v1/groups/{groupId}", FnGroups},

	{"GET", "/v1/settings", FnSettings},
	{"PATCH", "/v1/settings", FnSettings},
	{"POST", "/v1/apps/employees/activate", FnSettings},
	{"POST", "/v1/apps/tenants/activate", FnSettings},
	{"PUT", "/v1/owner", FnSettings},
	{"GET", "/v1/programs", FnSettings},
	// Provisioning tokens (the SCIM routes themselves are in SCIM: they have their own check).
	{"GET", "/v1/scim-tokens", FnSettings},
	{"POST", "/v1/scim-tokens", FnSettings},
	{"DELETE", "/v1/scim-tokens/{tokenId}", FnSettings},

	{"GET", "/v1/audit", FnAudit},
	{"GET", "/v1/billing/seats", FnAudit},

	{"GET", "/v1/clients", FnClients},
	{"POST", "/v1/clients", FnClients},
	{"GET", "/v1/clients/{clientId}", FnClients},
	{"GET", "/v1/clients/{clientId}/access", FnClients},
	{"PUT", "/v1/clients/{clientId}/access/{userId}", FnClients},
	{"DELETE", "/v1/clients/{clientId}/access/{userId}", FnClients},
	{"GET", "/v1/users/{userId}/clients", FnClients},
	{"POST", "/v1/appointments", FnClients},
	{"GET", "/v1/clients/{clientId}/admins", FnClients},
	{"PUT", "/v1/clients/{clientId}/admins/{userId}", FnClients},
	{"DELETE", "/v1/clients/{clientId}/admins/{userId}", FnClients},

	{"GET", "/v1/users/{userId}/links", FnLinks},
	{"POST", "/v1/users/{userId}/links", FnLinks},
	{"PATCH", "/v1/users/{userId}/links/{clientId}", FnLinks},
	{"DELETE", "/v1/users/{userId}/links/{clientId}", FnLinks},
	{"GET", "/v1/clients/{clientId}/assistants", FnLinks},

	{"POST", "/v1/access-jobs", FnJobs},
	{"GET", "/v1/access-jobs/{jobId}", FnJobs},
	{"GET", "/v1/access-jobs/{jobId}/results", FnJobs},
	{"GET", "/v1/notifications", FnJobs},
	{"POST", "/v1/notifications/{notificationId}/read", FnJobs},

	{"POST", "/v1/access-reviews", FnJobs},
	{"GET", "/v1/access-reviews", FnJobs},
	{"GET", "/v1/access-reviews/{reviewId}", FnJobs},
	{"GET", "/v1/access-reviews/{reviewId}/items", FnJobs},
	{"POST", "/v1/access-reviews/{reviewId}/decisions", FnJobs},
	{"POST", "/v1/access-reviews/{reviewId}/complete", FnJobs},
}

// Public lists the routes of static, public files: the admin console and the API reference.
// They are not part of the /v1 API (nor of its OpenAPI document), carry no user data and take
// no token, so the stack serves them without the JWT authorizer. The dev server serves these
// paths itself (shared/devserver) and never reads this list; Match does not look at it.
var Public = []Route{
	{"GET", "/console", FnConsole},
	{"GET", "/console/{proxy+}", FnConsole},
	{"GET", "/openapi.yaml", FnConsole},
	{"GET", "/docs", FnConsole},
	{"GET", "/docs/{proxy+}", FnConsole},
}

// APIFunctions lists the distinct API function names in route-table order.
func APIFunctions() []string {
	var fns []string
	for _, r := range All {
		if !slices.Contains(fns, r.Function) {
			fns = append(fns, r.Function)
		}
	}
	return fns
}

// For returns the routes served by one function.
func For(function string) []Route {
	var out []Route
	for _, r := range All {
		if r.Function == function {
			out = append(out, r)
		}
	}
	return out
}

// Match finds the route for a method and a concrete path and extracts its path parameters.
// It prefers literal segments over parameters, as API Gateway does.
func Match(method, path string) (Route, map[string]string, bool) {
	return match(All, method, path)
}

func match(table []Route, method, path string) (Route, map[string]string, bool) {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	var best Route
	var bestParams map[string]string
	bestLiterals := -1
	for _, r := range table {
		if r.Method != method {
			continue
		}
		tsegs := strings.Split(strings.Trim(r.Path, "/"), "/")
		if len(tsegs) != len(segs) {
			continue
		}
		params := map[string]string{}
		literals := 0
		ok := true
		for i, t := range tsegs {
			if strings.HasPrefix(t, "{") && strings.HasSuffix(t, "}") {
				if segs[i] == "" {
					ok = false
					break
				}
				params[t[1:len(t)-1]] = segs[i]
				continue
			}
			if t != segs[i] {
				ok = false
				break
			}
			literals++
		}
		if ok && literals > bestLiterals {
			best, bestParams, bestLiterals = r, params, literals
		}
	}
	return best, bestParams, bestLiterals >= 0
}
