package dynamo

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tilgang/tilgang/shared/access"
)

// Store is the DynamoDB implementation of the domain's stores, on one table.
type Store struct {
	db    *dynamodb.Client
	table string
	// pauses, when set, is told every backoff before a retry of unprocessed batch items or of a
	// conflicting tenant flag write (tests).
	pauses func(time.Duration)
	// knownFlags holds the tenant flags known set, by tenant and flag (tenantflags.go).
	knownFlags sync.Map
	// flagWrites lets one flag write be sent at a time (tenantflags.go).
	flagWrites sync.Mutex
}

var _ access.Store = (*Store)(nil)

// New returns a Store on a table.
func New(db *dynamodb.Client, table string) *Store {
	return &Store{db: db, table: table}
}

// Client is the underlying DynamoDB client (benchmarks compare against bare calls on it).
func (s *Store) Client() *dynamodb.Client { return s.db }

// Table is the table name.
func (s *Store) Table() string { return s.table }

// key builds a primary key.
func key(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		AttrPK: &types.AttributeValueMemberS{Value: pk},
		AttrSK: &types.AttributeValueMemberS{Value: sk},
	}
}

// txn collects the items of one TransactWriteItems call with the domain error to return when
// each item's condition fails, so a cancelled transaction names its cause.
type txn struct {
	items  []types.TransactWriteItem
	onFail []error
	// flags are set before the items are written (tenantflags.go).
	flags []owedFlag
}

func condExpr(cond *expression.ConditionBuilder) (*string, map[string]string, map[string]types.AttributeValue, error) {
	if cond == nil {
		return nil, nil, nil, nil
	}
	e, err := expression.NewBuilder().WithCondition(*cond).Build()
	if err != nil {
		return nil, nil, nil, fmt.Errorf("build condition: %w", err)
	}
	return e.Condition(), e.Names(), e.Values(), nil
}

// put adds a Put of item (a struct with dynamodbav tags or an attribute map).
func (t *txn) put(table string, item any, cond *expression.ConditionBuilder, failErr error) error {
	av, ok := item.(map[string]types.AttributeValue)
	if !ok {
		var err error
		if av, err = attributevalue.MarshalMap(item); err != nil {
			return fmt.Errorf("marshal item: %w", err)
		}
	}
	c, names, values, err := condExpr(cond)
	if err != nil {
		return err
	}
	t.items = append(t.items, types.TransactWriteItem{Put: &types.Put{
		TableName: aws.String(table), Item: av, ConditionExpression: c,
		ExpressionAttributeNames: names, ExpressionAttributeValues: values,
	}})
	t.onFail = append(t.onFail, failErr)
	return nil
}

// delete adds a Delete.
func (t *txn) delete(table string, k map[string]types.AttributeValue, cond *expression.ConditionBuilder, failErr error) error {
	c, names, values, err := condExpr(cond)
	if err != nil {
		return err
	}
	t.items = append(t.items, types.TransactWriteItem{Delete: &types.Delete{
		TableName: aws.String(table), Key: k, ConditionExpression: c,
		ExpressionAttributeNames: names, ExpressionAttributeValues: values,
	}})
	t.onFail = append(t.onFail, failErr)
	return nil
}

// check adds a ConditionCheck.
func (t *txn) check(table string, k map[string]types.AttributeValue, cond expression.ConditionBuilder, failErr error) error {
	c, names, values, err := condExpr(&cond)
	if err != nil {
		return err
	}
	t.items = append(t.items, types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{
		TableName: aws.String(table), Key: k, ConditionExpression: c,
		ExpressionAttributeNames: names, ExpressionAttributeValues: values,
	}})
	t.onFail = append(t.onFail, failErr)
	return nil
}

// update adds an Update.
func (t *txn) update(table string, k map[string]types.AttributeValue, upd expression.UpdateBuilder, cond *expression.ConditionBuilder, failErr error) error {
	b := expression.NewBuilder().WithUpdate(upd)
	if cond != nil {
		b = b.WithCondition(*cond)
	}
	e, err := b.Build()
	if err != nil {
		return fmt.Errorf("build update: %w", err)
	}
	t.items = append(t.items, types.TransactWriteItem{Update: &types.Update{
		TableName: aws.String(table), Key: k, UpdateExpression: e.Update(), ConditionExpression: e.Condition(),
		ExpressionAttributeNames: e.Names(), ExpressionAttributeValues: e.Values(),
	}})
	t.onFail = append(t.onFail, failErr)
	return nil
}

func notExists() *expression.ConditionBuilder {
	c := expression.AttributeNotExists(expression.Name(AttrPK))
	return &c
}

func versionIs(v int) *expression.ConditionBuilder {
	c := expression.Name("version").Equal(expression.Value(v))
	return &c
}

// errIdempotencyRace is returned when another request with the same Idempotency-Key won.
var errIdempotencyRace = access.Conflict("a request with this Idempotency-Key is being processed")

// meta adds the audit entries and the idempotency record of a change.
func (t *txn) meta(table string, m access.Meta) error {
	for _, a := range m.Audit {
		if err := t.put(table, auditToItem(a), notExists(), access.Conflict("audit entry %s exists", a.ID)); err != nil {
			return err
		}
	}
	if m.Idempotency != nil {
		if err := t.put(table, idempotencyToItem(m.Idempotency), notExists(), errIdempotencyRace); err != nil {
			return err
		}
	}
	if r := m.ReleaseIdempotency; r != nil {
		if err := t.delete(table, key(tenantPK(r.TenantID), idempotencySK(r.Operation, r.Key)), nil, nil); err != nil {
			return err
		}
	}
	if p := m.Pending; p != nil {
		if err := t.put(table, pendingToItem(*p), nil, nil); err != nil {
			return err
		}
	}
	return t.outbox(table, m.Outbox)
}

// commit runs the transaction and turns a cancellation into the failing item's domain error.
func (s *Store) commit(ctx context.Context, t *txn) error {
	if len(t.items) == 0 {
		return nil
	}
	if len(t.items) > 100 {
		return fmt.Errorf("transaction of %d items is over DynamoDB's limit of 100", len(t.items))
	}
	for _, o := range t.flags {
		if err := s.markFlag(ctx, o.tenantID, o.flag); err != nil {
			return err
		}
	}
	_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: t.items})
	if err == nil {
		return nil
	}
	var tce *types.TransactionCanceledException
	if errors.As(err, &tce) {
		for i, r := range tce.CancellationReasons {
			code := aws.ToString(r.Code)
			switch code {
			case "ConditionalCheckFailed":
				if i < len(t.onFail) && t.onFail[i] != nil {
					return t.onFail[i]
				}
				return access.ErrVersionConflict
			case "TransactionConflict":
				return access.ErrVersionConflict
			}
		}
	}
	var tip *types.TransactionInProgressException
	if errors.As(err, &tip) {
		return access.ErrVersionConflict
	}
	return fmt.Errorf("transact write: %w", err)
}

// getItem reads one item into out; an empty result is ErrNotFound of kind.
func (s *Store) getItem(ctx context.Context, k map[string]types.AttributeValue, kind string, out any) error {
	res, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: k})
	if err != nil {
		return fmt.Errorf("get %s: %w", kind, err)
	}
	if res.Item == nil {
		return access.NotFound(kind)
	}
	if err := attributevalue.UnmarshalMap(res.Item, out); err != nil {
		return fmt.Errorf("unmarshal %s: %w", kind, err)
	}
	return nil
}

// batchGet reads up to any number of keys (in chunks of 100), retrying unprocessed keys.
func (s *Store) batchGet(ctx context.Context, keys []map[string]types.AttributeValue) ([]map[string]types.AttributeValue, error) {
	return s.batchGetWith(ctx, keys, false)
}

// consistentBatchGet is batchGet with strongly consistent reads: what decides whether a request
// is allowed must see a deactivation or a group change made a moment before.
func (s *Store) consistentBatchGet(ctx context.Context, keys []map[string]types.AttributeValue) ([]map[string]types.AttributeValue, error) {
	return s.batchGetWith(ctx, keys, true)
}

func (s *Store) batchGetWith(ctx context.Context, keys []map[string]types.AttributeValue, consistent bool) ([]map[string]types.AttributeValue, error) {
	var out []map[string]types.AttributeValue
	for start := 0; start < len(keys); start += 100 {
		pending := keys[start:min(start+100, len(keys))]
		for attempt := 0; len(pending) > 0; attempt++ {
			if err := s.batchPause(ctx, attempt); err != nil {
				return nil, fmt.Errorf("batch get: %d keys unprocessed: %w", len(pending), err)
			}
			res, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{
				s.table: {Keys: pending, ConsistentRead: aws.Bool(consistent)},
			}})
			if err != nil {
				return nil, fmt.Errorf("batch get: %w", err)
			}
			out = append(out, res.Responses[s.table]...)
			pending = res.UnprocessedKeys[s.table].Keys
		}
	}
	return out, nil
}

// Unprocessed batch items are what DynamoDB hands back when a partition is throttled; AWS
// advises retrying them after an exponential backoff, not at once. batchAttempts bounds the
// calls for one batch; the pauses between them come from the SDK's own jittered backoff
// (aws/retry, the one its retryer uses), capped at maxBatchBackoff.
const (
	batchAttempts   = 8
	maxBatchBackoff = 2 * time.Second
)

var batchBackoff = retry.NewExponentialJitterBackoff(maxBatchBackoff)

// batchPause waits before call attempt (from 0) of one batch: not before the first, the SDK's
// backoff before each retry of unprocessed items. It fails once the attempts are spent or ctx
// ends.
func (s *Store) batchPause(ctx context.Context, attempt int) error {
	if attempt == 0 {
		return nil
	}
	if attempt >= batchAttempts {
		return fmt.Errorf("still unprocessed after %d attempts", attempt)
	}
	d, err := batchBackoff.BackoffDelay(attempt-1, nil)
	if err != nil {
		return err
	}
	return s.pause(ctx, d)
}

// pause waits d before a call is sent again, or until ctx ends; tests observe it (pauses).
func (s *Store) pause(ctx context.Context, d time.Duration) error {
	if s.pauses != nil {
		s.pauses(d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// cursor is the opaque page token: the last item's key attributes.
func encodeCursor(k map[string]types.AttributeValue) (string, error) {
	m := map[string]string{}
	for name, v := range k {
		s, ok := v.(*types.AttributeValueMemberS)
		if !ok {
			return "", fmt.Errorf("cursor: key attribute %s is not a string", name)
		}
		m[name] = s.Value
	}
	b, err := json.Marshal(m)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// decodeCursor parses a cursor and checks that it belongs to the partition being read, so a
// cursor can never reach into another tenant's items.
func decodeCursor(c string, partition map[string]string, keyAttrs []string) (map[string]types.AttributeValue, error) {
	bad := access.Invalid("cursor", "is not a cursor of this list")
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(c) > 2048 {
		return nil, bad
	}
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil || len(m) != len(keyAttrs) {
		return nil, bad
	}
	for attr, want := range partition {
		if m[attr] != want {
			return nil, bad
		}
	}
	out := map[string]types.AttributeValue{}
	for _, a := range keyAttrs {
		v, ok := m[a]
		if !ok {
			return nil, bad
		}
		out[a] = &types.AttributeValueMemberS{Value: v}
	}
	return out, nil
}

// query describes one paged Query.
type query struct {
	index     string // "" for the table
	partition map[string]string
	skPrefix  string // begins_with on the sort key, if set
	filter    *expression.ConditionBuilder
	backwards bool
}

func (q query) keyAttrs() (pk, sk string, attrs []string) {
	switch q.index {
	case GSI1:
		return AttrGSI1PK, AttrGSI1SK, []string{AttrPK, AttrSK, AttrGSI1PK, AttrGSI1SK}
	case GSI2:
		return AttrGSI2PK, AttrGSI2SK, []string{AttrPK, AttrSK, AttrGSI2PK, AttrGSI2SK}
	}
	return AttrPK, AttrSK, []string{AttrPK, AttrSK}
}

// page runs q until it has p.Limit matching items or the partition ends. The cursor is the key
// of the last returned item, so filtered reads neither skip nor repeat items.
func (s *Store) page(ctx context.Context, q query, p access.Page) ([]map[string]types.AttributeValue, string, error) {
	pkAttr, skAttr, attrs := q.keyAttrs()
	var pkValue string
	for _, v := range q.partition {
		pkValue = v
	}
	kc := expression.Key(pkAttr).Equal(expression.Value(pkValue))
	if q.skPrefix != "" {
		kc = kc.And(expression.Key(skAttr).BeginsWith(q.skPrefix))
	}
	b := expression.NewBuilder().WithKeyCondition(kc)
	if q.filter != nil {
		b = b.WithFilter(*q.filter)
	}
	e, err := b.Build()
	if err != nil {
		return nil, "", fmt.Errorf("build query: %w", err)
	}
	var start map[string]types.AttributeValue
	if p.Cursor != "" {
		if start, err = decodeCursor(p.Cursor, q.partition, attrs); err != nil {
			return nil, "", err
		}
		// A cursor of another list in the same partition (say groups given to the users list) is
		// refused rather than read from a start key outside the key condition.
		if sk, ok := start[skAttr].(*types.AttributeValueMemberS); !ok || !strings.HasPrefix(sk.Value, q.skPrefix) || len(sk.Value) > 1024 {
			return nil, "", access.Invalid("cursor", "is not a cursor of this list")
		}
	}
	in := &dynamodb.QueryInput{
		TableName: aws.String(s.table), KeyConditionExpression: e.KeyCondition(), FilterExpression: e.Filter(),
		ExpressionAttributeNames: e.Names(), ExpressionAttributeValues: e.Values(),
		ScanIndexForward: aws.Bool(!q.backwards), ExclusiveStartKey: start,
	}
	if q.index != "" {
		in.IndexName = aws.String(q.index)
	}
	var items []map[string]types.AttributeValue
	for {
		in.Limit = aws.Int32(int32(max(p.Limit-len(items), 25)))
		res, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, "", fmt.Errorf("query: %w", err)
		}
		for i, it := range res.Items {
			items = append(items, it)
			if len(items) == p.Limit {
				more := res.LastEvaluatedKey != nil || i < len(res.Items)-1
				if !more {
					return items, "", nil
				}
				last := map[string]types.AttributeValue{}
				for _, a := range attrs {
					last[a] = it[a]
				}
				c, err := encodeCursor(last)
				return items, c, err
			}
		}
		if res.LastEvaluatedKey == nil {
			return items, "", nil
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
	}
}

// unmarshalAll converts query items with a per-item converter.
func unmarshalAll[I any, T any](items []map[string]types.AttributeValue, conv func(I) T) ([]T, error) {
	out := make([]T, 0, len(items))
	for _, av := range items {
		var it I
		if err := attributevalue.UnmarshalMap(av, &it); err != nil {
			return nil, fmt.Errorf("unmarshal: %w", err)
		}
		out = append(out, conv(it))
	}
	return out, nil
}

func lower(s string) string { return strings.ToLower(s) }

// updateIf applies upd to the item at k when cond holds; false when it does not (a write
// conditional on what was read never undoes a newer one).
func (s *Store) updateIf(ctx context.Context, k map[string]types.AttributeValue, upd expression.UpdateBuilder, cond expression.ConditionBuilder) (bool, error) {
	e, err := expression.NewBuilder().WithUpdate(upd).WithCondition(cond).Build()
	if err != nil {
		return false, fmt.Errorf("build update: %w", err)
	}
	_, err = s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(s.table), Key: k,
		UpdateExpression: e.Update(), ConditionExpression: e.Condition(), ExpressionAttributeNames: e.Names(), ExpressionAttributeValues: e.Values()})
	var failed *types.ConditionalCheckFailedException
	if errors.As(err, &failed) {
		return false, nil
	}
	return err == nil, err
}

// countIf is updateIf that counts in n (when set) the updates whose condition held.
func (s *Store) countIf(ctx context.Context, n *int, k map[string]types.AttributeValue, upd expression.UpdateBuilder, cond expression.ConditionBuilder) error {
	done, err := s.updateIf(ctx, k, upd, cond)
	if done && n != nil {
		*n++
	}
	return err
}
