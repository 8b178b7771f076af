// Command clients is the Lambda serving the API routes of function "clients" (see shared/routes); it
// links those routes' handlers only (httpapi.Clients).
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/tilgang/tilgang/shared/app"
	"github.com/tilgang/tilgang/shared/httpapi"
)

func main() {
	// DynamoDB only: this function links no other AWS client.
	lambda.Start(app.MustNew(context.Background()).API(httpapi.Clients))
}
