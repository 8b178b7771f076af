// Command jobs is the Lambda serving the API routes of function "jobs" (see shared/routes); it
// links those routes' handlers only (httpapi.Jobs).
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/tilgang/tilgang/shared/app"
	"github.com/tilgang/tilgang/shared/httpapi"
	"github.com/tilgang/tilgang/shared/jobqueue"
)

func main() {
	a := app.MustNew(context.Background())
	// Jobs go out as messages on the jobs queue: SQS.
	a.Jobs.Queue = &jobqueue.SQS{Client: sqs.NewFromConfig(a.AWS), QueueURL: a.Config.JobsQueueURL}
	lambda.Start(a.API(httpapi.Jobs))
}
