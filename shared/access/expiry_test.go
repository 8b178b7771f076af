package access

import (
	"strings"
	"testing"
	"time"
)

// TestDecideComparesExpiryWithTheClock pins the expiry rule where it lives: an assignment, a
// bureau grant or a client administration gives nothing from its ExpiresAt on, compared with
// Principal.Now; a decision without a clock counts every expiring one as expired.
func TestDecideComparesExpiryWithTheClock(t *testing.T) {
	at := time.Date(2027, 1, 31, 17, 0, 0, 0, time.UTC)
	before, after := at.Add(-time.Nanosecond), at
	therapist := principal(person("u1"), gTherapist)
	asg := &Assignment{ClientID: "c1", UserID: "u1", Level: LevelEdit, Source: AssignedManually, ExpiresAt: &at}
	grant := &ClientGrant{ClientID: "c1", UserID: "u1", Level: GrantLevel, Programs: []string{"payroll"}, ExpiresAt: &at}
	admin := &ClientAdmin{ClientID: "c1", UserID: "u1", System: true, ExpiresAt: &at}
	consultant := person("u2", RoleConsultant)
	tests := []struct {
		name   string
		p      Principal
		r      Request
		now    time.Time
		want   bool
		reason string
	}{
		{"assignment before", therapist, Request{Op: OpAccess, Level: LevelEdit, Area: AreaClients, Client: &ClientFacts{Client: manualClient, Assignment: asg}}, before, true, "until 2027-01-31T17:00:00Z"},
		{"assignment at the instant", therapist, Request{Op: OpAccess, Level: LevelView, Area: AreaClients, Client: &ClientFacts{Client: manualClient, Assignment: asg}}, after, false, "an assignment expired at 2027-01-31T17:00:00Z"},
		{"assignment without a clock", therapist, Request{Op: OpAccess, Level: LevelView, Area: AreaClients, Client: &ClientFacts{Client: manualClient, Assignment: asg}}, time.Time{}, false, "expired"},
		{"grant before", principal(consultant), Request{Op: OpAccess, Level: LevelEdit, Area: AreaClients, Program: "payroll", Client: &ClientFacts{Client: manualClient, Grant: grant}}, before, true, "until"},
		{"grant at the instant", principal(consultant), Request{Op: OpAccess, Level: LevelView, Area: AreaClients, Client: &ClientFacts{Client: manualClient, Grant: grant}}, after, false, "a bureau client grant expired"},
		{"system administrator before", principal(person("u1")), Request{Op: OpGrantProgram, Program: "payroll", Level: GrantLevel, Target: &consultant, Client: &ClientFacts{Admin: admin}}, before, true, "system administrator"},
		{"system administrator at the instant", principal(person("u1")), Request{Op: OpGrantProgram, Program: "payroll", Level: GrantLevel, Target: &consultant, Client: &ClientFacts{Admin: admin}}, after, false, "neither system administrator"},
		{"owner is never expired", principal(accountOwner()), Request{Op: OpGrantProgram, Program: "payroll", Level: GrantLevel, Target: &consultant, Client: &ClientFacts{Admin: &ClientAdmin{}}}, after, true, "owner"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.p.Now = tt.now
			d := Decide(tt.p, tt.r)
			if d.Allowed != tt.want || !strings.Contains(d.Reason(), tt.reason) {
				t.Errorf("got allowed %v (%q), want %v with %q", d.Allowed, d.Reason(), tt.want, tt.reason)
			}
		})
	}
	// Decide leaves the caller's facts as they were.
	f := &ClientFacts{Client: manualClient, Assignment: asg}
	Decide(Principal{User: person("u1"), Now: after}, Request{Op: OpAccess, Level: LevelView, Area: AreaClients, Client: f})
	if f.Assignment == nil || len(f.Expired) != 0 {
		t.Errorf("Decide changed the facts it was given: %+v", f)
	}
}

// TestLiveGroups: an expired membership gives nothing; the sources of a live one say until.
func TestLiveGroups(t *testing.T) {
	at := time.Date(2027, 1, 31, 17, 0, 0, 0, time.UTC)
	u := person("u1")
	u.GroupIDs = []string{gSecretary.ID, gBookkeeper.ID}
	u.GroupExpiry = map[string]GroupExpiry{gSecretary.ID: {At: at, By: "owner"}}
	groups := map[string]Group{gSecretary.ID: gSecretary, gBookkeeper.ID: gBookkeeper}
	live := Compute(u, LiveGroups(u, groups, at.Add(-time.Second)))
	if got := live.Area(AreaClients).AllLevel; got != LevelEdit {
		t.Errorf("before: clients all = %s, want edit", got)
	}
	if s := live.Area(AreaClients).Sources[0]; s.Until == nil || !s.Until.Equal(at) {
		t.Errorf("before: source = %+v, want until %s", s, at)
	}
	gone := Compute(u, LiveGroups(u, groups, at))
	if got := gone.Area(AreaClients).Level; got != LevelNone {
		t.Errorf("at the instant: clients = %s, want none", got)
	}
	if got := gone.Area(AreaInvoices).AllLevel; got != LevelView {
		t.Errorf("the permanent membership still counts: invoices = %s, want view", got)
	}
}

// TestValidExpiry: in the future, at most two years ahead, kept to the second.
func TestValidExpiry(t *testing.T) {
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		in time.Time
		ok bool
	}{
		{now.Add(time.Second), true},
		{now.Add(500 * time.Millisecond), false}, // truncated to now
		{now, false},
		{now.Add(-time.Hour), false},
		{now.Add(2 * 365 * 24 * time.Hour), true},
		{now.Add(MaxExpiryAhead + time.Second), false},
	} {
		got, err := ValidExpiry("expiresAt", &tt.in, now)
		if (err == nil) != tt.ok {
			t.Errorf("ValidExpiry(%s) = %v, %v; want ok %v", tt.in, got, err, tt.ok)
		}
	}
}

// TestReviewRules: the creator, the reviewers and the owner read and decide; others find
// nothing; nobody decides on their own access.
func TestReviewRules(t *testing.T) {
	r := &AccessReview{ID: "rev_1", CreatedBy: "creator", ReviewerIDs: []string{"rv"}}
	someone := User{ID: "u9"}
	rv := person("rv")
	for _, tt := range []struct {
		name string
		p    Principal
		op   Op
		tgt  *User
		want bool
		code Code
	}{
		{"reviewer reads", principal(rv), OpReadReview, nil, true, ""},
		{"creator reads", principal(person("creator")), OpReadReview, nil, true, ""},
		{"owner reads", principal(accountOwner()), OpReadReview, nil, true, ""},
		{"others find nothing", principal(person("x")), OpReadReview, nil, false, CodeNotFound},
		{"reviewer decides on another", principal(rv), OpDecideReview, &someone, true, ""},
		{"reviewer on their own access", principal(rv), OpDecideReview, &rv, false, CodeForbidden},
		{"owner on their own access", principal(accountOwner()), OpDecideReview, &User{ID: "owner"}, false, CodeForbidden},
		{"starting needs user or client management", principal(person("x"), gTherapist), OpManageReviews, nil, false, CodeForbidden},
		{"a user manager starts reviews", principal(person("x"), gUserManager), OpManageReviews, nil, true, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := Decide(tt.p, Request{Op: tt.op, Review: r, Target: tt.tgt})
			if d.Allowed != tt.want || (!tt.want && d.Code != tt.code) {
				t.Errorf("got %v (%s: %s), want %v (%s)", d.Allowed, d.Code, d.Reason(), tt.want, tt.code)
			}
		})
	}
}
