package dynamo_test

import (
	"testing"

	"github.com/tilgang/tilgang/shared/access"
	"github.com/tilgang/tilgang/shared/access/storetest"
	"github.com/tilgang/tilgang/shared/dynamo"
	"github.com/tilgang/tilgang/shared/localstack"
)

// The store keeps every promise of access.Store, checked by the shared contract suite on the
// package's dynoxide table.
func TestStoreContract(t *testing.T) {
	storetest.RunAll(t, func(t *testing.T) access.Store {
		client, table := localstack.Table(t)
		return dynamo.New(client, table)
	})
}
