//go:build soak

package soak

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	stypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/tilgang/tilgang/shared/app"
	"github.com/tilgang/tilgang/shared/app/allclients"
	"github.com/tilgang/tilgang/shared/config"
	"github.com/tilgang/tilgang/shared/devserver"
	"github.com/tilgang/tilgang/shared/localstack"
)

const (
	clients     = 32
	bigJobItems = 5000 // 2 consultants × 2,500 clients × 1 program
)

// checks collects the verdicts the run prints at the end.
type checks struct {
	mu     sync.Mutex
	passed int
	failed int
	lines  []string
}

func (c *checks) check(ok bool, format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	verdict := "PASS"
	if ok {
		c.passed++
	} else {
		c.failed++
		verdict = "FAIL"
	}
	c.lines = append(c.lines, fmt.Sprintf("%s  %s", verdict, fmt.Sprintf(format, args...)))
}

// dynoxide is a DynamoDB server this run owns, so that it can kill and restart it.
type dynoxide struct {
	bin, dbPath string
	port        int
	cmd         *exec.Cmd
}

func (d *dynoxide) endpoint() string { return "http://127.0.0.1:" + strconv.Itoa(d.port) }

func (d *dynoxide) start(t *testing.T) {
	t.Helper()
	d.cmd = exec.Command(d.bin, "serve", "--host", "127.0.0.1", "--port", strconv.Itoa(d.port), "--db-path", d.dbPath)
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(d.port), 200*time.Millisecond); err == nil {
			c.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("dynoxide did not start")
}

// kill ends the server the hard way, as a crash would.
func (d *dynoxide) kill() {
	if d.cmd != nil && d.cmd.Process != nil {
		_ = d.cmd.Process.Kill()
		_, _ = d.cmd.Process.Wait()
	}
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// duplicator delivers every message of a queue twice: after the worker has seen the original,
// it sends a copy (marked, so the copy is not copied again).
type duplicator struct {
	client *sqs.Client
	url    string
	copies atomic.Int64
}

func (d *duplicator) wrap(h func(context.Context, events.SQSEvent) (events.SQSEventResponse, error)) func(context.Context, events.SQSEvent) (events.SQSEventResponse, error) {
	return func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		res, err := h(ctx, ev)
		for _, r := range ev.Records {
			if _, isCopy := r.MessageAttributes["soakCopy"]; isCopy || strings.HasSuffix(r.EventSourceARN, "-dlq") {
				continue
			}
			_, serr := d.client.SendMessage(context.WithoutCancel(ctx), &sqs.SendMessageInput{QueueUrl: aws.String(d.url), MessageBody: aws.String(r.Body),
				MessageAttributes: map[string]stypes.MessageAttributeValue{"soakCopy": {DataType: aws.String("String"), StringValue: aws.String("1")}}})
			if serr == nil {
				d.copies.Add(1)
			}
		}
		return res, err
	}
}

// api is an HTTP client of the dev server that records latencies per route.
type api struct {
	base string
	hc   *http.Client

	mu        sync.Mutex
	latencies map[string][]time.Duration
	statuses  map[string]map[int]int
}

type response struct {
	status int
	body   []byte
	etag   string
}

func (a *api) do(route, method, path, token string, body any, headers ...string) response {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, a.base+path, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	start := time.Now()
	res, err := a.hc.Do(req)
	d := time.Since(start)
	out := response{status: 599}
	if err == nil {
		out.body, _ = io.ReadAll(res.Body)
		res.Body.Close()
		out.status, out.etag = res.StatusCode, res.Header.Get("ETag")
	}
	if route != "" {
		a.mu.Lock()
		a.latencies[route] = append(a.latencies[route], d)
		if a.statuses[route] == nil {
			a.statuses[route] = map[int]int{}
		}
		a.statuses[route][out.status]++
		a.mu.Unlock()
	}
	return out
}

func (a *api) must(t *testing.T, method, path, token string, body any, want int) map[string]any {
	t.Helper()
	r := a.do("", method, path, token, body)
	if r.status != want {
		t.Fatalf("%s %s: %d, want %d: %s", method, path, r.status, want, r.body)
	}
	var m map[string]any
	_ = json.Unmarshal(r.body, &m)
	return m
}

// onlyAssigned reports whether a job completed with exactly n items assigned and no other outcome.
func onlyAssigned(j map[string]any, n int) bool {
	if j == nil || j["status"] != "completed" {
		return false
	}
	counts, _ := j["counts"].(map[string]any)
	for k, v := range counts {
		want := 0.0
		if k == "assigned" {
			want = float64(n)
		}
		if v != want {
			return false
		}
	}
	return counts["assigned"] == float64(n)
}

func pct(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	i := int(float64(len(ds)-1) * p)
	return ds[i]
}

func TestSoak(t *testing.T) {
	seconds := 60
	if v, err := strconv.Atoi(os.Getenv("SOAK_SECONDS")); err == nil && v > 0 && v <= 600 {
		seconds = v
	}
	c := &checks{}
	defer func() {
		fmt.Println()
		for _, l := range c.lines {
			fmt.Println(l)
		}
		fmt.Printf("\n%d passed, %d failed\n", c.passed, c.failed)
		if c.failed > 0 {
			t.Fail()
		}
	}()

	root, err := localstack.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	dyn := &dynoxide{bin: filepath.Join(root, ".tools", "node_modules", "@dynoxide", "linux-x64", "dynoxide"),
		dbPath: filepath.Join(dir, "soak.sqlite"), port: freePort(t)}
	dyn.start(t)
	defer dyn.kill()

	var jobsDup, eventsDup *duplicator
	ctx := context.Background()
	// The servers' and the app's logs go to a file: the figures are the output.
	if err := os.MkdirAll(filepath.Join(root, "build"), 0o755); err != nil {
		t.Fatal(err)
	}
	logFile, err := os.Create(filepath.Join(root, "build", "soak.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	quiet := slog.New(slog.NewTextHandler(logFile, &slog.HandlerOptions{Level: slog.LevelWarn}))
	fmt.Println("logs: build/soak.log")
	d, err := devserver.Start(ctx, devserver.Options{
		Addr:        "127.0.0.1:0",
		Stack:       localstack.Options{DynamoEndpoint: dyn.endpoint(), DataDir: dir},
		TableName:   "soak",
		QueuePrefix: fmt.Sprintf("soak-%d-", time.Now().UnixNano()),
		Log:         quiet,
		NewApp: func(ctx context.Context, cfg config.Config) (devserver.App, error) {
			a, err := app.New(ctx, cfg, app.Options{Log: quiet})
			if err != nil {
				return devserver.App{}, err
			}
			allclients.Wire(a)
			client := sqs.NewFromConfig(localstack.AWSConfig(), func(o *sqs.Options) { o.BaseEndpoint = aws.String(cfg.SQSEndpoint) })
			jobsDup = &duplicator{client: client, url: cfg.JobsQueueURL}
			eventsDup = &duplicator{client: client, url: cfg.EventsQueueURL}
			d := allclients.DevServerApp(a)
			d.JobWorker, d.EventsWorker = jobsDup.wrap(d.JobWorker), eventsDup.wrap(d.EventsWorker)
			return d, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	a := &api{base: d.URL, hc: &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 2 * clients}},
		latencies: map[string][]time.Duration{}, statuses: map[string]map[int]int{}}

	// A clinic for the mixed workload and a bureau for the jobs.
	stamp := strconv.FormatInt(time.Now().UnixNano(), 36)
	clinic := a.must(t, "POST", "/dev/tenants", "", map[string]any{"name": "Soak Clinic", "owner": map[string]any{"name": "Owner", "email": "owner-" + stamp + "@soak.example"}}, 201)
	owner := clinic["token"].(string)
	a.must(t, "POST", "/v1/apps/employees/activate", owner, map[string]any{"templates": []string{"therapist"}}, 200)
	group := a.must(t, "POST", "/v1/groups", owner, map[string]any{"name": "Hot group", "permissions": map[string]any{"clients": map[string]any{"level": "view", "scope": "own"}}}, 201)["id"].(string)
	var hotUsers []string
	for i := range 4 {
		hotUsers = append(hotUsers, a.must(t, "POST", "/v1/users", owner, map[string]any{"name": fmt.Sprintf("Hot %d", i), "email": fmt.Sprintf("hot-%d-%s@soak.example", i, stamp), "profession": "practitioner", "groupIds": []string{group}}, 201)["id"].(string))
	}

	bureauRes := a.must(t, "POST", "/dev/tenants", "", map[string]any{"name": "Soak Bureau", "owner": map[string]any{"name": "Bureau", "email": "bureau-" + stamp + "@soak.example"}}, 201)
	bureau := bureauRes["token"].(string)
	a.must(t, "POST", "/v1/apps/employees/activate", bureau, map[string]any{"templates": []string{}}, 200)
	var consultants []string
	for i := range 3 {
		consultants = append(consultants, a.must(t, "POST", "/v1/users", bureau, map[string]any{"name": fmt.Sprintf("Consultant %d", i), "email": fmt.Sprintf("k-%d-%s@soak.example", i, stamp), "profession": "consultant", "roles": []string{"consultant"}}, 201)["id"].(string))
	}
	newClients := func(n int) []string {
		ids := make([]string, n)
		var wg sync.WaitGroup
		sem := make(chan struct{}, 8)
		for i := range n {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				ids[i] = a.must(t, "POST", "/v1/clients", bureau, map[string]any{"name": fmt.Sprintf("Client %d", i)}, 201)["id"].(string)
			})
		}
		wg.Wait()
		return ids
	}
	smallClients := newClients(90)

	v0 := map[string]float64{}
	v0["/v1/groups/"+group] = a.must(t, "GET", "/v1/groups/"+group, owner, nil, 200)["version"].(float64)
	for _, u := range hotUsers {
		v0["/v1/users/"+u] = a.must(t, "GET", "/v1/users/"+u, owner, nil, 200)["version"].(float64)
	}
	v0["/v1/settings"] = a.must(t, "GET", "/v1/settings", owner, nil, 200)["version"].(float64)

	// Phase 1: the mixed workload.
	fmt.Printf("mixed workload: %d clients for %d s\n", clients, seconds)
	var (
		landed   sync.Map // path → *atomic.Int64 of 200 answers to a changing PATCH
		seq      atomic.Int64
		jobsMu   sync.Mutex
		smallJob []string
	)
	count := func(path string) {
		v, _ := landed.LoadOrStore(path, &atomic.Int64{})
		v.(*atomic.Int64).Add(1)
	}
	end := time.Now().Add(time.Duration(seconds) * time.Second)
	var wg sync.WaitGroup
	for w := range clients {
		wg.Go(func() {
			for i := 0; time.Now().Before(end); i++ {
				n := seq.Add(1)
				switch (w + i) % 10 {
				case 0, 1:
					a.do("GET /v1/me", "GET", "/v1/me", owner, nil)
				case 2:
					a.do("GET /v1/users", "GET", "/v1/users?limit=20", owner, nil)
				case 3:
					a.do("GET /v1/groups/{groupId}", "GET", "/v1/groups/"+group, owner, nil)
				case 4:
					p := "/v1/groups/" + group
					if r := a.do("PATCH /v1/groups/{groupId}", "PATCH", p, owner, map[string]any{"description": "d" + strconv.FormatInt(n, 10)}); r.status == 200 {
						count(p)
					}
				case 5:
					p := "/v1/users/" + hotUsers[int(n)%len(hotUsers)]
					if r := a.do("PATCH /v1/users/{userId}", "PATCH", p, owner, map[string]any{"name": "Name " + strconv.FormatInt(n, 10)}); r.status == 200 {
						count(p)
					}
				case 6, 7:
					a.do("POST /v1/authorize", "POST", "/v1/authorize", owner, map[string]any{"userId": hotUsers[int(n)%len(hotUsers)], "action": "view", "area": "clients"})
				case 8:
					if i%4 == 0 {
						a.do("POST /v1/users", "POST", "/v1/users", owner, map[string]any{"name": "New", "email": fmt.Sprintf("new-%d-%s@soak.example", n, stamp), "profession": "other"})
					} else {
						a.do("GET /v1/settings", "GET", "/v1/settings", owner, nil)
					}
				case 9:
					jobsMu.Lock()
					k := len(smallJob)
					take := k < len(smallClients)/3 && i%6 == 0
					jobsMu.Unlock()
					if !take {
						a.do("GET /v1/notifications", "GET", "/v1/notifications", bureau, nil)
						continue
					}
					jobsMu.Lock()
					k = len(smallJob)
					if k >= len(smallClients)/3 {
						jobsMu.Unlock()
						continue
					}
					smallJob = append(smallJob, "")
					jobsMu.Unlock()
					r := a.do("POST /v1/access-jobs", "POST", "/v1/access-jobs", bureau, map[string]any{"action": "grant",
						"consultantIds": consultants[:1], "clientIds": smallClients[3*k : 3*k+3], "programs": []string{"payroll"}})
					var m map[string]any
					_ = json.Unmarshal(r.body, &m)
					id, _ := m["id"].(string)
					jobsMu.Lock()
					smallJob[k] = id
					jobsMu.Unlock()
				}
			}
		})
	}
	wg.Wait()

	// Figures per route.
	fmt.Printf("\n%-30s %7s %9s %9s %9s  %s\n", "route", "count", "p50", "p95", "p99", "statuses")
	routes := make([]string, 0, len(a.latencies))
	for r := range a.latencies {
		routes = append(routes, r)
	}
	sort.Strings(routes)
	total, fivexx := 0, 0
	for _, r := range routes {
		ds := slices.Clone(a.latencies[r])
		slices.Sort(ds)
		var st []string
		for code, n := range a.statuses[r] {
			st = append(st, fmt.Sprintf("%d×%d", code, n))
			if code >= 500 {
				fivexx += n
			}
		}
		sort.Strings(st)
		total += len(ds)
		fmt.Printf("%-30s %7d %9s %9s %9s  %s\n", r, len(ds), pct(ds, .50).Round(10*time.Microsecond), pct(ds, .95).Round(10*time.Microsecond),
			pct(ds, .99).Round(10*time.Microsecond), strings.Join(st, " "))
	}
	fmt.Printf("%d requests in %d s (%.0f/s)\n", total, seconds, float64(total)/float64(seconds))
	c.check(fivexx == 0, "mixed workload: %d requests, %d answered 5xx (want 0)", total, fivexx)

	lost := 0
	for path, v := range v0 {
		n := int64(0)
		if x, ok := landed.Load(path); ok {
			n = x.(*atomic.Int64).Load()
		}
		got := a.must(t, "GET", path, owner, nil, 200)["version"].(float64)
		if int64(got-v) != n {
			lost++
			fmt.Printf("  %s: %d PATCHes answered 200, version moved %v\n", path, n, got-v)
		}
	}
	c.check(lost == 0, "lost updates: %d of %d contended resources lost a write (version moved by exactly the 200 answers)", lost, len(v0))

	// The small jobs of the workload end with exact counters and one notification each, although
	// every message was delivered twice.
	waitJob := func(id, token string, within time.Duration) map[string]any {
		deadline := time.Now().Add(within)
		for time.Now().Before(deadline) {
			j := a.must(t, "GET", "/v1/access-jobs/"+id, token, nil, 200)
			switch j["status"] {
			case "completed", "completed_with_errors", "failed":
				return j
			}
			time.Sleep(200 * time.Millisecond)
		}
		return nil
	}
	exact := 0
	for _, id := range smallJob {
		if id == "" {
			continue
		}
		j := waitJob(id, bureau, 2*time.Minute)
		if onlyAssigned(j, 3) {
			exact++
		} else {
			fmt.Printf("  small job %s: %v\n", id, j)
		}
	}
	c.check(exact == len(smallJob) && exact > 0, "small jobs under the workload: %d of %d completed with exactly 3 assigned", exact, len(smallJob))

	// Phase 2: a 5,000-item job; DynamoDB is killed and restarted while it runs.
	bigClients := newClients(bigJobItems / 2)
	fmt.Printf("\n%d-item job; the DynamoDB server is killed and restarted while it runs\n", bigJobItems)
	started := time.Now()
	job := a.must(t, "POST", "/v1/access-jobs", bureau, map[string]any{"action": "grant", "consultantIds": consultants[1:3],
		"clientIds": bigClients, "programs": []string{"payroll"}}, 202)
	jobID := job["id"].(string)
	for time.Now().Before(started.Add(2 * time.Minute)) {
		j := a.must(t, "GET", "/v1/access-jobs/"+jobID, bureau, nil, 200)
		if done, _ := j["done"].(float64); done > 0 && done < bigJobItems {
			fmt.Printf("  killed DynamoDB with %v of %d items done\n", done, bigJobItems)
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	dyn.kill()
	time.Sleep(3 * time.Second)
	dyn.start(t)
	fmt.Println("  DynamoDB restarted on its data")
	j := waitJob(jobID, bureau, 6*time.Minute)
	fmt.Printf("  job ended in %s: %v\n", time.Since(started).Round(time.Second), j)
	okCounts := onlyAssigned(j, bigJobItems) && j["done"] == float64(bigJobItems) && j["total"] == float64(bigJobItems)
	c.check(okCounts, "5,000-item job across a DynamoDB crash: completed with exactly %d assigned", bigJobItems)
	var ns struct{ Items []map[string]any }
	r := a.do("", "GET", "/v1/notifications?limit=100", bureau, nil)
	_ = json.Unmarshal(r.body, &ns)
	perJob := map[string]int{}
	for _, n := range ns.Items {
		perJob[fmt.Sprint(n["jobId"])]++
	}
	c.check(perJob[jobID] == 1, "5,000-item job: %d notification(s) (want 1)", perJob[jobID])
	dupNotifs := 0
	for _, id := range smallJob {
		if id != "" && perJob[id] != 1 {
			dupNotifs++
		}
	}
	c.check(dupNotifs == 0, "small jobs: each has exactly one notification (%d do not)", dupNotifs)

	// Every message was delivered twice; once the queue is empty (the copies and the originals
	// the crash failed have all come back), the state is still what one delivery gives.
	client := sqs.NewFromConfig(localstack.AWSConfig(), func(o *sqs.Options) { o.BaseEndpoint = aws.String(d.Config.SQSEndpoint) })
	depth := func() int {
		names := []stypes.QueueAttributeName{stypes.QueueAttributeNameApproximateNumberOfMessages, stypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible}
		out, err := client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(d.Config.JobsQueueURL), AttributeNames: names})
		if err != nil {
			return -1
		}
		n := 0
		for _, name := range names {
			v, _ := strconv.Atoi(out.Attributes[string(name)])
			n += v
		}
		return n
	}
	drained := false
	for deadline := time.Now().Add(3 * time.Minute); time.Now().Before(deadline); time.Sleep(time.Second) {
		if depth() == 0 {
			drained = true
			break
		}
	}
	fmt.Printf("jobs queue drained: %v; copies delivered: jobs %d, events %d\n", drained, jobsDup.copies.Load(), eventsDup.copies.Load())
	again := a.must(t, "GET", "/v1/access-jobs/"+jobID, bureau, nil, 200)
	r = a.do("", "GET", "/v1/notifications?limit=100", bureau, nil)
	ns.Items = nil
	_ = json.Unmarshal(r.body, &ns)
	c.check(drained && jobsDup.copies.Load() > 0 && onlyAssigned(again, bigJobItems) && len(ns.Items) == len(perJob),
		"every job message delivered twice (%d copies): after the queue drained the job still counts %d assigned and the notifications are still %d",
		jobsDup.copies.Load(), bigJobItems, len(perJob))
}
