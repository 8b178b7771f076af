// Command links is the Lambda serving the API routes of function "links" (see shared/routes); it
// links those routes' handlers only (httpapi.Links). Assistant links change no login, so it
// wires no client beyond DynamoDB.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/tilgang/tilgang/shared/app"
	"github.com/tilgang/tilgang/shared/httpapi"
)

func main() {
	a := app.MustNew(context.Background())
	lambda.Start(a.API(httpapi.Links))
}
