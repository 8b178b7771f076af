// Command console is the Lambda that serves the admin console and the API reference page on the
// HTTP API's public routes (routes.Public). make build embeds the reference page's assets.
package main

import (
	"log"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/tilgang/tilgang/shared/consolefn"
)

func main() {
	cfg, err := consolefn.FromEnv()
	if err != nil {
		log.Fatal(err)
	}
	lambda.Start(consolefn.Lambda(consolefn.Handler(cfg)))
}
