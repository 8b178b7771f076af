package app

import (
	"context"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/tilgang/tilgang/shared/access/jobs"
	"github.com/tilgang/tilgang/shared/config"
	"github.com/tilgang/tilgang/shared/jobqueue"
	"github.com/tilgang/tilgang/shared/jobworker"
	"github.com/tilgang/tilgang/shared/routes"
	"github.com/tilgang/tilgang/shared/tracing"
)

// wireJobs gives the service the jobs queue (the API sends fan-outs to it, the worker the chunks
// they expand into) and the notification retention.
func wireJobs(svc *jobs.Service, awsCfg aws.Config, cfg config.Config) {
	svc.NotificationRetention = time.Duration(cfg.NotificationRetentionDays) * 24 * time.Hour
	if cfg.JobsQueueURL == "" {
		return // job submission and expansion then fail with a logged error
	}
	svc.Queue = &jobqueue.SQS{Client: sqsClient(awsCfg, cfg), QueueURL: cfg.JobsQueueURL}
}

func sqsClient(awsCfg aws.Config, cfg config.Config) *sqs.Client {
	return sqs.NewFromConfig(awsCfg, func(o *sqs.Options) {
		if cfg.SQSEndpoint != "" {
			o.BaseEndpoint = aws.String(cfg.SQSEndpoint)
		}
	})
}

// JobWorker returns the access-job worker's handler (function jobworker): SQS event sources with
// ReportBatchItemFailures on the jobs queue, whose maxReceiveCount is jobworker.MaxReceives, and
// on its dead-letter queue (config JobsDLQARN), which the handler tells apart by event source.
// Poison messages go to the archive queue (config JobsArchiveQueueURL), which nothing consumes.
func (a *App) JobWorker() func(context.Context, events.SQSEvent) (events.SQSEventResponse, error) {
	w := &jobworker.Worker{Processor: a.Jobs, MaxReceives: jobworker.MaxReceives, DeadLetterARN: a.Config.JobsDLQARN, Log: a.Log}
	if a.Config.JobsArchiveQueueURL != "" {
		w.Archive = &jobqueue.Archive{Client: sqsClient(a.AWS, a.Config), QueueURL: a.Config.JobsArchiveQueueURL}
	}
	return tracing.Handler(a.countUnreadable(routes.FnJobWorker, jobMessageReadable, w.Handle))
}
