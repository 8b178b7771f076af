package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/tilgang/tilgang/shared/devserver"
	"github.com/tilgang/tilgang/shared/localstack"
)

func TestMain(m *testing.M) { localstack.Main(m) }

// TestDevServer runs the real application behind the dev server: a tenant is created, and its
// owner's token opens GET /v1/me.
func TestDevServer(t *testing.T) {
	s := localstack.Shared(t)
	d, err := devserver.Start(t.Context(), devserver.Options{
		Addr:        "127.0.0.1:0",
		Stack:       localstack.Options{DataDir: t.TempDir(), DynamoEndpoint: s.DynamoEndpoint, SQSEndpoint: s.SQSEndpoint},
		TableName:   "devserver-main",
		QueuePrefix: "devserver-main-",
		NewApp:      newApp,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()

	call := func(method, path, token, body string) (int, []byte) {
		t.Helper()
		req, err := http.NewRequest(method, d.URL+path, bytes.NewBufferString(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}

	if status, body := call("GET", "/v1/me", "", ""); status != http.StatusUnauthorized {
		t.Errorf("GET /v1/me without a token = %d %s, want 401", status, body)
	}
	status, body := call("POST", "/dev/tenants", "", `{"name":"Klinikk Nord","owner":{"name":"Kari Nordmann","email":"kari@example.com"}}`)
	if status != http.StatusCreated {
		t.Fatalf("POST /dev/tenants = %d %s, want 201", status, body)
	}
	var created struct{ TenantID, OwnerID, Token string }
	if err := json.Unmarshal(body, &created); err != nil {
		t.Fatal(err)
	}
	if status, body := call("GET", "/v1/me", created.Token, ""); status != http.StatusOK {
		t.Errorf("GET /v1/me = %d %s, want 200", status, body)
	} else if !bytes.Contains(body, []byte(created.OwnerID)) {
		t.Errorf("GET /v1/me = %s, want the owner %s", body, created.OwnerID)
	}

	status, body = call("POST", "/dev/token", "", `{"email":"kari@example.com"}`)
	var tok struct{ Token string }
	if err := json.Unmarshal(body, &tok); err != nil || status != http.StatusOK || tok.Token == "" {
		t.Fatalf("POST /dev/token = %d %s", status, body)
	}
	if status, body := call("GET", "/v1/me", tok.Token, ""); status != http.StatusOK {
		t.Errorf("GET /v1/me with /dev/token's token = %d %s, want 200", status, body)
	}
}
