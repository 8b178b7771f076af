package localstack

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/tilgang/tilgang/shared/iam"
)

// Environment variables that point tests at servers that are already running (for example a
// `make run` in another terminal) instead of starting a stack per test package.
const (
	EnvTestDynamoEndpoint = "TILGANG_TEST_DYNAMODB_ENDPOINT"
	EnvTestSQSEndpoint    = "TILGANG_TEST_SQS_ENDPOINT"
)

// The one stack of this test binary (one test binary = one package), started by Main or by the
// first helper that needs it.
var (
	shared struct {
		once  sync.Once
		stack *Stack
		err   error
	}
	pkgTable struct {
		once   sync.Once
		client *dynamodb.Client
		name   string
		err    error
	}
)

// Main runs a package's tests against a fresh, in-memory local stack and stops it afterwards.
// Then it checks the AWS calls the functions' handlers made (RecordCalls) against their IAM
// grants, and fails the run when a grant does not allow one.
// Call it from TestMain:
//
//	func TestMain(m *testing.M) { localstack.Main(m) }
func Main(m *testing.M) {
	if _, err := sharedStack(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	shared.stack.Close()
	if denied := calls.denied(iam.Grants); len(denied) > 0 {
		fmt.Fprintln(os.Stderr, "IAM: the tests made AWS calls the functions' grants (shared/iam) do not allow; in AWS they would be denied:")
		for _, d := range denied {
			fmt.Fprintln(os.Stderr, "  "+d)
		}
		code = max(code, 1)
	}
	// go test shows this only with -v or for a failed package.
	for _, u := range calls.unexercised(iam.Grants) {
		fmt.Println("IAM: granted, but needed by no call of this package's tests:", u)
	}
	os.Exit(code)
}

func sharedStack() (*Stack, error) {
	shared.once.Do(func() {
		shared.stack, shared.err = Start(context.Background(), Options{
			DynamoEndpoint: os.Getenv(EnvTestDynamoEndpoint),
			SQSEndpoint:    os.Getenv(EnvTestSQSEndpoint),
		})
	})
	return shared.stack, shared.err
}

// Shared returns the test binary's stack, starting it if Main has not. Without Main the servers
// are not stopped gracefully, only killed when the test binary exits.
func Shared(t testing.TB) *Stack {
	t.Helper()
	s, err := sharedStack()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Table returns a client and a table for the calling test package: fresh (uniquely named) for
// this test binary and shared by all its tests, so tests must not assume an empty table.
func Table(t testing.TB) (*dynamodb.Client, string) {
	t.Helper()
	s := Shared(t)
	pkgTable.once.Do(func() {
		pkgTable.client = s.DynamoClient()
		pkgTable.name = uniqueName(packageName())
		pkgTable.err = EnsureTable(context.Background(), pkgTable.client, pkgTable.name)
	})
	if pkgTable.err != nil {
		t.Fatal(pkgTable.err)
	}
	return pkgTable.client, pkgTable.name
}

// NewTable creates a new, empty table for the calling test and deletes it when the test ends.
func NewTable(t testing.TB) (*dynamodb.Client, string) {
	t.Helper()
	client := Shared(t).DynamoClient()
	name := uniqueName(packageName() + "-" + t.Name())
	if err := EnsureTable(t.Context(), client, name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = client.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(name)})
	})
	return client, name
}

// Queues creates a fresh set of queues (jobs with its DLQ, events) for the calling test and
// deletes them when the test ends; queues are cheap, and sharing them would let one test's
// messages reach another.
func Queues(t testing.TB) (*sqs.Client, QueueURLs) {
	t.Helper()
	client := Shared(t).SQSClient()
	q, err := EnsureQueues(t.Context(), client, uniqueName(packageName()+"-"+t.Name())+"-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, u := range []string{q.JobsURL, q.JobsDLQURL, q.JobsArchiveURL, q.EventsURL} {
			_, _ = client.DeleteQueue(context.Background(), &sqs.DeleteQueueInput{QueueUrl: aws.String(u)})
		}
	})
	return client, q
}

// packageName guesses the test package from the test binary's name (access.test → access).
func packageName() string {
	return strings.TrimSuffix(filepath.Base(os.Args[0]), ".test")
}

var unsafeChars = regexp.MustCompile(`[^a-zA-Z0-9_-]+`)

// uniqueName makes a table or queue name (letters, digits, - and _; at most 80 characters,
// SQS's limit, leaving room for "-jobs-dlq") that no other test run uses.
func uniqueName(base string) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	base = unsafeChars.ReplaceAllString(base, "-")
	if len(base) > 50 {
		base = base[:50]
	}
	return "t-" + base + "-" + hex.EncodeToString(b)
}
