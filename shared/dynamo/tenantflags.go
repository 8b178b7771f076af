package dynamo

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"

	"github.com/tilgang/tilgang/shared/access"
)

// A tenant flag says that a tenant has some kind of item at all, so that a read path reads the
// place where such items live only in tenants that have them: an empty Query costs half a full
// one. Flags live on the group set, which every request's principal reads anyway. Each is set
// before the first item it announces is written and never cleared, so it is monotonic: a reader
// that misses the flag finds no such item either, and once this process has seen a flag set
// for a tenant it remembers it and may read the place at once, alongside the principal, instead
// of after it. A tenant not (yet) known to have any such item costs no read of the place.
type tenantFlag string

const (
	// flagPolicyClients: clients under the new-client policy ("which clients can user u open"
	// reads the policy-client partition).
	flagPolicyClients tenantFlag = "policyClients"
	// flagClientGrants: bureau client grants ("who can open client c" reads the client's
	// grants beside its assignments).
	flagClientGrants tenantFlag = "clientGrants"
	// flagLegacyAll: users whose legacy rights give every client ("who can open client c"
	// reads the legacy member list).
	flagLegacyAll tenantFlag = "legacyAll"
)

// tenantFlags are the flags as stored on the group set item (groupSetItem embeds them).
type tenantFlags struct {
	PolicyClients bool `dynamodbav:"policyClients,omitempty"`
	ClientGrants  bool `dynamodbav:"clientGrants,omitempty"`
	LegacyAll     bool `dynamodbav:"legacyAll,omitempty"`
}

// has reports a flag; a missing group set has none.
func (set *groupSetItem) has(flag tenantFlag) bool {
	if set == nil {
		return false
	}
	switch f := set.tenantFlags; flag {
	case flagPolicyClients:
		return f.PolicyClients
	case flagClientGrants:
		return f.ClientGrants
	case flagLegacyAll:
		return f.LegacyAll
	}
	return false
}

var allTenantFlags = []tenantFlag{flagPolicyClients, flagClientGrants, flagLegacyAll}

func flagKey(tenantID string, flag tenantFlag) string { return tenantID + "\x00" + string(flag) }

// noteFlags remembers the flags a read of a tenant's group set found set.
func (s *Store) noteFlags(tenantID string, set *groupSetItem) {
	if set == nil {
		return
	}
	for _, f := range allTenantFlags {
		if set.has(f) {
			s.knownFlags.Store(flagKey(tenantID, f), true)
		}
	}
}

// knows reports whether the flag is known set for the tenant: true once any read of its group
// set in this process said so. False means "not known": after this request's principal was
// read, it means the tenant had no such item then.
func (s *Store) knows(tenantID string, flag tenantFlag) bool {
	_, ok := s.knownFlags.Load(flagKey(tenantID, flag))
	return ok
}

// MayHavePolicyClients reports whether the tenant is known to have clients under the
// new-client policy (see knows).
func (s *Store) MayHavePolicyClients(tenantID string) bool {
	return s.knows(tenantID, flagPolicyClients)
}

// markFlag sets a tenant's flag before the first item it announces is written. It writes only
// while this process does not know the flag set: after the first such item, nothing.
//
// The write is a transaction of one update: every writer links TransactWriteItems already, and a
// function that never calls UpdateItem otherwise (groups, settings) would link that operation's
// client code for this alone. A group change's transaction may hold the set at that moment; the
// write is idempotent, so it is sent again once that is done.
func (s *Store) markFlag(ctx context.Context, tenantID string, flag tenantFlag) error {
	if s.knows(tenantID, flag) {
		return nil
	}
	// One write at a time: the parallel parts of a job's first chunk would otherwise all send
	// it at once and cancel each other on the group set.
	s.flagWrites.Lock()
	defer s.flagWrites.Unlock()
	if s.knows(tenantID, flag) {
		return nil
	}
	exists := expression.AttributeExists(expression.Name(AttrPK))
	set := expression.Set(expression.Name(string(flag)), expression.Value(true))
	var err error
	for attempt := 1; ; attempt++ {
		t := &txn{}
		if err = t.update(s.table, groupSetKey(tenantID), set, &exists, errNoGroupSet); err != nil {
			return err
		}
		// commit turns the cancellations into errNoGroupSet and, when another transaction held
		// the set, a version conflict: sent again, and after the last attempt the request's (or
		// the job part's) to retry, not a server error.
		if err = s.commit(ctx, t); !errors.Is(err, access.ErrVersionConflict) || attempt == flagWriteAttempts {
			break
		}
		if err = s.flagPause(ctx, attempt); err != nil {
			break
		}
	}
	if err != nil {
		return err
	}
	s.knownFlags.Store(flagKey(tenantID, flag), true)
	return nil
}

// errNoGroupSet is markFlag's answer for a tenant without a group set.
var errNoGroupSet = errors.New("the tenant has no group set to carry its flags")

// flagWriteAttempts bounds the sends of one flag write that other transactions keep cancelling.
const flagWriteAttempts = 4

// flagPause waits after the attempt-th send of a flag write was cancelled by a conflict, before
// the next one (never after the last): about attempt² × 20 ms, half of it random, so that
// processes whose first writes of a tenant collided (a job's first parts on several instances)
// do not send again in step; it ends early with ctx. The mutex is held meanwhile, so a pause
// is no longer than it needs to be.
func (s *Store) flagPause(ctx context.Context, attempt int) error {
	d := time.Duration(attempt*attempt) * 20 * time.Millisecond
	d = d/2 + rand.N(d/2)
	return s.pause(ctx, d)
}

// owedFlag is a flag a transaction's items announce, set by commit before it writes them.
type owedFlag struct {
	tenantID string
	flag     tenantFlag
}

// owe records that t writes an item the tenant's flag announces.
func (t *txn) owe(tenantID string, flag tenantFlag) {
	for _, o := range t.flags {
		if o.tenantID == tenantID && o.flag == flag {
			return
		}
	}
	t.flags = append(t.flags, owedFlag{tenantID, flag})
}
