package m365sim

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// signInFilter is a parsed $filter of the sign-in log: a conjunction of
// clauses, and the event types asked for.
type signInFilter struct {
	match []func(*SignIn) bool
	// types are the event types signInEventTypes/any(...) names; without
	// that clause the beta returns interactive sign-ins only.
	types []string
}

func (f *signInFilter) keep(ev *SignIn) bool {
	types := f.types
	if types == nil {
		types = []string{InteractiveUser}
	}
	if !slices.Contains(types, ev.EventType) {
		return false
	}
	for _, m := range f.match {
		if !m(ev) {
			return false
		}
	}
	return true
}

// parseSignInFilter reads the $filter forms the sign-in log supports (and
// modauth uses); Graph refuses others with 400, and so does the simulator.
func parseSignInFilter(filter string) (*signInFilter, *graphError) {
	f := &signInFilter{}
	if strings.TrimSpace(filter) == "" {
		return f, nil
	}
	for _, clause := range splitTop(filter, "and") {
		if e := f.add(strings.TrimSpace(clause)); e != nil {
			return nil, e
		}
	}
	return f, nil
}

func (f *signInFilter) add(clause string) *graphError {
	if body, ok := cutPrefixFold(clause, "signInEventTypes/any("); ok && strings.HasSuffix(body, ")") {
		types, ok := eventTypes(strings.TrimSuffix(body, ")"))
		if !ok {
			return errFilterClause(clause)
		}
		f.types = append(f.types, types...)
		return nil
	}
	prop, rest, _ := strings.Cut(clause, " ")
	op, value, _ := strings.Cut(strings.TrimSpace(rest), " ")
	op, value = strings.ToLower(op), strings.TrimSpace(value)
	var m func(*SignIn) bool
	switch strings.ToLower(prop) {
	case "appid":
		m = stringEq(op, value, func(ev *SignIn) string { return ev.AppID })
	case "userprincipalname":
		m = stringEq(op, value, func(ev *SignIn) string { return ev.UPN })
	case "userid":
		m = stringEq(op, value, func(ev *SignIn) string { return ev.UserID })
	case "serviceprincipalcredentialkeyid":
		m = stringEq(op, value, func(ev *SignIn) string { return ev.CredentialKeyID })
	case "serviceprincipalid":
		m = stringEq(op, value, func(ev *SignIn) string { return ev.ServicePrincipalID })
	case "createddatetime":
		m = createdSince(op, value)
	case "status/errorcode":
		m = errorCodeIs(op, value)
	}
	if m == nil {
		return errFilterClause(clause)
	}
	f.match = append(f.match, m)
	return nil
}

func errFilterClause(clause string) *graphError {
	return gerr(http.StatusBadRequest, "Request_UnsupportedQuery", "Unsupported query: the filter clause '%s' is not supported on signIns.", clause)
}

// eventTypes reads "t: t eq 'x' or t eq 'y'", the lambda of an any().
func eventTypes(lambda string) ([]string, bool) {
	v, body, ok := strings.Cut(lambda, ":")
	v = strings.TrimSpace(v)
	if !ok || v == "" {
		return nil, false
	}
	var types []string
	for _, alt := range splitTop(body, "or") {
		lhs, rhs, ok := strings.Cut(strings.TrimSpace(alt), " eq ")
		kind, quotedOK := unquote(strings.TrimSpace(rhs))
		known := []string{InteractiveUser, NonInteractiveUser, ServicePrincipal, "managedIdentity"}
		if !ok || strings.TrimSpace(lhs) != v || !quotedOK || !slices.Contains(known, kind) {
			return nil, false
		}
		types = append(types, kind)
	}
	return types, true
}

// stringEq matches "prop eq 'value'" without regard to case, as Graph
// compares these properties.
func stringEq(op, value string, field func(*SignIn) string) func(*SignIn) bool {
	want, ok := unquote(value)
	if op != "eq" || !ok {
		return nil
	}
	return func(ev *SignIn) bool { return strings.EqualFold(field(ev), want) }
}

// createdSince matches "createdDateTime ge|gt 2026-11-29T00:00:00Z": an
// unquoted instant, as OData writes a DateTimeOffset.
func createdSince(op, value string) func(*SignIn) bool {
	at, err := time.Parse(time.RFC3339Nano, value)
	if err != nil {
		return nil
	}
	switch op {
	case "ge":
		return func(ev *SignIn) bool { return !ev.Created.Before(at) }
	case "gt":
		return func(ev *SignIn) bool { return ev.Created.After(at) }
	}
	return nil
}

// errorCodeIs matches "status/errorCode eq|ne 0".
func errorCodeIs(op, value string) func(*SignIn) bool {
	n, err := strconv.Atoi(value)
	if err != nil {
		return nil
	}
	switch op {
	case "eq":
		return func(ev *SignIn) bool { return ev.ErrorCode == n }
	case "ne":
		return func(ev *SignIn) bool { return ev.ErrorCode != n }
	}
	return nil
}

// unquote reads an OData string literal: in single quotes, a quote doubled.
func unquote(v string) (string, bool) {
	if len(v) < 2 || v[0] != '\'' || v[len(v)-1] != '\'' {
		return "", false
	}
	var b strings.Builder
	for i := 1; i < len(v)-1; i++ {
		if v[i] == '\'' {
			if v[i+1] != '\'' || i+1 == len(v)-1 {
				return "", false // the literal ended before the value did
			}
			i++
		}
		b.WriteByte(v[i])
	}
	return b.String(), true
}

// splitTop splits s at the keyword word (" and ", " or ") where it stands
// outside string literals and parentheses.
func splitTop(s, word string) []string {
	sep := " " + word + " "
	var parts []string
	depth, quoted, start := 0, false, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\'':
			quoted = !quoted
		case quoted:
		case c == '(':
			depth++
		case c == ')':
			depth--
		case depth == 0 && i+len(sep) <= len(s) && strings.EqualFold(s[i:i+len(sep)], sep):
			parts = append(parts, s[start:i])
			start = i + len(sep)
			i += len(sep) - 1
		}
	}
	return append(parts, s[start:])
}
