package main

import (
	"reflect"
	"testing"

	"github.com/tilgang/tilgang/shared/routes"
)

// TestSCIMRoutesCheckTheirOwnToken: every SCIM route is in the template, integrated with the
// scim function, and not behind the JWT authorizer (the function checks the provisioning token).
func TestSCIMRoutesCheckTheirOwnToken(t *testing.T) {
	s := synth(t)
	byKey := map[string]resource{}
	for _, r := range s.ofType("AWS::ApiGatewayV2::Route") {
		key, _ := r.Properties["RouteKey"].(string)
		byKey[key] = r
	}
	integrations := s.ofType("AWS::ApiGatewayV2::Integration")
	want := getAtt(s.functionID(routes.FnSCIM), "Arn")
	for _, rt := range routes.SCIM {
		r, ok := byKey[rt.Key()]
		if !ok {
			t.Errorf("SCIM route %q missing from the template", rt.Key())
			continue
		}
		if got := r.Properties["AuthorizationType"]; got != "NONE" {
			t.Errorf("route %q: AuthorizationType = %v, want NONE (the function checks the token)", rt.Key(), got)
		}
		if _, has := r.Properties["AuthorizerId"]; has {
			t.Errorf("route %q has an authorizer", rt.Key())
		}
		integration, ok := integrations[targetIntegration(r.Properties["Target"])]
		if !ok {
			t.Errorf("route %q: no integration", rt.Key())
			continue
		}
		if got := integration.Properties["IntegrationUri"]; !reflect.DeepEqual(got, want) {
			t.Errorf("route %q: integration URI = %v, want the scim function", rt.Key(), got)
		}
	}
}
