package app

import (
	"context"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/tilgang/tilgang/shared/access"
	"github.com/tilgang/tilgang/shared/config"
	"github.com/tilgang/tilgang/shared/jobqueue"
	"github.com/tilgang/tilgang/shared/jobworker"
)

// wireJobs gives the service the jobs queue and the notification retention.
func wireJobs(svc *access.Service, awsCfg aws.Config, cfg config.Config) {
	svc.NotificationRetention = time.Duration(cfg.NotificationRetentionDays) * 24 * time.Hour
	if cfg.JobsQueueURL == "" {
		return // job submission then fails with a logged 500; the workers need no queue client
	}
	client := sqs.NewFromConfig(awsCfg, func(o *sqs.Options) {
		if cfg.SQSEndpoint != "" {
			o.BaseEndpoint = aws.String(cfg.SQSEndpoint)
		}
	})
	svc.Queue = &jobqueue.SQS{Client: client, QueueURL: cfg.JobsQueueURL}
}

// JobWorker returns the access-job worker's handler (function jobworker): an SQS event source
// with ReportBatchItemFailures, whose queue has maxReceiveCount jobworker.MaxReceives.
func (a *App) JobWorker() func(context.Context, events.SQSEvent) (events.SQSEventResponse, error) {
	w := &jobworker.Worker{Processor: a.Service, MaxReceives: jobworker.MaxReceives, Log: a.Log}
	return w.Handle
}
