package devserver_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tilgang/tilgang/shared/devserver"
	"github.com/tilgang/tilgang/shared/localauth"
	"github.com/tilgang/tilgang/shared/localstack"
	"github.com/tilgang/tilgang/shared/openapi"
	"github.com/tilgang/tilgang/shared/tracing"
)

// docsServer is a dev server handler whose log lines go to the returned buffer.
func docsServer(t *testing.T, dir string, api devserver.APIHandler) (*httptest.Server, *bytes.Buffer, *localauth.TokenIssuer) {
	t.Helper()
	key, err := localauth.LoadOrCreateKey(filepath.Join(t.TempDir(), "key"))
	if err != nil {
		t.Fatal(err)
	}
	tokens, err := localauth.NewIssuer(key)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	log := slog.New(tracing.LogHandler(slog.NewJSONHandler(&buf, nil)))
	s := devserver.NewServer(devserver.App{API: func(string) devserver.APIHandler { return api }}, tokens, nil, log)
	s.SetDocs(&devserver.Docs{Dir: dir})
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return srv, &buf, tokens
}

func get(t *testing.T, url string) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// fakeAssets writes stand-ins for swagger-ui-dist's files.
func fakeAssets(t *testing.T) string {
	dir := t.TempDir()
	for _, a := range devserver.DocsAssets {
		if err := os.WriteFile(filepath.Join(dir, a), []byte("/* "+a+" */"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestDocs: /openapi.yaml is the embedded document; /docs is a page whose every script, style
// and image is served here, under a policy that forbids the browser any other host.
func TestDocs(t *testing.T) {
	srv, _, _ := docsServer(t, fakeAssets(t), nil)

	resp, body := get(t, srv.URL+"/openapi.yaml")
	if resp.StatusCode != 200 || !bytes.Equal(body, openapi.YAML) || !strings.Contains(resp.Header.Get("Content-Type"), "yaml") {
		t.Errorf("/openapi.yaml: %d %s, %d bytes", resp.StatusCode, resp.Header.Get("Content-Type"), len(body))
	}

	resp, page := get(t, srv.URL+"/docs")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("/docs: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") || strings.Contains(csp, "http") {
		t.Errorf("/docs policy = %q, want this server only", csp)
	}
	refs := regexp.MustCompile(`(?:src|href)="([^"]+)"`).FindAllStringSubmatch(string(page), -1)
	if len(refs) < 3 {
		t.Fatalf("page references %v", refs)
	}
	for _, ref := range refs {
		if !strings.HasPrefix(ref[1], "/docs/") {
			t.Errorf("page loads %s, not from /docs/", ref[1])
			continue
		}
		if resp, _ := get(t, srv.URL+ref[1]); resp.StatusCode != 200 {
			t.Errorf("%s: %d", ref[1], resp.StatusCode)
		}
	}
	resp, init := get(t, srv.URL+"/docs/init.js")
	if resp.StatusCode != 200 || !strings.Contains(string(init), `url: "/openapi.yaml"`) || !strings.Contains(string(init), "validatorUrl: null") {
		t.Errorf("/docs/init.js: %d %s", resp.StatusCode, init)
	}
	for _, path := range []string{"/docs/package.json", "/docs/../go.mod", "/docs/swagger-ui.js.map"} {
		if resp, _ := get(t, srv.URL+path); resp.StatusCode != 404 {
			t.Errorf("%s: %d, want 404", path, resp.StatusCode)
		}
	}
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/docs", nil)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 405 {
		t.Errorf("POST /docs: %v %v", resp, err)
	}

	missing, _, _ := docsServer(t, t.TempDir(), nil)
	if resp, body := get(t, missing.URL+"/docs"); resp.StatusCode != 503 || !strings.Contains(string(body), "make docs") {
		t.Errorf("/docs without assets: %d %s", resp.StatusCode, body)
	}
}

// TestDocsAssetsInstalled checks the real page assets once make docs has installed them.
func TestDocsAssetsInstalled(t *testing.T) {
	root, err := localstack.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := devserver.DefaultDocsDir(root)
	if _, err := os.Stat(dir); err != nil {
		t.Skip("make docs has not installed swagger-ui-dist")
	}
	srv, _, _ := docsServer(t, dir, nil)
	for _, a := range devserver.DocsAssets {
		if resp, body := get(t, srv.URL+"/docs/"+a); resp.StatusCode != 200 || len(body) < 100 {
			t.Errorf("%s: %d, %d bytes", a, resp.StatusCode, len(body))
		}
	}
}

// TestOneLinePerRequest: the dev server logs requests no function served (docs, unknown routes,
// missing tokens), one JSON line each with a trace id, and leaves API requests to the function's
// own request line; the function gets the trace header as API Gateway passes it on.
func TestOneLinePerRequest(t *testing.T) {
	var gotHeader, gotTrace string
	api := func(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		gotHeader, gotTrace = ev.Headers["x-amzn-trace-id"], tracing.TraceID(ctx)
		return events.APIGatewayV2HTTPResponse{StatusCode: 200, Body: "{}"}, nil
	}
	srv, buf, tokens := docsServer(t, fakeAssets(t), api)
	get(t, srv.URL+"/openapi.yaml")
	get(t, srv.URL+"/v1/nothing-here")
	get(t, srv.URL+"/v1/me") // no token
	tok, _ := tokens.Issue("t1", "u1")
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/v1/me", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET /v1/me: %v %v", resp, err)
	}

	var lines []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(buf.Bytes()))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("not JSON: %s", sc.Text())
		}
		lines = append(lines, m)
	}
	wantStatus := []float64{200, 404, 401}
	if len(lines) != len(wantStatus) {
		t.Fatalf("got %d lines, want %d (the API request is the function's to log):\n%s", len(lines), len(wantStatus), buf)
	}
	for i, l := range lines {
		if l["msg"] != "request" || l["status"] != wantStatus[i] || l["traceId"] == nil || l["latencyMs"] == nil {
			t.Errorf("line %d = %v", i, l)
		}
	}
	h, ok := tracing.ParseHeader(gotHeader)
	if !ok || h.Root != gotTrace {
		t.Errorf("function got trace header %q and context trace %q", gotHeader, gotTrace)
	}
}
