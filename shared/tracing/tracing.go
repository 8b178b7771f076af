// Package tracing connects the functions to AWS X-Ray. With active tracing Lambda starts a
// trace for each invocation and hands its header (Root=1-…;Parent=…;Sampled=1) to the handler's
// context; a middleware on every AWS SDK client (Tracer.Instrument) times each call made under
// a sampled invocation and sends it, as a subsegment of Lambda's function segment, to the X-Ray
// daemon endpoint Lambda runs beside the function (AWS_XRAY_DAEMON_ADDRESS, UDP). No collector,
// no layer, no tracing SDK.
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
	return h, validRoot(h.Root)
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

// validRoot tells whether root is an X-Ray trace id: 1-<8 hex digits>-<24 hex digits>.
func validRoot(root string) bool {
	parts := strings.Split(root, "-")
	if len(parts) != 3 || parts[0] != "1" || len(parts[1]) != 8 || len(parts[2]) != 24 {
		return false
	}
	_, err := hex.DecodeString(parts[1] + parts[2])
	return err == nil
}

// TraceHeader returns ctx's trace header as sent on the wire, or "".
func TraceHeader(ctx context.Context) string {
	if h, ok := FromContext(ctx); ok {
		return h.String()
	}
	return ""
}
