package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/tilgang/tilgang/shared/access"
	"github.com/tilgang/tilgang/shared/access/accesstest"
	"github.com/tilgang/tilgang/shared/localstack"
)

func TestMain(m *testing.M) { localstack.Main(m) }

func TestOpenTenant(t *testing.T) {
	e := accesstest.New(t)
	open := func(args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		code := run(e.Ctx, e.People, args, &out, &errOut)
		return code, out.String(), errOut.String()
	}
	code, out, errOut := open("-name", "Klinik Nord", "-owner-name", "Karin Owner", "-owner-email", "karin@example.com")
	if code != 0 || !strings.HasPrefix(out, "opened tenant t_") {
		t.Fatalf("exit %d, out %q, err %q", code, out, errOut)
	}
	if strings.Contains(out, "karin") || strings.Contains(out, "Karin") {
		t.Errorf("the output repeats personal data: %q", out)
	}
	owner, err := e.People.UserByEmail(e.Ctx, "karin@example.com")
	if err != nil || !owner.IsOwner || owner.Status != access.StatusActive || !strings.Contains(out, owner.ID) {
		t.Fatalf("owner %+v, %v; out %q", owner, err, out)
	}
	if calls := e.Identity.Take(); len(calls) != 1 || calls[0] != "invite "+owner.ID {
		t.Errorf("identity calls %v, want the owner's invitation", calls)
	}

	for _, tc := range []struct {
		name string
		args []string
		code int
		says string
	}{
		{"no name", []string{"-owner-name", "O", "-owner-email", "o@example.com"}, 2, "name"},
		{"a bad email", []string{"-name", "N", "-owner-name", "O", "-owner-email", "not-an-email"}, 2, "owner.email"},
		{"an email already taken", []string{"-name", "N", "-owner-name", "O", "-owner-email", "KARIN@example.com"}, 2, "opentenant:"},
		{"an unknown flag", []string{"-nme", "N"}, 2, "flag provided but not defined"},
		{"a stray argument", []string{"-name", "N", "extra"}, 2, `unexpected argument "extra"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := open(tc.args...)
			if code != tc.code || !strings.Contains(errOut, tc.says) || out != "" {
				t.Errorf("exit %d, out %q, err %q; want %d and %q", code, out, errOut, tc.code, tc.says)
			}
		})
	}

	// The invitation fails: the account is rolled back and the command fails.
	e.Identity.InviteFn = func(access.User) error { return errors.New("user pool unreachable") }
	code, out, errOut = open("-name", "Klinik Syd", "-owner-name", "Sara Owner", "-owner-email", "sara@example.com")
	if code != 1 || out != "" || !strings.Contains(errOut, "opentenant:") {
		t.Errorf("exit %d, out %q, err %q; want 1", code, out, errOut)
	}
	if _, err := e.People.UserByEmail(e.Ctx, "sara@example.com"); accesstest.Code(err) != access.CodeNotFound {
		t.Errorf("after a failed invitation the owner exists: %v", err)
	}
}
