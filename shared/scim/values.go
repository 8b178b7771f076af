package scim

import (
	"encoding/json"
	"strconv"
	"strings"
)

// Attribute names are case-insensitive in SCIM (RFC 7643, section 2.1): every read of a
// client's JSON goes through field.

// keyOf returns the key of m that names attribute name, or "" when there is none.
func keyOf(m map[string]any, name string) string {
	if _, ok := m[name]; ok {
		return name
	}
	for k := range m {
		if strings.EqualFold(k, name) {
			return k
		}
	}
	return ""
}

// field reads an attribute; absent and null are the same.
func field(m map[string]any, name string) (any, bool) {
	if m == nil {
		return nil, false
	}
	k := keyOf(m, name)
	if k == "" {
		return nil, false
	}
	v := m[k]
	return v, v != nil
}

// str reads a string attribute: numbers are taken as their text (an employee number sent as a
// number), anything else is an invalidValue.
func str(m map[string]any, name, path string) (string, error) {
	v, ok := field(m, name)
	if !ok {
		return "", nil
	}
	switch x := v.(type) {
	case string:
		return x, nil
	case json.Number:
		return x.String(), nil
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	}
	return "", badRequest("invalidValue", "%s must be a string", path)
}

// boolean reads a boolean attribute; Entra ID sends "True" and "False" as strings.
func boolean(v any, path string) (bool, error) {
	switch x := v.(type) {
	case bool:
		return x, nil
	case string:
		switch strings.ToLower(strings.TrimSpace(x)) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
	}
	return false, badRequest("invalidValue", "%s must be true or false", path)
}

func object(v any) (map[string]any, bool) {
	m, ok := v.(map[string]any)
	return m, ok
}

func array(v any) []any {
	switch x := v.(type) {
	case []any:
		return x
	case nil:
		return nil
	}
	return []any{v}
}

// subObject reads a complex attribute, creating it in m when absent.
func subObject(m map[string]any, name string) map[string]any {
	if v, ok := field(m, name); ok {
		if o, ok := object(v); ok {
			return o
		}
	}
	o := map[string]any{}
	k := keyOf(m, name)
	if k == "" {
		k = name
	}
	m[k] = o
	return o
}

// deepCopy copies a JSON value.
func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = deepCopy(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = deepCopy(e)
		}
		return out
	}
	return v
}

// valueOf is the "value" sub-attribute of a multi-valued element, or the element itself.
func valueOf(v any) (string, bool) {
	if o, ok := object(v); ok {
		s, err := str(o, "value", "value")
		return s, err == nil && s != ""
	}
	if s, ok := v.(string); ok {
		return s, true
	}
	return "", false
}
