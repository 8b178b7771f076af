// Package iam is the least-privilege table of what each Lambda may do in AWS, as plain data:
// the CDK stack (infra/grants.go) builds each function's role from it, and the test suites
// check every AWS call the functions make against it (shared/localstack, calls.go), so the
// policies and the code cannot drift apart unnoticed.
package iam

import (
	"slices"

	"github.com/tilgang/tilgang/shared/routes"
)

// TableAccess is how much of the single table a function may touch.
type TableAccess int

// The levels of table access.
const (
	TableNone TableAccess = iota
	TableRead
	TableReadWrite
)

// Resource names what a statement applies to; the stack turns each into ARNs.
type Resource string

// The resources a function can be granted actions on.
const (
	// Table is the single table and each of its indexes.
	Table Resource = "table"
	// JobsQueue carries access-job messages.
	JobsQueue Resource = "jobs queue"
	// Archive is where the job worker parks poison job messages.
	Archive Resource = "archive queue"
	// Bus is the domain event bus.
	Bus Resource = "event bus"
	// UserPool is the Cognito user pool.
	UserPool Resource = "user pool"
)

// Table actions. Transactions have no IAM actions of their own: TransactGetItems is authorised
// as GetItem and TransactWriteItems as Put/Update/Delete/ConditionCheckItem on each item.
var (
	tableReadActions  = []string{"dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query"}
	tableWriteActions = []string{"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:ConditionCheckItem"}
)

// BatchWriteAction is granted apart: only the store's deleteKeys and an access review's creation
// (CreateReview, served by the jobs function) call it (see Grant.BatchWrite).
const BatchWriteAction = "dynamodb:BatchWriteItem"

// Actions on the queues and the bus.
const (
	SendMessage = "sqs:SendMessage"
	PutEvents   = "events:PutEvents"
)

// Cognito admin actions of the identity adapter.
const (
	CognitoCreate  = "cognito-idp:AdminCreateUser"
	CognitoDisable = "cognito-idp:AdminDisableUser"
	CognitoEnable  = "cognito-idp:AdminEnableUser"
	CognitoSignOut = "cognito-idp:AdminUserGlobalSignOut"
	CognitoDelete  = "cognito-idp:AdminDeleteUser"
	CognitoUpdate  = "cognito-idp:AdminUpdateUserAttributes"
)

// Grant is what one function may do beyond writing its own logs (and, with active tracing,
// sending X-Ray segments). Consuming the jobs queue is granted by the worker's SQS event
// source, so it does not appear here.
type Grant struct {
	Table TableAccess
	// BatchWrite allows dynamodb:BatchWriteItem on the table (with read-write access).
	BatchWrite bool
	// SendJobs allows sqs:SendMessage on the jobs queue.
	SendJobs bool
	// ParkPoison allows sqs:SendMessage on the archive queue of poison job messages.
	ParkPoison bool
	// Publish allows events:PutEvents on the domain event bus.
	Publish bool
	// Cognito lists the user-pool admin actions the function calls.
	Cognito []string
}

// allCognito is every pool action of the identity adapter.
var allCognito = []string{CognitoCreate, CognitoDisable, CognitoEnable, CognitoSignOut, CognitoDelete, CognitoUpdate}

// Grants is the least-privilege table, keyed by function name. Every function of
// the route table and both workers must have an entry; the stack refuses to build otherwise.
var Grants = map[string]Grant{
	// Reads principals, groups and assignments to answer rights questions.
	routes.FnMe:    {Table: TableRead},
	routes.FnAudit: {Table: TableRead},

	// User lifecycle drives the identity provider: invite, disable + sign out, enable, delete,
	// and a changed email. Deleting a user, and removing or anonymising one, deletes the client
	// assignments and roles that do not fit in its transaction with BatchWriteItem
	// (dynamo.Store.DeleteUserWithLinks and UpdateUserWithLinks → deleteKeys).
	routes.FnUsers: {
		Table:      TableReadWrite,
		BatchWrite: true,
		Publish:    true,
		Cognito:    allCognito,
	},
	routes.FnGroups:   {Table: TableReadWrite},
	routes.FnSettings: {Table: TableReadWrite},
	routes.FnClients:  {Table: TableReadWrite},
	routes.FnLinks:    {Table: TableReadWrite},
	// SCIM provisioning creates, changes, deactivates and removes users to the user bank: the
	// login is invited, disabled and signed out, enabled, and given a new email (removal ends
	// client roles with BatchWriteItem). It never deletes or anonymises: no AdminDeleteUser, no
	// events.
	routes.FnSCIM: {
		Table:      TableReadWrite,
		BatchWrite: true,
		Cognito:    []string{CognitoCreate, CognitoDisable, CognitoEnable, CognitoSignOut, CognitoUpdate},
	},
	// Job submission splits a job into chunks on the jobs queue. The function also serves the
	// access reviews, whose creation writes the review's items with BatchWriteItem
	// (dynamo.Store.CreateReview) before the review itself.
	routes.FnJobs: {Table: TableReadWrite, BatchWrite: true, SendJobs: true},

	// The worker expands fan-outs into chunk messages on the jobs queue, and writes outcomes and
	// the requester's notification; it publishes no events. It parks poison messages in the
	// archive queue.
	routes.FnJobWorker: {Table: TableReadWrite, SendJobs: true, ParkPoison: true},
	// The anonymiser sweeps the user bank and deletes the Cognito identities of anonymised users.
	// Anonymising deletes the user's client roles like the users function (BatchWriteItem). It
	// also runs the outbox sweep, which applies the login changes and events a users request
	// could not (invite, disable, enable, delete, email), so it needs the same pool actions.
	routes.FnAnonymiser: {
		Table:      TableReadWrite,
		BatchWrite: true,
		Publish:    true,
		Cognito:    allCognito,
	},
}

// Statement is a set of actions on one resource.
type Statement struct {
	Resource Resource
	Actions  []string
}

// Statements lists a grant's statements, in the order the stack adds them to the role.
func (g Grant) Statements() []Statement {
	var out []Statement
	if actions := g.TableActions(); len(actions) > 0 {
		out = append(out, Statement{Table, actions})
	}
	if g.SendJobs {
		out = append(out, Statement{JobsQueue, []string{SendMessage}})
	}
	if g.ParkPoison {
		out = append(out, Statement{Archive, []string{SendMessage}})
	}
	if g.Publish {
		out = append(out, Statement{Bus, []string{PutEvents}})
	}
	if len(g.Cognito) > 0 {
		out = append(out, Statement{UserPool, slices.Clone(g.Cognito)})
	}
	return out
}

// Allows tells whether the grant allows action on resource.
func (g Grant) Allows(r Resource, action string) bool {
	for _, s := range g.Statements() {
		if s.Resource == r && slices.Contains(s.Actions, action) {
			return true
		}
	}
	return false
}

// TableActions lists the table actions of a grant.
func (g Grant) TableActions() []string {
	actions := g.Table.actions()
	if g.BatchWrite && g.Table == TableReadWrite {
		actions = append(actions, BatchWriteAction)
	}
	return actions
}

// actions lists the table actions of an access level.
func (a TableAccess) actions() []string {
	switch a {
	case TableRead:
		return slices.Clone(tableReadActions)
	case TableReadWrite:
		return append(slices.Clone(tableReadActions), tableWriteActions...)
	default:
		return nil
	}
}
