package devserver

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/tilgang/tilgang/shared/apidocs"
	"github.com/tilgang/tilgang/shared/openapi"
)

// DocsAssets are the files of the pinned swagger-ui-dist package (.docs/package.json) the
// reference page loads; nothing else of the package is served.
var DocsAssets = apidocs.Assets

// Docs serves the OpenAPI document at /openapi.yaml and a reference page at /docs, from the
// embedded document and the local files of the pinned swagger-ui-dist package.
type Docs struct {
	// Dir holds swagger-ui-dist's files [<repo>/.docs/node_modules/swagger-ui-dist, installed
	// by make docs]. Without them /docs says how to install them.
	Dir string
}

// DefaultDocsDir is where make docs installs the page's assets under the repository root.
func DefaultDocsDir(root string) string {
	return filepath.Join(root, ".docs", "node_modules", "swagger-ui-dist")
}

// serve answers /openapi.yaml and /docs[/…] and reports whether the path was one of them.
func (d *Docs) serve(w http.ResponseWriter, r *http.Request) bool {
	path := r.URL.Path
	if path != "/openapi.yaml" && path != "/docs" && !strings.HasPrefix(path, "/docs/") {
		return false
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeProblem(w, http.StatusMethodNotAllowed, "use GET")
		return true
	}
	w.Header().Set("Content-Security-Policy", apidocs.Policy)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	switch path {
	case "/openapi.yaml":
		w.Header().Set("Content-Type", "application/yaml")
		_, _ = w.Write(openapi.YAML)
		return true
	case "/docs", "/docs/":
		if !d.installed() {
			writeProblem(w, http.StatusServiceUnavailable, "the reference page's assets are not installed: run make docs (or make run)")
			return true
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(apidocs.Page))
		return true
	case "/docs/init.js":
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		_, _ = w.Write([]byte(apidocs.Init))
		return true
	}
	name := strings.TrimPrefix(path, "/docs/")
	for _, a := range DocsAssets {
		if a == name {
			w.Header().Set("Cache-Control", "max-age=3600")
			http.ServeFile(w, r, filepath.Join(d.Dir, a))
			return true
		}
	}
	writeProblem(w, http.StatusNotFound, "no such file")
	return true
}

func (d *Docs) installed() bool {
	for _, a := range DocsAssets {
		if _, err := os.Stat(filepath.Join(d.Dir, a)); err != nil {
			return false
		}
	}
	return true
}
