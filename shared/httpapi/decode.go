package httpapi

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"

	"github.com/tilgang/tilgang/shared/access"
)

// MaxBodyBytes bounds every request body.
const MaxBodyBytes = 64 << 10

func asError(err error, target **access.Error) bool { return errors.As(err, target) }

// bodyBytes returns the request body, decoding base64 when API Gateway encoded it; limit 0
// means MaxBodyBytes.
func bodyBytes(body string, isBase64 bool, limit int) ([]byte, error) {
	if limit <= 0 {
		limit = MaxBodyBytes
	}
	if len(body) > limit*4/3+4 {
		return nil, &access.Error{Code: access.CodeTooLarge, Message: fmt.Sprintf("the body must be at most %d bytes", limit)}
	}
	b := []byte(body)
	if isBase64 {
		var err error
		if b, err = base64.StdEncoding.DecodeString(body); err != nil {
			return nil, access.Invalid("body", "is not valid base64")
		}
	}
	if len(b) > limit {
		return nil, &access.Error{Code: access.CodeTooLarge, Message: fmt.Sprintf("the body must be at most %d bytes", limit)}
	}
	return b, nil
}

// DecodeJSON decodes one JSON object into dst strictly: unknown fields, wrong types, trailing
// data, text that is not valid UTF-8 (or holds a lone surrogate) and bodies over MaxBodyBytes
// are refused with an error naming the field.
func DecodeJSON(b []byte, dst any) error { return decodeJSON(b, dst, MaxBodyBytes) }

// decodeJSON is DecodeJSON with a limit (0: MaxBodyBytes).
func decodeJSON(b []byte, dst any, limit int) error {
	if limit <= 0 {
		limit = MaxBodyBytes
	}
	if len(b) > limit {
		return &access.Error{Code: access.CodeTooLarge, Message: fmt.Sprintf("the body must be at most %d bytes", limit)}
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return access.Invalid("body", "a JSON object is required")
	}
	if err := checkText(b); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return access.Invalid("body", "must hold exactly one JSON value")
	}
	return nil
}

func jsonError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return access.Invalid("body", "is not valid JSON (at byte %d)", syn.Offset)
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			return access.Invalid("body", "must be a JSON %s", jsonKind(typ.Type))
		}
		return access.Invalid(field, "must be %s, not %s", jsonKind(typ.Type), typ.Value)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return access.Invalid("body", "is not valid JSON (it ends too early)")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return access.Invalid(name, "is not a known field")
	}
	var e *access.Error
	if errors.As(err, &e) {
		return e
	}
	return access.Invalid("body", "is not acceptable JSON: %s", err.Error())
}

func jsonKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	}
	return "a " + t.String()
}
