package tracing

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// daemonHeader precedes every segment document sent to the X-Ray daemon.
const daemonHeader = "{\"format\": \"json\", \"version\": 1}\n"

// exporter sends finished spans to the X-Ray daemon as subsegments of their parent (the Lambda
// function segment, or another span). It implements sdktrace.SpanExporter.
type exporter struct {
	mu   sync.Mutex
	conn net.Conn
}

// newExporter dials the daemon's UDP address: "host:port", or "tcp:host:port udp:host:port"
// as AWS_XRAY_DAEMON_ADDRESS may also say.
func newExporter(addr string) (*exporter, error) {
	for _, f := range strings.Fields(addr) {
		if rest, ok := strings.CutPrefix(f, "udp:"); ok {
			addr = rest
		}
	}
	if addr == "" {
		return nil, errors.New("tracing: no X-Ray daemon address")
	}
	conn, err := net.Dial("udp", addr)
	if err != nil {
		return nil, fmt.Errorf("tracing: X-Ray daemon %s: %w", addr, err)
	}
	return &exporter{conn: conn}, nil
}

// ExportSpans sends one datagram per span. UDP to a local endpoint: a lost segment is a gap in a
// trace, never a failed request, so errors are returned for the SDK's error handler only.
func (e *exporter) ExportSpans(_ context.Context, spans []sdktrace.ReadOnlySpan) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	var errs []error
	for _, s := range spans {
		doc, err := json.Marshal(Subsegment(s))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if _, err := e.conn.Write(append([]byte(daemonHeader), doc...)); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Shutdown closes the connection.
func (e *exporter) Shutdown(context.Context) error { return e.conn.Close() }

// subsegment is the part of the X-Ray segment document Tilgang's spans fill.
type subsegment struct {
	Name      string        `json:"name"`
	ID        string        `json:"id"`
	TraceID   string        `json:"trace_id"`
	ParentID  string        `json:"parent_id"`
	StartTime float64       `json:"start_time"`
	EndTime   float64       `json:"end_time"`
	Type      string        `json:"type"`
	Namespace string        `json:"namespace,omitempty"`
	Error     bool          `json:"error,omitempty"`
	Fault     bool          `json:"fault,omitempty"`
	Throttle  bool          `json:"throttle,omitempty"`
	HTTP      *httpInfo     `json:"http,omitempty"`
	AWS       *awsInfo      `json:"aws,omitempty"`
	Metadata  *spanMetadata `json:"metadata,omitempty"`
}

type httpInfo struct {
	Response struct {
		Status int64 `json:"status"`
	} `json:"response"`
}

type awsInfo struct {
	Operation string `json:"operation,omitempty"`
	Region    string `json:"region,omitempty"`
	RequestID string `json:"request_id,omitempty"`
	TableName string `json:"table_name,omitempty"`
}

type spanMetadata struct {
	Default map[string]string `json:"default"`
}

// Subsegment renders a span as an X-Ray subsegment document. otelaws names its spans
// "Service.Operation" and sets rpc.method to "Service/Operation"; those become the subsegment's
// name and aws.operation, as the X-Ray SDKs name theirs, so the service map shows DynamoDB, SQS,
// Cognito and EventBridge nodes.
func Subsegment(s sdktrace.ReadOnlySpan) any {
	sc := s.SpanContext()
	doc := subsegment{
		Name:      s.Name(),
		ID:        sc.SpanID().String(),
		TraceID:   xrayTraceID(sc.TraceID()),
		ParentID:  s.Parent().SpanID().String(),
		StartTime: float64(s.StartTime().UnixNano()) / 1e9,
		EndTime:   float64(s.EndTime().UnixNano()) / 1e9,
		Type:      "subsegment",
	}
	attrs := map[attribute.Key]attribute.Value{}
	for _, kv := range s.Attributes() {
		attrs[kv.Key] = kv.Value
	}
	service, operation, _ := strings.Cut(s.Name(), ".")
	if m, ok := attrs["rpc.method"]; ok {
		if svc, op, found := strings.Cut(m.AsString(), "/"); found {
			service, operation = svc, op
		}
	}
	if _, isAWS := attrs["aws.region"]; isAWS {
		doc.Name, doc.Namespace = service, "aws"
		doc.AWS = &awsInfo{Operation: operation, Region: attrs["aws.region"].AsString(), RequestID: attrs["aws.request_id"].AsString()}
		if tables := attrs["aws.dynamodb.table_names"].AsStringSlice(); len(tables) == 1 {
			doc.AWS.TableName = tables[0]
		}
	}
	if st, ok := attrs["http.response.status_code"]; ok {
		doc.HTTP = &httpInfo{}
		doc.HTTP.Response.Status = st.AsInt64()
		switch code := st.AsInt64(); {
		case code == 429:
			doc.Error, doc.Throttle = true, true
		case code >= 500:
			doc.Fault = true
		case code >= 400:
			doc.Error = true
		}
	}
	if s.Status().Code == codes.Error && !doc.Error && !doc.Fault {
		doc.Fault = true
	}
	if et, ok := attrs["error.type"]; ok {
		// The error's type only: its message may quote a key, which may hold an email.
		doc.Metadata = &spanMetadata{Default: map[string]string{"error_type": et.AsString()}}
	}
	return doc
}
