package access

import (
	"fmt"
	"slices"
)

// Practices (seed 002, the Tenants app). A hirer rents a room in the clinic and works in the same
// account, but their clients and journals are their own: every client belongs to one practice,
// the clinic's ("") or one hirer's (the hirer's user id). The wall between practices is policy:
// decidePractice runs before the access rule of one client, and the guards below keep
// assignments, appointments and manual creation inside one practice.
//
// The account owner's view (a decision, documented in the README): the owner sees a hirer's
// clients listed — clients at view, so the account can be administered — and nothing more: no
// journals, invoices, calendars or programs of them, and no edit.

// UserKind says whether a user is the clinic's employee or a hirer.
type UserKind string

// User kinds.
const (
	KindEmployee UserKind = "employee"
	KindHirer    UserKind = "hirer"
)

// Valid reports whether k is a known kind ("" reads as employee).
func (k UserKind) Valid() bool { return k == "" || k == KindEmployee || k == KindHirer }

// KindOf is the user's kind, employee when none was stored.
func (u User) KindOf() UserKind {
	if u.Kind == "" {
		return KindEmployee
	}
	return u.Kind
}

// Practice is the practice whose clients the user works with: "" for the clinic's employees
// (and the owner), the user's own id for a hirer.
func (u User) Practice() string {
	if u.Kind == KindHirer {
		return u.ID
	}
	return ""
}

// ReasonPractice explains that a client lies in another practice.
const ReasonPractice AccessReasonType = "practice"

// ownerPracticeView is what the account owner has on a hirer's clients.
const ownerPracticeView = LevelView

// ownerPracticeSources is the source of that view (shared, read-only).
var ownerPracticeSources = []Source{{Type: SourceOwner, Name: "account owner", Level: ownerPracticeView}}

// decidePractice is the wall between practices on one client. walled is false when the client is
// in the principal's own practice (the ordinary rule decides); otherwise the decision is final.
func decidePractice(p *Principal, r *Request) (d Decision, walled bool) {
	if !acrossPractices(p, r) {
		return Decision{}, false
	}
	cl := r.Client.Client
	if p.User.IsOwner {
		if r.Area == AreaClients && ownerPracticeView.AtLeast(r.Level) && r.Level != LevelNone && r.Program == "" {
			return Decision{Allowed: true, Level: ownerPracticeView,
				reason:  because("the account owner sees a hirer's clients listed (clients view); their journals, invoices and calendars are the hirer's own"),
				Sources: ownerPracticeSources}, true
		}
		return Decision{Level: LevelNone, Code: CodeForbidden,
			reason: because(fmt.Sprintf("the client belongs to a hirer's own practice: the account owner sees it listed (clients view) only, not %s %s", r.Level, r.Area))}, true
	}
	if cl.Practice != "" {
		return Decision{Level: LevelNone, Code: CodeForbidden,
			reason: because("the client belongs to a hirer's own practice: the clinic's employees (and other hirers) do not reach it, scope all included")}, true
	}
	return Decision{Level: LevelNone, Code: CodeForbidden,
		reason: because("the client is the clinic's: a hirer reaches only the clients of their own practice")}, true
}

// acrossPractices reports whether r asks about a client of another practice than p's.
func acrossPractices(p *Principal, r *Request) bool {
	return r.Client != nil && r.Client.Client.Practice != p.User.Practice()
}

// The practice guards: assignments, appointments and manual creation stay inside one practice.
var (
	gSamePractice = guard{"same_practice", CodeForbidden, "the client belongs to another practice than the user's: a hirer's clients stay with the hirer, the clinic's with the clinic",
		func(_ Principal, r Request) bool {
			return r.Client != nil && r.Target != nil && r.Client.Client.Practice != r.Target.Practice()
		}}
	// gGrantSamePractice: a bureau grant opens a client only to a consultant of the client's own
	// practice, so a grant across the wall is refused rather than stored to open nothing.
	gGrantSamePractice = guard{"grant_same_practice", CodeForbidden, "the client belongs to another practice than the consultant's: a grant across practices would open nothing",
		func(_ Principal, r Request) bool {
			return r.Level != LevelNone && r.Client != nil && r.Target != nil && r.Client.Client.Practice != r.Target.Practice()
		}}
	gOwnPractice = guard{"own_practice", CodeForbidden, "the client belongs to another practice than yours: only its own practice manages it",
		func(p Principal, r Request) bool {
			return r.Client != nil && r.Client.Client.Practice != p.User.Practice()
		}}
	gSeesPractice = guard{"sees_practice", CodeForbidden, "the client belongs to another practice: who can open it is that practice's (and the account owner's) to read",
		func(p Principal, r Request) bool {
			return r.Client != nil && !p.User.IsOwner && r.Client.Client.Practice != p.User.Practice()
		}}
	gManualOwnPractice = guard{"manual_own_practice", CodeForbidden, "clients are created by hand in your own practice only; a hirer's clients also arrive by online booking into their practice",
		func(p Principal, r Request) bool {
			return r.Source == string(ClientManual) && r.Client != nil && r.Client.Client.Practice != p.User.Practice()
		}}
)

// PracticeAccess explains a user's access to a client across the practice wall, for the reverse
// look-ups: walled is false when the client is in the user's practice.
func PracticeAccess(u User, eff Effective, cl Client) (Level, []AccessReason, bool) {
	d, walled := decidePractice(&Principal{User: u, Effective: eff},
		&Request{Op: OpAccess, Level: LevelView, Area: AreaClients, Client: &ClientFacts{Client: cl}})
	if !walled {
		return "", nil, false
	}
	lvl := LevelNone
	if d.Allowed && u.Status == StatusActive {
		lvl = d.Level
	}
	return lvl, []AccessReason{{Type: ReasonPractice, Level: lvl, Detail: d.Reason()}}, true
}

// WalledOff reports whether reasons say the client is beyond the practice wall with no access.
func WalledOff(lvl Level, reasons []AccessReason) bool {
	return lvl == LevelNone && slices.ContainsFunc(reasons, func(r AccessReason) bool { return r.Type == ReasonPractice })
}

// InPractice keeps the clients the caller may see listed: their own practice's, and for the
// account owner the hirers' too (view).
func (c *Caller) InPractice(cls []Client) []Client {
	out := cls[:0:0]
	p := c.Principal()
	for _, cl := range cls {
		if d, walled := decidePractice(&p, &Request{Op: OpAccess, Level: LevelView, Area: AreaClients, Client: &ClientFacts{Client: cl}}); walled && !d.Allowed {
			continue
		}
		out = append(out, cl)
	}
	return out
}

// RequireManageAssignmentsOn is RequireManageAssignments on one client: assignments stay inside
// the client's practice.
func (c *Caller) RequireManageAssignmentsOn(target User, cl Client) error {
	return c.Require(Request{Op: OpManageAssignments, Target: &target, Client: &ClientFacts{Client: cl}})
}
