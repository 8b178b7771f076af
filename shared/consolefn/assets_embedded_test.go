//go:build docsassets

package consolefn

import (
	"io/fs"
	"testing"

	"github.com/tilgang/tilgang/shared/apidocs"
)

// TestEmbeddedAssets runs with make build's tag (go test -tags docsassets ./shared/consolefn
// after make build): the function carries the page's assets and the document.
func TestEmbeddedAssets(t *testing.T) {
	files := docsAssets()
	if !apidocs.Installed(files) {
		t.Error("the reference page's assets are not embedded")
	}
	if _, err := fs.Stat(files, apidocs.Document); err != nil {
		t.Errorf("the OpenAPI document is not embedded: %v", err)
	}
}
