package access

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// LinkStatus is where an assistant link is in its life. A removed link stays as history.
type LinkStatus string

// Link statuses.
const (
	LinkActive   LinkStatus = "active"
	LinkInactive LinkStatus = "inactive"
	LinkRemoved  LinkStatus = "removed"
)

// Valid reports whether s is a known link status.
func (s LinkStatus) Valid() bool { return s == LinkActive || s == LinkInactive || s == LinkRemoved }

// Anonymised replaces a personal value that must keep a non-empty shape (names, employment
// numbers) once the person is anonymised. It is never claimed as an employment number.
const Anonymised = "***"

// MaxLinksPerUser bounds an assistant's links (removed ones included): removing or anonymising
// the user rewrites all of them in one transaction, and DynamoDB allows 100 items in one.
const MaxLinksPerUser = 30

// Link joins an assistant to a care recipient (a client).
type Link struct {
	TenantID         string
	UserID           string
	ClientID         string
	Status           LinkStatus
	EmploymentRate   int // percent, 1-100
	EmploymentNumber string
	Color            string // #rrggbb
	Version          int
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

// NewLink is a link to create.
type NewLink struct {
	ClientID         string
	EmploymentRate   int
	EmploymentNumber string
	Color            string
}

// LinkPatch changes some fields of a link; nil fields stay as they are. Removing a link is
// RemoveLink, not a status patch, so that the one-way step has its own route and audit action.
type LinkPatch struct {
	EmploymentRate   *int
	EmploymentNumber *string
	Color            *string
	Status           *LinkStatus
}

// LinkChange is one link rewritten together with its user (removal, anonymisation).
type LinkChange struct {
	Prev, Next Link
}

// LinkStore keeps assistant links and the per-tenant employment number claims.
type LinkStore interface {
	// GetLink returns ErrNotFound when the user has no link (of any status) to the client.
	GetLink(ctx context.Context, tenantID, userID, clientID string) (Link, error)
	// ListUserLinks pages a user's links, all statuses when status is "".
	ListUserLinks(ctx context.Context, tenantID, userID string, status LinkStatus, p Page) ([]Link, string, error)
	// ListClientLinks pages the links to a client, all statuses when status is "".
	ListClientLinks(ctx context.Context, tenantID, clientID string, status LinkStatus, p Page) ([]Link, string, error)
	// AllUserLinks reads every link of a user (at most MaxLinksPerUser).
	AllUserLinks(ctx context.Context, tenantID, userID string) ([]Link, error)
	// CreateUserWithLink writes a new assistant, their email claim, calendars, first link and
	// its employment number claim in one transaction; ErrConflict naming the email or the
	// employment number when either is taken.
	CreateUserWithLink(ctx context.Context, u User, l Link, meta Meta) error
	// PutLink creates next (prev nil) or re-adds a removed link (prev set, conditional on its
	// version), claims its employment number, and bumps the user's version conditional on
	// user.Version, so that a concurrent removal of the user, which must remove every link,
	// cannot miss it. ErrConflict when the employment number is taken; ErrVersionConflict when
	// the user or the link changed.
	PutLink(ctx context.Context, user User, prev *Link, next Link, meta Meta) error
	// UpdateLink writes next if the stored version is prev.Version, moving the employment
	// number claim when it changed.
	UpdateLink(ctx context.Context, prev, next Link, meta Meta) error
	// UpdateUserWithLinks writes a user and some of their links in one transaction, each
	// conditional on the version read (the email and employment number claims move or go
	// with the values). A change of status for which EndsClientRoles holds also deletes the
	// user's client roles, like DeleteUser its assignments; meta.Pending is written with it.
	UpdateUserWithLinks(ctx context.Context, prev, next User, links []LinkChange, meta Meta) error
	// DeleteUserWithLinks deletes a user like DeleteUser and, in the same transaction, their
	// links and employment number claims.
	DeleteUserWithLinks(ctx context.Context, u User, links []Link, meta Meta) error
}

var colorRE = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

func validRate(field string, r int) error {
	if r < 1 || r > 100 {
		return Invalid(field, "must be a whole percentage from 1 to 100")
	}
	return nil
}

func validColor(field, c string) (string, error) {
	if !colorRE.MatchString(c) {
		return "", Invalid(field, "must be a colour like #3366ff")
	}
	return strings.ToLower(c), nil
}

func validEmploymentNumber(field, n string) (string, error) {
	n, err := text(field, n, 64, true)
	if err != nil {
		return "", err
	}
	if n == Anonymised || strings.Contains(n, "#") {
		return "", Invalid(field, "must not be *** or contain #")
	}
	return n, nil
}

// validNewLink checks a link to create; prefix names the body field ("" or "link.").
func validNewLink(prefix string, in NewLink) (NewLink, error) {
	if in.ClientID == "" {
		return NewLink{}, Invalid(prefix+"clientId", "is required")
	}
	if _, err := validIDs(prefix+"clientId", []string{in.ClientID}, 1); err != nil {
		return NewLink{}, Invalid(prefix+"clientId", "is not a valid id")
	}
	if err := validRate(prefix+"employmentRate", in.EmploymentRate); err != nil {
		return NewLink{}, err
	}
	var err error
	if in.EmploymentNumber, err = validEmploymentNumber(prefix+"employmentNumber", in.EmploymentNumber); err != nil {
		return NewLink{}, err
	}
	if in.Color, err = validColor(prefix+"color", in.Color); err != nil {
		return NewLink{}, err
	}
	return in, nil
}

// linkAudit is the audit view of a link. The employment number identifies a person, so it is
// named in changedPersonalFields instead of being recorded.
func linkAudit(l Link) map[string]any {
	return map[string]any{"userId": l.UserID, "clientId": l.ClientID, "status": l.Status,
		"employmentRate": l.EmploymentRate, "color": l.Color, "version": l.Version}
}

func linkAuditAfter(prev *Link, next Link) map[string]any {
	m := linkAudit(next)
	if prev == nil || prev.EmploymentNumber != next.EmploymentNumber {
		m["changedPersonalFields"] = []string{"employmentNumber"}
	}
	return m
}

func linkTarget(l Link) string { return l.UserID + "/" + l.ClientID }

// hasAdministrativeRole: team leads, administrators and main administrators do the
// administrative work around assistants (seed 003: administrative access needs team_lead or
// admin; main_admin is above admin).
func (u User) hasAdministrativeRole() bool {
	return u.HasRole(RoleTeamLead) || u.HasRole(RoleAdmin) || u.HasRole(RoleMainAdmin)
}

// requireAdministrativeAccess: managing assistants' links needs an administrative role, the
// owner, or the general right to manage users (edit on users) of tenants that use groups only.
func (c *Caller) requireAdministrativeAccess() error {
	return c.require(Request{Op: OpManageLinks})
}

// canReadAssistants: reading links and capabilities of others.
func (c *Caller) canReadAssistants(userID string) bool {
	return c.decide(Request{Op: OpReadLinks, Target: &User{ID: userID}}).Allowed
}

// clientOf reads the client a link refers to; a missing one (or another tenant's) is reported
// on field when the id came in a body, and as 404 when it came in the path.
func (s *Service) clientExists(ctx context.Context, c *Caller, clientID, field string) error {
	_, err := s.Store.GetClient(ctx, c.TenantID(), clientID)
	if field != "" && errors.Is(err, ErrNotFound) {
		return Invalid(field, "no such client")
	}
	return err
}

// ListLinks pages an assistant's links.
func (s *Service) ListLinks(ctx context.Context, c *Caller, userID string, status LinkStatus, p Page) ([]Link, string, error) {
	if status != "" && !status.Valid() {
		return nil, "", Invalid("status", "must be active, inactive or removed")
	}
	p, err := p.Normalize()
	if err != nil {
		return nil, "", err
	}
	if !c.canReadAssistants(userID) {
		return nil, "", Forbidden("reading another user's links needs view on users or an administrative role")
	}
	if _, err := s.Store.GetUser(ctx, c.TenantID(), userID); err != nil {
		return nil, "", err
	}
	return s.Store.ListUserLinks(ctx, c.TenantID(), userID, status, p)
}

// ListAssistants pages the links to a care recipient.
func (s *Service) ListAssistants(ctx context.Context, c *Caller, clientID string, status LinkStatus, p Page) ([]Link, string, error) {
	if status != "" && !status.Valid() {
		return nil, "", Invalid("status", "must be active, inactive or removed")
	}
	p, err := p.Normalize()
	if err != nil {
		return nil, "", err
	}
	if !c.canReadAssistants("") {
		return nil, "", Forbidden("listing a client's assistants needs view on users or an administrative role")
	}
	if err := s.clientExists(ctx, c, clientID, ""); err != nil {
		return nil, "", err
	}
	return s.Store.ListClientLinks(ctx, c.TenantID(), clientID, status, p)
}

// AddLink links an assistant to a care recipient, or re-adds a removed link.
func (s *Service) AddLink(ctx context.Context, c *Caller, userID string, in NewLink) (Link, error) {
	in, err := validNewLink("", in)
	if err != nil {
		return Link{}, err
	}
	if err := c.requireAdministrativeAccess(); err != nil {
		return Link{}, err
	}
	var out Link
	err = retry(nil, "user", func() error {
		u, err := s.Store.GetUser(ctx, c.TenantID(), userID)
		if err != nil {
			return err
		}
		if !u.HasRole(RoleAssistant) {
			return Conflict("only users with the assistant role have links")
		}
		if u.Status != StatusActive && u.Status != StatusDeactivated {
			return Conflict("a %s user cannot get links", u.Status)
		}
		if err := s.clientExists(ctx, c, in.ClientID, "clientId"); err != nil {
			return err
		}
		var prev *Link
		existing, err := s.Store.GetLink(ctx, c.TenantID(), userID, in.ClientID)
		switch {
		case err == nil && existing.Status != LinkRemoved:
			return Conflict("the user is already linked to this client; change the link instead")
		case err == nil:
			prev = &existing
		case !errors.Is(err, ErrNotFound):
			return err
		}
		if prev == nil {
			all, err := s.Store.AllUserLinks(ctx, c.TenantID(), userID)
			if err != nil {
				return err
			}
			if len(all) >= MaxLinksPerUser {
				return Conflict("a user can have at most %d links, removed ones included", MaxLinksPerUser)
			}
		}
		now := s.Now()
		l := Link{TenantID: c.TenantID(), UserID: userID, ClientID: in.ClientID, Status: LinkActive,
			EmploymentRate: in.EmploymentRate, EmploymentNumber: in.EmploymentNumber, Color: in.Color,
			Version: 1, CreatedAt: now, UpdatedAt: now}
		action := "link.create"
		var before map[string]any
		if prev != nil {
			l.Version, l.CreatedAt, action, before = prev.Version+1, prev.CreatedAt, "link.readd", linkAudit(*prev)
		}
		entry := s.audit(c, action, "link", linkTarget(l), before, linkAuditAfter(prev, l))
		if err := s.Store.PutLink(ctx, u, prev, l, Meta{Audit: []AuditEntry{entry}}); err != nil {
			return err
		}
		out = l
		return nil
	})
	return out, err
}

// UpdateLink changes a link's employment details or moves it between active and inactive.
func (s *Service) UpdateLink(ctx context.Context, c *Caller, userID, clientID string, p LinkPatch, ifMatch *int) (Link, error) {
	var err error
	if p.EmploymentRate == nil && p.EmploymentNumber == nil && p.Color == nil && p.Status == nil {
		return Link{}, Invalid("body", "name at least one of employmentRate, employmentNumber, color, status")
	}
	if p.EmploymentRate != nil {
		if err := validRate("employmentRate", *p.EmploymentRate); err != nil {
			return Link{}, err
		}
	}
	if p.EmploymentNumber != nil {
		if *p.EmploymentNumber, err = validEmploymentNumber("employmentNumber", *p.EmploymentNumber); err != nil {
			return Link{}, err
		}
	}
	if p.Color != nil {
		if *p.Color, err = validColor("color", *p.Color); err != nil {
			return Link{}, err
		}
	}
	if p.Status != nil && *p.Status != LinkActive && *p.Status != LinkInactive {
		return Link{}, Invalid("status", "must be active or inactive; remove a link with DELETE")
	}
	return s.updateLink(ctx, c, userID, clientID, ifMatch, "link.update", func(l *Link) error {
		if l.Status == LinkRemoved {
			return Conflict("a removed link cannot be changed; add it again instead")
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
func (s *Service) RemoveLink(ctx context.Context, c *Caller, userID, clientID string, ifMatch *int) (Link, error) {
	return s.updateLink(ctx, c, userID, clientID, ifMatch, "link.remove", func(l *Link) error {
		l.Status = LinkRemoved
		return nil
	})
}

func (s *Service) updateLink(ctx context.Context, c *Caller, userID, clientID string, ifMatch *int, action string, mutate func(*Link) error) (Link, error) {
	if err := c.requireAdministrativeAccess(); err != nil {
		return Link{}, err
	}
	var out Link
	err := retry(ifMatch, "link", func() error {
		prev, err := s.Store.GetLink(ctx, c.TenantID(), userID, clientID)
		if errors.Is(err, ErrNotFound) {
			return NotFound("link")
		}
		if err != nil {
			return err
		}
		if err := checkIfMatch(ifMatch, prev.Version, "link"); err != nil {
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
		entry := s.audit(c, action, "link", linkTarget(next), linkAudit(prev), linkAuditAfter(&prev, next))
		if err := s.Store.UpdateLink(ctx, prev, next, Meta{Audit: []AuditEntry{entry}}); err != nil {
			return err
		}
		out = next
		return nil
	})
	return out, err
}

// liveLinks reports whether any link is not removed.
func liveLinks(links []Link) bool {
	return slices.ContainsFunc(links, func(l Link) bool { return l.Status != LinkRemoved })
}

// requireNoLiveLinks keeps "only assistants have links": the assistant role cannot be taken
// from a user whose links are still active or inactive.
func (s *Service) requireNoLiveLinksWithout(ctx context.Context, u User, roles []Role) error {
	if !u.HasRole(RoleAssistant) || slices.Contains(roles, RoleAssistant) {
		return nil
	}
	links, err := s.Store.AllUserLinks(ctx, u.TenantID, u.ID)
	if err != nil {
		return fmt.Errorf("links of user %s: %w", u.ID, err)
	}
	if liveLinks(links) {
		return Conflict("the user still has assistant links; remove them before taking the assistant role away")
	}
	return nil
}

// firstLink checks the link a new user is created with: an assistant must come with one, and
// only an assistant may. It returns nil for users who are not assistants.
func (s *Service) firstLink(ctx context.Context, c *Caller, u User, in *NewLink) (*Link, error) {
	if !u.HasRole(RoleAssistant) {
		if in != nil {
			return nil, Invalid("link", "only users with the assistant role have links")
		}
		return nil, nil
	}
	if in == nil {
		return nil, Invalid("link", "is required for an assistant: their first link to a care recipient")
	}
	nl, err := validNewLink("link.", *in)
	if err != nil {
		return nil, err
	}
	if err := s.clientExists(ctx, c, nl.ClientID, "link.clientId"); err != nil {
		return nil, err
	}
	return &Link{TenantID: u.TenantID, UserID: u.ID, ClientID: nl.ClientID, Status: LinkActive,
		EmploymentRate: nl.EmploymentRate, EmploymentNumber: nl.EmploymentNumber, Color: nl.Color,
		Version: 1, CreatedAt: u.CreatedAt, UpdatedAt: u.CreatedAt}, nil
}

// createUser stores a new user, with their first link in the same transaction when there is one.
func (s *Service) createUser(ctx context.Context, c *Caller, u User, l *Link, meta Meta) error {
	if l == nil {
		return s.Store.CreateUser(ctx, u, meta)
	}
	meta.Audit = append(meta.Audit, s.audit(c, "link.create", "link", linkTarget(*l), nil, linkAuditAfter(nil, *l)))
	return s.Store.CreateUserWithLink(ctx, u, *l, meta)
}

// requireNoLinks refuses to delete an assistant with links, current or past: shifts and time
// reports refer to them, so they are removed to the user bank and anonymised instead.
func (s *Service) requireNoLinks(ctx context.Context, u User) error {
	links, err := s.Store.AllUserLinks(ctx, u.TenantID, u.ID)
	if err != nil {
		return err
	}
	if len(links) > 0 {
		return Conflict("a user with assistant links is removed and anonymised, not deleted")
	}
	return nil
}

// deleteUser deletes a user, with their links and employment number claims when they have any.
func (s *Service) deleteUser(ctx context.Context, u User, meta Meta) error {
	links, err := s.Store.AllUserLinks(ctx, u.TenantID, u.ID)
	if err != nil {
		return err
	}
	if len(links) == 0 {
		return s.Store.DeleteUser(ctx, u, meta)
	}
	return s.Store.DeleteUserWithLinks(ctx, u, links, meta)
}
