// Command users is the Lambda serving the API routes of function "users" (see shared/routes); it
// links those routes' handlers only (httpapi.Users).
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"

	"github.com/tilgang/tilgang/shared/app"
	"github.com/tilgang/tilgang/shared/cognito"
	"github.com/tilgang/tilgang/shared/eventbus"
	"github.com/tilgang/tilgang/shared/httpapi"
)

func main() {
	a := app.MustNew(context.Background())
	// Logins follow the users: Cognito.
	a.People.Identity = cognito.New(cognitoidentityprovider.NewFromConfig(a.AWS), a.Config.UserPoolID)
	// Anonymising publishes user.anonymised (and the anonymiser its continuation): EventBridge.
	a.People.Events = &eventbus.EventBridge{Client: eventbridge.NewFromConfig(a.AWS), Bus: a.Config.EventBusName}
	lambda.Start(a.API(httpapi.Users))
}
