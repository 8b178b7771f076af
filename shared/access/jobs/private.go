package jobs

import (
	"errors"
	"time"

	"github.com/tilgang/tilgang/shared/access"
)

var actionWords = map[access.JobAction]string{
	access.JobGrant: "Client access and programs", access.JobRevoke: "Removal of client access", access.JobRemovePrograms: "Removal of programs",
}

// errNeverStored: a fan-out's job was not stored within JobStoreGrace, so it never will be.
var errNeverStored = errors.New("the job of this fan-out was never stored")

// failFanOutParallel bounds the chunks FailFanOut records at once.
const failFanOutParallel = 8

const (
	// jobStoreWait is how long the worker waits for the job of a fan-out to be stored (the API
	// sends the fan-out just before) before it lets the message come back later.
	jobStoreWait = 3 * time.Second
)

// maxPartAttempts bounds the re-reads of a part that lost a race with another change. In
// DynamoDB every part also updates the job's counters, so parts of one job running at once
// collide there (TransactionConflict); they back off with jitter and try again.
const maxPartAttempts = 8
