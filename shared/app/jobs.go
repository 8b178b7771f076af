package app

import (
	"context"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tilgang/tilgang/shared/jobworker"
	"github.com/tilgang/tilgang/shared/routes"
)

// JobWorker returns the access-job worker's handler (function jobworker): SQS event sources with
// ReportBatchItemFailures on the jobs queue, whose maxReceiveCount is jobworker.MaxReceives, and
// on its dead-letter queue (config JobsDLQARN), which the handler tells apart by event source.
// Poison messages go to JobArchive (the archive queue, config JobsArchiveQueueURL), which nothing
// consumes.
func (a *App) JobWorker() func(context.Context, events.SQSEvent) (events.SQSEventResponse, error) {
	w := &jobworker.Worker{Processor: a.Jobs, MaxReceives: jobworker.MaxReceives, DeadLetterARN: a.Config.JobsDLQARN, Log: a.Log}
	if a.JobArchive != nil {
		w.Archive = a.JobArchive
	}
	h := a.countUnreadable(routes.FnJobWorker, jobMessageReadable, w.Handle)
	return func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		// Names the function for the tests' check of its AWS calls against its IAM grant.
		return h(routes.WithServing(ctx, routes.FnJobWorker, "SQS job messages"), ev)
	}
}
