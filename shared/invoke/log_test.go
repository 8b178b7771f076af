package invoke_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tilgang/tilgang/shared/access"
	"github.com/tilgang/tilgang/shared/access/people"
	"github.com/tilgang/tilgang/shared/invoke"
	"github.com/tilgang/tilgang/shared/localstack"
	"github.com/tilgang/tilgang/shared/routes"
)

const envLogChild = "TILGANG_TEST_LOG_CHILD"

// failingStore is a table that cannot take the new user, which turns a create into a 500 (an
// identity provider that cannot invite no longer does: the invitation is owed in the outbox).
type failingStore struct{ people.Store }

func (failingStore) CreateUser(context.Context, access.User, access.Meta) error {
	return errors.New("table unavailable")
}

// TestFailingRequestIsLoggedWithIDsAndNoPersonalData runs a request that fails on our side in
// a child process that looks like Lambda (AWS_LAMBDA_FUNCTION_NAME, AWS_LAMBDA_LOG_FORMAT=JSON;
// the lambdacontext handler reads them when it is built and at start-up), with the logger the
// functions use, and reads the JSON it writes to stdout.
func TestFailingRequestIsLoggedWithIDsAndNoPersonalData(t *testing.T) {
	if os.Getenv(envLogChild) != "" {
		failCreateUser(t)
		return
	}
	stack := localstack.Shared(t)
	cmd := exec.Command(os.Args[0], "-test.run=^"+t.Name()+"$", "-test.count=1")
	cmd.Env = append(os.Environ(), envLogChild+"=1",
		"AWS_LAMBDA_FUNCTION_NAME=tilgang-users", "AWS_LAMBDA_LOG_FORMAT=JSON", "AWS_LAMBDA_LOG_LEVEL=",
		localstack.EnvTestDynamoEndpoint+"="+stack.DynamoEndpoint, localstack.EnvTestSQSEndpoint+"="+stack.SQSEndpoint)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("child: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}

	sample := readSample(t, "users-create.json")
	tenantID, ownerID, err := invoke.SampleCaller(repoRoot(t))
	if err != nil {
		t.Fatal(err)
	}
	var body map[string]any
	if err := json.Unmarshal([]byte(sample.Body), &body); err != nil {
		t.Fatal(err)
	}
	var records []map[string]any
	sc := bufio.NewScanner(&stdout)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "{") {
			continue // the test framework's own output
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("a log line that is not JSON: %q", line)
		}
		records = append(records, rec)
		for _, personal := range []string{body["name"].(string), body["email"].(string)} {
			if strings.Contains(line, personal) {
				t.Errorf("the log carries personal data %q: %s", personal, line)
			}
		}
	}
	var failed map[string]any
	for _, r := range records {
		if r["message"] == "request failed" {
			failed = r
		}
	}
	if failed == nil {
		t.Fatalf("no \"request failed\" record in:\n%s", stdout.String())
	}
	want := map[string]string{"level": "ERROR", "apiRequestId": sample.RequestContext.RequestID,
		"tenantId": tenantID, "userId": ownerID, "route": sample.RouteKey}
	for k, v := range want {
		if failed[k] != v {
			t.Errorf("%s = %v, want %q in %v", k, failed[k], v, failed)
		}
	}
	if id, _ := failed["requestId"].(string); !strings.HasPrefix(id, "req_") {
		t.Errorf("requestId (the Lambda invocation's) = %v in %v", failed["requestId"], failed)
	}
	if failed["timestamp"] == nil {
		t.Errorf("no timestamp in %v", failed)
	}
}

// failCreateUser is the child's part: the sample create of events/users-create.json with an
// table that fails, through the App's default (production) logger.
func failCreateUser(t *testing.T) {
	ctx := context.Background()
	a := newApp(t, nil)
	if err := invoke.Seed(ctx, a, repoRoot(t)); err != nil {
		t.Fatal(err)
	}
	a.People.Store = failingStore{a.People.Store}
	payload, err := os.ReadFile(filepath.Join(invoke.EventsDir(repoRoot(t)), "users-create.json"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := invoke.Run(ctx, a, routes.FnUsers, payload)
	if err != nil {
		t.Fatal(err)
	}
	var res events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(out, &res); err != nil || res.StatusCode != 500 {
		t.Fatalf("want a 500, got %s (%v)", out, err)
	}
}

func readSample(t *testing.T, name string) events.APIGatewayV2HTTPRequest {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(invoke.EventsDir(repoRoot(t)), name))
	if err != nil {
		t.Fatal(err)
	}
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatal(err)
	}
	return ev
}
