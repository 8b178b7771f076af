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
	tableWriteActions = []string{"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem", "dynamodb:ConditionCheckItem"}
)

// Cognito admin actions of the identity adapter.
const (
	cognitoCreate  = "cognito-idp:AdminCreateUser"
	cognitoDisable = "cognito-idp:AdminDisableUser"
	cognitoEnable  = "cognito-idp:AdminEnableUser"
	cognitoSignOut = "cognito-idp:AdminUserGlobalSignOut"
	cognitoDelete  = "cognito-idp:AdminDeleteUser"
)

// grant is what one function may do beyond writing its own logs. Consuming the jobs queue is
// granted by the worker's SQS event source, so it does not appear here.
type grant struct {
	table tableAccess
	// sendJobs allows sqs:SendMessage on the jobs queue.
	sendJobs bool
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

	// User lifecycle drives the identity provider: invite, disable + sign out, enable, delete.
	routes.FnUsers: {
		table:   tableReadWrite,
		publish: true,
		cognito: []string{cognitoCreate, cognitoDisable, cognitoEnable, cognitoSignOut, cognitoDelete},
	},
	routes.FnGroups:   {table: tableReadWrite},
	routes.FnSettings: {table: tableReadWrite},
	routes.FnClients:  {table: tableReadWrite},
	routes.FnLinks:    {table: tableReadWrite},
	// Job submission splits a job into chunks on the jobs queue.
	routes.FnJobs: {table: tableReadWrite, sendJobs: true},

	// The worker writes outcomes and the requester's notification.
	routes.FnJobWorker: {table: tableReadWrite, publish: true},
	// The anonymiser sweeps the user bank and deletes the Cognito identities of anonymised users.
	routes.FnAnonymiser: {
		table:   tableReadWrite,
		publish: true,
		cognito: []string{cognitoSignOut, cognitoDelete},
	},
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
