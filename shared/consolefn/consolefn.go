// Package consolefn is the console function: it serves the admin console (shared/console) and
// the API reference (shared/apidocs) from API Gateway on the public routes of routes.Public,
// with a config.js computed from its environment so the console signs in through the Cognito
// hosted UI. The files are embedded in the binary; the function reads nothing else and calls
// nothing, so its role has no permission beyond its own log group.
package consolefn

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tilgang/tilgang/shared/apidocs"
	"github.com/tilgang/tilgang/shared/console"
)

// Environment variables the stack sets on the function.
const (
	// EnvCognitoDomain is the hosted UI's base URL, https://<prefix>.auth.<region>.amazoncognito.com.
	EnvCognitoDomain = "CONSOLE_COGNITO_DOMAIN"
	// EnvClientID is the user pool app client the console signs in with.
	EnvClientID = "CONSOLE_CLIENT_ID"
)

// Config is what the console needs to sign in through the hosted UI.
type Config struct {
	CognitoDomain string
	ClientID      string
}

// FromEnv reads the Config from the function's environment.
func FromEnv() (Config, error) {
	c := Config{CognitoDomain: strings.TrimSuffix(os.Getenv(EnvCognitoDomain), "/"), ClientID: os.Getenv(EnvClientID)}
	if c.CognitoDomain == "" || c.ClientID == "" {
		return c, fmt.Errorf("consolefn: %s and %s are required", EnvCognitoDomain, EnvClientID)
	}
	u, err := url.Parse(c.CognitoDomain)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.Path != "" {
		return c, fmt.Errorf("consolefn: %s must be an https origin, got %q", EnvCognitoDomain, c.CognitoDomain)
	}
	return c, nil
}

// Handler serves /console[/…] and /openapi.yaml, /docs[/…]; anything else answers 404. The
// console calls the API on its own origin (the same HTTP API) and may connect to the Cognito
// domain only, for the token exchange.
func Handler(c Config) http.Handler { return newHandler(c, docsAssets()) }

func newHandler(c Config, docsFiles fs.FS) http.Handler {
	consoleFiles := console.NewHandler(console.Options{
		ConnectSrc: []string{c.CognitoDomain},
		Config: console.ConfigJS(console.Config{
			APIBase: "", SignIn: "cognito", CognitoDomain: c.CognitoDomain, ClientID: c.ClientID,
		}),
	})
	docs := apidocs.Handler(docsFiles)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		switch {
		case p == "/console" || strings.HasPrefix(p, console.Prefix):
			consoleFiles.ServeHTTP(w, r)
		case p == "/openapi.yaml" || p == "/docs" || strings.HasPrefix(p, "/docs/"):
			docs.ServeHTTP(w, r)
		default:
			http.NotFound(w, r)
		}
	})
}

// minGzip is the smallest body worth compressing.
const minGzip = 1024

// Lambda adapts h to API Gateway HTTP API (payload format 2.0) events. Bodies are gzipped when
// the browser accepts it (the HTTP API does not compress) and sent base64-encoded unless they
// are plain UTF-8 text.
func Lambda(h http.Handler) func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	return func(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		target := ev.RawPath
		if target == "" {
			target = "/"
		}
		if ev.RawQueryString != "" {
			target += "?" + ev.RawQueryString
		}
		method := ev.RequestContext.HTTP.Method
		if method == "" {
			method = http.MethodGet
		}
		req, err := http.NewRequestWithContext(ctx, method, target, nil)
		if err != nil {
			return events.APIGatewayV2HTTPResponse{StatusCode: http.StatusBadRequest, Body: "bad request path"}, nil
		}
		for k, v := range ev.Headers {
			req.Header.Set(k, v)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)

		res := events.APIGatewayV2HTTPResponse{StatusCode: rec.Code, Headers: map[string]string{}}
		for k, vs := range rec.Header() {
			res.Headers[k] = strings.Join(vs, ", ")
		}
		body := rec.Body.Bytes()
		if len(body) >= minGzip && acceptsGzip(req.Header.Get("Accept-Encoding")) {
			res.Headers["Content-Encoding"] = "gzip"
			res.Headers["Vary"] = "Accept-Encoding"
			delete(res.Headers, "Content-Length")
			res.Body, res.IsBase64Encoded = gzipped(ev.RawPath, rec.Code, body), true
			return res, nil
		}
		if utf8.Valid(body) {
			res.Body = string(body)
		} else {
			res.Body, res.IsBase64Encoded = base64.StdEncoding.EncodeToString(body), true
		}
		return res, nil
	}
}

// gzipCache holds the base64 of each gzipped 200 answer by path: the files are fixed for the
// life of the function, so a warm instance compresses the 1.7 MB Swagger UI bundle once.
var gzipCache sync.Map

func gzipped(path string, status int, body []byte) string {
	if status == http.StatusOK {
		if v, ok := gzipCache.Load(path); ok {
			return v.(string)
		}
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write(body)
	_ = zw.Close() // writes to a bytes.Buffer do not fail
	out := base64.StdEncoding.EncodeToString(buf.Bytes())
	if status == http.StatusOK {
		gzipCache.Store(path, out)
	}
	return out
}

func acceptsGzip(header string) bool {
	for _, part := range strings.Split(header, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(name), "gzip") && strings.ReplaceAll(strings.TrimSpace(params), " ", "") != "q=0" {
			return true
		}
	}
	return false
}
