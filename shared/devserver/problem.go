package devserver

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/tilgang/tilgang/shared/access"
)

// problem is an RFC 9457 problem document.
type problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
}

func writeProblem(w http.ResponseWriter, status int, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(problem{Type: "about:blank", Title: http.StatusText(status), Status: status, Detail: detail})
}

// statusOf maps a domain error of the /dev endpoints to a status and a public message; anything
// unexpected is a 500 without detail (the caller logs it).
func statusOf(err error) (int, string) {
	var e *access.Error
	if !errors.As(err, &e) {
		return http.StatusInternalServerError, ""
	}
	detail := e.Message
	if e.Field != "" {
		detail = e.Field + ": " + detail
	}
	switch e.Code {
	case access.CodeInvalid, access.CodeTooLarge:
		return http.StatusBadRequest, detail
	case access.CodeNotFound:
		return http.StatusNotFound, detail
	case access.CodeConflict:
		return http.StatusConflict, detail
	}
	return http.StatusInternalServerError, ""
}
