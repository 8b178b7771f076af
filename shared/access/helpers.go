package access

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// Helpers shared by the use-case packages.

// clientDecision decides an action on one client's records (and, when r.Program is set, on
// one program there: the program must be granted, or the user must be its administrator).
func clientDecision(e *Effective, r *Request, f *ClientFacts) Decision {
	lvl := FactsLevel(e, r.Area, f)
	d := Decision{Allowed: lvl.AtLeast(r.Level), Level: lvl, Code: CodeForbidden}
	if g := f.Grant; g != nil && r.Area == AreaClients {
		d.Sources = []Source{{Type: SourceGrant, ID: g.Source, Name: "bureau client grant", Level: g.Level}}
	}
	note := noProgramNote
	if r.Program != "" && d.Allowed {
		if note = programOn(e, f, r.Program); note == noteProgramNotGranted {
			d.Allowed = false
		}
	}
	d.reason = onClient(e, r.Area, f, r.Program, note)
	return d
}

// ExpandResults lists pair results as rows, programs in order.
func ExpandResults(prs []PairResult, a JobAction) []JobResult {
	var out []JobResult
	for _, pr := range prs {
		for _, prog := range sortedPrograms(pr.Outcomes) {
			out = append(out, JobResult{ConsultantID: pr.ConsultantID, ClientID: pr.ClientID, Program: prog, Outcome: pr.Outcomes[prog]})
		}
	}
	return out
}

// linkState is the column of a link alone.
func linkState(link *Link) CapabilityState {
	if link == nil {
		return StateNoLink
	}
	switch link.Status {
	case LinkActive:
		return StateActiveLink
	case LinkInactive:
		return StateInactiveLink
	}
	return StateRemovedLink
}

func NonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func SourceName(s Source) string {
	if s.Type == SourceGroup {
		return "group " + s.Name
	}
	return s.Name
}

func ValidID(field, id string) error {
	if _, err := ValidIDs(field, []string{id}, 1); err != nil {
		return Invalid(field, "is not a valid id")
	}
	return nil
}

// FactsLevel is the level the rule gives on one client in an area: ClientLevel, raised by a
// bureau grant, which opens the client whatever the groups say.
func FactsLevel(e *Effective, a Area, f *ClientFacts) Level {
	return MaxLevel(ClientLevel(e, a, assignedLevel(f.Client, f.Assignment)), grantLevel(a, f.Grant))
}

// sortedPrograms returns the keys of a pair's outcomes in order.
func sortedPrograms(m map[string]Outcome) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func ValidIDs(field string, ids []string, max int) ([]string, error) {
	if len(ids) > max {
		return nil, Invalid(field, "must have at most %d entries", max)
	}
	out := make([]string, 0, len(ids))
	for i, id := range ids {
		if !PlausibleID(id) {
			return nil, Invalid(fmt.Sprintf("%s[%d]", field, i), "is not a valid id")
		}
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out, nil
}

// assignedLevel is what a client is assigned to an active user with: their assignment or the
// client's policy, whichever is higher.
func assignedLevel(cl Client, asg *Assignment) Level {
	l := LevelNone
	if asg != nil {
		l = asg.Level
	}
	if cl.PolicyLevel != "" {
		l = MaxLevel(l, cl.PolicyLevel)
	}
	return l
}

// grantLevel is what a bureau grant gives in an area on its own: its level on the clients
// area, nothing elsewhere (the programs say what else the consultant does there).
func grantLevel(a Area, g *ClientGrant) Level {
	if g == nil || a != AreaClients || g.Level == "" {
		return LevelNone
	}
	return g.Level
}

// GrantWords describes a bureau grant: its level, programs and where it came from.
func GrantWords(g *ClientGrant) string {
	var b strings.Builder
	grantWordsTo(&b, g)
	return b.String()
}

func grantWordsTo(b *strings.Builder, g *ClientGrant) {
	put(b, "a bureau client grant gives clients ", string(g.Level))
	if len(g.Programs) > 0 {
		put(b, " with the programs ")
		for i, p := range g.Programs {
			if i > 0 {
				put(b, ", ")
			}
			put(b, p)
		}
	} else {
		put(b, " with no programs")
	}
	if g.Source != "" {
		put(b, " (by ", g.Source, ")")
	}
	put(b, until(g.ExpiresAt))
}

// GroupsOf picks a user's groups out of a larger set; the owner's groups give nothing extra.
func GroupsOf(u User, all map[string]Group) map[string]Group {
	out := map[string]Group{}
	if u.IsOwner {
		return out
	}
	for _, id := range u.GroupIDs {
		if g, ok := all[id]; ok {
			out[id] = g
		}
	}
	return out
}

// ListIDs renders ids for a message, shortened when there are many.
func ListIDs(ids []string) string {
	const show = 20
	s := ""
	for i, id := range ids {
		if i == show {
			return fmt.Sprintf("%s and %d more", s, len(ids)-show)
		}
		if i > 0 {
			s += ", "
		}
		s += id
	}
	return s
}

// Text trims a text field and checks it: required, valid UTF-8, at most max characters, no
// control characters.
func Text(field, s string, max int, required bool) (string, error) {
	s = strings.TrimSpace(s)
	if required && s == "" {
		return "", Invalid(field, "is required")
	}
	if !utf8.ValidString(s) {
		return "", Invalid(field, "must be valid UTF-8")
	}
	if utf8.RuneCountInString(s) > max {
		return "", Invalid(field, "must be at most %d characters", max)
	}
	if strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 }) {
		return "", Invalid(field, "must not contain control characters")
	}
	return s, nil
}
