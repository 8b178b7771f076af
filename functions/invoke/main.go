// Command invoke runs one function's real Lambda handler on a sample event against the local
// stack and prints the handler's JSON result; logs go to stderr. Never deployed (the Makefile
// leaves it out of the Lambda builds).
//
//	go run ./functions/invoke [-fn users] [-seed=false] events/users-list.json
//
// It uses the servers of a running `make run` when they answer on DYNAMODB_PORT and SQS_PORT
// (8000 and 9324), and otherwise starts its own on free ports over the dev server's data in
// .local/, so what it writes is what `make run` shows next time. Before the call it creates the
// tenant, users, group and client the samples name, unless they exist or -seed=false.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/tilgang/tilgang/shared/app"
	"github.com/tilgang/tilgang/shared/config"
	"github.com/tilgang/tilgang/shared/invoke"
	"github.com/tilgang/tilgang/shared/localstack"
)

func main() {
	fn := flag.String("fn", "", "function to invoke; empty: the one the event is for")
	seed := flag.Bool("seed", true, "create the records the samples in events/ name, when missing")
	flag.Usage = func() {
		fmt.Fprintf(os.Stderr, "usage: go run ./functions/invoke [-fn function] [-seed=false] events/<file>.json\nfunctions: %v\n", invoke.Functions())
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *fn, flag.Arg(0), *seed); err != nil {
		fmt.Fprintln(os.Stderr, "invoke:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, fn, eventFile string, seed bool) error {
	payload, err := os.ReadFile(eventFile)
	if err != nil {
		return err
	}
	target, err := invoke.FunctionFor(payload)
	if err != nil {
		return fmt.Errorf("%s: %w", eventFile, err)
	}
	if fn != "" && fn != target {
		return fmt.Errorf("%s is an event for function %s, not %s", eventFile, target, fn)
	}

	root, err := localstack.RepoRoot()
	if err != nil {
		return err
	}
	stack, err := localstack.Start(ctx, stackOptions(root))
	if err != nil {
		return err
	}
	defer stack.Close()
	// The names the dev server uses, so both see the same data.
	const table, queuePrefix = "tilgang", "tilgang-"
	if err := localstack.EnsureTable(ctx, stack.DynamoClient(), table); err != nil {
		return err
	}
	queues, err := localstack.EnsureQueues(ctx, stack.SQSClient(), queuePrefix)
	if err != nil {
		return err
	}
	a, err := app.New(ctx, config.Config{Region: localstack.Region, TableName: table, JobsQueueURL: queues.JobsURL,
		JobsDLQARN: queues.JobsDLQARN, JobsArchiveQueueURL: queues.JobsArchiveURL, EventsQueueURL: queues.EventsURL,
		DynamoEndpoint: stack.DynamoEndpoint, SQSEndpoint: stack.SQSEndpoint,
		NotificationRetentionDays: 30})
	if err != nil {
		return err
	}
	if seed {
		if err := invoke.Seed(ctx, a, root); err != nil {
			return fmt.Errorf("seed the samples' records: %w", err)
		}
	}
	out, err := invoke.Run(ctx, a, target, payload)
	if err != nil {
		return fmt.Errorf("%s returned an error: %w", target, err)
	}
	var pretty bytes.Buffer
	if json.Indent(&pretty, out, "", "  ") != nil {
		pretty.Reset()
		pretty.Write(out)
	}
	fmt.Println(pretty.String())
	return nil
}

// stackOptions reuses the servers of a running `make run`, or starts new ones on free ports over
// the dev server's data (one dynoxide per data file at a time).
func stackOptions(root string) localstack.Options {
	dynamo := "127.0.0.1:" + envPort("DYNAMODB_PORT", 8000)
	sqs := "127.0.0.1:" + envPort("SQS_PORT", 9324)
	if answers(dynamo) && answers(sqs) {
		fmt.Fprintf(os.Stderr, "invoke: using the running local stack (DynamoDB %s, SQS %s)\n", dynamo, sqs)
		return localstack.Options{DynamoEndpoint: "http://" + dynamo, SQSEndpoint: "http://" + sqs}
	}
	return localstack.Options{Dir: root, DataDir: filepath.Join(root, ".local")}
}

func answers(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, 300*time.Millisecond)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

func envPort(k string, def int) string {
	if v := os.Getenv(k); v != "" {
		if _, err := strconv.Atoi(v); err == nil {
			return v
		}
	}
	return strconv.Itoa(def)
}
