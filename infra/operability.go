package main

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscognito"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdadestinations"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/tilgang/tilgang/shared/routes"
)

// Context keys of the limits and the user pool's security. cdk.json holds their defaults.
const (
	// ctxThrottleRate and ctxThrottleBurst are the default route throttling of the API stage
	// (requests per second, steady and burst), for all tenants together.
	ctxThrottleRate  = "apiThrottleRate"
	ctxThrottleBurst = "apiThrottleBurst"
	// ctxWorkerConcurrency is the jobs queue event source's MaximumConcurrency.
	ctxWorkerConcurrency = "workerMaxConcurrency"
	// ctxAnonymiserConcurrency is the anonymiser's reserved concurrency (0: none reserved).
	ctxAnonymiserConcurrency = "anonymiserReservedConcurrency"
	// ctxMFA is off, optional or required (TOTP in every case).
	ctxMFA = "mfa"
	// ctxCognitoPlan is essentials or plus; threat protection needs plus.
	ctxCognitoPlan = "cognitoFeaturePlan"

	defaultThrottleRate          = 50
	defaultThrottleBurst         = 100
	defaultWorkerConcurrency     = 5
	defaultAnonymiserConcurrency = 3
	// minEventSourceConcurrency is the least MaximumConcurrency Lambda accepts; the dead-letter
	// queue's consumer only records failures, so it needs no more.
	minEventSourceConcurrency = 2
	// accessLogRetention keeps the stage's access logs as long as the functions' logs.
	accessLogRetention = awslogs.RetentionDays_ONE_MONTH
)

// limits are the stack's throttling and concurrency settings, read from context.
type limits struct {
	throttleRate, throttleBurst int
	workerConcurrency           int
	anonymiserConcurrency       int
}

func readLimits(scope constructs.Construct) (limits, error) {
	var l limits
	for _, v := range []struct {
		key      string
		def, min int
		dst      *int
	}{
		{ctxThrottleRate, defaultThrottleRate, 1, &l.throttleRate},
		{ctxThrottleBurst, defaultThrottleBurst, 1, &l.throttleBurst},
		{ctxWorkerConcurrency, defaultWorkerConcurrency, minEventSourceConcurrency, &l.workerConcurrency},
		{ctxAnonymiserConcurrency, defaultAnonymiserConcurrency, 0, &l.anonymiserConcurrency},
	} {
		raw := contextString(scope, v.key, strconv.Itoa(v.def))
		n, err := strconv.Atoi(raw)
		if err != nil || n < v.min {
			return l, fmt.Errorf("tilgang stack: context %s must be a whole number of at least %d, got %q", v.key, v.min, raw)
		}
		*v.dst = n
	}
	return l, nil
}

// isLocalOrigin reports whether a CORS origin is a developer's machine, or anything but https.
func isLocalOrigin(origin string) bool {
	u, err := url.Parse(origin)
	if err != nil {
		return true
	}
	host := strings.ToLower(u.Hostname())
	return host == "localhost" || strings.HasSuffix(host, ".localhost") || strings.HasPrefix(host, "127.") ||
		host == "::1" || host == "0.0.0.0" || u.Scheme != "https"
}

// poolSecurity is the user pool's MFA and threat protection, read from context.
type poolSecurity struct {
	mfa              awscognito.Mfa
	plan             awscognito.FeaturePlan
	threatProtection awscognito.StandardThreatProtectionMode
}

func readPoolSecurity(scope constructs.Construct) (poolSecurity, error) {
	var sec poolSecurity
	switch m := contextString(scope, ctxMFA, "optional"); m {
	case "off":
		sec.mfa = awscognito.Mfa_OFF
	case "optional":
		sec.mfa = awscognito.Mfa_OPTIONAL
	case "required":
		sec.mfa = awscognito.Mfa_REQUIRED
	default:
		return sec, fmt.Errorf("tilgang stack: context %s must be off, optional or required, got %q", ctxMFA, m)
	}
	switch p := contextString(scope, ctxCognitoPlan, "plus"); p {
	case "plus":
		// Threat protection (compromised credentials, adaptive authentication) is a Plus
		// feature; FULL_FUNCTION blocks risky sign-ins instead of only reporting them.
		sec.plan, sec.threatProtection = awscognito.FeaturePlan_PLUS, awscognito.StandardThreatProtectionMode_FULL_FUNCTION
	case "essentials":
		sec.plan, sec.threatProtection = awscognito.FeaturePlan_ESSENTIALS, ""
	default:
		return sec, fmt.Errorf("tilgang stack: context %s must be essentials or plus, got %q", ctxCognitoPlan, p)
	}
	return sec, nil
}

// suppressPool records, with their reasons, the cdk-nag findings the pool keeps on purpose.
func suppressPool(pool awscognito.UserPool, sec poolSecurity) {
	s := []*cdknag.NagPackSuppression{
		nag("AwsSolutions-COG1", "The password policy asks for 12 characters with upper and lower case and a digit but no symbol: "+
			"length protects more than composition rules, which NIST SP 800-63B advises against."),
	}
	if sec.mfa != awscognito.Mfa_REQUIRED {
		s = append(s, nag("AwsSolutions-COG2", "MFA (TOTP) is the deployer's choice through the mfa context value (off, optional or "+
			"required); optional lets each person turn it on without locking out a tenant that has not rolled it out."))
	}
	if sec.plan != awscognito.FeaturePlan_PLUS {
		s = append(s,
			nag("AwsSolutions-COG3", "Threat protection needs the Plus feature plan, which this deployment turned off with cognitoFeaturePlan=essentials."),
			nag("AwsSolutions-COG8", "The deployer chose the Essentials feature plan (cognitoFeaturePlan=essentials); Plus is the default."))
	}
	cdknag.NagSuppressions_AddResourceSuppressions(pool, &s, jsii.Bool(true))
}

// newFailureQueue creates a queue that only collects what failed (an on-failure destination or
// a dead-letter queue). Nothing consumes it: a message there alarms and waits for a person.
func newFailureQueue(scope constructs.Construct, id string) awssqs.Queue {
	q := awssqs.NewQueue(scope, jsii.String(id), &awssqs.QueueProps{
		RetentionPeriod: awscdk.Duration_Days(jsii.Number(14)),
		Encryption:      awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:      jsii.Bool(true),
	})
	cdknag.NagSuppressions_AddResourceSuppressions(q, &[]*cdknag.NagPackSuppression{
		nag("AwsSolutions-SQS3", "This queue is itself where failures end up; an alarm fires on its first message."),
		nag("Serverless-SQSRedrivePolicy", "This queue is itself where failures end up; an alarm fires on its first message."),
	}, jsii.Bool(true))
	return q
}

// protectAnonymiser reserves the anonymiser's concurrency (so a burst of API traffic cannot
// starve the nightly run; three by default: the invocation that hands over and the continuation
// it starts, which may overlap by the moment it takes to return, plus the outbox sweep that the
// five-minute schedule may start meanwhile, so neither is throttled and the throttle alarm stays
// quiet) and
// sends its failed asynchronous invocations (schedule, continuation events) to a queue that
// alarms, after Lambda's own two retries.
func (s *TilgangStack) protectAnonymiser(l limits) {
	fn := s.Functions[routes.FnAnonymiser]
	if l.anonymiserConcurrency > 0 {
		fn.Node().DefaultChild().(awslambda.CfnFunction).SetReservedConcurrentExecutions(jsii.Number(l.anonymiserConcurrency))
	}
	fn.ConfigureAsyncInvoke(&awslambda.EventInvokeConfigOptions{
		OnFailure:     awslambdadestinations.NewSqsDestination(s.AnonymiserFailures),
		RetryAttempts: jsii.Number(2),
		MaxEventAge:   awscdk.Duration_Hours(jsii.Number(6)),
	})
}

// accessLogFormat is one JSON object per request: no header, body, query string or source IP
// is logged, so no personal data. The tenant is not known to API Gateway; the function's request
// line carries it, joined by lambdaRequestId (the function log's requestId) or by requestId
// (its apiRequestId).
var accessLogFormat = map[string]string{
	"requestId":        "$context.requestId",
	"time":             "$context.requestTime",
	"routeKey":         "$context.routeKey",
	"status":           "$context.status",
	"latencyMs":        "$context.responseLatency",
	"integrationMs":    "$context.integrationLatency",
	"integrationError": "$context.integrationErrorMessage",
	"authorizerError":  "$context.authorizer.error",
	"responseLength":   "$context.responseLength",
	"protocol":         "$context.protocol",
	"lambdaRequestId":  "$context.integration.requestId",
}

// newAccessLogs gives the API's default stage JSON access logs and default route throttling.
// The L2 stage takes neither as plain values, so they are set on the CloudFormation stage.
func newAccessLogs(stack awscdk.Stack, api awsapigatewayv2.HttpApi, l limits) awslogs.LogGroup {
	logs := awslogs.NewLogGroup(stack, jsii.String("ApiAccessLogs"), &awslogs.LogGroupProps{
		Retention:     accessLogRetention,
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	format := jsonFormat(accessLogFormat)
	stage := api.DefaultStage().Node().DefaultChild().(awsapigatewayv2.CfnStage)
	stage.SetAccessLogSettings(&awsapigatewayv2.CfnStage_AccessLogSettingsProperty{
		DestinationArn: logs.LogGroupArn(),
		Format:         jsii.String(format),
	})
	stage.SetDefaultRouteSettings(&awsapigatewayv2.CfnStage_RouteSettingsProperty{
		ThrottlingRateLimit:  jsii.Number(l.throttleRate),
		ThrottlingBurstLimit: jsii.Number(l.throttleBurst),
	})
	return logs
}

// jsonFormat renders an access log format as one JSON object with sorted keys; API Gateway
// substitutes the $context variables.
func jsonFormat(fields map[string]string) string {
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	b.WriteString("{")
	for i, k := range keys {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, "%q:%q", k, fields[k])
	}
	b.WriteString("}")
	return b.String()
}

// nag is one cdk-nag suppression with its reason.
func nag(id, reason string, appliesTo ...string) *cdknag.NagPackSuppression {
	s := &cdknag.NagPackSuppression{Id: jsii.String(id), Reason: jsii.String(reason)}
	if len(appliesTo) > 0 {
		a := make([]interface{}, len(appliesTo))
		for i, x := range appliesTo {
			a[i] = x
		}
		s.AppliesTo = &a
	}
	return s
}
