package access

import "context"

// The reverse look-ups read only what is in their answer. The store assembles, per page, the
// people (or clients) that may be in it, each with the client's facts about them; the policy
// core then decides each level and explains it. How the candidates are found (which
// partitions, which index, how the streams are merged and how a cursor is encoded) is the
// store's business.

// AccessCandidate is one user who may be able to open a client: reached by scope all (a group,
// legacy rights or a role), by ownership, by the new-client policy, or named by an assignment or
// a bureau grant on the client. User carries at least the fields access is computed from (id,
// status, ownership, groups, roles, legacy rights).
type AccessCandidate struct {
	User       User
	Assignment *Assignment
	Grant      *ClientGrant
}

// ClientAccessPage is one page of the candidates of a client, by user id.
type ClientAccessPage struct {
	// Caller is the user asked for with the page (nil: not asked for, or no such user).
	Caller *User
	// Client is the client; its ID is "" when the tenant has no such client (and the page is
	// empty).
	Client Client
	// Groups holds every group of the tenant (from which rights are computed).
	Groups     map[string]Group
	Candidates []AccessCandidate
	// Next is the cursor of the following page; "" at the end.
	Next string
}

// ClientCandidate is one client a user may be able to open: assigned, granted or under the
// new-client policy.
type ClientCandidate struct {
	Client     Client
	Assignment *Assignment
	Grant      *ClientGrant
}

// UserClientsPage is one page of the candidates of a user, by client id.
type UserClientsPage struct {
	// Caller is the user asked for with the page (nil: not asked for, or no such user), and
	// CallerGroups their groups.
	Caller       *User
	CallerGroups map[string]Group
	Candidates   []ClientCandidate
	Next         string
}

// LookupStore answers the reverse questions in a bounded number of round trips, whatever the
// tenant's head count or client count.
type LookupStore interface {
	// ClientAccessPage returns up to limit candidates of a client after the cursor ("" from
	// the start): every user assigned or granted the client (deactivated ones too, and never one
	// left behind by a deleted user), and every active user who may reach it without either
	// (the owner, members of groups giving clients with scope all, users with legacy rights or a
	// role that may, and, when the client has a policy level, every active user). Candidates
	// that turn out to reach nothing are the caller's to drop, so a page may hold fewer than
	// limit. A missing client gives an empty page whose Client.ID is ""; ErrInvalid for a
	// cursor of another list. callerID ("": none) names a user read with the page, consistently,
	// so that a request's principal costs no round trip of its own.
	ClientAccessPage(ctx context.Context, tenantID, callerID, clientID, cursor string, limit int) (ClientAccessPage, error)
	// UserClientsPage returns up to limit clients after the cursor that are assigned or granted
	// to the user and, with policy, the clients that have a policy level. ErrInvalid for a
	// cursor of another list.
	// callerID ("": none) names a user read with the page, consistently, with their groups.
	UserClientsPage(ctx context.Context, tenantID, callerID, userID, cursor string, limit int, policy bool) (UserClientsPage, error)
	// MayHavePolicyClients reports whether the tenant is known to have clients under the
	// new-client policy. It never says false of a tenant that had them when this request's
	// principal was read; before that, false only means "not known yet".
	MayHavePolicyClients(tenantID string) bool
}
