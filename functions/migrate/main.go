// Command migrate brings derived items in step with the data they are derived from, for data
// written before they existed: the member index (who may open every client), which user writes
// keep in step by themselves, the GSI1 key of bureau grants (ACCESS#<c>#PROGRAMS, beside the
// assignment, where a user's clients are read in one Query; it was PROGRAMS#<c>), and the group
// set's flags that a tenant has clients under the new-client policy, bureau grants or users with
// legacy rights to every client (each decides whether a look-up reads where those live); and it
// takes the names of the calendars, and the comments of access review items about them, of users
// anonymised before anonymisation did that. Run
// it once after deploying over existing data, and again until it reports nothing put or
// deleted. Never deployed (the Makefile leaves it out of the Lambda builds); it takes the table and credentials from the environment like the functions:
//
//	eval "$(aws configure export-credentials --format env)"
//	AWS_REGION=eu-north-1 TABLE_NAME=<the stack's table> go run ./functions/migrate
//
// Relations written before they carried a copy of their client need nothing: reads complete them
// from the client items.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/tilgang/tilgang/shared/app"
)

func main() {
	ctx := context.Background()
	a := app.MustNew(ctx)
	rep := must(a.Store.ReindexMembers(ctx))
	fmt.Printf("member index: %d users, %d entries before; %d put, %d deleted\n", rep.Users, rep.Entries, rep.Put, rep.Deleted)
	moved := must(a.Store.MoveGrantIndex(ctx))
	fmt.Printf("bureau grants moved beside their assignments in GSI1: %d\n", moved)
	marked := must(a.Store.MarkTenantFlags(ctx))
	fmt.Printf("tenants flagged in their group set: %d with new-client policy clients, %d with bureau grants, %d with legacy rights to every client\n",
		marked["policyClients"], marked["clientGrants"], marked["legacyAll"])
	forgot := must(a.Store.ForgetAnonymisedCalendarNames(ctx))
	fmt.Printf("calendars of anonymised users that lost their name: %d\n", forgot)
	comments := must(a.Store.ForgetAnonymisedReviewComments(ctx))
	fmt.Printf("access review comments about anonymised users removed: %d\n", comments)
}

// must ends the run at a step's error: the steps before it are done, and a new run redoes
// nothing they did.
func must[T any](v T, err error) T {
	if err != nil {
		fmt.Fprintln(os.Stderr, "migrate:", err)
		os.Exit(1)
	}
	return v
}
