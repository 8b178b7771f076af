package localstack

import (
	"context"
	"fmt"
	"path"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go/middleware"

	"github.com/tilgang/tilgang/shared/iam"
	"github.com/tilgang/tilgang/shared/routes"
)

// An IAM grant is checked nowhere but in AWS, where a missing one surfaces as a denied call in
// production. The test suites already drive every route and worker through the real SDK
// against the local servers, so they record what each function calls (RecordCalls) and Main
// compares it with the function's entry of iam.Grants, the table the stack builds the roles
// from. What no test reaches is not checked.

// authorised is one IAM action on one resource that a call needs.
type authorised struct {
	resource iam.Resource
	action   string
}

// call is an action a function needed.
type call struct {
	function string
	authorised
}

// callLog holds the calls made while a function's handler ran, each with the first few routes
// or handlers that made it (and the SDK operation, where it is not the action's name).
type callLog struct {
	mu    sync.Mutex
	calls map[call][]string
}

// maxSources bounds the routes kept per call: enough to find the code.
const maxSources = 3

// calls is the test binary's log, which Main checks after the tests.
var calls callLog

// RecordCalls returns the SDK API options (aws.Config.APIOptions, app.Options.APIOptions) that
// record each AWS call made while a function's handler runs (routes.WithServing) as the IAM
// actions that authorise it; Main fails the test binary when the function's grant (iam.Grants)
// does not allow one. Calls outside a handler, a test's own set-up and checks, are not recorded.
func RecordCalls() []func(*middleware.Stack) error {
	return []func(*middleware.Stack) error{calls.middleware}
}

func (l *callLog) middleware(stack *middleware.Stack) error {
	// Initialize runs once per call, before retries, with the call's input; the service
	// metadata it reads is registered by an earlier Initialize step.
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("localstack.RecordCalls",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			if s, ok := routes.ServingOf(ctx); ok {
				service, op := awsmiddleware.GetServiceID(ctx), awsmiddleware.GetOperationName(ctx)
				for _, a := range needs(service, op, in.Parameters) {
					l.add(call{s.Function, a}, fmt.Sprintf("%s (%s %s)", s.By, service, op))
				}
			}
			return next.HandleInitialize(ctx, in)
		}), middleware.After)
}

func (l *callLog) add(c call, source string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.calls == nil {
		l.calls = map[call][]string{}
	}
	if s := l.calls[c]; len(s) < maxSources && !slices.Contains(s, source) {
		l.calls[c] = append(s, source)
	}
}

// needs is what IAM authorises a call by.
func needs(service, op string, params any) []authorised {
	switch service {
	case "DynamoDB":
		// Transactions have no IAM actions of their own: IAM authorises each item of
		// TransactWriteItems as the Put, Update, Delete or ConditionCheckItem it is, and
		// TransactGetItems as GetItem.
		switch p := params.(type) {
		case *dynamodb.TransactWriteItemsInput:
			var out []authorised
			for _, it := range p.TransactItems {
				action := "dynamodb:ConditionCheckItem"
				switch {
				case it.Put != nil:
					action = "dynamodb:PutItem"
				case it.Update != nil:
					action = "dynamodb:UpdateItem"
				case it.Delete != nil:
					action = "dynamodb:DeleteItem"
				}
				out = append(out, authorised{iam.Table, action})
			}
			return out
		case *dynamodb.TransactGetItemsInput:
			return []authorised{{iam.Table, "dynamodb:GetItem"}}
		}
		return []authorised{{iam.Table, "dynamodb:" + op}}
	case "SQS":
		// The batch forms are authorised as their single-message actions.
		action := "sqs:" + strings.TrimSuffix(op, "Batch")
		r := queue(params)
		if r == iam.Bus {
			// Locally the events queue stands in for the bus (shared/eventqueue): a message
			// sent to it is an event put on the bus in AWS.
			return []authorised{{iam.Bus, iam.PutEvents}}
		}
		return []authorised{{r, action}}
	case "Cognito Identity Provider":
		return []authorised{{iam.UserPool, "cognito-idp:" + op}}
	case "EventBridge":
		return []authorised{{iam.Bus, "events:" + op}}
	}
	// A service no grant names: the check fails it.
	return []authorised{{iam.Resource(service), service + ":" + op}}
}

// queue tells which queue of EnsureQueues a send goes to, by its name. A queue no grant
// names (the dead-letter queue, a queue of another call) fails the check.
func queue(params any) iam.Resource {
	var url string
	switch p := params.(type) {
	case *sqs.SendMessageInput:
		url = aws.ToString(p.QueueUrl)
	case *sqs.SendMessageBatchInput:
		url = aws.ToString(p.QueueUrl)
	default:
		return "queue"
	}
	name := path.Base(url)
	switch {
	case strings.HasSuffix(name, jobsDLQ):
		return "jobs dead-letter queue"
	case strings.HasSuffix(name, jobsArchive):
		return iam.Archive
	case strings.HasSuffix(name, jobsQueue):
		return iam.JobsQueue
	case strings.HasSuffix(name, eventsQueue):
		return iam.Bus
	}
	return iam.Resource("queue " + name)
}

// denied lists, one line each, the recorded calls the functions' grants do not allow.
func (l *callLog) denied(grants map[string]iam.Grant) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for c, sources := range l.calls {
		g, ok := grants[c.function]
		if ok && g.Allows(c.resource, c.action) {
			continue
		}
		why := "its grant in shared/iam does not allow it"
		if !ok {
			why = "it has no grant in shared/iam"
		}
		out = append(out, fmt.Sprintf("function %s needs %s on the %s, made by %s, but %s",
			c.function, c.action, c.resource, strings.Join(sources, "; "), why))
	}
	slices.Sort(out)
	return out
}

// unexercised lists, for each function that made a call, the granted actions no recorded call
// needed. Tests do not reach every branch, so this is a hint, not a failure.
func (l *callLog) unexercised(grants map[string]iam.Grant) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	seen := map[string]bool{}
	for c := range l.calls {
		seen[c.function] = true
	}
	var out []string
	for fn := range seen {
		var idle []string
		for _, st := range grants[fn].Statements() {
			for _, a := range st.Actions {
				if _, ok := l.calls[call{fn, authorised{st.Resource, a}}]; !ok {
					idle = append(idle, fmt.Sprintf("%s on the %s", a, st.Resource))
				}
			}
		}
		if len(idle) > 0 {
			out = append(out, fmt.Sprintf("function %s: %s", fn, strings.Join(idle, ", ")))
		}
	}
	slices.Sort(out)
	return out
}
