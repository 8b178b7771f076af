package dynamo

import (
	"context"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tilgang/tilgang/shared/access"
)

// A job's progress counters are sharded: each part adds its rows and outcome counts to one of
// jobCounterShards counter items, each in a partition of its own, and reading a job sums them
// (one consistent BatchGetItem of the job and every shard). No part reads or writes the job item
// (completion closes the shards), so however many workers run a job, no item takes more than
// (parts per second) / jobCounterShards writes:
//
//	counter  PK JOB#j#C#<shard>  SK C   done, cnt_<outcome>, closed
//
// 100,000 items at 25 rows a part are 4,000 parts; 50 workers committing a part every 20 ms
// (DynamoDB's transaction latency) are 2,500 parts a second: about 39 writes a second on each of
// the 64 shards, under the 100 a second the largest jobs are held to, and far under DynamoDB's
// 1,000 writes a second per partition.
const jobCounterShards = 64

const skJobCounter = "C"

func jobCounterKey(jobID string, shard int) map[string]types.AttributeValue {
	return key(pfxJob+jobID+"#C#"+strconv.Itoa(shard), skJobCounter)
}

// jobCounterShard spreads the parts of a job over the shards: parallel workers run different
// chunks, and one chunk's parts follow one another.
func jobCounterShard(p access.JobPart) int {
	return (p.Chunk*7 + p.Part) % jobCounterShards
}

// addJobCounts adds a part's counters to its shard, if the job exists and is still open: completion
// closes every shard in its own transaction (closeJobCounters), so a part never touches the job
// item, which lives in the tenant's partition.
func (s *Store) addJobCounts(t *txn, p access.JobPart) error {
	// The shards are created with the job: a missing one is a job that does not exist (any more).
	open := expression.AttributeExists(expression.Name(AttrPK)).And(expression.AttributeNotExists(expression.Name("closed")))
	upd := expression.Add(expression.Name("done"), expression.Value(p.Rows()))
	for o, n := range p.Counts {
		if n > 0 {
			upd = upd.Add(expression.Name(countAttr(o)), expression.Value(n))
		}
	}
	return t.update(s.table, jobCounterKey(p.JobID, jobCounterShard(p)), upd, &open, access.ErrJobClosed)
}

// putJobCounters adds the creation of a job's shards to t: with the job, its input, audit entry
// and idempotency record, 68 items of a transaction's 100.
func (s *Store) putJobCounters(t *txn, jobID string) error {
	for i := range jobCounterShards {
		it := jobCounterKey(jobID, i)
		it["type"] = &types.AttributeValueMemberS{Value: "access_job_counter"}
		it["done"] = &types.AttributeValueMemberN{Value: "0"}
		if err := t.put(s.table, it, notExists(), access.Conflict("access job %s exists", jobID)); err != nil {
			return err
		}
	}
	return nil
}

// closeJobCounters adds to t the closing of every shard of a job: a part applied after it fails
// with ErrJobClosed. With the job, its notification and audit entry, the completion is 67 items
// of a transaction's 100.
func (s *Store) closeJobCounters(t *txn, jobID string) error {
	for i := range jobCounterShards {
		if err := t.update(s.table, jobCounterKey(jobID, i), expression.Set(expression.Name("closed"), expression.Value(true)), nil, nil); err != nil {
			return err
		}
	}
	return nil
}

// readJob reads a job and every counter shard in one consistent BatchGetItem and sums them.
// Counters on the job item itself (jobs started before sharding) count too.
func (s *Store) readJob(ctx context.Context, tenantID, jobID string) (access.Job, error) {
	keys := make([]map[string]types.AttributeValue, 0, jobCounterShards+1)
	keys = append(keys, jobKey(tenantID, jobID))
	for i := range jobCounterShards {
		keys = append(keys, jobCounterKey(jobID, i))
	}
	items, err := s.consistentBatchGet(ctx, keys)
	if err != nil {
		return access.Job{}, fmt.Errorf("get access job: %w", err)
	}
	var job map[string]types.AttributeValue
	var shards []map[string]types.AttributeValue
	for _, av := range items {
		if skOf(av) == skJobCounter {
			shards = append(shards, av)
		} else {
			job = av
		}
	}
	if job == nil {
		return access.Job{}, access.NotFound("access job")
	}
	j, err := jobFromAV(job)
	if err != nil {
		return access.Job{}, err
	}
	for _, av := range shards {
		j.Done += intAttr(av, "done")
		for _, o := range access.Outcomes {
			if n := intAttr(av, countAttr(o)); n > 0 {
				j.Counts[o] += n
			}
		}
	}
	return j, nil
}

func intAttr(av map[string]types.AttributeValue, name string) int {
	n, ok := av[name].(*types.AttributeValueMemberN)
	if !ok {
		return 0
	}
	v, _ := strconv.Atoi(n.Value)
	return v
}
