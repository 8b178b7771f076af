package cognito_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"

	"github.com/tilgang/tilgang/shared/access"
	"github.com/tilgang/tilgang/shared/cognito"
)

// fakePool speaks Cognito's JSON protocol: each operation answers with the error named in
// errs (as Cognito sends it: status 400 and {"__type", "message"}) or with an empty success.
type fakePool struct {
	mu     sync.Mutex
	errs   map[string][2]string // operation → error type, message
	ops    []string
	bodies []string
}

func (f *fakePool) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "AWSCognitoIdentityProviderService.")
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.ops = append(f.ops, op)
	f.bodies = append(f.bodies, string(body))
	e, failing := f.errs[op]
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	if failing {
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]string{"__type": e[0], "message": e[1]})
		return
	}
	_, _ = w.Write([]byte("{}"))
}

func newIdentity(t *testing.T, errs map[string][2]string) (*cognito.Identity, *fakePool) {
	t.Helper()
	f := &fakePool{errs: errs}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	client := cip.New(cip.Options{
		Region:       "eu-north-1",
		BaseEndpoint: aws.String(srv.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		Retryer:      aws.NopRetryer{},
	})
	return cognito.New(client, "eu-north-1_Test"), f
}

var kari = access.User{ID: "u_01jdexample0kari000000000", TenantID: "t_01jdexample0tenant00000000",
	Name: "Kari Nordmann", Email: "kari.nordmann@example.no"}

func TestRetriesAndMissingLoginsAreHarmless(t *testing.T) {
	ctx := context.Background()
	exists := map[string][2]string{"AdminCreateUser": {"UsernameExistsException", "User account already exists"}}
	id, _ := newIdentity(t, exists)
	if err := id.Invite(ctx, kari); err != nil {
		t.Fatalf("invite of an existing login: %v, want nil", err)
	}

	missing := [2]string{"UserNotFoundException", "User does not exist."}
	id, pool := newIdentity(t, map[string][2]string{"AdminDeleteUser": missing, "AdminDisableUser": missing, "AdminUserGlobalSignOut": missing})
	if err := id.Delete(ctx, kari); err != nil {
		t.Fatalf("delete of a missing login: %v, want nil", err)
	}
	if err := id.Disable(ctx, kari); err != nil {
		t.Fatalf("disable of a missing login: %v, want nil", err)
	}
	if !slices.Contains(pool.ops, "AdminDeleteUser") || !slices.Contains(pool.ops, "AdminDisableUser") {
		t.Fatalf("operations %v", pool.ops)
	}
}

func TestDisableAlsoSignsOutEverywhere(t *testing.T) {
	id, pool := newIdentity(t, nil)
	if err := id.Disable(context.Background(), kari); err != nil {
		t.Fatal(err)
	}
	if want := []string{"AdminDisableUser", "AdminUserGlobalSignOut"}; !slices.Equal(pool.ops, want) {
		t.Fatalf("operations %v, want %v", pool.ops, want)
	}
}

// An email change sets the login's email, verified, so that Cognito neither mails a code nor
// keeps signing the user in with the old address; a missing login has nothing to change.
func TestUpdateEmailSetsTheVerifiedEmail(t *testing.T) {
	id, pool := newIdentity(t, nil)
	if err := id.UpdateEmail(context.Background(), kari); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(pool.ops, []string{"AdminUpdateUserAttributes"}) {
		t.Fatalf("operations %v", pool.ops)
	}
	var in struct {
		UserPoolId, Username string
		UserAttributes       []struct{ Name, Value string }
	}
	if err := json.Unmarshal([]byte(pool.bodies[0]), &in); err != nil {
		t.Fatal(err)
	}
	attrs := map[string]string{}
	for _, a := range in.UserAttributes {
		attrs[a.Name] = a.Value
	}
	if in.UserPoolId != "eu-north-1_Test" || in.Username != kari.ID || len(attrs) != 2 || attrs["email"] != kari.Email || attrs["email_verified"] != "true" {
		t.Fatalf("request %s", pool.bodies[0])
	}

	id, _ = newIdentity(t, map[string][2]string{"AdminUpdateUserAttributes": {"UserNotFoundException", "User does not exist."}})
	if err := id.UpdateEmail(context.Background(), kari); err != nil {
		t.Fatalf("email change of a missing login: %v, want nil", err)
	}
}

func TestErrorsAreTranslated(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		op    string
		err   [2]string
		call  func(*cognito.Identity) error
		code  access.Code // "" means an unexpected error (a 500)
		field string
	}{
		{"refused email", "AdminCreateUser", [2]string{"InvalidParameterException", "Invalid email address format."},
			func(id *cognito.Identity) error { return id.Invite(ctx, kari) }, access.CodeInvalid, "email"},
		{"email alias taken", "AdminCreateUser", [2]string{"AliasExistsException", "An account with the email already exists."},
			func(id *cognito.Identity) error { return id.Invite(ctx, kari) }, access.CodeConflict, "email"},
		{"pool misconfigured", "AdminCreateUser", [2]string{"InvalidParameterException", "Attributes did not conform to the schema: custom:tenant_id"},
			func(id *cognito.Identity) error { return id.Invite(ctx, kari) }, "", ""},
		{"throttled", "AdminCreateUser", [2]string{"TooManyRequestsException", "Too many requests for " + kari.Email},
			func(id *cognito.Identity) error { return id.Invite(ctx, kari) }, "", ""},
		{"enable without login", "AdminEnableUser", [2]string{"UserNotFoundException", "User does not exist."},
			func(id *cognito.Identity) error { return id.Enable(ctx, kari) }, "", ""},
		{"sign-out fails", "AdminUserGlobalSignOut", [2]string{"InternalErrorException", "boom"},
			func(id *cognito.Identity) error { return id.Disable(ctx, kari) }, "", ""},
		{"new email taken by another login", "AdminUpdateUserAttributes", [2]string{"AliasExistsException", "An account with the given email already exists: " + kari.Email},
			func(id *cognito.Identity) error { return id.UpdateEmail(ctx, kari) }, access.CodeConflict, "email"},
		{"new email refused", "AdminUpdateUserAttributes", [2]string{"InvalidParameterException", "Invalid email address format."},
			func(id *cognito.Identity) error { return id.UpdateEmail(ctx, kari) }, access.CodeInvalid, "email"},
		{"email change throttled", "AdminUpdateUserAttributes", [2]string{"TooManyRequestsException", "Too many requests for " + kari.Email},
			func(id *cognito.Identity) error { return id.UpdateEmail(ctx, kari) }, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id, _ := newIdentity(t, map[string][2]string{tc.op: tc.err})
			err := tc.call(id)
			if err == nil {
				t.Fatal("no error")
			}
			if got := access.ErrorCode(err); got != tc.code {
				t.Fatalf("code %q, want %q (%v)", got, tc.code, err)
			}
			var de *access.Error
			if tc.code != "" && (!errors.As(err, &de) || de.Field != tc.field) {
				t.Fatalf("error %v, want field %q", err, tc.field)
			}
			var ce *cognito.Error
			if tc.code == "" && (!errors.As(err, &ce) || ce.Op != tc.op || ce.Code != tc.err[0]) {
				t.Fatalf("error %#v, want *cognito.Error{%s, %s}", err, tc.op, tc.err[0])
			}
			// These errors are logged: nothing Cognito echoed back may reach them.
			if msg := err.Error(); strings.Contains(msg, kari.Email) || strings.Contains(msg, kari.Name) {
				t.Fatalf("error carries personal data: %q", msg)
			}
		})
	}
}
