//go:build !docsassets

package consolefn

import "io/fs"

// docsAssets is nil without the docsassets build tag (go test, go vet): /openapi.yaml and /docs
// answer 503. make build embeds them (assets_embedded.go).
func docsAssets() fs.FS { return nil }
