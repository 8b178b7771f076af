// Package localstack runs the local stand-ins for AWS that the dev server and the tests use:
// dynoxide for DynamoDB and local-aws-sqs for SQS, both real servers installed by `make tools`
// under .tools/. It starts them as child processes, builds SDK clients for them, creates the
// table and the queues, and offers test helpers (Main, Table, Queues) and a DynamoDB call counter.
package localstack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// Region is the region the local clients sign for; the servers accept any.
const Region = "eu-north-1"

// Options configure Start.
type Options struct {
	// Dir is the repository root or the .tools folder itself; empty means the repository root
	// found by walking up from the working directory to go.mod.
	Dir string
	// DataDir keeps dynoxide's SQLite file (dynoxide.sqlite) so data survives a restart; empty
	// means an in-memory database that disappears with the process. local-aws-sqs always keeps
	// its queues in memory.
	DataDir string
	// DynamoPort and SQSPort are the ports to listen on (127.0.0.1); 0 picks a free port.
	DynamoPort, SQSPort int
	// DynamoEndpoint and SQSEndpoint, when set, name servers that are already running: Start
	// checks that they answer and does not start its own.
	DynamoEndpoint, SQSEndpoint string
	// Log receives the servers' output; nil discards it (the last lines are kept for errors).
	Log io.Writer
}

// Stack is a running pair of local servers.
type Stack struct {
	// DynamoEndpoint and SQSEndpoint are the servers' base URLs, e.g. http://127.0.0.1:8000.
	DynamoEndpoint string
	SQSEndpoint    string

	procs []*proc
}

// Start starts dynoxide and local-aws-sqs and returns once both answer HTTP requests. Close the
// Stack to stop them; they are also killed if this process dies.
func Start(ctx context.Context, o Options) (*Stack, error) {
	s := &Stack{DynamoEndpoint: o.DynamoEndpoint, SQSEndpoint: o.SQSEndpoint}
	ok := false
	defer func() {
		if !ok {
			s.Close()
		}
	}()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()

	var tools string
	if s.DynamoEndpoint == "" || s.SQSEndpoint == "" {
		var err error
		if tools, err = toolsDir(o.Dir); err != nil {
			return nil, err
		}
	}

	if s.DynamoEndpoint == "" {
		bin := filepath.Join(tools, "node_modules", "@dynoxide", "linux-x64", "dynoxide")
		args := func(port int) []string {
			a := []string{"serve", "--host", "127.0.0.1", "--port", strconv.Itoa(port)}
			if o.DataDir != "" {
				a = append(a, "--db-path", filepath.Join(o.DataDir, "dynoxide.sqlite"))
			}
			return a
		}
		if o.DataDir != "" {
			if err := os.MkdirAll(o.DataDir, 0o700); err != nil {
				return nil, fmt.Errorf("localstack: data dir: %w", err)
			}
		}
		p, endpoint, err := startServer(ctx, "dynoxide", o.DynamoPort, o.Log, func(port int) (string, []string) {
			return bin, args(port)
		})
		if err != nil {
			return nil, err
		}
		s.procs = append(s.procs, p)
		s.DynamoEndpoint = endpoint
	} else if err := waitHTTP(ctx, s.DynamoEndpoint, nil); err != nil {
		return nil, fmt.Errorf("localstack: DynamoDB at %s: %w", s.DynamoEndpoint, err)
	}

	if s.SQSEndpoint == "" {
		node, err := exec.LookPath("node")
		if err != nil {
			return nil, fmt.Errorf("localstack: node is needed to run local-aws-sqs: %w", err)
		}
		script := filepath.Join(tools, "sqs-server.js")
		p, endpoint, err := startServer(ctx, "local-aws-sqs", o.SQSPort, o.Log, func(port int) (string, []string) {
			return node, []string{script, strconv.Itoa(port)}
		})
		if err != nil {
			return nil, err
		}
		s.procs = append(s.procs, p)
		s.SQSEndpoint = endpoint
	} else if err := waitHTTP(ctx, s.SQSEndpoint, nil); err != nil {
		return nil, fmt.Errorf("localstack: SQS at %s: %w", s.SQSEndpoint, err)
	}

	ok = true
	return s, nil
}

// startServer starts one server and waits until it answers. With port 0 it picks a free port
// and retries with another one if a racing process took it first.
func startServer(ctx context.Context, name string, port int, log io.Writer, command func(port int) (string, []string)) (*proc, string, error) {
	attempts := 1
	if port == 0 {
		attempts = 3
	}
	var lastErr error
	for range attempts {
		p := port
		if p == 0 {
			var err error
			if p, err = freePort(); err != nil {
				return nil, "", fmt.Errorf("localstack: %s: %w", name, err)
			}
		}
		bin, args := command(p)
		pr, err := startProc(name, log, bin, args...)
		if err != nil {
			return nil, "", fmt.Errorf("localstack: start %s: %w", name, err)
		}
		endpoint := "http://127.0.0.1:" + strconv.Itoa(p)
		if err := waitHTTP(ctx, endpoint, pr.done); err != nil {
			pr.stop()
			lastErr = fmt.Errorf("localstack: %s on port %d did not start: %w\n%s", name, p, err, pr.output())
			continue
		}
		return pr, endpoint, nil
	}
	return nil, "", lastErr
}

// Close stops the servers this Stack started (never ones it was only pointed at).
func (s *Stack) Close() error {
	if s == nil {
		return nil
	}
	for _, p := range s.procs {
		p.stop()
	}
	s.procs = nil
	return nil
}

// AWSConfig is an SDK configuration with static "local" credentials, so requests are signed
// (dynoxide rejects unsigned ones) and nothing reads the environment or ~/.aws.
func AWSConfig() aws.Config {
	return aws.Config{
		Region:      Region,
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", ""),
	}
}

// DynamoClient returns a DynamoDB client for the local server; optFns can add middleware such
// as CallCounter.Option.
func (s *Stack) DynamoClient(optFns ...func(*dynamodb.Options)) *dynamodb.Client {
	return dynamodb.NewFromConfig(AWSConfig(), append([]func(*dynamodb.Options){func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String(s.DynamoEndpoint)
	}}, optFns...)...)
}

// SQSClient returns an SQS client for the local server.
func (s *Stack) SQSClient(optFns ...func(*sqs.Options)) *sqs.Client {
	return sqs.NewFromConfig(AWSConfig(), append([]func(*sqs.Options){func(o *sqs.Options) {
		o.BaseEndpoint = aws.String(s.SQSEndpoint)
	}}, optFns...)...)
}

// RepoRoot walks up from the working directory to the folder holding go.mod.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("localstack: no go.mod found above the working directory")
		}
		dir = parent
	}
}

// toolsDir finds the .tools folder and checks that `make tools` has installed it.
func toolsDir(dir string) (string, error) {
	if dir == "" {
		root, err := RepoRoot()
		if err != nil {
			return "", err
		}
		dir = root
	}
	tools := dir
	if _, err := os.Stat(filepath.Join(dir, ".tools")); err == nil {
		tools = filepath.Join(dir, ".tools")
	}
	if _, err := os.Stat(filepath.Join(tools, "node_modules", "@dynoxide", "linux-x64", "dynoxide")); err != nil {
		return "", fmt.Errorf("localstack: %s/node_modules is missing or incomplete: run `make tools` (npm ci in .tools)", tools)
	}
	return tools, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// waitHTTP polls endpoint until it answers any HTTP response, the context ends, or exited is
// closed (the server process died).
func waitHTTP(ctx context.Context, endpoint string, exited <-chan struct{}) error {
	client := &http.Client{Timeout: time.Second}
	tick := time.NewTicker(15 * time.Millisecond)
	defer tick.Stop()
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint, nil)
		if err != nil {
			return err
		}
		// Any answer will do; until then a refused or reset connection means "not yet".
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("no answer from %s: %w", endpoint, ctx.Err())
		case <-exited:
			return errors.New("the process exited")
		case <-tick.C:
		}
	}
}
