package app_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tilgang/tilgang/shared/apitest"
	"github.com/tilgang/tilgang/shared/config"
	"github.com/tilgang/tilgang/shared/metrics"
)

// lines collects JSON log lines.
type lines struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *lines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// take returns the records logged since the last call, each decoded.
func (l *lines) take(t *testing.T) (records []map[string]any, raw string) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	raw = l.buf.String()
	sc := bufio.NewScanner(strings.NewReader(raw))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("log line is not JSON: %s", sc.Text())
		}
		records = append(records, m)
	}
	l.buf.Reset()
	return records, raw
}

// capture sends the app's EMF records (the request lines among them) to a buffer.
func capture(env *apitest.Env) *lines {
	l := &lines{}
	env.App.Metrics.Log = slog.New(slog.NewJSONHandler(l, nil))
	return l
}

// emf checks a record's CloudWatch EMF metadata and returns the metric names it publishes,
// each with its dimension names.
func emf(t *testing.T, rec map[string]any) map[string][]string {
	t.Helper()
	aws, ok := rec["_aws"].(map[string]any)
	if !ok {
		t.Fatalf("record has no _aws: %v", rec)
	}
	if _, ok := aws["Timestamp"].(float64); !ok {
		t.Errorf("_aws.Timestamp = %v", aws["Timestamp"])
	}
	out := map[string][]string{}
	directives, _ := aws["CloudWatchMetrics"].([]any)
	for _, d := range directives {
		d := d.(map[string]any)
		if d["Namespace"] != metrics.Namespace {
			t.Errorf("namespace = %v", d["Namespace"])
		}
		sets, _ := d["Dimensions"].([]any)
		var dims []string
		for _, set := range sets {
			for _, k := range set.([]any) {
				name := k.(string)
				if _, ok := rec[name].(string); !ok {
					t.Errorf("dimension %s has no string value in %v", name, rec)
				}
				dims = append(dims, name)
			}
		}
		for _, m := range d["Metrics"].([]any) {
			name := m.(map[string]any)["Name"].(string)
			if _, ok := rec[name].(float64); !ok {
				t.Errorf("metric %s has no numeric value in %v", name, rec)
			}
			out[name] = dims
		}
	}
	return out
}

// TestOneRequestLinePerAPIRequest: each API request writes one line with its route, status,
// latency, request id and tenant id and no personal data, which is also the EMF record of the
// route's latency by outcome class and, where the answer says, of an authorisation decision.
func TestOneRequestLinePerAPIRequest(t *testing.T) {
	env := newEnv(t, func(*config.Config) {})
	ten := env.NewTenant(t, true, "therapist")
	email := apitest.UniqueEmail("mette")
	userID := ten.Owner.CreateUser(t, map[string]any{"name": "Mette Jensen", "email": email})
	out := capture(env)

	ten.Owner.Must(t, "GET", "/v1/users/"+userID, nil, 200)
	ten.Owner.Must(t, "POST", "/v1/authorize", map[string]any{"userId": userID, "action": "delete", "area": "settings"}, 200)
	env.As(ten.ID, userID).Must(t, "GET", "/v1/audit", nil, 403)
	ten.Owner.Must(t, "GET", "/v1/users/u_doesnotexist", nil, 404)

	recs, raw := out.take(t)
	if strings.Contains(raw, email) || strings.Contains(raw, "Mette") || strings.Contains(raw, userID) {
		t.Errorf("request lines hold personal data or a user id:\n%s", raw)
	}
	want := []struct {
		route    string
		status   float64
		outcome  string
		decision string
	}{
		{"GET /v1/users/{userId}", 200, "2xx", "allowed"},
		{"POST /v1/authorize", 200, "2xx", "denied"},
		{"GET /v1/audit", 403, "4xx", "denied"},
		{"GET /v1/users/{userId}", 404, "4xx", ""},
	}
	if len(recs) != len(want) {
		t.Fatalf("got %d lines for %d requests:\n%s", len(recs), len(want), raw)
	}
	for i, w := range want {
		r := recs[i]
		if r["msg"] != "request" || r[metrics.DimRoute] != w.route || r["status"] != w.status || r[metrics.DimOutcome] != w.outcome {
			t.Errorf("line %d = %v, want route %s, status %v, outcome %s", i, r, w.route, w.status, w.outcome)
		}
		if r["tenantId"] != ten.ID || r["apiRequestId"] == "" || r["function"] == "" {
			t.Errorf("line %d lacks tenantId %s, apiRequestId or function: %v", i, ten.ID, r)
		}
		got := emf(t, r)
		if dims := got[metrics.RequestLatency]; strings.Join(dims, ",") != metrics.DimRoute+","+metrics.DimOutcome {
			t.Errorf("line %d: RequestLatency dimensions %v", i, dims)
		}
		_, counted := got[metrics.AuthorizationDecisions]
		if r[metrics.DimDecision] != nil && r[metrics.DimDecision] != w.decision || counted != (w.decision != "") {
			t.Errorf("line %d: decision %v (published %v), want %q", i, r[metrics.DimDecision], counted, w.decision)
		}
	}
}

// TestAnonymiserPublishesItsRun: a run's line counts the users anonymised and, once it reached
// the end of the user bank, one completed sweep (the metric the 26-hour alarm watches).
func TestAnonymiserPublishesItsRun(t *testing.T) {
	env := newEnv(t, func(*config.Config) {})
	ten := env.NewTenant(t, true)
	setPeriod(t, ten, 1)
	for i := 0; i < 2; i++ {
		id := ten.Owner.CreateUser(t, nil)
		ten.Owner.Must(t, "POST", "/v1/users/"+id+"/remove", nil, 200)
	}
	later(env, 3*24*time.Hour)
	out := capture(env)
	if err := env.App.Anonymiser()(context.Background(), scheduleEvent(t)); err != nil {
		t.Fatal(err)
	}
	recs, raw := out.take(t)
	var run map[string]any
	for _, r := range recs {
		if r["msg"] == "anonymiser run" {
			run = r
		}
	}
	if run == nil {
		t.Fatalf("no anonymiser run line in:\n%s", raw)
	}
	got := emf(t, run)
	if run[metrics.UsersAnonymised] != float64(2) || run[metrics.AnonymiserSweeps] != float64(1) || len(got) != 2 {
		t.Errorf("run line = %v, want 2 users anonymised and 1 sweep", run)
	}
	if run[metrics.DimFunction] != "anonymiser" {
		t.Errorf("function = %v", run[metrics.DimFunction])
	}
}
