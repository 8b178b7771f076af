package dynamo

import (
	"maps"
	"time"

	"github.com/tilgang/tilgang/shared/access"
)

// Key prefixes of the single table. The access-pattern table in the README lists them.
const (
	pfxTenant      = "TENANT#"
	skTenant       = "TENANT"
	pfxUser        = "USER#"
	pfxGroup       = "GROUP#"
	pfxCalendar    = "CALENDAR#"
	pfxEmail       = "EMAIL#"
	skEmail        = "EMAIL"
	pfxAudit       = "AUDIT#"
	pfxIdempotency = "IDEMPOTENCY#"
	// Clients (SK CLIENT#<clientId>) and assignments (SK ACCESS#<clientId>#<userId>) live in the
	// tenant partition; see clients.go for their GSI1 keys.
	pfxClient = "CLIENT#"
	pfxAccess = "ACCESS#"
)

func tenantPK(tenantID string) string { return pfxTenant + tenantID }

// idempotencyTTL is how long a create's Idempotency-Key is remembered.
const idempotencyTTL = 24 * time.Hour

func ts(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func parseTS(s string) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t
}

type permItem struct {
	Level string `dynamodbav:"level"`
	Scope string `dynamodbav:"scope,omitempty"`
}

func permsToItem(p access.Permissions) map[string]permItem {
	if p == nil {
		return nil
	}
	out := make(map[string]permItem, len(p))
	for a, perm := range p {
		out[string(a)] = permItem{Level: string(perm.Level), Scope: string(perm.Scope)}
	}
	return out
}

func permsFromItem(m map[string]permItem) access.Permissions {
	if m == nil {
		return nil
	}
	out := make(access.Permissions, len(m))
	for a, p := range m {
		out[access.Area(a)] = access.Permission{Level: access.Level(p.Level), Scope: access.Scope(p.Scope)}
	}
	return out
}

type tenantItem struct {
	PK                  string   `dynamodbav:"PK"`
	SK                  string   `dynamodbav:"SK"`
	Type                string   `dynamodbav:"type"`
	ID                  string   `dynamodbav:"id"`
	Name                string   `dynamodbav:"name"`
	OwnerID             string   `dynamodbav:"ownerId"`
	NewClientAccess     string   `dynamodbav:"newClientAccess"`
	AnonymiseAfterDays  int      `dynamodbav:"anonymiseAfterDays"`
	BookableCalendarIDs []string `dynamodbav:"bookableCalendarIds"`
	ActiveApps          []string `dynamodbav:"activeApps"`
	Version             int      `dynamodbav:"version"`
	CreatedAt           string   `dynamodbav:"createdAt"`
	UpdatedAt           string   `dynamodbav:"updatedAt"`

	HirerSeats string `dynamodbav:"hirerSeats,omitempty"`
}

func tenantToItem(t access.Tenant) tenantItem {
	return tenantItem{
		PK: tenantPK(t.ID), SK: skTenant, Type: "tenant", ID: t.ID, Name: t.Name, OwnerID: t.OwnerID,
		NewClientAccess: string(t.Settings.NewClientAccess), AnonymiseAfterDays: t.Settings.AnonymiseAfterDays,
		BookableCalendarIDs: nonNilSlice(t.Settings.BookableCalendarIDs), ActiveApps: nonNilSlice(t.Settings.ActiveApps),
		Version: t.Version, CreatedAt: ts(t.CreatedAt), UpdatedAt: ts(t.UpdatedAt), HirerSeats: string(t.Settings.HirerSeats),
	}
}

func (it tenantItem) domain() access.Tenant {
	return access.Tenant{
		ID: it.ID, Name: it.Name, OwnerID: it.OwnerID, Version: it.Version,
		CreatedAt: parseTS(it.CreatedAt), UpdatedAt: parseTS(it.UpdatedAt),
		Settings: access.Settings{
			NewClientAccess: access.ClientPolicy(it.NewClientAccess), AnonymiseAfterDays: it.AnonymiseAfterDays,
			BookableCalendarIDs: it.BookableCalendarIDs, ActiveApps: it.ActiveApps, HirerSeats: access.HirerSeats(it.HirerSeats),
		},
	}
}

func nonNilSlice[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

type legacyItem struct {
	Permissions map[string]permItem `dynamodbav:"permissions"`
	GroupRights map[string]string   `dynamodbav:"groupRights"`
}

type userItem struct {
	PK             string            `dynamodbav:"PK"`
	SK             string            `dynamodbav:"SK"`
	GSI2PK         string            `dynamodbav:"GSI2PK,omitempty"`
	GSI2SK         string            `dynamodbav:"GSI2SK,omitempty"`
	Type           string            `dynamodbav:"type"`
	ID             string            `dynamodbav:"id"`
	TenantID       string            `dynamodbav:"tenantId"`
	Name           string            `dynamodbav:"name"`
	Email          string            `dynamodbav:"email,omitempty"`
	Phone          string            `dynamodbav:"phone,omitempty"`
	PictureURL     string            `dynamodbav:"pictureUrl,omitempty"`
	Profession     string            `dynamodbav:"profession"`
	GroupIDs       []string          `dynamodbav:"groupIds"`
	Roles          []string          `dynamodbav:"roles"`
	Status         string            `dynamodbav:"status"`
	IsOwner        bool              `dynamodbav:"isOwner"`
	CalendarIDs    []string          `dynamodbav:"calendarIds"`
	CalendarAccess map[string]string `dynamodbav:"calendarAccess,omitempty"`
	Legacy         *legacyItem       `dynamodbav:"legacy,omitempty"`
	// Search is the lower-cased name and email the text filter matches; personal data, so
	// anonymisation must clear it with the rest.
	Search    string `dynamodbav:"search,omitempty"`
	RemovedAt string `dynamodbav:"removedAt,omitempty"`
	Version   int    `dynamodbav:"version"`
	CreatedAt string `dynamodbav:"createdAt"`
	UpdatedAt string `dynamodbav:"updatedAt"`
	// GroupExpiry ends group memberships (group id → when and who set it); see expiry.go.
	GroupExpiry map[string]groupExpiryItem `dynamodbav:"groupExpiry,omitempty"`

	// Professions holds every profession when there is more than one (profession is the first).
	Professions []string `dynamodbav:"professions,omitempty"`
	Kind        string   `dynamodbav:"kind,omitempty"`
}

// userBankPK is the sparse GSI2 partition of removed users, sorted by removal time, that the
// scheduled anonymisation sweeps across tenants.
const userBankPK = "USERBANK"

func userToItem(u access.User) userItem {
	it := userItem{
		PK: tenantPK(u.TenantID), SK: pfxUser + u.ID, Type: "user", ID: u.ID, TenantID: u.TenantID,
		Name: u.Name, Email: u.Email, Phone: u.Phone, PictureURL: u.PictureURL, Profession: string(u.Profession),
		GroupIDs: nonNilSlice(u.GroupIDs), Status: string(u.Status), IsOwner: u.IsOwner,
		CalendarIDs: nonNilSlice(u.CalendarIDs), Version: u.Version,
		CreatedAt: ts(u.CreatedAt), UpdatedAt: ts(u.UpdatedAt),
	}
	it.Roles = []string{}
	for _, r := range u.Roles {
		it.Roles = append(it.Roles, string(r))
	}
	if len(u.CalendarAccess) > 0 {
		it.CalendarAccess = map[string]string{}
		for k, v := range u.CalendarAccess {
			it.CalendarAccess[k] = string(v)
		}
	}
	if u.Legacy != nil {
		it.Legacy = &legacyItem{Permissions: permsToItem(u.Legacy.Permissions), GroupRights: maps.Clone(u.Legacy.GroupRights)}
	}
	if u.Status != access.StatusAnonymised {
		it.Search = lower(u.Name + " " + u.Email)
	}
	if len(u.Professions) > 1 {
		for _, p := range u.Professions {
			it.Professions = append(it.Professions, string(p))
		}
	}
	it.Kind = string(u.Kind)
	if u.RemovedAt != nil {
		it.RemovedAt = ts(*u.RemovedAt)
		if u.Status == access.StatusRemoved {
			it.GSI2PK, it.GSI2SK = userBankPK, ts(*u.RemovedAt)+"#"+u.TenantID+"#"+u.ID
		}
	}
	groupExpiryToItem(&it, u)
	return it
}

func (it userItem) domain() access.User {
	u := access.User{
		ID: it.ID, TenantID: it.TenantID, Name: it.Name, Email: it.Email, Phone: it.Phone, PictureURL: it.PictureURL,
		Profession: access.Profession(it.Profession), GroupIDs: it.GroupIDs, Status: access.Status(it.Status),
		IsOwner: it.IsOwner, CalendarIDs: it.CalendarIDs, Version: it.Version,
		CreatedAt: parseTS(it.CreatedAt), UpdatedAt: parseTS(it.UpdatedAt),
	}
	for _, r := range it.Roles {
		u.Roles = append(u.Roles, access.Role(r))
	}
	u.Kind = access.UserKind(it.Kind)
	u.Professions = []access.Profession{u.Profession}
	if len(it.Professions) > 1 {
		u.Professions = nil
		for _, p := range it.Professions {
			u.Professions = append(u.Professions, access.Profession(p))
		}
	}
	if len(it.CalendarAccess) > 0 {
		u.CalendarAccess = map[string]access.Level{}
		for k, v := range it.CalendarAccess {
			u.CalendarAccess[k] = access.Level(v)
		}
	}
	if it.Legacy != nil {
		u.Legacy = &access.LegacyRights{Permissions: permsFromItem(it.Legacy.Permissions), GroupRights: it.Legacy.GroupRights}
	}
	if it.RemovedAt != "" {
		t := parseTS(it.RemovedAt)
		u.RemovedAt = &t
	}
	u.GroupExpiry = groupExpiryFromItem(it.GroupExpiry)
	return u
}

// emailItem claims an email for one user across all tenants.
type emailItem struct {
	PK       string `dynamodbav:"PK"`
	SK       string `dynamodbav:"SK"`
	Type     string `dynamodbav:"type"`
	TenantID string `dynamodbav:"tenantId"`
	UserID   string `dynamodbav:"userId"`
}

func emailKey(email string) map[string]string {
	return map[string]string{AttrPK: pfxEmail + access.EmailKey(email), AttrSK: skEmail}
}

func emailToItem(u access.User) emailItem {
	k := emailKey(u.Email)
	return emailItem{PK: k[AttrPK], SK: k[AttrSK], Type: "email", TenantID: u.TenantID, UserID: u.ID}
}

// calendarItem keeps a calendar known to the tenant, with or without its owner.
type calendarItem struct {
	PK       string `dynamodbav:"PK"`
	SK       string `dynamodbav:"SK"`
	Type     string `dynamodbav:"type"`
	ID       string `dynamodbav:"id"`
	TenantID string `dynamodbav:"tenantId"`
	OwnerID  string `dynamodbav:"ownerId,omitempty"`
	Practice string `dynamodbav:"practice,omitempty"`
	Name     string `dynamodbav:"name,omitempty"`
	Version  int    `dynamodbav:"version,omitempty"`
}

type groupItem struct {
	PK          string              `dynamodbav:"PK"`
	SK          string              `dynamodbav:"SK"`
	Type        string              `dynamodbav:"type"`
	ID          string              `dynamodbav:"id"`
	TenantID    string              `dynamodbav:"tenantId"`
	Name        string              `dynamodbav:"name"`
	Description string              `dynamodbav:"description,omitempty"`
	Permissions map[string]permItem `dynamodbav:"permissions"`
	Template    string              `dynamodbav:"template,omitempty"`
	Version     int                 `dynamodbav:"version"`
	CreatedAt   string              `dynamodbav:"createdAt"`
	UpdatedAt   string              `dynamodbav:"updatedAt"`

	Disabled bool `dynamodbav:"disabled,omitempty"`
}

func groupToItem(g access.Group) groupItem {
	return groupItem{
		PK: tenantPK(g.TenantID), SK: pfxGroup + g.ID, Type: "group", ID: g.ID, TenantID: g.TenantID,
		Name: g.Name, Description: g.Description, Permissions: permsToItem(g.Permissions), Template: g.Template,
		Version: g.Version, CreatedAt: ts(g.CreatedAt), UpdatedAt: ts(g.UpdatedAt), Disabled: g.Disabled,
	}
}

func (it groupItem) domain() access.Group {
	return access.Group{
		ID: it.ID, TenantID: it.TenantID, Name: it.Name, Description: it.Description,
		Permissions: permsFromItem(it.Permissions), Template: it.Template, Version: it.Version,
		CreatedAt: parseTS(it.CreatedAt), UpdatedAt: parseTS(it.UpdatedAt), Disabled: it.Disabled,
	}
}

type auditItem struct {
	PK         string         `dynamodbav:"PK"`
	SK         string         `dynamodbav:"SK"`
	Type       string         `dynamodbav:"type"`
	ID         string         `dynamodbav:"id"`
	TenantID   string         `dynamodbav:"tenantId"`
	Time       string         `dynamodbav:"time"`
	ActorID    string         `dynamodbav:"actorId"`
	Action     string         `dynamodbav:"action"`
	TargetType string         `dynamodbav:"targetType"`
	TargetID   string         `dynamodbav:"targetId"`
	Before     map[string]any `dynamodbav:"before,omitempty"`
	After      map[string]any `dynamodbav:"after,omitempty"`
	RequestID  string         `dynamodbav:"requestId,omitempty"`
}

func auditToItem(a access.AuditEntry) auditItem {
	return auditItem{
		PK: pfxAudit + a.TenantID, SK: a.ID, Type: "audit", ID: a.ID, TenantID: a.TenantID, Time: ts(a.Time),
		ActorID: a.ActorID, Action: a.Action, TargetType: a.TargetType, TargetID: a.TargetID,
		Before: a.Before, After: a.After, RequestID: a.RequestID,
	}
}

func (it auditItem) domain() access.AuditEntry {
	return access.AuditEntry{
		ID: it.ID, TenantID: it.TenantID, Time: parseTS(it.Time), ActorID: it.ActorID, Action: it.Action,
		TargetType: it.TargetType, TargetID: it.TargetID, Before: it.Before, After: it.After, RequestID: it.RequestID,
	}
}

type idempotencyItem struct {
	PK          string `dynamodbav:"PK"`
	SK          string `dynamodbav:"SK"`
	Type        string `dynamodbav:"type"`
	Key         string `dynamodbav:"key"`
	Operation   string `dynamodbav:"operation"`
	RequestHash string `dynamodbav:"requestHash"`
	ResourceID  string `dynamodbav:"resourceId"`
	CreatedAt   string `dynamodbav:"createdAt"`
	ExpiresAt   int64  `dynamodbav:"expiresAt"`
}

func idempotencySK(op, k string) string { return pfxIdempotency + op + "#" + k }

func idempotencyToItem(r *access.IdempotencyRecord) idempotencyItem {
	return idempotencyItem{
		PK: tenantPK(r.TenantID), SK: idempotencySK(r.Operation, r.Key), Type: "idempotency", Key: r.Key,
		Operation: r.Operation, RequestHash: r.RequestHash, ResourceID: r.ResourceID, CreatedAt: ts(r.CreatedAt),
		ExpiresAt: r.CreatedAt.Add(idempotencyTTL).Unix(),
	}
}
