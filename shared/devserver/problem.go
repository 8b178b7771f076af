package devserver

import (
	"encoding/json"
	"net/http"

	"github.com/tilgang/tilgang/shared/httpapi"
)

// problemCodes name the dev server's own refusals in the API's problem type vocabulary.
var problemCodes = map[int]string{
	http.StatusBadRequest:            "invalid",
	http.StatusUnauthorized:          "unauthenticated",
	http.StatusNotFound:              "not_found",
	http.StatusMethodNotAllowed:      "method_not_allowed",
	http.StatusRequestEntityTooLarge: "too_large",
	http.StatusInternalServerError:   "internal",
	http.StatusNotImplemented:        "not_implemented",
}

// writeProblem answers what the dev server itself refuses (what API Gateway would), as the same
// RFC 9457 documents the API returns.
func writeProblem(w http.ResponseWriter, status int, detail string) {
	writeProblemDoc(w, httpapi.Problem{Type: httpapi.ProblemBaseURI + problemCodes[status], Title: http.StatusText(status), Status: status, Detail: detail})
}

func writeProblemDoc(w http.ResponseWriter, p httpapi.Problem) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}
