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

// reason is a decision's reason before it is put in words. It holds what the words need, by
// value or by the pointers the decision was made with: the facts and rights a decision was made
// on are not changed afterwards (Decide never changes them; its callers build new ones).
type reason struct {
	kind reasonKind
	// text, arg and tail are worded in this order (arg is the variable part, a level, a
	// program, a status, ...).
	text, arg, tail string
	// srcs are the sources a reasonSources names.
	srcs []Source
	// area and right are the right a reasonRight or a reasonClient describes.
	area  Area
	right AreaRight
	// The facts a reasonClient explains (arg is the program asked about).
	owner   bool
	policy  Level
	asg     *Assignment
	grant   *ClientGrant
	expired []string
	program programNote
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
	return reason{kind: reasonRight, text: text, right: r, area: a, tail: tail}
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
		b.WriteString(w.text)
		describeTo(&b, w.right, w.area)
		b.WriteString(w.tail)
	case reasonClient:
		clientReasonTo(&b, w)
		switch w.program {
		case noteOwnerPrograms:
			b.WriteString("; the account owner uses every program")
		case noteProgramGranted:
			b.WriteString("; program ")
			b.WriteString(w.arg)
			b.WriteString(" is granted to them at this client")
		case noteProgramAdmin:
			b.WriteString("; they administer program ")
			b.WriteString(w.arg)
			b.WriteString(" at this client")
		case noteProgramNotGranted:
			b.WriteString("; program ")
			b.WriteString(w.arg)
			b.WriteString(" is not granted to them at this client")
		}
	}
	return b.String()
}

// clientReasonTo explains the level on one client, for the authorize answer: what gives the
// right on the area, then the scope, the assignment, the new-client policy, the bureau grant and
// whatever expired.
func clientReasonTo(b *strings.Builder, w *reason) {
	r, a, asg := w.right, w.area, w.asg
	describeTo(b, r, a)
	if w.owner || (r.AllLevel != LevelNone && r.AllLevel == r.Level) {
		b.WriteString("; scope all covers every client")
		return
	}
	if asg != nil {
		b.WriteString("; ")
		b.WriteString(AssignmentWords[asg.Source])
		if asg.Level != LevelEdit {
			b.WriteString(" with ")
			b.WriteString(string(asg.Level))
		}
		b.WriteString(until(asg.ExpiresAt))
	}
	policy := w.policy != "" && w.policy != LevelNone
	if policy {
		b.WriteString("; the new-client policy gives every employee ")
		b.WriteString(string(w.policy))
	}
	if g := w.grant; g != nil && a == AreaClients {
		b.WriteString("; ")
		grantWordsTo(b, g)
	}
	if asg == nil && w.grant == nil && !policy {
		if r.AllLevel != LevelNone {
			b.WriteString("; scope all gives ")
			b.WriteString(string(r.AllLevel))
			b.WriteString("; not assigned to them")
		} else {
			b.WriteString("; not assigned to them")
		}
	}
	for _, e := range w.expired {
		b.WriteString("; ")
		b.WriteString(e)
	}
}

// onClient is the reason of a decision on one client (clientDecision): the right on the area and
// the facts, with what the program asked about (if any) came to.
func onClient(e *Effective, a Area, r AreaRight, f *ClientFacts, program string, note programNote) reason {
	return reason{kind: reasonClient, area: a, right: r, owner: e.IsOwner, policy: f.Client.PolicyLevel,
		asg: f.Assignment, grant: f.Grant, expired: f.Expired, arg: program, program: note}
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
