// Command scim is the Lambda serving the SCIM 2.0 service provider under /scim/v2 (see
// shared/routes.SCIM). It checks the provisioning token itself: the routes have no authorizer.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"

	"github.com/tilgang/tilgang/shared/app"
	"github.com/tilgang/tilgang/shared/cognito"
)

func main() {
	a := app.MustNew(context.Background())
	// Provisioned users get logins, deprovisioned ones lose them: Cognito. Events a change owes
	// stay in the outbox for the anonymiser's sweep.
	a.People.Identity = cognito.New(cognitoidentityprovider.NewFromConfig(a.AWS), a.Config.UserPoolID)
	lambda.Start(a.SCIM())
}
