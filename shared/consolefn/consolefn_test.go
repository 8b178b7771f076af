package consolefn

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tilgang/tilgang/shared/apidocs"
)

const domain = "https://tilgang-test.auth.eu-north-1.amazoncognito.com"

var cfg = Config{CognitoDomain: domain, ClientID: "client123"}

func get(t *testing.T, h http.Handler, path string, headers map[string]string) events.APIGatewayV2HTTPResponse {
	t.Helper()
	ev := events.APIGatewayV2HTTPRequest{RawPath: path, Headers: headers}
	ev.RequestContext.HTTP.Method = "GET"
	res, err := Lambda(h)(context.Background(), ev)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return res
}

// body decodes a response body as API Gateway would send it.
func body(t *testing.T, res events.APIGatewayV2HTTPResponse) string {
	t.Helper()
	b := []byte(res.Body)
	if res.IsBase64Encoded {
		var err error
		if b, err = base64.StdEncoding.DecodeString(res.Body); err != nil {
			t.Fatal(err)
		}
	}
	if res.Headers["Content-Encoding"] == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if b, err = io.ReadAll(zr); err != nil {
			t.Fatal(err)
		}
	}
	return string(b)
}

func TestConsoleIsServedWithCognitoSignIn(t *testing.T) {
	h := newHandler(cfg, nil)

	res := get(t, h, "/console/", nil)
	if res.StatusCode != http.StatusOK || !strings.Contains(body(t, res), "<script src=\"config.js\">") {
		t.Fatalf("/console/: %d %q", res.StatusCode, res.Body)
	}
	csp := res.Headers["Content-Security-Policy"]
	if !strings.Contains(csp, "connect-src 'self' "+domain+";") || !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("CSP %q does not allow the Cognito domain for the token exchange only", csp)
	}
	if res.Headers["X-Content-Type-Options"] != "nosniff" || res.Headers["Referrer-Policy"] != "no-referrer" {
		t.Errorf("security headers: %v", res.Headers)
	}

	res = get(t, h, "/console/config.js", nil)
	js := body(t, res)
	for _, want := range []string{`"signIn":"cognito"`, `"cognitoDomain":"` + domain + `"`, `"clientId":"client123"`, `"apiBase":""`} {
		if !strings.Contains(js, want) {
			t.Errorf("config.js %q lacks %s", js, want)
		}
	}
	if ct := res.Headers["Content-Type"]; ct != "text/javascript; charset=utf-8" {
		t.Errorf("config.js Content-Type %q", ct)
	}

	res = get(t, h, "/console", nil)
	if res.StatusCode != http.StatusMovedPermanently || res.Headers["Location"] != "/console/" {
		t.Errorf("/console: %d to %q", res.StatusCode, res.Headers["Location"])
	}
	if res := get(t, h, "/v1/users", nil); res.StatusCode != http.StatusNotFound {
		t.Errorf("/v1/users: %d, want 404 (the console function serves static files only)", res.StatusCode)
	}
	// Built without the docsassets tag: the reference page says it is missing.
	if res := get(t, h, "/docs", nil); res.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("/docs without assets: %d, want 503", res.StatusCode)
	}
}

func TestDocsFromEmbeddedFiles(t *testing.T) {
	files := fstest.MapFS{apidocs.Document: {Data: []byte("openapi: 3.1.0\n")}}
	for _, a := range apidocs.Assets {
		files[a] = &fstest.MapFile{Data: bytes.Repeat([]byte{0xff, 'x'}, 2000)}
	}
	h := newHandler(cfg, files)

	res := get(t, h, "/openapi.yaml", nil)
	if res.StatusCode != http.StatusOK || body(t, res) != "openapi: 3.1.0\n" || res.Headers["Content-Type"] != "application/yaml" {
		t.Errorf("/openapi.yaml: %d %q %v", res.StatusCode, res.Body, res.Headers)
	}
	res = get(t, h, "/docs", nil)
	if res.StatusCode != http.StatusOK || !strings.Contains(body(t, res), "swagger-ui-bundle.js") {
		t.Errorf("/docs: %d", res.StatusCode)
	}
	if csp := res.Headers["Content-Security-Policy"]; csp != apidocs.Policy {
		t.Errorf("/docs CSP %q", csp)
	}
	// Binary, large: base64, and gzipped when the browser accepts it.
	res = get(t, h, "/docs/favicon-32x32.png", nil)
	if res.StatusCode != http.StatusOK || !res.IsBase64Encoded || body(t, res) != string(files["favicon-32x32.png"].Data) {
		t.Errorf("favicon: %d base64 %v", res.StatusCode, res.IsBase64Encoded)
	}
	res = get(t, h, "/docs/swagger-ui-bundle.js", map[string]string{"accept-encoding": "gzip, deflate, br"})
	if res.Headers["Content-Encoding"] != "gzip" || body(t, res) != string(files["swagger-ui-bundle.js"].Data) {
		t.Errorf("bundle: Content-Encoding %q", res.Headers["Content-Encoding"])
	}
	if res := get(t, h, "/docs/package.json", nil); res.StatusCode != http.StatusNotFound {
		t.Errorf("/docs/package.json: %d, want 404 (only the page's assets)", res.StatusCode)
	}
}

func TestFromEnv(t *testing.T) {
	t.Setenv(EnvCognitoDomain, domain+"/")
	t.Setenv(EnvClientID, "c")
	c, err := FromEnv()
	if err != nil || c.CognitoDomain != domain {
		t.Errorf("FromEnv = %+v, %v", c, err)
	}
	for _, bad := range []string{"", "http://x.example", "https://x.example/path"} {
		t.Setenv(EnvCognitoDomain, bad)
		if _, err := FromEnv(); err == nil {
			t.Errorf("FromEnv accepted domain %q", bad)
		}
	}
}

func TestAcceptsGzip(t *testing.T) {
	for h, want := range map[string]bool{"gzip": true, "br, gzip;q=0.5": true, "gzip;q=0": false, "": false, "identity": false} {
		if got := acceptsGzip(h); got != want {
			t.Errorf("acceptsGzip(%q) = %v", h, got)
		}
	}
}

// TestBuildCopiesEveryAsset keeps the three lists of the page's files in step: apidocs.Assets
// (what the page loads), the embed directive (what the function carries) and make build's copy.
func TestBuildCopiesEveryAsset(t *testing.T) {
	embedded, err := os.ReadFile("assets_embedded.go")
	if err != nil {
		t.Fatal(err)
	}
	makefile, err := os.ReadFile(filepath.Join("..", "..", "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range apidocs.Assets {
		if !strings.Contains(string(embedded), "swagger/"+a) {
			t.Errorf("assets_embedded.go does not embed %s", a)
		}
		if !strings.Contains(string(makefile), a) {
			t.Errorf("make build does not copy %s", a)
		}
	}
	if !strings.Contains(string(embedded), "swagger/"+apidocs.Document) {
		t.Errorf("assets_embedded.go does not embed %s", apidocs.Document)
	}
}
