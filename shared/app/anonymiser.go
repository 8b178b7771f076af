package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tilgang/tilgang/shared/access"
	"github.com/tilgang/tilgang/shared/routes"
)

// DefaultAnonymiserBatch is how many user bank entries one anonymiser invocation handles
// before it hands the rest to a follow-up invocation.
const DefaultAnonymiserBatch = 500

// anonymiserMargin is the Lambda time an invocation leaves unused, to publish its continuation
// and return before the deadline.
const anonymiserMargin = 15 * time.Second

// continueDetail is the detail of an anoniser.continue event.
type continueDetail struct {
	Cursor string `json:"cursor"`
}

// Anonymiser returns the scheduled GDPR anonymisation worker. EventBridge Scheduler invokes it
// with a "Scheduled Event" (events/schedule-anonymise.json); it first finishes the login
// deletions and events that earlier anonymisations still owe, then starts from the oldest
// removal; it handles a bounded batch and, when users remain, publishes an
// "anonymiser.continue" event with its position, which starts a follow-up invocation (an
// EventBridge rule in AWS, the events queue locally) instead of one long loop. Every step is
// conditional, so a repeated or overlapping invocation changes nothing already done.
func (a *App) Anonymiser() func(context.Context, events.EventBridgeEvent) error {
	return func(ctx context.Context, ev events.EventBridgeEvent) error {
		// Names the function (also when the local events worker runs a continuation) for the
		// tests' check of its AWS calls against its IAM grant.
		ctx = routes.WithServing(ctx, routes.FnAnonymiser, "event "+ev.DetailType)
		// Every invocation first applies what earlier writes still owe outside the table
		// (logins, events: the outbox); the frequent OutboxSweepEvent does only that.
		ob, oerr := a.People.SweepOutbox(ctx, 0)
		a.Log.InfoContext(ctx, "outbox sweep", "applied", ob.Applied, "pending", ob.Pending)
		if ev.DetailType == access.EventOutboxSweep {
			// The frequent schedule also tidies away expired grants and warns their granters
			// (decisions never wait for it: they compare with the clock).
			ex, xerr := a.Expiry.SweepExpired(ctx, 0)
			a.Log.InfoContext(ctx, "expiry sweep", "removed", ex.Removed, "notified", ex.Notified, "skipped", ex.Skipped)
			if err := errors.Join(oerr, xerr); err != nil {
				return fmt.Errorf("outbox and expiry sweep: %w", err)
			}
			return nil
		}
		var after string
		if ev.DetailType == access.EventAnonymiserContinue {
			var d continueDetail
			if err := json.Unmarshal(ev.Detail, &d); err != nil {
				return fmt.Errorf("anonymiser: continuation detail: %w", err)
			}
			after = d.Cursor
		}
		o := access.SweepOptions{After: after, MaxUsers: a.AnonymiserBatch}
		if o.MaxUsers <= 0 {
			o.MaxUsers = DefaultAnonymiserBatch
		}
		if dl, ok := ctx.Deadline(); ok {
			o.Deadline = dl.Add(-anonymiserMargin)
		}
		res, err := a.People.SweepUserBank(ctx, o)
		// Counts only: the line never names anyone. The logger adds the request and trace ids.
		a.Metrics.Emit(ctx, anonymiserRecord(res, after != "", err))
		if err != nil {
			return fmt.Errorf("anonymiser: %w", err)
		}
		if res.Next == "" {
			return nil
		}
		// Through the outbox: if publishing fails the entry stays and the next outbox sweep
		// (minutes, not the next night) publishes it.
		return a.People.PublishOwed(ctx, access.Event{Type: access.EventAnonymiserContinue, Detail: map[string]string{"cursor": res.Next}})
	}
}

// OutboxSweepEvent is the event of the frequent schedule that only sweeps the outbox (infra:
// OutboxSweepSchedule; locally the dev server's ticker).
func OutboxSweepEvent(now time.Time) events.EventBridgeEvent {
	ev := ScheduledEvent(now)
	ev.DetailType = access.EventOutboxSweep
	return ev
}

// ScheduledEvent is the event EventBridge Scheduler's sample sends (the dev server's timer uses it).
func ScheduledEvent(now time.Time) events.EventBridgeEvent {
	return events.EventBridgeEvent{Version: "0", ID: access.NewULID("sched"), DetailType: "Scheduled Event",
		Source: "aws.scheduler", Time: now.UTC(), Region: "eu-north-1", Resources: []string{}, Detail: json.RawMessage(`{}`)}
}

// EventsWorker consumes the local events queue that stands in for the EventBridge bus: it runs
// the anonymiser's continuations and acknowledges every other event (in AWS other systems
// consume them). A failed continuation is reported for redelivery.
func (a *App) EventsWorker() func(context.Context, events.SQSEvent) (events.SQSEventResponse, error) {
	anonymiser := a.Anonymiser()
	return a.countUnreadable("events", eventReadable, func(ctx context.Context, batch events.SQSEvent) (events.SQSEventResponse, error) {
		var res events.SQSEventResponse
		for _, m := range batch.Records {
			var ev events.EventBridgeEvent
			if err := json.Unmarshal([]byte(m.Body), &ev); err != nil {
				a.Log.WarnContext(ctx, "events: dropping a message that is not an event", "messageId", m.MessageId)
				continue
			}
			if ev.DetailType != access.EventAnonymiserContinue {
				continue
			}
			if err := anonymiser(ctx, ev); err != nil {
				a.Log.ErrorContext(ctx, "events: anonymiser continuation failed", "messageId", m.MessageId, "error", err.Error())
				res.BatchItemFailures = append(res.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: m.MessageId})
			}
		}
		return res, nil
	})
}
