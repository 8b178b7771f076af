package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/tilgang/tilgang/shared/app"
	"github.com/tilgang/tilgang/shared/httpapi"
)

func main() {
	a := app.MustNew(context.Background())
	lambda.Start(a.API(httpapi.Users))
}
