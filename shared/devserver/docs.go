package devserver

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/tilgang/tilgang/shared/openapi"
)

// DocsAssets are the files of the pinned swagger-ui-dist package (.docs/package.json) the
// reference page loads; nothing else of the package is served.
var DocsAssets = []string{"swagger-ui.css", "swagger-ui-bundle.js", "favicon-32x32.png"}

// docsPolicy keeps the page to this server: the browser refuses any script, style, font, image
// or request from another host, so the page demonstrably works with no network.
const docsPolicy = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; " +
	"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

// docsPage is the reference page: Swagger UI on the document at /openapi.yaml.
const docsPage = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Tilgang API reference</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" type="image/png" href="/docs/favicon-32x32.png">
<link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
`

// docsInit starts Swagger UI. validatorUrl null: by default it would send the document to
// validator.swagger.io for a badge.
const docsInit = `window.ui = SwaggerUIBundle({
  url: "/openapi.yaml",
  dom_id: "#swagger-ui",
  deepLinking: true,
  validatorUrl: null,
  tryItOutEnabled: false,
  persistAuthorization: false
});
`

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
	w.Header().Set("Content-Security-Policy", docsPolicy)
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
		_, _ = w.Write([]byte(docsPage))
		return true
	case "/docs/init.js":
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		_, _ = w.Write([]byte(docsInit))
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
