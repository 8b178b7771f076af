// Package metrics writes CloudWatch Embedded Metric Format (EMF) records: JSON log lines that
// CloudWatch Logs turns into metrics, with no agent and no PutMetricData call. In Lambda they go
// to stdout with the function's other log lines; in the dev server and tests they are ordinary
// JSON lines on stderr. It depends on the standard library only, so the CDK app can import the
// names its alarms watch.
package metrics

import (
	"context"
	"log/slog"
	"slices"
	"time"
)

// Namespace is the CloudWatch namespace of every Tilgang metric.
const Namespace = "Tilgang"

// Metric names, and the dimensions each is published with.
const (
	// RequestLatency is the time a function took to answer an API request, in milliseconds,
	// per DimRoute and DimOutcome (2xx, 4xx, 5xx); its SampleCount is the request count.
	RequestLatency = "RequestLatency"
	// AuthorizationDecisions counts allowed and denied decisions (DimDecision): the answers of
	// POST /v1/authorize, and API requests refused with 403 or served with 2xx.
	AuthorizationDecisions = "AuthorizationDecisions"
	// JobItems counts access-job items recorded, per DimOutcome (assigned, not_permitted, ...).
	JobItems = "JobItems"
	// JobDuration is the time from an access job's submission to its completion, in seconds,
	// per DimAction and DimStatus.
	JobDuration = "JobDuration"
	// UsersAnonymised counts users anonymised, per DimFunction (the anonymiser's sweep, or the
	// users function's POST /v1/users/{userId}/anonymise).
	UsersAnonymised = "UsersAnonymised"
	// AnonymiserSweeps counts anonymiser runs that reached the end of the user bank (the last
	// invocation of a night's chain), per DimFunction; its absence for 26 hours alarms.
	AnonymiserSweeps = "AnonymiserSweepsCompleted"
	// UnreadableMessages counts queue messages a worker could not decode, per DimFunction.
	UnreadableMessages = "UnreadableMessages"
)

// Dimension names.
const (
	DimFunction = "function"
	DimRoute    = "route"
	DimOutcome  = "outcome"
	DimDecision = "decision"
	DimAction   = "action"
	DimStatus   = "status"
)

// Units of the EMF specification.
const (
	Count        = "Count"
	Milliseconds = "Milliseconds"
	Seconds      = "Seconds"
)

// Value is one metric of a record.
type Value struct {
	Name  string
	Unit  string
	Value float64
}

// Set is metrics published under one set of dimensions (keys of the record's Fields).
type Set struct {
	Dimensions []string
	Values     []Value
}

// Record is one EMF line: its metric sets, and Fields: the dimensions' values and any other
// properties (tenantId, jobId, ...) that are logged but not published. Properties must never be
// personal data. Dimension values must be strings. A metric name appears in one set only.
type Record struct {
	Message string
	Fields  map[string]any
	Sets    []Set
}

// One is a record of a single metric under dims, which name keys of fields.
func One(msg string, v Value, fields map[string]any, dims ...string) Record {
	return Record{Message: msg, Fields: fields, Sets: []Set{{Dimensions: dims, Values: []Value{v}}}}
}

// Emitter writes records as log lines of its logger, so that they carry what the logger adds
// (the Lambda request id, the trace id) and land where the other lines go.
type Emitter struct {
	Log *slog.Logger
	// Now stamps records [time.Now].
	Now func() time.Time
}

// Emit writes one record. A nil Emitter writes nothing.
func (e *Emitter) Emit(ctx context.Context, r Record) {
	if e == nil || e.Log == nil {
		return
	}
	e.Log.LogAttrs(ctx, slog.LevelInfo, r.message(), r.Attrs(e.now())...)
}

func (e *Emitter) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

func (r Record) message() string {
	if r.Message == "" {
		return "metrics"
	}
	return r.Message
}

// Attrs renders the record as log attributes: the fields, each metric's value, and the _aws
// metadata naming them. A record without metrics has no _aws key.
func (r Record) Attrs(now time.Time) []slog.Attr {
	attrs := make([]slog.Attr, 0, len(r.Fields)+4)
	var directives []map[string]any
	for _, set := range r.Sets {
		if len(set.Values) == 0 {
			continue
		}
		defs := make([]map[string]string, 0, len(set.Values))
		for _, v := range set.Values {
			defs = append(defs, map[string]string{"Name": v.Name, "Unit": v.Unit})
			attrs = append(attrs, slog.Float64(v.Name, v.Value))
		}
		dims := set.Dimensions
		if dims == nil {
			dims = []string{}
		}
		directives = append(directives, map[string]any{"Namespace": Namespace, "Dimensions": [][]string{dims}, "Metrics": defs})
	}
	keys := make([]string, 0, len(r.Fields))
	for k := range r.Fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		attrs = append(attrs, slog.Any(k, r.Fields[k]))
	}
	if len(directives) > 0 {
		attrs = append(attrs, slog.Any("_aws", map[string]any{"Timestamp": now.UnixMilli(), "CloudWatchMetrics": directives}))
	}
	return attrs
}

// OutcomeClass is the class of an HTTP status: 2xx, 3xx, 4xx or 5xx.
func OutcomeClass(status int) string {
	switch {
	case status >= 500:
		return "5xx"
	case status >= 400:
		return "4xx"
	case status >= 300:
		return "3xx"
	default:
		return "2xx"
	}
}
