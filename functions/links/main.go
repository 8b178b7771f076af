// Command links is the Lambda serving the API routes of function "links" (see shared/routes); it
// links those routes' handlers only (httpapi.Links).
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"

	"github.com/tilgang/tilgang/shared/app"
	"github.com/tilgang/tilgang/shared/cognito"
	"github.com/tilgang/tilgang/shared/httpapi"
)

func main() {
	a := app.MustNew(context.Background())
	// Logins follow the users: Cognito.
	a.People.Identity = cognito.New(cognitoidentityprovider.NewFromConfig(a.AWS), a.Config.UserPoolID)
	lambda.Start(a.API(httpapi.Links))
}
