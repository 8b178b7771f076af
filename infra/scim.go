package main

import (
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2integrations"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/tilgang/tilgang/shared/routes"
)

// newSCIMRoutes declares the SCIM 2.0 routes (routes.SCIM) on the HTTP API, integrated with the
// scim function and without an authorizer: a directory (Entra ID, Okta) sends a tenant's
// opaque provisioning token, not a Cognito JWT, and the function checks it on every request
// (a wrong or revoked token answers 401). The JWT authorizer would refuse every SCIM call.
func newSCIMRoutes(stack awscdk.Stack, api awsapigatewayv2.HttpApi, fn awslambda.Function) {
	integration := awsapigatewayv2integrations.NewHttpLambdaIntegration(
		jsii.String(exportName(routes.FnSCIM)+"Integration"), fn, nil)
	none := awsapigatewayv2.NewHttpNoneAuthorizer()
	for _, r := range routes.SCIM {
		id := "Route " + strings.ReplaceAll(r.Key(), "/", "_")
		route := awsapigatewayv2.NewHttpRoute(stack, jsii.String(id), &awsapigatewayv2.HttpRouteProps{
			HttpApi:     api,
			RouteKey:    awsapigatewayv2.HttpRouteKey_With(jsii.String(r.Path), awsapigatewayv2.HttpMethod(r.Method)),
			Integration: integration,
			Authorizer:  none,
		})
		cdknag.NagSuppressions_AddResourceSuppressions(route, &[]*cdknag.NagPackSuppression{
			nag("AwsSolutions-APIG4", "SCIM routes are authorised by the scim function itself: every request must carry a "+
				"tenant's provisioning token (an opaque secret checked against its stored SHA-256 hash, 401 otherwise), "+
				"which a directory such as Entra ID or Okta sends instead of a Cognito JWT."),
		}, jsii.Bool(true))
	}
}
