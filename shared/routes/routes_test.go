package routes

import (
	"os"
	"path/filepath"
	"slices"
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

// TestMakefileKnowsTheWorkers: make build holds every Lambda behind a route (the API functions,
// SCIM, the console) to the API size budget and the rest, the workers, to the general one. Its
// WORKERS list must name exactly the folders of functions/ that serve no route.
func TestMakefileKnowsTheWorkers(t *testing.T) {
	makefile, err := os.ReadFile(filepath.Join("..", "..", "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	var workers, notLambdas []string
	for _, line := range strings.Split(string(makefile), "\n") {
		if v, ok := strings.CutPrefix(line, "WORKERS"); ok {
			_, list, _ := strings.Cut(v, "=")
			workers = strings.Fields(list)
		}
		// FUNCTIONS := $(filter-out devserver invoke ...,...): the commands that are never deployed.
		if _, v, ok := strings.Cut(line, "$(filter-out "); ok && strings.HasPrefix(line, "FUNCTIONS") {
			list, _, _ := strings.Cut(v, ",")
			notLambdas = strings.Fields(list)
		}
	}
	if len(notLambdas) == 0 {
		t.Fatal("the Makefile's FUNCTIONS has no filter-out list of the commands")
	}
	served := map[string]bool{FnSCIM: true}
	for _, r := range append(slices.Clone(All), Public...) {
		served[r.Function] = true
	}
	dirs, err := os.ReadDir(filepath.Join("..", "..", "functions"))
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, d := range dirs {
		if d.IsDir() && !served[d.Name()] && !slices.Contains(notLambdas, d.Name()) {
			want = append(want, d.Name())
		}
	}
	slices.Sort(workers)
	if !slices.Equal(workers, want) {
		t.Errorf("Makefile WORKERS = %v, want the functions that serve no route: %v", workers, want)
	}
}
