package routes

import (
	"strings"
	"testing"
)

// TestPublicRoutesStayOutOfTheAPI keeps the public static routes apart from the /v1 API: none is
// under /v1, none collides with an API route, and All holds no public function.
func TestPublicRoutesStayOutOfTheAPI(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range All {
		seen[r.Key()] = true
		if r.Function == FnConsole {
			t.Errorf("routes.All holds %s of the public console function", r.Key())
		}
	}
	for _, r := range Public {
		if strings.HasPrefix(r.Path, "/v1/") || r.Path == "/v1" {
			t.Errorf("public route %s is under /v1", r.Key())
		}
		if r.Method != "GET" {
			t.Errorf("public route %s: static files are GET only", r.Key())
		}
		if seen[r.Key()] {
			t.Errorf("public route %s declared twice", r.Key())
		}
		seen[r.Key()] = true
		if _, _, ok := Match(r.Method, strings.ReplaceAll(r.Path, "{proxy+}", "index.html")); ok {
			t.Errorf("public route %s matches an API route", r.Key())
		}
	}
}
