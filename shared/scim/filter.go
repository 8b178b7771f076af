package scim

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	filter "github.com/scim2/filter-parser/v2"

	"github.com/tilgang/tilgang/shared/access"
)

// Filters (RFC 7644, section 3.4.2.2). A filter is answered from an index, never by reading
// the tenant's users or groups: the planner finds the candidates through the indexed
// comparisons (below), then the whole filter is checked on each candidate, so "and" with one
// indexed side works and "or" needs both sides indexed. Anything else is a 400 invalidFilter.
//
//	Users   id eq; userName eq (emails.value eq, emails[value eq]); externalId eq, sw, co, pr
//	Groups  id eq; displayName eq, sw, co, pr; externalId eq, sw, co, pr;
//	        members.value eq / members[value eq] (the member's own groups)

// parseFilter parses a filter; a bad one is invalidFilter.
func parseFilter(s string) (filter.Expression, error) {
	if len(s) > 2000 {
		return nil, badRequest("invalidFilter", "the filter is too long")
	}
	e, err := filter.ParseFilter([]byte(s))
	if err != nil {
		return nil, badRequest("invalidFilter", "the filter %q is not a SCIM filter", s)
	}
	return e, nil
}

// index answers one indexed comparison: the ids of the candidates.
type index func(ctx context.Context, e *filter.AttributeExpression) ([]string, bool, error)

// plan finds the candidates of a filter; indexed is false when no index answers it.
func plan(ctx context.Context, e filter.Expression, idx index) (ids []string, indexed bool, err error) {
	switch x := e.(type) {
	case *filter.AttributeExpression:
		return idx(ctx, x)
	case *filter.ValuePath:
		// emails[value eq "x"], members[value eq "x"]: the value comparison, on the attribute.
		var found *filter.AttributeExpression
		var walk func(e filter.Expression)
		walk = func(e filter.Expression) {
			switch y := e.(type) {
			case *filter.AttributeExpression:
				if strings.EqualFold(y.AttributePath.AttributeName, "value") && y.Operator == filter.EQ && found == nil {
					found = y
				}
			case *filter.LogicalExpression:
				if y.Operator == filter.AND {
					walk(y.Left)
					walk(y.Right)
				}
			}
		}
		walk(x.ValueFilter)
		if found == nil {
			return nil, false, nil
		}
		sub := "value"
		return idx(ctx, &filter.AttributeExpression{AttributePath: filter.AttributePath{URIPrefix: x.AttributePath.URIPrefix,
			AttributeName: x.AttributePath.AttributeName, SubAttribute: &sub}, Operator: filter.EQ, CompareValue: found.CompareValue})
	case *filter.LogicalExpression:
		l, lok, err := plan(ctx, x.Left, idx)
		if err != nil {
			return nil, false, err
		}
		r, rok, err := plan(ctx, x.Right, idx)
		if err != nil {
			return nil, false, err
		}
		switch {
		case x.Operator == filter.AND && lok && rok:
			return slices.DeleteFunc(l, func(id string) bool { return !slices.Contains(r, id) }), true, nil
		case x.Operator == filter.AND && lok:
			return l, true, nil
		case x.Operator == filter.AND && rok:
			return r, true, nil
		case x.Operator == filter.OR && lok && rok:
			for _, id := range r {
				if !slices.Contains(l, id) {
					l = append(l, id)
				}
			}
			return l, true, nil
		}
	}
	return nil, false, nil
}

// indexedValue reads the string an indexed comparison compares with ("" for pr).
func indexedValue(e *filter.AttributeExpression) (access.Match, bool) {
	switch e.Operator {
	case filter.PR:
		return access.Match{Op: "pr"}, true
	case filter.EQ, filter.SW, filter.CO:
		s, ok := e.CompareValue.(string)
		return access.Match{Op: string(e.Operator), Value: s}, ok
	}
	return access.Match{}, false
}

// attrIs reports whether a filter's attribute path is name (and sub-attribute sub), in the
// resource's own schema.
func attrIs(p filter.AttributePath, core, name, sub string) bool {
	if uri := p.URI(); uri != "" && !strings.EqualFold(uri, core) {
		return false
	}
	return strings.EqualFold(p.AttributeName, name) && strings.EqualFold(p.SubAttributeName(), sub)
}

// noIndex is the answer to a filter no index serves.
func noIndex(s string) error {
	return badRequest("invalidFilter", "the filter %q needs an index Tilgang does not keep: filter on id, userName or externalId (Users), id, displayName, externalId or members.value (Groups); eq, sw, co and pr, with and/or", s)
}

// caseExact lists the attributes compared case-sensitively (ids; RFC 7643 marks them so).
func caseExact(path filter.AttributePath) bool {
	n := strings.ToLower(path.AttributeName)
	sub := strings.ToLower(path.SubAttributeName())
	return n == "id" || n == "externalid" || (sub == "value" && (n == "members" || n == "groups" || n == "manager"))
}

// eval checks a filter on a resource's JSON.
func eval(e filter.Expression, res map[string]any) bool {
	switch x := e.(type) {
	case *filter.LogicalExpression:
		if x.Operator == filter.AND {
			return eval(x.Left, res) && eval(x.Right, res)
		}
		return eval(x.Left, res) || eval(x.Right, res)
	case *filter.NotExpression:
		return !eval(x.Expression, res)
	case *filter.ValuePath:
		v, _ := field(scoped(res, x.AttributePath), x.AttributePath.AttributeName)
		for _, el := range array(v) {
			if o, ok := object(el); ok && eval(x.ValueFilter, o) {
				return true
			}
		}
		return false
	case *filter.AttributeExpression:
		vals := values(res, x.AttributePath)
		if x.Operator == filter.PR {
			return slices.ContainsFunc(vals, func(v any) bool { return v != nil && v != "" })
		}
		exact := caseExact(x.AttributePath)
		return slices.ContainsFunc(vals, func(v any) bool { return compare(x.Operator, v, x.CompareValue, exact) })
	}
	return false
}

// scoped is the part of a resource an attribute path lives in (the extension's object for its
// URN).
func scoped(res map[string]any, p filter.AttributePath) map[string]any {
	if uri := p.URI(); uri != "" && strings.EqualFold(uri, URNEnterprise) {
		o, _ := field(res, URNEnterprise)
		m, _ := object(o)
		return m
	}
	return res
}

// values lists what an attribute path holds: for a multi-valued attribute every element's
// sub-attribute (or "value").
func values(res map[string]any, p filter.AttributePath) []any {
	v, ok := field(scoped(res, p), p.AttributeName)
	if !ok {
		return nil
	}
	sub := p.SubAttributeName()
	var out []any
	for _, el := range array(v) {
		if o, ok := object(el); ok {
			name := sub
			if name == "" {
				name = "value"
			}
			if x, ok := field(o, name); ok {
				out = append(out, x)
			}
			continue
		}
		if sub == "" {
			out = append(out, el)
		}
	}
	return out
}

func compare(op filter.CompareOperator, have, want any, exact bool) bool {
	if hb, ok := have.(bool); ok {
		wb, err := boolean(want, "")
		return err == nil && op == filter.EQ && hb == wb || err == nil && op == filter.NE && hb != wb
	}
	h, w := text(have), text(want)
	if !exact {
		h, w = strings.ToLower(h), strings.ToLower(w)
	}
	switch op {
	case filter.EQ:
		return h == w
	case filter.NE:
		return h != w
	case filter.CO:
		return strings.Contains(h, w)
	case filter.SW:
		return strings.HasPrefix(h, w)
	case filter.EW:
		return strings.HasSuffix(h, w)
	case filter.GT:
		return h > w
	case filter.GE:
		return h >= w
	case filter.LT:
		return h < w
	case filter.LE:
		return h <= w
	}
	return false
}

func text(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}
