package httpapi

import (
	"testing"

	"github.com/tilgang/tilgang/shared/access"
)

func TestCheckText(t *testing.T) {
	for _, c := range []struct {
		body, field string // field "" means accepted
	}{
		{`{"name":"Mette","groupIds":["a","b"]}`, ""},
		{`{"name":"\ud83d\ude00 ok"}`, ""},  // an escaped pair is one character
		{"{\"name\":\"k\xc3\xa9\"}", ""},    // é in UTF-8
		{"{\"name\":\"\xff\xfe\"}", "name"}, // invalid bytes
		{`{"name":"\ud800"}`, "name"},       // lone high surrogate
		{`{"name":"\udc00x"}`, "name"},      // lone low surrogate
		{`{"name":"\ud800\u0041"}`, "name"}, // high surrogate, then no low one
		{`{"owner":{"email":"\udfff@x.dk"}}`, "owner.email"},
		{"{\"groupIds\":[\"a\",\"\xc0\xaf\"]}", "groupIds[1]"}, // overlong encoding
		{"{\"perm\xffs\":1}", "body"},
		{`{"permissions":{"clients":{"level":"\ud800"}}}`, "permissions.clients.level"},
		{"[\"\xff\"]", "body[0]"},
		{`{"name": `, ""}, // not JSON: the decoder reports it
		{`{"a":[1,{"b":"\ud834\udd1e"}],"c":null,"d":true}`, ""},
	} {
		err := checkText([]byte(c.body))
		var e *access.Error
		switch {
		case c.field == "" && err != nil:
			t.Errorf("checkText(%q) = %v, want accepted", c.body, err)
		case c.field != "" && (!asError(err, &e) || e.Field != c.field || e.Code != access.CodeInvalid):
			t.Errorf("checkText(%q) = %v, want invalid naming %s", c.body, err, c.field)
		}
	}
}
