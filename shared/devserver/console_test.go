package devserver_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/tilgang/tilgang/shared/app"
	"github.com/tilgang/tilgang/shared/app/allclients"
	"github.com/tilgang/tilgang/shared/config"
	"github.com/tilgang/tilgang/shared/console"
	"github.com/tilgang/tilgang/shared/devserver"
	"github.com/tilgang/tilgang/shared/localstack"
)

// realApp is the application the Lambdas run, with the job worker the dev server's SQS poller
// feeds (as functions/devserver wires it).
func realApp(ctx context.Context, cfg config.Config) (devserver.App, error) {
	a, err := app.New(ctx, cfg, app.Options{APIOptions: localstack.RecordCalls()})
	if err != nil {
		return devserver.App{}, err
	}
	allclients.Wire(a)
	return allclients.DevServerApp(a), nil
}

// BrowserEnv names the environment variable that makes a missing Chromium fail the browser
// tests instead of skipping them; `make test` sets it once it has Chromium.
const browserEnv = "TILGANG_BROWSER_TESTS"

// chromium finds the browser: $CHROMIUM, else Debian's chromium on the PATH.
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "chrome-headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "!!! BROWSER TESTS NOT RUN: no Chromium found (install Debian's chromium, or set CHROMIUM=/path/to/chrome); `make test` installs it"
	if os.Getenv(browserEnv) == "require" {
		t.Fatal(msg)
	}
	fmt.Fprintln(os.Stderr, msg)
	t.Skip(msg)
	return ""
}

// TestConsole drives the admin console in headless Chromium against the dev server with the
// real application, DynamoDB and SQS: sign in, activate the Employees app, create a group in
// the permission matrix, create a consultant in it, run a bulk grant job to its notification
// with a dry run first, and deactivate the consultant. A failing step leaves a screenshot in
// build/console-test/.
func TestConsole(t *testing.T) {
	browser := chromium(t)
	d := start(t, realApp)

	// The console's static files, with their security headers.
	resp, err := http.Get(d.URL + "/console/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "default-src 'none'") {
		t.Fatalf("GET /console/ = %d, CSP %q", resp.StatusCode, resp.Header.Get("Content-Security-Policy"))
	}

	// Emails are unique across tenants: a run of its own (go test -count=N) takes new ones.
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	karinEmail, carlEmail := "karin."+run+"@example.com", "carl."+run+"@example.com"
	var token string // the owner's, for checking through the API what the console did

	root, err := localstack.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	shots := filepath.Join(root, "build", "console-test")
	keepShots := os.Getenv("CONSOLE_SCREENSHOTS") != "" // every step, for the README

	// The whole browser part is bounded; each step has its own, shorter deadline so that a
	// failing step still leaves time for its screenshot.
	ctx, cancel := context.WithTimeout(t.Context(), 55*time.Second)
	defer cancel()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(browser),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()

	var (
		mu         sync.Mutex
		exceptions []string
	)
	bctx, cancelBrowser := chromedp.NewContext(allocCtx, chromedp.WithListener(func(ev any) {
		switch ev := ev.(type) {
		case *runtime.EventExceptionThrown:
			mu.Lock()
			d := ev.ExceptionDetails
			text := d.Text
			if d.Exception != nil && d.Exception.Description != "" {
				text += " " + d.Exception.Description
			}
			exceptions = append(exceptions, text)
			mu.Unlock()
		}
	}))
	defer cancelBrowser()
	if err := chromedp.Do(bctx); err != nil { // starts the browser
		t.Fatalf("start %s: %v", browser, err)
	}

	n := 0
	screenshot := func(name string) {
		n++
		sctx, cancel := context.WithTimeout(bctx, 5*time.Second)
		defer cancel()
		png, err := chromedp.Run(sctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Logf("screenshot %s: %v", name, err)
			return
		}
		_ = os.MkdirAll(shots, 0o755)
		path := filepath.Join(shots, fmt.Sprintf("%02d-%s.png", n, name))
		if err := os.WriteFile(path, png, 0o644); err == nil {
			t.Logf("screenshot: %s", path)
		}
	}
	// CONSOLE_AXE=/path/to/axe.min.js (npm axe-core) audits every page a step ends on against
	// WCAG 2 A and AA; a violation fails the test.
	var axeSource string
	if p := os.Getenv("CONSOLE_AXE"); p != "" {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		axeSource = string(b)
	}
	audit := func(name string) {
		t.Helper()
		if axeSource == "" {
			return
		}
		actx, cancel := context.WithTimeout(bctx, 15*time.Second)
		defer cancel()
		if _, err := chromedp.Run(actx, chromedp.Evaluate[chromedp.Void](axeSource+";0")); err != nil {
			t.Fatalf("load axe: %v", err)
		}
		found, err := chromedp.Run(actx, chromedp.Evaluate[[]string](`axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})
			.then(r => r.violations.map(v => v.id + ' (' + v.impact + '): ' + v.nodes.map(n => n.target.join(' ')).slice(0, 4).join(', ')))`, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("axe: %v", err)
		}
		for _, v := range found {
			t.Errorf("accessibility, after step %q: %s", name, v)
		}
	}
	step := func(name string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, cancel := context.WithTimeout(bctx, 20*time.Second)
		defer cancel()
		if err := chromedp.Do(sctx, actions...); err != nil {
			screenshot(name)
			problems, _ := chromedp.Run(bctxWithin(bctx), chromedp.Evaluate[string](`Array.from(document.querySelectorAll('.problem')).map(e => e.innerText).join(' | ')`))
			t.Fatalf("step %q: %v; problems shown: %q; page exceptions: %q", name, err, problems, exceptions)
		}
		if keepShots {
			screenshot(name)
		}
		audit(name)
	}
	// until waits for a JavaScript predicate on the page.
	until := func(expr string) chromedp.Action[chromedp.Void] {
		return chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(15*time.Second))
	}
	click := func(sel string) chromedp.Action[chromedp.Void] { return chromedp.Click(chromedp.CSS(sel)) }
	typeIn := func(sel, text string) chromedp.Action[chromedp.Void] {
		return chromedp.SendKeys(chromedp.CSS(sel), text)
	}
	// choose sets a select's value as a person would, with the change event.
	choose := func(sel, value string) chromedp.Action[chromedp.Void] {
		return chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => { const s = document.querySelector(%q); s.value = %q; s.dispatchEvent(new Event('change', {bubbles: true})); })()`, sel, value))
	}
	text := func(sel string) string {
		t.Helper()
		v, err := chromedp.Run(bctxWithin(bctx), chromedp.Evaluate[string](fmt.Sprintf(`(document.querySelector(%q) || {}).innerText || ''`, sel)))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}

	// Sign in by email: an unknown one is refused with the API's problem shown, then the owner's.
	// A new organisation from the sign-in page (local only), then signed out.
	step("new-organisation",
		chromedp.Navigate(d.URL+console.Prefix),
		chromedp.WaitVisible(chromedp.CSS("#signin-email")),
		click("details.panel summary"),
		typeIn(`input[name="name"]`, "Byrå Nord"),
		typeIn(`input[name="owner.name"]`, "Karin Owner"),
		typeIn(`input[name="owner.email"]`, karinEmail),
		click("details.panel button[type=submit]"),
		chromedp.WaitVisible(chromedp.CSS("#activate-form")),
		click("#sign-out"),
		chromedp.WaitVisible(chromedp.CSS("#signin-email")),
	)
	token = postJSON(t, d.URL+"/dev/token", "", `{"email":"`+karinEmail+`"}`)["token"].(string)

	step("sign-in",
		typeIn("#signin-email", "nobody@example.com"),
		click("#signin-submit"),
		until(`(document.querySelector('.problem[role=alert]') || {}).innerText?.includes('404')`),
		chromedp.Evaluate[chromedp.Void](`document.querySelector('#signin-email').value = ''`),
		typeIn("#signin-email", karinEmail),
		click("#signin-submit"),
		chromedp.WaitVisible(chromedp.CSS("#activate-form")),
		until(`document.querySelector('#account')?.innerText.includes('Karin Owner')`),
	)

	// Activate the Employees app with its predefined groups.
	step("activate",
		click("#activate-submit"),
		chromedp.WaitNotPresent(chromedp.CSS("#activate-form")),
		chromedp.WaitVisible(chromedp.CSS("#users-table")),
	)

	// A group from the matrix: clients edit (all), journals view (own), users view.
	step("group",
		click(`a[href="#/groups"]`),
		chromedp.WaitVisible(chromedp.CSS("#create-group")),
		until(`document.querySelectorAll('#groups-table tr[data-group]').length === 4`),
		click("#create-group"),
		chromedp.WaitVisible(chromedp.CSS("#group-matrix")),
		typeIn("#group-name", "Bureau staff"),
		typeIn("#group-description", "Consultants of the bureau"),
		click(`input[name="level-clients"][value="edit"]`),
		choose(`select[name="scope-clients"]`, "all"),
		click(`input[name="level-journals"][value="view"]`),
		click(`input[name="level-users"][value="view"]`),
	)
	step("group-save",
		click("#group-save"),
		until(`Array.from(document.querySelectorAll('#groups-table a')).some(a => a.textContent === 'Bureau staff')`),
	)
	var group struct {
		ID          string
		Permissions map[string]struct{ Level, Scope string }
	}
	for _, g := range getJSON(t, d.URL+"/v1/groups", token)["items"].([]any) {
		if g.(map[string]any)["name"] == "Bureau staff" {
			remarshal(t, g, &group)
		}
	}
	if p := group.Permissions; p["clients"].Level != "edit" || p["clients"].Scope != "all" || p["journals"].Level != "view" || p["journals"].Scope != "own" || p["users"].Level != "view" || p["settings"].Level != "none" {
		t.Errorf("group saved from the matrix: %+v", group)
	}

	// Edit the group: payments view with the mouse, reports view with the keyboard (an arrow
	// key moves along a row's radios), saved with Enter; the change is a PATCH with the version
	// read (If-Match).
	step("group-edit",
		click(`#groups-table a[href="#/groups/`+group.ID+`"]`),
		chromedp.WaitVisible(chromedp.CSS("#group-matrix")),
		click(`input[name="level-payments"][value="view"]`),
		chromedp.Focus(chromedp.CSS(`input[name="level-reports"][value="none"]`)),
		chromedp.KeyEvent(kb.ArrowRight),
		until(`document.querySelector('input[name="level-reports"][value="view"]').checked`),
		chromedp.Focus(chromedp.CSS("#group-save")),
		chromedp.KeyEvent(kb.Enter),
		until(`document.querySelector('#toasts')?.innerText.includes('Group Bureau staff was saved.')`),
	)
	edited := getJSON(t, d.URL+"/v1/groups/"+group.ID, token)
	if p := edited["permissions"].(map[string]any); p["payments"].(map[string]any)["level"] != "view" || p["reports"].(map[string]any)["level"] != "view" || edited["version"] != float64(2) ||
		p["clients"].(map[string]any)["scope"] != "all" {
		t.Errorf("group after editing in the console: %v", edited)
	}

	// A consultant in that group.
	step("user",
		click(`a[href="#/users"]`),
		chromedp.WaitVisible(chromedp.CSS("#create-user")),
		click("#create-user"),
		chromedp.WaitVisible(chromedp.CSS("#user-form")),
		typeIn("#user-name", "Carl Consultant"),
		typeIn("#user-email", carlEmail),
		choose("#user-profession", "consultant"),
		click(fmt.Sprintf(`#user-groups input[value=%q]`, group.ID)),
		click(`#user-roles input[value="consultant"]`),
		choose("#user-calendars select[data-calendar]", "view"),
		click("#user-save"),
		chromedp.WaitVisible(chromedp.CSS("#lifecycle")),
		until(`document.querySelector('#user-status')?.innerText === 'Active'`),
	)
	users := getJSON(t, d.URL+"/v1/users?q="+carlEmail, token)["items"].([]any)
	if len(users) != 1 {
		t.Fatalf("users named carl: %v", users)
	}
	carl := users[0].(map[string]any)
	if fmt.Sprint(carl["groupIds"]) != "["+group.ID+"]" || fmt.Sprint(carl["roles"]) != "[consultant]" || carl["profession"] != "consultant" ||
		len(carl["calendarAccess"].(map[string]any)) != 1 {
		t.Errorf("user created in the console: %v", carl)
	}

	// The same email again: the API's problem is shown with its detail, the field marked.
	step("problem",
		click(`a[href="#/users"]`),
		chromedp.WaitVisible(chromedp.CSS("#create-user")),
		click("#create-user"),
		chromedp.WaitVisible(chromedp.CSS("#user-form")),
		typeIn("#user-name", "Carl Again"),
		typeIn("#user-email", strings.ToUpper(carlEmail)),
		click("#user-save"),
		until(`(document.querySelector('#user-form .problem[role=alert]') || {}).innerText?.includes('409')`),
	)
	if got := text("#user-form .problem p"); got == "" {
		t.Error("the problem shown has no detail")
	}

	// Two clients, both selected, and a bulk grant: dry run first, then the job to its
	// notification and its results.
	step("clients",
		click(`a[href="#/clients"]`),
		chromedp.WaitVisible(chromedp.CSS("#client-add")),
		typeIn("#client-name", "Acme AB"),
		click("#client-add button[type=submit]"),
		until(`document.querySelectorAll('#clients-table tr[data-client]').length === 1`),
		typeIn("#client-name", "Beta AB"),
		click("#client-add button[type=submit]"),
		until(`document.querySelectorAll('#clients-table tr[data-client]').length === 2`),
		click("#select-all"),
		until(`document.querySelector('#selected-count')?.innerText === '2 selected'`),
	)
	step("bulk-grant",
		click("#manage-access"),
		chromedp.WaitVisible(chromedp.CSS("#job-action")),
		click("#job-next"),
		chromedp.WaitVisible(chromedp.CSS("#job-consultants")),
		click(`#job-consultants input[name="consultantIds"]`),
		click("#job-preview-button"),
		until(`!!document.querySelector('#job-preview .notice') && !document.querySelector('#job-save')?.disabled`),
		click("#job-save"),
		chromedp.WaitVisible(chromedp.CSS("#job-progress")),
		until(`!!document.querySelector('#job-notification')`),
		until(`document.querySelectorAll('#job-results tr[data-outcome]').length > 0`),
	)
	if got := text("#job-status"); got != "Completed" {
		t.Errorf("job status shown %q, want Completed; notification %q", got, text("#job-notification"))
	}
	step("results-filter",
		choose("#job-outcome", "assigned"),
		until(`Array.from(document.querySelectorAll('#job-results tr[data-outcome]')).every(r => r.dataset.outcome === 'assigned')`),
	)

	// The notification is listed, read, with a link to the job.
	step("notifications",
		click("#notifications-link"),
		until(`Array.from(document.querySelectorAll('main table a')).some(a => a.getAttribute('href').startsWith('#/jobs/'))`),
	)

	// Edit the consultant: a phone number and a second group (PATCH, then PUT groups).
	var secretary string
	for _, g := range getJSON(t, d.URL+"/v1/groups", token)["items"].([]any) {
		if g.(map[string]any)["template"] == "secretary" {
			secretary = g.(map[string]any)["id"].(string)
		}
	}
	step("user-edit",
		click(`a[href="#/users"]`),
		chromedp.WaitVisible(chromedp.CSS("#users-table")),
		click(fmt.Sprintf(`#users-table tr[data-user=%q] a`, carl["id"])),
		chromedp.WaitVisible(chromedp.CSS("#user-form")),
		typeIn("#user-phone", "+45 12 34 56 78"),
		click(fmt.Sprintf(`#user-groups input[value=%q]`, secretary)),
		click("#user-save"),
		until(`document.querySelector('#toasts')?.innerText.includes('Changes to Carl Consultant were saved.')`),
	)
	if got := getJSON(t, d.URL+"/v1/users/"+carl["id"].(string), token); got["phone"] != "+45 12 34 56 78" || len(got["groupIds"].([]any)) != 2 {
		t.Errorf("user after editing in the console: %v", got)
	}

	// Deactivate the consultant.
	step("deactivate",
		click(`a[href="#/users"]`),
		chromedp.WaitVisible(chromedp.CSS("#users-table")),
		click(fmt.Sprintf(`#users-table tr[data-user=%q] a`, carl["id"])),
		chromedp.WaitVisible(chromedp.CSS("#user-deactivate")),
		click("#user-deactivate"),
		until(`document.querySelector('#user-status')?.innerText === 'Deactivated'`),
		chromedp.WaitVisible(chromedp.CSS("#user-activate")),
	)
	if got := getJSON(t, d.URL+"/v1/users/"+carl["id"].(string), token)["status"]; got != "deactivated" {
		t.Errorf("status after deactivating in the console = %v", got)
	}

	// Access explained: the consultant's rights with their sources, who can open a client, the
	// seed 003 table.
	step("access-explained",
		click(`a[href="#/access"]`),
		chromedp.WaitVisible(chromedp.CSS("#access-user")),
		choose("#access-user", carl["id"].(string)),
		until(`Array.from(document.querySelectorAll('#access-user-table tbody tr')).some(r => r.innerText.includes('Clients') && r.innerText.includes('Group Bureau staff'))`),
		chromedp.Evaluate[chromedp.Void](`document.querySelector('#access-client').selectedIndex = 1; document.querySelector('#access-client').dispatchEvent(new Event('change'))`),
		until(`document.querySelectorAll('#access-client-table tbody tr').length > 0 && document.querySelector('#access-client-table')?.innerText.includes('Karin Owner')`),
		choose("#cap-user", carl["id"].(string)),
		chromedp.Evaluate[chromedp.Void](`document.querySelector('#cap-client').selectedIndex = 1`),
		click("#cap-show"),
		until(`document.querySelectorAll('#cap-table tbody tr').length === 10`),
	)

	// Settings.
	step("settings",
		click(`a[href="#/settings"]`),
		chromedp.WaitVisible(chromedp.CSS("#settings-form")),
		click(`input[name="newClientAccess"][value="view"]`),
		chromedp.Evaluate[chromedp.Void](`document.querySelector('#settings-days').value = ''`),
		typeIn("#settings-days", "30"),
		click("#settings-save"),
		until(`document.querySelector('#toasts')?.innerText.includes('Settings were saved.')`),
	)
	if got := getJSON(t, d.URL+"/v1/settings", token); got["newClientAccess"] != "view" || got["anonymiseAfterDays"] != float64(30) {
		t.Errorf("settings after saving in the console: %v", got)
	}

	// Remove the consultant to the user bank and restore them; remove them again and anonymise
	// them from there: the dialog says it is irreversible and cannot be confirmed before its box
	// is ticked.
	step("remove",
		click(`a[href="#/users"]`),
		chromedp.WaitVisible(chromedp.CSS("#users-table")),
		click(fmt.Sprintf(`#users-table tr[data-user=%q] a`, carl["id"])),
		click("#user-remove"),
		chromedp.WaitVisible(chromedp.CSS("dialog[open] #dialog-confirm")),
		click("dialog[open] #dialog-confirm"),
		until(`document.querySelector('#user-status')?.innerText === 'Removed'`),
		click(`a[href="#/bank"]`),
		until(`document.querySelectorAll('#bank-table tbody tr[data-user]').length === 1 && document.querySelector('#bank-table')?.innerText.includes('Carl Consultant')`),
		click("#bank-table button.primary"),
		until(`document.querySelector('#toasts').innerText.includes('Carl Consultant is now active.')`),
		until(`document.querySelectorAll('#bank-table tbody tr[data-user]').length === 0`),
	)
	if got := getJSON(t, d.URL+"/v1/users/"+carl["id"].(string), token); got["status"] != "active" {
		t.Errorf("user after restoring in the console: %v", got["status"])
	}
	step("anonymise",
		click(`a[href="#/users"]`),
		chromedp.WaitVisible(chromedp.CSS("#users-table")),
		click(fmt.Sprintf(`#users-table tr[data-user=%q] a`, carl["id"])),
		click("#user-remove"),
		click("dialog[open] #dialog-confirm"),
		until(`document.querySelector('#user-status')?.innerText === 'Removed'`),
		click(`a[href="#/bank"]`),
		until(`document.querySelector('#bank-table')?.innerText.includes('Carl Consultant')`),
		click("#bank-table button.danger"),
		chromedp.WaitVisible(chromedp.CSS("dialog[open] .warning")),
		until(`document.querySelector('dialog[open] #dialog-confirm')?.disabled`),
		click(`dialog[open] input[name="irreversible"]`),
		until(`!document.querySelector('dialog[open] #dialog-confirm')?.disabled`),
		click("dialog[open] #dialog-confirm"),
		until(`document.querySelector('#toasts').innerText.includes('is now anonymised.')`),
		until(`document.querySelectorAll('#bank-table tbody tr[data-user]').length === 0`),
	)
	if got := getJSON(t, d.URL+"/v1/users/"+carl["id"].(string), token); got["status"] != "anonymised" || got["name"] != "***" {
		t.Errorf("user after anonymising in the console: %v", got)
	}

	// Disable the group: it stays, marked, and gives nothing.
	step("group-disable",
		click(`a[href="#/groups"]`),
		click(`#groups-table a[href="#/groups/`+group.ID+`"]`),
		click(`input[name="disabled"]`),
		click("#group-save"),
		until(`document.querySelector('#groups-table tr[data-group="`+group.ID+`"]')?.innerText.includes('Disabled')`),
	)
	if got := getJSON(t, d.URL+"/v1/groups/"+group.ID, token); got["disabled"] != true {
		t.Errorf("group after disabling in the console: %v", got)
	}

	// The owner's audit log.
	step("audit",
		click(`a[href="#/audit"]`),
		until(`document.querySelectorAll('#audit-table tbody tr').length > 5`),
	)

	// At phone width every page still fits: nothing wider than the viewport but the tables'
	// own scrolling boxes. (Navigating reloads the console, which keeps its token in
	// sessionStorage.)
	phone := []chromedp.Action[chromedp.Void]{chromedp.EmulateViewport(390, 844)}
	for _, page := range []struct{ href, ready string }{
		{"#/users", "#users-table"}, {"#/users/new", "#user-form"}, {"#/groups", "#groups-table"},
		{"#/groups/" + group.ID, "#group-matrix"}, {"#/access", "#access-user"}, {"#/clients", "#clients-table"},
		{"#/bank", "#bank-table"}, {"#/audit", "#audit-table"}, {"#/settings", "#settings-form"},
	} {
		phone = append(phone,
			chromedp.Navigate(d.URL+console.Prefix+page.href),
			chromedp.WaitVisible(chromedp.CSS(page.ready)),
			until(`document.documentElement.scrollWidth <= window.innerWidth + 1`))
	}
	step("phone", phone...)

	// Every string key app.js asks for is in strings.js.
	missing, err := chromedp.Run(bctxWithin(bctx), chromedp.Evaluate[[]string](`fetch('app.js').then(r => r.text()).then(src => {
		const keys = [...src.matchAll(/\bt\('([\w.]+)'(?=[,)])/g)].map(m => m[1]);
		const has = (k) => k.split('.').reduce((o, p) => (o == null ? undefined : o[p]), window.STRINGS.en) !== undefined;
		return keys.length ? [...new Set(keys.filter(k => !has(k)))] : ['no keys found'];
	})`, chromedp.EvalAwaitPromise))
	if err != nil || len(missing) > 0 {
		t.Errorf("strings missing from strings.js: %q (%v)", missing, err)
	}

	mu.Lock()
	defer mu.Unlock()
	if len(exceptions) > 0 {
		t.Errorf("uncaught exceptions in the page: %q", exceptions)
	}
}

// bctxWithin bounds a read on the page to a few seconds.
func bctxWithin(ctx context.Context) context.Context {
	c, cancel := context.WithTimeout(ctx, 5*time.Second)
	context.AfterFunc(c, cancel)
	return c
}

func postJSON(t *testing.T, url, token, body string) map[string]any {
	t.Helper()
	return callJSON(t, "POST", url, token, body)
}

func getJSON(t *testing.T, url, token string) map[string]any {
	t.Helper()
	return callJSON(t, "GET", url, token, "")
}

func callJSON(t *testing.T, method, url, token, body string) map[string]any {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewBufferString(body))
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
	if resp.StatusCode >= 300 {
		t.Fatalf("%s %s = %d %s", method, url, resp.StatusCode, b)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	return out
}

func remarshal(t *testing.T, in, out any) {
	t.Helper()
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatal(err)
	}
}
