package access

import (
	"slices"
	"strings"
)

// A decision's reason is kept as data and put in words only when asked for (Decision.Reason):
// most decisions are never worded (a use case reads Allowed; only refusals, POST /v1/authorize
// and the reverse look-ups show their words), so deciding builds no text and allocates nothing
// for it.

// reasonKind says how a reason is worded.
type reasonKind uint8

const (
	// reasonText is text, arg and tail, one after the other.
	reasonText reasonKind = iota
	// reasonSources names the sources (describeSources), then text, arg and tail.
	reasonSources
	// reasonRight is text, what gives the right on area (describe), and tail.
	reasonRight
	// reasonClient explains a level on one client (clientReasonTo), then what program says.
	reasonClient
)

// programNote is what a reason on one client says about the program asked about.
type programNote uint8

const (
	noProgramNote         programNote = iota // no program asked about, or the level already refused
	noteOwnerPrograms                        // the account owner uses every program
	noteProgramGranted                       // the bureau grant names it
	noteProgramAdmin                         // they administer it at the client
	noteProgramNotGranted                    // neither: refused
)

// reason is a decision's reason before it is put in words. It is small (a decision is copied
// as it is returned) and holds what the words need by value, or by the pointers the decision
// was made with: the rights and facts a decision was made on are not changed afterwards
// (Decide never changes them; its callers build new ones for each question).
type reason struct {
	kind    reasonKind
	program programNote // reasonClient: what the program asked about (arg) came to
	owner   bool        // reasonClient: the principal is the account owner
	// level and all are the levels of the right a reasonClient describes (levelNames codes).
	level, all uint8
	// text, arg and tail are worded in this order (arg is the variable part, a level, a
	// program, a status, ...).
	text, arg, tail string
	// srcs are the sources a reasonSources names, or those of the right on area a reasonRight
	// or a reasonClient describes.
	srcs  []Source
	area  Area
	facts *ClientFacts // reasonClient
}

// because is a reason worded as text.
func because(text string) reason { return reason{text: text} }

// becauseOf is a reason worded as text, arg and tail.
func becauseOf(text, arg, tail string) reason { return reason{text: text, arg: arg, tail: tail} }

// sourcesGive is a reason naming srcs, then text, arg and tail.
func sourcesGive(srcs []Source, text, arg, tail string) reason {
	return reason{kind: reasonSources, srcs: srcs, text: text, arg: arg, tail: tail}
}

// rightOn is a reason worded as text, what gives r on area a, and tail.
func rightOn(text string, r AreaRight, a Area, tail string) reason {
	return reason{kind: reasonRight, text: text, srcs: r.Sources, area: a, tail: tail}
}

// words puts the reason in words.
func (w *reason) words() string {
	switch w.kind {
	case reasonText:
		switch {
		case w.arg == "" && w.tail == "":
			return w.text
		case w.text == "" && w.tail == "":
			return w.arg
		}
		return w.text + w.arg + w.tail
	case reasonSources:
		return describeSources(w.srcs) + w.text + w.arg + w.tail
	}
	var b strings.Builder
	b.Grow(256)
	switch w.kind {
	case reasonRight:
		put(&b, w.text)
		describeTo(&b, w.srcs, w.area)
		put(&b, w.tail)
	case reasonClient:
		clientReasonTo(&b, w)
		switch w.program {
		case noteOwnerPrograms:
			put(&b, "; the account owner uses every program")
		case noteProgramGranted:
			put(&b, "; program ", w.arg, " is granted to them at this client")
		case noteProgramAdmin:
			put(&b, "; they administer program ", w.arg, " at this client")
		case noteProgramNotGranted:
			put(&b, "; program ", w.arg, " is not granted to them at this client")
		}
	}
	return b.String()
}

// put writes ss to b one after the other. The wording code calls it rather than WriteString,
// which is inlined at each call: out of line, the many calls cost the Lambdas kilobytes less.
//
//go:noinline
func put(b *strings.Builder, ss ...string) {
	for _, s := range ss {
		b.WriteString(s)
	}
}

// clientReasonTo explains the level on one client, for the authorize answer: what gives the
// right on the area, then the scope, the assignment, the new-client policy, the bureau grant and
// whatever expired.
func clientReasonTo(b *strings.Builder, w *reason) {
	a, f, asg := w.area, w.facts, w.facts.Assignment
	level, all := levelNames[w.level], levelNames[w.all]
	describeTo(b, w.srcs, a)
	if w.owner || (all != LevelNone && all == level) {
		put(b, "; scope all covers every client")
		return
	}
	if asg != nil {
		put(b, "; ", AssignmentWords[asg.Source])
		if asg.Level != LevelEdit {
			put(b, " with ", string(asg.Level))
		}
		put(b, until(asg.ExpiresAt))
	}
	policy := f.Client.PolicyLevel != "" && f.Client.PolicyLevel != LevelNone
	if policy {
		put(b, "; the new-client policy gives every employee ", string(f.Client.PolicyLevel))
	}
	if g := f.Grant; g != nil && a == AreaClients {
		put(b, "; ")
		grantWordsTo(b, g)
	}
	if asg == nil && f.Grant == nil && !policy {
		if all != LevelNone {
			put(b, "; scope all gives ", string(all))
		}
		put(b, "; not assigned to them")
	}
	for _, e := range f.Expired {
		put(b, "; ", e)
	}
}

// onClient is the reason of a decision on one client (clientDecision): the right on the area and
// the facts, with what the program asked about (if any) came to.
func onClient(e *Effective, a Area, f *ClientFacts, program string, note programNote) reason {
	r := e.Area(a)
	return reason{kind: reasonClient, area: a, srcs: r.Sources, level: levelCode(r.Level), all: levelCode(r.AllLevel),
		owner: e.IsOwner, facts: f, arg: program, program: note}
}

// programOn is what a decision on program at one client comes to for a user with e.
func programOn(e *Effective, f *ClientFacts, program string) programNote {
	switch {
	case e.IsOwner:
		return noteOwnerPrograms
	case f.Grant != nil && slices.Contains(f.Grant.Programs, program):
		return noteProgramGranted
	case f.Admin != nil && f.Admin.CanAssign(program):
		return noteProgramAdmin
	}
	return noteProgramNotGranted
}
