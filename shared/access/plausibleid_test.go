package access

import (
	"strings"
	"testing"
)

func TestPlausibleID(t *testing.T) {
	for _, tc := range []struct {
		id   string
		want bool
	}{
		{"u_01m8y8ht9y8s9gk9hh4f3xgqvd", true},
		{"administrator", true},
		{"c-1.x~", true},
		{strings.Repeat("a", 64), true},
		{"", false},
		{strings.Repeat("a", 65), false},
		{"a#b", false}, // the key separator
		{"a/b", false},
		{"a b", false},
		{"a\x00b", false},
		{"a\x7fb", false},
		{"é", false},
		// At or below '$', an id would break the look-ups' range bounds (prefix+after+"$").
		{"a!b", false},
		{"a\"b", false},
		{"a$b", false},
	} {
		if got := PlausibleID(tc.id); got != tc.want {
			t.Errorf("PlausibleID(%q) = %v, want %v", tc.id, got, tc.want)
		}
	}
}
