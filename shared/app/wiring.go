package app

import (
	"context"
	"errors"
	"net/http"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/tilgang/tilgang/shared/access"
	"github.com/tilgang/tilgang/shared/config"
)

// A Lambda links only the AWS clients its main wires: New builds DynamoDB and the use cases
// only, and each main adds the adapters its routes use (Cognito logins, the EventBridge bus,
// the jobs queue) by setting them on the App. Processes that serve every function (the dev
// server, make invoke, tests) wire them all with package allclients.

// errNotLinked refuses an effect this function does not link the client for: the outbox keeps
// it and the sweep of a function that has the client applies it.
var errNotLinked = errors.New("this function does not link the client for this effect; the outbox sweep applies it")

// deferred is the Identity and Publisher of a function that has a provider configured but not
// linked: every effect stays owed instead of being dropped.
type deferred struct{}

func (deferred) Invite(context.Context, access.User) error      { return errNotLinked }
func (deferred) Disable(context.Context, access.User) error     { return errNotLinked }
func (deferred) Enable(context.Context, access.User) error      { return errNotLinked }
func (deferred) Delete(context.Context, access.User) error      { return errNotLinked }
func (deferred) UpdateEmail(context.Context, access.User) error { return errNotLinked }
func (deferred) Publish(context.Context, access.Event) error    { return errNotLinked }

// defaultIdentity and defaultEvents are what the people use cases have before any part: the
// dev server's own tokens and no events locally; deferred effects where AWS has a provider.
func defaultIdentity(cfg config.Config) access.Identity {
	if cfg.UserPoolID != "" {
		return deferred{}
	}
	return access.NoIdentity{}
}

func defaultEvents(cfg config.Config) access.Publisher {
	if cfg.EventBusName != "" || cfg.EventsQueueURL != "" {
		return deferred{}
	}
	return access.NoPublisher{}
}

// maxIdleConnsPerHost is how many connections to one endpoint stay open between calls. The SDK
// keeps 10; a job worker invocation runs ten chunks with their parts and parallel reads at once,
// several dozen calls in flight, and every call beyond the idle pool would open (in AWS: TLS
// handshake) and close a connection of its own.
const maxIdleConnsPerHost = 256

// awsConfig is the SDK configuration without the SDK's config loader, which links the STS, SSO
// and IMDS clients a Lambda never uses: Lambda hands its role's credentials in the environment;
// the local servers only check that a request is signed.
func awsConfig(cfg config.Config) aws.Config {
	c := aws.Config{Region: cfg.Region, HTTPClient: awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
		t.MaxIdleConnsPerHost = maxIdleConnsPerHost
		t.MaxIdleConns = max(t.MaxIdleConns, 2*maxIdleConnsPerHost)
	})}
	if cfg.DynamoEndpoint != "" || cfg.SQSEndpoint != "" {
		c.Credentials = credentials.NewStaticCredentialsProvider("local", "local", "")
	} else {
		c.Credentials = aws.NewCredentialsCache(aws.CredentialsProviderFunc(envCredentials))
	}
	return c
}

// envCredentials reads the credentials Lambda (and any AWS shell) sets in the environment.
func envCredentials(context.Context) (aws.Credentials, error) {
	id, secret := os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY")
	if id == "" || secret == "" {
		return aws.Credentials{}, errors.New("no AWS credentials in the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)")
	}
	return aws.Credentials{AccessKeyID: id, SecretAccessKey: secret, SessionToken: os.Getenv("AWS_SESSION_TOKEN"), Source: "environment"}, nil
}
