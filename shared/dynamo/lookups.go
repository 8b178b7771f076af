package dynamo

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tilgang/tilgang/shared/access"
)

// The reverse look-ups, each in two round trips whose calls run in parallel:
//
// Who can open client c (ClientAccessPage):
//  1. BatchGetItem of the client, the group set and the tenant (which names the owner) ‖
//     Query SK ACCESS#c#<after… ‖ Query SK PROGRAMS#c#<after…  (the client's assignments and
//     grants, by user id);
//  2. one Query per member list that reaches every client (groups giving clients scope all,
//     legacy rights, roles; see members.go), or, for a client under the new-client policy, the
//     tenant's active users ‖ BatchGetItem of the assigned and granted users of the page.
//
// Which clients can user u open (UserClientsPage), in one round trip:
//     Query GSI1 TENANT#t#USER#u ACCESS#… (assignments ACCESS#<c> and grants ACCESS#<c>#PROGRAMS,
//     each with a copy of its client) ‖ (when asked) the sparse policy-client partition;
//     only relations written without a copy of their client need a BatchGetItem of it.
//
// Every source is read in id order from `after` on, at most limit+1 items; the page is the
// merge of the sources up to the lowest id at which any source was cut short, so no id is ever
// passed over. Nothing here grows with the tenant's head count or client count: only with the
// page.

// lookupCursor is the opaque cursor of a reverse look-up: the list it belongs to and the last id
// it served.
type lookupCursor struct {
	Of    string `json:"o"`
	After string `json:"a"`
}

func encodeLookupCursor(of, after string) string {
	b, _ := json.Marshal(lookupCursor{Of: of, After: after})
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeLookupCursor(s, of string) (string, error) {
	if s == "" {
		return "", nil
	}
	var c lookupCursor
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(s) > 1024 || json.Unmarshal(b, &c) != nil || c.Of != of || !access.PlausibleID(c.After) {
		return "", access.Invalid("cursor", "is not a cursor of this list")
	}
	return c.After, nil
}

// parallel runs fns at once and returns the first error among them (in fns' order).
func parallel(fns ...func() error) error {
	if len(fns) == 1 {
		return fns[0]()
	}
	errs := make([]error, len(fns))
	var wg sync.WaitGroup
	for i, f := range fns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = f()
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// idStream is one source of a merge: ids in order and whether the source was cut short.
type idStream struct {
	ids  []string
	more bool
}

// mergeIDs merges id-ordered sources into one page of at most limit distinct ids, ending where
// any source was cut short; more reports whether anything may follow.
func mergeIDs(limit int, streams ...idStream) ([]string, bool) {
	bound, cut := "", false
	seen := map[string]bool{}
	var ids []string
	for _, s := range streams {
		if s.more && len(s.ids) > 0 && (!cut || s.ids[len(s.ids)-1] < bound) {
			bound, cut = s.ids[len(s.ids)-1], true
		}
		for _, id := range s.ids {
			if !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
	}
	slices.Sort(ids)
	more := cut
	if cut {
		ids = slices.DeleteFunc(ids, func(id string) bool { return id > bound })
	}
	if len(ids) > limit {
		ids, more = ids[:limit], true
	}
	return ids, more
}

// rangeAfter reads the items of up to limit ids of one partition (of the table, or of GSI1 when
// index is set) whose sort key is prefix+id (or prefix+id+"#…") with id after `after`, in order,
// keeping those filter accepts; more reports whether any follow. ids[i] is items[i]'s id: the
// part after the prefix, up to the next '#'. Items of one id (a user's assignment and grant at a
// client) are never split between pages; perID is how many items an id has at most, which sizes
// each Query's Limit so that a page usually takes one call.
func (s *Store) rangeAfter(ctx context.Context, index, pk, prefix, after string, limit, perID int, filter *expression.ConditionBuilder) ([]map[string]types.AttributeValue, []string, bool, error) {
	pkAttr, skAttr := AttrPK, AttrSK
	if index != "" {
		pkAttr, skAttr = AttrGSI1PK, AttrGSI1SK
	}
	kc := expression.Key(pkAttr).Equal(expression.Value(pk))
	if after == "" {
		kc = kc.And(expression.Key(skAttr).BeginsWith(prefix))
	} else {
		// Every character of an id sorts after '$' (access.PlausibleID refuses any other): "$"
		// sorts after `after` and after every key of `after` itself (prefix+after+"#…"), and
		// before any longer id; DEL sorts after every id, so the range stays inside the prefix
		// even under a filter.
		kc = kc.And(expression.Key(skAttr).Between(expression.Value(prefix+after+"$"), expression.Value(prefix+"\x7f")))
	}
	b := expression.NewBuilder().WithKeyCondition(kc)
	if filter != nil {
		b = b.WithFilter(*filter)
	}
	e, err := b.Build()
	if err != nil {
		return nil, nil, false, fmt.Errorf("build query: %w", err)
	}
	in := &dynamodb.QueryInput{
		TableName: aws.String(s.table), KeyConditionExpression: e.KeyCondition(), FilterExpression: e.Filter(),
		ExpressionAttributeNames: e.Names(), ExpressionAttributeValues: e.Values(), Limit: aws.Int32(int32((limit + 1) * perID)),
	}
	if index != "" {
		in.IndexName = aws.String(index)
	}
	var items []map[string]types.AttributeValue
	var ids []string
	distinct := 0
	for {
		res, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, nil, false, fmt.Errorf("query %s: %w", prefix, err)
		}
		for _, it := range res.Items {
			sk, _ := it[skAttr].(*types.AttributeValueMemberS)
			if sk == nil || !strings.HasPrefix(sk.Value, prefix) {
				return items, ids, false, nil
			}
			id, _, _ := strings.Cut(strings.TrimPrefix(sk.Value, prefix), "#")
			if distinct == limit && id != ids[len(ids)-1] {
				return items, ids, true, nil
			}
			if len(ids) == 0 || id != ids[len(ids)-1] {
				distinct++
			}
			items, ids = append(items, it), append(ids, id)
		}
		if res.LastEvaluatedKey == nil {
			return items, ids, false, nil
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
	}
}

// ClientAccessPage reads one page of the users who may open a client; see the top of the file.
func (s *Store) ClientAccessPage(ctx context.Context, tenantID, callerID, clientID, cursor string, limit int) (access.ClientAccessPage, error) {
	after, err := decodeLookupCursor(cursor, "c:"+clientID)
	if err != nil {
		return access.ClientAccessPage{}, err
	}
	pk := tenantPK(tenantID)
	var head, asgItems, grantItems []map[string]types.AttributeValue
	var asgIDs, grantIDs []string
	var asgMore, grantMore bool
	fns := []func() error{
		func() (err error) {
			keys := []map[string]types.AttributeValue{clientKey(tenantID, clientID), groupSetKey(tenantID), key(pk, skTenant)}
			if callerID != "" {
				keys = append(keys, key(pk, pfxUser+callerID))
			}
			head, err = s.consistentBatchGet(ctx, keys)
			return err
		},
		func() (err error) {
			asgItems, asgIDs, asgMore, err = s.rangeAfter(ctx, "", pk, pfxAccess+clientID+"#", after, limit, 1, nil)
			return err
		},
	}
	// Grants are read only in tenants known to have any (tenantflags.go).
	withGrants := s.knows(tenantID, flagClientGrants)
	if withGrants {
		fns = append(fns, func() (err error) {
			grantItems, grantIDs, grantMore, err = s.rangeAfter(ctx, "", pk, pfxPrograms+clientID+"#", after, limit, 1, nil)
			return err
		})
	}
	err = parallel(fns...)
	if err != nil {
		return access.ClientAccessPage{}, fmt.Errorf("who can access client %s: %w", clientID, err)
	}
	var page access.ClientAccessPage
	var set *groupSetItem
	found, ownerID := false, ""
	for _, av := range head {
		var err error
		switch skOf(av) {
		case pfxClient + clientID:
			var it clientItem
			if err = attributevalue.UnmarshalMap(av, &it); err == nil {
				page.Client, found = it.domain(), true
			}
		case skGroupSet:
			set = &groupSetItem{}
			err = attributevalue.UnmarshalMap(av, set)
		case skTenant:
			var it tenantItem
			if err = attributevalue.UnmarshalMap(av, &it); err == nil {
				ownerID = it.OwnerID
			}
		case pfxUser + callerID:
			var u access.User
			if u, err = unmarshalUser(av); err == nil {
				page.Caller = &u
			}
		}
		if err != nil {
			return access.ClientAccessPage{}, fmt.Errorf("unmarshal %s: %w", skOf(av), err)
		}
	}
	s.noteFlags(tenantID, set)
	if !withGrants && s.knows(tenantID, flagClientGrants) {
		// The set says the tenant has grants, which this process did not know: the first
		// look-up of such a tenant in a process reads the page again, now with its grants.
		return s.ClientAccessPage(ctx, tenantID, callerID, clientID, cursor, limit)
	}
	page.Groups = set.all(tenantID)
	if !found {
		return access.ClientAccessPage{Caller: page.Caller, Groups: page.Groups}, nil
	}
	asgs := map[string]*access.Assignment{}
	for i, av := range asgItems {
		var it assignmentItem
		if err := attributevalue.UnmarshalMap(av, &it); err != nil {
			return access.ClientAccessPage{}, fmt.Errorf("unmarshal assignment: %w", err)
		}
		a := it.domain()
		asgs[asgIDs[i]] = &a
	}
	grants := map[string]*access.ClientGrant{}
	for i, av := range grantItems {
		var it clientGrantItem
		if err := attributevalue.UnmarshalMap(av, &it); err != nil {
			return access.ClientAccessPage{}, fmt.Errorf("unmarshal grant: %w", err)
		}
		g := it.domain()
		grants[grantIDs[i]] = &g
	}

	// Round trip 2: who reaches the client without an assignment, and the assigned and granted
	// users of the page (no more than the page can hold).
	named, _ := mergeIDs(limit, idStream{asgIDs, asgMore}, idStream{grantIDs, grantMore})
	fns = nil
	users := map[string]access.User{}
	var mu sync.Mutex
	keep := func(u access.User) {
		mu.Lock()
		defer mu.Unlock()
		users[u.ID] = u // the same fields from either source (accessProjection)
	}
	fns = append(fns, func() error {
		got, err := s.accessCopies(ctx, tenantID, named)
		for _, u := range got {
			keep(u)
		}
		return err
	})
	var lists []string
	policy := page.Client.PolicyLevel != "" && page.Client.PolicyLevel != access.LevelNone
	if !policy {
		lists = reachAllLists(set)
	}
	streams := make([]idStream, len(lists)+1)
	for i, prefix := range lists {
		fns = append(fns, func() error {
			items, ids, more, err := s.rangeAfter(ctx, "", membersPK(tenantID), prefix, after, limit, 1, nil)
			for _, av := range items {
				var it memberItem
				if err := attributevalue.UnmarshalMap(av, &it); err != nil {
					return fmt.Errorf("unmarshal member: %w", err)
				}
				keep(it.domain())
			}
			streams[i] = idStream{ids, more}
			return err
		})
	}
	if policy {
		// The policy opens the client to every active employee: the answer is the head count.
		active := expression.Name("status").Equal(expression.Value(string(access.StatusActive))).
			And(expression.Name("type").Equal(expression.Value("user")))
		fns = append(fns, func() error {
			items, ids, more, err := s.rangeAfter(ctx, "", pk, pfxUser, after, limit, 1, &active)
			for _, av := range items {
				u, err := unmarshalUser(av)
				if err != nil {
					return err
				}
				keep(u)
			}
			streams[len(lists)] = idStream{ids, more}
			return err
		})
	}
	if err := parallel(fns...); err != nil {
		return access.ClientAccessPage{}, fmt.Errorf("who can access client %s: %w", clientID, err)
	}
	if ownerID != "" && ownerID > after {
		// The tenant names its owner, who opens every client and is always active.
		streams = append(streams, idStream{ids: []string{ownerID}})
		if _, ok := users[ownerID]; !ok {
			users[ownerID] = access.User{ID: ownerID, TenantID: tenantID, Status: access.StatusActive, IsOwner: true}
		}
	}
	streams = append(streams, idStream{asgIDs, asgMore}, idStream{grantIDs, grantMore})
	ids, more := mergeIDs(limit, streams...)
	for _, id := range ids {
		u, ok := users[id]
		if !ok {
			continue // an assignment or grant left behind by a deleted user gives nothing
		}
		page.Candidates = append(page.Candidates, access.AccessCandidate{User: u, Assignment: asgs[id], Grant: grants[id]})
	}
	if more && len(ids) > 0 {
		page.Next = encodeLookupCursor("c:"+clientID, ids[len(ids)-1])
	}
	return page, nil
}

// all converts every entry of the set into a group; a nil set has none.
func (set *groupSetItem) all(tenantID string) map[string]access.Group {
	if set == nil {
		return map[string]access.Group{}
	}
	return set.groups(tenantID, slices.Collect(maps.Keys(set.Groups)))
}

// UserClientsPage reads one page of the clients a user may open; see the top of the file.
func (s *Store) UserClientsPage(ctx context.Context, tenantID, callerID, userID, cursor string, limit int, policy bool) (access.UserClientsPage, error) {
	after, err := decodeLookupCursor(cursor, "u:"+userID)
	if err != nil {
		return access.UserClientsPage{}, err
	}
	upk := userAccessPK(tenantID, userID)
	var page access.UserClientsPage
	var relItems, policyItems []map[string]types.AttributeValue
	var relIDs, policyIDs []string
	var relMore, policyMore bool
	fns := []func() error{
		func() (err error) {
			relItems, relIDs, relMore, err = s.rangeAfter(ctx, GSI1, upk, pfxAccess, after, limit, 2, nil)
			return err
		},
	}
	if callerID != "" {
		fns = append(fns, func() error {
			u, groups, err := s.Principal(ctx, tenantID, callerID)
			if errors.Is(err, access.ErrNotFound) {
				return nil
			}
			page.Caller, page.CallerGroups = &u, groups
			return err
		})
	}
	if policy {
		fns = append(fns, func() (err error) {
			policyItems, policyIDs, policyMore, err = s.rangeAfter(ctx, GSI1, policyClientsPK(tenantID), pfxAccess, after, limit, 1, nil)
			return err
		})
	}
	if err := parallel(fns...); err != nil {
		return access.UserClientsPage{}, fmt.Errorf("clients of user %s: %w", userID, err)
	}
	ids, more := mergeIDs(limit, idStream{relIDs, relMore}, idStream{policyIDs, policyMore})
	byID := map[string]*access.ClientCandidate{}
	for _, id := range ids {
		byID[id] = &access.ClientCandidate{}
	}
	for i, av := range relItems {
		c := byID[relIDs[i]]
		if c == nil {
			continue
		}
		var copied clientCopy
		switch t, _ := av["type"].(*types.AttributeValueMemberS); {
		case t != nil && t.Value == typeAssignment:
			var it assignmentItem
			if err := attributevalue.UnmarshalMap(av, &it); err != nil {
				return access.UserClientsPage{}, fmt.Errorf("unmarshal assignment: %w", err)
			}
			a := it.domain()
			c.Assignment, copied = &a, it.clientCopy
		case t != nil && t.Value == typeGrant:
			var it clientGrantItem
			if err := attributevalue.UnmarshalMap(av, &it); err != nil {
				return access.UserClientsPage{}, fmt.Errorf("unmarshal grant: %w", err)
			}
			g := it.domain()
			c.Grant, copied = &g, it.clientCopy
		}
		if cl, ok := copied.client(tenantID, relIDs[i]); ok {
			c.Client = cl
		}
	}
	for i, av := range policyItems {
		if c := byID[policyIDs[i]]; c != nil {
			var it clientItem
			if err := attributevalue.UnmarshalMap(av, &it); err != nil {
				return access.UserClientsPage{}, fmt.Errorf("unmarshal client: %w", err)
			}
			c.Client = it.domain()
		}
	}
	// Relations carry a copy of their client; only those written without one need a read.
	var need []string
	for _, id := range ids {
		if byID[id].Client.ID == "" {
			need = append(need, id)
		}
	}
	var clients map[string]access.Client
	if len(need) > 0 {
		if clients, err = s.GetClients(ctx, tenantID, need); err != nil {
			return access.UserClientsPage{}, fmt.Errorf("clients of user %s: %w", userID, err)
		}
	}
	for _, id := range ids {
		c := byID[id]
		if c.Client.ID == "" {
			cl, ok := clients[id]
			if !ok {
				continue // a left-over of a deleted client
			}
			c.Client = cl
		}
		page.Candidates = append(page.Candidates, *c)
	}
	if more && len(ids) > 0 {
		page.Next = encodeLookupCursor("u:"+userID, ids[len(ids)-1])
	}
	return page, nil
}
