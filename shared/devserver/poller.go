package devserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/tilgang/tilgang/shared/tracing"
)

// SQSPoller does locally what Lambda's SQS event source mapping does: it long-polls a queue,
// hands each batch to a handler as an events.SQSEvent, deletes the messages the handler did
// not report in BatchItemFailures, and leaves the failed ones to reappear after the visibility
// timeout, so the queue's redrive policy moves a message that keeps failing to its DLQ.
// (The mapping is configured with ReportBatchItemFailures, as the CDK stack does.)
type SQSPoller struct {
	Client   *sqs.Client
	QueueURL string
	Handler  SQSHandler
	// Name is the worker's function name, for logs and the Lambda context.
	Name string
	// BatchSize is at most 10 (the default).
	BatchSize int32
	// Wait is the long-poll time [1s, at most 20s]. SQS answers a long poll as soon as any
	// message is there, with up to the batch size; local-aws-sqs holds it for the whole wait
	// unless it can fill the batch. So the poller long-polls for one message, which returns as
	// soon as there is one, then takes what else is there without waiting (see PollOnce).
	Wait time.Duration
	// Timeout is the function's timeout, the deadline of each invocation's context [5m].
	Timeout time.Duration
	Region  string
	Log     *slog.Logger

	arn     string
	handler lambda.Handler
}

// Run polls until ctx ends. Errors talking to SQS are logged and retried after a pause.
func (p *SQSPoller) Run(ctx context.Context) {
	for ctx.Err() == nil {
		if _, err := p.PollOnce(ctx); err != nil && ctx.Err() == nil {
			p.logger().Error("poll", "worker", p.Name, "queue", p.QueueURL, "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
	}
}

// PollOnce receives one batch (waiting up to Wait), runs the handler on it and deletes what
// succeeded. It returns the number of messages received.
func (p *SQSPoller) PollOnce(ctx context.Context) (int, error) {
	if err := p.init(ctx); err != nil {
		return 0, err
	}
	size := p.BatchSize
	if size <= 0 || size > 10 {
		size = 10
	}
	wait := p.Wait
	if wait <= 0 {
		wait = time.Second
	}
	wait = min(wait, 20*time.Second)
	// As Lambda's event source gets from SQS: a batch as soon as at least one message is there,
	// with whatever else is there up to the batch size. local-aws-sqs holds a long poll until it
	// can fill the batch, so: a long poll for one message, then a short one for the rest.
	out, err := p.receive(ctx, 1, wait)
	if err != nil {
		return 0, err
	}
	if len(out.Messages) == 0 {
		return 0, nil
	}
	if size > 1 {
		more, err := p.receive(ctx, size-1, 0)
		if err != nil {
			p.logger().Warn("receive the rest of a batch", "worker", p.Name, "err", err)
		} else {
			out.Messages = append(out.Messages, more.Messages...)
		}
	}
	// local-aws-sqs can return a message twice in one long poll when its visibility timeout
	// runs out during the wait; keep the last copy, whose receipt handle is current.
	seen := map[string]int{}
	msgs := out.Messages[:0:0]
	for _, m := range out.Messages {
		if i, ok := seen[aws.ToString(m.MessageId)]; ok {
			msgs[i] = m
			continue
		}
		seen[aws.ToString(m.MessageId)] = len(msgs)
		msgs = append(msgs, m)
	}
	out.Messages = msgs

	ev := p.event(out.Messages)
	failed, err := p.invoke(ctx, ev)
	if err != nil {
		// As with Lambda, an error fails the whole batch: nothing is deleted.
		p.logger().Error("worker failed", "worker", p.Name, "messages", len(ev.Records), "err", err)
		return len(out.Messages), nil
	}
	var del []types.DeleteMessageBatchRequestEntry
	for i, m := range out.Messages {
		if failed[aws.ToString(m.MessageId)] {
			continue
		}
		del = append(del, types.DeleteMessageBatchRequestEntry{Id: aws.String(fmt.Sprint(i)), ReceiptHandle: m.ReceiptHandle})
	}
	if len(failed) > 0 {
		p.logger().Warn("messages failed; they will be retried", "worker", p.Name, "failed", len(failed), "of", len(out.Messages))
	}
	if len(del) == 0 {
		return len(out.Messages), nil
	}
	res, err := p.Client.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(p.QueueURL), Entries: del})
	if err != nil {
		return len(out.Messages), fmt.Errorf("delete: %w", err)
	}
	if len(res.Failed) > 0 {
		return len(out.Messages), fmt.Errorf("delete: %d messages not deleted: %s", len(res.Failed), aws.ToString(res.Failed[0].Message))
	}
	return len(out.Messages), nil
}

// receive asks for up to n messages, long-polling for wait. A wait of 0 is not sent (the SDK
// leaves zero values out): the queue's ReceiveMessageWaitTimeSeconds holds, 0 (return what is
// there) for every queue this project creates.
func (p *SQSPoller) receive(ctx context.Context, n int32, wait time.Duration) (*sqs.ReceiveMessageOutput, error) {
	out, err := p.Client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl:            aws.String(p.QueueURL),
		MaxNumberOfMessages: n,
		WaitTimeSeconds:     int32(wait / time.Second),
		// local-aws-sqs ignores MessageSystemAttributeNames alone; AWS accepts both.
		AttributeNames:              []types.QueueAttributeName{types.QueueAttributeNameAll},
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
		MessageAttributeNames:       []string{"All"},
	})
	if err != nil {
		return nil, fmt.Errorf("receive: %w", err)
	}
	return out, nil
}

func (p *SQSPoller) init(ctx context.Context) error {
	if p.handler != nil {
		return nil
	}
	if p.Handler == nil {
		return errors.New("no handler")
	}
	attrs, err := p.Client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl:       aws.String(p.QueueURL),
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn},
	})
	if err != nil {
		return fmt.Errorf("queue ARN: %w", err)
	}
	p.arn = attrs.Attributes[string(types.QueueAttributeNameQueueArn)]
	p.handler = lambda.NewHandler(p.Handler)
	return nil
}

// event builds the event Lambda's SQS event source would send for these messages.
func (p *SQSPoller) event(msgs []types.Message) events.SQSEvent {
	region := p.Region
	if region == "" {
		region = "eu-north-1"
	}
	ev := events.SQSEvent{Records: make([]events.SQSMessage, 0, len(msgs))}
	for _, m := range msgs {
		rec := events.SQSMessage{
			MessageId:              aws.ToString(m.MessageId),
			ReceiptHandle:          aws.ToString(m.ReceiptHandle),
			Body:                   aws.ToString(m.Body),
			Md5OfBody:              aws.ToString(m.MD5OfBody),
			Md5OfMessageAttributes: aws.ToString(m.MD5OfMessageAttributes),
			Attributes:             m.Attributes,
			MessageAttributes:      map[string]events.SQSMessageAttribute{},
			EventSourceARN:         p.arn,
			EventSource:            "aws:sqs",
			AWSRegion:              region,
		}
		if rec.Attributes == nil {
			rec.Attributes = map[string]string{}
		}
		for k, a := range m.MessageAttributes {
			rec.MessageAttributes[k] = events.SQSMessageAttribute{
				StringValue:      a.StringValue,
				BinaryValue:      a.BinaryValue,
				StringListValues: a.StringListValues,
				BinaryListValues: a.BinaryListValues,
				DataType:         aws.ToString(a.DataType),
			}
		}
		ev.Records = append(ev.Records, rec)
	}
	return ev
}

// invoke runs the handler through aws-lambda-go's JSON path and returns the ids it reported as
// failed. An unknown or empty id fails the whole batch, as in Lambda.
func (p *SQSPoller) invoke(ctx context.Context, ev events.SQSEvent) (failed map[string]bool, err error) {
	payload, err := json.Marshal(ev)
	if err != nil {
		return nil, err
	}
	timeout := p.Timeout
	if timeout <= 0 {
		timeout = 5 * time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	ctx = lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{AwsRequestID: newRequestID(),
		InvokedFunctionArn: "arn:aws:lambda:local:" + AccountID + ":function:" + p.Name})
	ctx = tracing.WithHeader(ctx, tracing.NewHeader(time.Now()))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	res, err := p.handler.Invoke(ctx, payload)
	if err != nil {
		return nil, err
	}
	var resp events.SQSEventResponse
	if len(res) > 0 && string(res) != "null" {
		if err := json.Unmarshal(res, &resp); err != nil {
			return nil, fmt.Errorf("bad response: %w", err)
		}
	}
	ids := map[string]bool{}
	for _, r := range ev.Records {
		ids[r.MessageId] = true
	}
	failed = map[string]bool{}
	for _, f := range resp.BatchItemFailures {
		if !ids[f.ItemIdentifier] {
			return nil, fmt.Errorf("BatchItemFailures names unknown message %q", f.ItemIdentifier)
		}
		failed[f.ItemIdentifier] = true
	}
	return failed, nil
}

func (p *SQSPoller) logger() *slog.Logger {
	if p.Log == nil {
		return slog.Default()
	}
	return p.Log
}
