package people

import (
	"context"
	"maps"
	"slices"
	"time"

	"github.com/tilgang/tilgang/shared/access"
)

// SetGroupsUntil replaces a user's groups, with an expiry for some memberships (group id →
// instant; every id must be among groupIDs; nil: all permanent). A membership without an expiry
// is permanent; the previous expiries are replaced with the groups. Legacy rights end here when
// the groups change.
func (s *Service) SetGroupsUntil(ctx context.Context, c *access.Caller, id string, groupIDs []string, expiresAt map[string]time.Time, ifMatch *int) (access.User, error) {
	if groupIDs == nil {
		return access.User{}, access.Invalid("groupIds", "is required (an empty list removes every group)")
	}
	now := s.Now()
	var expiry map[string]access.GroupExpiry
	for _, gid := range slices.Sorted(maps.Keys(expiresAt)) {
		if !slices.Contains(groupIDs, gid) {
			return access.User{}, access.Invalid("expiresAt."+gid, "names a group that is not in groupIds")
		}
		t := expiresAt[gid]
		v, err := access.ValidExpiry("expiresAt."+gid, &t, now)
		if err != nil {
			return access.User{}, err
		}
		if expiry == nil {
			expiry = map[string]access.GroupExpiry{}
		}
		expiry[gid] = access.GroupExpiry{At: *v, By: c.User.ID}
	}
	groups, err := s.existingGroups(ctx, c.TenantID(), "groupIds", groupIDs)
	if err != nil {
		return access.User{}, err
	}
	ids := slices.Sorted(maps.Keys(groups))
	return s.updateUser(ctx, c, id, ifMatch, "user.groups.set", func(u *access.User) error {
		if err := c.RequireChangeRightsOf(*u); err != nil {
			return err
		}
		// Only what the caller hands out must be within their own rights: a membership the
		// user already has, until the same instant, is not given again by sending the whole list
		// back (as a form that adds one group does), even when it is above the caller's rights.
		// A new expiry on it (later, none, or sooner) is handed out like a new membership.
		handed := maps.Clone(groups)
		maps.DeleteFunc(handed, func(gid string, _ access.Group) bool {
			old, had := u.GroupExpiry[gid]
			e, has := expiry[gid]
			return slices.Contains(u.GroupIDs, gid) && had == has && (!had || old.At.Equal(e.At))
		})
		if err := c.RequireGroupsWithinOwnRights("groupIds", handed); err != nil {
			return err
		}
		if u.Status == access.StatusAnonymised {
			return access.Conflict("an anonymised user has no groups")
		}
		if !slices.Equal(u.GroupIDs, ids) {
			u.Legacy = nil
		}
		u.GroupIDs = ids
		// Keep who set an unchanged expiry: re-sending the same body changes nothing.
		next := map[string]access.GroupExpiry{}
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
