package localstack

import (
	"context"
	"maps"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/middleware"
)

// CallCounter counts DynamoDB operations by name, for tests that bound how many calls a use
// case costs, and the items those calls write and read (keys asked for, found or not). It counts
// logical calls (once per API call, before retries, so a BatchWriteItem's unprocessed items that
// the caller sends again count again). It is safe for concurrent use; the zero value is ready.
//
//	var c localstack.CallCounter
//	client := localstack.Shared(t).DynamoClient(c.Option())
//	...
//	if got := c.Total(); got > 2 { t.Errorf("authorise cost %d calls, want <= 2", got) }
type CallCounter struct {
	mu                  sync.Mutex
	calls               map[string]int
	itemsWritten, reads int
}

// Option adds the counting middleware to a client (dynamodb.NewFromConfig, Stack.DynamoClient)
// or to a single call (client.GetItem(ctx, in, c.Option())).
func (c *CallCounter) Option() func(*dynamodb.Options) {
	return func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, func(stack *middleware.Stack) error {
			return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("localstack.CallCounter",
				func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
					written, read := items(in.Parameters)
					c.add(middleware.GetOperationName(ctx), written, read)
					return next.HandleInitialize(ctx, in)
				}), middleware.After)
		})
	}
}

func (c *CallCounter) add(op string, written, read int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.calls == nil {
		c.calls = map[string]int{}
	}
	c.calls[op]++
	c.itemsWritten += written
	c.reads += read
}

// items tells the items a call writes (a transaction's puts, updates and deletes; a condition
// check only reads) and the keys it reads.
func items(params any) (written, read int) {
	switch p := params.(type) {
	case *dynamodb.PutItemInput, *dynamodb.UpdateItemInput, *dynamodb.DeleteItemInput:
		return 1, 0
	case *dynamodb.BatchWriteItemInput:
		for _, reqs := range p.RequestItems {
			written += len(reqs)
		}
	case *dynamodb.TransactWriteItemsInput:
		for _, it := range p.TransactItems {
			if it.ConditionCheck == nil {
				written++
			}
		}
	case *dynamodb.GetItemInput:
		return 0, 1
	case *dynamodb.BatchGetItemInput:
		for _, ka := range p.RequestItems {
			read += len(ka.Keys)
		}
	case *dynamodb.TransactGetItemsInput:
		read = len(p.TransactItems)
	}
	return written, read
}

// ItemsWritten is the number of items written since the start or the last Reset.
func (c *CallCounter) ItemsWritten() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.itemsWritten
}

// KeysRead is the number of keys read by GetItem, BatchGetItem and TransactGetItems (queries
// and scans are not counted) since the start or the last Reset.
func (c *CallCounter) KeysRead() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.reads
}

// Total is the number of calls counted since the start or the last Reset.
func (c *CallCounter) Total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, v := range c.calls {
		n += v
	}
	return n
}

// Writes is the number of write calls: PutItem, UpdateItem, DeleteItem, BatchWriteItem and
// TransactWriteItems (each batch or transaction counts once).
func (c *CallCounter) Writes() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls["PutItem"] + c.calls["UpdateItem"] + c.calls["DeleteItem"] +
		c.calls["BatchWriteItem"] + c.calls["TransactWriteItems"]
}

// ByOperation returns a copy of the counts keyed by operation name, e.g. "GetItem".
func (c *CallCounter) ByOperation() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int, len(c.calls))
	maps.Copy(out, c.calls)
	return out
}

// Reset sets every count back to zero.
func (c *CallCounter) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls, c.itemsWritten, c.reads = nil, 0, 0
}
