// Package console is Tilgang's admin console: static HTML, CSS and JavaScript embedded in the
// binary, with no build step and nothing loaded from another host. The console calls only the
// public /v1 API with the signed-in user's bearer token (and, locally, the dev server's
// /dev/token to sign in), so it can be served by the dev server or from any static host.
package console

import (
	"embed"
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

// contentSecurityPolicy allows the console's own files and calls to its own origin only.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// Handler serves the console under Prefix; /console answers a redirect to /console/.
func Handler() http.Handler {
	static := http.StripPrefix(Prefix, http.FileServerFS(Files()))
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
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		// Files change with the binary; revalidate so a rebuilt dev server is seen at once.
		h.Set("Cache-Control", "no-cache")
		static.ServeHTTP(w, r)
	})
}
