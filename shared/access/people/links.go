package people

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/tilgang/tilgang/shared/access"
)

func validRate(field string, r int) error {
	if r < 1 || r > 100 {
		return access.Invalid(field, "must be a whole percentage from 1 to 100")
	}
	return nil
}

// validColor accepts #rrggbb. A loop, not a regexp: a package-level regexp links the regexp
// engine (about 100 KB) into every Lambda that imports this package.
func validColor(field, c string) (string, error) {
	ok := len(c) == 7 && c[0] == '#'
	for i := 1; ok && i < len(c); i++ {
		ch := c[i]
		ok = '0' <= ch && ch <= '9' || 'a' <= ch && ch <= 'f' || 'A' <= ch && ch <= 'F'
	}
	if !ok {
		return "", access.Invalid(field, "must be a colour like #3366ff")
	}
	return strings.ToLower(c), nil
}

func validEmploymentNumber(field, n string) (string, error) {
	n, err := access.Text(field, n, 64, true)
	if err != nil {
		return "", err
	}
	if n == access.Anonymised || strings.Contains(n, "#") {
		return "", access.Invalid(field, "must not be *** or contain #")
	}
	return n, nil
}

// validNewLink checks a link to create; prefix names the body field ("" or "link.").
func validNewLink(prefix string, in access.NewLink) (access.NewLink, error) {
	if in.ClientID == "" {
		return access.NewLink{}, access.Invalid(prefix+"clientId", "is required")
	}
	if _, err := access.ValidIDs(prefix+"clientId", []string{in.ClientID}, 1); err != nil {
		return access.NewLink{}, access.Invalid(prefix+"clientId", "is not a valid id")
	}
	if err := validRate(prefix+"employmentRate", in.EmploymentRate); err != nil {
		return access.NewLink{}, err
	}
	var err error
	if in.EmploymentNumber, err = validEmploymentNumber(prefix+"employmentNumber", in.EmploymentNumber); err != nil {
		return access.NewLink{}, err
	}
	if in.Color, err = validColor(prefix+"color", in.Color); err != nil {
		return access.NewLink{}, err
	}
	return in, nil
}

// linkAudit is the audit view of a link. The employment number identifies a person, so it is
// named in changedPersonalFields instead of being recorded.
func linkAudit(l access.Link) map[string]any {
	return map[string]any{"userId": l.UserID, "clientId": l.ClientID, "status": l.Status,
		"employmentRate": l.EmploymentRate, "color": l.Color, "version": l.Version}
}

func linkAuditAfter(prev *access.Link, next access.Link) map[string]any {
	m := linkAudit(next)
	if prev == nil || prev.EmploymentNumber != next.EmploymentNumber {
		m["changedPersonalFields"] = []string{"employmentNumber"}
	}
	return m
}

func linkTarget(l access.Link) string { return l.UserID + "/" + l.ClientID }

// clientOf reads the client a link refers to; a missing one (or another tenant's) is reported
// on field when the id came in a body, and as 404 when it came in the path.
func (s *Service) clientExists(ctx context.Context, c *access.Caller, clientID, field string) error {
	_, err := s.Store.GetClient(ctx, c.TenantID(), clientID)
	if field != "" && errors.Is(err, access.ErrNotFound) {
		return access.Invalid(field, "no such client")
	}
	return err
}

// ListLinks pages an assistant's links.
func (s *Service) ListLinks(ctx context.Context, c *access.Caller, userID string, status access.LinkStatus, p access.Page) ([]access.Link, string, error) {
	if status != "" && !status.Valid() {
		return nil, "", access.Invalid("status", "must be active, inactive or removed")
	}
	p, err := p.Normalize()
	if err != nil {
		return nil, "", err
	}
	if !c.CanReadAssistants(userID) {
		return nil, "", access.Forbidden("reading another user's links needs view on users or an administrative role")
	}
	if _, err := s.Store.GetUser(ctx, c.TenantID(), userID); err != nil {
		return nil, "", err
	}
	return s.Store.ListUserLinks(ctx, c.TenantID(), userID, status, p)
}

// ListAssistants pages the links to a care recipient.
func (s *Service) ListAssistants(ctx context.Context, c *access.Caller, clientID string, status access.LinkStatus, p access.Page) ([]access.Link, string, error) {
	if status != "" && !status.Valid() {
		return nil, "", access.Invalid("status", "must be active, inactive or removed")
	}
	p, err := p.Normalize()
	if err != nil {
		return nil, "", err
	}
	if !c.CanReadAssistants("") {
		return nil, "", access.Forbidden("listing a client's assistants needs view on users or an administrative role")
	}
	if err := s.clientExists(ctx, c, clientID, ""); err != nil {
		return nil, "", err
	}
	return s.Store.ListClientLinks(ctx, c.TenantID(), clientID, status, p)
}

// AddLink links an assistant to a care recipient, or re-adds a removed link.
func (s *Service) AddLink(ctx context.Context, c *access.Caller, userID string, in access.NewLink) (access.Link, error) {
	in, err := validNewLink("", in)
	if err != nil {
		return access.Link{}, err
	}
	if err := c.RequireAdministrativeAccess(); err != nil {
		return access.Link{}, err
	}
	var out access.Link
	err = access.Retry(nil, "user", func() error {
		u, err := s.Store.GetUser(ctx, c.TenantID(), userID)
		if err != nil {
			return err
		}
		if !u.HasRole(access.RoleAssistant) {
			return access.Conflict("only users with the assistant role have links")
		}
		if u.Status != access.StatusActive && u.Status != access.StatusDeactivated {
			return access.Conflict("a %s user cannot get links", u.Status)
		}
		if err := s.clientExists(ctx, c, in.ClientID, "clientId"); err != nil {
			return err
		}
		var prev *access.Link
		existing, err := s.Store.GetLink(ctx, c.TenantID(), userID, in.ClientID)
		switch {
		case err == nil && existing.Status != access.LinkRemoved:
			return access.Conflict("the user is already linked to this client; change the link instead")
		case err == nil:
			prev = &existing
		case !errors.Is(err, access.ErrNotFound):
			return err
		}
		if prev == nil {
			all, err := s.Store.AllUserLinks(ctx, c.TenantID(), userID)
			if err != nil {
				return err
			}
			if len(all) >= access.MaxLinksPerUser {
				return access.Conflict("a user can have at most %d links, removed ones included", access.MaxLinksPerUser)
			}
		}
		now := s.Now()
		l := access.Link{TenantID: c.TenantID(), UserID: userID, ClientID: in.ClientID, Status: access.LinkActive,
			EmploymentRate: in.EmploymentRate, EmploymentNumber: in.EmploymentNumber, Color: in.Color,
			Version: 1, CreatedAt: now, UpdatedAt: now}
		action := "link.create"
		var before map[string]any
		if prev != nil {
			l.Version, l.CreatedAt, action, before = prev.Version+1, prev.CreatedAt, "link.readd", linkAudit(*prev)
		}
		entry := s.Audit(c, action, "link", linkTarget(l), before, linkAuditAfter(prev, l))
		if err := s.Store.PutLink(ctx, u, prev, l, access.Meta{Audit: []access.AuditEntry{entry}}); err != nil {
			return err
		}
		out = l
		return nil
	})
	return out, err
}

// UpdateLink changes a link's employment details or moves it between active and inactive.
func (s *Service) UpdateLink(ctx context.Context, c *access.Caller, userID, clientID string, p access.LinkPatch, ifMatch *int) (access.Link, error) {
	var err error
	if p.EmploymentRate == nil && p.EmploymentNumber == nil && p.Color == nil && p.Status == nil {
		return access.Link{}, access.Invalid("body", "name at least one of employmentRate, employmentNumber, color, status")
	}
	if p.EmploymentRate != nil {
		if err := validRate("employmentRate", *p.EmploymentRate); err != nil {
			return access.Link{}, err
		}
	}
	if p.EmploymentNumber != nil {
		if *p.EmploymentNumber, err = validEmploymentNumber("employmentNumber", *p.EmploymentNumber); err != nil {
			return access.Link{}, err
		}
	}
	if p.Color != nil {
		if *p.Color, err = validColor("color", *p.Color); err != nil {
			return access.Link{}, err
		}
	}
	if p.Status != nil && *p.Status != access.LinkActive && *p.Status != access.LinkInactive {
		return access.Link{}, access.Invalid("status", "must be active or inactive; remove a link with DELETE")
	}
	return s.updateLink(ctx, c, userID, clientID, ifMatch, "link.update", func(l *access.Link) error {
		if l.Status == access.LinkRemoved {
			return access.Conflict("a removed link cannot be changed; add it again instead")
		}
		if p.EmploymentRate != nil {
			l.EmploymentRate = *p.EmploymentRate
		}
		if p.EmploymentNumber != nil {
			l.EmploymentNumber = *p.EmploymentNumber
		}
		if p.Color != nil {
			l.Color = *p.Color
		}
		if p.Status != nil {
			l.Status = *p.Status
		}
		return nil
	})
}

// RemoveLink ends an assistant's access to one care recipient; the link stays as history.
// Removing a removed link again changes nothing.
func (s *Service) RemoveLink(ctx context.Context, c *access.Caller, userID, clientID string, ifMatch *int) (access.Link, error) {
	return s.updateLink(ctx, c, userID, clientID, ifMatch, "link.remove", func(l *access.Link) error {
		l.Status = access.LinkRemoved
		return nil
	})
}

func (s *Service) updateLink(ctx context.Context, c *access.Caller, userID, clientID string, ifMatch *int, action string, mutate func(*access.Link) error) (access.Link, error) {
	if err := c.RequireAdministrativeAccess(); err != nil {
		return access.Link{}, err
	}
	var out access.Link
	err := access.Retry(ifMatch, "link", func() error {
		prev, err := s.Store.GetLink(ctx, c.TenantID(), userID, clientID)
		if errors.Is(err, access.ErrNotFound) {
			return access.NotFound("link")
		}
		if err != nil {
			return err
		}
		if err := access.CheckIfMatch(ifMatch, prev.Version, "link"); err != nil {
			return err
		}
		next := prev
		if err := mutate(&next); err != nil {
			return err
		}
		if next == prev {
			out = prev
			return nil
		}
		next.Version, next.UpdatedAt = prev.Version+1, s.Now()
		entry := s.Audit(c, action, "link", linkTarget(next), linkAudit(prev), linkAuditAfter(&prev, next))
		if err := s.Store.UpdateLink(ctx, prev, next, access.Meta{Audit: []access.AuditEntry{entry}}); err != nil {
			return err
		}
		out = next
		return nil
	})
	return out, err
}

// liveLinks reports whether any link is not removed.
func liveLinks(links []access.Link) bool {
	return slices.ContainsFunc(links, func(l access.Link) bool { return l.Status != access.LinkRemoved })
}

// requireNoLiveLinks keeps "only assistants have links": the assistant role cannot be taken
// from a user whose links are still active or inactive.
func (s *Service) requireNoLiveLinksWithout(ctx context.Context, u access.User, roles []access.Role) error {
	if !u.HasRole(access.RoleAssistant) || slices.Contains(roles, access.RoleAssistant) {
		return nil
	}
	links, err := s.Store.AllUserLinks(ctx, u.TenantID, u.ID)
	if err != nil {
		return fmt.Errorf("links of user %s: %w", u.ID, err)
	}
	if liveLinks(links) {
		return access.Conflict("the user still has assistant links; remove them before taking the assistant role away")
	}
	return nil
}

// firstLink checks the link a new user is created with: an assistant must come with one, and
// only an assistant may. It returns nil for users who are not assistants.
func (s *Service) firstLink(ctx context.Context, c *access.Caller, u access.User, in *access.NewLink) (*access.Link, error) {
	if !u.HasRole(access.RoleAssistant) {
		if in != nil {
			return nil, access.Invalid("link", "only users with the assistant role have links")
		}
		return nil, nil
	}
	if in == nil {
		return nil, access.Invalid("link", "is required for an assistant: their first link to a care recipient")
	}
	nl, err := validNewLink("link.", *in)
	if err != nil {
		return nil, err
	}
	if err := s.clientExists(ctx, c, nl.ClientID, "link.clientId"); err != nil {
		return nil, err
	}
	return &access.Link{TenantID: u.TenantID, UserID: u.ID, ClientID: nl.ClientID, Status: access.LinkActive,
		EmploymentRate: nl.EmploymentRate, EmploymentNumber: nl.EmploymentNumber, Color: nl.Color,
		Version: 1, CreatedAt: u.CreatedAt, UpdatedAt: u.CreatedAt}, nil
}

// createUser stores a new user, with their first link in the same transaction when there is one.
func (s *Service) createUser(ctx context.Context, c *access.Caller, u access.User, l *access.Link, meta access.Meta) error {
	if l == nil {
		return s.Store.CreateUser(ctx, u, meta)
	}
	meta.Audit = append(meta.Audit, s.Audit(c, "link.create", "link", linkTarget(*l), nil, linkAuditAfter(nil, *l)))
	return s.Store.CreateUserWithLink(ctx, u, *l, meta)
}

// requireNoLinks refuses to delete an assistant with links, current or past: shifts and time
// reports refer to them, so they are removed to the user bank and anonymised instead.
func (s *Service) requireNoLinks(ctx context.Context, u access.User) error {
	links, err := s.Store.AllUserLinks(ctx, u.TenantID, u.ID)
	if err != nil {
		return err
	}
	if len(links) > 0 {
		return access.Conflict("a user with assistant links is removed and anonymised, not deleted")
	}
	return nil
}

// deleteUser deletes a user, with their links and employment number claims when they have any.
func (s *Service) deleteUser(ctx context.Context, u access.User, meta access.Meta) error {
	links, err := s.Store.AllUserLinks(ctx, u.TenantID, u.ID)
	if err != nil {
		return err
	}
	if len(links) == 0 {
		return s.Store.DeleteUser(ctx, u, meta)
	}
	return s.Store.DeleteUserWithLinks(ctx, u, links, meta)
}
