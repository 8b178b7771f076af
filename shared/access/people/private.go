package people

import (
	"errors"
)

// errEffectsPending marks an anonymisation that is written but whose login deletion or event
// failed; its marker stays for the sweep and a repeated request to finish.
var errEffectsPending = errors.New("the user is anonymised, but deleting the login or publishing the event is still pending")

// errNotDue is how the scheduled run skips a user whose state changed since the index said due.
var errNotDue = errors.New("no longer due for anonymisation")

// minAnonymiseDays is the shortest period a tenant can set (0 means never), so users removed
// less than a day ago are never due and the sweep stops there.
const minAnonymiseDays = 1

// tenantRolledBack is the error of an opening whose owner could not be invited.
type tenantRolledBack struct{ err error }

func (e *tenantRolledBack) Error() string {
	return "invite owner (the tenant was rolled back): " + e.err.Error()
}

func (e *tenantRolledBack) Unwrap() error { return e.err }
