package localstack

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	stypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/tilgang/tilgang/shared/iam"
	"github.com/tilgang/tilgang/shared/routes"
)

// TestCallsAreCheckedAsIAMAuthorisesThem makes real calls to the local servers on behalf of
// functions whose grants allow some of them, and checks which ones the log finds denied: each
// item of a transaction counts as its own action, a batch send as a send, a message to the
// events queue as an event put on the bus, and calls outside a handler are not recorded.
func TestCallsAreCheckedAsIAMAuthorisesThem(t *testing.T) {
	var l callLog
	record := func(o *dynamodb.Options) { o.APIOptions = append(o.APIOptions, l.middleware) }
	db, table := NewTable(t)
	db = dynamodb.New(db.Options(), record)
	q, queues := Queues(t)
	q = sqs.New(q.Options(), func(o *sqs.Options) { o.APIOptions = append(o.APIOptions, l.middleware) })

	key := func(pk string) map[string]dtypes.AttributeValue {
		return map[string]dtypes.AttributeValue{"PK": &dtypes.AttributeValueMemberS{Value: pk}, "SK": &dtypes.AttributeValueMemberS{Value: "x"}}
	}
	ctx := context.Background()
	if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: key("set-up")}); err != nil {
		t.Fatal(err)
	}

	me := routes.WithServing(ctx, routes.FnMe, "GET /v1/me")
	if _, err := db.GetItem(me, &dynamodb.GetItemInput{TableName: aws.String(table), Key: key("set-up")}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.TransactWriteItems(me, &dynamodb.TransactWriteItemsInput{TransactItems: []dtypes.TransactWriteItem{
		{Put: &dtypes.Put{TableName: aws.String(table), Item: key("new")}},
		{ConditionCheck: &dtypes.ConditionCheck{TableName: aws.String(table), Key: key("set-up"), ConditionExpression: aws.String("attribute_exists(PK)")}},
	}}); err != nil {
		t.Fatal(err)
	}
	jobs := routes.WithServing(ctx, routes.FnJobs, "POST /v1/access-jobs")
	if _, err := q.SendMessageBatch(jobs, &sqs.SendMessageBatchInput{QueueUrl: aws.String(queues.JobsURL),
		Entries: []stypes.SendMessageBatchRequestEntry{{Id: aws.String("1"), MessageBody: aws.String("chunk")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := q.SendMessage(jobs, &sqs.SendMessageInput{QueueUrl: aws.String(queues.JobsArchiveURL), MessageBody: aws.String("poison")}); err != nil {
		t.Fatal(err)
	}
	worker := routes.WithServing(ctx, routes.FnJobWorker, "SQS job messages")
	if _, err := q.SendMessage(worker, &sqs.SendMessageInput{QueueUrl: aws.String(queues.EventsURL), MessageBody: aws.String("{}")}); err != nil {
		t.Fatal(err)
	}

	var got []string
	for _, d := range l.denied(iam.Grants) {
		got = append(got, d[:strings.Index(d, ", made by")])
	}
	want := []string{
		"function jobs needs sqs:SendMessage on the archive queue",
		"function jobworker needs events:PutEvents on the event bus",
		"function me needs dynamodb:ConditionCheckItem on the table",
		"function me needs dynamodb:PutItem on the table",
	}
	if !slices.Equal(got, want) {
		t.Errorf("denied\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	if n := len(l.calls); n != 6 {
		t.Errorf("%d calls recorded, want 6 (the set-up's PutItem is no function's): %v", n, l.calls)
	}
}
