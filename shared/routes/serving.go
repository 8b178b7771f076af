package routes

import "context"

// Serving names the function whose handler is running, and what in it: the route key of an API
// or SCIM request, or the kind of event a worker handles. Each function's handler puts it in
// the context (shared/app), so that what a call does further down can be told apart by
// function: the test suites attribute every AWS call to the function whose IAM grant must
// allow it (shared/localstack, calls.go).
type Serving struct {
	Function string
	// By is the route key or the handler and its event.
	By string
}

type servingKey struct{}

// WithServing returns ctx naming the function and what in it serves.
func WithServing(ctx context.Context, function, by string) context.Context {
	return context.WithValue(ctx, servingKey{}, Serving{Function: function, By: by})
}

// ServingOf returns what WithServing put in ctx; false outside any function's handler.
func ServingOf(ctx context.Context) (Serving, bool) {
	s, ok := ctx.Value(servingKey{}).(Serving)
	return s, ok
}
