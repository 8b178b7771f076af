package dynamo_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tilgang/tilgang/shared/access"
	"github.com/tilgang/tilgang/shared/dynamo"
	"github.com/tilgang/tilgang/shared/localstack"
)

func strAV(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

// TestJobResultsOfBothShapes: a part's results live in its part item, written with its marker.
// A job that ran across that change also has what parts applied before it wrote: a bare marker
// and one result item per pair. Its results list both, each row once, page by page and by
// outcome, and the bare marker still marks its part applied.
func TestJobResultsOfBothShapes(t *testing.T) {
	client, table := localstack.Table(t)
	st := dynamo.New(client, table)
	ctx := context.Background()
	tenantID, consultant := id("t"), id("u")
	job := access.Job{ID: id("job"), TenantID: tenantID, RequesterID: id("u"), Action: access.JobGrant, Programs: []string{"invoicing", "payroll"},
		Consultants: 1, Clients: 5, Status: access.JobQueued, Total: 10, Chunks: 1, CreatedAt: time.Now().UTC()}
	if err := st.CreateJob(ctx, job, access.JobInput{}, access.Meta{}); err != nil {
		t.Fatal(err)
	}
	// Part 0, as written before: a bare marker and a result item per pair.
	put := func(item map[string]types.AttributeValue) {
		t.Helper()
		if _, err := client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: item}); err != nil {
			t.Fatal(err)
		}
	}
	put(map[string]types.AttributeValue{"PK": strAV("JOB#" + job.ID), "SK": strAV("M#000000#000"), "type": strAV("access_job_part")})
	old := []string{"c_old1", "c_old2"}
	for _, c := range old {
		put(map[string]types.AttributeValue{"PK": strAV("JOB#" + job.ID), "SK": strAV("R#" + consultant + "#" + c), "type": strAV("access_job_result"),
			"consultantId": strAV(consultant), "clientId": strAV(c),
			"outcomes":   &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"invoicing": strAV("assigned"), "payroll": strAV("already_assigned")}},
			"outcomeSet": &types.AttributeValueMemberSS{Value: []string{"assigned", "already_assigned"}}})
	}
	// Part 1 as written now: its results in its part item.
	part := access.JobPart{TenantID: tenantID, JobID: job.ID, Chunk: 0, Part: 1, Counts: map[access.Outcome]int{access.OutcomeAssigned: 5, access.OutcomeNotPermitted: 1}}
	for i, c := range []string{"c_new1", "c_new2", "c_new3"} {
		o := access.OutcomeAssigned
		if i == 1 {
			o = access.OutcomeNotPermitted
		}
		part.Results = append(part.Results, access.PairResult{ConsultantID: consultant, ClientID: c,
			Outcomes: map[string]access.Outcome{"invoicing": access.OutcomeAssigned, "payroll": o}})
	}
	if err := st.ApplyJobPart(ctx, part); err != nil {
		t.Fatal(err)
	}
	if err := st.ApplyJobPart(ctx, part); !errors.Is(err, access.ErrPartDone) {
		t.Fatalf("ApplyJobPart again = %v, want ErrPartDone", err)
	}

	pairs, err := st.ReadPairs(ctx, access.JobChunk{TenantID: tenantID, JobID: job.ID, ClientIDs: make([]string, 70)}, 32, true)
	if err != nil {
		t.Fatal(err)
	}
	if !pairs.Done[0] || !pairs.Done[1] || pairs.Done[2] {
		t.Errorf("parts done = %v, want 0 (bare marker) and 1 (part item)", pairs.Done)
	}

	list := func(outcome access.Outcome, limit int) []string {
		t.Helper()
		var rows []string
		cursor := ""
		for range 100 {
			rs, next, err := st.ListJobResults(ctx, tenantID, job.ID, outcome, access.Page{Limit: limit, Cursor: cursor})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rs {
				rows = append(rows, fmt.Sprintf("%s/%s/%s", r.ClientID, r.Program, r.Outcome))
			}
			if next == "" {
				return rows
			}
			cursor = next
		}
		t.Fatal("results never end")
		return nil
	}
	want := []string{ // part items first, in the order of the input; then the per-pair items
		"c_new1/invoicing/assigned", "c_new1/payroll/assigned", "c_new2/invoicing/assigned", "c_new2/payroll/not_permitted",
		"c_new3/invoicing/assigned", "c_new3/payroll/assigned",
		"c_old1/invoicing/assigned", "c_old1/payroll/already_assigned", "c_old2/invoicing/assigned", "c_old2/payroll/already_assigned",
	}
	for _, limit := range []int{1, 2, 3, 7, 50} {
		if got := list("", limit); !slices.Equal(got, want) {
			t.Errorf("results by %d = %v\nwant %v", limit, got, want)
		}
	}
	for outcome, want := range map[access.Outcome][]string{
		access.OutcomeNotPermitted:    {"c_new2/payroll/not_permitted"},
		access.OutcomeAlreadyAssigned: {"c_old1/payroll/already_assigned", "c_old2/payroll/already_assigned"},
		access.OutcomeRemoved:         nil,
	} {
		for _, limit := range []int{1, 4} {
			if got := list(outcome, limit); !slices.Equal(got, want) {
				t.Errorf("%s results by %d = %v, want %v", outcome, limit, got, want)
			}
		}
	}
}
