package scim

import (
	"slices"
	"strings"

	filter "github.com/scim2/filter-parser/v2"
)

// PATCH (RFC 7644, section 3.5.2) on a resource's JSON. What real clients send is accepted:
// Entra ID's capitalised ops ("Replace", "Add", "Remove"), path-less operations with an object
// value (Okta), keys of such a value that are paths themselves ("name.givenName", the
// enterprise extension's "urn:…:User:employeeNumber"), filtered paths (emails[type eq "work"].value,
// members[value eq "…"]), and an add or replace through a filter that matches nothing, which
// creates the element the filter describes.

type patchOp struct {
	Op    string
	Path  string
	Value any
}

// patchOps reads a PatchOp body.
func patchOps(body map[string]any) ([]patchOp, error) {
	raw, ok := field(body, "Operations")
	if !ok {
		return nil, badRequest("invalidSyntax", "a PATCH body needs Operations")
	}
	list, ok := raw.([]any)
	if !ok || len(list) == 0 {
		return nil, badRequest("invalidSyntax", "Operations must be a non-empty array")
	}
	if len(list) > 1000 {
		return nil, &Error{Status: 413, SCIMType: "tooMany", Detail: "at most 1000 operations per request"}
	}
	out := make([]patchOp, 0, len(list))
	for i, e := range list {
		o, ok := object(e)
		if !ok {
			return nil, badRequest("invalidSyntax", "Operations[%d] must be an object", i)
		}
		op, err := str(o, "op", "op")
		if err != nil {
			return nil, err
		}
		op = strings.ToLower(strings.TrimSpace(op))
		if op != "add" && op != "replace" && op != "remove" {
			return nil, badRequest("invalidSyntax", "Operations[%d].op must be add, replace or remove", i)
		}
		path, err := str(o, "path", "path")
		if err != nil {
			return nil, err
		}
		v, _ := field(o, "value")
		out = append(out, patchOp{Op: op, Path: strings.TrimSpace(path), Value: v})
	}
	return out, nil
}

// parsePath parses a PATCH path; a bad one is invalidPath.
func parsePath(s string) (filter.Path, error) {
	p, err := filter.ParsePath([]byte(s))
	if err != nil {
		return p, badRequest("invalidPath", "the path %q is not a SCIM attribute path", s)
	}
	return p, nil
}

// applyPatch applies one operation to res (core is the resource's own schema URN).
func applyPatch(res map[string]any, core string, op patchOp) error {
	if op.Path == "" {
		if op.Op == "remove" {
			return badRequest("noTarget", "remove needs a path")
		}
		obj, ok := object(op.Value)
		if !ok {
			return badRequest("invalidValue", "an operation without a path needs an object value")
		}
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			v := obj[k]
			if ext, ok := object(v); ok && strings.HasPrefix(strings.ToLower(k), "urn:") && !strings.EqualFold(k, core) {
				// {"urn:…:enterprise:2.0:User": {"employeeNumber": "1"}}: each sub-attribute.
				for k2, v2 := range ext {
					if err := applyPatch(res, core, patchOp{Op: op.Op, Path: k + ":" + k2, Value: v2}); err != nil {
						return err
					}
				}
				continue
			}
			if strings.EqualFold(k, "schemas") || strings.EqualFold(k, "id") || strings.EqualFold(k, "meta") {
				continue
			}
			if err := applyPatch(res, core, patchOp{Op: op.Op, Path: k, Value: v}); err != nil {
				return err
			}
		}
		return nil
	}
	p, err := parsePath(op.Path)
	if err != nil {
		return err
	}
	container := res
	if uri := p.AttributePath.URI(); uri != "" && !strings.EqualFold(uri, core) {
		if !strings.EqualFold(uri, URNEnterprise) {
			return badRequest("invalidPath", "unknown schema %s", uri)
		}
		container = subObject(res, URNEnterprise)
	}
	name := p.AttributePath.AttributeName
	if strings.EqualFold(name, "id") || strings.EqualFold(name, "meta") || strings.EqualFold(name, "schemas") {
		return badRequest("mutability", "%s cannot be changed", name)
	}
	key := keyOf(container, name)
	if key == "" {
		key = name
	}
	if sub := p.AttributePath.SubAttributeName(); sub != "" {
		m := subObject(container, key)
		k2 := keyOf(m, sub)
		if k2 == "" {
			k2 = sub
		}
		if op.Op == "remove" {
			delete(m, k2)
		} else {
			m[k2] = op.Value
		}
		return nil
	}
	if p.ValueExpression == nil {
		return applyWhole(container, key, op)
	}
	return applyFiltered(container, key, p, op)
}

// applyWhole changes a whole attribute.
func applyWhole(container map[string]any, key string, op patchOp) error {
	cur, has := container[key]
	switch op.Op {
	case "remove":
		// Entra ID removes members with a list of values: only those go.
		if vals := array(op.Value); len(vals) > 0 && has {
			if list, ok := cur.([]any); ok {
				drop := map[string]bool{}
				for _, v := range vals {
					if s, ok := valueOf(v); ok {
						drop[s] = true
					}
				}
				container[key] = slices.DeleteFunc(slices.Clone(list), func(e any) bool {
					s, ok := valueOf(e)
					return ok && drop[s]
				})
				return nil
			}
		}
		delete(container, key)
	case "add":
		if list, ok := cur.([]any); ok {
			for _, v := range array(op.Value) {
				s, ok := valueOf(v)
				if ok && slices.ContainsFunc(list, func(e any) bool { x, ok2 := valueOf(e); return ok2 && x == s }) {
					continue
				}
				list = append(list, v)
			}
			container[key] = list
			return nil
		}
		if curObj, ok := object(cur); ok {
			if vObj, ok := object(op.Value); ok {
				for k, v := range vObj {
					curObj[k] = v
				}
				return nil
			}
		}
		container[key] = op.Value
	case "replace":
		if curObj, ok := object(cur); ok {
			if vObj, ok := object(op.Value); ok {
				// A complex attribute's sub-attributes not named stay (RFC 7644, 3.5.2.3).
				for k, v := range vObj {
					curObj[k] = v
				}
				return nil
			}
		}
		container[key] = op.Value
	}
	return nil
}

// applyFiltered changes the elements of a multi-valued attribute that a filter selects.
func applyFiltered(container map[string]any, key string, p filter.Path, op patchOp) error {
	list := array(container[key])
	sub := p.SubAttributeName()
	var matched []int
	for i, e := range list {
		if o, ok := object(e); ok && eval(p.ValueExpression, o) {
			matched = append(matched, i)
		}
	}
	if op.Op == "remove" {
		if sub != "" {
			for _, i := range matched {
				o, _ := object(list[i])
				delete(o, keyOf(o, sub))
			}
			return nil
		}
		out := make([]any, 0, len(list))
		for i, e := range list {
			if !slices.Contains(matched, i) {
				out = append(out, e)
			}
		}
		container[key] = out
		return nil
	}
	if len(matched) == 0 {
		// Entra ID adds phoneNumbers[type eq "work"].value to a user without one.
		elem := seed(p.ValueExpression)
		if sub != "" {
			elem[sub] = op.Value
		} else if v, ok := object(op.Value); ok {
			for k, x := range v {
				elem[k] = x
			}
		} else {
			return badRequest("invalidValue", "the value of a filtered path without a sub-attribute must be an object")
		}
		container[key] = append(list, elem)
		return nil
	}
	for _, i := range matched {
		o, _ := object(list[i])
		if sub != "" {
			k := keyOf(o, sub)
			if k == "" {
				k = sub
			}
			o[k] = op.Value
			continue
		}
		v, ok := object(op.Value)
		if !ok {
			return badRequest("invalidValue", "the value of a filtered path without a sub-attribute must be an object")
		}
		if op.Op == "replace" {
			list[i] = v
		} else {
			for k, x := range v {
				o[k] = x
			}
		}
	}
	container[key] = list
	return nil
}

// seed is the element a filter of eq comparisons describes: type eq "work" → {"type":"work"}.
func seed(e filter.Expression) map[string]any {
	out := map[string]any{}
	var walk func(e filter.Expression)
	walk = func(e filter.Expression) {
		switch x := e.(type) {
		case *filter.AttributeExpression:
			if x.Operator == filter.EQ {
				out[x.AttributePath.AttributeName] = x.CompareValue
			}
		case *filter.LogicalExpression:
			if x.Operator == filter.AND {
				walk(x.Left)
				walk(x.Right)
			}
		}
	}
	walk(e)
	return out
}
