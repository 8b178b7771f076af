// Command jobworker is the Lambda that runs access-job chunks from the jobs queue (SQS event
// source with ReportBatchItemFailures).
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/tilgang/tilgang/shared/app"
)

func main() {
	lambda.Start(app.MustNew(context.Background()).JobWorker())
}
