// Command anonymiser is the scheduled GDPR anonymisation worker: EventBridge Scheduler starts
// it nightly, and "anonymiser.continue" events start its follow-up invocations.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/tilgang/tilgang/shared/app"
)

func main() {
	lambda.Start(app.MustNew(context.Background()).Anonymiser())
}
