package devserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/tilgang/tilgang/shared/access"
	"github.com/tilgang/tilgang/shared/httpapi"
	"github.com/tilgang/tilgang/shared/localauth"
	"github.com/tilgang/tilgang/shared/routes"
	"github.com/tilgang/tilgang/shared/tracing"
)

// APIHandler is an API Lambda's handler.
type APIHandler = func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)

// SQSHandler is a queue worker's handler; failed message ids go in BatchItemFailures.
type SQSHandler = func(context.Context, events.SQSEvent) (events.SQSEventResponse, error)

// App is what the dev server serves. Only API, CreateTenant and UserByEmail are required.
type App struct {
	// API returns the handler of an API function (routes.FnMe, ...); it is called once per
	// function, on its first request, like a cold start.
	API func(function string) APIHandler
	// CreateTenant and UserByEmail back /dev/tenants and /dev/token.
	CreateTenant func(context.Context, access.NewTenant) (access.Tenant, access.User, error)
	UserByEmail  func(context.Context, string) (access.User, error)

	// JobWorker, when set, consumes the jobs queue and its dead-letter queue (routes.FnJobWorker).
	JobWorker SQSHandler
	// EventsWorker, when set, consumes the events queue that stands in for EventBridge.
	EventsWorker SQSHandler
	// Scheduled jobs run every Every and on POST /dev/run/{name}.
	Scheduled []Scheduled
}

// Scheduled is a job that EventBridge Scheduler runs in AWS (routes.FnAnonymiser).
type Scheduled struct {
	Name  string
	Every time.Duration
	Run   func(context.Context) error
}

// Server is the dev server's HTTP handler: the API routes, authorised like API Gateway's JWT
// authorizer with local tokens, and the /dev endpoints.
type Server struct {
	app    App
	tokens *localauth.TokenIssuer
	jobs   map[string]*Ticker
	log    *slog.Logger
	now    func() time.Time
	// docs serves /openapi.yaml and the /docs reference page.
	docs *Docs

	mu       sync.Mutex
	handlers map[string]lambda.Handler
}

// NewServer returns the handler serving app with tokens from tokens. jobs are the tickers
// POST /dev/run/{name} can start; log may be nil.
func NewServer(app App, tokens *localauth.TokenIssuer, jobs []*Ticker, log *slog.Logger) *Server {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{app: app, tokens: tokens, jobs: map[string]*Ticker{}, log: log, now: time.Now, handlers: map[string]lambda.Handler{},
		docs: &Docs{}}
	for _, j := range jobs {
		s.jobs[j.Name] = j
	}
	return s
}

// SetDocs sets where /docs finds the reference page's assets (see Docs).
func (s *Server) SetDocs(d *Docs) { s.docs = d }

// ServeHTTP serves one request and logs exactly one JSON line for it: the function's request
// line when an API function answered (it carries the route, status, latency and tenant, as in
// AWS), the dev server's own otherwise (dev endpoints, docs, and what API Gateway would refuse
// before any function runs: unknown routes, missing tokens). Each request gets an X-Ray-style
// trace id, which every line logged while serving it carries.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := s.now()
	trace := tracing.NewHeader(start)
	r = r.WithContext(tracing.WithHeader(r.Context(), trace))
	rw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	if s.serve(rw, r) {
		return
	}
	s.log.LogAttrs(r.Context(), slog.LevelInfo, "request", slog.String("method", r.Method), slog.String("path", r.URL.Path),
		slog.Int("status", rw.status), slog.Float64("latencyMs", float64(s.now().Sub(start).Microseconds())/1000))
}

// serve answers the request and reports whether an API function did (and logged it).
func (s *Server) serve(w http.ResponseWriter, r *http.Request) (invoked bool) {
	if strings.HasPrefix(r.URL.Path, "/dev/") {
		s.serveDev(w, r)
		return false
	}
	if s.docs.serve(w, r) {
		return false
	}
	if serveConsole(w, r) {
		return false
	}
	if s.serveSCIM(w, r) {
		return true // the scim function logged it
	}
	route, params, ok := routes.Match(r.Method, r.URL.EscapedPath())
	if !ok {
		if pathKnown(r.URL.EscapedPath()) {
			writeProblem(w, http.StatusMethodNotAllowed, fmt.Sprintf("%s is not allowed on this path", r.Method))
			return false
		}
		writeProblem(w, http.StatusNotFound, "no such route")
		return false
	}

	// Every route of the table sits behind the JWT authorizer in AWS.
	claims, err := s.authorize(r)
	if err != nil {
		w.Header().Set("WWW-Authenticate", `Bearer realm="tilgang-local"`)
		writeProblem(w, http.StatusUnauthorized, "a valid bearer token is required")
		return false
	}

	ev, err := NewRequest(r, route, params, claims, s.now())
	if errors.Is(err, errTooLarge) {
		writeProblem(w, http.StatusRequestEntityTooLarge, err.Error())
		return false
	}
	if err != nil {
		writeProblem(w, http.StatusBadRequest, "could not read the request")
		return false
	}

	// API Gateway passes the trace header on to the integration.
	ev.Headers["x-amzn-trace-id"] = tracing.TraceHeader(r.Context())
	var resp events.APIGatewayV2HTTPResponse
	if err := s.invoke(r.Context(), route.Function, ev, &resp); err != nil {
		// API Gateway answers a failed invocation with a bare 500.
		s.log.ErrorContext(r.Context(), "handler failed", "function", route.Function, "route", route.Key(), "apiRequestId", ev.RequestContext.RequestID, "err", err)
		writeProblem(w, http.StatusInternalServerError, "")
		return true
	}
	if err := WriteResponse(w, resp); err != nil {
		s.log.ErrorContext(r.Context(), "bad handler response", "function", route.Function, "err", err)
	}
	return true
}

func (s *Server) authorize(r *http.Request) (map[string]string, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return nil, errors.New("no token")
	}
	tok := h
	if scheme, rest, ok := strings.Cut(h, " "); ok && strings.EqualFold(scheme, "Bearer") {
		tok = strings.TrimSpace(rest)
	}
	return s.tokens.Verify(tok)
}

// invoke runs the function's handler through aws-lambda-go's own JSON path, with a Lambda
// context and a deadline, as the Lambda runtime would.
func (s *Server) invoke(ctx context.Context, function string, ev any, out any) (err error) {
	h, err := s.handler(function)
	if err != nil {
		return err
	}
	payload, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 29*time.Second) // API Gateway's integration timeout
	defer cancel()
	ctx = lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{AwsRequestID: newRequestID(),
		InvokedFunctionArn: "arn:aws:lambda:local:" + AccountID + ":function:" + function})
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v\n%s", p, debug.Stack())
		}
	}()
	res, err := h.Invoke(ctx, payload)
	if err != nil {
		return err
	}
	return json.Unmarshal(res, out)
}

func (s *Server) handler(function string) (lambda.Handler, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if h, ok := s.handlers[function]; ok {
		return h, nil
	}
	if s.app.API == nil {
		return nil, errors.New("no API handlers configured")
	}
	fn := s.app.API(function)
	if fn == nil {
		return nil, fmt.Errorf("no handler for function %q", function)
	}
	h := lambda.NewHandler(fn)
	s.handlers[function] = h
	return h, nil
}

// pathKnown reports whether some route serves path with another method.
func pathKnown(path string) bool {
	for _, r := range routes.All {
		if _, _, ok := routes.Match(r.Method, path); ok {
			return true
		}
	}
	return false
}

// serveDev serves the endpoints that exist only locally.
func (s *Server) serveDev(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimSuffix(r.URL.Path, "/")
	var handle func(http.ResponseWriter, *http.Request)
	switch {
	case path == "/dev/tenants":
		handle = s.createTenant
	case path == "/dev/token":
		handle = s.token
	case strings.HasPrefix(path, "/dev/run/") && !strings.Contains(path[len("/dev/run/"):], "/"):
		handle = s.runJob
	default:
		writeProblem(w, http.StatusNotFound, "no such route")
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeProblem(w, http.StatusMethodNotAllowed, "use POST")
		return
	}
	handle(w, r)
}

type createTenantRequest struct {
	Name  string `json:"name"`
	Owner struct {
		Name  string `json:"name"`
		Email string `json:"email"`
	} `json:"owner"`
}

type createTenantResponse struct {
	TenantID string `json:"tenantId"`
	OwnerID  string `json:"ownerId"`
	Token    string `json:"token"`
}

func (s *Server) createTenant(w http.ResponseWriter, r *http.Request) {
	var in createTenantRequest
	if !decode(w, r, &in) {
		return
	}
	if s.app.CreateTenant == nil {
		writeProblem(w, http.StatusNotImplemented, "tenant creation is not wired")
		return
	}
	tenant, owner, err := s.app.CreateTenant(r.Context(), access.NewTenant{Name: in.Name, OwnerName: in.Owner.Name, OwnerEmail: in.Owner.Email})
	if err != nil {
		s.fail(w, "create tenant", err)
		return
	}
	tok, err := s.tokens.Issue(tenant.ID, owner.ID)
	if err != nil {
		s.fail(w, "issue token", err)
		return
	}
	writeJSON(w, http.StatusCreated, createTenantResponse{TenantID: tenant.ID, OwnerID: owner.ID, Token: tok})
}

type tokenRequest struct {
	Email string `json:"email"`
}

type tokenResponse struct {
	Token string `json:"token"`
}

func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	var in tokenRequest
	if !decode(w, r, &in) {
		return
	}
	if s.app.UserByEmail == nil {
		writeProblem(w, http.StatusNotImplemented, "user look-up is not wired")
		return
	}
	u, err := s.app.UserByEmail(r.Context(), in.Email)
	if err != nil {
		s.fail(w, "user by email", err)
		return
	}
	tok, err := s.tokens.Issue(u.TenantID, u.ID)
	if err != nil {
		s.fail(w, "issue token", err)
		return
	}
	writeJSON(w, http.StatusOK, tokenResponse{Token: tok})
}

func (s *Server) runJob(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(strings.TrimSuffix(r.URL.Path, "/"), "/dev/run/")
	j, ok := s.jobs[name]
	if !ok {
		writeProblem(w, http.StatusNotFound, fmt.Sprintf("no scheduled job %q", name))
		return
	}
	if err := j.RunNow(r.Context()); err != nil {
		s.fail(w, "run "+name, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"ran": name})
}

// fail answers a domain error with the API's own problem mapping; anything else is logged.
func (s *Server) fail(w http.ResponseWriter, what string, err error) {
	p, ok := httpapi.ProblemFor(err)
	if !ok {
		s.log.Error(what, "err", err)
		p = httpapi.InternalProblem()
	}
	writeProblemDoc(w, p)
}

// decode reads a /dev request body with the API's strict decoder, so errors name the field.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, httpapi.MaxBodyBytes+1))
	if err == nil {
		err = httpapi.DecodeJSON(b, v)
	}
	if err != nil {
		p, ok := httpapi.ProblemFor(err)
		if !ok {
			p, _ = httpapi.ProblemFor(&access.Error{Code: access.CodeTooLarge, Message: fmt.Sprintf("the body must be at most %d bytes", httpapi.MaxBodyBytes)})
		}
		writeProblemDoc(w, p)
		return false
	}
	return true
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(status int) {
	w.status = status
	w.ResponseWriter.WriteHeader(status)
}
