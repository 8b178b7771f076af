package httpapi

import (
	"time"

	"github.com/tilgang/tilgang/shared/access"
)

// parseExpiry reads an optional RFC 3339 expiresAt; the use case checks it is in the future and
// at most two years ahead.
func parseExpiry(field string, s *string) (*time.Time, error) {
	if s == nil {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339, *s)
	if err != nil {
		return nil, access.Invalid(field, "must be an RFC 3339 date-time, e.g. 2027-01-31T17:00:00Z")
	}
	return &t, nil
}

// parseGroupExpiry reads the expiresAt object of PUT /v1/users/{userId}/groups.
func parseGroupExpiry(m map[string]string) (map[string]time.Time, error) {
	if len(m) == 0 {
		return nil, nil
	}
	if len(m) > 50 {
		return nil, access.Invalid("expiresAt", "must have at most 50 entries")
	}
	out := make(map[string]time.Time, len(m))
	for gid, v := range m {
		if !access.PlausibleID(gid) {
			return nil, access.Invalid("expiresAt", "has a key that is not a group id")
		}
		t, err := parseExpiry("expiresAt."+gid, &v)
		if err != nil {
			return nil, err
		}
		out[gid] = *t
	}
	return out, nil
}

func groupExpiryJSON(u access.User) map[string]time.Time {
	if len(u.GroupExpiry) == 0 {
		return nil
	}
	out := make(map[string]time.Time, len(u.GroupExpiry))
	for gid, e := range u.GroupExpiry {
		out[gid] = e.At
	}
	return out
}
