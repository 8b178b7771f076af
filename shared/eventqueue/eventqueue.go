// Package eventqueue publishes the domain's events locally: to an SQS queue that stands in for
// the EventBridge bus, in the shape EventBridge delivers them (eventbus.Envelope). Only the
// processes without a bus (the dev server, tests) use it.
package eventqueue

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/tilgang/tilgang/shared/access"
	"github.com/tilgang/tilgang/shared/eventbus"
)

var _ access.Publisher = (*Publisher)(nil)

// Publisher sends each event, in EventBridge's event shape, to a queue.
type Publisher struct {
	Client   *sqs.Client
	QueueURL string
	Region   string
	// NewID names each event; it is required.
	NewID func(prefix string) string
	Now   func() time.Time
}

// Publish sends one event.
func (p *Publisher) Publish(ctx context.Context, e access.Event) error {
	body, err := eventbus.Envelope(e, p.NewID("evt"), p.Region, p.now())
	if err != nil {
		return err
	}
	if _, err := p.Client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(p.QueueURL), MessageBody: aws.String(string(body))}); err != nil {
		return fmt.Errorf("send event: %w", err)
	}
	return nil
}

func (p *Publisher) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now().UTC()
}
