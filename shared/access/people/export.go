package people

import (
	"context"
	"maps"
	"slices"

	"github.com/tilgang/tilgang/shared/access"
)

// maxExportAuditPages bounds the audit pages one export reads (100 entries each). The audit log
// has no index by actor or target; a person's entries are found by reading the tenant's log.
const maxExportAuditPages = 2000

// ExportUser returns everything held about a person (audit entries: those whose actor or target
// they are, or that name them as the user of an assignment or grant): the owner and main administrators export
// anyone, a user themselves (OpExportUser). The export is audited (user.export) before it is
// read, so it lists itself. After anonymisation only the anonymised remains are returned.
func (s *Service) ExportUser(ctx context.Context, c *access.Caller, id string) (access.Export, error) {
	if access.ValidID("userId", id) != nil || !c.CanReadUser(id) {
		return access.Export{}, access.NotFound("user")
	}
	u, err := s.Store.GetUser(ctx, c.TenantID(), id)
	if err != nil {
		return access.Export{}, err
	}
	if err := c.Require(access.Request{Op: access.OpExportUser, Target: &u}); err != nil {
		return access.Export{}, err
	}
	out := access.Export{User: u, ExportedAt: s.Now(), Anonymised: u.Status == access.StatusAnonymised}
	if err := s.Store.WriteMeta(ctx, access.Meta{Audit: []access.AuditEntry{s.Audit(c, "user.export", "user", id, nil,
		map[string]any{"anonymised": out.Anonymised})}}); err != nil {
		return access.Export{}, err
	}
	if out.Anonymised {
		return out, nil
	}
	groups, err := s.Store.GetGroups(ctx, c.TenantID(), u.GroupIDs)
	if err != nil {
		return access.Export{}, err
	}
	for _, gid := range slices.Sorted(maps.Keys(groups)) {
		out.Groups = append(out.Groups, groups[gid])
	}
	for _, cid := range u.CalendarIDs {
		cal, err := s.Store.GetCalendar(ctx, c.TenantID(), cid)
		if isNotFoundErr(err) {
			continue
		}
		if err != nil {
			return access.Export{}, err
		}
		out.Calendars = append(out.Calendars, cal)
	}
	for after := ""; ; {
		asgs, more, err := s.Store.UserAssignmentsAfter(ctx, c.TenantID(), id, after, access.MaxPageLimit)
		if err != nil {
			return access.Export{}, err
		}
		out.Assignments = append(out.Assignments, asgs...)
		if !more || len(asgs) == 0 {
			break
		}
		after = asgs[len(asgs)-1].ClientID
	}
	for after := ""; ; {
		gs, more, err := s.Store.UserGrantsAfter(ctx, c.TenantID(), id, after, access.MaxPageLimit)
		if err != nil {
			return access.Export{}, err
		}
		out.Grants = append(out.Grants, gs...)
		if !more || len(gs) == 0 {
			break
		}
		after = gs[len(gs)-1].ClientID
	}
	if out.ClientRoles, err = s.Store.ClientRolesOf(ctx, c.TenantID(), id); err != nil {
		return access.Export{}, err
	}
	if out.Links, err = s.Store.AllUserLinks(ctx, c.TenantID(), id); err != nil {
		return access.Export{}, err
	}
	recs, err := s.Store.GetDirectoryUsers(ctx, c.TenantID(), []string{id})
	if err != nil {
		return access.Export{}, err
	}
	if d, ok := recs[id]; ok {
		out.Directory = &d
	}
	p := access.Page{Limit: access.MaxPageLimit}
	for {
		ns, next, err := s.Store.ListNotifications(ctx, c.TenantID(), id, s.Now(), p)
		if err != nil {
			return access.Export{}, err
		}
		out.Notifications = append(out.Notifications, ns...)
		if next == "" {
			break
		}
		p.Cursor = next
	}
	p = access.Page{Limit: access.MaxPageLimit}
	for i := 0; i < maxExportAuditPages; i++ {
		entries, next, err := s.Store.ListAudit(ctx, c.TenantID(), p)
		if err != nil {
			return access.Export{}, err
		}
		for _, e := range entries {
			if e.ActorID == id || e.TargetID == id || e.Before["userId"] == id || e.After["userId"] == id {
				out.Audit = append(out.Audit, e)
			}
		}
		if next == "" {
			break
		}
		p.Cursor = next
	}
	return out, nil
}
