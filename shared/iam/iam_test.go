package iam

import (
	"slices"
	"testing"

	"github.com/tilgang/tilgang/shared/routes"
)

// The grants' promises, stated by capability apart from the table: the tests' record of calls
// proves each grant is wide enough, this proves none is wider than these. A change that gives a
// function a new reach must change this list too, on purpose.
func TestGrantsKeepTheirPromises(t *testing.T) {
	promises := []struct {
		what string
		// who may; every other function of the table may not.
		who     []string
		allowed func(Grant) bool
	}{
		{"write to the table", []string{routes.FnUsers, routes.FnGroups, routes.FnSettings, routes.FnClients, routes.FnLinks,
			routes.FnSCIM, routes.FnJobs, routes.FnJobWorker, routes.FnAnonymiser},
			func(g Grant) bool {
				return g.Allows(Table, "dynamodb:PutItem") || g.Allows(Table, "dynamodb:UpdateItem")
			}},
		{"write in batches (BatchWriteItem)", []string{routes.FnUsers, routes.FnSCIM, routes.FnJobs, routes.FnAnonymiser},
			func(g Grant) bool { return g.Allows(Table, BatchWriteAction) }},
		{"send to the jobs queue", []string{routes.FnJobs, routes.FnJobWorker},
			func(g Grant) bool { return g.Allows(JobsQueue, SendMessage) }},
		{"park poison messages", []string{routes.FnJobWorker},
			func(g Grant) bool { return g.Allows(Archive, SendMessage) }},
		{"publish domain events", []string{routes.FnUsers, routes.FnAnonymiser},
			func(g Grant) bool { return g.Allows(Bus, PutEvents) }},
		{"touch the user pool", []string{routes.FnUsers, routes.FnSCIM, routes.FnAnonymiser},
			func(g Grant) bool { return len(g.Cognito) > 0 }},
		// SCIM deprovisions to the user bank; only anonymisation ends a login for good.
		{"delete logins", []string{routes.FnUsers, routes.FnAnonymiser},
			func(g Grant) bool { return g.Allows(UserPool, CognitoDelete) }},
	}
	for _, p := range promises {
		for name, g := range Grants {
			if got, want := p.allowed(g), slices.Contains(p.who, name); got != want {
				t.Errorf("%s may %s: %v, want %v", name, p.what, got, want)
			}
		}
	}
	for _, name := range []string{routes.FnMe, routes.FnAudit} {
		if got := Grants[name].Statements(); len(got) != 1 || got[0].Resource != Table || !slices.Equal(got[0].Actions, tableReadActions) {
			t.Errorf("%s may %v, want only to read the table", name, got)
		}
	}
}
