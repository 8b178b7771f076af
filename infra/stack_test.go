package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/aws-cdk-go/awscdk/v2/cxapi"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/tilgang/tilgang/shared/access"
	"github.com/tilgang/tilgang/shared/dynamo"
	"github.com/tilgang/tilgang/shared/eventbus"
	"github.com/tilgang/tilgang/shared/jobworker"
	"github.com/tilgang/tilgang/shared/metrics"
	"github.com/tilgang/tilgang/shared/routes"
)

// TestMain stops the jsii Node.js child process once all tests have run.
func TestMain(m *testing.M) {
	code := m.Run()
	jsii.Close()
	os.Exit(code)
}

// synthesized is the stack built once for all tests, with the context of ../cdk.json, so the
// tests check the template `cdk synth` and `cdk deploy` produce.
type synthesized struct {
	stack    *TilgangStack
	template assertions.Template
	// nag holds the cdk-nag findings (errors and warnings) left unsuppressed, as "rule at path".
	nag     []string
	context map[string]interface{}
	// resources is the template's Resources section.
	resources map[string]resource
	outputs   map[string]any
}

type resource struct {
	Type                string         `json:"Type"`
	Properties          map[string]any `json:"Properties"`
	DeletionPolicy      string         `json:"DeletionPolicy"`
	UpdateReplacePolicy string         `json:"UpdateReplacePolicy"`
}

var (
	synthOnce sync.Once
	synthRes  *synthesized
	synthErr  error
)

func synth(t *testing.T) *synthesized {
	t.Helper()
	synthOnce.Do(func() { synthRes, synthErr = build() })
	if synthErr != nil {
		t.Fatalf("synthesize stack: %v", synthErr)
	}
	return synthRes
}

// build synthesizes the stack. jsii reports construct errors as panics: turn them into errors.
func build() (res *synthesized, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	ctx, err := cdkContext(filepath.Join("..", "cdk.json"))
	if err != nil {
		return nil, err
	}
	assets, err := writeStubAssets()
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(assets)
	app := awscdk.NewApp(&awscdk.AppProps{Context: &ctx})
	stack, err := NewTilgangStack(app, "TilgangStack", &TilgangStackProps{AssetDir: assets})
	if err != nil {
		return nil, err
	}
	// cdk-nag's packs run as aspects during synthesis and report findings as annotations.
	for _, pack := range []awscdk.IAspect{
		cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Reports: jsii.Bool(false), Verbose: jsii.Bool(false)}),
		cdknag.NewServerlessChecks(&cdknag.NagPackProps{Reports: jsii.Bool(false), Verbose: jsii.Bool(false)}),
	} {
		awscdk.Aspects_Of(app).Add(pack, nil)
	}
	tmpl := assertions.Template_FromStack(stack.Stack, nil)
	annotations := assertions.Annotations_FromStack(stack.Stack)
	var findings []string
	anything := assertions.Match_StringLikeRegexp(jsii.String(".*"))
	for _, msgs := range [][]*cxapi.SynthesisMessage{
		*annotations.FindError(jsii.String("*"), anything),
		*annotations.FindWarning(jsii.String("*"), anything),
	} {
		for _, m := range msgs {
			findings = append(findings, fmt.Sprintf("%v at %s", m.Entry.Data, *m.Id))
		}
	}

	raw, err := json.Marshal(tmpl.ToJSON())
	if err != nil {
		return nil, err
	}
	var doc struct {
		Resources map[string]resource `json:"Resources"`
		Outputs   map[string]any      `json:"Outputs"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, err
	}
	return &synthesized{stack: stack, template: tmpl, nag: findings, context: ctx, resources: doc.Resources, outputs: doc.Outputs}, nil
}

// cdkContext reads the "context" object of cdk.json.
func cdkContext(path string) (map[string]interface{}, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var cfg struct {
		Context map[string]interface{} `json:"context"`
	}
	if err := json.Unmarshal(b, &cfg); err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	if len(cfg.Context) == 0 {
		return nil, fmt.Errorf("%s has no context", path)
	}
	return cfg.Context, nil
}

func (s *synthesized) functionID(name string) string {
	fn := s.stack.Functions[name]
	return *s.stack.GetLogicalId(fn.Node().DefaultChild().(awscdk.CfnElement))
}

func (s *synthesized) roleID(name string) string {
	role := s.stack.Functions[name].Role()
	return *s.stack.GetLogicalId(role.Node().DefaultChild().(awscdk.CfnElement))
}

func (s *synthesized) id(c awscdk.CfnElement) string { return *s.stack.GetLogicalId(c) }

func (s *synthesized) ofType(typ string) map[string]resource {
	out := map[string]resource{}
	for id, r := range s.resources {
		if r.Type == typ {
			out[id] = r
		}
	}
	return out
}

// assertTemplate runs a CDK assertion, which panics on failure, and reports it as a test error.
func assertTemplate(t *testing.T, what string, assert func()) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%s: %v", what, r)
		}
	}()
	assert()
}

// getAtt is the template form of {"Fn::GetAtt": [id, attr]}.
func getAtt(id, attr string) any { return map[string]any{"Fn::GetAtt": []any{id, attr}} }

func ref(id string) any { return map[string]any{"Ref": id} }

func TestEveryRouteIsIntegratedWithItsFunction(t *testing.T) {
	s := synth(t)
	apiRoutes := s.ofType("AWS::ApiGatewayV2::Route")
	integrations := s.ofType("AWS::ApiGatewayV2::Integration")
	authorizers := s.ofType("AWS::ApiGatewayV2::Authorizer")

	byKey := map[string]resource{}
	for id, r := range apiRoutes {
		key, _ := r.Properties["RouteKey"].(string)
		if _, dup := byKey[key]; dup {
			t.Errorf("route key %q declared twice (second: %s)", key, id)
		}
		byKey[key] = r
	}
	// The public routes of the console function are checked in console_test.go, the SCIM routes
	// in scim_test.go.
	if got, want := len(apiRoutes), len(routes.All)+len(routes.Public)+len(routes.SCIM); got != want {
		t.Errorf("template has %d routes, routes.All, routes.Public and routes.SCIM have %d", got, want)
	}

	for _, rt := range routes.All {
		r, ok := byKey[rt.Key()]
		if !ok {
			t.Errorf("route %q missing from the template", rt.Key())
			continue
		}
		if got := r.Properties["AuthorizationType"]; got != "JWT" {
			t.Errorf("route %q: AuthorizationType = %v, want JWT", rt.Key(), got)
		}
		authID := refID(r.Properties["AuthorizerId"])
		if _, ok := authorizers[authID]; !ok {
			t.Errorf("route %q: AuthorizerId %v is not an authorizer of the template", rt.Key(), r.Properties["AuthorizerId"])
		}
		integrationID := targetIntegration(r.Properties["Target"])
		integration, ok := integrations[integrationID]
		if !ok {
			t.Errorf("route %q: target %v is not an integration of the template", rt.Key(), r.Properties["Target"])
			continue
		}
		want := getAtt(s.functionID(rt.Function), "Arn")
		if got := integration.Properties["IntegrationUri"]; !reflect.DeepEqual(got, want) {
			t.Errorf("route %q: integration URI = %v, want function %q (%v)", rt.Key(), got, rt.Function, want)
		}
		if got := integration.Properties["PayloadFormatVersion"]; got != "2.0" {
			t.Errorf("route %q: payload format = %v, want 2.0", rt.Key(), got)
		}
	}
}

// targetIntegration extracts X from {"Fn::Join": ["", ["integrations/", {"Ref": X}]]}.
func targetIntegration(target any) string {
	join, _ := target.(map[string]any)["Fn::Join"].([]any)
	if len(join) != 2 {
		return ""
	}
	parts, _ := join[1].([]any)
	if len(parts) != 2 || parts[0] != "integrations/" {
		return ""
	}
	return refID(parts[1])
}

func refID(v any) string {
	m, _ := v.(map[string]any)
	id, _ := m["Ref"].(string)
	return id
}

func TestAuthorizerIsCognitoJWT(t *testing.T) {
	s := synth(t)
	poolID := s.id(s.stack.UserPool.Node().DefaultChild().(awscdk.CfnElement))
	clientID := s.id(s.stack.Client.Node().DefaultChild().(awscdk.CfnElement))

	assertTemplate(t, "JWT authorizer", func() {
		s.template.HasResourceProperties(jsii.String("AWS::ApiGatewayV2::Authorizer"), map[string]any{
			"AuthorizerType": "JWT",
			"IdentitySource": []any{"$request.header.Authorization"},
			"JwtConfiguration": map[string]any{
				"Audience": []any{ref(clientID)},
				"Issuer":   getAtt(poolID, "ProviderURL"),
			},
		})
	})
	assertTemplate(t, "user pool", func() {
		s.template.HasResourceProperties(jsii.String("AWS::Cognito::UserPool"), map[string]any{
			"AdminCreateUserConfig": map[string]any{"AllowAdminCreateUserOnly": true},
			// The adapter's username is the user id, which the API reads from cognito:username.
			"AliasAttributes":    []any{"email"},
			"UsernameAttributes": assertions.Match_Absent(),
			"Schema": assertions.Match_ArrayWith(&[]any{assertions.Match_ObjectLike(&map[string]any{
				"Name": "tenant_id", "AttributeDataType": "String", "Mutable": false,
			})}),
		})
	})
	assertTemplate(t, "app client reads custom:tenant_id", func() {
		s.template.HasResourceProperties(jsii.String("AWS::Cognito::UserPoolClient"), map[string]any{
			"ReadAttributes":  assertions.Match_ArrayWith(&[]any{"custom:tenant_id"}),
			"WriteAttributes": assertions.Match_Not(assertions.Match_ArrayWith(&[]any{"custom:tenant_id"})),
			"GenerateSecret":  false,
		})
	})
}

func TestCORSAllowsTheWebOriginFromContext(t *testing.T) {
	s := synth(t)
	origin, ok := s.context[ctxWebOrigin].(string)
	if !ok || origin == "" {
		t.Fatalf("cdk.json has no %q context value", ctxWebOrigin)
	}
	for id, api := range s.ofType("AWS::ApiGatewayV2::Api") {
		cors, _ := api.Properties["CorsConfiguration"].(map[string]any)
		if got, want := cors["AllowOrigins"], []any{origin}; !reflect.DeepEqual(got, want) {
			t.Errorf("%s: AllowOrigins = %v, want %v", id, got, want)
		}
	}
}

func TestTableMatchesTheStoreDefinition(t *testing.T) {
	s := synth(t)
	tables := s.ofType("AWS::DynamoDB::Table")
	if len(tables) != 1 {
		t.Fatalf("got %d tables, want 1", len(tables))
	}
	def := dynamo.CreateTableInput("tilgang")
	keySchema := func(ks []types.KeySchemaElement) []any {
		var out []any
		for _, k := range ks {
			out = append(out, map[string]any{"AttributeName": *k.AttributeName, "KeyType": string(k.KeyType)})
		}
		return out
	}
	var wantGSIs []any
	for _, g := range def.GlobalSecondaryIndexes {
		wantGSIs = append(wantGSIs, map[string]any{
			"IndexName":  *g.IndexName,
			"KeySchema":  keySchema(g.KeySchema),
			"Projection": map[string]any{"ProjectionType": "ALL"},
		})
	}
	var wantAttrs []any
	for _, a := range def.AttributeDefinitions {
		wantAttrs = append(wantAttrs, map[string]any{"AttributeName": *a.AttributeName, "AttributeType": string(a.AttributeType)})
	}
	for id, tbl := range tables {
		p := tbl.Properties
		checks := []struct {
			name      string
			got, want any
		}{
			{"KeySchema", p["KeySchema"], keySchema(def.KeySchema)},
			{"GlobalSecondaryIndexes", p["GlobalSecondaryIndexes"], wantGSIs},
			{"BillingMode", p["BillingMode"], "PAY_PER_REQUEST"},
			{"TimeToLiveSpecification", p["TimeToLiveSpecification"], map[string]any{"AttributeName": dynamo.AttrTTL, "Enabled": true}},
			{"PointInTimeRecoverySpecification", p["PointInTimeRecoverySpecification"], map[string]any{"PointInTimeRecoveryEnabled": true}},
			{"DeletionPolicy", tbl.DeletionPolicy, "Retain"},
			{"UpdateReplacePolicy", tbl.UpdateReplacePolicy, "Retain"},
		}
		for _, c := range checks {
			if !reflect.DeepEqual(c.got, c.want) {
				t.Errorf("%s %s = %v, want %v", id, c.name, c.got, c.want)
			}
		}
		if got := p["AttributeDefinitions"].([]any); !sameElements(got, wantAttrs) {
			t.Errorf("%s AttributeDefinitions = %v, want %v", id, got, wantAttrs)
		}
	}
}

func sameElements(a, b []any) bool {
	key := func(xs []any) []string {
		var out []string
		for _, x := range xs {
			j, _ := json.Marshal(x)
			out = append(out, string(j))
		}
		sort.Strings(out)
		return out
	}
	return slices.Equal(key(a), key(b))
}

func TestJobsQueueHasDeadLetterQueue(t *testing.T) {
	s := synth(t)
	queueID := s.id(s.stack.JobsQueue.Node().DefaultChild().(awscdk.CfnElement))
	dlqID := s.id(s.stack.DLQ.Node().DefaultChild().(awscdk.CfnElement))
	q := s.resources[queueID]

	if jobsMaxReceiveCount != jobworker.MaxReceives || jobsMaxReceiveCount < 5 {
		t.Errorf("maxReceiveCount %d, the worker's MaxReceives %d: want them equal and at least 5 (AWS's advice)", jobsMaxReceiveCount, jobworker.MaxReceives)
	}
	want := map[string]any{"deadLetterTargetArn": getAtt(dlqID, "Arn"), "maxReceiveCount": float64(jobsMaxReceiveCount)}
	if got := q.Properties["RedrivePolicy"]; !reflect.DeepEqual(got, want) {
		t.Errorf("jobs queue RedrivePolicy = %v, want %v", got, want)
	}
	worker := s.resources[s.functionID(routes.FnJobWorker)]
	timeout, _ := worker.Properties["Timeout"].(float64)
	// The worker consumes both queues: Lambda refuses an event source whose visibility timeout
	// is below the function's, and AWS advises six times it.
	for name, id := range map[string]string{"jobs queue": queueID, "dead-letter queue": dlqID} {
		visibility, _ := s.resources[id].Properties["VisibilityTimeout"].(float64)
		if timeout == 0 || visibility < 6*timeout {
			t.Errorf("%s VisibilityTimeout = %v s, want at least 6 × worker timeout %v s", name, visibility, timeout)
		}
	}
}

// TestWorkerReportsBatchItemFailures: the worker consumes the jobs queue and its dead-letter
// queue, both with partial batch failures, and knows the dead-letter queue by its ARN.
func TestWorkerReportsBatchItemFailures(t *testing.T) {
	s := synth(t)
	queueID := s.id(s.stack.JobsQueue.Node().DefaultChild().(awscdk.CfnElement))
	dlqID := s.id(s.stack.DLQ.Node().DefaultChild().(awscdk.CfnElement))
	mappings := s.ofType("AWS::Lambda::EventSourceMapping")
	if len(mappings) != 2 {
		t.Fatalf("got %d event source mappings, want 2 (jobs queue and dead-letter queue)", len(mappings))
	}
	sources := map[string]bool{}
	for id, m := range mappings {
		p := m.Properties
		checks := []struct {
			name      string
			got, want any
		}{
			{"FunctionName", p["FunctionName"], ref(s.functionID(routes.FnJobWorker))},
			{"BatchSize", p["BatchSize"], float64(workerBatchSize)},
			{"FunctionResponseTypes", p["FunctionResponseTypes"], []any{"ReportBatchItemFailures"}},
		}
		for _, c := range checks {
			if !reflect.DeepEqual(c.got, c.want) {
				t.Errorf("%s %s = %v, want %v", id, c.name, c.got, c.want)
			}
		}
		j, _ := json.Marshal(p["EventSourceArn"])
		sources[string(j)] = true
	}
	for name, id := range map[string]string{"jobs queue": queueID, "dead-letter queue": dlqID} {
		if j, _ := json.Marshal(getAtt(id, "Arn")); !sources[string(j)] {
			t.Errorf("no event source mapping on the %s", name)
		}
	}
	env, _ := s.resources[s.functionID(routes.FnJobWorker)].Properties["Environment"].(map[string]any)["Variables"].(map[string]any)
	if got, want := env["JOBS_DLQ_ARN"], getAtt(dlqID, "Arn"); !reflect.DeepEqual(got, want) {
		t.Errorf("worker JOBS_DLQ_ARN = %v, want %v", got, want)
	}
}

func TestAnonymiserRunsOnASchedule(t *testing.T) {
	s := synth(t)
	schedules := s.ofType("AWS::Scheduler::Schedule")
	if len(schedules) != 2 {
		t.Fatalf("got %d schedules, want 2 (the nightly run and the outbox sweep)", len(schedules))
	}
	expressions := map[string]bool{}
	for id, sch := range schedules {
		expressions[fmt.Sprint(sch.Properties["ScheduleExpression"])] = true
		if sch.Properties["ScheduleExpression"] == OutboxSweepSchedule {
			target, _ := sch.Properties["Target"].(map[string]any)
			if input := fmt.Sprint(target["Input"]); !strings.Contains(input, access.EventOutboxSweep) {
				t.Errorf("%s input %s is not an outbox sweep", id, input)
			}
		}
		target, _ := sch.Properties["Target"].(map[string]any)
		if got, want := target["Arn"], getAtt(s.functionID(routes.FnAnonymiser), "Arn"); !reflect.DeepEqual(got, want) {
			t.Errorf("%s target = %v, want the anonymiser %v", id, got, want)
		}
		if target["RoleArn"] == nil {
			t.Errorf("%s has no target role", id)
		}
	}
	if !expressions[AnonymiserSchedule] || !expressions[OutboxSweepSchedule] {
		t.Errorf("schedule expressions %v, want %s and %s", expressions, AnonymiserSchedule, OutboxSweepSchedule)
	}
}

func TestAnonymiserContinuesThroughItsOwnEvents(t *testing.T) {
	s := synth(t)
	found := false
	for id, r := range s.ofType("AWS::Events::Rule") {
		pattern, _ := r.Properties["EventPattern"].(map[string]any)
		if !reflect.DeepEqual(pattern["detail-type"], []any{access.EventAnonymiserContinue}) {
			continue
		}
		found = true
		if !reflect.DeepEqual(pattern["source"], []any{eventbus.Source}) {
			t.Errorf("%s source = %v, want [%s]", id, pattern["source"], eventbus.Source)
		}
		targets, _ := r.Properties["Targets"].([]any)
		if len(targets) != 1 || !reflect.DeepEqual(targets[0].(map[string]any)["Arn"], getAtt(s.functionID(routes.FnAnonymiser), "Arn")) {
			t.Errorf("%s targets = %v, want the anonymiser", id, targets)
		}
	}
	if !found {
		t.Error("no rule sends anonymiser.continue events to the anonymiser")
	}
}

func TestFunctions(t *testing.T) {
	s := synth(t)
	fns := s.ofType("AWS::Lambda::Function")
	if got, want := len(fns), len(deployedFunctions()); got != want {
		t.Errorf("got %d functions, want %d (one per API function, the workers and the console)", got, want)
	}
	logGroups := s.ofType("AWS::Logs::LogGroup")
	for _, name := range allFunctions() {
		fn, ok := fns[s.functionID(name)]
		if !ok {
			t.Errorf("function %q missing", name)
			continue
		}
		p := fn.Properties
		if p["Runtime"] != "provided.al2023" || p["Handler"] != "bootstrap" || !reflect.DeepEqual(p["Architectures"], []any{"arm64"}) {
			t.Errorf("%s: runtime %v, handler %v, architectures %v; want provided.al2023, bootstrap, [arm64]",
				name, p["Runtime"], p["Handler"], p["Architectures"])
		}
		env, _ := p["Environment"].(map[string]any)["Variables"].(map[string]any)
		for _, k := range []string{"TABLE_NAME", "JOBS_QUEUE_URL", "EVENT_BUS_NAME", "USER_POOL_ID", "NOTIFICATION_RETENTION_DAYS", "EXPIRY_NOTICE_DAYS"} {
			if env[k] == nil {
				t.Errorf("%s: environment variable %s not set", name, k)
			}
		}
		lg, _ := p["LoggingConfig"].(map[string]any)
		if lg["LogFormat"] != "JSON" {
			t.Errorf("%s: log format %v, want JSON (the lambdacontext log handler writes JSON only then)", name, lg["LogFormat"])
		}
		group, ok := logGroups[refID(lg["LogGroup"])]
		if !ok {
			t.Errorf("%s: no log group of its own (LoggingConfig %v)", name, p["LoggingConfig"])
		} else if group.Properties["RetentionInDays"] == nil {
			t.Errorf("%s: log group keeps logs forever", name)
		}
	}
}

func TestAlarms(t *testing.T) {
	s := synth(t)
	alarms := s.ofType("AWS::CloudWatch::Alarm")
	dlqID := s.id(s.stack.DLQ.Node().DefaultChild().(awscdk.CfnElement))
	errorAlarms := map[string]bool{}
	dlqAlarm := false
	for _, a := range alarms {
		p := a.Properties
		if p["ComparisonOperator"] != "GreaterThanThreshold" {
			continue
		}
		dims, _ := p["Dimensions"].([]any)
		for _, d := range dims {
			d, _ := d.(map[string]any)
			switch {
			// The worker drains the dead-letter queue itself, so the alarm is on a message it
			// cannot record: one that stays there.
			case p["MetricName"] == "ApproximateAgeOfOldestMessage" && p["Threshold"] == float64(dlqAgeAlarmSeconds) &&
				d["Name"] == "QueueName" && reflect.DeepEqual(d["Value"], getAtt(dlqID, "QueueName")):
				dlqAlarm = true
			case p["MetricName"] == "Errors" && p["Threshold"] == float64(0) && d["Name"] == "FunctionName":
				errorAlarms[refID(d["Value"])] = true
			}
		}
	}
	archiveID := s.id(s.stack.Archive.Node().DefaultChild().(awscdk.CfnElement))
	parkedAlarm := false
	for _, a := range alarms {
		p := a.Properties
		dims, _ := p["Dimensions"].([]any)
		for _, d := range dims {
			d, _ := d.(map[string]any)
			if p["MetricName"] == "ApproximateNumberOfMessagesVisible" && p["Threshold"] == float64(0) &&
				p["ComparisonOperator"] == "GreaterThanThreshold" && d["Name"] == "QueueName" && reflect.DeepEqual(d["Value"], getAtt(archiveID, "QueueName")) {
				parkedAlarm = true
			}
		}
	}
	if !parkedAlarm {
		t.Error("no alarm on a poison message parked in the archive queue")
	}
	if !dlqAlarm {
		t.Errorf("no alarm on a message older than %d s in the jobs dead-letter queue", dlqAgeAlarmSeconds)
	}
	for _, name := range allFunctions() {
		if !errorAlarms[s.functionID(name)] {
			t.Errorf("no Errors > 0 alarm for function %q", name)
		}
	}
}

func TestOutputs(t *testing.T) {
	s := synth(t)
	for _, name := range []string{"ApiUrl", "UserPoolId", "UserPoolClientId", "TableName", "JobsQueueUrl"} {
		if _, ok := s.outputs[name]; !ok {
			t.Errorf("output %s missing", name)
		}
	}
}

func TestGrantsCoverEveryFunction(t *testing.T) {
	want := allFunctions()
	for _, fn := range want {
		if _, ok := grants[fn]; !ok {
			t.Errorf("function %q has no grants entry", fn)
		}
	}
	for fn := range grants {
		if !slices.Contains(want, fn) {
			t.Errorf("grants entry %q is not a function of the route table or a worker", fn)
		}
	}
}

// xrayActions are what active tracing grants; X-Ray accepts only Resource "*" for them.
var xrayActions = []string{"xray:PutTelemetryRecords", "xray:PutTraceSegments"}

func onlyXRay(actions []string) bool {
	for _, a := range actions {
		if !slices.Contains(xrayActions, a) {
			return false
		}
	}
	return len(actions) > 0
}

// TestNoWildcardPermissions walks every IAM policy of the template: no statement may allow "*"
// or a whole-service wildcard such as "dynamodb:*", or apply to Resource "*" (but the X-Ray
// actions of active tracing, which take no resource).
func TestNoWildcardPermissions(t *testing.T) {
	s := synth(t)
	policies := s.ofType("AWS::IAM::Policy")
	if len(policies) == 0 {
		t.Fatal("no IAM policies in the template")
	}
	for id, p := range policies {
		for i, st := range statements(p) {
			for _, a := range strs(st["Action"]) {
				if a == "*" || strings.HasSuffix(a, ":*") {
					t.Errorf("%s statement %d allows action %q", id, i, a)
				}
			}
			for _, r := range strs(st["Resource"]) {
				if r == "*" && !onlyXRay(strs(st["Action"])) {
					t.Errorf("%s statement %d (actions %v) applies to Resource \"*\"", id, i, st["Action"])
				}
			}
			if st["NotAction"] != nil || st["NotResource"] != nil {
				t.Errorf("%s statement %d uses NotAction/NotResource", id, i)
			}
		}
	}
	for id, r := range s.ofType("AWS::IAM::Role") {
		if r.Properties["ManagedPolicyArns"] != nil {
			t.Errorf("role %s attaches managed policies %v; grant explicitly instead", id, r.Properties["ManagedPolicyArns"])
		}
	}
}

// TestEachFunctionHasOnlyItsGrants compares the actions of each function's role with its entry
// of the grants table.
func TestEachFunctionHasOnlyItsGrants(t *testing.T) {
	s := synth(t)
	byRole := map[string][]string{}
	for _, p := range s.ofType("AWS::IAM::Policy") {
		roles, _ := p.Properties["Roles"].([]any)
		for _, r := range roles {
			for _, st := range statements(p) {
				byRole[refID(r)] = append(byRole[refID(r)], strs(st["Action"])...)
			}
		}
	}
	for _, name := range allFunctions() {
		g := grants[name]
		want := []string{"logs:CreateLogStream", "logs:PutLogEvents"}
		want = append(want, xrayActions...)
		for _, st := range g.Statements() {
			want = append(want, st.Actions...)
		}
		switch name {
		case routes.FnJobWorker:
			// Granted by the SQS event source.
			want = append(want, "sqs:ReceiveMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueUrl",
				"sqs:DeleteMessage", "sqs:GetQueueAttributes")
		case routes.FnAnonymiser:
			// Granted by the on-failure destination, on the AnonymiserFailures queue.
			want = append(want, "sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl")
		}
		got := dedupe(byRole[s.roleID(name)])
		want = dedupe(want)
		if !slices.Equal(got, want) {
			t.Errorf("function %q may do\n  %v\nwant\n  %v", name, got, want)
		}
	}
}

func statements(p resource) []map[string]any {
	doc, _ := p.Properties["PolicyDocument"].(map[string]any)
	var out []map[string]any
	switch st := doc["Statement"].(type) {
	case []any:
		for _, s := range st {
			if m, ok := s.(map[string]any); ok {
				out = append(out, m)
			}
		}
	case map[string]any:
		out = append(out, st)
	}
	return out
}

// strs returns the literal strings of an Action or Resource value (a string or a list);
// intrinsic functions such as Fn::GetAtt are not literals and are skipped.
func strs(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, x := range v {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func dedupe(xs []string) []string {
	out := slices.Clone(xs)
	slices.Sort(out)
	return slices.Compact(out)
}

// TestCognitoActionsAreThoseTheAdapterCalls pins, written out rather than derived from the
// grants table, the user-pool actions each function's role allows: the users function drives
// the whole lifecycle through shared/cognito (invite, disable and sign out, enable, delete,
// email change); so does the anonymiser, which deletes anonymised users' logins and, as the
// outbox sweep, applies whatever login change a users request could not; no other function
// touches the pool.
func TestCognitoActionsAreThoseTheAdapterCalls(t *testing.T) {
	want := map[string][]string{
		routes.FnUsers: {"cognito-idp:AdminCreateUser", "cognito-idp:AdminDeleteUser", "cognito-idp:AdminDisableUser",
			"cognito-idp:AdminEnableUser", "cognito-idp:AdminUpdateUserAttributes", "cognito-idp:AdminUserGlobalSignOut"},
		routes.FnSCIM: {"cognito-idp:AdminCreateUser", "cognito-idp:AdminDisableUser",
			"cognito-idp:AdminEnableUser", "cognito-idp:AdminUpdateUserAttributes", "cognito-idp:AdminUserGlobalSignOut"},
		routes.FnAnonymiser: {"cognito-idp:AdminCreateUser", "cognito-idp:AdminDeleteUser", "cognito-idp:AdminDisableUser",
			"cognito-idp:AdminEnableUser", "cognito-idp:AdminUpdateUserAttributes", "cognito-idp:AdminUserGlobalSignOut"},
	}
	s := synth(t)
	byRole := map[string][]string{}
	for _, p := range s.ofType("AWS::IAM::Policy") {
		roles, _ := p.Properties["Roles"].([]any)
		for _, r := range roles {
			for _, st := range statements(p) {
				for _, a := range strs(st["Action"]) {
					if strings.HasPrefix(a, "cognito-idp:") {
						byRole[refID(r)] = append(byRole[refID(r)], a)
					}
				}
			}
		}
	}
	for _, name := range allFunctions() {
		got := dedupe(byRole[s.roleID(name)])
		if w := dedupe(want[name]); !slices.Equal(got, w) {
			t.Errorf("function %q may call\n  %v\nwant\n  %v", name, got, w)
		}
	}
}

// TestWorkerQueuePermissions: the worker receives and deletes on both queues it consumes and
// sends (expanded chunks) to the jobs queue only; the jobs function sends its fan-outs there too.
func TestWorkerQueuePermissions(t *testing.T) {
	s := synth(t)
	queueArn, _ := json.Marshal(getAtt(s.id(s.stack.JobsQueue.Node().DefaultChild().(awscdk.CfnElement)), "Arn"))
	dlqArn, _ := json.Marshal(getAtt(s.id(s.stack.DLQ.Node().DefaultChild().(awscdk.CfnElement)), "Arn"))
	// resources[role][action] lists the resources (as JSON) the role may apply action to.
	resources := map[string]map[string][]string{}
	for _, p := range s.ofType("AWS::IAM::Policy") {
		roles, _ := p.Properties["Roles"].([]any)
		for _, r := range roles {
			role := refID(r)
			if resources[role] == nil {
				resources[role] = map[string][]string{}
			}
			for _, st := range statements(p) {
				var rs []string
				switch v := st["Resource"].(type) {
				case []any:
					for _, x := range v {
						j, _ := json.Marshal(x)
						rs = append(rs, string(j))
					}
				default:
					j, _ := json.Marshal(v)
					rs = append(rs, string(j))
				}
				for _, a := range strs(st["Action"]) {
					resources[role][a] = append(resources[role][a], rs...)
				}
			}
		}
	}
	worker := resources[s.roleID(routes.FnJobWorker)]
	for _, a := range []string{"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"} {
		if got := worker[a]; !slices.Contains(got, string(queueArn)) || !slices.Contains(got, string(dlqArn)) {
			t.Errorf("worker %s on %v, want both the jobs queue and the dead-letter queue", a, got)
		}
	}
	archiveArn, _ := json.Marshal(getAtt(s.id(s.stack.Archive.Node().DefaultChild().(awscdk.CfnElement)), "Arn"))
	if got := resources[s.roleID(routes.FnJobs)]["sqs:SendMessage"]; !slices.Equal(got, []string{string(queueArn)}) {
		t.Errorf("jobs sqs:SendMessage on %v, want the jobs queue only", got)
	}
	if got := resources[s.roleID(routes.FnJobWorker)]["sqs:SendMessage"]; !slices.Equal(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values([]string{string(queueArn), string(archiveArn)}))) {
		t.Errorf("worker sqs:SendMessage on %v, want the jobs queue and the archive of poison messages only", got)
	}
	for _, a := range []string{"sqs:ReceiveMessage", "sqs:DeleteMessage"} {
		for role, byAction := range resources {
			if slices.Contains(byAction[a], string(archiveArn)) {
				t.Errorf("role %s may %s on the archive queue; nothing consumes it", role, a)
			}
		}
	}
	if got := worker["events:PutEvents"]; len(got) > 0 {
		t.Errorf("worker may publish events on %v; it publishes none", got)
	}
	for _, name := range allFunctions() {
		got := resources[s.roleID(name)][batchWriteAction] != nil
		if want := name == routes.FnUsers || name == routes.FnAnonymiser || name == routes.FnSCIM || name == routes.FnJobs; got != want {
			t.Errorf("%s has BatchWriteItem: %v, want %v (only the functions that reach the store's deleteKeys, and jobs, whose reviews write their items in batches)", name, got, want)
		}
	}
}

// TestCDKNag runs cdk-nag's AwsSolutions and Serverless packs over the stack: every finding must
// be fixed or suppressed in the stack's code with its reason.
func TestCDKNag(t *testing.T) {
	s := synth(t)
	for _, f := range s.nag {
		t.Errorf("cdk-nag: %s", f)
	}
}

// resourceOf returns the template resource of a construct.
func (s *synthesized) resourceOf(c interface{ Node() constructs.Node }) resource {
	return s.resources[s.id(c.Node().DefaultChild().(awscdk.CfnElement))]
}

func TestEveryFunctionIsTraced(t *testing.T) {
	s := synth(t)
	for _, name := range allFunctions() {
		fn := s.resources[s.functionID(name)]
		if got, want := fn.Properties["TracingConfig"], map[string]any{"Mode": "Active"}; !reflect.DeepEqual(got, want) {
			t.Errorf("%s TracingConfig = %v, want %v", name, got, want)
		}
	}
}

func TestStageLogsAndThrottles(t *testing.T) {
	s := synth(t)
	stages := s.ofType("AWS::ApiGatewayV2::Stage")
	if len(stages) != 1 {
		t.Fatalf("got %d stages, want 1", len(stages))
	}
	logsID := s.id(s.stack.AccessLogs.Node().DefaultChild().(awscdk.CfnElement))
	for id, st := range stages {
		settings, _ := st.Properties["AccessLogSettings"].(map[string]any)
		if got, want := settings["DestinationArn"], getAtt(logsID, "Arn"); !reflect.DeepEqual(got, want) {
			t.Errorf("%s access log destination = %v, want %v", id, got, want)
		}
		var line map[string]string
		if err := json.Unmarshal([]byte(settings["Format"].(string)), &line); err != nil {
			t.Errorf("%s access log format is not JSON: %v", id, err)
		}
		for _, k := range []string{"requestId", "routeKey", "status", "latencyMs", "lambdaRequestId"} {
			if line[k] == "" {
				t.Errorf("%s access log has no %s", id, k)
			}
		}
		for k, v := range line {
			if strings.Contains(v, "identity") || strings.Contains(v, "header") || strings.Contains(v, "querystring") {
				t.Errorf("%s access log field %s = %s may hold personal data", id, k, v)
			}
		}
		routeSettings, _ := st.Properties["DefaultRouteSettings"].(map[string]any)
		if routeSettings["ThrottlingRateLimit"] != float64(defaultThrottleRate) || routeSettings["ThrottlingBurstLimit"] != float64(defaultThrottleBurst) {
			t.Errorf("%s DefaultRouteSettings = %v, want rate %d and burst %d", id, routeSettings, defaultThrottleRate, defaultThrottleBurst)
		}
	}
}

func TestLimitsAndProtection(t *testing.T) {
	s := synth(t)
	for id, m := range s.ofType("AWS::Lambda::EventSourceMapping") {
		cfg, _ := m.Properties["ScalingConfig"].(map[string]any)
		if n, _ := cfg["MaximumConcurrency"].(float64); n < minEventSourceConcurrency {
			t.Errorf("%s ScalingConfig = %v, want a MaximumConcurrency", id, cfg)
		}
	}
	if got := s.resources[s.functionID(routes.FnAnonymiser)].Properties["ReservedConcurrentExecutions"]; got != float64(defaultAnonymiserConcurrency) {
		t.Errorf("anonymiser ReservedConcurrentExecutions = %v, want %d", got, defaultAnonymiserConcurrency)
	}
	if got := s.resourceOf(s.stack.Table).Properties["DeletionProtectionEnabled"]; got != true {
		t.Errorf("table DeletionProtectionEnabled = %v, want true", got)
	}
	pool := s.resourceOf(s.stack.UserPool).Properties
	checks := []struct {
		name      string
		got, want any
	}{
		{"DeletionProtection", pool["DeletionProtection"], "ACTIVE"},
		{"MfaConfiguration", pool["MfaConfiguration"], "OPTIONAL"},
		{"EnabledMfas", pool["EnabledMfas"], []any{"SOFTWARE_TOKEN_MFA"}},
		{"UserPoolTier", pool["UserPoolTier"], "PLUS"},
		{"UserPoolAddOns", pool["UserPoolAddOns"], map[string]any{"AdvancedSecurityMode": "ENFORCED"}},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("user pool %s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

// TestContextChoices builds the stack with other context values: MFA required, the Essentials
// plan (no threat protection), no reserved concurrency; and refuses a local origin on deploy.
func TestContextChoices(t *testing.T) {
	synth(t) // the shared stack first: jsii runs one app at a time well
	build := func(extra map[string]interface{}) (res map[string]resource, err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("panic: %v", r)
			}
		}()
		ctx, err := cdkContext(filepath.Join("..", "cdk.json"))
		if err != nil {
			return nil, err
		}
		for k, v := range extra {
			ctx[k] = v
		}
		assets, err := writeStubAssets()
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(assets)
		app := awscdk.NewApp(&awscdk.AppProps{Context: &ctx})
		stack, err := NewTilgangStack(app, "TilgangStack", &TilgangStackProps{AssetDir: assets})
		if err != nil {
			return nil, err
		}
		raw, _ := json.Marshal(assertions.Template_FromStack(stack.Stack, nil).ToJSON())
		var doc struct{ Resources map[string]resource }
		err = json.Unmarshal(raw, &doc)
		return doc.Resources, err
	}

	res, err := build(map[string]interface{}{ctxMFA: "required", ctxCognitoPlan: "essentials", ctxAnonymiserConcurrency: "0"})
	if err != nil {
		t.Fatal(err)
	}
	for id, r := range res {
		switch r.Type {
		case "AWS::Cognito::UserPool":
			p := r.Properties
			if p["MfaConfiguration"] != "ON" || p["UserPoolTier"] != "ESSENTIALS" || p["UserPoolAddOns"] != nil {
				t.Errorf("%s: MFA %v, tier %v, add-ons %v; want ON, ESSENTIALS, none", id, p["MfaConfiguration"], p["UserPoolTier"], p["UserPoolAddOns"])
			}
		case "AWS::Lambda::Function":
			if r.Properties["ReservedConcurrentExecutions"] != nil {
				t.Errorf("%s reserves concurrency with anonymiserReservedConcurrency=0", id)
			}
		}
	}

	for _, origin := range []string{"http://localhost:5173", "http://127.0.0.1:3000", "http://app.example.com"} {
		if _, err := build(map[string]interface{}{ctxDeploy: "true", ctxWebOrigin: origin}); err == nil || !strings.Contains(err.Error(), "refusing to deploy") {
			t.Errorf("deploy with origin %s: err = %v, want a refusal", origin, err)
		}
	}
	if _, err := build(map[string]interface{}{ctxDeploy: "true", ctxWebOrigin: "https://app.example.com"}); err != nil {
		t.Errorf("deploy with an https origin: %v", err)
	}
	if _, err := build(map[string]interface{}{ctxMFA: "sometimes"}); err == nil {
		t.Error("mfa=sometimes was accepted")
	}
}

func TestFailurePaths(t *testing.T) {
	s := synth(t)
	arn := func(q interface{ Node() constructs.Node }) any {
		return getAtt(s.id(q.Node().DefaultChild().(awscdk.CfnElement)), "Arn")
	}
	anonymiser := s.functionID(routes.FnAnonymiser)

	configs := s.ofType("AWS::Lambda::EventInvokeConfig")
	found := false
	for id, c := range configs {
		if !reflect.DeepEqual(c.Properties["FunctionName"], ref(anonymiser)) {
			continue
		}
		found = true
		dest, _ := c.Properties["DestinationConfig"].(map[string]any)
		onFailure, _ := dest["OnFailure"].(map[string]any)
		if !reflect.DeepEqual(onFailure["Destination"], arn(s.stack.AnonymiserFailures)) {
			t.Errorf("%s on-failure destination = %v, want the AnonymiserFailures queue", id, onFailure)
		}
	}
	if !found {
		t.Error("the anonymiser has no asynchronous invocation config (on-failure destination)")
	}

	for id, sch := range s.ofType("AWS::Scheduler::Schedule") {
		target, _ := sch.Properties["Target"].(map[string]any)
		dlq, _ := target["DeadLetterConfig"].(map[string]any)
		if !reflect.DeepEqual(dlq["Arn"], arn(s.stack.ScheduleDLQ)) {
			t.Errorf("%s dead-letter config = %v, want the schedule's DLQ", id, dlq)
		}
	}
	for id, r := range s.ofType("AWS::Events::Rule") {
		targets, _ := r.Properties["Targets"].([]any)
		for _, tg := range targets {
			dlq, _ := tg.(map[string]any)["DeadLetterConfig"].(map[string]any)
			if !reflect.DeepEqual(dlq["Arn"], arn(s.stack.ContinuationDLQ)) {
				t.Errorf("%s target dead-letter config = %v, want the continuation DLQ", id, dlq)
			}
		}
	}
}

func TestOperationalAlarms(t *testing.T) {
	s := synth(t)
	alarms := s.ofType("AWS::CloudWatch::Alarm")
	has := func(what string, match func(p map[string]any) bool) {
		t.Helper()
		for _, a := range alarms {
			if match(a.Properties) {
				return
			}
		}
		t.Errorf("no alarm on %s", what)
	}
	onQueue := func(p map[string]any, metric string, q interface{ Node() constructs.Node }) bool {
		dims, _ := p["Dimensions"].([]any)
		return p["MetricName"] == metric && len(dims) == 1 &&
			reflect.DeepEqual(dims[0].(map[string]any)["Value"], getAtt(s.id(q.Node().DefaultChild().(awscdk.CfnElement)), "QueueName"))
	}
	has("API 5xx", func(p map[string]any) bool { return p["MetricName"] == "5xx" && p["Namespace"] == "AWS/ApiGateway" })
	for _, name := range allFunctions() {
		has(name+" throttles", func(p map[string]any) bool {
			dims, _ := p["Dimensions"].([]any)
			return p["MetricName"] == "Throttles" && len(dims) == 1 && reflect.DeepEqual(dims[0].(map[string]any)["Value"], ref(s.functionID(name)))
		})
	}
	has("the jobs queue's oldest message", func(p map[string]any) bool {
		return onQueue(p, "ApproximateAgeOfOldestMessage", s.stack.JobsQueue) && p["Threshold"] == float64(jobsAgeAlarmSeconds)
	})
	for name, q := range map[string]awssqs.Queue{"AnonymiserFailures": s.stack.AnonymiserFailures, "ScheduleDLQ": s.stack.ScheduleDLQ, "ContinuationDLQ": s.stack.ContinuationDLQ} {
		has("any message in "+name, func(p map[string]any) bool {
			return onQueue(p, "ApproximateNumberOfMessagesVisible", q) && p["Threshold"] == float64(0) && p["ComparisonOperator"] == "GreaterThanThreshold"
		})
	}
	has("no anonymiser sweep in 26 hours", func(p map[string]any) bool {
		period, _ := p["Period"].(float64)
		periods, _ := p["EvaluationPeriods"].(float64)
		return p["Namespace"] == metrics.Namespace && p["MetricName"] == metrics.AnonymiserSweeps &&
			p["ComparisonOperator"] == "LessThanThreshold" && p["TreatMissingData"] == "breaching" &&
			period*periods == 26*3600 && p["DatapointsToAlarm"] == periods
	})
}
