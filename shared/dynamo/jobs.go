package dynamo

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tilgang/tilgang/shared/access"
)

// Access jobs and notifications.
//
//	job            PK TENANT#t  SK JOB#j              status (counters: jobcounters.go)
//	job input      PK TENANT#t  SK JOBINPUT#j         consultantIds, clientIds (read on resend only)
//	part           PK JOB#j     SK M#chunk#part       the part's results; its existence marks the part applied
//	result (old)   PK JOB#j     SK R#u#c              outcome per program of one pair (parts applied before
//	                                                  results moved into the part item; still listed)
//	fan-out marker PK JOB#j     SK F#from#to          every chunk message of the fan-out was sent
//	notification   PK TENANT#t  SK NOTIF#u#n          expiresAt (TTL)
//
// A job's results get their own partition so that reading and writing them never touches the
// tenant's partition. A part's item holds the outcome of every program of every pair of the part
// (results, one JSON string: they are only ever read whole) and is written in the part's
// transaction on the condition that it does not exist: so a job writes one results item per part
// of up to access.PartPairs pairs, not one per pair, and the results, the counters and the grants of
// a part are written together or not at all.
const (
	pfxJob      = "JOB#"
	pfxJobInput = "JOBINPUT#"
	pfxResult   = "R#"
	pfxMarker   = "M#"
	pfxFanOut   = "F#"
	pfxNotif    = "NOTIF#"
	// statusOpen is stored while a job runs; queued and running are derived from progress.
	statusOpen = "open"
	// revokeKey stands for the empty program of revoke results (map keys cannot be empty).
	revokeKey = "-"
)

func jobKey(tenantID, jobID string) map[string]types.AttributeValue {
	return key(tenantPK(tenantID), pfxJob+jobID)
}

func jobResultsPK(jobID string) string { return pfxJob + jobID }

func countAttr(o access.Outcome) string { return "cnt_" + string(o) }

type jobItem struct {
	PK             string   `dynamodbav:"PK"`
	SK             string   `dynamodbav:"SK"`
	Type           string   `dynamodbav:"type"`
	ID             string   `dynamodbav:"id"`
	TenantID       string   `dynamodbav:"tenantId"`
	RequesterID    string   `dynamodbav:"requesterId"`
	Action         string   `dynamodbav:"action"`
	Programs       []string `dynamodbav:"programs"`
	Consultants    int      `dynamodbav:"consultants"`
	Clients        int      `dynamodbav:"clients"`
	Status         string   `dynamodbav:"status"`
	Total          int      `dynamodbav:"total"`
	Done           int      `dynamodbav:"done"`
	Chunks         int      `dynamodbav:"chunks"`
	NotificationID string   `dynamodbav:"notificationId,omitempty"`
	CreatedAt      string   `dynamodbav:"createdAt"`
	CompletedAt    string   `dynamodbav:"completedAt,omitempty"`
	GrantExpiresAt string   `dynamodbav:"grantExpiresAt,omitempty"`
	ReviewID       string   `dynamodbav:"reviewId,omitempty"`
}

func jobFromAV(av map[string]types.AttributeValue) (access.Job, error) {
	var it jobItem
	if err := attributevalue.UnmarshalMap(av, &it); err != nil {
		return access.Job{}, fmt.Errorf("unmarshal job: %w", err)
	}
	j := access.Job{ID: it.ID, TenantID: it.TenantID, RequesterID: it.RequesterID, Action: access.JobAction(it.Action),
		Programs: it.Programs, Consultants: it.Consultants, Clients: it.Clients, Status: access.JobStatus(it.Status),
		Total: it.Total, Done: it.Done, Chunks: it.Chunks, NotificationID: it.NotificationID,
		CreatedAt: parseTS(it.CreatedAt), Counts: map[access.Outcome]int{}, ExpiresAt: expiryFromItem(it.GrantExpiresAt), ReviewID: it.ReviewID}
	if it.Status == statusOpen {
		j.Status = access.JobQueued
	}
	if it.CompletedAt != "" {
		t := parseTS(it.CompletedAt)
		j.CompletedAt = &t
	}
	for _, o := range access.Outcomes {
		if n, ok := av[countAttr(o)].(*types.AttributeValueMemberN); ok {
			var v int
			if _, err := fmt.Sscan(n.Value, &v); err == nil && v > 0 {
				j.Counts[o] = v
			}
		}
	}
	return j, nil
}

type jobInputItem struct {
	PK            string   `dynamodbav:"PK"`
	SK            string   `dynamodbav:"SK"`
	Type          string   `dynamodbav:"type"`
	ConsultantIDs []string `dynamodbav:"consultantIds"`
	ClientIDs     []string `dynamodbav:"clientIds"`
}

// CreateJob writes the job, its input, its counter shards and the meta in one transaction.
func (s *Store) CreateJob(ctx context.Context, j access.Job, in access.JobInput, meta access.Meta) error {
	it := jobItem{PK: tenantPK(j.TenantID), SK: pfxJob + j.ID, Type: "access_job", ID: j.ID, TenantID: j.TenantID,
		RequesterID: j.RequesterID, Action: string(j.Action), Programs: nonNilSlice(j.Programs), Consultants: j.Consultants,
		Clients: j.Clients, Status: statusOpen, Total: j.Total, Chunks: j.Chunks, CreatedAt: ts(j.CreatedAt),
		GrantExpiresAt: expiryToItem(j.ExpiresAt), ReviewID: j.ReviewID}
	t := &txn{}
	if err := t.put(s.table, it, notExists(), access.Conflict("access job %s exists", j.ID)); err != nil {
		return err
	}
	input := jobInputItem{PK: tenantPK(j.TenantID), SK: pfxJobInput + j.ID, Type: "access_job_input",
		ConsultantIDs: in.ConsultantIDs, ClientIDs: in.ClientIDs}
	if err := t.put(s.table, input, notExists(), access.Conflict("access job %s exists", j.ID)); err != nil {
		return err
	}
	if err := s.putJobCounters(t, j.ID); err != nil {
		return err
	}
	if err := t.meta(s.table, meta); err != nil {
		return err
	}
	return s.commit(ctx, t)
}

// GetJob reads a job with a strongly consistent read, its sharded counters summed (see
// jobcounters.go): completion compares them.
func (s *Store) GetJob(ctx context.Context, tenantID, jobID string) (access.Job, error) {
	return s.readJob(ctx, tenantID, jobID)
}

// GetJobInput reads what a job covers, strongly consistent: a worker reads it right after the
// job was stored.
func (s *Store) GetJobInput(ctx context.Context, tenantID, jobID string) (access.JobInput, error) {
	res, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table),
		Key: key(tenantPK(tenantID), pfxJobInput+jobID), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return access.JobInput{}, fmt.Errorf("get access job input: %w", err)
	}
	if res.Item == nil {
		return access.JobInput{}, access.NotFound("access job")
	}
	var it jobInputItem
	if err := attributevalue.UnmarshalMap(res.Item, &it); err != nil {
		return access.JobInput{}, fmt.Errorf("unmarshal access job input: %w", err)
	}
	return access.JobInput{ConsultantIDs: it.ConsultantIDs, ClientIDs: it.ClientIDs}, nil
}

func fanOutKey(f access.JobFanOut) map[string]types.AttributeValue {
	return key(jobResultsPK(f.JobID), fmt.Sprintf("%s%06d#%06d", pfxFanOut, f.From, f.To))
}

// FanOutSent reports whether the fan-out's marker exists.
func (s *Store) FanOutSent(ctx context.Context, f access.JobFanOut) (bool, error) {
	res, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: fanOutKey(f), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return false, fmt.Errorf("get fan-out marker: %w", err)
	}
	return res.Item != nil, nil
}

// MarkFanOutSent writes the fan-out's marker; writing it again changes nothing.
func (s *Store) MarkFanOutSent(ctx context.Context, f access.JobFanOut) error {
	item := fanOutKey(f)
	item["type"] = &types.AttributeValueMemberS{Value: "access_job_fanout"}
	if _, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item}); err != nil {
		return fmt.Errorf("put fan-out marker: %w", err)
	}
	return nil
}

func markerSK(chunk, part int) string { return fmt.Sprintf("%s%06d#%03d", pfxMarker, chunk, part) }

// ReadPairs reads everything a chunk is decided on with parallel BatchGetItems: the consultant,
// the markers of its parts, and per client the client, the consultant's programs, the
// consultant's assignment (only for an action that changes assignments) and (unless the requester
// is the owner) the requester's administration.
func (s *Store) ReadPairs(ctx context.Context, ch access.JobChunk, partSize int, requesterOwner bool) (access.PairState, error) {
	pk := tenantPK(ch.TenantID)
	keys := []map[string]types.AttributeValue{}
	if ch.ConsultantID != "" {
		keys = append(keys, key(pk, pfxUser+ch.ConsultantID))
	}
	parts := (len(ch.ClientIDs) + partSize - 1) / partSize
	for p := range parts {
		keys = append(keys, key(jobResultsPK(ch.JobID), markerSK(ch.Index, p)))
	}
	if ch.ConsultantID != "" {
		for _, c := range ch.ClientIDs {
			keys = append(keys, key(pk, pfxClient+c), key(pk, programsSK(c, ch.ConsultantID)))
			if ch.Action.ChangesAssignments() {
				keys = append(keys, key(pk, assignmentSK(c, ch.ConsultantID)))
			}
			if !requesterOwner {
				keys = append(keys, key(pk, clientAdminSK(c, ch.RequesterID)))
			}
		}
	}
	items, err := s.batchGetParallel(ctx, keys)
	if err != nil {
		return access.PairState{}, fmt.Errorf("read job chunk: %w", err)
	}
	st := access.PairState{Clients: map[string]access.Client{}, Admins: map[string]access.ClientAdmin{}, Assigned: map[string]access.Assignment{},
		Grants: map[string]access.ClientGrant{}, Done: map[int]bool{}}
	for _, av := range items {
		sk := skOf(av)
		switch {
		case strings.HasPrefix(sk, pfxMarker):
			var chunk, part int
			if _, err := fmt.Sscanf(sk, pfxMarker+"%d#%d", &chunk, &part); err == nil {
				st.Done[part] = true
			}
		case strings.HasPrefix(sk, pfxUser):
			u, err := unmarshalUser(av)
			if err != nil {
				return access.PairState{}, err
			}
			st.Consultant = &u
		case strings.HasPrefix(sk, pfxClient):
			var it clientItem
			if err := attributevalue.UnmarshalMap(av, &it); err != nil {
				return access.PairState{}, fmt.Errorf("unmarshal client: %w", err)
			}
			st.Clients[it.ID] = it.domain()
		case strings.HasPrefix(sk, pfxAccess):
			var it assignmentItem
			if err := attributevalue.UnmarshalMap(av, &it); err != nil {
				return access.PairState{}, fmt.Errorf("unmarshal assignment: %w", err)
			}
			st.Assigned[it.ClientID] = it.domain()
		case strings.HasPrefix(sk, pfxPrograms):
			var it clientGrantItem
			if err := attributevalue.UnmarshalMap(av, &it); err != nil {
				return access.PairState{}, fmt.Errorf("unmarshal programs: %w", err)
			}
			st.Grants[it.ClientID] = it.domain()
		case strings.HasPrefix(sk, pfxClientAdmin):
			var it clientAdminItem
			if err := attributevalue.UnmarshalMap(av, &it); err != nil {
				return access.PairState{}, fmt.Errorf("unmarshal client admin: %w", err)
			}
			st.Admins[it.ClientID] = it.domain()
		}
	}
	return st, nil
}

// batchGetParallel is batchGet with its calls of 100 keys made concurrently.
func (s *Store) batchGetParallel(ctx context.Context, keys []map[string]types.AttributeValue) ([]map[string]types.AttributeValue, error) {
	if len(keys) <= 100 {
		return s.batchGet(ctx, keys)
	}
	var (
		mu       sync.Mutex
		wg       sync.WaitGroup
		out      []map[string]types.AttributeValue
		firstErr error
	)
	for start := 0; start < len(keys); start += 100 {
		batch := keys[start:min(start+100, len(keys))]
		wg.Go(func() {
			items, err := s.batchGet(ctx, batch)
			mu.Lock()
			defer mu.Unlock()
			if err != nil && firstErr == nil {
				firstErr = err
			}
			out = append(out, items...)
		})
	}
	wg.Wait()
	return out, firstErr
}

// partResult is one pair's results inside a part item's JSON.
type partResult struct {
	ConsultantID string            `json:"u"`
	ClientID     string            `json:"c"`
	Outcomes     map[string]string `json:"o"`
}

// partItem builds a part's item: its key marks the part applied; results holds every pair's
// outcomes as JSON; outcomeSet lets a filter on one outcome run server-side.
func partItem(p access.JobPart) (map[string]types.AttributeValue, error) {
	item := map[string]types.AttributeValue{
		AttrPK: &types.AttributeValueMemberS{Value: jobResultsPK(p.JobID)}, AttrSK: &types.AttributeValueMemberS{Value: markerSK(p.Chunk, p.Part)},
		"type": &types.AttributeValueMemberS{Value: "access_job_part"},
	}
	if len(p.Results) == 0 {
		return item, nil
	}
	rs := make([]partResult, 0, len(p.Results))
	var set []string
	for _, r := range p.Results {
		pr := partResult{ConsultantID: r.ConsultantID, ClientID: r.ClientID, Outcomes: make(map[string]string, len(r.Outcomes))}
		for prog, o := range r.Outcomes {
			pr.Outcomes[prog] = string(o)
			if !slices.Contains(set, string(o)) {
				set = append(set, string(o))
			}
		}
		rs = append(rs, pr)
	}
	b, err := json.Marshal(rs)
	if err != nil {
		return nil, fmt.Errorf("marshal part results: %w", err)
	}
	item["results"] = &types.AttributeValueMemberS{Value: string(b)}
	if len(set) > 0 {
		item["outcomeSet"] = &types.AttributeValueMemberSS{Value: set}
	}
	return item, nil
}

// pairResults reads the pairs of a results item: a part item, or a per-pair result item written
// before results moved into the part item.
func pairResults(av map[string]types.AttributeValue) ([]access.PairResult, error) {
	if strings.HasPrefix(skOf(av), pfxResult) {
		var it resultItem
		if err := attributevalue.UnmarshalMap(av, &it); err != nil {
			return nil, fmt.Errorf("unmarshal job result: %w", err)
		}
		return []access.PairResult{it.domain()}, nil
	}
	s, ok := av["results"].(*types.AttributeValueMemberS)
	if !ok {
		return nil, nil // a part marker from before results moved in
	}
	var rs []partResult
	if err := json.Unmarshal([]byte(s.Value), &rs); err != nil {
		return nil, fmt.Errorf("unmarshal part results %s: %w", skOf(av), err)
	}
	out := make([]access.PairResult, 0, len(rs))
	for _, r := range rs {
		pr := access.PairResult{ConsultantID: r.ConsultantID, ClientID: r.ClientID, Outcomes: make(map[string]access.Outcome, len(r.Outcomes))}
		for prog, o := range r.Outcomes {
			pr.Outcomes[prog] = access.Outcome(o)
		}
		out = append(out, pr)
	}
	return out, nil
}

// resultItem is a per-pair result, as parts wrote them before their results moved into the part
// item; a job that ran across that change has both, and its results list both.
type resultItem struct {
	PK           string            `dynamodbav:"PK"`
	SK           string            `dynamodbav:"SK"`
	Type         string            `dynamodbav:"type"`
	ConsultantID string            `dynamodbav:"consultantId"`
	ClientID     string            `dynamodbav:"clientId"`
	Outcomes     map[string]string `dynamodbav:"outcomes"`
	OutcomeSet   []string          `dynamodbav:"outcomeSet,stringset"`
}

func (it resultItem) domain() access.PairResult {
	r := access.PairResult{ConsultantID: it.ConsultantID, ClientID: it.ClientID, Outcomes: map[string]access.Outcome{}}
	for prog, o := range it.Outcomes {
		if prog == revokeKey {
			prog = ""
		}
		r.Outcomes[prog] = access.Outcome(o)
	}
	return r
}

// ApplyJobPart writes a part's item (its results), its counters and its changes in one
// transaction, conditional on the part's item not existing: a part is applied, and counted,
// once, with its results, or not at all.
func (s *Store) ApplyJobPart(ctx context.Context, p access.JobPart) error {
	t := &txn{}
	item, err := partItem(p)
	if err != nil {
		return err
	}
	if err := t.put(s.table, item, notExists(), access.ErrPartDone); err != nil {
		return err
	}
	if err := s.addJobCounts(t, p); err != nil {
		return err
	}
	for _, a := range p.NewAssignments {
		if err := t.put(s.table, assignmentToItem(a), notExists(), access.ErrVersionConflict); err != nil {
			return err
		}
	}
	for _, a := range p.DeleteAssignments {
		if err := t.delete(s.table, assignmentKey(a.TenantID, a.ClientID, a.UserID), versionIs(a.Version), access.ErrVersionConflict); err != nil {
			return err
		}
	}
	for _, c := range p.Programs {
		cond := notExists()
		if c.Prev != nil {
			cond = versionIs(c.Prev.Version)
		}
		var err error
		if c.Next != nil {
			t.owe(c.Next.TenantID, flagClientGrants)
			err = t.put(s.table, clientGrantToItem(*c.Next), cond, access.ErrVersionConflict)
		} else if c.Prev != nil {
			err = t.delete(s.table, key(tenantPK(c.Prev.TenantID), programsSK(c.Prev.ClientID, c.Prev.UserID)), cond, access.ErrVersionConflict)
		}
		if err != nil {
			return err
		}
	}
	return s.commit(ctx, t)
}

type notificationItem struct {
	PK        string `dynamodbav:"PK"`
	SK        string `dynamodbav:"SK"`
	Type      string `dynamodbav:"type"`
	ID        string `dynamodbav:"id"`
	TenantID  string `dynamodbav:"tenantId"`
	UserID    string `dynamodbav:"userId"`
	Kind      string `dynamodbav:"kind"`
	JobID     string `dynamodbav:"jobId,omitempty"`
	Title     string `dynamodbav:"title"`
	Summary   string `dynamodbav:"summary,omitempty"`
	Read      bool   `dynamodbav:"read"`
	ReadAt    string `dynamodbav:"readAt,omitempty"`
	CreatedAt string `dynamodbav:"createdAt"`
	ExpiresAt int64  `dynamodbav:"expiresAt"`
}

func notifSK(userID, id string) string { return pfxNotif + userID + "#" + id }

func notificationToItem(n access.Notification) notificationItem {
	return notificationItem{PK: tenantPK(n.TenantID), SK: notifSK(n.UserID, n.ID), Type: "notification", ID: n.ID,
		TenantID: n.TenantID, UserID: n.UserID, Kind: n.Type, JobID: n.JobID, Title: n.Title, Summary: n.Summary,
		Read: n.Read, CreatedAt: ts(n.CreatedAt), ExpiresAt: n.ExpiresAt.Unix()}
}

func (it notificationItem) domain() access.Notification {
	n := access.Notification{ID: it.ID, TenantID: it.TenantID, UserID: it.UserID, Type: it.Kind, JobID: it.JobID,
		Title: it.Title, Summary: it.Summary, Read: it.Read, CreatedAt: parseTS(it.CreatedAt),
		ExpiresAt: time.Unix(it.ExpiresAt, 0).UTC()}
	if it.ReadAt != "" {
		t := parseTS(it.ReadAt)
		n.ReadAt = &t
	}
	return n
}

// CompleteJob ends an open job whose results are all done and writes its notification, in one
// transaction: of several workers that see the job done, exactly one succeeds.
func (s *Store) CompleteJob(ctx context.Context, j access.Job, status access.JobStatus, n access.Notification, meta access.Meta) error {
	t := &txn{}
	upd := expression.Set(expression.Name("status"), expression.Value(string(status))).
		Set(expression.Name("completedAt"), expression.Value(ts(n.CreatedAt))).
		Set(expression.Name("notificationId"), expression.Value(n.ID))
	// The counters are sharded, so the job item cannot compare them: j was read consistently
	// (GetJob) and counters only grow, so done as read is done for good.
	if j.Done != j.Total {
		return access.Conflict("access job %s has %d of %d results", j.ID, j.Done, j.Total)
	}
	cond := expression.Name("status").Equal(expression.Value(statusOpen))
	if err := t.update(s.table, jobKey(j.TenantID, j.ID), upd, &cond, access.ErrJobClosed); err != nil {
		return err
	}
	if err := s.closeJobCounters(t, j.ID); err != nil {
		return err
	}
	if err := t.put(s.table, notificationToItem(n), notExists(), access.ErrJobClosed); err != nil {
		return err
	}
	if err := t.meta(s.table, meta); err != nil {
		return err
	}
	return s.commit(ctx, t)
}

// resultsCursor resumes a results page inside an item: skip rows of item SK were returned.
type resultsCursor struct {
	SK   string `json:"sk"`
	Skip int    `json:"skip"`
}

// ListJobResults pages a job's results row by row (an item holds the rows of a part, or of one
// pair for parts applied before results moved into the part item), so the cursor names the item
// and how many of its matching rows were already returned. Part items (M#) sort first, by chunk
// and part, so rows come in the order of the job's input; per-pair items (R#) follow.
func (s *Store) ListJobResults(ctx context.Context, tenantID, jobID string, outcome access.Outcome, p access.Page) ([]access.JobResult, string, error) {
	var cur resultsCursor
	if p.Cursor != "" {
		b, err := base64.RawURLEncoding.DecodeString(p.Cursor)
		if err != nil || len(p.Cursor) > 1024 || json.Unmarshal(b, &cur) != nil || cur.Skip < 0 ||
			!(strings.HasPrefix(cur.SK, pfxMarker) || strings.HasPrefix(cur.SK, pfxResult)) {
			return nil, "", access.Invalid("cursor", "is not a cursor of this list")
		}
	}
	from := pfxMarker
	if cur.SK != "" {
		from = cur.SK
	}
	// Part items (M#...) and per-pair results (R#...) lie between "M#" and "R$" ('$' follows
	// '#'); nothing else of the job's partition does. Part markers written before results moved
	// in carry no outcomes and are filtered out.
	kc := expression.Key(AttrPK).Equal(expression.Value(jobResultsPK(jobID))).
		And(expression.Key(AttrSK).Between(expression.Value(from), expression.Value("R$")))
	filter := expression.AttributeExists(expression.Name("outcomeSet"))
	if outcome != "" {
		filter = expression.Name("outcomeSet").Contains(string(outcome))
	}
	e, err := expression.NewBuilder().WithKeyCondition(kc).WithFilter(filter).Build()
	if err != nil {
		return nil, "", fmt.Errorf("build results query: %w", err)
	}
	in := &dynamodb.QueryInput{TableName: aws.String(s.table), KeyConditionExpression: e.KeyCondition(), FilterExpression: e.Filter(),
		ExpressionAttributeNames: e.Names(), ExpressionAttributeValues: e.Values(), Limit: aws.Int32(int32(p.Limit))}
	var out []access.JobResult
	for {
		res, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, "", fmt.Errorf("list job results: %w", err)
		}
		for i, av := range res.Items {
			prs, err := pairResults(av)
			if err != nil {
				return nil, "", err
			}
			var rows []access.JobResult
			for _, pr := range prs {
				for _, r := range access.ExpandPairResult(pr) {
					if outcome == "" || r.Outcome == outcome {
						rows = append(rows, r)
					}
				}
			}
			sk := skOf(av)
			skip := 0
			if sk == cur.SK {
				skip = min(cur.Skip, len(rows))
			}
			take := min(len(rows)-skip, p.Limit-len(out))
			out = append(out, rows[skip:skip+take]...)
			if len(out) == p.Limit {
				more := skip+take < len(rows) || i < len(res.Items)-1 || res.LastEvaluatedKey != nil
				if !more {
					return out, "", nil
				}
				c, _ := json.Marshal(resultsCursor{SK: sk, Skip: skip + take})
				return out, base64.RawURLEncoding.EncodeToString(c), nil
			}
		}
		if res.LastEvaluatedKey == nil {
			return out, "", nil
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
	}
}

// ListNotifications pages a user's notifications newest first (ids are time-ordered), without
// those past their expiry that TTL has not deleted yet.
func (s *Store) ListNotifications(ctx context.Context, tenantID, userID string, now time.Time, p access.Page) ([]access.Notification, string, error) {
	partition := map[string]string{AttrPK: tenantPK(tenantID)}
	prefix := pfxNotif + userID + "#"
	live := expression.Name(AttrTTL).GreaterThan(expression.Value(now.Unix()))
	items, cursor, err := s.page(ctx, query{partition: partition, skPrefix: prefix, filter: &live, backwards: true}, p)
	if err != nil {
		return nil, "", fmt.Errorf("list notifications: %w", err)
	}
	ns, err := unmarshalAll(items, notificationItem.domain)
	return ns, cursor, err
}

// MarkNotificationRead sets a live notification of the user read, keeping the first read time.
func (s *Store) MarkNotificationRead(ctx context.Context, tenantID, userID, id string, at time.Time) (access.Notification, error) {
	res, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table), Key: key(tenantPK(tenantID), notifSK(userID, id)),
		UpdateExpression:          aws.String("SET #read = :t, readAt = if_not_exists(readAt, :at)"),
		ConditionExpression:       aws.String("attribute_exists(PK) AND expiresAt > :now"),
		ExpressionAttributeNames:  map[string]string{"#read": "read"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":t": &types.AttributeValueMemberBOOL{Value: true}, ":at": &types.AttributeValueMemberS{Value: ts(at)}, ":now": &types.AttributeValueMemberN{Value: fmt.Sprint(at.Unix())}},
		ReturnValues:              types.ReturnValueAllNew,
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return access.Notification{}, access.NotFound("notification")
	}
	if err != nil {
		return access.Notification{}, fmt.Errorf("mark notification read: %w", err)
	}
	var it notificationItem
	if err := attributevalue.UnmarshalMap(res.Attributes, &it); err != nil {
		return access.Notification{}, fmt.Errorf("unmarshal notification: %w", err)
	}
	return it.domain(), nil
}
