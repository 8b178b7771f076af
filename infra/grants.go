package main

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/jsii-runtime-go"

	"github.com/tilgang/tilgang/shared/dynamo"
	"github.com/tilgang/tilgang/shared/iam"
)

// grants is the least-privilege table. It lives in the root module (shared/iam) so that the
// test suites, which drive every route and worker against the local servers, can check each
// AWS call a function makes against the same entries its role is built from.
var grants = iam.Grants

// batchWriteAction is granted apart from the other table actions (see iam.Grant.BatchWrite).
const batchWriteAction = iam.BatchWriteAction

// addGrants adds one statement per entry of the function's grant, on the ARNs of its resource.
func (s *TilgangStack) addGrants(fn awslambda.Function, name string) {
	for _, st := range grants[name].Statements() {
		fn.AddToRolePolicy(statement(st.Actions, s.arns(st.Resource)...))
	}
}

// arns are the ARNs of a resource of the grants table.
func (s *TilgangStack) arns(r iam.Resource) []*string {
	switch r {
	case iam.Table:
		// The table and each of its indexes by name: no index/* wildcard.
		resources := []*string{s.Table.TableArn()}
		for _, gsi := range dynamo.CreateTableInput("tilgang").GlobalSecondaryIndexes {
			resources = append(resources, jsii.String(*s.Table.TableArn()+"/index/"+*gsi.IndexName))
		}
		return resources
	case iam.JobsQueue:
		return []*string{s.JobsQueue.QueueArn()}
	case iam.Archive:
		return []*string{s.Archive.QueueArn()}
	case iam.Bus:
		return []*string{s.Bus.EventBusArn()}
	case iam.UserPool:
		return []*string{s.UserPool.UserPoolArn()}
	}
	// A resource added to shared/iam without its ARNs here must not synthesize a policy that
	// silently applies to nothing.
	panic(fmt.Sprintf("grants: no ARNs for resource %q", r))
}
