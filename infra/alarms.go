package main

import (
	"strconv"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/jsii-runtime-go"

	"github.com/tilgang/tilgang/shared/metrics"
	"github.com/tilgang/tilgang/shared/routes"
)

const (
	// jobsAgeAlarmSeconds: a jobs-queue message this old means the worker is not keeping up
	// (or not running): jobs that users wait for are stuck.
	jobsAgeAlarmSeconds = 15 * 60
	// anonymiserSilenceHours: the anonymiser runs nightly; a day and two hours without one
	// complete sweep means a night was missed (schedule, function or table failing).
	anonymiserSilenceHours = 26
)

// newAlarms creates the alarms and the SNS topic they notify (subscribed by e-mail when
// alarmEmail is set):
//   - every function's errors and throttles;
//   - API 5xx answers;
//   - the age of the oldest message in the jobs queue (the worker is behind or down);
//   - the jobs dead-letter queue's oldest message: the worker drains it itself and records
//     each message as failed within seconds, so only a message it cannot record stays there;
//   - any message in the archive of poison job messages, which nothing consumes;
//   - any message in the anonymiser's failure queues, which nothing consumes;
//   - no completed anonymiser sweep (the AnonymiserSweepsCompleted metric its EMF lines
//     publish) for 26 hours.
func (s *TilgangStack) newAlarms(email string) {
	topic := awssns.NewTopic(s.Stack, jsii.String("Alarms"), &awssns.TopicProps{EnforceSSL: jsii.Bool(true)})
	if email != "" {
		topic.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(email), nil))
	}
	s.Alarms = topic
	action := awscloudwatchactions.NewSnsAction(topic)
	alarm := func(id, description string, metric awscloudwatch.IMetric, opts awscloudwatch.CreateAlarmOptions) {
		opts.AlarmDescription = jsii.String(description)
		if opts.EvaluationPeriods == nil {
			opts.EvaluationPeriods = jsii.Number(1)
		}
		if opts.ComparisonOperator == "" {
			opts.ComparisonOperator = awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD
		}
		if opts.TreatMissingData == "" {
			opts.TreatMissingData = awscloudwatch.TreatMissingData_NOT_BREACHING
		}
		metric.(awscloudwatch.Metric).CreateAlarm(s.Stack, jsii.String(id), &opts).AddAlarmAction(action)
	}
	sum := func(minutes float64) *awscloudwatch.MetricOptions {
		return &awscloudwatch.MetricOptions{Period: awscdk.Duration_Minutes(jsii.Number(minutes)), Statistic: jsii.String("Sum")}
	}
	maximum := &awscloudwatch.MetricOptions{Period: awscdk.Duration_Minutes(jsii.Number(1)), Statistic: jsii.String("Maximum")}

	for _, name := range allFunctions() {
		fn := s.Functions[name]
		alarm("Fn"+exportName(name)+"Errors", "The "+name+" function returned errors",
			fn.MetricErrors(sum(5)), awscloudwatch.CreateAlarmOptions{Threshold: jsii.Number(0)})
		alarm("Fn"+exportName(name)+"Throttles", "The "+name+" function was throttled (concurrency limit reached)",
			fn.MetricThrottles(sum(5)), awscloudwatch.CreateAlarmOptions{Threshold: jsii.Number(0)})
	}

	alarm("Api5xx", "The HTTP API answered with 5xx (function errors, timeouts or API Gateway faults)",
		s.API.MetricServerError(sum(5)), awscloudwatch.CreateAlarmOptions{Threshold: jsii.Number(0)})

	alarm("JobsQueueBehind", "An access-job message has waited over "+strconv.Itoa(jobsAgeAlarmSeconds/60)+
		" minutes in the jobs queue: the worker is behind or not running, and jobs stay open",
		s.JobsQueue.MetricApproximateAgeOfOldestMessage(maximum), awscloudwatch.CreateAlarmOptions{Threshold: jsii.Number(jobsAgeAlarmSeconds)})

	alarm("JobsDLQStuck", "An access-job message has waited in the dead-letter queue over "+strconv.Itoa(dlqAgeAlarmSeconds/60)+
		" minutes: the worker cannot record it as failed (unreadable, or the table or queue keeps failing); its job may stay open",
		s.DLQ.MetricApproximateAgeOfOldestMessage(maximum), awscloudwatch.CreateAlarmOptions{Threshold: jsii.Number(dlqAgeAlarmSeconds)})

	// Nothing consumes the archive: any message in it is a poison message someone must look at.
	alarm("JobsPoisonParked", "The job worker parked a poison message (unreadable, or of an unknown kind or job) in the archive queue; "+
		"its id and reason are in the worker's log, its body in the queue for 14 days",
		s.Archive.MetricApproximateNumberOfMessagesVisible(maximum), awscloudwatch.CreateAlarmOptions{Threshold: jsii.Number(0)})

	for _, q := range []struct {
		id, what string
		queue    awssqs.Queue
	}{
		{"AnonymiserFailed", "an anonymiser invocation failed after Lambda's retries (its event is in the queue)", s.AnonymiserFailures},
		{"AnonymiserScheduleUndelivered", "a schedule (the nightly run or the outbox sweep) could not invoke the anonymiser", s.ScheduleDLQ},
		{"AnonymiserContinuationUndelivered", "an anonymiser.continue event could not be delivered: the rest of the user bank waits for the next night", s.ContinuationDLQ},
	} {
		alarm(q.id, "A message arrived in a failure queue: "+q.what,
			q.queue.MetricApproximateNumberOfMessagesVisible(maximum),
			awscloudwatch.CreateAlarmOptions{Threshold: jsii.Number(0)})
	}

	// Period × EvaluationPeriods may reach seven days for periods of an hour or more.
	sweeps := awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
		Namespace:     jsii.String(metrics.Namespace),
		MetricName:    jsii.String(metrics.AnonymiserSweeps),
		DimensionsMap: &map[string]*string{metrics.DimFunction: jsii.String(routes.FnAnonymiser)},
		Period:        awscdk.Duration_Hours(jsii.Number(1)),
		Statistic:     jsii.String("Sum"),
	})
	alarm("AnonymiserSilent", "The anonymiser has not completed a sweep of the user bank in "+strconv.Itoa(anonymiserSilenceHours)+
		" hours: users past their anonymisation period are kept longer than the tenants' settings allow",
		sweeps, awscloudwatch.CreateAlarmOptions{
			Threshold:          jsii.Number(1),
			ComparisonOperator: awscloudwatch.ComparisonOperator_LESS_THAN_THRESHOLD,
			EvaluationPeriods:  jsii.Number(anonymiserSilenceHours),
			DatapointsToAlarm:  jsii.Number(anonymiserSilenceHours),
			// No data point is exactly the silence this alarm is about.
			TreatMissingData: awscloudwatch.TreatMissingData_BREACHING,
		})
}
