package access

import (
	"context"
	"maps"
	"slices"
	"time"
)

// SetGroupsUntil replaces a user's groups like SetGroups, with an expiry for some memberships
// (group id → instant; every id must be among groupIDs). A membership without an expiry is
// permanent; the previous expiries are replaced with the groups.
func (s *Service) SetGroupsUntil(ctx context.Context, c *Caller, id string, groupIDs []string, expiresAt map[string]time.Time, ifMatch *int) (User, error) {
	if groupIDs == nil {
		return User{}, Invalid("groupIds", "is required (an empty list removes every group)")
	}
	now := s.Now()
	var expiry map[string]GroupExpiry
	for _, gid := range slices.Sorted(maps.Keys(expiresAt)) {
		if !slices.Contains(groupIDs, gid) {
			return User{}, Invalid("expiresAt."+gid, "names a group that is not in groupIds")
		}
		t := expiresAt[gid]
		v, err := validExpiry("expiresAt."+gid, &t, now)
		if err != nil {
			return User{}, err
		}
		if expiry == nil {
			expiry = map[string]GroupExpiry{}
		}
		expiry[gid] = GroupExpiry{At: *v, By: c.User.ID}
	}
	groups, err := s.existingGroups(ctx, c.TenantID(), "groupIds", groupIDs)
	if err != nil {
		return User{}, err
	}
	if err := c.requireGroupsWithinOwnRights("groupIds", groups); err != nil {
		return User{}, err
	}
	ids := slices.Sorted(maps.Keys(groups))
	return s.updateUser(ctx, c, id, ifMatch, "user.groups.set", func(u *User) error {
		if err := c.requireChangeRightsOf(*u); err != nil {
			return err
		}
		if u.Status == StatusAnonymised {
			return Conflict("an anonymised user has no groups")
		}
		if !slices.Equal(u.GroupIDs, ids) {
			u.Legacy = nil
		}
		u.GroupIDs = ids
		// Keep who set an unchanged expiry: re-sending the same body changes nothing.
		next := map[string]GroupExpiry{}
		for gid, e := range expiry {
			if old, ok := u.GroupExpiry[gid]; ok && old.At.Equal(e.At) {
				e.By = old.By
			}
			next[gid] = e
		}
		if len(next) == 0 {
			next = nil
		}
		u.GroupExpiry = next
		return nil
	}, nil)
}

// groupExpiryAudit lists a user's membership expiries for an audit entry.
func groupExpiryAudit(u User) map[string]any {
	if len(u.GroupExpiry) == 0 {
		return nil
	}
	out := map[string]any{}
	for gid, e := range u.GroupExpiry {
		out[gid] = e.At.UTC().Format(time.RFC3339)
	}
	return out
}
