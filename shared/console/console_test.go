package console_test

import (
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/tilgang/tilgang/shared/console"
)

func TestHandler(t *testing.T) {
	h := console.Handler()
	tests := []struct {
		method, path string
		status       int
		contentType  string
	}{
		{"GET", "/console", http.StatusMovedPermanently, ""},
		{"GET", "/console/", http.StatusOK, "text/html; charset=utf-8"},
		{"GET", "/console/app.js", http.StatusOK, "text/javascript; charset=utf-8"},
		{"GET", "/console/strings.js", http.StatusOK, "text/javascript; charset=utf-8"},
		{"GET", "/console/config.js", http.StatusOK, "text/javascript; charset=utf-8"},
		{"GET", "/console/console.css", http.StatusOK, "text/css; charset=utf-8"},
		{"HEAD", "/console/", http.StatusOK, "text/html; charset=utf-8"},
		{"GET", "/console/nothing.js", http.StatusNotFound, ""},
		{"POST", "/console/", http.StatusMethodNotAllowed, ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest(tt.method, tt.path, nil))
			if w.Code != tt.status {
				t.Fatalf("status = %d, want %d", w.Code, tt.status)
			}
			if tt.contentType != "" && w.Header().Get("Content-Type") != tt.contentType {
				t.Errorf("Content-Type = %q, want %q", w.Header().Get("Content-Type"), tt.contentType)
			}
			if tt.status == http.StatusOK {
				for _, h := range []string{"Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy"} {
					if w.Header().Get(h) == "" {
						t.Errorf("no %s header", h)
					}
				}
			}
		})
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/console", nil))
	if loc := w.Header().Get("Location"); loc != "/console/" {
		t.Errorf("redirect to %q", loc)
	}
}

// TestNoOtherHosts: nothing in the console is loaded from another host at run time.
func TestNoOtherHosts(t *testing.T) {
	url := regexp.MustCompile(`(?i)(src|href)\s*=\s*["']?(https?:)?//|url\(\s*["']?(https?:)?//|@import|fetch\(\s*["'](https?:)?//`)
	err := fs.WalkDir(console.Files(), ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(console.Files(), path)
		if err != nil {
			return err
		}
		if m := url.Find(b); m != nil {
			t.Errorf("%s loads from another host: %s", path, m)
		}
		if strings.HasSuffix(path, ".html") && !strings.Contains(string(b), `lang="en"`) {
			t.Errorf("%s has no lang attribute", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestOptions: a deployment serves its own config.js and lets the console reach the Cognito
// domain; the dev server's console (zero Options) connects to its own origin only.
func TestOptions(t *testing.T) {
	cfg := console.ConfigJS(console.Config{SignIn: "cognito", CognitoDomain: "https://x.auth.eu-north-1.amazoncognito.com", ClientID: "abc"})
	h := console.NewHandler(console.Options{ConnectSrc: []string{"https://x.auth.eu-north-1.amazoncognito.com"}, Config: cfg})
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/console/config.js", nil))
	if w.Code != http.StatusOK || w.Body.String() != string(cfg) {
		t.Errorf("config.js: %d %q", w.Code, w.Body.String())
	}
	if !strings.Contains(w.Body.String(), `window.TILGANG_CONSOLE = {"apiBase":"","signIn":"cognito"`) {
		t.Errorf("config.js = %q", w.Body.String())
	}
	if csp := w.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "connect-src 'self' https://x.auth.eu-north-1.amazoncognito.com;") {
		t.Errorf("CSP %q", csp)
	}

	w = httptest.NewRecorder()
	console.Handler().ServeHTTP(w, httptest.NewRequest("GET", "/console/config.js", nil))
	if !strings.Contains(w.Body.String(), "signIn: 'dev'") {
		t.Errorf("the dev server's config.js changed: %q", w.Body.String())
	}
	if csp := w.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "connect-src 'self';") {
		t.Errorf("dev CSP %q", csp)
	}
}
