package main

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/tilgang/tilgang/shared/consolefn"
	"github.com/tilgang/tilgang/shared/routes"
)

// consoleURL is the template form of the API's URL + /console/.
func (s *synthesized) consoleURL() any {
	api := s.id(s.stack.API.Node().DefaultChild().(awscdk.CfnElement))
	return map[string]any{"Fn::Join": []any{"", []any{getAtt(api, "ApiEndpoint"), "/console/"}}}
}

// TestConsoleRoutesArePublic: each route of routes.Public is in the API, without an authorizer,
// integrated with the console function; every other route keeps the JWT authorizer
// (TestEveryRouteIsIntegratedWithItsFunction).
func TestConsoleRoutesArePublic(t *testing.T) {
	s := synth(t)
	integrations := s.ofType("AWS::ApiGatewayV2::Integration")
	byKey := map[string]resource{}
	for _, r := range s.ofType("AWS::ApiGatewayV2::Route") {
		key, _ := r.Properties["RouteKey"].(string)
		byKey[key] = r
	}
	for _, rt := range routes.Public {
		r, ok := byKey[rt.Key()]
		if !ok {
			t.Errorf("public route %q missing from the template", rt.Key())
			continue
		}
		if got := r.Properties["AuthorizationType"]; got != "NONE" {
			t.Errorf("public route %q: AuthorizationType = %v, want NONE", rt.Key(), got)
		}
		if r.Properties["AuthorizerId"] != nil {
			t.Errorf("public route %q has an authorizer", rt.Key())
		}
		integration := integrations[targetIntegration(r.Properties["Target"])]
		if got, want := integration.Properties["IntegrationUri"], getAtt(s.functionID(routes.FnConsole), "Arn"); !reflect.DeepEqual(got, want) {
			t.Errorf("public route %q: integration URI = %v, want the console function", rt.Key(), got)
		}
	}
	// The SCIM routes check the provisioning token in their function (scim_test.go).
	unauthorized := append(slices.Clone(routes.Public), routes.SCIM...)
	for key, r := range byKey {
		if r.Properties["AuthorizationType"] != "JWT" && !slices.ContainsFunc(unauthorized, func(p routes.Route) bool { return p.Key() == key }) {
			t.Errorf("route %q has no JWT authorizer and is not in routes.Public or routes.SCIM", key)
		}
	}
}

func TestHostedUIDomain(t *testing.T) {
	s := synth(t)
	domains := s.ofType("AWS::Cognito::UserPoolDomain")
	if len(domains) != 1 {
		t.Fatalf("%d user pool domains, want 1", len(domains))
	}
	pool := ref(s.id(s.stack.UserPool.Node().DefaultChild().(awscdk.CfnElement)))
	for id, d := range domains {
		if !reflect.DeepEqual(d.Properties["UserPoolId"], pool) {
			t.Errorf("%s: UserPoolId %v, want %v", id, d.Properties["UserPoolId"], pool)
		}
		want := map[string]any{"Fn::Join": []any{"-", []any{"tilgangstack", map[string]any{"Ref": "AWS::AccountId"}}}}
		if !reflect.DeepEqual(d.Properties["Domain"], want) {
			t.Errorf("%s: Domain %v, want the stack name and the account id %v", id, d.Properties["Domain"], want)
		}
		if d.Properties["CustomDomainConfig"] != nil {
			t.Errorf("%s: a custom domain", id)
		}
	}
	if _, ok := s.outputs["ConsoleUrl"]; !ok {
		t.Error("no ConsoleUrl output")
	}
	if _, ok := s.outputs["CognitoDomain"]; !ok {
		t.Error("no CognitoDomain output")
	}
}

func TestDomainPrefixFromContext(t *testing.T) {
	synth(t) // the shared stack first: jsii runs one app at a time well
	prefix := func(v string) (string, error) {
		app := awscdk.NewApp(&awscdk.AppProps{Context: &map[string]interface{}{ctxCognitoDomainPrefix: v}})
		p, err := cognitoDomainPrefix(awscdk.NewStack(app, jsii.String("Other"), nil))
		if err != nil {
			return "", err
		}
		return *p, nil
	}
	if got, err := prefix("tilgang-prod"); err != nil || got != "tilgang-prod" {
		t.Errorf("prefix tilgang-prod: %q, %v", got, err)
	}
	for _, bad := range []string{"Tilgang", "-tilgang", "tilgang_prod", "my-cognito", "aws-tilgang", strings.Repeat("a", 64)} {
		if _, err := prefix(bad); err == nil {
			t.Errorf("prefix %q accepted", bad)
		}
	}
}

// TestWebClientOAuth: the web client allows the authorization code flow (the console adds PKCE)
// with the console as its only callback and logout URL, and stays a public client.
func TestWebClientOAuth(t *testing.T) {
	s := synth(t)
	clients := s.ofType("AWS::Cognito::UserPoolClient")
	if len(clients) != 1 {
		t.Fatalf("%d user pool clients, want 1", len(clients))
	}
	for id, c := range clients {
		p := c.Properties
		checks := map[string]any{
			"AllowedOAuthFlowsUserPoolClient": true,
			"AllowedOAuthFlows":               []any{"code"},
			"AllowedOAuthScopes":              []any{"openid", "email", "profile"},
			"SupportedIdentityProviders":      []any{"COGNITO"},
			"CallbackURLs":                    []any{s.consoleURL()},
			"LogoutURLs":                      []any{s.consoleURL()},
			"GenerateSecret":                  false,
		}
		for k, want := range checks {
			if !reflect.DeepEqual(p[k], want) {
				t.Errorf("%s %s = %v, want %v", id, k, p[k], want)
			}
		}
		if flows := strs(p["ExplicitAuthFlows"]); slices.Contains(flows, "ALLOW_USER_PASSWORD_AUTH") {
			t.Errorf("%s allows plain password auth: %v", id, flows)
		}
	}
}

// TestConsoleFunction: the console function knows the hosted UI and the client, is traced and
// may write its logs only.
func TestConsoleFunction(t *testing.T) {
	s := synth(t)
	fn, ok := s.resources[s.functionID(routes.FnConsole)]
	if !ok {
		t.Fatal("no console function")
	}
	env, _ := fn.Properties["Environment"].(map[string]any)["Variables"].(map[string]any)
	client := ref(s.id(s.stack.Client.Node().DefaultChild().(awscdk.CfnElement)))
	if !reflect.DeepEqual(env[consolefn.EnvClientID], client) {
		t.Errorf("%s = %v, want %v", consolefn.EnvClientID, env[consolefn.EnvClientID], client)
	}
	if env[consolefn.EnvCognitoDomain] == nil {
		t.Errorf("%s not set", consolefn.EnvCognitoDomain)
	}
	for _, k := range []string{"TABLE_NAME", "USER_POOL_ID", "JOBS_QUEUE_URL"} {
		if env[k] != nil {
			t.Errorf("the console function is told %s: it reads no data", k)
		}
	}
	if got := fn.Properties["TracingConfig"]; !reflect.DeepEqual(got, map[string]any{"Mode": "Active"}) {
		t.Errorf("TracingConfig = %v", got)
	}
	var actions []string
	for _, p := range s.ofType("AWS::IAM::Policy") {
		roles, _ := p.Properties["Roles"].([]any)
		for _, r := range roles {
			if refID(r) == s.roleID(routes.FnConsole) {
				for _, st := range statements(p) {
					actions = append(actions, strs(st["Action"])...)
				}
			}
		}
	}
	want := dedupe(append([]string{"logs:CreateLogStream", "logs:PutLogEvents"}, xrayActions...))
	if got := dedupe(actions); !slices.Equal(got, want) {
		t.Errorf("console function may do %v, want %v", got, want)
	}
}
