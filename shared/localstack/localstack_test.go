package localstack_test

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	stypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/tilgang/tilgang/shared/dynamo"
	"github.com/tilgang/tilgang/shared/localstack"
)

func TestMain(m *testing.M) { localstack.Main(m) }

func item(pk, sk string) map[string]dtypes.AttributeValue {
	return map[string]dtypes.AttributeValue{
		dynamo.AttrPK: &dtypes.AttributeValueMemberS{Value: pk},
		dynamo.AttrSK: &dtypes.AttributeValueMemberS{Value: sk},
	}
}

func TestTablePutGet(t *testing.T) {
	client, table := localstack.Table(t)
	ctx := t.Context()
	in := item("TENANT#1", "USER#1")
	in["name"] = &dtypes.AttributeValueMemberS{Value: "Kari"}
	if _, err := client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: in}); err != nil {
		t.Fatal(err)
	}
	out, err := client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: item("TENANT#1", "USER#1")})
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := out.Item["name"].(*dtypes.AttributeValueMemberS); !ok || got.Value != "Kari" {
		t.Errorf("got item %v, want name Kari", out.Item)
	}

	ttl, err := client.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatal(err)
	}
	if d := ttl.TimeToLiveDescription; d == nil || d.TimeToLiveStatus != dtypes.TimeToLiveStatusEnabled || aws.ToString(d.AttributeName) != dynamo.AttrTTL {
		t.Errorf("got TTL %+v, want enabled on %s", d, dynamo.AttrTTL)
	}

	// The same table for the whole package, and EnsureTable is idempotent.
	if _, again := localstack.Table(t); again != table {
		t.Errorf("Table gave %q then %q, want one table per package", table, again)
	}
	if err := localstack.EnsureTable(ctx, client, table); err != nil {
		t.Errorf("EnsureTable on an existing table: %v", err)
	}
}

func TestNewTableIsFresh(t *testing.T) {
	_, shared := localstack.Table(t)
	client, table := localstack.NewTable(t)
	if table == shared {
		t.Fatalf("NewTable returned the package table %q", table)
	}
	out, err := client.Scan(t.Context(), &dynamodb.ScanInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatal(err)
	}
	if out.Count != 0 {
		t.Errorf("got %d items in a new table, want 0", out.Count)
	}
}

func TestCallCounter(t *testing.T) {
	_, table := localstack.Table(t)
	var c localstack.CallCounter
	client := localstack.Shared(t).DynamoClient(c.Option())
	ctx := t.Context()

	var wg sync.WaitGroup
	for i := range 5 {
		wg.Go(func() {
			_, err := client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: item("COUNT", string(rune('a'+i)))})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if _, err := client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: item("COUNT", "a")}); err != nil {
		t.Fatal(err)
	}
	// A failed call counts too: it was still a round trip.
	_, _ = client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("no-such-table"), Key: item("x", "y")})

	if got, want := c.Total(), 7; got != want {
		t.Errorf("Total() = %d, want %d", got, want)
	}
	if got, want := c.Writes(), 5; got != want {
		t.Errorf("Writes() = %d, want %d", got, want)
	}
	if got := c.ByOperation(); got["PutItem"] != 5 || got["GetItem"] != 2 || len(got) != 2 {
		t.Errorf("ByOperation() = %v, want PutItem:5 GetItem:2", got)
	}
	if c.ItemsWritten() != 5 || c.KeysRead() != 2 {
		t.Errorf("ItemsWritten() = %d, KeysRead() = %d; want 5 and 2", c.ItemsWritten(), c.KeysRead())
	}
	// Batches and transactions count their items: a condition check writes nothing.
	c.Reset()
	if _, err := client.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]dtypes.WriteRequest{table: {
		{PutRequest: &dtypes.PutRequest{Item: item("COUNT", "f")}}, {PutRequest: &dtypes.PutRequest{Item: item("COUNT", "g")}}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []dtypes.TransactWriteItem{
		{Put: &dtypes.Put{TableName: aws.String(table), Item: item("COUNT", "h")}},
		{ConditionCheck: &dtypes.ConditionCheck{TableName: aws.String(table), Key: item("COUNT", "a"), ConditionExpression: aws.String("attribute_exists(PK)")}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]dtypes.KeysAndAttributes{table: {
		Keys: []map[string]dtypes.AttributeValue{item("COUNT", "a"), item("COUNT", "nothing")}}}}); err != nil {
		t.Fatal(err)
	}
	if c.Total() != 3 || c.Writes() != 2 || c.ItemsWritten() != 3 || c.KeysRead() != 2 {
		t.Errorf("batch, transaction and batch get: %d calls, %d writes, %d items written, %d keys read; want 3, 2, 3, 2",
			c.Total(), c.Writes(), c.ItemsWritten(), c.KeysRead())
	}

	// A per-call option counts only that call.
	c.Reset()
	var one localstack.CallCounter
	plain := localstack.Shared(t).DynamoClient()
	if _, err := plain.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: item("COUNT", "a")}, one.Option()); err != nil {
		t.Fatal(err)
	}
	if c.Total() != 0 || one.Total() != 1 {
		t.Errorf("after Reset and a per-call count: got %d and %d, want 0 and 1", c.Total(), one.Total())
	}
}

func TestQueuesSendReceiveAndRedrive(t *testing.T) {
	client, q := localstack.Queues(t)
	ctx := t.Context()
	if q.JobsURL == "" || q.JobsDLQURL == "" || q.EventsURL == "" {
		t.Fatalf("missing queue URL in %+v", q)
	}
	// Idempotent on the same prefix.
	again, err := localstack.EnsureQueues(ctx, client, strings.TrimSuffix(q.EventsURL[strings.LastIndex(q.EventsURL, "/")+1:], "events"))
	if err != nil {
		t.Fatalf("EnsureQueues again: %v", err)
	}
	if again != q {
		t.Errorf("EnsureQueues again = %+v, want %+v", again, q)
	}

	attrs, err := client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(q.JobsURL), AttributeNames: []stypes.QueueAttributeName{stypes.QueueAttributeNameAll},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := attrs.Attributes["VisibilityTimeout"]; got != "30" {
		t.Errorf("jobs VisibilityTimeout = %q, want 30", got)
	}
	if got := attrs.Attributes["RedrivePolicy"]; !strings.Contains(got, q.JobsDLQARN) || !strings.Contains(got, `"maxReceiveCount":"5"`) {
		t.Errorf("jobs RedrivePolicy = %q, want the DLQ %s with maxReceiveCount 5", got, q.JobsDLQARN)
	}

	if _, err := client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(q.JobsURL), MessageBody: aws.String(`{"job":"1"}`)}); err != nil {
		t.Fatal(err)
	}
	// Received and never deleted three times (as a failing worker would), the message moves to the DLQ.
	for i := 1; i <= localstack.JobsMaxReceiveCount; i++ {
		out, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(q.JobsURL), WaitTimeSeconds: 2, VisibilityTimeout: 1,
			AttributeNames: []stypes.QueueAttributeName{"ApproximateReceiveCount"},
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) != 1 {
			t.Fatalf("receive %d: got %d messages, want 1", i, len(out.Messages))
		}
		if got := out.Messages[0].Attributes["ApproximateReceiveCount"]; got != string(rune('0'+i)) {
			t.Errorf("receive %d: ApproximateReceiveCount = %q", i, got)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		out, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(q.JobsDLQURL), WaitTimeSeconds: 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) == 1 {
			if got := aws.ToString(out.Messages[0].Body); got != `{"job":"1"}` {
				t.Errorf("DLQ body = %q", got)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("message did not reach the DLQ")
		}
		// Receiving from the source queue is what moves the message on.
		_, _ = client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(q.JobsURL), WaitTimeSeconds: 1})
	}
}

// TestEnsureQueuesUpdatesOlderQueues: queues of an older data directory, with another
// maxReceiveCount, get the attributes declared now instead of failing the start.
func TestEnsureQueuesUpdatesOlderQueues(t *testing.T) {
	client, q := localstack.Queues(t)
	ctx := t.Context()
	old := `{"deadLetterTargetArn":"` + q.JobsDLQARN + `","maxReceiveCount":"3"}`
	if _, err := client.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: aws.String(q.JobsURL),
		Attributes: map[string]string{"RedrivePolicy": old, "VisibilityTimeout": "7"}}); err != nil {
		t.Fatal(err)
	}
	again, err := localstack.EnsureQueues(ctx, client, strings.TrimSuffix(q.EventsURL[strings.LastIndex(q.EventsURL, "/")+1:], "events"))
	if err != nil {
		t.Fatalf("EnsureQueues over older queues: %v", err)
	}
	if again != q {
		t.Errorf("EnsureQueues again = %+v, want %+v", again, q)
	}
	attrs, err := client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(q.JobsURL), AttributeNames: []stypes.QueueAttributeName{stypes.QueueAttributeNameAll},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := attrs.Attributes["RedrivePolicy"]; !strings.Contains(got, `"maxReceiveCount":"5"`) || attrs.Attributes["VisibilityTimeout"] != "30" {
		t.Errorf("after EnsureQueues: RedrivePolicy %q, VisibilityTimeout %q", got, attrs.Attributes["VisibilityTimeout"])
	}
}

// TestStartPersistsAndCloses starts a second stack with a data dir, and checks that data
// survives a restart and that Close leaves no server listening.
func TestStartPersistsAndCloses(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	start := func() *localstack.Stack {
		s, err := localstack.Start(ctx, localstack.Options{DataDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	s := start()
	client := s.DynamoClient()
	if err := localstack.EnsureTable(ctx, client, "persist"); err != nil {
		t.Fatal(err)
	}
	if _, err := client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("persist"), Item: item("P", "1")}); err != nil {
		t.Fatal(err)
	}
	if _, err := localstack.EnsureQueues(ctx, s.SQSClient(), "p-"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	for _, e := range []string{s.DynamoEndpoint, s.SQSEndpoint} {
		if c, err := net.DialTimeout("tcp", strings.TrimPrefix(e, "http://"), time.Second); err == nil {
			c.Close()
			t.Errorf("%s still answers after Close", e)
		}
	}

	s = start()
	defer s.Close()
	out, err := s.DynamoClient().GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("persist"), Key: item("P", "1")})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Item) == 0 {
		t.Error("item lost across a restart with a DataDir")
	}
	if err := localstack.EnsureTable(ctx, s.DynamoClient(), "persist"); err != nil {
		t.Errorf("EnsureTable after restart: %v", err)
	}
}

func TestStartReusesRunningServers(t *testing.T) {
	shared := localstack.Shared(t)
	s, err := localstack.Start(context.Background(), localstack.Options{
		DynamoEndpoint: shared.DynamoEndpoint, SQSEndpoint: shared.SQSEndpoint,
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Close() // must not stop the shared servers
	if _, err := shared.DynamoClient().ListTables(t.Context(), &dynamodb.ListTablesInput{}); err != nil {
		t.Errorf("shared server gone after closing a stack that reused it: %v", err)
	}
}
