package dynamo

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tilgang/tilgang/shared/access"
)

// ReindexReport counts what a reindex changed; a run over an index in step changes nothing.
type ReindexReport struct {
	Users, Entries, Put, Deleted int
}

// ReindexMembers brings the member index (members.go) in step with the user items: it puts every
// entry a user should have and deletes every entry no user should have. User writes keep the
// index in step by themselves; this is for data written before the index existed, and is run
// once after deploying over such data (functions/migrate). It reads the whole table (a paged
// Scan, filtered to users and member entries) and holds every entry's key in memory (some 100
// bytes each: 50 MB for half a million memberships), so it is an operator's tool, not a request
// path. Puts and deletes are idempotent:
// a user changed while it runs may be left behind by that run, and a second run, which changes
// nothing once the index is in step, puts it right. Each user with a difference is read again
// before anything of theirs is written.
func (s *Store) ReindexMembers(ctx context.Context) (ReindexReport, error) {
	var rep ReindexReport
	want := map[string]map[string]types.AttributeValue{} // by "PK\x00SK": the entries users should have
	have := map[string]map[string]types.AttributeValue{} // by "PK\x00SK": the stored entries
	err := s.scanWhere(ctx, expression.Name("type").In(expression.Value("user"), expression.Value("member")), nil, true,
		func(av map[string]types.AttributeValue) error {
			if t, _ := av["type"].(*types.AttributeValueMemberS); t != nil && t.Value == "member" {
				have[keyString(av)] = av
				rep.Entries++
				return nil
			}
			u, err := unmarshalUser(av)
			if err != nil {
				return err
			}
			rep.Users++
			for _, sk := range memberSKs(&u) {
				it, err := attributevalue.MarshalMap(memberToItem(u, sk))
				if err != nil {
					return fmt.Errorf("marshal member: %w", err)
				}
				want[keyString(it)] = it
			}
			return nil
		})
	if err != nil {
		return rep, err
	}
	// The scan is no snapshot: a user written while it ran may be seen before the write and
	// their entries after it. So every user with a difference is read again, consistently, and
	// only what that read says is written; an entry naming no user is simply deleted.
	owners := map[[2]string]bool{}
	ownerOf := func(av map[string]types.AttributeValue) ([2]string, bool) {
		t, _ := av["tenantId"].(*types.AttributeValueMemberS)
		u, _ := av["id"].(*types.AttributeValueMemberS)
		if t == nil || u == nil {
			return [2]string{}, false
		}
		return [2]string{t.Value, u.Value}, true
	}
	var reqs []types.WriteRequest
	for k, it := range want {
		if _, ok := have[k]; !ok {
			o, _ := ownerOf(it)
			owners[o] = true
		}
	}
	haveOf := map[[2]string][]map[string]types.AttributeValue{}
	for _, av := range have {
		if o, ok := ownerOf(av); ok {
			haveOf[o] = append(haveOf[o], key(pkOf(av), skOf(av)))
		}
	}
	for k, av := range have {
		if _, ok := want[k]; ok {
			continue
		}
		if o, ok := ownerOf(av); ok {
			owners[o] = true
		} else {
			reqs = append(reqs, types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: key(pkOf(av), skOf(av))}})
			rep.Deleted++
		}
	}
	for o := range owners {
		items, err := s.consistentBatchGet(ctx, []map[string]types.AttributeValue{key(tenantPK(o[0]), pfxUser+o[1])})
		if err != nil {
			return rep, fmt.Errorf("read user again: %w", err)
		}
		var now *access.User
		if len(items) == 1 {
			u, err := unmarshalUser(items[0])
			if err != nil {
				return rep, err
			}
			now = &u
		}
		desired := map[string]bool{}
		for _, sk := range memberSKs(now) {
			desired[sk] = true
			k := membersPK(o[0]) + "\x00" + sk
			if _, ok := have[k]; ok {
				continue
			}
			if f, ok := memberListFlag(sk); ok {
				if err := s.markFlag(ctx, o[0], f); err != nil {
					return rep, err
				}
			}
			it, err := attributevalue.MarshalMap(memberToItem(*now, sk))
			if err != nil {
				return rep, fmt.Errorf("marshal member: %w", err)
			}
			reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: it}})
			rep.Put++
		}
		for _, kv := range haveOf[o] {
			if !desired[skOf(kv)] {
				reqs = append(reqs, types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: kv}})
				rep.Deleted++
			}
		}
	}
	for start := 0; start < len(reqs); start += 25 {
		if err := s.batchWrite(ctx, reqs[start:min(start+25, len(reqs))]); err != nil {
			return rep, fmt.Errorf("reindex members: %w", err)
		}
	}
	return rep, nil
}

func pkOf(av map[string]types.AttributeValue) string {
	if s, ok := av[AttrPK].(*types.AttributeValueMemberS); ok {
		return s.Value
	}
	return ""
}

func keyString(av map[string]types.AttributeValue) string { return pkOf(av) + "\x00" + skOf(av) }

// MoveGrantIndex moves the GSI1 sort key of bureau grants written under PROGRAMS#<c> to
// ACCESS#<c>#PROGRAMS, beside the assignment at the same client, where a user's relations are
// read in one Query. Each move is conditional on the key it read, so it is idempotent and never
// undoes a newer write; it returns how many it moved.
func (s *Store) MoveGrantIndex(ctx context.Context) (int, error) {
	moved := 0
	err := s.scanWhere(ctx, expression.Name("type").Equal(expression.Value(typeGrant)).And(expression.Name(AttrGSI1SK).BeginsWith(pfxPrograms)), nil, false,
		func(av map[string]types.AttributeValue) error {
			old, _ := av[AttrGSI1SK].(*types.AttributeValueMemberS)
			if old == nil {
				return nil
			}
			upd := expression.Set(expression.Name(AttrGSI1SK), expression.Value(grantGSI1SK(strings.TrimPrefix(old.Value, pfxPrograms))))
			// Rewritten (or deleted) since the scan read it: nothing to move.
			if err := s.countIf(ctx, &moved, key(pkOf(av), skOf(av)), upd, expression.Name(AttrGSI1SK).Equal(expression.Value(old.Value))); err != nil {
				return fmt.Errorf("move grant %s: %w", skOf(av), err)
			}
			return nil
		})
	return moved, err
}

// ForgetAnonymisedCalendarNames removes the names of the calendars of users anonymised before
// anonymisation took them (a calendar is often named after its owner). Idempotent; returns how
// many calendars lost a name.
func (s *Store) ForgetAnonymisedCalendarNames(ctx context.Context) (int, error) {
	type owned struct {
		key     map[string]types.AttributeValue
		ownerID string
	}
	var cals []owned
	anonymised := expression.Name("type").Equal(expression.Value("user")).And(expression.Name("status").Equal(expression.Value(string(access.StatusAnonymised))))
	err := s.scanWhere(ctx, anonymised, []string{"id", "tenantId", "calendarIds"}, false, func(av map[string]types.AttributeValue) error {
		var u struct {
			ID          string   `dynamodbav:"id"`
			TenantID    string   `dynamodbav:"tenantId"`
			CalendarIDs []string `dynamodbav:"calendarIds"`
		}
		if err := attributevalue.UnmarshalMap(av, &u); err != nil {
			return fmt.Errorf("unmarshal user: %w", err)
		}
		for _, cal := range u.CalendarIDs {
			cals = append(cals, owned{key(tenantPK(u.TenantID), pfxCalendar+cal), u.ID})
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	forgot := 0
	for _, c := range cals {
		// Only while the anonymised user still owns it: a calendar given to a colleague since
		// the scan read the user keeps the name its new owner chose.
		upd := expression.Remove(expression.Name("name")).Add(expression.Name("version"), expression.Value(1))
		cond := expression.AttributeExists(expression.Name("name")).And(expression.Name("ownerId").Equal(expression.Value(c.ownerID)))
		if err := s.countIf(ctx, &forgot, c.key, upd, cond); err != nil {
			return forgot, fmt.Errorf("forget calendar name: %w", err)
		}
	}
	return forgot, nil
}

// ForgetAnonymisedReviewComments removes the comments of access review items about users
// anonymised before anonymisation removed them (their markers owe nothing more), or commented on
// since. Idempotent; returns how many comments it removed.
func (s *Store) ForgetAnonymisedReviewComments(ctx context.Context) (int, error) {
	anonymisedUsers := map[string]bool{}
	anonymised := expression.Name("type").Equal(expression.Value("user")).And(expression.Name("status").Equal(expression.Value(string(access.StatusAnonymised))))
	err := s.scanWhere(ctx, anonymised, []string{"id", "tenantId"}, false, func(av map[string]types.AttributeValue) error {
		id, _ := av["id"].(*types.AttributeValueMemberS)
		t, _ := av["tenantId"].(*types.AttributeValueMemberS)
		if id != nil && t != nil {
			anonymisedUsers[t.Value+"#"+id.Value] = true
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	type commented struct {
		key    map[string]types.AttributeValue
		userID string
	}
	var items []commented
	withComment := expression.Name("type").Equal(expression.Value("access_review_item")).And(expression.AttributeExists(expression.Name("comment")))
	err = s.scanWhere(ctx, withComment, []string{AttrPK, AttrSK, "tenantId", "userId"}, false, func(av map[string]types.AttributeValue) error {
		u, _ := av["userId"].(*types.AttributeValueMemberS)
		t, _ := av["tenantId"].(*types.AttributeValueMemberS)
		if u != nil && t != nil && anonymisedUsers[t.Value+"#"+u.Value] {
			items = append(items, commented{key(pkOf(av), skOf(av)), u.Value})
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	forgot := 0
	for _, it := range items {
		if err := s.forgetComment(ctx, &forgot, it.key, it.userID); err != nil {
			return forgot, err
		}
	}
	return forgot, nil
}

// MarkTenantFlags sets the group set's flags (tenantflags.go) of every tenant that has items
// written before their flag existed: clients under the new-client policy, bureau client grants
// and legacy member entries. Without them, the look-ups miss those items. Idempotent; returns
// how many tenants it found for each flag.
func (s *Store) MarkTenantFlags(ctx context.Context) (map[string]int, error) {
	typ, sk := expression.Name("type"), expression.Name(AttrSK)
	filter := typ.Equal(expression.Value("client")).And(expression.AttributeExists(expression.Name("policyLevel"))).
		Or(typ.Equal(expression.Value(typeGrant))).
		Or(typ.Equal(expression.Value("member")).And(sk.BeginsWith(pfxMemberLegacy)))
	tenants := map[tenantFlag]map[string]bool{}
	err := s.scanWhere(ctx, filter, []string{"tenantId", "type"}, false, func(av map[string]types.AttributeValue) error {
		t, _ := av["tenantId"].(*types.AttributeValueMemberS)
		kind, _ := av["type"].(*types.AttributeValueMemberS)
		if t == nil || kind == nil {
			return nil
		}
		flag := map[string]tenantFlag{"client": flagPolicyClients, typeGrant: flagClientGrants, "member": flagLegacyAll}[kind.Value]
		if tenants[flag] == nil {
			tenants[flag] = map[string]bool{}
		}
		tenants[flag][t.Value] = true
		return nil
	})
	if err != nil {
		return nil, err
	}
	marked := map[string]int{}
	for flag, ts := range tenants {
		for t := range ts {
			err := s.markFlag(ctx, t, flag)
			if errors.Is(err, errNoGroupSet) {
				continue // items left by a tenant that is gone: nothing reads them
			}
			if err != nil {
				return nil, err
			}
			marked[string(flag)]++
		}
	}
	return marked, nil
}

// scanWhere reads the whole table (an operator's tool, never a request path), handing each item
// that filter accepts to fn; project, when set, names the only attributes read.
func (s *Store) scanWhere(ctx context.Context, filter expression.ConditionBuilder, project []string, consistent bool, fn func(map[string]types.AttributeValue) error) error {
	b := expression.NewBuilder().WithFilter(filter)
	if len(project) > 0 {
		names := expression.NamesList(expression.Name(project[0]))
		for _, n := range project[1:] {
			names = names.AddNames(expression.Name(n))
		}
		b = b.WithProjection(names)
	}
	e, err := b.Build()
	if err != nil {
		return fmt.Errorf("build scan: %w", err)
	}
	in := &dynamodb.ScanInput{TableName: aws.String(s.table), FilterExpression: e.Filter(), ProjectionExpression: e.Projection(),
		ExpressionAttributeNames: e.Names(), ExpressionAttributeValues: e.Values(), ConsistentRead: aws.Bool(consistent)}
	for p := dynamodb.NewScanPaginator(s.db, in); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("scan: %w", err)
		}
		for _, av := range page.Items {
			if err := fn(av); err != nil {
				return err
			}
		}
	}
	return nil
}
