package access

import (
	"time"
)

// Time-bound grants (issue 15). Any client assignment, bureau client grant, client administration
// or group membership may carry an ExpiresAt: it gives nothing from that instant on. Decisions
// compare with the instant of the request (Principal.Now, Caller.Now), so an expired grant is
// refused at once, with no sweep; the scheduled sweep (SweepExpired) only tidies the items away
// later, auditing each as "expired", and warns the granter ahead of the end.

// MaxExpiryAhead bounds how far ahead a grant may expire.
const MaxExpiryAhead = 2 * 366 * 24 * time.Hour

// DefaultExpiryNotice is how long before an expiry its granter is notified, when the service is
// given no ExpiryNotice.
const DefaultExpiryNotice = 3 * 24 * time.Hour

// GroupExpiry ends one group membership at At; By is who set it (the one notified before).
type GroupExpiry struct {
	At time.Time
	By string
}

// groupUntil is when the user's membership of a group ends, nil for never.
func (u User) groupUntil(id string) *time.Time {
	if e, ok := u.GroupExpiry[id]; ok {
		t := e.At
		return &t
	}
	return nil
}

// Live reports whether something expiring at exp still gives its rights at now. Without a clock
// (a zero now) anything that expires counts as expired: a decision that forgot the clock fails
// closed.
func Live(exp *time.Time, now time.Time) bool {
	return exp == nil || (!now.IsZero() && now.Before(*exp))
}

func live(exp *time.Time, now time.Time) bool { return Live(exp, now) }

// Until words an expiry for a reason: "" for never.
func Until(exp *time.Time) string { return until(exp) }

func until(exp *time.Time) string {
	if exp == nil {
		return ""
	}
	return " until " + exp.UTC().Format(time.RFC3339)
}

// liveFacts is f without what expired at now, and the words saying so; f itself is not changed
// (it is returned as it is when nothing in it expired).
func liveFacts(f *ClientFacts, now time.Time) *ClientFacts {
	if f == nil || (live(assignmentExpiry(f.Assignment), now) && live(grantExpiry(f.Grant), now) && live(adminExpiry(f.Admin), now)) {
		return f
	}
	out := *f
	out.Expired = append([]string(nil), f.Expired...)
	if a := f.Assignment; a != nil && !live(a.ExpiresAt, now) {
		out.Assignment = nil
		out.Expired = append(out.Expired, "an assignment expired at "+expiredAt(a.ExpiresAt))
	}
	if g := f.Grant; g != nil && !live(g.ExpiresAt, now) {
		out.Grant = nil
		out.Expired = append(out.Expired, "a bureau client grant expired at "+expiredAt(g.ExpiresAt))
	}
	if a := f.Admin; a != nil && !a.Implicit && !live(a.ExpiresAt, now) {
		out.Admin = nil
		out.Expired = append(out.Expired, "a client administration expired at "+expiredAt(a.ExpiresAt))
	}
	return &out
}

func expiredAt(t *time.Time) string { return t.UTC().Format(time.RFC3339) }

// The expiries liveFacts checks: nil (never) where there is nothing, and for the owner's
// derived administration, which never expires.
func assignmentExpiry(a *Assignment) *time.Time {
	if a == nil {
		return nil
	}
	return a.ExpiresAt
}

func grantExpiry(g *ClientGrant) *time.Time {
	if g == nil {
		return nil
	}
	return g.ExpiresAt
}

func adminExpiry(a *ClientAdmin) *time.Time {
	if a == nil || a.Implicit {
		return nil
	}
	return a.ExpiresAt
}

// LiveAccess drops an expired assignment or grant and lists them as reasons giving nothing.
func LiveAccess(asg *Assignment, grant *ClientGrant, now time.Time) (*Assignment, *ClientGrant, []AccessReason) {
	var expired []AccessReason
	if asg != nil && !live(asg.ExpiresAt, now) {
		expired = append(expired, AccessReason{Type: ReasonAssignment, Source: asg.Source, Level: LevelNone, ExpiresAt: asg.ExpiresAt,
			Detail: AssignmentWords[asg.Source] + " with " + string(asg.Level) + "; expired at " + expiredAt(asg.ExpiresAt)})
		asg = nil
	}
	if grant != nil && !live(grant.ExpiresAt, now) {
		expired = append(expired, AccessReason{Type: ReasonGrant, Level: LevelNone, ExpiresAt: grant.ExpiresAt,
			Detail: "a bureau client grant expired at " + expiredAt(grant.ExpiresAt)})
		grant = nil
	}
	return asg, grant, expired
}

// LiveGroups is groups without those whose membership expired at now.
func LiveGroups(u User, groups map[string]Group, now time.Time) map[string]Group {
	if len(u.GroupExpiry) == 0 {
		return groups
	}
	out := make(map[string]Group, len(groups))
	for id, g := range groups {
		if e, ok := u.GroupExpiry[id]; ok && !live(&e.At, now) {
			continue
		}
		out[id] = g
	}
	return out
}

// ValidExpiry checks an expiresAt: in the future and at most MaxExpiryAhead from now. It is
// kept to the second (what is stored and compared).
func ValidExpiry(field string, t *time.Time, now time.Time) (*time.Time, error) {
	if t == nil {
		return nil, nil
	}
	v := t.UTC().Truncate(time.Second)
	switch {
	case !v.After(now):
		return nil, Invalid(field, "must be in the future")
	case v.Sub(now) > MaxExpiryAhead:
		return nil, Invalid(field, "must be at most 2 years ahead")
	}
	return &v, nil
}

// SameExpiry reports whether two expiries are the same instant (or both never).
func SameExpiry(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Equal(*b)
}

// ExpiryAudit is an expiry as an audit entry holds it.
func ExpiryAudit(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UTC().Format(time.RFC3339)
}

// GroupExpiryAudit lists a user's membership expiries for an audit entry.
func GroupExpiryAudit(u User) map[string]any {
	if len(u.GroupExpiry) == 0 {
		return nil
	}
	out := map[string]any{}
	for gid, e := range u.GroupExpiry {
		out[gid] = e.At.UTC().Format(time.RFC3339)
	}
	return out
}
