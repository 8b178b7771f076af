package main

import "github.com/tilgang/tilgang/shared/routes"

// tableAccess is how much of the single table a function may touch.
type tableAccess int

const (
	tableNone tableAccess = iota
	tableRead
	tableReadWrite
)

// Table actions. Transactions have no IAM actions of their own: TransactGetItems is authorised
// as GetItem and TransactWriteItems as Put/Update/Delete/ConditionCheckItem on each item.
var (
	tableReadActions  = []string{"dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query"}
	tableWriteActions = []string{"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:ConditionCheckItem"}
)

// batchWriteAction is granted apart: only the store's deleteKeys and an access review's creation
// (CreateReview, served by the jobs function) call it (see grant.batchWrite).
const batchWriteAction = "dynamodb:BatchWriteItem"

// Cognito admin actions of the identity adapter.
const (
	cognitoCreate  = "cognito-idp:AdminCreateUser"
	cognitoDisable = "cognito-idp:AdminDisableUser"
	cognitoEnable  = "cognito-idp:AdminEnableUser"
	cognitoSignOut = "cognito-idp:AdminUserGlobalSignOut"
	cognitoDelete  = "cognito-idp:AdminDeleteUser"
	cognitoUpdate  = "cognito-idp:AdminUpdateUserAttributes"
)

// grant is what one function may do beyond writing its own logs. Consuming the jobs queue is
// granted by the worker's SQS event source, so it does not appear here.
type grant struct {
	table tableAccess
	// batchWrite allows dynamodb:BatchWriteItem on the table (with read-write access).
	batchWrite bool
	// sendJobs allows sqs:SendMessage on the jobs queue.
	sendJobs bool
	// parkPoison allows sqs:SendMessage on the archive queue of poison job messages.
	parkPoison bool
	// publish allows events:PutEvents on the domain event bus.
	publish bool
	// cognito lists the user-pool admin actions the function calls.
	cognito []string
}

// grants is the least-privilege table, keyed by function name. Every function of the route
// table and both workers must have an entry; the stack refuses to build otherwise.
var grants = map[string]grant{
	// Reads principals, groups and assignments to answer rights questions.
	routes.FnMe:    {table: tableRead},
	routes.FnAudit: {table: tableRead},

	// User lifecycle drives the identity provider: invite, disable + sign out, enable, delete,
	// and a changed email. Deleting a user, and removing or anonymising one, deletes the client
	// assignments and roles that do not fit in its transaction with BatchWriteItem
	// (dynamo.Store.DeleteUserWithLinks and UpdateUserWithLinks → deleteKeys).
	routes.FnUsers: {
		table:      tableReadWrite,
		batchWrite: true,
		publish:    true,
		cognito:    []string{cognitoCreate, cognitoDisable, cognitoEnable, cognitoSignOut, cognitoDelete, cognitoUpdate},
	},
	routes.FnGroups:   {table: tableReadWrite},
	routes.FnSettings: {table: tableReadWrite},
	routes.FnClients:  {table: tableReadWrite},
	routes.FnLinks:    {table: tableReadWrite},
	// SCIM provisioning creates, changes, deactivates and removes users to the user bank: the
	// login is invited, disabled and signed out, enabled, and given a new email (removal ends
	// client roles with BatchWriteItem). It never deletes or anonymises: no AdminDeleteUser, no
	// events.
	routes.FnSCIM: {
		table:      tableReadWrite,
		batchWrite: true,
		cognito:    []string{cognitoCreate, cognitoDisable, cognitoEnable, cognitoSignOut, cognitoUpdate},
	},
	// Job submission splits a job into chunks on the jobs queue. The function also serves the
	// access reviews, whose creation writes the review's items with BatchWriteItem
	// (dynamo.Store.CreateReview) before the review itself.
	routes.FnJobs: {table: tableReadWrite, batchWrite: true, sendJobs: true},

	// The worker expands fan-outs into chunk messages on the jobs queue, and writes outcomes and
	// the requester's notification; it publishes no events. It parks poison messages in the
	// archive queue.
	routes.FnJobWorker: {table: tableReadWrite, sendJobs: true, parkPoison: true},
	// The anonymiser sweeps the user bank and deletes the Cognito identities of anonymised users.
	// Anonymising deletes the user's client roles like the users function (BatchWriteItem). It
	// also runs the outbox sweep, which applies the login changes and events a users request
	// could not (invite, disable, enable, delete, email), so it needs the same pool actions.
	routes.FnAnonymiser: {
		table:      tableReadWrite,
		batchWrite: true,
		publish:    true,
		cognito:    []string{cognitoCreate, cognitoDisable, cognitoEnable, cognitoSignOut, cognitoDelete, cognitoUpdate},
	},
}

// tableActions lists the table actions of a grant.
func (g grant) tableActions() []string {
	actions := g.table.actions()
	if g.batchWrite && g.table == tableReadWrite {
		actions = append(actions, batchWriteAction)
	}
	return actions
}

// actions lists the table actions of an access level.
func (a tableAccess) actions() []string {
	switch a {
	case tableRead:
		return tableReadActions
	case tableReadWrite:
		return append(append([]string{}, tableReadActions...), tableWriteActions...)
	default:
		return nil
	}
}
