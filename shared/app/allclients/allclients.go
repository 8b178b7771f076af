// Package allclients wires every AWS client beyond DynamoDB into an App, as configured, and
// serves every function by name: for the processes that serve every function at once (the dev
// server, make invoke, tests). A deployed Lambda wires only what its own routes use, in its main,
// and names its own handler there (app.API(httpapi.Me), ...): importing this package links them
// all.
package allclients

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/tilgang/tilgang/shared/app"
	"github.com/tilgang/tilgang/shared/cognito"
	"github.com/tilgang/tilgang/shared/config"
	"github.com/tilgang/tilgang/shared/devserver"
	"github.com/tilgang/tilgang/shared/eventbus"
	"github.com/tilgang/tilgang/shared/eventqueue"
	"github.com/tilgang/tilgang/shared/httpapi"
	"github.com/tilgang/tilgang/shared/jobqueue"
	"github.com/tilgang/tilgang/shared/routes"
)

// Wire sets the login provider (Cognito, config UserPoolID), the event publisher (the
// EventBridge bus, or the local events queue that stands in for it), the jobs queue and the
// job worker's archive, each where configured.
func Wire(a *app.App) {
	cfg := a.Config
	if cfg.UserPoolID != "" {
		a.People.Identity = cognito.New(cognitoidentityprovider.NewFromConfig(a.AWS), cfg.UserPoolID)
	}
	switch {
	case cfg.EventBusName != "":
		a.People.Events = &eventbus.EventBridge{Client: eventbridge.NewFromConfig(a.AWS), Bus: cfg.EventBusName}
	case cfg.EventsQueueURL != "":
		a.People.Events = &eventqueue.Publisher{Client: SQS(a.AWS, cfg), QueueURL: cfg.EventsQueueURL, Region: cfg.Region, NewID: a.People.NewID}
	}
	if cfg.JobsQueueURL != "" {
		a.Jobs.Queue = &jobqueue.SQS{Client: SQS(a.AWS, cfg), QueueURL: cfg.JobsQueueURL}
	}
	if cfg.JobsArchiveQueueURL != "" {
		a.JobArchive = &jobqueue.Archive{Client: SQS(a.AWS, cfg), QueueURL: cfg.JobsArchiveQueueURL}
	}
}

// SQS is the SQS client of the configuration (the local server's endpoint when set).
func SQS(awsCfg aws.Config, cfg config.Config) *sqs.Client {
	return sqs.NewFromConfig(awsCfg, func(o *sqs.Options) {
		if cfg.SQSEndpoint != "" {
			o.BaseEndpoint = aws.String(cfg.SQSEndpoint)
		}
	})
}

// DevServerApp hands the dev server the parts of a wired App: the API handlers, the dev-only
// tenant and token helpers, and the workers its SQS pollers feed as AWS would (schedules are the
// caller's to add).
func DevServerApp(a *app.App) devserver.App {
	return devserver.App{
		API:          func(function string) devserver.APIHandler { return API(a, function) },
		CreateTenant: a.People.CreateTenant,
		UserByEmail:  a.People.UserByEmail,
		JobWorker:    a.JobWorker(),
		EventsWorker: a.EventsWorker(),
	}
}

// API returns the handler of a function that serves HTTP routes, by name: an API function
// (routes.APIFunctions) or the SCIM function; nil for any other name.
func API(a *app.App, function string) httpapi.LambdaHandler {
	if function == routes.FnSCIM {
		return a.SCIM()
	}
	fn, ok := httpapi.FunctionNamed(function)
	if !ok {
		return nil
	}
	return a.API(fn)
}
