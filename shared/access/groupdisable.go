package access

import "slices"

// A disabled group (seed 002: default roles "can be changed or disabled", PATCH /v1/groups/{id}
// {"disabled": true}) keeps its members and its settings but gives no rights; the permissions'
// sources list it as disabled_group, level none, wherever it would give something, so the user
// sees why a right is missing. Disabling and enabling are group edits (OpEditGroup: nobody
// changes a group they are in; enabling gives nothing beyond the editor's own rights).

// addDisabledGroups lists the user's disabled groups among the sources, giving nothing: after
// each area's own, in the order of the groups' ids.
func addDisabledGroups(eff *Effective, u User, groups map[string]Group) {
	if LegacyInForce(u, groups) {
		return
	}
	ids := slices.Clone(u.GroupIDs)
	slices.Sort(ids)
	var disabled [numAreas][]Source
	for _, id := range ids {
		g, ok := groups[id]
		if !ok || !g.Disabled {
			continue
		}
		for i, a := range Areas {
			if p := g.Permissions.Get(a); p.Level != LevelNone {
				disabled[i] = append(disabled[i], Source{Type: SourceDisabledGroup, ID: g.ID, Name: "disabled group " + g.Name, Level: LevelNone, Scope: p.Scope})
			}
		}
	}
	var sources []Source
	for i := range eff.areas {
		x := &eff.areas[i]
		start := len(sources)
		sources = append(sources, eff.sources[x.start:x.end]...)
		sources = append(sources, disabled[i]...)
		x.start, x.end = uint16(start), uint16(len(sources))
	}
	eff.sources = sources
}
