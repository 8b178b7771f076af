package tracing

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

const sample = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"

func TestParseHeader(t *testing.T) {
	h, ok := ParseHeader(sample)
	if !ok || h.Root != "1-5759e988-bd862e3fe1be46a994272793" || h.Parent != "53995c3f42cd8ad8" || !h.Sampled {
		t.Fatalf("ParseHeader = %+v, %v", h, ok)
	}
	if got := h.String(); got != sample {
		t.Errorf("String = %q, want %q", got, sample)
	}
	for _, bad := range []string{"", "Root=abc", "Parent=53995c3f42cd8ad8", "Root=1-zz59e988-bd862e3fe1be46a994272793"} {
		if _, ok := ParseHeader(bad); ok {
			t.Errorf("ParseHeader(%q) accepted", bad)
		}
	}
	n := NewHeader(time.Unix(0x5759e988, 0))
	if _, ok := ParseHeader(n.String()); !ok || !strings.HasPrefix(n.Root, "1-5759e988-") || n.Sampled {
		t.Errorf("NewHeader = %+v", n)
	}
}

func TestLogHandlerAddsTheTraceID(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(LogHandler(slog.NewJSONHandler(&buf, nil))).With("k", "v")
	log.InfoContext(WithHeader(context.Background(), Header{Root: "1-5759e988-bd862e3fe1be46a994272793"}), "hello")
	log.Info("no trace")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	var first, second map[string]any
	_ = json.Unmarshal([]byte(lines[0]), &first)
	_ = json.Unmarshal([]byte(lines[1]), &second)
	if first["traceId"] != "1-5759e988-bd862e3fe1be46a994272793" || first["k"] != "v" {
		t.Errorf("line = %v, want the trace id", first)
	}
	if _, ok := second["traceId"]; ok {
		t.Errorf("line without a trace = %v", second)
	}
}

// cannedTransport answers every request like DynamoDB answering GetItem with no item.
type cannedTransport struct{}

func (cannedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: 200, Request: r, Header: http.Header{
		"Content-Type": {"application/x-amz-json-1.0"}, "X-Amzn-Requestid": {"REQ123"},
	}, Body: io.NopCloser(strings.NewReader("{}"))}, nil
}

// TestSDKCallsBecomeSubsegments: with the tracer instrumenting the AWS config, a DynamoDB call
// made under a sampled Lambda invocation reaches the daemon address as a subsegment of the
// function's segment, named and described as the X-Ray SDKs do; unsampled, nothing is sent.
func TestSDKCallsBecomeSubsegments(t *testing.T) {
	daemon, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer daemon.Close()
	tracer, err := New("tcp:127.0.0.1:1 udp:" + daemon.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	cfg := aws.Config{Region: "eu-north-1", Credentials: credentials.NewStaticCredentialsProvider("k", "s", ""),
		HTTPClient: &http.Client{Transport: cannedTransport{}}}
	tracer.Instrument(&cfg)
	defer tracer.Close()
	db := dynamodb.NewFromConfig(cfg)
	get := func(header string) {
		t.Helper()
		ctx := context.WithValue(context.Background(), contextKey, header) //nolint:staticcheck // Lambda's key
		if _, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("tilgang"),
			Key: map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: "TENANT#t"}}}); err != nil {
			t.Fatal(err)
		}
	}

	get(strings.Replace(sample, "Sampled=1", "Sampled=0", 1))
	get(sample)
	buf := make([]byte, 64<<10)
	_ = daemon.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, _, err := daemon.ReadFrom(buf)
	if err != nil {
		t.Fatalf("no segment reached the daemon: %v", err)
	}
	header, body, ok := strings.Cut(string(buf[:n]), "\n")
	if !ok || header != `{"format": "json", "version": 1}` {
		t.Fatalf("datagram = %q", buf[:n])
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"name": "DynamoDB", "trace_id": "1-5759e988-bd862e3fe1be46a994272793", "parent_id": "53995c3f42cd8ad8",
		"type": "subsegment", "namespace": "aws"}
	for k, v := range want {
		if doc[k] != v {
			t.Errorf("subsegment %s = %v, want %v (document %s)", k, doc[k], v, body)
		}
	}
	awsInfo, _ := doc["aws"].(map[string]any)
	if awsInfo["operation"] != "GetItem" || awsInfo["table_name"] != "tilgang" || awsInfo["region"] != "eu-north-1" || awsInfo["request_id"] != "REQ123" {
		t.Errorf("subsegment aws = %v", awsInfo)
	}
	if start, end := doc["start_time"].(float64), doc["end_time"].(float64); start <= 0 || end < start {
		t.Errorf("times %v .. %v", start, end)
	}
	// The unsampled call sent nothing: this was the only datagram.
	_ = daemon.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	if n, _, err := daemon.ReadFrom(buf); err == nil {
		t.Errorf("a second datagram: %s", buf[:n])
	}
}

// refusingTransport answers every request like DynamoDB refusing a condition.
type refusingTransport struct{}

func (refusingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: 400, Request: r, Header: http.Header{
		"Content-Type": {"application/x-amz-json-1.0"}, "X-Amzn-Requestid": {"REQ400"},
	}, Body: io.NopCloser(strings.NewReader(`{"__type":"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException","message":"The conditional request failed for a@example.com"}`))}, nil
}

// TestFailedCallsAreErrors: a refused call is an error subsegment with its status and the
// error's code, never its message.
func TestFailedCallsAreErrors(t *testing.T) {
	daemon, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer daemon.Close()
	tracer, err := New(daemon.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer tracer.Close()
	cfg := aws.Config{Region: "eu-north-1", Credentials: credentials.NewStaticCredentialsProvider("k", "s", ""),
		HTTPClient: &http.Client{Transport: refusingTransport{}}}
	tracer.Instrument(&cfg)
	ctx := context.WithValue(context.Background(), contextKey, sample) //nolint:staticcheck // Lambda's key
	_, err = dynamodb.NewFromConfig(cfg).PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("tilgang"),
		Item: map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: "TENANT#t"}}})
	if err == nil {
		t.Fatal("PutItem succeeded")
	}
	buf := make([]byte, 64<<10)
	_ = daemon.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, _, err := daemon.ReadFrom(buf)
	if err != nil {
		t.Fatalf("no segment reached the daemon: %v", err)
	}
	_, body, _ := strings.Cut(string(buf[:n]), "\n")
	if strings.Contains(body, "example.com") {
		t.Errorf("the subsegment quotes the error message: %s", body)
	}
	var doc struct {
		Error, Fault bool
		HTTP         struct{ Response struct{ Status int } }
		AWS          map[string]string
		Metadata     struct{ Default map[string]string }
	}
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatal(err)
	}
	if !doc.Error || doc.Fault || doc.HTTP.Response.Status != 400 || doc.AWS["operation"] != "PutItem" || doc.AWS["request_id"] != "REQ400" ||
		doc.Metadata.Default["error_type"] != "ConditionalCheckFailedException" {
		t.Errorf("subsegment = %s", body)
	}
}

func TestSubsegmentFlags(t *testing.T) {
	h, _ := ParseHeader(sample)
	for _, tc := range []struct {
		status                 int
		err                    error
		error, fault, throttle bool
	}{
		{200, nil, false, false, false},
		{429, errors.New("slow down"), true, false, true},
		{500, errors.New("boom"), false, true, false},
		{0, context.DeadlineExceeded, false, true, false},
	} {
		b, _ := json.Marshal(Subsegment(h, "0123456789abcdef", Call{Service: "SQS", Status: tc.status, Err: tc.err}))
		var doc struct{ Error, Fault, Throttle bool }
		_ = json.Unmarshal(b, &doc)
		if doc.Error != tc.error || doc.Fault != tc.fault || doc.Throttle != tc.throttle {
			t.Errorf("status %d, err %v: %s", tc.status, tc.err, b)
		}
	}
}
