// Package console is Tilgang's admin console: static HTML, CSS and JavaScript embedded in the
// binary, with no build step and nothing loaded from another host. The console calls only the
// public /v1 API with the signed-in user's bearer token (and, locally, the dev server's
// /dev/token to sign in), so it can be served by the dev server or from any static host.
package console

import (
	"embed"
	"encoding/json"
	"io/fs"
	"net/http"
	"strings"
)

//go:embed static
var files embed.FS

// Prefix is where the console is served.
const Prefix = "/console/"

// Files returns the console's static files, rooted at the folder index.html is in.
func Files() fs.FS {
	sub, err := fs.Sub(files, "static")
	if err != nil {
		panic(err) // the embedded folder always exists
	}
	return sub
}

// contentSecurityPolicy allows the console's own files and calls to its own origin, plus the
// origins in connect (the Cognito domain, for the token exchange of the hosted UI sign-in).
func contentSecurityPolicy(connect []string) string {
	src := strings.Join(append([]string{"'self'"}, connect...), " ")
	return "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
		"connect-src " + src + "; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
}

// Options adapt the console to where it is served. The zero value is the dev server's console:
// the embedded config.js (sign-in through /dev/token) and calls to its own origin only.
type Options struct {
	// ConnectSrc lists origins beyond its own the console may call (Content-Security-Policy
	// connect-src), e.g. https://<prefix>.auth.<region>.amazoncognito.com for the token exchange.
	ConnectSrc []string
	// Config, when set, is served as config.js instead of the embedded file (see ConfigJS).
	Config []byte
}

// Config is what config.js tells the console (window.TILGANG_CONSOLE).
type Config struct {
	// APIBase is the API's base URL without a trailing slash; "" for the console's own origin.
	APIBase string `json:"apiBase"`
	// SignIn is "dev", "token" or "cognito" (see static/config.js).
	SignIn string `json:"signIn"`
	// CognitoDomain is the hosted UI's base URL, https://<prefix>.auth.<region>.amazoncognito.com
	// (sign-in "cognito").
	CognitoDomain string `json:"cognitoDomain,omitempty"`
	// ClientID is the user pool app client the console signs in with (sign-in "cognito").
	ClientID string `json:"clientId,omitempty"`
}

// ConfigJS renders c as a config.js file.
func ConfigJS(c Config) []byte {
	b, err := json.Marshal(c)
	if err != nil {
		panic(err) // strings only
	}
	return []byte("'use strict';\nwindow.TILGANG_CONSOLE = " + string(b) + ";\n")
}

// Handler serves the dev server's console under Prefix (NewHandler with zero Options).
func Handler() http.Handler { return NewHandler(Options{}) }

// NewHandler serves the console under Prefix; /console answers a redirect to /console/. Every
// answer carries the console's Content-Security-Policy, nosniff and no-referrer.
func NewHandler(o Options) http.Handler {
	static := http.StripPrefix(Prefix, http.FileServerFS(Files()))
	policy := contentSecurityPolicy(o.ConnectSrc)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == strings.TrimSuffix(Prefix, "/") {
			http.Redirect(w, r, Prefix, http.StatusMovedPermanently)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		h := w.Header()
		h.Set("Content-Security-Policy", policy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		// Files change with the binary; revalidate so a rebuilt dev server is seen at once.
		h.Set("Cache-Control", "no-cache")
		if o.Config != nil && r.URL.Path == Prefix+"config.js" {
			h.Set("Content-Type", "text/javascript; charset=utf-8")
			if r.Method == http.MethodGet {
				_, _ = w.Write(o.Config)
			}
			return
		}
		static.ServeHTTP(w, r)
	})
}
