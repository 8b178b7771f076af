// Package httpapi turns API Gateway HTTP API (payload 2.0) events into calls of the domain
// service and its results into JSON responses and RFC 9457 problems.
package httpapi

import (
	"encoding/json"
	"net/http"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tilgang/tilgang/shared/access"
)

// ProblemBaseURI prefixes every problem type.
const ProblemBaseURI = "https://tilgang.dev/problems/"

// statusOf is the one table from domain error code to HTTP status.
var statusOf = map[access.Code]int{
	access.CodeInvalid:         http.StatusBadRequest,
	access.CodeNotFound:        http.StatusNotFound,
	access.CodeConflict:        http.StatusConflict,
	access.CodeForbidden:       http.StatusForbidden,
	access.CodeUnauthenticated: http.StatusUnauthorized,
	access.CodeStale:           http.StatusPreconditionFailed,
	access.CodeTooLarge:        http.StatusRequestEntityTooLarge,
	access.CodeIdempotencyKey:  http.StatusUnprocessableEntity,
	access.CodeNotActivated:    http.StatusConflict,
}

// Problem is an RFC 9457 problem document.
type Problem struct {
	Type     string         `json:"type"`
	Title    string         `json:"title"`
	Status   int            `json:"status"`
	Detail   string         `json:"detail"`
	Instance string         `json:"instance,omitempty"`
	Errors   []ProblemField `json:"errors,omitempty"`
}

// ProblemField names one field at fault.
type ProblemField struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// ProblemFor converts a domain error to a problem; ok is false for unexpected errors.
func ProblemFor(err error) (Problem, bool) {
	var e *access.Error
	if !asError(err, &e) {
		return Problem{}, false
	}
	status, known := statusOf[e.Code]
	if !known {
		return Problem{}, false
	}
	p := Problem{Type: ProblemBaseURI + string(e.Code), Title: http.StatusText(status), Status: status, Detail: e.Message}
	if e.Field != "" {
		p.Detail = e.Field + ": " + e.Message
		p.Errors = []ProblemField{{Field: e.Field, Message: e.Message}}
	}
	return p, true
}

// InternalProblem is the body of every unexpected error: nothing of the cause leaks.
func InternalProblem() Problem {
	return Problem{Type: ProblemBaseURI + "internal", Title: http.StatusText(http.StatusInternalServerError),
		Status: http.StatusInternalServerError, Detail: "something went wrong on our side; the request id identifies it in our logs"}
}

// ProblemResponse renders a problem as a Lambda response.
func ProblemResponse(p Problem, requestID string) events.APIGatewayV2HTTPResponse {
	if p.Instance == "" && requestID != "" {
		p.Instance = "urn:request:" + requestID
	}
	b, _ := json.Marshal(p)
	return events.APIGatewayV2HTTPResponse{
		StatusCode: p.Status,
		Headers:    map[string]string{"Content-Type": "application/problem+json", "Cache-Control": "no-store"},
		Body:       string(b),
	}
}
