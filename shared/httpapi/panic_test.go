package httpapi_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tilgang/tilgang/shared/httpapi"
)

func TestAPanicAnswersAsAProblem(t *testing.T) {
	// No service: the first use of it panics, as a bug would.
	api := &httpapi.API{Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	ev := events.APIGatewayV2HTTPRequest{RouteKey: "GET /v1/me"}
	ev.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
		JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{
			Claims: map[string]string{httpapi.ClaimTenant: "t_1", httpapi.ClaimUsername: "u_1"}}}
	res, err := api.Handler(httpapi.Me)(context.Background(), ev)
	if err != nil {
		t.Fatalf("handler returned an error (Lambda would answer 502): %v", err)
	}
	if res.StatusCode != 500 || !strings.HasPrefix(res.Headers["Content-Type"], "application/problem+json") {
		t.Errorf("got %d %q, want a 500 problem", res.StatusCode, res.Headers["Content-Type"])
	}
}
