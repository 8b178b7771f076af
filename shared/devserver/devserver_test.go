package devserver_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/tilgang/tilgang/shared/access"
	"github.com/tilgang/tilgang/shared/config"
	"github.com/tilgang/tilgang/shared/devserver"
	"github.com/tilgang/tilgang/shared/localstack"
	"github.com/tilgang/tilgang/shared/routes"
)

func TestMain(m *testing.M) { localstack.Main(m) }

// fakeApp records the events its API handlers get and answers with fixed responses.
type fakeApp struct {
	mu     sync.Mutex
	events []events.APIGatewayV2HTTPRequest
	runs   atomic.Int32
}

func (f *fakeApp) app() devserver.App {
	return devserver.App{
		API: func(function string) devserver.APIHandler {
			return func(_ context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
				f.mu.Lock()
				f.events = append(f.events, ev)
				f.mu.Unlock()
				if ev.RawPath == "/v1/programs" {
					return events.APIGatewayV2HTTPResponse{}, errors.New("boom")
				}
				return events.APIGatewayV2HTTPResponse{
					StatusCode:      200,
					Headers:         map[string]string{"Content-Type": "application/octet-stream", "X-Function": function},
					Cookies:         []string{"a=1; Path=/", "b=2"},
					Body:            base64.StdEncoding.EncodeToString([]byte{0, 1, 2}),
					IsBase64Encoded: true,
				}, nil
			}
		},
		CreateTenant: func(_ context.Context, in access.NewTenant) (access.Tenant, access.User, error) {
			if in.Name == "" {
				return access.Tenant{}, access.User{}, access.Invalid("name", "is required")
			}
			return access.Tenant{ID: "t1"}, access.User{ID: "u1", TenantID: "t1"}, nil
		},
		UserByEmail: func(_ context.Context, email string) (access.User, error) {
			if email != "kari@example.com" {
				return access.User{}, access.NotFound("user")
			}
			return access.User{ID: "u1", TenantID: "t1"}, nil
		},
		Scheduled: []devserver.Scheduled{{Name: routes.FnAnonymiser, Every: time.Hour, Run: func(context.Context) error {
			f.runs.Add(1)
			return nil
		}}},
	}
}

func (f *fakeApp) last() events.APIGatewayV2HTTPRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.events[len(f.events)-1]
}

func start(t *testing.T, newApp func(context.Context, config.Config) (devserver.App, error)) *devserver.DevServer {
	t.Helper()
	s := localstack.Shared(t)
	d, err := devserver.Start(t.Context(), devserver.Options{
		Addr: "127.0.0.1:0",
		Stack: localstack.Options{
			DataDir:        t.TempDir(),
			DynamoEndpoint: s.DynamoEndpoint,
			SQSEndpoint:    s.SQSEndpoint,
		},
		TableName:   "devserver-" + strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-")),
		QueuePrefix: "dev-" + t.Name() + "-",
		NewApp:      newApp,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

type result struct {
	status int
	header http.Header
	body   []byte
}

func do(t *testing.T, method, url, token, contentType string, body []byte) result {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Add("X-Multi", "one")
	req.Header.Add("X-Multi", "two")
	req.AddCookie(&http.Cookie{Name: "c1", Value: "v1"})
	req.AddCookie(&http.Cookie{Name: "c2", Value: "v2"})
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return result{resp.StatusCode, resp.Header, b}
}

func TestServer(t *testing.T) {
	f := &fakeApp{}
	d := start(t, func(context.Context, config.Config) (devserver.App, error) { return f.app(), nil })

	problems := []struct {
		name, method, path, token string
		body                      string
		want                      int
	}{
		{"no token", "GET", "/v1/me", "", "", 401},
		{"bad token", "GET", "/v1/me", "nope", "", 401},
		{"unknown route", "GET", "/v2/nothing", "", "", 404},
		{"wrong method", "PUT", "/v1/me", "", "", 405},
		{"bad json", "POST", "/dev/tenants", "", "{", 400},
		{"unknown field", "POST", "/dev/tenants", "", `{"nme":"x"}`, 400},
		{"invalid tenant", "POST", "/dev/tenants", "", `{"name":""}`, 400},
		{"unknown email", "POST", "/dev/token", "", `{"email":"nobody@example.com"}`, 404},
		{"dev GET", "GET", "/dev/token", "", "", 405},
		{"unknown job", "POST", "/dev/run/nothing", "", "", 404},
	}
	for _, tt := range problems {
		t.Run(tt.name, func(t *testing.T) {
			r := do(t, tt.method, d.URL+tt.path, tt.token, "application/json", []byte(tt.body))
			if r.status != tt.want {
				t.Errorf("got %d %s, want %d", r.status, r.body, tt.want)
			}
			if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("Content-Type = %q, want application/problem+json", ct)
			}
		})
	}

	r := do(t, "POST", d.URL+"/dev/tenants", "", "application/json", []byte(`{"name":"Klinikk","owner":{"name":"Kari","email":"kari@example.com"}}`))
	var created struct{ TenantID, OwnerID, Token string }
	if err := json.Unmarshal(r.body, &created); err != nil || r.status != 201 {
		t.Fatalf("POST /dev/tenants = %d %s", r.status, r.body)
	}
	if created.TenantID != "t1" || created.OwnerID != "u1" || created.Token == "" {
		t.Errorf("POST /dev/tenants = %+v", created)
	}
	r = do(t, "POST", d.URL+"/dev/token", "", "application/json", []byte(`{"email":"kari@example.com"}`))
	var tok struct{ Token string }
	if err := json.Unmarshal(r.body, &tok); err != nil || r.status != 200 || tok.Token == "" {
		t.Fatalf("POST /dev/token = %d %s", r.status, r.body)
	}

	// A binary request to a route with a path parameter and a repeated query parameter.
	r = do(t, "PUT", d.URL+"/v1/clients/c%201/access/u2?x=1&x=2&y=", tok.Token, "image/png", []byte{0xff, 0x00})
	if r.status != 200 {
		t.Fatalf("PUT = %d %s", r.status, r.body)
	}
	if !bytes.Equal(r.body, []byte{0, 1, 2}) || r.header.Get("X-Function") != routes.FnClients {
		t.Errorf("response body %v header %v", r.body, r.header)
	}
	if got := r.header.Values("Set-Cookie"); len(got) != 2 || got[0] != "a=1; Path=/" {
		t.Errorf("Set-Cookie = %q", got)
	}
	ev := f.last()
	checks := []struct{ name, got, want string }{
		{"version", ev.Version, "2.0"},
		{"routeKey", ev.RouteKey, "PUT /v1/clients/{clientId}/access/{userId}"},
		{"rawPath", ev.RawPath, "/v1/clients/c%201/access/u2"},
		{"rawQueryString", ev.RawQueryString, "x=1&x=2&y="},
		{"query x", ev.QueryStringParameters["x"], "1,2"},
		{"clientId", ev.PathParameters["clientId"], "c 1"},
		{"userId", ev.PathParameters["userId"], "u2"},
		{"x-multi", ev.Headers["x-multi"], "one,two"},
		{"content-type", ev.Headers["content-type"], "image/png"},
		{"cookies", strings.Join(ev.Cookies, "|"), "c1=v1|c2=v2"},
		{"cookie header", ev.Headers["cookie"], ""},
		{"body", ev.Body, base64.StdEncoding.EncodeToString([]byte{0xff, 0x00})},
		{"stage", ev.RequestContext.Stage, "$default"},
		{"method", ev.RequestContext.HTTP.Method, "PUT"},
		{"sourceIp", ev.RequestContext.HTTP.SourceIP, "127.0.0.1"},
		{"ctx routeKey", ev.RequestContext.RouteKey, ev.RouteKey},
		{"sub", ev.RequestContext.Authorizer.JWT.Claims["sub"], "u1"},
		{"tenant", ev.RequestContext.Authorizer.JWT.Claims["custom:tenant_id"], "t1"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	if !ev.IsBase64Encoded || ev.RequestContext.RequestID == "" || ev.RequestContext.TimeEpoch == 0 || ev.RequestContext.Authorizer.JWT.Scopes != nil {
		t.Errorf("event %+v", ev)
	}

	// JSON stays text.
	do(t, "POST", d.URL+"/v1/users", tok.Token, "application/json; charset=utf-8", []byte(`{"a":1}`))
	if ev := f.last(); ev.IsBase64Encoded || ev.Body != `{"a":1}` || ev.PathParameters != nil {
		t.Errorf("JSON event body %q base64 %v params %v", ev.Body, ev.IsBase64Encoded, ev.PathParameters)
	}

	// A handler error is a 500.
	if r := do(t, "GET", d.URL+"/v1/programs", tok.Token, "", nil); r.status != 500 {
		t.Errorf("failing handler: got %d, want 500", r.status)
	}

	if r := do(t, "POST", d.URL+"/dev/run/"+routes.FnAnonymiser, "", "", nil); r.status != 200 || f.runs.Load() != 1 {
		t.Errorf("POST /dev/run = %d %s, runs %d", r.status, r.body, f.runs.Load())
	}
}

func TestSQSPoller(t *testing.T) {
	client := localstack.Shared(t).SQSClient()
	ctx := t.Context()
	q, err := client.CreateQueue(ctx, &sqs.CreateQueueInput{
		QueueName:  aws.String("poller-" + time.Now().Format("150405.000000")[7:]),
		Attributes: map[string]string{"VisibilityTimeout": "2"}, // longer than the poll's wait, see SQSPoller.Wait
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, body := range []string{"ok-1", "fail", "ok-2"} {
		if _, err := client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: q.QueueUrl, MessageBody: aws.String(body),
			MessageAttributes: map[string]types.MessageAttributeValue{"kind": {DataType: aws.String("String"), StringValue: aws.String("test")}}}); err != nil {
			t.Fatal(err)
		}
	}

	var mu sync.Mutex
	var got []events.SQSMessage
	p := &devserver.SQSPoller{
		Client: client, QueueURL: aws.ToString(q.QueueUrl), Name: "test", Wait: time.Second,
		Handler: func(_ context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
			mu.Lock()
			defer mu.Unlock()
			var resp events.SQSEventResponse
			for _, m := range ev.Records {
				got = append(got, m)
				if m.Body == "fail" {
					resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: m.MessageId})
				}
			}
			return resp, nil
		},
	}
	n := 0
	for deadline := time.Now().Add(5 * time.Second); n < 3 && time.Now().Before(deadline); {
		k, err := p.PollOnce(ctx)
		if err != nil {
			t.Fatal(err)
		}
		n += k
	}
	if n != 3 {
		for _, m := range got {
			t.Logf("%s %s %v", m.MessageId, m.Body, m.Attributes)
		}
		t.Fatalf("received %d messages, want 3", n)
	}
	m := got[0]
	if m.EventSource != "aws:sqs" || !strings.HasPrefix(m.EventSourceARN, "arn:aws:sqs:") || m.AWSRegion != "eu-north-1" ||
		m.Attributes["ApproximateReceiveCount"] != "1" || m.Attributes["SentTimestamp"] == "" || m.ReceiptHandle == "" ||
		aws.ToString(m.MessageAttributes["kind"].StringValue) != "test" {
		t.Errorf("record %+v", m)
	}

	// After the visibility timeout only the failed message comes back, for its second try.
	got = nil
	time.Sleep(2100 * time.Millisecond)
	for deadline := time.Now().Add(3 * time.Second); len(got) == 0 && time.Now().Before(deadline); {
		if _, err := p.PollOnce(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if len(got) != 1 || got[0].Body != "fail" || got[0].Attributes["ApproximateReceiveCount"] != "2" {
		t.Errorf("redelivered %+v, want only the failed message with receive count 2", got)
	}
}

// TestJobWorkerConsumesTheDeadLetterQueue: the dev server feeds the job worker both the jobs
// queue and its dead-letter queue, as the function's two event sources do in AWS, and gives the
// app the dead-letter queue's ARN, which the records from it carry.
func TestJobWorkerConsumesTheDeadLetterQueue(t *testing.T) {
	var (
		mu  sync.Mutex
		got = map[string]string{} // body → event source ARN
		cfg config.Config
	)
	d := start(t, func(_ context.Context, c config.Config) (devserver.App, error) {
		cfg = c
		app := (&fakeApp{}).app()
		app.JobWorker = func(_ context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
			mu.Lock()
			defer mu.Unlock()
			for _, r := range ev.Records {
				got[r.Body] = r.EventSourceARN
			}
			return events.SQSEventResponse{}, nil
		}
		return app, nil
	})
	if cfg.JobsDLQARN == "" || d.Config.JobsDLQARN != cfg.JobsDLQARN {
		t.Fatalf("app config JobsDLQARN = %q, dev server's = %q", cfg.JobsDLQARN, d.Config.JobsDLQARN)
	}
	client := d.Stack.SQSClient()
	dlq, err := client.GetQueueUrl(t.Context(), &sqs.GetQueueUrlInput{QueueName: aws.String("dev-" + t.Name() + "-jobs-dlq")})
	if err != nil {
		t.Fatal(err)
	}
	for url, body := range map[string]string{cfg.JobsQueueURL: "to-jobs", aws.ToString(dlq.QueueUrl): "to-dlq"} {
		if _, err := client.SendMessage(t.Context(), &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(body)}); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		n := len(got)
		jobsARN, dlqARN := got["to-jobs"], got["to-dlq"]
		mu.Unlock()
		if n == 2 {
			if dlqARN != cfg.JobsDLQARN || jobsARN == "" || jobsARN == cfg.JobsDLQARN {
				t.Errorf("event source ARNs: jobs queue %q, dead-letter queue %q; want the latter to be %q", jobsARN, dlqARN, cfg.JobsDLQARN)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the job worker got %v", got)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
