package access

import (
	"fmt"
	"slices"
)

// AppTenants is the Tenants app (seed 002: "Activate Employees or Tenants"): hirers who rent a
// room in the clinic and keep their own practice.
const AppTenants = "tenants"

// HirerSeats is how a tenant bills its hirers.
type HirerSeats string

// Hirer billing settings.
const (
	// HirerSeatsBillable bills a hirer like an employee: by their professions (the default).
	HirerSeatsBillable HirerSeats = "billable"
	// HirerSeatsFree never bills hirers (they pay the clinic rent instead).
	HirerSeatsFree HirerSeats = "free"
)

// Valid reports whether h is a known setting.
func (h HirerSeats) Valid() bool { return h == HirerSeatsBillable || h == HirerSeatsFree }

// Or is h, or def when h is unset.
func (h HirerSeats) Or(def HirerSeats) HirerSeats {
	if h == "" {
		return def
	}
	return h
}

// HirerTemplate is the predefined group offered when the Tenants app is activated: a hirer's own
// clients, journals, invoices and calendar, nothing of the clinic's administration.
var HirerTemplate = Template{
	ID: "hirer", Name: "Hirer",
	Description: "A practitioner renting a room: their own clients, journals, invoices and calendar",
	Permissions: Permissions{
		AreaClients:   own(LevelEdit),
		AreaJournals:  own(LevelEdit),
		AreaInvoices:  own(LevelEdit),
		AreaCalendars: own(LevelEdit),
		AreaPayments:  flat(LevelView),
	},
}

// AppForKind is the app a kind of user needs: Employees for employees, Tenants for hirers.
func AppForKind(k UserKind) (string, string) {
	if k == KindHirer {
		return AppTenants, "activate the Tenants app before creating hirers"
	}
	return AppEmployees, "activate the Employees app before creating users"
}

// HirerAssignmentSource is how a client arriving in a hirer's practice becomes theirs.
func HirerAssignmentSource(src ClientSource) AssignmentSource {
	if src == ClientOnlineBooking {
		return AssignedByOnlineBooking
	}
	return AssignedManually
}

// ValidProfessions reads professions (one or more) and the single profession of older clients:
// when both are given the single one must be the first of the list.
func ValidProfessions(single Profession, list []Profession, required bool) ([]Profession, error) {
	if list == nil && single == "" {
		if required {
			return nil, Invalid("profession", "is required: one of %v", Professions)
		}
		return nil, nil
	}
	if single != "" && !single.Valid() {
		return nil, Invalid("profession", "must be one of %v", Professions)
	}
	if list == nil {
		list = []Profession{single}
	}
	if len(list) == 0 {
		return nil, Invalid("professions", "must name at least one profession")
	}
	if len(list) > len(Professions) {
		return nil, Invalid("professions", "has more entries than there are professions")
	}
	out := make([]Profession, 0, len(list))
	for i, p := range list {
		if !p.Valid() {
			return nil, Invalid(fmt.Sprintf("professions[%d]", i), "must be one of %v", Professions)
		}
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	if single != "" && single != out[0] {
		return nil, Invalid("profession", "must be the first of professions when both are given")
	}
	return out, nil
}

// AllProfessions is everything the user does, Profession first.
func (u User) AllProfessions() []Profession {
	if len(u.Professions) > 0 {
		return u.Professions
	}
	if u.Profession != "" {
		return []Profession{u.Profession}
	}
	return nil
}

func (u User) anyBillableProfession() bool {
	return slices.ContainsFunc(u.AllProfessions(), Profession.Billable)
}

// Seat is one active person's seat and why it is billed or free.
type Seat struct {
	UserID      string
	Kind        UserKind
	Professions []Profession
	Billable    bool
	Reason      string
}

// SeatOf decides one active user's seat under the tenant's settings.
func SeatOf(u User, st Settings) Seat {
	s := Seat{UserID: u.ID, Kind: u.KindOf(), Professions: u.AllProfessions(), Billable: u.Billable()}
	var billable []string
	for _, p := range s.Professions {
		if p.Billable() {
			billable = append(billable, string(p))
		}
	}
	switch {
	case u.Kind == KindHirer && st.HirerSeats.Or(HirerSeatsBillable) == HirerSeatsFree:
		s.Billable, s.Reason = false, "a hirer, and the account bills hirers free (hirerSeats: free)"
	case s.Billable:
		s.Reason = fmt.Sprintf("billable: %v is a billable profession (any one makes the seat billable)", billable)
	default:
		s.Reason = "free: receptionists and bookkeepers who are not also practitioners log in free"
	}
	return s
}

// ReplaceFirst makes p the first profession of list, keeping the others after it once.
func ReplaceFirst(list []Profession, p Profession) []Profession {
	out := []Profession{p}
	for _, x := range list[min(1, len(list)):] {
		if x != p {
			out = append(out, x)
		}
	}
	return out
}
