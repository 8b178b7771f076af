// Package invoke runs a function's real Lambda handler on a sample event the way the Lambda
// runtime does: the JSON payload goes through lambda.NewHandler(...).Invoke with a Lambda
// context and a deadline. `make invoke` and the test of the events/ samples use it; it is
// never deployed.
package invoke

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/tilgang/tilgang/shared/access"
	"github.com/tilgang/tilgang/shared/app"
	"github.com/tilgang/tilgang/shared/app/allclients"
	"github.com/tilgang/tilgang/shared/routes"
)

// Timeout is the deadline an invocation gets, like a function's configured timeout.
const Timeout = 60 * time.Second

// Functions lists every function that can be invoked: the API functions, then the workers.
func Functions() []string {
	return append(routes.APIFunctions(), routes.FnJobWorker, routes.FnAnonymiser)
}

// probe holds the fields that tell the event sources apart.
type probe struct {
	RouteKey string `json:"routeKey"`
	Records  []struct {
		EventSource string `json:"eventSource"`
	} `json:"Records"`
	Source     string `json:"source"`
	DetailType string `json:"detail-type"`
}

// FunctionFor names the function an event is for: an API Gateway event by its route key (from
// the route table), an SQS batch is the job worker's, a scheduled event or an anonymiser
// continuation is the anonymiser's.
func FunctionFor(payload []byte) (string, error) {
	var p probe
	if err := json.Unmarshal(payload, &p); err != nil {
		return "", fmt.Errorf("not a JSON event: %w", err)
	}
	switch {
	case p.RouteKey != "":
		for _, r := range routes.All {
			if r.Key() == p.RouteKey {
				return r.Function, nil
			}
		}
		return "", fmt.Errorf("route key %q is not in the route table", p.RouteKey)
	case len(p.Records) > 0 && p.Records[0].EventSource == "aws:sqs":
		return routes.FnJobWorker, nil
	case p.DetailType == "Scheduled Event" || p.DetailType == access.EventAnonymiserContinue:
		return routes.FnAnonymiser, nil
	}
	return "", fmt.Errorf("cannot tell which function the event is for (no routeKey, SQS Records or EventBridge detail-type)")
}

// Handler returns a function's handler as its main passes it to lambda.Start.
func Handler(a *app.App, function string) (any, error) {
	switch {
	case slices.Contains(routes.APIFunctions(), function):
		return allclients.API(a, function), nil
	case function == routes.FnAnonymiser:
		return a.Anonymiser(), nil
	case function == routes.FnJobWorker:
		return a.JobWorker(), nil
	}
	return nil, fmt.Errorf("unknown function %q; the functions are %v", function, Functions())
}

// Run invokes a function's handler on a payload and returns the handler's JSON result.
func Run(ctx context.Context, a *app.App, function string, payload []byte) ([]byte, error) {
	h, err := Handler(a, function)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	ctx = lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{
		AwsRequestID:       access.NewULID("req"),
		InvokedFunctionArn: "arn:aws:lambda:eu-north-1:123456789012:function:tilgang-" + function,
	})
	return lambda.NewHandler(h).Invoke(ctx, payload)
}
