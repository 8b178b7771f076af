package access

// CapabilityState is the column of the capability matrix a (user, care recipient) pair is in.
type CapabilityState string

// Capability states: the five columns of seed 003's status table, and two of Tilgang's own.
const (
	StateActiveLink   CapabilityState = "active_link"
	StateInactiveLink CapabilityState = "inactive_link"
	StateRemovedLink  CapabilityState = "removed_link"
	StateRemovedUser  CapabilityState = "removed_user"
	StateAnonymised   CapabilityState = "anonymised" // "Raderad hårt"
	// StateNoLink is a user who was never linked to the recipient: for that recipient they are
	// exactly where a removed link leaves them (seed 003: a removed link ends access to that
	// recipient only), so the column is the removed link's.
	StateNoLink CapabilityState = "no_link"
	// StateDeactivatedUser is a deactivated account, a status the seed's table has no column
	// for. Its cells are the link's column (active, inactive, removed or no link) with the rows
	// of deactivatedRows overridden: see there.
	StateDeactivatedUser CapabilityState = "deactivated_user"
)

// CapabilityValue is one cell's answer.
type CapabilityValue string

// Cell values: "Ja, om ..." is yes with a condition, "Delvis. ..." is partial.
const (
	CapYes     CapabilityValue = "yes"
	CapNo      CapabilityValue = "no"
	CapPartial CapabilityValue = "partial"
)

// Capability names the rows of the seed's table, in its order.
type Capability string

// The rows.
const (
	CapCanLogIn                      Capability = "canLogIn"                      // Kan logga in
	CapScheduleAccess                Capability = "scheduleAccess"                // Åtkomst till schema
	CapTimeReportAccess              Capability = "timeReportAccess"              // Åtkomst till tidrapport
	CapCommunicationAccess           Capability = "communicationAccess"           // Åtkomst till kommunikation
	CapProfileSettings               Capability = "profileSettings"               // Kan se sina profilinställningar
	CapSchedulable                   Capability = "schedulable"                   // Kan schemaläggas
	CapInStaffList                   Capability = "inStaffList"                   // Återfinns i personallistan
	CapShiftsStayStaffed             Capability = "shiftsStayStaffed"             // Bemannade pass förblir bemannade
	CapTimeReportReminder            Capability = "timeReportReminder"            // Får påminnelse om att godkänna tidrapport
	CapRecipientCanApproveTimeReport Capability = "recipientCanApproveTimeReport" // Anordnare/brukare kan godkänna tidrapport
)

// Capabilities lists the rows in the seed's order.
var Capabilities = []Capability{CapCanLogIn, CapScheduleAccess, CapTimeReportAccess, CapCommunicationAccess,
	CapProfileSettings, CapSchedulable, CapInStaffList, CapShiftsStayStaffed, CapTimeReportReminder,
	CapRecipientCanApproveTimeReport}

// Cell is one answer of the matrix. Condition qualifies a yes or partial ("only if ...");
// Note explains a no ("the user no longer exists").
type Cell struct {
	Value     CapabilityValue
	Condition string
	Note      string
}

// The recurring texts of the seed's cells, in English.
const (
	condHasShifts    = "only if the person has shifts in the time report"
	condShiftsSaved  = "shifts stay staffed, but a shift that is saved again in the schedule becomes unstaffed"
	condScheduleAnon = "any schedule is anonymised"
	noteGone         = "the user no longer exists"
	noteLinkRequired = "a link must exist"
	noteUserBank     = "only in the user bank"
	noteDeactivated  = "the account is deactivated"
)

var (
	yes         = Cell{Value: CapYes}
	no          = Cell{Value: CapNo}
	gone        = Cell{Value: CapNo, Note: noteGone}
	yesIfShifts = Cell{Value: CapYes, Condition: condHasShifts}
	partSaved   = Cell{Value: CapPartial, Condition: condShiftsSaved}
)

// capabilityMatrix is seed 003's status table ("Överblick status") as data: row × column.
// The five seed columns are copied cell by cell; no_link is derived (see its state's comment).
// A deactivated account has no column of its own: see deactivatedRows.
var capabilityMatrix = map[Capability]map[CapabilityState]Cell{
	CapCanLogIn: {StateActiveLink: yes, StateInactiveLink: yes, StateRemovedLink: yes, StateRemovedUser: no,
		StateAnonymised: gone, StateNoLink: yes},
	CapScheduleAccess: {StateActiveLink: yes, StateInactiveLink: yes, StateRemovedLink: no, StateRemovedUser: no,
		StateAnonymised: gone, StateNoLink: no},
	CapTimeReportAccess: {StateActiveLink: yes, StateInactiveLink: yes, StateRemovedLink: no, StateRemovedUser: no,
		StateAnonymised: gone, StateNoLink: no},
	CapCommunicationAccess: {StateActiveLink: yes, StateInactiveLink: yes, StateRemovedLink: no, StateRemovedUser: no,
		StateAnonymised: gone, StateNoLink: no},
	CapProfileSettings: {StateActiveLink: yes, StateInactiveLink: yes, StateRemovedLink: yes, StateRemovedUser: no,
		StateAnonymised: gone, StateNoLink: yes},
	CapSchedulable: {StateActiveLink: yes, StateInactiveLink: no, StateRemovedLink: no, StateRemovedUser: no,
		StateAnonymised: gone, StateNoLink: no},
	CapInStaffList: {StateActiveLink: yes, StateInactiveLink: yes, StateRemovedLink: yes,
		StateRemovedUser: {Value: CapNo, Note: noteUserBank}, StateAnonymised: gone, StateNoLink: yes},
	CapShiftsStayStaffed: {StateActiveLink: yes, StateInactiveLink: partSaved, StateRemovedLink: partSaved,
		StateRemovedUser: partSaved, StateAnonymised: {Value: CapPartial, Condition: condScheduleAnon},
		StateNoLink: partSaved},
	CapTimeReportReminder: {StateActiveLink: yesIfShifts, StateInactiveLink: yesIfShifts, StateRemovedLink: yesIfShifts,
		StateRemovedUser: yesIfShifts, StateAnonymised: gone, StateNoLink: yesIfShifts},
	CapRecipientCanApproveTimeReport: {StateActiveLink: yesIfShifts, StateInactiveLink: yesIfShifts,
		StateRemovedLink: {Value: CapNo, Note: noteLinkRequired}, StateRemovedUser: {Value: CapNo, Note: noteLinkRequired},
		StateAnonymised: gone, StateNoLink: {Value: CapNo, Note: noteLinkRequired}},
}

// deactivatedRows are the rows a deactivated account changes, whatever its link to the
// recipient; every other row keeps the value of the link's column. The rule: deactivation only
// stops the person from logging in and being scheduled (DESIGN.md: no data lost, reversible).
// So everything reached by logging in is no (log-in, schedule, time report, communication,
// profile settings), they cannot be scheduled, and like an inactive link their staffed shifts
// stay until saved again. What does not need the person to log in follows the link: they stay
// in the staff list, still get time-report reminders, and the recipient can approve their time
// report only while a link exists (seed: "Nej, koppling måste finnas").
var deactivatedRows = map[Capability]Cell{
	CapCanLogIn:            {Value: CapNo, Note: noteDeactivated},
	CapScheduleAccess:      {Value: CapNo, Note: noteDeactivated},
	CapTimeReportAccess:    {Value: CapNo, Note: noteDeactivated},
	CapCommunicationAccess: {Value: CapNo, Note: noteDeactivated},
	CapProfileSettings:     {Value: CapNo, Note: noteDeactivated},
	CapSchedulable:         {Value: CapNo, Note: noteDeactivated},
	CapShiftsStayStaffed:   partSaved,
}

// CapabilityCell returns one cell of a column of the matrix (the seed's five and no_link).
func CapabilityCell(c Capability, s CapabilityState) Cell { return capabilityMatrix[c][s] }

// CapabilityStateOf decides the column: the user's status first (anonymised, removed,
// deactivated), then the link's status; link is nil when there is none.
func CapabilityStateOf(u User, link *Link) CapabilityState {
	switch {
	case u.Status == StatusAnonymised:
		return StateAnonymised
	case u.Status == StatusRemoved:
		return StateRemovedUser
	case u.Status == StatusDeactivated:
		return StateDeactivatedUser
	}
	return linkState(link)
}

// CapabilityCells answers every row for a user and a recipient: the state and its cells.
func CapabilityCells(u User, link *Link) (CapabilityState, map[Capability]Cell) {
	state := CapabilityStateOf(u, link)
	column := state
	if state == StateDeactivatedUser {
		column = linkState(link)
	}
	cells := make(map[Capability]Cell, len(Capabilities))
	for _, cp := range Capabilities {
		cells[cp] = CapabilityCell(cp, column)
		if cell, ok := deactivatedRows[cp]; ok && state == StateDeactivatedUser {
			cells[cp] = cell
		}
	}
	return state, cells
}

// CapabilityReport answers the matrix for one user and one care recipient.
type CapabilityReport struct {
	UserID   string
	ClientID string
	State    CapabilityState
	Cells    map[Capability]Cell
}
