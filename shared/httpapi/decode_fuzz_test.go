package httpapi

import (
	"testing"

	"github.com/tilgang/tilgang/shared/access"
)

// FuzzDecodeJSON checks that no body makes request decoding panic, and that every refusal is
// a domain error the API maps to a 4xx problem.
func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{`{}`, `{"name":"a","email":"b@c.de","profession":"other"}`, `{"groupIds":["a",1]}`,
		`{"permissions":{"clients":{"level":"edit","scope":"own"}}}`, `[`, `{"name":"\u0000"}`, `null`, `{"a":{"b":[{}]}}`,
		"{\"name\":\"\xff\"}", `{"name":"\ud800"}`, `{"groupIds":["\udc00"]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var user struct {
			Name        string                         `json:"name"`
			Email       string                         `json:"email"`
			GroupIDs    []string                       `json:"groupIds"`
			Permissions map[access.Area]permissionJSON `json:"permissions"`
			Rate        *int                           `json:"employmentRate"`
		}
		err := DecodeJSON(b, &user)
		if err == nil {
			return
		}
		p, ok := ProblemFor(err)
		if !ok || p.Status < 400 || p.Status >= 500 {
			t.Fatalf("DecodeJSON(%q) = %v: not a 4xx problem", b, err)
		}
	})
}
