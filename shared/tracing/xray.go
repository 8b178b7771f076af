package tracing

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// daemonHeader precedes every segment document sent to the X-Ray daemon.
const daemonHeader = "{\"format\": \"json\", \"version\": 1}\n"

// Tracer sends a subsegment for every AWS SDK call made under a sampled invocation to the X-Ray
// daemon. It is a small middleware rather than OpenTelemetry (otelaws and the OTel SDK, which
// did this before): those cost every function about 1 MB, an eighth of its size budget (see
// README, "Tracing").
type Tracer struct {
	mu   sync.Mutex
	conn net.Conn
	now  func() time.Time
}

// New returns a Tracer sending to the X-Ray daemon at addr (AWS_XRAY_DAEMON_ADDRESS, which
// Lambda sets when active tracing is on): "host:port", or "tcp:host:port udp:host:port". Calls
// are recorded only when Lambda sampled the invocation, and each is sent as it ends (one small
// UDP datagram to a local endpoint).
func New(addr string) (*Tracer, error) {
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
	return &Tracer{conn: conn, now: time.Now}, nil
}

// Instrument adds the middleware to every client built from cfg: each AWS SDK call (DynamoDB,
// SQS, EventBridge, Cognito) becomes a subsegment of the invocation.
func (t *Tracer) Instrument(cfg *aws.Config) {
	cfg.APIOptions = append(cfg.APIOptions, func(stack *middleware.Stack) error {
		// After the client's own initialize steps, which name the service and the operation; one
		// subsegment per call, retries included, as the X-Ray SDKs record them.
		return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("XRaySubsegment", t.handle), middleware.After)
	})
}

// handle times one SDK call and sends its subsegment when the invocation is sampled.
func (t *Tracer) handle(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (
	middleware.InitializeOutput, middleware.Metadata, error) {
	h, ok := FromContext(ctx)
	if !ok || !h.Sampled || len(h.Parent) != 16 {
		return next.HandleInitialize(ctx, in)
	}
	start := t.now()
	out, meta, err := next.HandleInitialize(ctx, in)
	c := Call{Service: awsmiddleware.GetServiceID(ctx), Operation: awsmiddleware.GetOperationName(ctx),
		Region: awsmiddleware.GetRegion(ctx), Table: tableName(in.Parameters), Start: start, End: t.now(), Err: err}
	c.RequestID, _ = awsmiddleware.GetRequestIDMetadata(meta)
	if res, ok := awsmiddleware.GetRawResponse(meta).(*smithyhttp.Response); ok {
		c.Status = res.StatusCode
	}
	var withStatus interface{ HTTPStatusCode() int }
	if c.Status == 0 && errors.As(err, &withStatus) {
		c.Status = withStatus.HTTPStatusCode()
	}
	t.send(Subsegment(h, newID(), c))
	return out, meta, err
}

// tableName is the table of a DynamoDB call on one table, as the X-Ray SDKs record it.
func tableName(params any) string {
	var name *string
	switch v := params.(type) {
	case *dynamodb.GetItemInput:
		name = v.TableName
	case *dynamodb.PutItemInput:
		name = v.TableName
	case *dynamodb.UpdateItemInput:
		name = v.TableName
	case *dynamodb.DeleteItemInput:
		name = v.TableName
	case *dynamodb.QueryInput:
		name = v.TableName
	case *dynamodb.ScanInput:
		name = v.TableName
	case *dynamodb.BatchGetItemInput:
		return onlyKey(v.RequestItems)
	case *dynamodb.BatchWriteItemInput:
		return onlyKey(v.RequestItems)
	}
	return aws.ToString(name)
}

func onlyKey[V any](m map[string]V) string {
	if len(m) != 1 {
		return ""
	}
	for k := range m {
		return k
	}
	return ""
}

// send writes one datagram. UDP to a local endpoint: a lost subsegment is a gap in a trace,
// never a failed request, so errors are dropped.
func (t *Tracer) send(doc any) {
	b, err := json.Marshal(doc)
	if err != nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	_, _ = t.conn.Write(append([]byte(daemonHeader), b...))
}

// Close closes the connection to the daemon.
func (t *Tracer) Close() error { return t.conn.Close() }

// newID is a subsegment id: 16 hex digits.
func newID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Call is one finished AWS SDK call.
type Call struct {
	Service, Operation, Region string
	// Table is the DynamoDB table of a call on one table.
	Table      string
	RequestID  string
	Status     int // HTTP status of the last attempt; 0 when none arrived
	Start, End time.Time
	Err        error
}

// subsegment is the part of the X-Ray segment document Tilgang's subsegments fill.
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
		Status int `json:"status"`
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

// Subsegment renders a call as an X-Ray subsegment document of the invocation's segment (h's
// Parent), named and described as the X-Ray SDKs do, so that the service map shows DynamoDB,
// SQS, Cognito and EventBridge nodes: 429 is a throttle (and an error), other 4xx an error, 5xx
// or a call that got no answer a fault.
func Subsegment(h Header, id string, c Call) any {
	doc := subsegment{
		Name: c.Service, ID: id, TraceID: h.Root, ParentID: h.Parent,
		StartTime: float64(c.Start.UnixNano()) / 1e9, EndTime: float64(c.End.UnixNano()) / 1e9,
		Type: "subsegment", Namespace: "aws",
		AWS: &awsInfo{Operation: c.Operation, Region: c.Region, RequestID: c.RequestID, TableName: c.Table},
	}
	if c.Status != 0 {
		doc.HTTP = &httpInfo{}
		doc.HTTP.Response.Status = c.Status
		switch {
		case c.Status == 429:
			doc.Error, doc.Throttle = true, true
		case c.Status >= 500:
			doc.Fault = true
		case c.Status >= 400:
			doc.Error = true
		}
	}
	if c.Err != nil {
		if !doc.Error && !doc.Fault {
			doc.Fault = true
		}
		doc.Metadata = &spanMetadata{Default: map[string]string{"error_type": errorType(c.Err)}}
	}
	return doc
}

// errorType names an error without its message, which may quote a key, and a key may hold an
// email: the service's error code (ConditionalCheckFailedException, ...), or the Go type of what
// went wrong below the SDK's operation error (*retry.MaxAttemptsError, *net.OpError, ...).
func errorType(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	var op *smithy.OperationError
	if errors.As(err, &op) && op.Err != nil {
		err = op.Err
	}
	return fmt.Sprintf("%T", err)
}
