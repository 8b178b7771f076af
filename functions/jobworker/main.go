// Command jobworker is the Lambda that runs access jobs: it expands fan-outs and runs chunks from
// the jobs queue, and records what is left of dead-lettered messages as failed from its
// dead-letter queue (two SQS event sources with ReportBatchItemFailures).
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/tilgang/tilgang/shared/app"
)

func main() {
	lambda.Start(app.MustNew(context.Background()).JobWorker())
}
