package devserver_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tilgang/tilgang/shared/console"
	"github.com/tilgang/tilgang/shared/consolefn"
	"github.com/tilgang/tilgang/shared/localstack"
)

// fakeHostedUI stands in for a Cognito user pool domain: /oauth2/authorize signs the person in
// at once and sends the code back, /oauth2/token checks the PKCE verifier against the challenge
// and answers the ID token, /logout returns to the logout URI. It checks what the console sends
// as Cognito would.
type fakeHostedUI struct {
	t                *testing.T
	clientID, origin string // origin: the console's, for CORS and the redirect URIs
	idToken          string

	mu        sync.Mutex
	challenge string
	exchanged int
	loggedOut int
}

func (f *fakeHostedUI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	callback := f.origin + console.Prefix
	q := r.URL.Query()
	switch r.URL.Path {
	case "/oauth2/authorize":
		if q.Get("response_type") != "code" || q.Get("client_id") != f.clientID || q.Get("redirect_uri") != callback ||
			q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("state") == "" ||
			!strings.Contains(q.Get("scope"), "openid") {
			f.t.Errorf("authorize: unexpected query %v", q)
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		f.challenge = q.Get("code_challenge")
		http.Redirect(w, r, callback+"?code=the-code&state="+url.QueryEscape(q.Get("state")), http.StatusFound)
	case "/oauth2/token":
		w.Header().Set("Access-Control-Allow-Origin", f.origin)
		_ = r.ParseForm()
		sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
		if r.Method != http.MethodPost || r.PostForm.Get("grant_type") != "authorization_code" || r.PostForm.Get("code") != "the-code" ||
			r.PostForm.Get("client_id") != f.clientID || r.PostForm.Get("redirect_uri") != callback ||
			base64.RawURLEncoding.EncodeToString(sum[:]) != f.challenge {
			f.t.Errorf("token: unexpected %s %v (challenge %q)", r.Method, r.PostForm, f.challenge)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"error":"invalid_grant"}`))
			return
		}
		f.exchanged++
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"id_token":"` + f.idToken + `","access_token":"not-for-the-api","token_type":"Bearer","expires_in":3600}`))
	case "/logout":
		if q.Get("client_id") != f.clientID || q.Get("logout_uri") != callback {
			f.t.Errorf("logout: unexpected query %v", q)
		}
		f.loggedOut++
		http.Redirect(w, r, q.Get("logout_uri"), http.StatusFound)
	default:
		http.NotFound(w, r)
	}
}

// TestConsoleCognitoSignIn drives the console as the console function serves it in AWS (sign-in
// 'cognito') in headless Chromium: the hosted UI round trip with PKCE, the ID token used on the
// API, sign-out through the hosted UI's logout, and a forged answer refused. The API is the dev
// server's, behind the same origin as the console, as API Gateway puts them.
func TestConsoleCognitoSignIn(t *testing.T) {
	browser := chromium(t)
	d := start(t, realApp)
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	email := "olga." + run + "@example.com"
	postJSON(t, d.URL+"/dev/tenants", "", `{"name":"Hosted UI AB","owner":{"name":"Olga Owner","email":"`+email+`"}}`)
	idToken := postJSON(t, d.URL+"/dev/token", "", `{"email":"`+email+`"}`)["token"].(string)

	hosted := &fakeHostedUI{t: t, clientID: "console-client", idToken: idToken}
	cognito := httptest.NewServer(hosted)
	defer cognito.Close()

	api, err := url.Parse(d.URL)
	if err != nil {
		t.Fatal(err)
	}
	files := consolefn.Handler(consolefn.Config{CognitoDomain: cognito.URL, ClientID: hosted.clientID})
	proxy := httputil.NewSingleHostReverseProxy(api)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/console" || strings.HasPrefix(r.URL.Path, console.Prefix) {
			files.ServeHTTP(w, r)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	defer front.Close()
	hosted.mu.Lock()
	hosted.origin = front.URL
	hosted.mu.Unlock()

	ctx, cancel := context.WithTimeout(t.Context(), 45*time.Second)
	defer cancel()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(browser), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-component-update", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(allocCtx)
	defer cancelBrowser()
	if err := chromedp.Do(bctx); err != nil { // starts the browser, for the whole test
		t.Fatalf("start %s: %v", browser, err)
	}

	root, err := localstack.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	step := func(name string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, cancel := context.WithTimeout(bctx, 15*time.Second)
		defer cancel()
		if err := chromedp.Do(sctx, actions...); err != nil {
			if png, serr := chromedp.Run(bctxWithin(bctx), chromedp.FullScreenshot(100)); serr == nil {
				dir := filepath.Join(root, "build", "console-test")
				_ = os.MkdirAll(dir, 0o755)
				_ = os.WriteFile(filepath.Join(dir, "cognito-"+name+".png"), png, 0o644)
			}
			page, _ := chromedp.Run(bctxWithin(bctx), chromedp.Evaluate[string](`location.href + ' | ' + document.body.innerText`))
			t.Fatalf("step %q: %v; page: %q", name, err, page)
		}
	}
	// until waits for a JavaScript predicate across the sign-in's navigations: an evaluation the
	// navigation interrupts is tried again.
	until := func(expr string) chromedp.Action[chromedp.Void] {
		return func(ctx context.Context, tgt *chromedp.Target) (chromedp.Void, error) {
			for {
				if ok, err := chromedp.Evaluate[bool](expr)(ctx, tgt); err == nil && ok {
					return chromedp.Void{}, nil
				}
				select {
				case <-ctx.Done():
					return chromedp.Void{}, fmt.Errorf("waiting for %s: %w", expr, ctx.Err())
				case <-time.After(100 * time.Millisecond):
				}
			}
		}
	}

	step("sign-in",
		chromedp.Navigate(front.URL+console.Prefix),
		chromedp.WaitVisible(chromedp.CSS("#signin-cognito")),
		chromedp.Click(chromedp.CSS("#signin-cognito")),
		until(`document.querySelector('#account')?.innerText.includes('Olga Owner')`),
		// The single-use code is gone from the address bar; the ID token is kept for the tab only.
		until(`location.href === '`+front.URL+console.Prefix+`' && sessionStorage.getItem('tilgang.console.token') === '`+idToken+`'`),
		until(`sessionStorage.getItem('tilgang.console.pkce') === null && localStorage.length === 0`),
	)
	step("sign-out",
		chromedp.Click(chromedp.CSS("#sign-out")),
		until(`location.search === '' && document.querySelector('#signin-cognito') !== null`),
		until(`sessionStorage.getItem('tilgang.console.token') === null`),
	)
	step("forged-answer",
		chromedp.Navigate(front.URL+console.Prefix+"?code=stolen&state=forged"),
		until(`document.querySelector('.notice[role=alert]')?.innerText.includes('does not belong to this sign-in')`),
		until(`location.search === '' && !sessionStorage.getItem('tilgang.console.token')`),
	)

	hosted.mu.Lock()
	defer hosted.mu.Unlock()
	if hosted.exchanged != 1 || hosted.loggedOut != 1 {
		t.Errorf("hosted UI saw %d token exchanges and %d logouts, want 1 and 1", hosted.exchanged, hosted.loggedOut)
	}
}
