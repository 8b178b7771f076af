package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2integrations"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscognito"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/tilgang/tilgang/shared/consolefn"
	"github.com/tilgang/tilgang/shared/routes"
)

// The admin console and the API reference page in AWS (issue 16, issue 12 item 7).
//
// Decision: a function, not S3 + CloudFront. The console is a handful of small files with no
// build step, already embedded in Go (shared/console); the console function serves them with
// the reference page from the HTTP API's own origin, on the public routes of routes.Public. So
// the console calls the API on the same origin (no CORS, the webOrigin context stays the SaaS
// web app's), the stack gains no bucket, distribution, origin access control or deployment
// custom resource, and the console's security headers come from the same code as the dev
// server's. The cost is a Lambda invocation per file, a few per visit, and API Gateway's lack
// of a CDN cache; an operator with many users can put CloudFront in front of the API.
//
// Sign-in: the Cognito hosted UI with the authorization code flow and PKCE, done by the console
// itself (no library). The stack adds the user pool's domain and the OAuth settings of the web
// client; the function serves a config.js naming the domain and the client.

// ctxCognitoDomainPrefix sets the hosted UI's domain prefix,
// https://<prefix>.auth.<region>.amazoncognito.com. Prefixes are unique per region across all
// accounts; the default is the stack name, lowercased, and the account id.
const ctxCognitoDomainPrefix = "cognitoDomainPrefix"

// consolePath is where the console lives: its callback and logout URL.
const consolePath = "/console/"

// OAuth settings of the web client for the console's hosted UI sign-in.
var (
	consoleOAuthFlows  = []string{"code"}
	consoleOAuthScopes = []string{"openid", "email", "profile"}
)

// domainPrefix matches what Cognito accepts: lowercase letters, digits and inner hyphens.
var domainPrefix = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$`)

// deployedFunctions lists every function the stack deploys: those of allFunctions (route table
// and workers, each with a grants entry) and the console function, which needs no grant.
func deployedFunctions() []string {
	return append(allFunctions(), routes.FnConsole)
}

// addConsole adds the hosted UI domain, the web client's OAuth settings, the console function and
// its public routes. It runs once the HTTP API exists: the callback URL is the API's URL.
func (s *TilgangStack) addConsole(assetDir string) error {
	if _, err := os.Stat(filepath.Join(assetDir, routes.FnConsole, "bootstrap")); err != nil {
		return fmt.Errorf("tilgang stack: no bootstrap binary under %s for %s: run make build, or synthesize with -c stubAssets=true",
			assetDir, routes.FnConsole)
	}
	prefix, err := cognitoDomainPrefix(s.Stack)
	if err != nil {
		return err
	}
	domain := s.UserPool.AddDomain(jsii.String("HostedUI"), &awscognito.UserPoolDomainOptions{
		CognitoDomain: &awscognito.CognitoDomainOptions{DomainPrefix: prefix},
	})

	// The client is made before the API (the API's JWT authorizer names it), so its OAuth
	// settings, which name the API's URL, are set on it here. CloudFormation has no cycle: the
	// client refers to the API, the authorizer to the client.
	consoleURL := jsii.String(*s.API.ApiEndpoint() + consolePath)
	client := s.Client.Node().DefaultChild().(awscognito.CfnUserPoolClient)
	client.SetAllowedOAuthFlowsUserPoolClient(jsii.Bool(true))
	client.SetAllowedOAuthFlows(jsii.Strings(consoleOAuthFlows...))
	client.SetAllowedOAuthScopes(jsii.Strings(consoleOAuthScopes...))
	client.SetSupportedIdentityProviders(jsii.Strings("COGNITO"))
	client.SetCallbackUrLs(&[]*string{consoleURL})
	client.SetLogoutUrLs(&[]*string{consoleURL})

	fn := s.newFunction(routes.FnConsole, assetDir, map[string]*string{
		consolefn.EnvCognitoDomain: domain.BaseUrl(nil),
		consolefn.EnvClientID:      s.Client.UserPoolClientId(),
	}, 256, 5)
	s.Functions[routes.FnConsole] = fn
	cdknag.NagSuppressions_AddResourceSuppressions(fn.Role(), &[]*cdknag.NagPackSuppression{
		nag("AwsSolutions-IAM5", "Active tracing grants xray:PutTraceSegments and xray:PutTelemetryRecords, which have no "+
			"resource-level permissions: X-Ray only accepts Resource \"*\" for them. The console function has no other grant.",
			"Resource::*"),
	}, jsii.Bool(true))
	cdknag.NagSuppressions_AddResourceSuppressions(fn, &[]*cdknag.NagPackSuppression{
		nag("Serverless-LambdaDLQ", "The console function is invoked synchronously by API Gateway, which answers the error to "+
			"the browser; a dead-letter queue only ever receives failed asynchronous invocations."),
	}, jsii.Bool(false))

	integration := awsapigatewayv2integrations.NewHttpLambdaIntegration(jsii.String("ConsoleIntegration"), fn, nil)
	public := nag("AwsSolutions-APIG4", "A public route of static files (routes.Public): the admin console's HTML, CSS and "+
		"JavaScript and the API reference page with the OpenAPI document. They hold no user or tenant data and must load "+
		"before anyone has a token: the console signs in through the Cognito hosted UI and then calls the /v1 routes, "+
		"which all require the JWT authorizer. The function only reads files embedded in it.")
	for _, r := range routes.Public {
		route := awsapigatewayv2.NewHttpRoute(s.Stack, jsii.String("Route "+strings.ReplaceAll(r.Key(), "/", "_")), &awsapigatewayv2.HttpRouteProps{
			HttpApi:     s.API,
			RouteKey:    awsapigatewayv2.HttpRouteKey_With(jsii.String(r.Path), awsapigatewayv2.HttpMethod(r.Method)),
			Integration: integration,
			Authorizer:  awsapigatewayv2.NewHttpNoneAuthorizer(),
		})
		cdknag.NagSuppressions_AddResourceSuppressions(route, &[]*cdknag.NagPackSuppression{public}, jsii.Bool(true))
	}

	output(s.Stack, "ConsoleUrl", consoleURL)
	output(s.Stack, "DocsUrl", jsii.String(*s.API.ApiEndpoint()+"/docs"))
	output(s.Stack, "CognitoDomain", domain.BaseUrl(nil))
	return nil
}

// cognitoDomainPrefix reads the hosted UI's domain prefix from context, or derives it from the
// stack name and the account id (a token until deploy time).
func cognitoDomainPrefix(stack awscdk.Stack) (*string, error) {
	if p := contextString(stack, ctxCognitoDomainPrefix, ""); p != "" {
		if !domainPrefix.MatchString(p) {
			return nil, fmt.Errorf("tilgang stack: context %s must be 1 to 63 lowercase letters, digits and inner hyphens, got %q", ctxCognitoDomainPrefix, p)
		}
		for _, reserved := range []string{"aws", "amazon", "cognito"} {
			if strings.Contains(p, reserved) {
				return nil, fmt.Errorf("tilgang stack: context %s may not contain %q (Cognito reserves it), got %q", ctxCognitoDomainPrefix, reserved, p)
			}
		}
		return jsii.String(p), nil
	}
	name := strings.Trim(regexp.MustCompile(`[^a-z0-9]+`).ReplaceAllString(strings.ToLower(*stack.StackName()), "-"), "-")
	if len(name) > 50 {
		name = strings.Trim(name[:50], "-")
	}
	return awscdk.Fn_Join(jsii.String("-"), jsii.Strings(name, *awscdk.Aws_ACCOUNT_ID())), nil
}
