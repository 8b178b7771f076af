package access

import "time"

// Export is everything Tilgang holds about one person (GDPR Art. 15), as stored: ids and field
// names, no derived data beyond the rights their groups give.
type Export struct {
	User       User
	Anonymised bool
	ExportedAt time.Time
	Groups     []Group
	// Calendars are the person's own calendars as stored; CalendarAccess is in User.
	Calendars     []Calendar
	Assignments   []Assignment
	Grants        []ClientGrant
	ClientRoles   ClientRoles
	Links         []Link
	Audit         []AuditEntry
	Notifications []Notification
	// Directory is what a provisioning directory (SCIM) said about the person, if one did.
	Directory *DirectoryUser
}
