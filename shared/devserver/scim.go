package devserver

import (
	"errors"
	"net/http"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tilgang/tilgang/shared/routes"
)

// serveSCIM passes the SCIM routes to their function without the JWT check: in AWS they have no
// authorizer either, the function checks the provisioning token itself. It reports whether the
// request was a SCIM route.
func (s *Server) serveSCIM(w http.ResponseWriter, r *http.Request) bool {
	route, params, ok := routes.MatchSCIM(r.Method, r.URL.EscapedPath())
	if !ok {
		return false
	}
	ev, err := NewRequest(r, route, params, nil, s.now())
	if errors.Is(err, errTooLarge) {
		writeProblem(w, http.StatusRequestEntityTooLarge, err.Error())
		return true
	}
	if err != nil {
		writeProblem(w, http.StatusBadRequest, "could not read the request")
		return true
	}
	var resp events.APIGatewayV2HTTPResponse
	if err := s.invoke(r.Context(), route.Function, ev, &resp); err != nil {
		s.log.Error("handler failed", "function", route.Function, "route", route.Key(), "requestId", ev.RequestContext.RequestID, "err", err)
		writeProblem(w, http.StatusInternalServerError, "")
		return true
	}
	if err := WriteResponse(w, resp); err != nil {
		s.log.Error("bad handler response", "function", route.Function, "err", err)
	}
	return true
}
