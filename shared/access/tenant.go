package access

// SettingsPatch changes some settings; nil fields stay as they are.
type SettingsPatch struct {
	NewClientAccess     *ClientPolicy
	AnonymiseAfterDays  *int
	BookableCalendarIDs *[]string
	HirerSeats          *HirerSeats
}

// OwnerTransfer names the new owner and, optionally, what the former owner keeps: by default
// the main_admin role (and their groups as they are), so that they keep administering the
// account they ran; Roles and GroupIDs, when given, replace their roles and groups instead.
type OwnerTransfer struct {
	UserID   string
	Roles    *[]Role
	GroupIDs *[]string
}

// Seats is the billing view of a tenant.
type Seats struct {
	Billable     int
	Free         int
	ByProfession map[Profession]int
	// Seats lists each active person's seat and why (any billable profession bills it; hirers
	// follow the tenant's hirerSeats); Hirers counts the hirers among them.
	Seats  []Seat
	Hirers int
}
