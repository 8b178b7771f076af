package localauth_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tilgang/tilgang/shared/localauth"
)

func newIssuer(t *testing.T, key string, now time.Time) *localauth.TokenIssuer {
	t.Helper()
	i, err := localauth.NewIssuer([]byte(strings.Repeat(key, 32)))
	if err != nil {
		t.Fatal(err)
	}
	i.Now = func() time.Time { return now }
	return i
}

func TestIssueVerify(t *testing.T) {
	now := time.Unix(1_767_225_600, 0)
	i := newIssuer(t, "k", now)
	tok, err := i.Issue("tenant-1", "user-1")
	if err != nil {
		t.Fatal(err)
	}
	got, err := i.Verify(tok)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"sub":              "user-1",
		"cognito:username": "user-1",
		"custom:tenant_id": "tenant-1",
		"token_use":        "id",
		"iss":              "tilgang-local",
		"iat":              "1767225600",
		"exp":              "1767268800",
	}
	if len(got) != len(want) {
		t.Errorf("got claims %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("claim %s = %q, want %q", k, got[k], v)
		}
	}
}

func TestVerifyRejects(t *testing.T) {
	now := time.Unix(1_767_225_600, 0)
	good := newIssuer(t, "k", now)
	tok, err := good.Issue("tenant-1", "user-1")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		issuer *localauth.TokenIssuer
		token  string
	}{
		{"empty", good, ""},
		{"garbage", good, "not.a.token"},
		{"other key", newIssuer(t, "x", now), tok},
		{"expired", newIssuer(t, "k", now.Add(localauth.TTL+time.Minute)), tok},
		{"tampered", good, tok[:len(tok)-2] + "AA"},
		{"alg none", good, "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0." + strings.Split(tok, ".")[1] + "."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := tt.issuer.Verify(tt.token); !errors.Is(err, localauth.ErrInvalidToken) {
				t.Errorf("Verify = %v, want ErrInvalidToken", err)
			}
		})
	}
}

func TestIssueNeedsIDs(t *testing.T) {
	i := newIssuer(t, "k", time.Now())
	if _, err := i.Issue("", "u"); err == nil {
		t.Error("Issue without tenant succeeded")
	}
	if _, err := localauth.NewIssuer([]byte("short")); err == nil {
		t.Error("NewIssuer accepted a 5-byte key")
	}
}

func TestLoadOrCreateKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), ".local", "token.key")
	k1, err := localauth.LoadOrCreateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(k1) != 32 {
		t.Errorf("key has %d bytes, want 32", len(k1))
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != 0o600 {
		t.Errorf("key file mode = %v, want 0600", got)
	}
	k2, err := localauth.LoadOrCreateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(k1, k2) {
		t.Error("second LoadOrCreateKey made a new key, want the stored one")
	}
	if err := os.WriteFile(path, []byte("zz"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := localauth.LoadOrCreateKey(path); err == nil {
		t.Error("a corrupt key file was accepted")
	}
}
