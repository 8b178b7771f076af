// Package apidocs is the API reference page: Swagger UI (the pinned swagger-ui-dist of
// .docs/package.json) on the embedded OpenAPI document. The dev server serves it from the
// package's installed files (shared/devserver); the console function from files embedded at
// build time (shared/consolefn). Both serve the same page, init script and policy from here.
package apidocs

import (
	"io/fs"
	"net/http"
	"strings"
)

// Assets are the files of swagger-ui-dist the page loads; nothing else of the package is served.
var Assets = []string{"swagger-ui.css", "swagger-ui-bundle.js", "favicon-32x32.png"}

// Policy keeps the page to its own origin: the browser refuses any script, style, font, image
// or request from another host, so the page demonstrably works with no network.
const Policy = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; " +
	"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

// Page is the reference page: Swagger UI on the document at /openapi.yaml.
const Page = `<!doctype html>
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

// Init starts Swagger UI. validatorUrl null: by default it would send the document to
// validator.swagger.io for a badge.
const Init = `window.ui = SwaggerUIBundle({
  url: "/openapi.yaml",
  dom_id: "#swagger-ui",
  deepLinking: true,
  validatorUrl: null,
  tryItOutEnabled: false,
  persistAuthorization: false
});
`

// Installed reports whether assets holds every file of Assets.
func Installed(assets fs.FS) bool {
	if assets == nil {
		return false
	}
	for _, a := range Assets {
		if _, err := fs.Stat(assets, a); err != nil {
			return false
		}
	}
	return true
}

// Document is the name of the OpenAPI document among the files Handler serves.
const Document = "openapi.yaml"

// Handler serves /openapi.yaml and /docs[/…] from files: the OpenAPI document (Document) and
// swagger-ui-dist's Assets, flat. It does not read shared/openapi itself, which would link the
// OpenAPI validator into the console function: the build copies the document in. Missing files
// answer 503 saying so; other paths 404.
func Handler(files fs.FS) http.Handler {
	installed := Installed(files)
	var document []byte
	if files != nil {
		document, _ = fs.ReadFile(files, Document)
	}
	assets := files
	var static http.Handler
	if installed {
		static = http.StripPrefix("/docs/", http.FileServerFS(assets))
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path := r.URL.Path
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "use GET", http.StatusMethodNotAllowed)
			return
		}
		h := w.Header()
		h.Set("Content-Security-Policy", Policy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		switch {
		case path == "/openapi.yaml":
			if document == nil {
				http.Error(w, "the OpenAPI document was not built into this function: build it with make build", http.StatusServiceUnavailable)
				return
			}
			h.Set("Content-Type", "application/yaml")
			_, _ = w.Write(document)
		case path == "/docs" || path == "/docs/":
			if !installed {
				http.Error(w, "the reference page's assets were not built into this function: build it with make build", http.StatusServiceUnavailable)
				return
			}
			h.Set("Content-Type", "text/html; charset=utf-8")
			_, _ = w.Write([]byte(Page))
		case path == "/docs/init.js":
			h.Set("Content-Type", "text/javascript; charset=utf-8")
			_, _ = w.Write([]byte(Init))
		case installed && isAsset(strings.TrimPrefix(path, "/docs/")):
			h.Set("Cache-Control", "max-age=3600")
			static.ServeHTTP(w, r)
		default:
			http.NotFound(w, r)
		}
	})
}

func isAsset(name string) bool {
	for _, a := range Assets {
		if a == name {
			return true
		}
	}
	return false
}
