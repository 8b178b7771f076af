package app

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tilgang/tilgang/shared/access"
	"github.com/tilgang/tilgang/shared/httpapi"
	"github.com/tilgang/tilgang/shared/jobmsg"
	"github.com/tilgang/tilgang/shared/metrics"
	"github.com/tilgang/tilgang/shared/routes"
)

// Routes whose answers the request line reads more of than the status.
const (
	routeAuthorize = "POST /v1/authorize"
	routeAnonymise = "POST /v1/users/{userId}/anonymise"
)

// observeAPI wraps an API function's handler: it writes exactly one line per request, which is
// also an EMF record (route latency by outcome class, authorisation decisions, users
// anonymised). The line holds the route, status, latency, API Gateway's request id, the tenant
// id and (added by the logger) Lambda's request id and the trace id; never a user id, a body, a
// query string or a header, so no personal data. It also names the function and route in the
// context (routes.WithServing), which the tests use to check each AWS call against the
// function's IAM grant.
func (a *App) observeAPI(function string, h httpapi.LambdaHandler) httpapi.LambdaHandler {
	return func(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		ctx = routes.WithServing(ctx, function, ev.RouteKey)
		start := a.now()
		res, err := h(ctx, ev)
		latency := a.now().Sub(start)
		status := res.StatusCode
		if err != nil {
			status = http.StatusInternalServerError // what API Gateway answers for a failed invocation
		}
		a.Metrics.Emit(ctx, requestRecord(function, ev, status, latency, res))
		return res, err
	}
}

// requestRecord is the request line of one API request.
func requestRecord(function string, ev events.APIGatewayV2HTTPRequest, status int, latency time.Duration, res events.APIGatewayV2HTTPResponse) metrics.Record {
	var tenantID string
	if az := ev.RequestContext.Authorizer; az != nil && az.JWT != nil {
		tenantID = az.JWT.Claims[httpapi.ClaimTenant]
	}
	r := metrics.Record{
		Message: "request",
		Fields: map[string]any{
			metrics.DimRoute:   ev.RouteKey,
			metrics.DimOutcome: metrics.OutcomeClass(status),
			"function":         function,
			"status":           status,
			"apiRequestId":     ev.RequestContext.RequestID,
			"tenantId":         tenantID,
		},
		Sets: []metrics.Set{{
			Dimensions: []string{metrics.DimRoute, metrics.DimOutcome},
			Values:     []metrics.Value{{Name: metrics.RequestLatency, Unit: metrics.Milliseconds, Value: float64(latency.Microseconds()) / 1000}},
		}},
	}
	if decision := authorizationDecision(ev.RouteKey, status, res); decision != "" {
		r.Fields[metrics.DimDecision] = decision
		r.Sets = append(r.Sets, metrics.Set{Dimensions: []string{metrics.DimDecision},
			Values: []metrics.Value{{Name: metrics.AuthorizationDecisions, Unit: metrics.Count, Value: 1}}})
	}
	if ev.RouteKey == routeAnonymise && status == http.StatusOK {
		r.Sets = append(r.Sets, metrics.Set{Dimensions: []string{"function"},
			Values: []metrics.Value{{Name: metrics.UsersAnonymised, Unit: metrics.Count, Value: 1}}})
	}
	return r
}

// authorizationDecision reads the decision an answer carries: POST /v1/authorize says it in its
// body; any other route allowed the caller when it answers 2xx and denied them with 403. (A
// resource of another tenant answers 404, like a missing one: that is not counted.)
func authorizationDecision(route string, status int, res events.APIGatewayV2HTTPResponse) string {
	if route == routeAuthorize {
		if status != http.StatusOK {
			return ""
		}
		var d struct {
			Allowed *bool `json:"allowed"`
		}
		if json.Unmarshal([]byte(res.Body), &d) != nil || d.Allowed == nil {
			return ""
		}
		if *d.Allowed {
			return "allowed"
		}
		return "denied"
	}
	switch {
	case status == http.StatusForbidden:
		return "denied"
	case status >= 200 && status < 300:
		return "allowed"
	}
	return ""
}

// countUnreadable wraps a queue worker: it counts the records it will not be able to decode
// (the job worker parks them in its archive queue; other workers drop or fail them) as
// UnreadableMessages.
func (a *App) countUnreadable(function string, readable func(string) bool, h func(context.Context, events.SQSEvent) (events.SQSEventResponse, error)) func(context.Context, events.SQSEvent) (events.SQSEventResponse, error) {
	return func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		n := 0
		for _, r := range ev.Records {
			if !readable(r.Body) {
				n++
			}
		}
		if n > 0 {
			a.Metrics.Emit(ctx, metrics.One("unreadable messages", metrics.Value{Name: metrics.UnreadableMessages, Unit: metrics.Count, Value: float64(n)},
				map[string]any{metrics.DimFunction: function}, metrics.DimFunction))
		}
		return h(ctx, ev)
	}
}

func jobMessageReadable(body string) bool {
	_, err := jobmsg.Decode(body)
	return err == nil
}

func eventReadable(body string) bool {
	var ev events.EventBridgeEvent
	return json.Unmarshal([]byte(body), &ev) == nil
}

// meteredStore publishes job metrics at the store boundary, where the worker's results are
// final: the items of each applied part by outcome, and each completed job's duration. A part
// that is already applied (a redelivery) fails its condition and is not counted twice.
type meteredStore struct {
	access.Store
	metrics *metrics.Emitter
	now     func() time.Time
}

// ApplyJobPart applies a part and counts its items by outcome.
func (s meteredStore) ApplyJobPart(ctx context.Context, p access.JobPart) error {
	if err := s.Store.ApplyJobPart(ctx, p); err != nil {
		return err
	}
	for outcome, n := range p.Counts {
		if n == 0 {
			continue
		}
		s.metrics.Emit(ctx, metrics.One("job items", metrics.Value{Name: metrics.JobItems, Unit: metrics.Count, Value: float64(n)},
			map[string]any{metrics.DimOutcome: string(outcome), "tenantId": p.TenantID, "jobId": p.JobID}, metrics.DimOutcome))
	}
	return nil
}

// CompleteJob ends a job and records how long it took from submission.
func (s meteredStore) CompleteJob(ctx context.Context, j access.Job, status access.JobStatus, n access.Notification, meta access.Meta) error {
	if err := s.Store.CompleteJob(ctx, j, status, n, meta); err != nil {
		return err
	}
	s.metrics.Emit(ctx, metrics.One("job completed",
		metrics.Value{Name: metrics.JobDuration, Unit: metrics.Seconds, Value: s.now().Sub(j.CreatedAt).Seconds()},
		map[string]any{metrics.DimAction: string(j.Action), metrics.DimStatus: string(status), "tenantId": j.TenantID, "jobId": j.ID,
			"items": j.Total}, metrics.DimAction, metrics.DimStatus))
	return nil
}

// anonymiserRecord is the anonymiser's run line: users anonymised, and one completed sweep when
// the run reached the end of the user bank without error (the 26-hour alarm watches it).
func anonymiserRecord(res access.SweepResult, continued bool, err error) metrics.Record {
	r := metrics.Record{
		Message: "anonymiser run",
		Fields: map[string]any{metrics.DimFunction: routes.FnAnonymiser, "continued": continued, "scanned": res.Scanned,
			"notDue": res.NotDue, "failed": res.Failed, "settled": res.Settled, "stillPending": res.StillPending, "more": res.Next != ""},
	}
	values := []metrics.Value{{Name: metrics.UsersAnonymised, Unit: metrics.Count, Value: float64(res.Anonymised)}}
	if err == nil && res.Next == "" {
		values = append(values, metrics.Value{Name: metrics.AnonymiserSweeps, Unit: metrics.Count, Value: 1})
	}
	r.Sets = []metrics.Set{{Dimensions: []string{metrics.DimFunction}, Values: values}}
	return r
}
