package clients

import "github.com/tilgang/tilgang/shared/access"

type accessCursor struct {
	Client string `json:"c"`
	Phase  string `json:"p"`
	Inner  string `json:"i,omitempty"`
}

// appointmentLevel is what an appointment assigns: the employee treats the client, so their own
// groups' level applies in full (the assignment's level only ever lowers it).
const appointmentLevel = access.LevelEdit

// maxCandidateGroups bounds the groups named in one candidate filter; with more scope-all groups
// the filter falls back to every active user (still correct, only less selective).
const maxCandidateGroups = 40

const (
	phaseAssigned   = "a"
	phaseGranted    = "g"
	phaseUnassigned = "u"
)

type userClientsCursor struct {
	User  string `json:"u"`
	After string `json:"a"`
}
