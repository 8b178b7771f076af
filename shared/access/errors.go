// Package access is Tilgang's domain: tenants, users, permission groups, effective rights and the
// rules that decide who may do what. It knows nothing of HTTP, Lambda or DynamoDB.
package access

import (
	"errors"
	"fmt"
)

// Code classifies a domain error; the HTTP layer maps each code to one status.
type Code string

// Error codes.
const (
	CodeInvalid         Code = "invalid"           // the request is malformed or breaks a rule on its fields
	CodeNotFound        Code = "not_found"         // missing, or belongs to another tenant
	CodeConflict        Code = "conflict"          // the current state forbids it (duplicate, last admin, ...)
	CodeForbidden       Code = "forbidden"         // the caller lacks the right
	CodeUnauthenticated Code = "unauthenticated"   // no valid, active principal
	CodeStale           Code = "stale"             // If-Match names an old version
	CodeTooLarge        Code = "too_large"         // the body or a list is over its limit
	CodeIdempotencyKey  Code = "idempotency_key"   // an Idempotency-Key reused for another request
	CodeNotActivated    Code = "app_not_activated" // the Employees app must be activated first
)

// Error is a domain error with a public message. Messages never carry personal data.
type Error struct {
	Code    Code
	Field   string // the request field at fault, when there is one
	Message string
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: %s: %s", e.Code, e.Field, e.Message)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Is lets errors.Is(err, ErrNotFound) match any *Error of the same code.
func (e *Error) Is(target error) bool {
	var t *Error
	return errors.As(target, &t) && t.Code == e.Code && t.Message == "" && t.Field == ""
}

// Sentinel errors to test against with errors.Is.
var (
	ErrInvalid         = &Error{Code: CodeInvalid}
	ErrNotFound        = &Error{Code: CodeNotFound}
	ErrConflict        = &Error{Code: CodeConflict}
	ErrForbidden       = &Error{Code: CodeForbidden}
	ErrUnauthenticated = &Error{Code: CodeUnauthenticated}
	ErrStale           = &Error{Code: CodeStale}
)

// Invalid reports a bad field.
func Invalid(field, format string, args ...any) error {
	return &Error{Code: CodeInvalid, Field: field, Message: fmt.Sprintf(format, args...)}
}

// NotFound reports a missing resource of a kind ("user", "group", ...).
func NotFound(kind string) error {
	return &Error{Code: CodeNotFound, Message: kind + " not found"}
}

// Conflict reports a state that forbids the change.
func Conflict(format string, args ...any) error {
	return &Error{Code: CodeConflict, Message: fmt.Sprintf(format, args...)}
}

// Forbidden reports a missing right.
func Forbidden(format string, args ...any) error {
	return &Error{Code: CodeForbidden, Message: fmt.Sprintf(format, args...)}
}

// Stale reports an If-Match that no longer matches.
func Stale(kind string) error {
	return &Error{Code: CodeStale, Message: kind + " was changed by someone else; read it again and retry"}
}

// ErrorCode returns the code of a domain error, or "" for anything else.
func ErrorCode(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}
