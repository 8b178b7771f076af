package routes

// FnSCIM serves the SCIM 2.0 service provider under /scim/v2 (RFC 7644).
const FnSCIM = "scim"

// SCIMBase is where the SCIM service provider lives; a tenant's directory is given
// <API URL>/scim/v2 and a provisioning token, which names the tenant.
const SCIMBase = "/scim/v2"

// SCIM lists the SCIM routes. They are not behind the JWT authorizer: a directory sends a
// provisioning token, which the function checks itself (see shared/scim). The CDK stack
// declares them without an authorizer, and the dev server passes them on unchecked.
var SCIM = []Route{
	{"GET", SCIMBase + "/ServiceProviderConfig", FnSCIM},
	{"GET", SCIMBase + "/ResourceTypes", FnSCIM},
	{"GET", SCIMBase + "/ResourceTypes/{id}", FnSCIM},
	{"GET", SCIMBase + "/Schemas", FnSCIM},
	{"GET", SCIMBase + "/Schemas/{id}", FnSCIM},
	{"GET", SCIMBase + "/Users", FnSCIM},
	{"POST", SCIMBase + "/Users", FnSCIM},
	{"GET", SCIMBase + "/Users/{id}", FnSCIM},
	{"PUT", SCIMBase + "/Users/{id}", FnSCIM},
	{"PATCH", SCIMBase + "/Users/{id}", FnSCIM},
	{"DELETE", SCIMBase + "/Users/{id}", FnSCIM},
	{"GET", SCIMBase + "/Groups", FnSCIM},
	{"POST", SCIMBase + "/Groups", FnSCIM},
	{"GET", SCIMBase + "/Groups/{id}", FnSCIM},
	{"PUT", SCIMBase + "/Groups/{id}", FnSCIM},
	{"PATCH", SCIMBase + "/Groups/{id}", FnSCIM},
	{"DELETE", SCIMBase + "/Groups/{id}", FnSCIM},
}

// MatchSCIM finds the SCIM route for a method and a concrete path, like Match.
func MatchSCIM(method, path string) (Route, map[string]string, bool) {
	return match(SCIM, method, path)
}
