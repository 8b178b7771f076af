package devserver

import (
	"net/http"
	"strings"

	"github.com/tilgang/tilgang/shared/console"
)

// consoleFiles serves the admin console's embedded static files.
var consoleFiles = console.Handler()

// serveConsole serves /console and everything under /console/, and reports whether it did.
// The console then calls the API routes of this same server with the user's token.
func serveConsole(w http.ResponseWriter, r *http.Request) bool {
	if r.URL.Path != "/console" && !strings.HasPrefix(r.URL.Path, console.Prefix) {
		return false
	}
	consoleFiles.ServeHTTP(w, r)
	return true
}
