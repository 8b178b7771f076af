// Package devserver is the local stand-in for API Gateway, Lambda's SQS event source and
// EventBridge Scheduler: it starts the local stack (dynoxide and local-aws-sqs), serves every
// API function on one HTTP address by turning requests into API Gateway v2 events from the
// shared route table, feeds queue workers real SQS events and runs scheduled jobs on a timer.
// It is never deployed.
package devserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/tilgang/tilgang/shared/config"
	"github.com/tilgang/tilgang/shared/localauth"
	"github.com/tilgang/tilgang/shared/localstack"
	"github.com/tilgang/tilgang/shared/routes"
)

// Options configure the dev server. Zero values take the defaults in brackets.
type Options struct {
	// Addr is the HTTP address [127.0.0.1:8080]; port 0 picks a free one.
	Addr string
	// Stack starts the local servers; Stack.DataDir [<repo>/.local] keeps the data, and the
	// ports are used as given (0 = free port), so set 8000 and 9324 for the usual ones.
	Stack localstack.Options
	// TableName [tilgang] and QueuePrefix [tilgang-] name the table and the queues.
	TableName   string
	QueuePrefix string
	// KeyFile holds the token signing key [<DataDir>/dev-token.key].
	KeyFile string
	// DocsDir holds the /docs page's assets [<repo>/.docs/node_modules/swagger-ui-dist].
	DocsDir string
	// NewApp builds the application against the local configuration.
	NewApp func(context.Context, config.Config) (App, error)
	Log    *slog.Logger
}

// DevServer is a running dev server.
type DevServer struct {
	// URL is the HTTP base URL, e.g. http://127.0.0.1:8080.
	URL    string
	Config config.Config
	Stack  *localstack.Stack
	Tokens *localauth.TokenIssuer

	srv    *http.Server
	cancel context.CancelFunc
	wg     sync.WaitGroup
	served chan error
}

// Run starts the dev server and serves until ctx ends, then stops the HTTP server, the workers
// and the local servers.
func Run(ctx context.Context, o Options) error {
	d, err := Start(ctx, o)
	if err != nil {
		return err
	}
	log := logger(o.Log)
	log.Info("dev server ready", "url", d.URL, "docs", d.URL+"/docs", "dynamodb", d.Config.DynamoEndpoint, "sqs", d.Config.SQSEndpoint, "table", d.Config.TableName)
	select {
	case <-ctx.Done():
		log.Info("stopping")
	case err = <-d.served:
	}
	return errors.Join(err, d.Close())
}

// Start starts the local stack, the application and the HTTP server, and returns once all of
// them are ready.
func Start(ctx context.Context, o Options) (_ *DevServer, err error) {
	log := logger(o.Log)
	if o.Addr == "" {
		o.Addr = "127.0.0.1:8080"
	}
	if o.TableName == "" {
		o.TableName = "tilgang"
	}
	if o.QueuePrefix == "" {
		o.QueuePrefix = "tilgang-"
	}
	if o.NewApp == nil {
		return nil, errors.New("devserver: Options.NewApp is required")
	}
	if o.Stack.DataDir == "" {
		root, err := localstack.RepoRoot()
		if err != nil {
			return nil, err
		}
		o.Stack.DataDir = filepath.Join(root, ".local")
	}
	if o.KeyFile == "" {
		o.KeyFile = filepath.Join(o.Stack.DataDir, "dev-token.key")
	}
	if o.DocsDir == "" {
		if root, err := localstack.RepoRoot(); err == nil {
			o.DocsDir = DefaultDocsDir(root)
		}
	}

	d := &DevServer{served: make(chan error, 1)}
	defer func() {
		if err != nil {
			d.Close()
		}
	}()
	if d.Stack, err = localstack.Start(ctx, o.Stack); err != nil {
		return nil, err
	}
	if err := localstack.EnsureTable(ctx, d.Stack.DynamoClient(), o.TableName); err != nil {
		return nil, fmt.Errorf("devserver: %w", err)
	}
	sqsClient := d.Stack.SQSClient()
	queues, err := localstack.EnsureQueues(ctx, sqsClient, o.QueuePrefix)
	if err != nil {
		return nil, fmt.Errorf("devserver: %w", err)
	}
	d.Config = config.Config{
		Region:                    localstack.Region,
		TableName:                 o.TableName,
		JobsQueueURL:              queues.JobsURL,
		JobsDLQARN:                queues.JobsDLQARN,
		JobsArchiveQueueURL:       queues.JobsArchiveURL,
		EventsQueueURL:            queues.EventsURL,
		DynamoEndpoint:            d.Stack.DynamoEndpoint,
		SQSEndpoint:               d.Stack.SQSEndpoint,
		NotificationRetentionDays: 30,
	}
	// Whatever in the app still reads the environment (config.FromEnv, the SDK's default
	// credential chain) must see the local stack and never an AWS account or ~/.aws.
	for k, v := range map[string]string{
		"AWS_REGION": d.Config.Region, "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local",
		"AWS_SESSION_TOKEN": "", "AWS_PROFILE": "", "AWS_EC2_METADATA_DISABLED": "true",
		"TABLE_NAME": d.Config.TableName, "JOBS_QUEUE_URL": d.Config.JobsQueueURL, "JOBS_DLQ_ARN": d.Config.JobsDLQARN,
		"JOBS_ARCHIVE_QUEUE_URL": d.Config.JobsArchiveQueueURL,
		"EVENTS_QUEUE_URL":       d.Config.EventsQueueURL, "EVENT_BUS_NAME": "", "USER_POOL_ID": "",
		"DYNAMODB_ENDPOINT": d.Config.DynamoEndpoint, "SQS_ENDPOINT": d.Config.SQSEndpoint,
	} {
		if v == "" {
			os.Unsetenv(k)
		} else {
			os.Setenv(k, v)
		}
	}

	key, err := localauth.LoadOrCreateKey(o.KeyFile)
	if err != nil {
		return nil, err
	}
	if d.Tokens, err = localauth.NewIssuer(key); err != nil {
		return nil, err
	}
	app, err := o.NewApp(ctx, d.Config)
	if err != nil {
		return nil, fmt.Errorf("devserver: build app: %w", err)
	}

	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	d.cancel = cancel
	var tickers []*Ticker
	for _, s := range app.Scheduled {
		t := &Ticker{Name: s.Name, Every: s.Every, Job: s.Run, Log: log}
		tickers = append(tickers, t)
		d.goRun(func() { t.Run(runCtx) })
	}
	for _, w := range []struct {
		name, url string
		h         SQSHandler
	}{
		{routes.FnJobWorker, queues.JobsURL, app.JobWorker},
		// The same function consumes the dead-letter queue, as its second event source in AWS.
		{routes.FnJobWorker, queues.JobsDLQURL, app.JobWorker},
		{"events", queues.EventsURL, app.EventsWorker},
	} {
		if w.h == nil {
			continue
		}
		p := &SQSPoller{Client: sqsClient, QueueURL: w.url, Handler: w.h, Name: w.name, Region: d.Config.Region, Log: log}
		d.goRun(func() { p.Run(runCtx) })
	}

	l, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return nil, fmt.Errorf("devserver: %w", err)
	}
	d.URL = "http://" + l.Addr().String()
	srv := NewServer(app, d.Tokens, tickers, log)
	srv.SetDocs(&Docs{Dir: o.DocsDir})
	d.srv = &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := d.srv.Serve(l); !errors.Is(err, http.ErrServerClosed) {
			d.served <- err
		}
	}()
	return d, nil
}

func (d *DevServer) goRun(f func()) {
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		f()
	}()
}

// Close stops the HTTP server (letting requests in flight finish for up to 5s), the workers and
// the local servers.
func (d *DevServer) Close() error {
	var err error
	if d.srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err = d.srv.Shutdown(ctx)
		cancel()
	}
	if d.cancel != nil {
		d.cancel()
	}
	d.wg.Wait()
	return errors.Join(err, d.Stack.Close())
}

func logger(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.Default()
	}
	return l
}
