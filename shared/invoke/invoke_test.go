package invoke_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tilgang/tilgang/shared/app"
	"github.com/tilgang/tilgang/shared/app/allclients"
	"github.com/tilgang/tilgang/shared/config"
	"github.com/tilgang/tilgang/shared/invoke"
	"github.com/tilgang/tilgang/shared/localstack"
	"github.com/tilgang/tilgang/shared/openapi"
	"github.com/tilgang/tilgang/shared/routes"
)

func TestMain(m *testing.M) { localstack.Main(m) }

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// newApp builds an App on the package's table and fresh queues; log nil means the
// production logger.
func newApp(t *testing.T, log *slog.Logger) *app.App {
	t.Helper()
	_, table := localstack.Table(t)
	stack := localstack.Shared(t)
	_, q := localstack.Queues(t)
	cfg := config.Config{Region: localstack.Region, TableName: table, DynamoEndpoint: stack.DynamoEndpoint,
		SQSEndpoint: stack.SQSEndpoint, JobsQueueURL: q.JobsURL, EventsQueueURL: q.EventsURL, NotificationRetentionDays: 30}
	a, err := app.New(context.Background(), cfg, app.Options{Log: log, APIOptions: localstack.RecordCalls()})
	if err != nil {
		t.Fatal(err)
	}
	allclients.Wire(a)
	return a
}

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := localstack.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func samples(t *testing.T) map[string][]byte {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(invoke.EventsDir(repoRoot(t)), "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no samples in events/: %v", err)
	}
	out := map[string][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(f)] = b
	}
	return out
}

// TestSamplesHaveTheShapesAWSSends checks what the handlers do not look at: that an API sample
// is consistent the way API Gateway makes it (route key, path, parameters, method, body
// length), and that every function has a sample.
func TestSamplesHaveTheShapesAWSSends(t *testing.T) {
	covered := map[string]bool{}
	for name, b := range samples(t) {
		fn, err := invoke.FunctionFor(b)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		covered[fn] = true
		switch fn {
		case routes.FnJobWorker:
			var ev events.SQSEvent
			if err := json.Unmarshal(b, &ev); err != nil || len(ev.Records) == 0 {
				t.Errorf("%s: not an SQS batch: %v", name, err)
			}
			for _, r := range ev.Records {
				if r.MessageId == "" || r.ReceiptHandle == "" || r.EventSourceARN == "" || r.Body == "" {
					t.Errorf("%s: record %+v lacks what Lambda's SQS event source sets", name, r)
				}
			}
			continue
		case routes.FnAnonymiser:
			var ev events.EventBridgeEvent
			if err := json.Unmarshal(b, &ev); err != nil || ev.Version != "0" || ev.ID == "" || ev.Time.IsZero() || ev.Detail == nil {
				t.Errorf("%s: not an EventBridge event (%v): %+v", name, err, ev)
			}
			continue
		}
		var ev events.APIGatewayV2HTTPRequest
		if err := json.Unmarshal(b, &ev); err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		rc := ev.RequestContext
		route, params, ok := routes.Match(rc.HTTP.Method, ev.RawPath)
		if ev.Version != "2.0" || !ok || route.Key() != ev.RouteKey || rc.RouteKey != ev.RouteKey || rc.HTTP.Path != ev.RawPath {
			t.Errorf("%s: version %q, route key %q / %q, method %s, path %q / %q do not agree", name, ev.Version, ev.RouteKey, rc.RouteKey, rc.HTTP.Method, ev.RawPath, rc.HTTP.Path)
		}
		if len(params) == 0 {
			params = nil
		}
		if !maps.Equal(params, ev.PathParameters) {
			t.Errorf("%s: pathParameters %v, want %v", name, ev.PathParameters, params)
		}
		if ev.Body != "" && ev.Headers["content-length"] != strconv.Itoa(len(ev.Body)) {
			t.Errorf("%s: content-length %q for a body of %d bytes", name, ev.Headers["content-length"], len(ev.Body))
		}
		if rc.RequestID == "" || rc.Authorizer == nil || rc.Authorizer.JWT == nil {
			t.Errorf("%s: no request id or JWT authorizer", name)
		}
	}
	for _, fn := range invoke.Functions() {
		if !covered[fn] {
			t.Errorf("no sample in events/ for function %s", fn)
		}
	}
}

// TestEverySampleIsAccepted runs every file in events/ through its function's real handler,
// the way Lambda does, after seeding the records the samples name.
func TestEverySampleIsAccepted(t *testing.T) {
	ctx := context.Background()
	a := newApp(t, slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err := invoke.Seed(ctx, a, repoRoot(t)); err != nil {
		t.Fatal(err)
	}
	if err := invoke.Seed(ctx, a, repoRoot(t)); err != nil {
		t.Fatalf("seeding twice: %v", err)
	}
	doc, err := openapi.Load()
	if err != nil {
		t.Fatal(err)
	}
	all := samples(t)
	for _, name := range slices.Sorted(maps.Keys(all)) {
		t.Run(strings.TrimSuffix(name, ".json"), func(t *testing.T) {
			payload := all[name]
			fn, err := invoke.FunctionFor(payload)
			if err != nil {
				t.Fatal(err)
			}
			out, err := invoke.Run(ctx, a, fn, payload)
			if err != nil {
				t.Fatalf("%s: handler error: %v", fn, err)
			}
			switch fn {
			case routes.FnJobWorker:
				var res events.SQSEventResponse
				if err := json.Unmarshal(out, &res); err != nil {
					t.Fatalf("result %s: %v", out, err)
				}
				t.Logf("%s: %d messages reported for redelivery", fn, len(res.BatchItemFailures))
			case routes.FnAnonymiser:
				t.Logf("%s: %s", fn, out)
			default:
				var res events.APIGatewayV2HTTPResponse
				if err := json.Unmarshal(out, &res); err != nil {
					t.Fatalf("result %s: %v", out, err)
				}
				// 401 would mean the caller of the samples was not found: the seed is off.
				if res.StatusCode >= 500 || res.StatusCode == 401 {
					t.Fatalf("%s: status %d: %s", fn, res.StatusCode, res.Body)
				}
				var ev events.APIGatewayV2HTTPRequest
				if err := json.Unmarshal(payload, &ev); err != nil {
					t.Fatal(err)
				}
				if err := doc.ValidateResponse(ev, res); err != nil {
					t.Errorf("response %d does not match the OpenAPI document: %v\n%s", res.StatusCode, err, res.Body)
				}
				t.Logf("%s: %d", fn, res.StatusCode)
			}
		})
	}
}

func TestFunctionForRefusesUnknownEvents(t *testing.T) {
	for _, payload := range []string{`{}`, `not json`, `{"routeKey":"GET /v1/nowhere"}`, `{"Records":[{"eventSource":"aws:s3"}]}`} {
		if fn, err := invoke.FunctionFor([]byte(payload)); err == nil {
			t.Errorf("%s: function %q, want an error", payload, fn)
		}
	}
}
