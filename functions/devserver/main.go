// Command devserver runs Tilgang on one machine without AWS: the local stack, every API
// function behind one HTTP address, the queue workers and the scheduled jobs. Never deployed.
//
//	go run ./functions/devserver [-addr 127.0.0.1:8080] [-dynamodb-port 8000] [-sqs-port 9324] [-data .local]
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"syscall"

	"github.com/tilgang/tilgang/shared/app"
	"github.com/tilgang/tilgang/shared/devserver"
	"github.com/tilgang/tilgang/shared/localstack"
)

func main() {
	addr := flag.String("addr", env("DEVSERVER_ADDR", "127.0.0.1:8080"), "HTTP address (env DEVSERVER_ADDR)")
	dynamoPort := flag.Int("dynamodb-port", envInt("DYNAMODB_PORT", 8000), "dynoxide port, 0 = any free port (env DYNAMODB_PORT)")
	sqsPort := flag.Int("sqs-port", envInt("SQS_PORT", 9324), "local-aws-sqs port, 0 = any free port (env SQS_PORT)")
	data := flag.String("data", env("DEVSERVER_DATA", ""), "data folder (default <repo>/.local; env DEVSERVER_DATA)")
	flag.Parse()

	// JSON, like the functions in Lambda: one line per request, EMF metric records, and the
	// local servers' and workers' lines, each with the trace id of what it belongs to.
	log := app.NewLogger()
	slog.SetDefault(log)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	err := devserver.Run(ctx, devserver.Options{
		Addr:   *addr,
		Stack:  localstack.Options{DataDir: *data, DynamoPort: *dynamoPort, SQSPort: *sqsPort},
		NewApp: newApp,
		Log:    log,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "devserver:", err)
		os.Exit(1)
	}
}

func env(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func envInt(k string, def int) int {
	n, err := strconv.Atoi(env(k, strconv.Itoa(def)))
	if err != nil {
		fmt.Fprintf(os.Stderr, "devserver: %s must be a number\n", k)
		os.Exit(2)
	}
	return n
}
