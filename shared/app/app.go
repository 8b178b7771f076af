// Package app wires configuration, AWS clients, the store and the domain service together;
// every function's main and the dev server build their handlers through it.
package app

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/middleware"

	"github.com/tilgang/tilgang/shared/access"
	"github.com/tilgang/tilgang/shared/access/clients"
	"github.com/tilgang/tilgang/shared/access/expiry"
	"github.com/tilgang/tilgang/shared/access/jobs"
	"github.com/tilgang/tilgang/shared/access/people"
	"github.com/tilgang/tilgang/shared/access/reviews"
	"github.com/tilgang/tilgang/shared/config"
	"github.com/tilgang/tilgang/shared/dynamo"
	"github.com/tilgang/tilgang/shared/httpapi"
	"github.com/tilgang/tilgang/shared/jobworker"
	"github.com/tilgang/tilgang/shared/metrics"
	"github.com/tilgang/tilgang/shared/routes"
	"github.com/tilgang/tilgang/shared/scim"
	"github.com/tilgang/tilgang/shared/tracing"
)

// App holds what the handlers share; build it once per process, outside the handlers.
type App struct {
	Config config.Config
	AWS    aws.Config
	Dynamo *dynamodb.Client
	Store  *dynamo.Store
	// The use cases: people (tenants, users, groups, links, user bank), clients (clients,
	// assignments, client administration, programs) and jobs (bureau access jobs).
	People  *people.Service
	Clients *clients.Service
	Jobs    *jobs.Service
	// Reviews runs access reviews; Expiry sweeps expired grants (issue 15).
	Reviews *reviews.Service
	Expiry  *expiry.Service
	// Provisioning is the SCIM use cases (tokens, directory users and groups).
	Provisioning *people.Provisioning
	Log          *slog.Logger
	// Metrics writes the EMF records (through Log, so they carry the request and trace ids).
	Metrics *metrics.Emitter
	// AnonymiserBatch bounds the user bank entries of one anonymiser invocation (0: default).
	AnonymiserBatch int
	// JobArchive is where the job worker parks poison messages (nil: they are only logged).
	JobArchive jobworker.Archive
	api        *httpapi.API
	scim       *scim.Handler
	now        func() time.Time
}

// Options adjust New, mostly for tests.
type Options struct {
	// DynamoOptions are applied to the DynamoDB client (for example a call counter).
	DynamoOptions []func(*dynamodb.Options)
	// APIOptions are added to the SDK configuration, so every AWS client built from App.AWS
	// has them (for example localstack.RecordCalls).
	APIOptions []func(*middleware.Stack) error
	Log        *slog.Logger
	Identity   access.Identity
	// Now is the clock of request latencies and job durations [time.Now].
	Now func() time.Time
}

// New builds the App from configuration.
func New(ctx context.Context, cfg config.Config, opts ...Options) (*App, error) {
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	awsCfg := awsConfig(cfg)
	awsCfg.APIOptions = append(awsCfg.APIOptions, o.APIOptions...)
	if cfg.XRayDaemonAddress != "" {
		// Lambda's active tracing runs the daemon endpoint: trace every AWS SDK call.
		tracer, err := tracing.New(cfg.XRayDaemonAddress)
		if err != nil {
			return nil, err
		}
		tracer.Instrument(&awsCfg)
	}
	dynOpts := o.DynamoOptions
	if cfg.DynamoEndpoint != "" {
		dynOpts = append([]func(*dynamodb.Options){func(do *dynamodb.Options) { do.BaseEndpoint = aws.String(cfg.DynamoEndpoint) }}, dynOpts...)
	}
	db := dynamodb.NewFromConfig(awsCfg, dynOpts...)
	log := o.Log
	if log == nil {
		log = NewLogger()
	}
	now := o.Now
	if now == nil {
		now = time.Now
	}
	emitter := &metrics.Emitter{Log: log, Now: now}
	store := dynamo.New(db, cfg.TableName)
	ppl := people.New(store, defaultIdentity(cfg))
	ppl.Events = defaultEvents(cfg)
	ppl.Log = log
	cls := clients.New(store)
	// Job items and durations are counted where the store applies them (a redelivered part
	// counts once).
	jbs := jobs.New(meteredStore{Store: store, metrics: emitter, now: now}, cls, nil)
	jbs.NotificationRetention = time.Duration(cfg.NotificationRetentionDays) * 24 * time.Hour
	rvs, exp := wireReviews(store, ppl, cls, jbs, cfg, log)
	prov := people.NewProvisioning(ppl, store)
	a := &App{Config: cfg, AWS: awsCfg, Dynamo: db, Store: store, People: ppl, Clients: cls, Jobs: jbs, Reviews: rvs, Expiry: exp,
		Provisioning: prov, Log: log, Metrics: emitter, now: now,
		api:  &httpapi.API{People: ppl, Clients: cls, Jobs: jbs, Reviews: rvs, Provisioning: prov, Log: log},
		scim: &scim.Handler{P: prov, Log: log}}
	if o.Identity != nil {
		ppl.Identity = o.Identity
	}
	return a, nil
}

// API returns the Lambda handler of one API function (httpapi.Me, ...), with one request line
// (and EMF record) per request. It links that function's routes only.
func (a *App) API(fn httpapi.Function) httpapi.LambdaHandler {
	return a.observeAPI(fn.Name, a.api.Handler(fn))
}

// SCIM returns the Lambda handler of the SCIM function (routes.FnSCIM), with one request line
// per request like the API functions.
func (a *App) SCIM() httpapi.LambdaHandler {
	return a.observeAPI(routes.FnSCIM, a.scim.Lambda())
}

// MustNew builds the App from the environment or exits with a clear message; for mains, which
// then wire the clients beyond DynamoDB their routes use.
func MustNew(ctx context.Context) *App {
	cfg, err := config.FromEnv()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	a, err := New(ctx, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	return a
}
