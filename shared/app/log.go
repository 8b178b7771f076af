package app

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/tilgang/tilgang/shared/tracing"
)

// NewLogger returns the functions' logger. In Lambda it is aws-lambda-go's lambdacontext
// handler: JSON on stdout (the stack sets the functions' log format to JSON, which sets
// AWS_LAMBDA_LOG_FORMAT), with the invocation's requestId on every record logged with the
// handler's context; callers add tenantId and userId, and never names, emails or phones.
// Elsewhere (dev server, make invoke, tests) it writes the same JSON shape, requestId included,
// to stderr, so that stdout stays free for results.
//
// Every record logged with an invocation's context also carries its X-Ray traceId. EMF metric
// records (shared/metrics) are lines of this logger too.
func NewLogger() *slog.Logger {
	if os.Getenv("AWS_LAMBDA_FUNCTION_NAME") != "" {
		return slog.New(tracing.LogHandler(lambdacontext.NewLogHandler()))
	}
	json := slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{ReplaceAttr: lambdacontext.ReplaceAttr})
	return slog.New(tracing.LogHandler(requestIDHandler{json}))
}

// requestIDHandler adds the Lambda request id, as the lambdacontext handler does in Lambda.
type requestIDHandler struct{ slog.Handler }

func (h requestIDHandler) Handle(ctx context.Context, r slog.Record) error {
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		r.AddAttrs(slog.String("requestId", lc.AwsRequestID))
	}
	return h.Handler.Handle(ctx, r)
}

func (h requestIDHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return requestIDHandler{h.Handler.WithAttrs(attrs)}
}

func (h requestIDHandler) WithGroup(name string) slog.Handler {
	return requestIDHandler{h.Handler.WithGroup(name)}
}
