package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2authorizers"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2integrations"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscognito"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdaeventsources"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsscheduler"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsschedulertargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/tilgang/tilgang/shared/access"
	"github.com/tilgang/tilgang/shared/dynamo"
	"github.com/tilgang/tilgang/shared/eventbus"
	"github.com/tilgang/tilgang/shared/routes"
)

// Context keys read by the stack. cdk.json holds their defaults; `cdk synth -c key=value`
// overrides them.
const (
	ctxWebOrigin     = "webOrigin"
	ctxAlarmEmail    = "alarmEmail"
	ctxRetentionDays = "notificationRetentionDays"
	ctxExpiryNotice  = "expiryNoticeDays"
	// ctxDeploy is "true" when the stack is synthesized for a deployment (make deploy sets
	// it): the stack then refuses a local CORS origin.
	ctxDeploy = "deploy"

	defaultWebOrigin = "http://localhost:5173"
)

// Sizing. The worker's timeout drives the visibility timeout of both queues it consumes: AWS
// advises at least six times the function timeout so a message is not redelivered while a batch
// still runs, and a maxReceiveCount of at least 5 so that throttling or one timed-out batch does
// not send messages to the dead-letter queue untried.
const (
	apiTimeoutSeconds        = 10 // below the HTTP API's 30 s integration limit
	workerTimeoutSeconds     = 60
	anonymiserTimeoutSeconds = 300
	jobsMaxReceiveCount      = 5 // jobworker.MaxReceives
	workerBatchSize          = 10
	// dlqAgeAlarmSeconds: the worker records a dead-lettered message within seconds; one that
	// is older has failed there at least twice (once per visibility timeout) and needs a person.
	dlqAgeAlarmSeconds = 15 * 60

	// AnonymiserSchedule runs the GDPR anonymisation nightly at 02:00 UTC.
	AnonymiserSchedule = "cron(0 2 * * ? *)"
	// OutboxSweepSchedule has the anonymiser apply what writes still owe outside the table
	// (login changes, events) every few minutes, so a failed one waits minutes, not a night.
	OutboxSweepSchedule = "rate(5 minutes)"
)

// TilgangStackProps configures the stack.
type TilgangStackProps struct {
	awscdk.StackProps
	// AssetDir holds one folder per function, each with its `bootstrap` binary
	// (the Makefile's build/<fn>/bootstrap). Tests point it at stub files.
	AssetDir string
}

// TilgangStack is the whole deployment: HTTP API, functions, table, queues, bus, schedule and
// user pool. Its fields let tests map CloudFormation logical ids back to constructs.
type TilgangStack struct {
	awscdk.Stack
	Table     awsdynamodb.Table
	JobsQueue awssqs.Queue
	DLQ       awssqs.Queue
	Bus       awsevents.EventBus
	UserPool  awscognito.UserPool
	Client    awscognito.UserPoolClient
	API       awsapigatewayv2.HttpApi
	// Functions maps each function name of the route table (and the workers) to its Lambda.
	Functions map[string]awslambda.Function
	// Archive holds poison job messages the worker parked: nothing consumes it, an alarm
	// watches it.
	Archive awssqs.Queue
	// AnonymiserFailures receives the anonymiser's failed asynchronous invocations (its
	// on-failure destination); ScheduleDLQ and ContinuationDLQ the schedules' (nightly run,
	// outbox sweep) and the continuation rule's events that could not be delivered to it.
	AnonymiserFailures awssqs.Queue
	ScheduleDLQ        awssqs.Queue
	ContinuationDLQ    awssqs.Queue
	// AccessLogs is the HTTP API stage's access log group (one JSON line per request).
	AccessLogs awslogs.LogGroup
	// Alarms is the topic every alarm notifies.
	Alarms awssns.Topic
}

// allFunctions lists the API functions in route-table order, then the workers.
func allFunctions() []string {
	return append(routes.APIFunctions(), routes.FnSCIM, routes.FnJobWorker, routes.FnAnonymiser)
}

// NewTilgangStack builds the stack. It fails when a function has no entry in the grants table,
// so a function added to the route table cannot ship without an explicit IAM decision.
func NewTilgangStack(scope constructs.Construct, id string, props *TilgangStackProps) (*TilgangStack, error) {
	if props == nil || props.AssetDir == "" {
		return nil, fmt.Errorf("tilgang stack: AssetDir is required")
	}
	var missing []string
	for _, fn := range allFunctions() {
		if _, ok := grants[fn]; !ok {
			return nil, fmt.Errorf("tilgang stack: function %q has no entry in the grants table", fn)
		}
		if _, err := os.Stat(filepath.Join(props.AssetDir, fn, "bootstrap")); err != nil {
			missing = append(missing, fn)
		}
	}
	if len(missing) > 0 {
		// Code_FromAsset would panic with a less helpful message.
		return nil, fmt.Errorf("tilgang stack: no bootstrap binary under %s for %s: run make build, or synthesize with -c stubAssets=true",
			props.AssetDir, strings.Join(missing, ", "))
	}

	stack := awscdk.NewStack(scope, jsii.String(id), &props.StackProps)
	s := &TilgangStack{Stack: stack, Functions: map[string]awslambda.Function{}}

	webOrigin := contextString(stack, ctxWebOrigin, defaultWebOrigin)
	retentionDays := contextString(stack, ctxRetentionDays, "30")
	if n, err := strconv.Atoi(retentionDays); err != nil || n < 1 {
		return nil, fmt.Errorf("tilgang stack: context %s must be a positive number of days, got %q", ctxRetentionDays, retentionDays)
	}
	noticeDays := contextString(stack, ctxExpiryNotice, "3")
	if n, err := strconv.Atoi(noticeDays); err != nil || n < 0 || n > 365 {
		return nil, fmt.Errorf("tilgang stack: context %s must be a number of days from 0 to 365, got %q", ctxExpiryNotice, noticeDays)
	}

	limits, err := readLimits(stack)
	if err != nil {
		return nil, err
	}
	if contextString(stack, ctxDeploy, "") == "true" && isLocalOrigin(webOrigin) {
		return nil, fmt.Errorf("tilgang stack: refusing to deploy with the CORS origin %q (local or not https): pass -c %s=https://your.web.app", webOrigin, ctxWebOrigin)
	}

	s.Table = newTable(stack)

	// Jobs queue and its dead-letter queue, which the worker consumes too.
	s.DLQ = awssqs.NewQueue(stack, jsii.String("JobsDLQ"), &awssqs.QueueProps{
		RetentionPeriod:   awscdk.Duration_Days(jsii.Number(14)),
		VisibilityTimeout: awscdk.Duration_Seconds(jsii.Number(6 * workerTimeoutSeconds)),
		Encryption:        awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:        jsii.Bool(true),
	})
	s.JobsQueue = awssqs.NewQueue(stack, jsii.String("JobsQueue"), &awssqs.QueueProps{
		VisibilityTimeout: awscdk.Duration_Seconds(jsii.Number(6 * workerTimeoutSeconds)),
		Encryption:        awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:        jsii.Bool(true),
		DeadLetterQueue: &awssqs.DeadLetterQueue{
			Queue:           s.DLQ,
			MaxReceiveCount: jsii.Number(jobsMaxReceiveCount),
		},
	})

	// Poison messages (unreadable, of an unknown kind or job) are parked here by the worker,
	// once, instead of failing on every receive; nothing consumes it and an alarm fires on the
	// first one, so a person looks within its 14 days.
	s.Archive = awssqs.NewQueue(stack, jsii.String("JobsArchive"), &awssqs.QueueProps{
		RetentionPeriod: awscdk.Duration_Days(jsii.Number(14)),
		Encryption:      awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:      jsii.Bool(true),
	})

	s.AnonymiserFailures = newFailureQueue(stack, "AnonymiserFailures")
	s.ScheduleDLQ = newFailureQueue(stack, "AnonymiserScheduleDLQ")
	s.ContinuationDLQ = newFailureQueue(stack, "AnonymiserContinuationDLQ")

	// Domain events (user deactivated, anonymised, job completed, ...).
	s.Bus = awsevents.NewEventBus(stack, jsii.String("EventBus"), nil)

	if s.UserPool, s.Client, err = newUserPool(stack); err != nil {
		return nil, err
	}

	env := map[string]*string{
		"TABLE_NAME":                  s.Table.TableName(),
		"JOBS_QUEUE_URL":              s.JobsQueue.QueueUrl(),
		"JOBS_DLQ_ARN":                s.DLQ.QueueArn(),
		"JOBS_ARCHIVE_QUEUE_URL":      s.Archive.QueueUrl(),
		"EVENT_BUS_NAME":              s.Bus.EventBusName(),
		"USER_POOL_ID":                s.UserPool.UserPoolId(),
		"NOTIFICATION_RETENTION_DAYS": jsii.String(retentionDays),
		"EXPIRY_NOTICE_DAYS":          jsii.String(noticeDays),
	}

	for _, name := range allFunctions() {
		memory, timeout := 256, apiTimeoutSeconds
		switch name {
		case routes.FnJobWorker:
			memory, timeout = 512, workerTimeoutSeconds
		case routes.FnAnonymiser:
			memory, timeout = 512, anonymiserTimeoutSeconds
		}
		s.Functions[name] = s.newFunction(name, props.AssetDir, env, memory, timeout)
	}
	s.protectAnonymiser(limits)

	// The worker consumes the jobs queue and its dead-letter queue (it tells them apart by the
	// records' event source ARN, JOBS_DLQ_ARN) and reports failed messages one by one.
	// MaxConcurrency bounds the worker's parallel invocations per queue: the parts of one job
	// contend on the job's counter item, so more workers would mostly retry each other.
	for _, src := range []struct {
		queue       awssqs.Queue
		concurrency int
	}{{s.JobsQueue, limits.workerConcurrency}, {s.DLQ, minEventSourceConcurrency}} {
		s.Functions[routes.FnJobWorker].AddEventSource(awslambdaeventsources.NewSqsEventSource(src.queue,
			&awslambdaeventsources.SqsEventSourceProps{
				BatchSize:               jsii.Number(workerBatchSize),
				ReportBatchItemFailures: jsii.Bool(true),
				MaxConcurrency:          jsii.Number(src.concurrency),
			}))
	}

	// Both schedules invoke the anonymiser through one scheduler role and send what they cannot
	// deliver to the same dead-letter queue, which alarms.
	scheduler := newSchedulerRole(stack)
	newAnonymiserSchedule(stack, s.Functions[routes.FnAnonymiser], s.ScheduleDLQ, scheduler)
	newOutboxSweepSchedule(stack, s.Functions[routes.FnAnonymiser], s.ScheduleDLQ, scheduler)
	suppressSchedulerRole(scheduler)
	newAnonymiserContinuation(stack, s.Bus, s.Functions[routes.FnAnonymiser], s.ContinuationDLQ)

	s.API = newHTTPAPI(stack, webOrigin, s.UserPool, s.Client, s.Functions)
	newSCIMRoutes(stack, s.API, s.Functions[routes.FnSCIM]) // no JWT authorizer: see scim.go
	s.AccessLogs = newAccessLogs(stack, s.API, limits)
	if err := s.addConsole(props.AssetDir); err != nil { // infra/console.go
		return nil, err
	}

	s.newAlarms(contextString(stack, ctxAlarmEmail, ""))
	s.suppressFindings()

	output(stack, "ApiUrl", s.API.ApiEndpoint())
	output(stack, "UserPoolId", s.UserPool.UserPoolId())
	output(stack, "UserPoolClientId", s.Client.UserPoolClientId())
	output(stack, "TableName", s.Table.TableName())
	output(stack, "JobsQueueUrl", s.JobsQueue.QueueUrl())
	output(stack, "EventBusName", s.Bus.EventBusName())
	return s, nil
}

// newTable declares the single table from dynamo.CreateTableInput, the definition the local
// servers and store tests use, so the key schema exists once.
func newTable(stack awscdk.Stack) awsdynamodb.Table {
	def := dynamo.CreateTableInput("tilgang")
	attrTypes := map[string]awsdynamodb.AttributeType{}
	for _, a := range def.AttributeDefinitions {
		attrTypes[*a.AttributeName] = attributeType(a.AttributeType)
	}
	keys := func(ks []types.KeySchemaElement) (pk, sk *awsdynamodb.Attribute) {
		for _, k := range ks {
			attr := &awsdynamodb.Attribute{Name: k.AttributeName, Type: attrTypes[*k.AttributeName]}
			if k.KeyType == types.KeyTypeHash {
				pk = attr
			} else {
				sk = attr
			}
		}
		return pk, sk
	}

	pk, sk := keys(def.KeySchema)
	table := awsdynamodb.NewTable(stack, jsii.String("Table"), &awsdynamodb.TableProps{
		PartitionKey:        pk,
		SortKey:             sk,
		BillingMode:         awsdynamodb.BillingMode_PAY_PER_REQUEST,
		TimeToLiveAttribute: jsii.String(dynamo.AttrTTL),
		PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{
			PointInTimeRecoveryEnabled: jsii.Bool(true),
		},
		// The table holds every tenant's data: never delete it with the stack, and refuse a
		// DeleteTable from anywhere until someone turns the protection off on purpose.
		RemovalPolicy:      awscdk.RemovalPolicy_RETAIN,
		DeletionProtection: jsii.Bool(true),
	})
	for _, g := range def.GlobalSecondaryIndexes {
		gpk, gsk := keys(g.KeySchema)
		table.AddGlobalSecondaryIndex(&awsdynamodb.GlobalSecondaryIndexProps{
			IndexName:      g.IndexName,
			PartitionKey:   gpk,
			SortKey:        gsk,
			ProjectionType: projectionType(g.Projection),
		})
	}
	return table
}

func attributeType(t types.ScalarAttributeType) awsdynamodb.AttributeType {
	switch t {
	case types.ScalarAttributeTypeN:
		return awsdynamodb.AttributeType_NUMBER
	case types.ScalarAttributeTypeB:
		return awsdynamodb.AttributeType_BINARY
	default:
		return awsdynamodb.AttributeType_STRING
	}
}

func projectionType(p *types.Projection) awsdynamodb.ProjectionType {
	if p == nil {
		return awsdynamodb.ProjectionType_ALL
	}
	switch p.ProjectionType {
	case types.ProjectionTypeKeysOnly:
		return awsdynamodb.ProjectionType_KEYS_ONLY
	case types.ProjectionTypeInclude:
		return awsdynamodb.ProjectionType_INCLUDE
	default:
		return awsdynamodb.ProjectionType_ALL
	}
}

// newUserPool creates the Cognito user pool (email sign-in, admin-created users only, an
// immutable custom:tenant_id, MFA by TOTP as the mfa context says, threat protection on the
// Plus plan) and the web app's client, which may read the tenant id.
func newUserPool(stack awscdk.Stack) (awscognito.UserPool, awscognito.UserPoolClient, error) {
	sec, err := readPoolSecurity(stack)
	if err != nil {
		return nil, nil, err
	}
	pool := awscognito.NewUserPool(stack, jsii.String("UserPool"), &awscognito.UserPoolProps{
		SelfSignUpEnabled: jsii.Bool(false),
		// The username is the user id (shared/cognito), so that the ID token's cognito:username
		// names the user; people sign in with their email, an alias. Email alone would make
		// the email the username and cognito:username a generated UUID.
		SignInAliases:       &awscognito.SignInAliases{Username: jsii.Bool(true), Email: jsii.Bool(true)},
		SignInCaseSensitive: jsii.Bool(false),
		AutoVerify:          &awscognito.AutoVerifiedAttrs{Email: jsii.Bool(true)},
		StandardAttributes: &awscognito.StandardAttributes{
			Email: &awscognito.StandardAttribute{Required: jsii.Bool(true), Mutable: jsii.Bool(true)},
		},
		CustomAttributes: &map[string]awscognito.ICustomAttribute{
			"tenant_id": awscognito.NewStringAttribute(&awscognito.StringAttributeProps{
				Mutable: jsii.Bool(false),
				MinLen:  jsii.Number(1),
				MaxLen:  jsii.Number(64),
			}),
		},
		AccountRecovery: awscognito.AccountRecovery_EMAIL_ONLY,
		PasswordPolicy: &awscognito.PasswordPolicy{
			MinLength:        jsii.Number(12),
			RequireLowercase: jsii.Bool(true),
			RequireUppercase: jsii.Bool(true),
			RequireDigits:    jsii.Bool(true),
			RequireSymbols:   jsii.Bool(false),
		},
		// Identities are not recreatable: keep them if the stack goes, and refuse a
		// DeleteUserPool until someone turns the protection off on purpose.
		RemovalPolicy:      awscdk.RemovalPolicy_RETAIN,
		DeletionProtection: jsii.Bool(true),
		Mfa:                sec.mfa,
		// TOTP apps only: SMS would need an SNS role, spending limits and phone numbers.
		MfaSecondFactor:              &awscognito.MfaSecondFactor{Otp: jsii.Bool(true), Sms: jsii.Bool(false)},
		FeaturePlan:                  sec.plan,
		StandardThreatProtectionMode: sec.threatProtection,
	})
	suppressPool(pool, sec)
	client := pool.AddClient(jsii.String("WebClient"), &awscognito.UserPoolClientOptions{
		// A browser app: public client, SRP sign-in, no secret.
		GenerateSecret:             jsii.Bool(false),
		AuthFlows:                  &awscognito.AuthFlow{UserSrp: jsii.Bool(true)},
		DisableOAuth:               jsii.Bool(true),
		PreventUserExistenceErrors: jsii.Bool(true),
		EnableTokenRevocation:      jsii.Bool(true),
		ReadAttributes: awscognito.NewClientAttributes().
			WithStandardAttributes(&awscognito.StandardAttributesMask{
				Email: jsii.Bool(true), EmailVerified: jsii.Bool(true), Fullname: jsii.Bool(true),
			}).
			WithCustomAttributes(jsii.String("tenant_id")),
		// The tenant id is set by the users function at invitation, never by the client.
		WriteAttributes: awscognito.NewClientAttributes().
			WithStandardAttributes(&awscognito.StandardAttributesMask{Fullname: jsii.Bool(true)}),
	})
	return pool, client, nil
}

// newFunction creates one Lambda with its own role, log group and the grants of its entry in
// the grants table. The role has no managed policy: logging is granted on its log group only.
func (s *TilgangStack) newFunction(name, assetDir string, env map[string]*string, memoryMB, timeoutSeconds int) awslambda.Function {
	id := "Fn" + exportName(name)
	logs := awslogs.NewLogGroup(s.Stack, jsii.String(id+"Logs"), &awslogs.LogGroupProps{
		Retention:     awslogs.RetentionDays_ONE_MONTH,
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	role := awsiam.NewRole(s.Stack, jsii.String(id+"Role"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		Description: jsii.String("Tilgang " + name + " function"),
	})
	role.AddToPolicy(statement([]string{"logs:CreateLogStream", "logs:PutLogEvents"}, logs.LogGroupArn()))

	fn := awslambda.NewFunction(s.Stack, jsii.String(id), &awslambda.FunctionProps{
		Description:  jsii.String("Tilgang " + name),
		Runtime:      awslambda.Runtime_PROVIDED_AL2023(),
		Architecture: awslambda.Architecture_ARM_64(),
		Handler:      jsii.String("bootstrap"),
		Code:         awslambda.Code_FromAsset(jsii.String(filepath.Join(assetDir, name)), nil),
		MemorySize:   jsii.Number(memoryMB),
		Timeout:      awscdk.Duration_Seconds(jsii.Number(timeoutSeconds)),
		Environment:  &env,
		LogGroup:     logs,
		// JSON makes Lambda set AWS_LAMBDA_LOG_FORMAT=JSON, which the functions' lambdacontext
		// log handler follows (shared/app/log.go).
		LoggingFormat: awslambda.LoggingFormat_JSON,
		Role:          role,
		// Active tracing: Lambda samples and records each invocation in X-Ray and runs the
		// daemon endpoint the functions send their AWS SDK subsegments to (shared/telemetry).
		// It grants xray:PutTraceSegments and xray:PutTelemetryRecords, which take no resource.
		Tracing: awslambda.Tracing_ACTIVE,
	})

	s.addGrants(fn, name)
	return fn
}

func statement(actions []string, resources ...*string) awsiam.PolicyStatement {
	return awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings(slices.Clone(actions)...),
		Resources: &resources,
	})
}

// newAnonymiserContinuation routes the anonymiser's own "continue" events back to it, so a large
// user bank is worked through in bounded invocations instead of one long loop. An event the rule
// cannot deliver (after its retries) goes to dlq, which alarms.
func newAnonymiserContinuation(stack awscdk.Stack, bus awsevents.EventBus, fn awslambda.Function, dlq awssqs.Queue) awsevents.Rule {
	return awsevents.NewRule(stack, jsii.String("AnonymiserContinuation"), &awsevents.RuleProps{
		EventBus: bus,
		EventPattern: &awsevents.EventPattern{
			Source:     jsii.Strings(eventbus.Source),
			DetailType: jsii.Strings(access.EventAnonymiserContinue),
		},
		Targets: &[]awsevents.IRuleTarget{awseventstargets.NewLambdaFunction(fn, &awseventstargets.LambdaFunctionProps{
			DeadLetterQueue: dlq,
			RetryAttempts:   jsii.Number(8),
			MaxEventAge:     awscdk.Duration_Hours(jsii.Number(2)),
		})},
	})
}

// newSchedulerRole is the role EventBridge Scheduler assumes for both of the anonymiser's
// schedules (the nightly run and the outbox sweep): each target grants it lambda:InvokeFunction
// on the anonymiser and sqs:SendMessage on the schedules' dead-letter queue.
func newSchedulerRole(stack awscdk.Stack) awsiam.Role {
	return awsiam.NewRole(stack, jsii.String("AnonymiserScheduleRole"), &awsiam.RoleProps{
		AssumedBy: awsiam.NewServicePrincipal(jsii.String("scheduler.amazonaws.com"), nil),
		Description: jsii.String("Tilgang schedules (nightly run, outbox sweep): invoke the anonymiser, " +
			"send undeliverable invocations to their DLQ"),
	})
}

// suppressSchedulerRole records the scheduler role's one wildcard. It runs after the schedules'
// targets granted themselves the role's policy, so the suppression reaches it. The function's
// logical id is not known while the stack is built: match it.
func suppressSchedulerRole(role awsiam.Role) {
	qualifiers := nag("AwsSolutions-IAM5", "The scheduler target grants lambda:InvokeFunction on the anonymiser and its versions "+
		"(<arn>:*); the wildcard covers that one function's qualifiers only.")
	qualifiers.AppliesTo = &[]interface{}{&cdknag.RegexAppliesTo{Regex: jsii.String(`/^Resource::<FnAnonymiser[0-9A-F]+\.Arn>:\*$/g`)}}
	cdknag.NagSuppressions_AddResourceSuppressions(role, &[]*cdknag.NagPackSuppression{qualifiers}, jsii.Bool(true))
}

// scheduledEventInput is a schedule's input in the shape of an EventBridge "Scheduled Event"
// (events.EventBridgeEvent in aws-lambda-go) of the given detail type, filled from the
// scheduler's context attributes.
func scheduledEventInput(detailType string) awsscheduler.ScheduleTargetInput {
	return awsscheduler.ScheduleTargetInput_FromObject(map[string]interface{}{
		"version":     "0",
		"id":          awsscheduler.ContextAttribute_ExecutionId(),
		"detail-type": detailType,
		"source":      "aws.scheduler",
		"account":     awscdk.Aws_ACCOUNT_ID(),
		"time":        awsscheduler.ContextAttribute_ScheduledTime(),
		"region":      awscdk.Aws_REGION(),
		"resources":   []interface{}{awsscheduler.ContextAttribute_ScheduleArn()},
		"detail":      map[string]interface{}{},
	})
}

// newAnonymiserSchedule invokes the anonymiser nightly through EventBridge Scheduler with a
// "Scheduled Event". An invocation the scheduler cannot make (after its retries) goes to dlq,
// which alarms.
func newAnonymiserSchedule(stack awscdk.Stack, fn awslambda.Function, dlq awssqs.Queue, role awsiam.IRole) awsscheduler.Schedule {
	return awsscheduler.NewSchedule(stack, jsii.String("AnonymiserSchedule"), &awsscheduler.ScheduleProps{
		Description: jsii.String("Nightly GDPR anonymisation of users past their tenant's anonymisation period"),
		Schedule:    awsscheduler.ScheduleExpression_Expression(jsii.String(AnonymiserSchedule), nil),
		Target: awsschedulertargets.NewLambdaInvoke(fn, &awsschedulertargets.ScheduleTargetBaseProps{
			Input:           scheduledEventInput("Scheduled Event"),
			RetryAttempts:   jsii.Number(2),
			MaxEventAge:     awscdk.Duration_Hours(jsii.Number(2)),
			DeadLetterQueue: dlq,
			Role:            role,
		}),
	})
}

// newOutboxSweepSchedule invokes the anonymiser every few minutes with an "Outbox Sweep"
// event, on which it only applies the outbox (access.EventOutboxSweep). It is not retried (the
// next sweep is minutes away); an invocation the scheduler cannot make at all goes to dlq, which
// alarms, like the nightly schedule's.
func newOutboxSweepSchedule(stack awscdk.Stack, fn awslambda.Function, dlq awssqs.Queue, role awsiam.IRole) awsscheduler.Schedule {
	return awsscheduler.NewSchedule(stack, jsii.String("OutboxSweepSchedule"), &awsscheduler.ScheduleProps{
		Description: jsii.String("Apply login changes and events that writes still owe (the outbox)"),
		Schedule:    awsscheduler.ScheduleExpression_Expression(jsii.String(OutboxSweepSchedule), nil),
		Target: awsschedulertargets.NewLambdaInvoke(fn, &awsschedulertargets.ScheduleTargetBaseProps{
			Input:           scheduledEventInput(access.EventOutboxSweep),
			RetryAttempts:   jsii.Number(0),
			MaxEventAge:     awscdk.Duration_Minutes(jsii.Number(5)),
			DeadLetterQueue: dlq,
			Role:            role,
		}),
	})
}

// newHTTPAPI creates the HTTP API with one route per entry of routes.All, each behind the JWT
// authorizer and integrated with its function.
func newHTTPAPI(stack awscdk.Stack, webOrigin string, pool awscognito.UserPool, client awscognito.UserPoolClient, fns map[string]awslambda.Function) awsapigatewayv2.HttpApi {
	api := awsapigatewayv2.NewHttpApi(stack, jsii.String("HttpApi"), &awsapigatewayv2.HttpApiProps{
		ApiName:     jsii.String("tilgang"),
		Description: jsii.String("Tilgang user and access management API"),
		CorsPreflight: &awsapigatewayv2.CorsPreflightOptions{
			AllowOrigins: jsii.Strings(webOrigin),
			AllowMethods: &[]awsapigatewayv2.CorsHttpMethod{
				awsapigatewayv2.CorsHttpMethod_GET, awsapigatewayv2.CorsHttpMethod_POST,
				awsapigatewayv2.CorsHttpMethod_PUT, awsapigatewayv2.CorsHttpMethod_PATCH,
				awsapigatewayv2.CorsHttpMethod_DELETE, awsapigatewayv2.CorsHttpMethod_OPTIONS,
			},
			AllowHeaders:  jsii.Strings("Authorization", "Content-Type", "If-Match", "Idempotency-Key"),
			ExposeHeaders: jsii.Strings("ETag", "Location"),
			MaxAge:        awscdk.Duration_Hours(jsii.Number(1)),
		},
	})
	authorizer := awsapigatewayv2authorizers.NewHttpJwtAuthorizer(jsii.String("CognitoJwt"),
		pool.UserPoolProviderUrl(),
		&awsapigatewayv2authorizers.HttpJwtAuthorizerProps{
			JwtAudience:    jsii.Strings(*client.UserPoolClientId()),
			IdentitySource: jsii.Strings("$request.header.Authorization"),
		})

	integrations := map[string]awsapigatewayv2integrations.HttpLambdaIntegration{}
	for _, name := range routes.APIFunctions() {
		integrations[name] = awsapigatewayv2integrations.NewHttpLambdaIntegration(
			jsii.String(exportName(name)+"Integration"), fns[name], nil)
	}
	for _, r := range routes.All {
		// Construct ids may not contain "/", route keys always do.
		id := "Route " + strings.ReplaceAll(r.Key(), "/", "_")
		awsapigatewayv2.NewHttpRoute(stack, jsii.String(id), &awsapigatewayv2.HttpRouteProps{
			HttpApi:     api,
			RouteKey:    awsapigatewayv2.HttpRouteKey_With(jsii.String(r.Path), awsapigatewayv2.HttpMethod(r.Method)),
			Integration: integrations[r.Function],
			Authorizer:  authorizer,
		})
	}
	return api
}

func output(stack awscdk.Stack, id string, value *string) {
	awscdk.NewCfnOutput(stack, jsii.String(id), &awscdk.CfnOutputProps{Value: value})
}

// contextString reads a string context value (from cdk.json, -c, or AppProps.Context).
func contextString(scope constructs.Construct, key, def string) string {
	switch v := scope.Node().TryGetContext(jsii.String(key)).(type) {
	case string:
		if v != "" {
			return v
		}
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	}
	return def
}

// exportName turns a function name such as "jobworker" into "Jobworker" for construct ids.
func exportName(name string) string {
	if name == "" {
		return name
	}
	return strings.ToUpper(name[:1]) + name[1:]
}

// suppressFindings records, with their reasons, the cdk-nag findings the stack keeps on purpose
// (the infra tests run the AwsSolutions and Serverless packs and fail on any other finding).
// Findings of the user pool, the failure queues and the scheduler role are suppressed where
// those are made.
func (s *TilgangStack) suppressFindings() {
	xray := nag("AwsSolutions-IAM5", "Active tracing grants xray:PutTraceSegments and xray:PutTelemetryRecords, which have no "+
		"resource-level permissions: X-Ray only accepts Resource \"*\" for them. Every other statement names its resources.",
		"Resource::*")
	for _, name := range allFunctions() {
		fn := s.Functions[name]
		cdknag.NagSuppressions_AddResourceSuppressions(fn.Role(), &[]*cdknag.NagPackSuppression{xray}, jsii.Bool(true))
		var dlq string
		switch name {
		case routes.FnJobWorker:
			dlq = "The worker is invoked by SQS event source mappings only: a failed message returns to its queue and, " +
				"after maxReceiveCount, moves to the jobs dead-letter queue (the queue's redrive policy), never to a function DLQ."
		case routes.FnAnonymiser:
			dlq = "The anonymiser's asynchronous invocations have an on-failure destination (AnonymiserFailures), which " +
				"records more than a dead-letter queue would (the error and the request) and alarms."
		default:
			dlq = "API functions are invoked synchronously by API Gateway, which answers the error to the caller; a " +
				"dead-letter queue only ever receives failed asynchronous invocations."
		}
		cdknag.NagSuppressions_AddResourceSuppressions(fn, &[]*cdknag.NagPackSuppression{nag("Serverless-LambdaDLQ", dlq)}, jsii.Bool(false))
	}
	// The worker's event source mappings read SQS queues, for which Lambda offers no on-failure
	// destination (that is for stream and Kafka sources): the redrive policy is the failure path.
	cdknag.NagSuppressions_AddResourceSuppressions(s.Functions[routes.FnJobWorker], &[]*cdknag.NagPackSuppression{
		nag("Serverless-LambdaEventSourceMappingDestination", "SQS event sources take no on-failure destination; the jobs "+
			"queue's redrive policy moves a failing message to the dead-letter queue, which the worker records as failed and alarms on."),
	}, jsii.Bool(true))
	cdknag.NagSuppressions_AddResourceSuppressions(s.DLQ, &[]*cdknag.NagPackSuppression{
		nag("Serverless-SQSRedrivePolicy", "This is the jobs queue's dead-letter queue: the worker consumes it and records "+
			"each message as failed; a message it cannot record stays and alarms (JobsDLQStuck)."),
		nag("AwsSolutions-SQS3", "This is the jobs queue's dead-letter queue."),
	}, jsii.Bool(true))
	// The archive is where poison job messages end up: a dead-letter queue of its own would
	// only ever receive what nobody reads here either.
	archive := "This queue is itself where the worker parks poison job messages (unreadable, of an unknown kind or job); " +
		"nothing consumes it and an alarm fires on its first message (JobsPoisonParked)."
	cdknag.NagSuppressions_AddResourceSuppressions(s.Archive, &[]*cdknag.NagPackSuppression{
		nag("AwsSolutions-SQS3", archive),
		nag("Serverless-SQSRedrivePolicy", archive),
	}, jsii.Bool(true))
}
