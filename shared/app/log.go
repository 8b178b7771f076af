package app

import (
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambdacontext"
)

// NewLogger returns the functions' logger. In Lambda it is aws-lambda-go's lambdacontext
// handler: JSON on stdout (the stack sets the functions' log format to JSON, which sets
// AWS_LAMBDA_LOG_FORMAT), with the invocation's requestId on every record logged with the
// handler's context; callers add tenantId and userId, and never names, emails or phones.
// Elsewhere (dev server, make invoke, tests) it writes the same JSON shape to stderr, so that
// stdout stays free for results.
func NewLogger() *slog.Logger {
	if os.Getenv("AWS_LAMBDA_FUNCTION_NAME") != "" {
		return lambdacontext.NewLogger()
	}
	return slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{ReplaceAttr: lambdacontext.ReplaceAttr}))
}
