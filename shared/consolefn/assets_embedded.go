//go:build docsassets

package consolefn

import (
	"embed"
	"io/fs"
)

// swagger holds swagger-ui-dist's page assets (apidocs.Assets), copied from the pinned package in
// .docs, and the OpenAPI document, copied from shared/openapi, by make build before it builds
// the function with -tags docsassets. The folder is ignored by git: the build fails here if a
// copy is missing, rather than ship a function whose /docs cannot work.
//
//go:embed swagger/swagger-ui.css swagger/swagger-ui-bundle.js swagger/favicon-32x32.png swagger/openapi.yaml
var swagger embed.FS

func docsAssets() fs.FS {
	sub, err := fs.Sub(swagger, "swagger")
	if err != nil {
		panic(err)
	}
	return sub
}
