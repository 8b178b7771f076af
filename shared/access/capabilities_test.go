package access_test

import (
	"testing"

	"github.com/tilgang/tilgang/shared/access"
)

// cells names the cell values of the cases below.
var cells = map[string]access.Cell{
	"yes":            {Value: access.CapYes},
	"no":             {Value: access.CapNo},
	"no/deactivated": {Value: access.CapNo, Note: "the account is deactivated"},
	"no/link":        {Value: access.CapNo, Note: "a link must exist"},
	"no/bank":        {Value: access.CapNo, Note: "only in the user bank"},
	"no/gone":        {Value: access.CapNo, Note: "the user no longer exists"},
	"yes/shifts":     {Value: access.CapYes, Condition: "only if the person has shifts in the time report"},
	"partial/saved":  {Value: access.CapPartial, Condition: "shifts stay staffed, but a shift that is saved again in the schedule becomes unstaffed"},
	"partial/anon":   {Value: access.CapPartial, Condition: "any schedule is anonymised"},
}

// A deactivated user takes the link's column with only the rows deactivation changes
// overridden; the other statuses decide alone or follow the link, as the seed's table says.
// Rows in the order of access.Capabilities: canLogIn, scheduleAccess, timeReportAccess,
// communicationAccess, profileSettings, schedulable, inStaffList, shiftsStayStaffed,
// timeReportReminder, recipientCanApproveTimeReport.
func TestCapabilityCells(t *testing.T) {
	deactivatedLinked := [10]string{"no/deactivated", "no/deactivated", "no/deactivated", "no/deactivated", "no/deactivated",
		"no/deactivated", "yes", "partial/saved", "yes/shifts", "yes/shifts"}
	deactivatedUnlinked := deactivatedLinked
	deactivatedUnlinked[9] = "no/link" // seed: "Nej, koppling måste finnas"
	removedLink := [10]string{"yes", "no", "no", "no", "yes", "no", "yes", "partial/saved", "yes/shifts", "no/link"}
	removedUser := [10]string{"no", "no", "no", "no", "no", "no", "no/bank", "partial/saved", "yes/shifts", "no/link"}
	anonymised := [10]string{"no/gone", "no/gone", "no/gone", "no/gone", "no/gone", "no/gone", "no/gone", "partial/anon", "no/gone", "no/gone"}
	for _, tc := range []struct {
		name   string
		status access.Status
		link   access.LinkStatus // "" is no link
		state  access.CapabilityState
		want   [10]string
	}{
		{"active, active link", access.StatusActive, access.LinkActive, access.StateActiveLink,
			[10]string{"yes", "yes", "yes", "yes", "yes", "yes", "yes", "yes", "yes/shifts", "yes/shifts"}},
		{"active, inactive link", access.StatusActive, access.LinkInactive, access.StateInactiveLink,
			[10]string{"yes", "yes", "yes", "yes", "yes", "no", "yes", "partial/saved", "yes/shifts", "yes/shifts"}},
		{"active, removed link", access.StatusActive, access.LinkRemoved, access.StateRemovedLink, removedLink},
		{"active, never linked", access.StatusActive, "", access.StateNoLink, removedLink},
		{"deactivated, active link", access.StatusDeactivated, access.LinkActive, access.StateDeactivatedUser, deactivatedLinked},
		{"deactivated, inactive link", access.StatusDeactivated, access.LinkInactive, access.StateDeactivatedUser, deactivatedLinked},
		{"deactivated, removed link", access.StatusDeactivated, access.LinkRemoved, access.StateDeactivatedUser, deactivatedUnlinked},
		{"deactivated, never linked", access.StatusDeactivated, "", access.StateDeactivatedUser, deactivatedUnlinked},
		{"removed user, removed link", access.StatusRemoved, access.LinkRemoved, access.StateRemovedUser, removedUser},
		{"removed user, never linked", access.StatusRemoved, "", access.StateRemovedUser, removedUser},
		{"anonymised", access.StatusAnonymised, access.LinkRemoved, access.StateAnonymised, anonymised},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var link *access.Link
			if tc.link != "" {
				link = &access.Link{Status: tc.link}
			}
			state, got := access.CapabilityCells(access.User{Status: tc.status}, link)
			if state != tc.state {
				t.Errorf("state = %s, want %s", state, tc.state)
			}
			if len(got) != len(access.Capabilities) {
				t.Errorf("%d cells, want %d", len(got), len(access.Capabilities))
			}
			for i, cp := range access.Capabilities {
				want, ok := cells[tc.want[i]]
				if !ok {
					t.Fatalf("unknown cell %q", tc.want[i])
				}
				if got[cp] != want {
					t.Errorf("%s = %+v, want %s", cp, got[cp], tc.want[i])
				}
			}
		})
	}
}
