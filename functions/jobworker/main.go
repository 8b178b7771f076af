// Command jobworker is the Lambda that runs access jobs: it expands fan-outs and runs chunks from
// the jobs queue, and records what is left of dead-lettered messages as failed from its
// dead-letter queue (two SQS event sources with ReportBatchItemFailures).
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/tilgang/tilgang/shared/app"
	"github.com/tilgang/tilgang/shared/jobqueue"
)

func main() {
	a := app.MustNew(context.Background())
	// Jobs go out as messages on the jobs queue: SQS.
	a.Jobs.Queue = &jobqueue.SQS{Client: sqs.NewFromConfig(a.AWS), QueueURL: a.Config.JobsQueueURL}
	a.JobArchive = &jobqueue.Archive{Client: sqs.NewFromConfig(a.AWS), QueueURL: a.Config.JobsArchiveQueueURL}
	lambda.Start(a.JobWorker())
}
