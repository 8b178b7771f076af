package httpapi

import (
	"slices"
	"testing"

	"github.com/tilgang/tilgang/shared/routes"
)

// TestEveryRouteImplemented: every API function's table holds exactly the routes the route table
// gives that function (nothing missing, nothing of another function's), and every function of
// the route table has one.
func TestEveryRouteImplemented(t *testing.T) {
	var names []string
	for _, fn := range Functions() {
		names = append(names, fn.Name)
		var got, want []string
		for k := range (&API{}).table(fn) {
			got = append(got, k)
		}
		for _, r := range routes.For(fn.Name) {
			want = append(want, r.Key())
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("function %s implements\n  %v\nwant the routes of the route table\n  %v", fn.Name, got, want)
		}
		if f, ok := FunctionNamed(fn.Name); !ok || f.Name != fn.Name {
			t.Errorf("FunctionNamed(%q) = %v, %v", fn.Name, f.Name, ok)
		}
	}
	if want := routes.APIFunctions(); !slices.Equal(names, want) {
		t.Errorf("Functions() = %v, want the route table's %v", names, want)
	}
}
