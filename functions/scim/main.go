// Command scim is the Lambda serving the SCIM 2.0 service provider under /scim/v2 (see
// shared/routes.SCIM). It checks the provisioning token itself: the routes have no authorizer.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/tilgang/tilgang/shared/app"
	"github.com/tilgang/tilgang/shared/routes"
)

func main() {
	lambda.Start(app.MustNew(context.Background()).API(routes.FnSCIM))
}
