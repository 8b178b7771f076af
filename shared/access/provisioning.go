package access

import (
	"context"
	"time"
)

// Provisioning: a tenant's directory (Entra ID, Okta) keeps its users and groups in step over
// SCIM 2.0 with a per-tenant token. The token acts as a provisioning principal: a Caller that
// is no user, carries the provisioning privilege and nothing else, and asks the same policy
// (Decide) as everyone. Its ops (OpProvisionUser, OpDeprovisionUser, OpProvisionGroup,
// OpProvisionMembership) cannot raise anybody: it never hands out rights, roles or permissions
// (a directory group is created without rights; an administrator gives it rights in Tilgang),
// never reaches the account owner, and never changes an administrator's profile, groups or
// status except to deactivate or remove them (deprovisioning is the privacy control).

// PrivProvisioning is what a provisioning token carries. No role gives it and it is not in
// Privileges: only a SCIM token's principal has it.
const PrivProvisioning Privilege = "provisioning"

// SourceProvisioning names a right that comes from a provisioning token.
const SourceProvisioning SourceType = "provisioning"

// ProvisionerPrefix starts the actor id of everything a provisioning token does: audit entries
// read "provisioning:<tokenId>" and carry the token's name.
const ProvisionerPrefix = "provisioning:"

// MaxSCIMTokens bounds a tenant's live provisioning tokens.
const MaxSCIMTokens = 10

// SCIMToken is a tenant's provisioning token. Its secret is shown once, at creation, and kept
// only as a hash.
type SCIMToken struct {
	ID        string
	TenantID  string
	Name      string
	CreatedBy string
	CreatedAt time.Time
	// Hash is the SHA-256 of the secret (hex); the secret itself is never stored.
	Hash string
}

// NewProvisioningCaller is the principal of a request made with a provisioning token.
func NewProvisioningCaller(tok SCIMToken, requestID string) *Caller {
	u := User{ID: ProvisionerPrefix + tok.ID, TenantID: tok.TenantID, Name: tok.Name, Status: StatusActive}
	src := Source{Type: SourceProvisioning, ID: tok.ID, Name: "provisioning token " + tok.Name}
	eff := Effective{UserID: u.ID}
	eff.privs[PrivProvisioning.index()] = []Source{src}
	return &Caller{User: u, Groups: map[string]Group{}, Effective: eff, RequestID: requestID}
}

// IsProvisioner reports whether the caller is a provisioning token's principal.
func (c *Caller) IsProvisioner() bool { return c.Effective.Has(PrivProvisioning) && !c.User.IsOwner }

// DirectoryUser is what the directory says about a user beyond the user itself: kept beside the
// user, written in the same transaction, and deleted with it or when it is anonymised.
type DirectoryUser struct {
	ExternalID  string
	GivenName   string
	FamilyName  string
	DisplayName string
	Title       string
	// PhoneType is the SCIM type of the phone number kept as the user's phone ("work", ...).
	PhoneType string
	// The enterprise extension.
	EmployeeNumber string
	Department     string
	ManagerID      string
}

// ProvisionedUser is a user as the directory sees it.
type ProvisionedUser struct {
	User      User
	Directory DirectoryUser
}

// DirectoryGroup marks a permission group the directory manages: created over SCIM, its members
// follow the directory.
type DirectoryGroup struct {
	GroupID    string
	ExternalID string
	// NameKey is the lower-cased display name the directory last gave it (the name filter's
	// index); the group's name itself is Group.Name.
	NameKey string
}

// ProvisionedGroup is a directory group.
type ProvisionedGroup struct {
	Group     Group
	Directory DirectoryGroup
}

// Match is one indexed comparison of a SCIM filter: Op is "eq", "sw", "co" or "pr".
type Match struct {
	Op    string
	Value string
}

// DirectoryReader reads what a directory said about users (the export reads it too).
type DirectoryReader interface {
	// GetDirectoryUsers returns the records that exist among the user ids.
	GetDirectoryUsers(ctx context.Context, tenantID string, userIDs []string) (map[string]DirectoryUser, error)
}

// ProvisioningStore keeps provisioning tokens and the directory's records. Writes take Meta like
// every other write, in the same transaction.
type ProvisioningStore interface {
	DirectoryReader
	// CreateSCIMToken writes a token under its hash and in the tenant's list.
	CreateSCIMToken(ctx context.Context, tok SCIMToken, meta Meta) error
	// ListSCIMTokens lists a tenant's tokens, oldest first.
	ListSCIMTokens(ctx context.Context, tenantID string) ([]SCIMToken, error)
	// GetSCIMToken returns ErrNotFound for a missing token or one of another tenant.
	GetSCIMToken(ctx context.Context, tenantID, tokenID string) (SCIMToken, error)
	// DeleteSCIMToken deletes both items of a token; ErrNotFound if it is gone.
	DeleteSCIMToken(ctx context.Context, tok SCIMToken, meta Meta) error
	// SCIMTokenByHash finds a live token by the hash of its secret (strongly consistent, so a
	// revoked token is refused at once); ErrNotFound if none.
	SCIMTokenByHash(ctx context.Context, hash string) (SCIMToken, error)

	// DirectoryUserIDs lists the ids of users whose externalId matches (an index read).
	DirectoryUserIDs(ctx context.Context, tenantID string, m Match, limit int) ([]string, error)
	// CreateDirectoryUser writes a new user (as CreateUser does) with its record.
	CreateDirectoryUser(ctx context.Context, u User, d DirectoryUser, meta Meta) error
	// UpdateDirectoryUser writes next (as UpdateUser does, conditional on prev.Version) and its
	// record.
	UpdateDirectoryUser(ctx context.Context, prev, next User, d DirectoryUser, meta Meta) error

	// GetDirectoryGroups returns the records that exist among the group ids.
	GetDirectoryGroups(ctx context.Context, tenantID string, groupIDs []string) (map[string]DirectoryGroup, error)
	// DirectoryGroupIDs lists the ids of directory groups whose attribute ("displayName" or
	// "externalId") matches (an index read).
	DirectoryGroupIDs(ctx context.Context, tenantID, attr string, m Match, limit int) ([]string, error)
	// ListDirectoryGroups pages through the tenant's directory groups.
	ListDirectoryGroups(ctx context.Context, tenantID string, p Page) ([]DirectoryGroup, string, error)
	// CreateDirectoryGroup writes a new group (as CreateGroup does) with its record.
	CreateDirectoryGroup(ctx context.Context, g Group, d DirectoryGroup, meta Meta) error
	// UpdateDirectoryGroup writes next (as UpdateGroup does) and its record.
	UpdateDirectoryGroup(ctx context.Context, prev, next Group, d DirectoryGroup, meta Meta) error
	// DeleteDirectoryGroup deletes the group (as DeleteGroup does) and its record.
	DeleteDirectoryGroup(ctx context.Context, g Group, meta Meta) error
}
