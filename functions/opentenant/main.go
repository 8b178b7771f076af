// Command opentenant opens an account with its first owner in a deployed stack: the one step
// the API has no route for (locally the dev server's POST /dev/tenants does it). The owner gets
// the user pool's invitation email with a temporary password and signs in to the console; if
// the invitation cannot be sent, the account is rolled back. Never deployed (the Makefile leaves
// it out of the Lambda builds); it takes the table, the user pool and credentials from the
// environment like the functions (the stack's outputs name the table and the pool):
//
//	eval "$(aws configure export-credentials --format env)"
//	AWS_REGION=eu-north-1 TABLE_NAME=<table> USER_POOL_ID=<pool> \
//	  go run ./functions/opentenant -name "Klinik Nord" -owner-name "Karin Owner" -owner-email karin@example.com
//
// Exit status: 0 opened, 2 refused input (named on stderr), 1 anything else.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"

	"github.com/tilgang/tilgang/shared/access"
	"github.com/tilgang/tilgang/shared/app"
	"github.com/tilgang/tilgang/shared/cognito"
)

func main() {
	ctx := context.Background()
	a := app.MustNew(ctx)
	if a.Config.UserPoolID == "" {
		fmt.Fprintln(os.Stderr, "opentenant: USER_POOL_ID is required: the owner's login is made in the stack's user pool")
		os.Exit(2)
	}
	a.People.Identity = cognito.New(cognitoidentityprovider.NewFromConfig(a.AWS), a.Config.UserPoolID)
	os.Exit(run(ctx, a.People, os.Args[1:], os.Stdout, os.Stderr))
}

// tenantOpener is the use case the command runs (people.Service.CreateTenant).
type tenantOpener interface {
	CreateTenant(ctx context.Context, in access.NewTenant) (access.Tenant, access.User, error)
}

// run parses args, opens the account and says what it did; it returns the exit status.
func run(ctx context.Context, p tenantOpener, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("opentenant", flag.ContinueOnError)
	fs.SetOutput(stderr)
	name := fs.String("name", "", "the account's name (required)")
	ownerName := fs.String("owner-name", "", "the owner's full name (required)")
	ownerEmail := fs.String("owner-email", "", "the owner's email: their login, where the invitation goes (required)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "opentenant: unexpected argument %q (every value goes with its flag)\n", fs.Arg(0))
		return 2
	}
	t, owner, err := p.CreateTenant(ctx, access.NewTenant{Name: *name, OwnerName: *ownerName, OwnerEmail: *ownerEmail})
	if err != nil {
		fmt.Fprintln(stderr, "opentenant:", err)
		switch access.ErrorCode(err) {
		case access.CodeInvalid, access.CodeConflict:
			return 2
		}
		return 1
	}
	// Ids only: the operator typed the name and the email, and this output may end up in a log.
	fmt.Fprintf(stdout, "opened tenant %s with owner %s; the owner has been sent an invitation to sign in\n", t.ID, owner.ID)
	return 0
}
