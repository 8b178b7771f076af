package access

import (
	"strings"
	"testing"
)

func TestEmailIdentity(t *testing.T) {
	same := []struct{ a, b string }{
		{"k\u00e9n@example.com", "ke\u0301n@example.com"},                   // NFC and NFD
		{"\uff4d\uff45\uff54\uff54\uff45@example.com", "mette@example.com"}, // full-width letters
		{"Mette@Example.COM", "mette@example.com"},
		{"\ufb01nn@example.com", "finn@example.com"}, // the fi ligature
		{"M\u00c9TTE@example.com", "m\u00e9tte@example.com"},
	}
	for _, c := range same {
		da, err := NormalizeEmail("email", c.a)
		if err != nil {
			t.Fatalf("NormalizeEmail(%q): %v", c.a, err)
		}
		db, err := NormalizeEmail("email", c.b)
		if err != nil {
			t.Fatalf("NormalizeEmail(%q): %v", c.b, err)
		}
		if EmailKey(da) != EmailKey(db) {
			t.Errorf("EmailKey(%q) = %q, EmailKey(%q) = %q: want one identity", c.a, EmailKey(da), c.b, EmailKey(db))
		}
	}
	// The display form is what was typed, composed (NFC), case kept.
	if got, _ := NormalizeEmail("email", "  Ke\u0301n@Example.com "); got != "K\u00e9n@Example.com" {
		t.Errorf("display form = %q", got)
	}
	for name, in := range map[string]string{
		"zero-width space":    "me\u200btte@example.com",
		"zero-width joiner":   "me\u200dtte@example.com",
		"bidi override":       "\u202emette@example.com",
		"bidi isolate":        "mette\u2066@example.com",
		"byte order mark":     "\ufeffmette@example.com",
		"soft hyphen":         "met\u00adte@example.com",
		"control":             "met\x01te@example.com",
		"no-break space":      "met\u00a0te@example.com",
		"ideographic space":   "met\u3000te@example.com",
		"private use":         "met\ue000te@example.com",
		"symbol":              "met\u2603te@example.com",
		"invalid UTF-8":       "met\xfftte@example.com",
		"local part of 65":    strings.Repeat("a", 65) + "@example.com",
		"whole of 255":        "a@" + strings.Repeat("b", 245) + ".example",
		"full-width at":       "mette\uff20example.com", // NFKC makes a second @ out of it
		"no dot in domain":    "mette@example",
		"display name":        "Mette <mette@example.com>",
		"two ats":             "a@b@example.com",
		"empty local part":    "@example.com",
		"trailing dot":        "mette@example.com.",
		"240-char local":      strings.Repeat("x", 240) + "@example.com",
		"full-width 65 local": strings.Repeat("\uff41", 65) + "@example.com",
	} {
		if _, err := NormalizeEmail("email", in); ErrorCode(err) != CodeInvalid {
			t.Errorf("%s: NormalizeEmail(%q) = %v, want invalid", name, in, err)
		}
	}
	if _, err := NormalizeEmail("email", strings.Repeat("a", 64)+"@example.com"); err != nil {
		t.Errorf("a local part of 64 refused: %v", err)
	}
}
