package localstack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	stypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/tilgang/tilgang/shared/dynamo"
)

// Queue settings, as the CDK stack declares them.
const (
	// JobsMaxReceiveCount is how often a jobs message is tried before it moves to the DLQ (5:
	// AWS's advice for Lambda event sources, so a throttled or timed-out batch is retried enough).
	JobsMaxReceiveCount = 5
	// JobsVisibilityTimeout is how long a received jobs message stays hidden.
	JobsVisibilityTimeout = 30 * time.Second
)

// EnsureTable creates the single table from dynamo.CreateTableInput if it does not exist, waits
// until it is active and turns on TTL on dynamo.AttrTTL. It is safe to call on every start.
func EnsureTable(ctx context.Context, client *dynamodb.Client, name string) error {
	_, err := client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
	var notFound *dtypes.ResourceNotFoundException
	switch {
	case errors.As(err, &notFound):
		_, err = client.CreateTable(ctx, dynamo.CreateTableInput(name))
		var inUse *dtypes.ResourceInUseException
		if err != nil && !errors.As(err, &inUse) { // in use: someone else created it just now
			return fmt.Errorf("create table %s: %w", name, err)
		}
	case err != nil:
		return fmt.Errorf("describe table %s: %w", name, err)
	}
	w := dynamodb.NewTableExistsWaiter(client, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay = 50 * time.Millisecond
		o.MaxDelay = time.Second
	})
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, time.Minute); err != nil {
		return fmt.Errorf("wait for table %s: %w", name, err)
	}

	ttl, err := client.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(name)})
	if err != nil {
		return fmt.Errorf("describe TTL of %s: %w", name, err)
	}
	if d := ttl.TimeToLiveDescription; d != nil && d.TimeToLiveStatus == dtypes.TimeToLiveStatusEnabled &&
		aws.ToString(d.AttributeName) == dynamo.AttrTTL {
		return nil
	}
	_, err = client.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName: aws.String(name),
		TimeToLiveSpecification: &dtypes.TimeToLiveSpecification{
			AttributeName: aws.String(dynamo.AttrTTL),
			Enabled:       aws.Bool(true),
		},
	})
	if err != nil {
		return fmt.Errorf("enable TTL on %s: %w", name, err)
	}
	return nil
}

// QueueURLs are the queues a deployment has.
type QueueURLs struct {
	// JobsURL carries access-job messages; after JobsMaxReceiveCount receives a message moves
	// to JobsDLQURL, whose ARN the job worker knows it by.
	JobsURL    string
	JobsDLQURL string
	JobsDLQARN string
	// JobsArchiveURL is where the job worker parks poison messages; nothing consumes it.
	JobsArchiveURL string
	// EventsURL stands in for the EventBridge bus locally.
	EventsURL string
}

// The queues' names after their prefix. The check of the functions' AWS calls against their
// IAM grants (calls.go) tells the queues apart by them.
const (
	jobsQueue   = "jobs"
	jobsDLQ     = "jobs-dlq"
	jobsArchive = "jobs-archive"
	eventsQueue = "events"
)

// EnsureQueues creates (or finds) the queues named prefix+"jobs", prefix+"jobs-dlq",
// prefix+"jobs-archive" and prefix+"events", and gives queues that exist the attributes declared here (a data directory
// of an older version may hold others). It is safe to call on every start.
func EnsureQueues(ctx context.Context, client *sqs.Client, prefix string) (QueueURLs, error) {
	var q QueueURLs
	var err error
	if q.JobsDLQURL, err = createQueue(ctx, client, prefix+jobsDLQ, nil); err != nil {
		return QueueURLs{}, err
	}
	attrs, err := client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl:       aws.String(q.JobsDLQURL),
		AttributeNames: []stypes.QueueAttributeName{stypes.QueueAttributeNameQueueArn},
	})
	if err != nil {
		return QueueURLs{}, fmt.Errorf("get ARN of %sjobs-dlq: %w", prefix, err)
	}
	q.JobsDLQARN = attrs.Attributes[string(stypes.QueueAttributeNameQueueArn)]
	redrive, err := json.Marshal(map[string]string{
		"deadLetterTargetArn": q.JobsDLQARN,
		"maxReceiveCount":     strconv.Itoa(JobsMaxReceiveCount),
	})
	if err != nil {
		return QueueURLs{}, err
	}
	if q.JobsURL, err = createQueue(ctx, client, prefix+jobsQueue, map[string]string{
		string(stypes.QueueAttributeNameRedrivePolicy):     string(redrive),
		string(stypes.QueueAttributeNameVisibilityTimeout): strconv.Itoa(int(JobsVisibilityTimeout / time.Second)),
	}); err != nil {
		return QueueURLs{}, err
	}
	if q.JobsArchiveURL, err = createQueue(ctx, client, prefix+jobsArchive, map[string]string{
		string(stypes.QueueAttributeNameMessageRetentionPeriod): strconv.Itoa(14 * 24 * 3600),
	}); err != nil {
		return QueueURLs{}, err
	}
	if q.EventsURL, err = createQueue(ctx, client, prefix+eventsQueue, nil); err != nil {
		return QueueURLs{}, err
	}
	return q, nil
}

func createQueue(ctx context.Context, client *sqs.Client, name string, attrs map[string]string) (string, error) {
	out, err := client.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
	var exists *stypes.QueueNameExists
	if errors.As(err, &exists) {
		// The queue exists with other attributes: update them.
		got, gerr := client.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(name)})
		if gerr != nil {
			return "", fmt.Errorf("find queue %s: %w", name, gerr)
		}
		if _, serr := client.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: got.QueueUrl, Attributes: attrs}); serr != nil {
			return "", fmt.Errorf("update queue %s: %w", name, serr)
		}
		return aws.ToString(got.QueueUrl), nil
	}
	if err != nil {
		return "", fmt.Errorf("create queue %s: %w", name, err)
	}
	return aws.ToString(out.QueueUrl), nil
}
