package httpapi_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tilgang/tilgang/shared/access"
	"github.com/tilgang/tilgang/shared/apitest"
	"github.com/tilgang/tilgang/shared/app"
	"github.com/tilgang/tilgang/shared/app/allclients"
	"github.com/tilgang/tilgang/shared/httpapi"
	"github.com/tilgang/tilgang/shared/localstack"
)

// lookupTenant is the measuring tenant: 20 groups (2 give clients with scope all),
// users employees of which about a fifth reach client C (the owner, 30 members of the scope-all
// groups and 10 assigned therapists), a therapist with 30 assigned clients, and extra employees
// in own-scope groups who reach neither.
type lookupTenant struct {
	ten       *apitest.Tenant
	client    string
	therapist *apitest.Actor
	ownGroups []string
	reachC    int
}

func newLookupTenant(t testing.TB, env *apitest.Env, users int) *lookupTenant {
	t.Helper()
	ctx := context.Background()
	lt := &lookupTenant{ten: env.NewTenant(t, true)}
	owner := lt.ten.Owner
	var allGroups []string
	for i := range 2 {
		allGroups = append(allGroups, owner.CreateGroup(t, fmt.Sprintf("Reception %d", i), clientPerms("view", "all", nil)))
	}
	for i := range 18 {
		lt.ownGroups = append(lt.ownGroups, owner.CreateGroup(t, fmt.Sprintf("Therapists %d", i), clientPerms("edit", "own", nil)))
	}
	now := time.Now().UTC()
	var seeded []access.User
	for i := range users - 1 {
		g := lt.ownGroups[i%len(lt.ownGroups)]
		if i < 30 {
			g = allGroups[i%2]
		}
		seeded = append(seeded, access.User{ID: access.NewULID("u"), TenantID: lt.ten.ID, Name: fmt.Sprintf("Employee %d", i),
			Email: apitest.UniqueEmail("lookup"), Profession: access.ProfessionPractitioner, GroupIDs: []string{g},
			Status: access.StatusActive, Version: 1, CreatedAt: now, UpdatedAt: now})
	}
	if err := env.App.Store.SeedUsers(ctx, seeded); err != nil {
		t.Fatal(err)
	}
	lt.client = createClient(t, owner, "manual")
	store := env.App.Store
	for _, u := range seeded[30:40] {
		a := access.Assignment{TenantID: lt.ten.ID, ClientID: lt.client, UserID: u.ID, Level: access.LevelEdit,
			Source: access.AssignedByAppointment, Version: 1, CreatedAt: now, UpdatedAt: now}
		if err := store.PutAssignment(ctx, nil, a, access.Meta{}); err != nil {
			t.Fatal(err)
		}
	}
	lt.reachC = 1 + 30 + 10
	ther := seeded[40]
	lt.therapist = env.As(lt.ten.ID, ther.ID)
	for i := range 30 {
		cl := access.Client{ID: access.NewULID("c"), TenantID: lt.ten.ID, Name: fmt.Sprintf("Client %d", i), Status: access.ClientActive,
			Source: access.ClientManual, Version: 1, CreatedAt: now, UpdatedAt: now}
		a := access.Assignment{TenantID: lt.ten.ID, ClientID: cl.ID, UserID: ther.ID, Level: access.LevelEdit,
			Source: access.AssignedManually, Version: 1, CreatedAt: now, UpdatedAt: now}
		if err := store.CreateClient(ctx, cl, []access.Assignment{a}, access.Meta{}); err != nil {
			t.Fatal(err)
		}
	}
	return lt
}

// addEmployees seeds n more employees in own-scope groups: they reach neither C nor the
// therapist's clients.
func (lt *lookupTenant) addEmployees(t testing.TB, env *apitest.Env, n int) {
	t.Helper()
	now := time.Now().UTC()
	var users []access.User
	for i := range n {
		users = append(users, access.User{ID: access.NewULID("u"), TenantID: lt.ten.ID, Name: fmt.Sprintf("Extra %d", i),
			Email: apitest.UniqueEmail("extra"), Profession: access.ProfessionPractitioner, GroupIDs: []string{lt.ownGroups[i%len(lt.ownGroups)]},
			Status: access.StatusActive, Version: 1, CreatedAt: now, UpdatedAt: now})
	}
	if err := env.App.Store.SeedUsers(context.Background(), users); err != nil {
		t.Fatal(err)
	}
}

// allPages runs a list request through the handler page by page and returns the items.
func allPages(t testing.TB, env *apitest.Env, a *apitest.Actor, function, path string) int {
	t.Helper()
	h := allclients.API(env.App, function)
	n, cursor := 0, ""
	for range 100 {
		p := path
		if cursor != "" {
			p += "&cursor=" + cursor
		}
		res, err := h(context.Background(), a.Event(t, "GET", p, nil))
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("GET %s: %d %v %s", p, res.StatusCode, err, res.Body)
		}
		n += strings.Count(res.Body, `"reasons"`)
		i := strings.Index(res.Body, `"nextCursor":"`)
		if i < 0 {
			return n
		}
		cursor = res.Body[i+len(`"nextCursor":"`):]
		cursor = cursor[:strings.IndexByte(cursor, '"')]
	}
	t.Fatal("paging does not end")
	return 0
}

// TestReverseLookupsCostFollowsTheAnswer counts the DynamoDB calls of both reverse look-ups on
// a tenant of 200 employees and again after it grew to 2,000 (who reach neither): the same
// calls, the same answer.
func TestReverseLookupsCostFollowsTheAnswer(t *testing.T) {
	env := apitest.New(t)
	lt := newLookupTenant(t, env, 200)
	owner := lt.ten.Owner
	count := func() (who, whoCalls, mine, mineCalls int) {
		env.Counter.Reset()
		who = allPages(t, env, owner, "clients", "/v1/clients/"+lt.client+"/access?limit=100")
		whoCalls = env.Counter.Total()
		env.Counter.Reset()
		mine = allPages(t, env, lt.therapist, "clients", "/v1/users/"+lt.therapist.UserID+"/clients?limit=100")
		mineCalls = env.Counter.Total()
		return
	}
	who, whoCalls, mine, mineCalls := count()
	if who != lt.reachC || mine != 30 {
		t.Errorf("200 employees: %d users reach the client (want %d), the therapist opens %d clients (want 30)", who, lt.reachC, mine)
	}
	// The caller with the client, group set and tenant (one BatchGetItem) and the client's
	// assignments (2 at once), then the two scope-all groups' member lists with the assigned
	// users (3 at once). The tenant has no bureau grants and no legacy rights, so neither list
	// is read (tenant flags).
	if whoCalls != 5 {
		t.Errorf("who can access: %d DynamoDB calls (%v), want 5", whoCalls, env.Counter.ByOperation())
	}
	// The principal and the user's relations (assignments and grants, one range) at once; the
	// relations carry their clients, so none is read, and the tenant has no policy clients.
	if mineCalls != 2 {
		t.Errorf("clients of a user: %d DynamoDB calls (%v), want 2", mineCalls, env.Counter.ByOperation())
	}
	lt.addEmployees(t, env, 1800)
	who2, whoCalls2, mine2, mineCalls2 := count()
	if who2 != who || whoCalls2 != whoCalls || mine2 != mine || mineCalls2 != mineCalls {
		t.Errorf("from 200 to 2,000 employees: who can access %d users in %d calls -> %d in %d; clients of a user %d in %d calls -> %d in %d",
			who, whoCalls, who2, whoCalls2, mine, mineCalls, mine2, mineCalls2)
	}
}

// rawQuery is the baseline of the reverse look-ups: one Query (all pages) of the relations of
// one client (its assignments, SK ACCESS#<c>#) or of one user (GSI1 TENANT#<t>#USER#<u>).
func rawQuery(env *apitest.Env, in *dynamodb.QueryInput) func(b *testing.B) {
	return func(b *testing.B) {
		q := *in
		for {
			out, err := env.App.Dynamo.Query(context.Background(), &q)
			if err != nil {
				b.Fatal(err)
			}
			if out.LastEvaluatedKey == nil {
				return
			}
			q.ExclusiveStartKey = out.LastEvaluatedKey
		}
	}
}

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

func clientAssignmentsQuery(env *apitest.Env, lt *lookupTenant) *dynamodb.QueryInput {
	return &dynamodb.QueryInput{TableName: aws.String(env.Config.TableName),
		KeyConditionExpression:    aws.String("PK = :pk AND begins_with(SK, :sk)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": s("TENANT#" + lt.ten.ID), ":sk": s("ACCESS#" + lt.client + "#")}}
}

func userRelationsQuery(env *apitest.Env, lt *lookupTenant) *dynamodb.QueryInput {
	return &dynamodb.QueryInput{TableName: aws.String(env.Config.TableName), IndexName: aws.String("GSI1"),
		KeyConditionExpression:    aws.String("GSI1PK = :pk AND begins_with(GSI1SK, :sk)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": s("TENANT#" + lt.ten.ID + "#USER#" + lt.therapist.UserID), ":sk": s("ACCESS#")}}
}

// printCalls prints the DynamoDB calls of one request for `make bench`.
func printCalls(env *apitest.Env, name string, run func()) {
	env.Counter.Reset()
	run()
	fmt.Fprintf(os.Stdout, "CALLS %-44s %d DynamoDB calls per request (%v)\n", name, env.Counter.Total(), env.Counter.ByOperation())
}

func BenchmarkWhoCanAccessClient(b *testing.B) {
	env := apitest.New(b)
	lt := newLookupTenant(b, env, 200)
	path := "/v1/clients/" + lt.client + "/access?limit=100"
	subject := func(b *testing.B) { allPages(b, env, lt.ten.Owner, "clients", path) }
	printCalls(env, "who can access client (200 users)", func() { allPages(b, env, lt.ten.Owner, "clients", path) })
	ratio := apitest.BenchRatio(b, rawQuery(env, clientAssignmentsQuery(env, lt)), subject)
	apitest.PrintRatio("who can access client (all pages) vs raw Query", ratio, 1.5)

	// The same client once the tenant has 2,000 employees: the time should stay flat.
	big := newLookupTenant(b, env, 200)
	big.addEmployees(b, env, 1800)
	bigPath := "/v1/clients/" + big.client + "/access?limit=100"
	printCalls(env, "who can access client (2,000 users)", func() { allPages(b, env, big.ten.Owner, "clients", bigPath) })
	growth := apitest.BenchRatio(b, subject, func(b *testing.B) { allPages(b, env, big.ten.Owner, "clients", bigPath) })
	apitest.PrintRatio("who can access, 2,000 vs 200 users", growth, 1.2)
}

func BenchmarkClientsOfUser(b *testing.B) {
	env := apitest.New(b)
	lt := newLookupTenant(b, env, 200)
	path := "/v1/users/" + lt.therapist.UserID + "/clients?limit=100"
	subject := func(b *testing.B) { allPages(b, env, lt.therapist, "clients", path) }
	printCalls(env, "clients of a user (30 clients)", func() { allPages(b, env, lt.therapist, "clients", path) })
	ratio := apitest.BenchRatio(b, rawQuery(env, userRelationsQuery(env, lt)), subject)
	apitest.PrintRatio("clients of a user (all pages) vs raw Query", ratio, 1.5)
}

// BenchmarkAuthorizeVsItsReads: POST /v1/authorize on a client is one BatchGetItem (the caller,
// the group set, the client and the user's assignment, grant and client administration there);
// the baseline is that same BatchGetItem, consistent, sent raw.
func BenchmarkAuthorizeVsItsReads(b *testing.B) {
	env := apitest.New(b)
	u, c := ownScopeTherapist(b, env)
	pk := "TENANT#" + u.TenantID
	var keys []map[string]types.AttributeValue
	for _, sk := range []string{"USER#" + u.UserID, "GROUPSET", "CLIENT#" + c, "ACCESS#" + c + "#" + u.UserID,
		"PROGRAMS#" + c + "#" + u.UserID, "CLIENTADMIN#" + c + "#" + u.UserID} {
		keys = append(keys, map[string]types.AttributeValue{"PK": s(pk), "SK": s(sk)})
	}
	in := &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{
		env.Config.TableName: {Keys: keys, ConsistentRead: aws.Bool(true)}}}
	raw := func(b *testing.B) {
		if _, err := env.App.Dynamo.BatchGetItem(context.Background(), in); err != nil {
			b.Fatal(err)
		}
	}
	ev := u.Event(b, "POST", "/v1/authorize", map[string]any{"userId": u.UserID, "action": "edit", "area": "clients", "clientId": c})
	h := env.App.API(httpapi.Me)
	printCalls(env, "POST /v1/authorize (client)", func() { h(context.Background(), ev) })
	ratio := apitest.BenchRatio(b, raw, func(b *testing.B) {
		if res, err := h(context.Background(), ev); err != nil || res.StatusCode != 200 || !strings.Contains(res.Body, `"allowed":true`) {
			b.Fatalf("status %d: %v %s", res.StatusCode, err, res.Body)
		}
	})
	apitest.PrintRatio("authorize vs its own DynamoDB reads", ratio, 1.2)
}

// policyTenant makes a tenant with the therapist template's group and n signed-up clients under
// the new-client policy at level; it returns the tenant and the group's id.
func policyTenant(t *testing.T, env *apitest.Env, level string, n int) (*apitest.Tenant, string) {
	t.Helper()
	ten := env.NewTenant(t, true, "therapist")
	setPolicy(t, ten.Owner, level)
	for range n {
		createClient(t, ten.Owner, "signup")
	}
	groups := ten.Owner.Must(t, "GET", "/v1/groups", nil, 200).Map(t)["items"].([]any)
	return ten, groups[0].(map[string]any)["id"].(string)
}

// TestClientsOfUserOutsideThePolicy: the page is read on the chance that the new-client policy
// applies; for a user it does not apply to, the policy clients must neither show nor leave
// empty pages behind.
func TestClientsOfUserOutsideThePolicy(t *testing.T) {
	env := apitest.New(t)
	ten, therapistGroup := policyTenant(t, env, "edit", 3)
	owner := ten.Owner
	therapist := owner.CreateUser(t, map[string]any{"groupIds": []string{therapistGroup}})
	outsider := owner.CreateUser(t, map[string]any{"groupIds": []string{}})
	if n := allPages(t, env, owner, "clients", "/v1/users/"+therapist+"/clients?limit=1"); n != 3 {
		t.Errorf("the therapist opens %d policy clients, want 3", n)
	}
	res := owner.Must(t, "GET", "/v1/users/"+outsider+"/clients?limit=1", nil, 200).Map(t)
	if items := res["items"].([]any); len(items) != 0 || res["nextCursor"] != nil {
		t.Errorf("a user without client rights: %v, want no items and no cursor", res)
	}
}

// TestLookupsJudgeTheTokenFirst: the reverse look-ups read their principal with their data, yet
// answer like every route: a token whose user is gone or deactivated gets 401 whatever else is
// wrong with the request, and another tenant's client or user is not found.
func TestLookupsJudgeTheTokenFirst(t *testing.T) {
	env := apitest.New(t)
	ten := env.NewTenant(t, true, "therapist")
	owner := ten.Owner
	c := createClient(t, owner, "manual")
	uid := owner.CreateUser(t, map[string]any{})
	owner.Must(t, "POST", "/v1/users/"+uid+"/deactivate", nil, 200)
	for _, who := range []*apitest.Actor{env.As(ten.ID, uid), env.As(ten.ID, "u_nosuchuser")} {
		for _, path := range []string{
			"/v1/clients/" + c + "/access", "/v1/clients/" + c + "/access?limit=0", "/v1/clients/" + c + "/access?cursor=bad",
			"/v1/clients/c_nosuchclient/access", "/v1/users/" + uid + "/clients", "/v1/users/" + uid + "/clients?limit=x",
			"/v1/users/" + uid + "/clients?cursor=bad", "/v1/users/u_nosuchuser/clients", "/v1/clients/" + strings.Repeat("c", 300) + "/access",
		} {
			who.Must(t, "GET", path, nil, 401)
		}
	}
	other := env.NewTenant(t, true)
	other.Owner.Must(t, "GET", "/v1/clients/"+c+"/access", nil, 404)
	other.Owner.Must(t, "GET", "/v1/users/"+owner.UserID+"/clients", nil, 404)
	owner.Must(t, "GET", "/v1/clients/"+c+"/access?cursor=bad", nil, 400)
}

// TestClientsOfUserInAFreshProcess: a process that has not yet seen that the tenant has policy
// clients (a cold Lambda) reads them after the principal instead of alongside it; the answer is
// the same, and once it knows, alongside.
func TestClientsOfUserInAFreshProcess(t *testing.T) {
	env := apitest.New(t)
	ten, g := policyTenant(t, env, "view", 2)
	owner := ten.Owner
	therapist := env.As(ten.ID, owner.CreateUser(t, map[string]any{"groupIds": []string{g}}))
	counter := &localstack.CallCounter{}
	fresh, err := app.New(context.Background(), env.Config, app.Options{DynamoOptions: []func(o *dynamodb.Options){counter.Option()}})
	if err != nil {
		t.Fatal(err)
	}
	h := allclients.API(fresh, "clients")
	ev := therapist.Event(t, "GET", "/v1/users/"+therapist.UserID+"/clients", nil)
	for i, wantCalls := range []int{4, 3} { // cold: principal ‖ relations, then the page again with the policy clients; warm: all at once
		counter.Reset()
		res, err := h(context.Background(), ev)
		if err != nil || res.StatusCode != 200 || strings.Count(res.Body, `"clientId"`) != 2 {
			t.Fatalf("request %d: %d %v %s, want the 2 policy clients", i+1, res.StatusCode, err, res.Body)
		}
		if got := counter.Total(); got != wantCalls {
			t.Errorf("request %d: %d DynamoDB calls (%v), want %d", i+1, got, counter.ByOperation(), wantCalls)
		}
	}
}

// TestClientsOfUserOutsideThePolicyNoEmptyPage: a user the policy does not apply to, assigned
// the first of two policy clients, gets that client on one page and no cursor to an empty one.
func TestClientsOfUserOutsideThePolicyNoEmptyPage(t *testing.T) {
	env := apitest.New(t)
	ten, _ := policyTenant(t, env, "edit", 0)
	owner := ten.Owner
	first := createClient(t, owner, "signup")
	createClient(t, owner, "signup")
	outsider := owner.CreateUser(t, map[string]any{"groupIds": []string{}})
	now := time.Now().UTC()
	if err := env.App.Store.PutAssignment(context.Background(), nil, access.Assignment{TenantID: ten.ID, ClientID: first, UserID: outsider,
		Level: access.LevelView, Source: access.AssignedManually, Version: 1, CreatedAt: now, UpdatedAt: now}, access.Meta{}); err != nil {
		t.Fatal(err)
	}
	res := owner.Must(t, "GET", "/v1/users/"+outsider+"/clients?limit=1", nil, 200).Map(t)
	if items := res["items"].([]any); len(items) != 1 || res["nextCursor"] != nil {
		t.Errorf("the outsider's clients: %v, want the assigned client and no cursor", res)
	}
}
