// Package tracing connects the functions to AWS X-Ray. With active tracing Lambda starts a
// trace for each invocation and hands its header (Root=1-…;Parent=…;Sampled=1) to the handler's
// context; this package makes that the parent of OpenTelemetry spans, which otelaws opens around
// every AWS SDK call, and sends finished spans to the X-Ray daemon endpoint Lambda runs beside
// the function (AWS_XRAY_DAEMON_ADDRESS, UDP) as subsegments. No collector, no layer.
//
// It also puts the trace id on every log line written with the invocation's context
// (LogHandler), and makes trace headers for the dev server, which has no Lambda to make them.
package tracing

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"go.opentelemetry.io/contrib/instrumentation/github.com/aws/aws-sdk-go-v2/otelaws"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// contextKey is the key aws-lambda-go stores the invocation's trace header under
// (lambda/invoke_loop.go: context.WithValue(ctx, "x-amzn-trace-id", traceID)).
const contextKey = "x-amzn-trace-id"

// Header is a parsed X-Ray trace header.
type Header struct {
	// Root is the trace id, "1-<8 hex seconds>-<24 hex>".
	Root string
	// Parent is the id of the segment that called this one (Lambda's function segment).
	Parent  string
	Sampled bool
}

// String renders the header as Lambda and API Gateway send it.
func (h Header) String() string {
	s := "Root=" + h.Root
	if h.Parent != "" {
		s += ";Parent=" + h.Parent
	}
	if h.Sampled {
		return s + ";Sampled=1"
	}
	return s + ";Sampled=0"
}

// ParseHeader reads "Root=…;Parent=…;Sampled=…"; ok is false without a valid Root.
func ParseHeader(s string) (h Header, ok bool) {
	for _, part := range strings.Split(s, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "Root":
			h.Root = v
		case "Parent":
			h.Parent = v
		case "Sampled":
			h.Sampled = v == "1"
		}
	}
	_, ok = otelTraceID(h.Root)
	return h, ok
}

// FromContext returns the invocation's trace header, if Lambda (or the dev server) set one.
func FromContext(ctx context.Context) (Header, bool) {
	s, _ := ctx.Value(contextKey).(string) //nolint:staticcheck // aws-lambda-go's key is this string
	if s == "" {
		return Header{}, false
	}
	return ParseHeader(s)
}

// TraceID returns the X-Ray trace id of ctx's invocation, or "".
func TraceID(ctx context.Context) string {
	if h, ok := FromContext(ctx); ok {
		return h.Root
	}
	return ""
}

// WithHeader returns ctx carrying h as the invocation's trace header, the way aws-lambda-go
// does; the dev server uses it.
func WithHeader(ctx context.Context, h Header) context.Context {
	return context.WithValue(ctx, contextKey, h.String()) //nolint:staticcheck // aws-lambda-go's key is this string
}

// NewHeader makes a trace header for a new, unsampled trace (the dev server has no daemon).
func NewHeader(now time.Time) Header {
	var b [20]byte
	_, _ = rand.Read(b[:])
	return Header{Root: fmt.Sprintf("1-%08x-%s", now.Unix(), hex.EncodeToString(b[:12])), Parent: hex.EncodeToString(b[12:])}
}

// otelTraceID turns an X-Ray trace id (1-5759e988-bd862e3fe1be46a994272793) into OpenTelemetry's.
func otelTraceID(root string) (trace.TraceID, bool) {
	var id trace.TraceID
	parts := strings.Split(root, "-")
	if len(parts) != 3 || parts[0] != "1" || len(parts[1]) != 8 || len(parts[2]) != 24 {
		return id, false
	}
	b, err := hex.DecodeString(parts[1] + parts[2])
	if err != nil {
		return id, false
	}
	copy(id[:], b)
	return id, true
}

// xrayTraceID is the inverse of otelTraceID.
func xrayTraceID(id trace.TraceID) string {
	s := id.String()
	return "1-" + s[:8] + "-" + s[8:]
}

// Tracer opens spans under each invocation's Lambda segment and sends them to X-Ray.
type Tracer struct {
	provider *sdktrace.TracerProvider
}

// New returns a Tracer sending to the X-Ray daemon at addr (AWS_XRAY_DAEMON_ADDRESS, which
// Lambda sets when active tracing is on). Spans are recorded only when Lambda sampled the
// invocation, and sent as each one ends (one small UDP datagram to a local endpoint).
func New(addr string) (*Tracer, error) {
	exp, err := newExporter(addr)
	if err != nil {
		return nil, err
	}
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.NeverSample())),
		sdktrace.WithSpanProcessor(sdktrace.NewSimpleSpanProcessor(exp)),
	)
	return &Tracer{provider: tp}, nil
}

// Instrument adds otelaws's middleware to every client built from cfg: each AWS SDK call
// becomes a span under the invocation (DynamoDB, SQS, EventBridge, Cognito).
func (t *Tracer) Instrument(cfg *aws.Config) {
	otelaws.AppendMiddlewares(&cfg.APIOptions, otelaws.WithTracerProvider(t.provider))
}

// Start makes the invocation's Lambda segment the parent of the spans opened with ctx.
func Start(ctx context.Context) context.Context {
	h, ok := FromContext(ctx)
	if !ok {
		return ctx
	}
	traceID, _ := otelTraceID(h.Root)
	var spanID trace.SpanID
	if b, err := hex.DecodeString(h.Parent); err == nil && len(b) == len(spanID) {
		copy(spanID[:], b)
	} else {
		return ctx
	}
	flags := trace.TraceFlags(0)
	if h.Sampled {
		flags = trace.FlagsSampled
	}
	sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: traceID, SpanID: spanID, TraceFlags: flags, Remote: true})
	return trace.ContextWithRemoteSpanContext(ctx, sc)
}

// Handler wraps a Lambda handler so that each invocation's spans hang under its segment.
func Handler[E, R any](h func(context.Context, E) (R, error)) func(context.Context, E) (R, error) {
	return func(ctx context.Context, ev E) (R, error) { return h(Start(ctx), ev) }
}

// TraceHeader returns ctx's trace header as sent on the wire, or "".
func TraceHeader(ctx context.Context) string {
	if h, ok := FromContext(ctx); ok {
		return h.String()
	}
	return ""
}
