// Package eventbus publishes the domain's events to an EventBridge bus, and renders them as
// EventBridge delivers them (Envelope), which is what shared/eventqueue sends locally to the SQS
// queue that stands in for the bus, so that a consumer decodes both alike.
package eventbus

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/tilgang/tilgang/shared/access"
)

// Source is the EventBridge source of every Tilgang event.
const Source = "tilgang"

var (
	_ access.Publisher = (*EventBridge)(nil)
)

// EventBridge publishes to an event bus.
type EventBridge struct {
	Client *eventbridge.Client
	Bus    string
}

// Publish puts one event on the bus; a failed entry is an error.
func (p *EventBridge) Publish(ctx context.Context, e access.Event) error {
	detail, err := json.Marshal(detailOf(e))
	if err != nil {
		return err
	}
	out, err := p.Client.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{{
		EventBusName: aws.String(p.Bus), Source: aws.String(Source), DetailType: aws.String(e.Type), Detail: aws.String(string(detail)),
	}}})
	if err != nil {
		return fmt.Errorf("put event: %w", err)
	}
	if out.FailedEntryCount > 0 {
		return fmt.Errorf("put event: %s", aws.ToString(out.Entries[0].ErrorMessage))
	}
	return nil
}

func detailOf(e access.Event) map[string]string {
	if e.Detail == nil {
		return map[string]string{}
	}
	return e.Detail
}

// Envelope renders an event as EventBridge delivers it to a target.
func Envelope(e access.Event, id, region string, now time.Time) ([]byte, error) {
	detail, err := json.Marshal(detailOf(e))
	if err != nil {
		return nil, err
	}
	return json.Marshal(events.EventBridgeEvent{Version: "0", ID: id, DetailType: e.Type, Source: Source,
		Time: now, Region: region, Resources: []string{}, Detail: detail})
}
