package m365sim

import (
	"encoding/base64"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Graph's user lookups: GET /users/{id | userPrincipalName} and
// GET /users?$filter=… with the filters microsoft.md §7 names.

// Permissions that let a caller read every user; delegated callers may
// also read themselves with User.Read.
var userReadAll = []string{"User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}

// userPageSize is Graph's default page size for users.
const userPageSize = 100

// indexUsers builds t.byKey. Users never change after newTenant.
func (t *Tenant) indexUsers() {
	t.byKey = make(map[string]*User, 3*len(t.Users))
	for _, u := range t.Users {
		t.byKey[strings.ToLower(u.ObjectID)] = u
		t.byKey[strings.ToLower(u.UPN)] = u
		for _, p := range u.ProxyAddresses {
			if addr, ok := cutPrefixFold(p, "smtp:"); ok {
				t.byKey["smtp:"+strings.ToLower(addr)] = u
			}
		}
	}
}

// lookupUser finds a user as Graph resolves /users/{key}: object ID or
// UPN, without regard to case.
func (t *Tenant) lookupUser(key string) *User {
	is := func(u *User) bool { return strings.EqualFold(u.ObjectID, key) || strings.EqualFold(u.UPN, key) }
	if u := t.byKey[strings.ToLower(key)]; u != nil && is(u) {
		return u
	}
	for _, u := range t.Users {
		if is(u) {
			return u
		}
	}
	return nil
}

// userByAddress finds the user with the SMTP address among its proxy
// addresses, primary or not.
func (t *Tenant) userByAddress(addr string) *User {
	if u := t.byKey["smtp:"+strings.ToLower(addr)]; u != nil && u.hasAddress(addr) {
		return u
	}
	for _, u := range t.Users {
		if u.hasAddress(addr) {
			return u
		}
	}
	return nil
}

func (u *User) hasAddress(addr string) bool {
	return slices.ContainsFunc(u.ProxyAddresses, func(p string) bool {
		a, ok := cutPrefixFold(p, "smtp:")
		return ok && strings.EqualFold(a, addr)
	})
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return s, false
}

// Properties of a user: the ones Graph returns without $select, and the
// ones it returns only when $select names them (microsoft.md §7).
var (
	userDefaultProps = []string{"businessPhones", "displayName", "givenName", "jobTitle", "mail", "mobilePhone",
		"officeLocation", "preferredLanguage", "surname", "userPrincipalName", "id"}
	userSelectOnly = []string{"accountEnabled", "proxyAddresses"}
	userProps      = append(slices.Clone(userDefaultProps), userSelectOnly...)
)

func userProp(u *User, name string) any {
	switch name {
	case "id":
		return u.ObjectID
	case "userPrincipalName":
		return u.UPN
	case "displayName":
		return u.DisplayName
	case "givenName":
		return u.GivenName
	case "surname":
		return u.Surname
	case "mail":
		if u.Mail == "" {
			return nil
		}
		return u.Mail
	case "businessPhones":
		return []string{}
	case "proxyAddresses":
		return nonNil(u.ProxyAddresses)
	case "accountEnabled":
		return u.Enabled
	}
	return nil // jobTitle, mobilePhone, …: not set on simulated users
}

// parseSelect reads $select; nil means Graph's default properties.
func parseSelect(sel string) ([]string, *graphError) {
	if strings.TrimSpace(sel) == "" {
		return nil, nil
	}
	var props []string
	for _, p := range strings.Split(sel, ",") {
		p = strings.TrimSpace(p)
		i := slices.IndexFunc(userProps, func(n string) bool { return strings.EqualFold(n, p) })
		if i < 0 {
			return nil, gerr(http.StatusBadRequest, "BadRequest", "Could not find a property named '%s' on type 'microsoft.graph.user'.", p)
		}
		props = append(props, userProps[i])
	}
	return props, nil
}

func userView(u *User, props []string) map[string]any {
	if props == nil {
		props = userDefaultProps
	}
	v := make(map[string]any, len(props)+1)
	for _, p := range props {
		v[p] = userProp(u, p)
	}
	return v
}

// usersContext is the @odata.context of a user answer.
func (s *Sim) usersContext(props []string) string {
	c := s.URL + "/v1.0/$metadata#users"
	if props != nil {
		c += "(" + strings.Join(props, ",") + ")"
	}
	return c
}

// getUser is GET /users/{id | userPrincipalName}.
func (s *Sim) getUser(g *graphReq) (int, any, *graphError) {
	u := g.t.lookupUser(g.key)
	self := g.c.user != nil && u == g.c.user && g.c.has("User.Read", "User.ReadWrite", "User.ReadBasic.All")
	if !g.c.has(userReadAll...) && !self {
		return 0, nil, errForbidden("")
	}
	if u == nil {
		return 0, nil, errNotFound(g.key)
	}
	props, e := parseSelect(g.r.URL.Query().Get("$select"))
	if e != nil {
		return 0, nil, e
	}
	v := userView(u, props)
	v["@odata.context"] = s.usersContext(props) + "/$entity"
	return http.StatusOK, v, nil
}

// listUsers is GET /users with $filter, $select, $top and paging.
func (s *Sim) listUsers(g *graphReq) (int, any, *graphError) {
	if !g.c.has(userReadAll...) {
		return 0, nil, errForbidden("")
	}
	q := g.r.URL.Query()
	props, e := parseSelect(q.Get("$select"))
	if e != nil {
		return 0, nil, e
	}
	match, e := parseUserFilter(q.Get("$filter"))
	if e != nil {
		return 0, nil, e
	}
	top := userPageSize
	if v := q.Get("$top"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 999 {
			return 0, nil, errBadRequest("Invalid page size specified: '%s'. Must be between 1 and 999 inclusive.", v)
		}
		top = n
	}
	skip := 0
	if v := q.Get("$skiptoken"); v != "" {
		raw, err := base64.RawURLEncoding.DecodeString(v)
		n, ok := strings.CutPrefix(string(raw), "users:")
		if skip, err = strconv.Atoi(n); err != nil || !ok || skip < 0 {
			return 0, nil, errBadRequest("Invalid $skiptoken.")
		}
	}
	var found []*User
	for _, u := range g.t.Users {
		if match(u) {
			found = append(found, u)
		}
	}
	page := []map[string]any{}
	for _, u := range found[min(skip, len(found)):min(skip+top, len(found))] {
		page = append(page, userView(u, props))
	}
	body := map[string]any{"@odata.context": s.usersContext(props), "value": page}
	if q.Get("$count") == "true" {
		body["@odata.count"] = len(found)
	}
	if skip+top < len(found) {
		body["@odata.nextLink"] = s.URL + "/v1.0/users?" + odataQuery(q, "$skiptoken",
			base64.RawURLEncoding.EncodeToString([]byte("users:"+strconv.Itoa(skip+top))))
	}
	return http.StatusOK, body, nil
}

// odataQuery re-encodes q with key set to value, keeping the '$' of
// OData's system options readable as Graph does in its links.
func odataQuery(q url.Values, key, value string) string {
	q2 := url.Values{}
	maps.Copy(q2, q)
	q2.Set(key, value)
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(q2)) {
		for _, v := range q2[k] {
			parts = append(parts, strings.ReplaceAll(url.QueryEscape(k), "%24", "$")+"="+url.QueryEscape(v))
		}
	}
	return strings.Join(parts, "&")
}

// parseUserFilter understands the filters user lookups send: `mail eq
// 'x'`, `userPrincipalName eq 'x'` and `proxyAddresses/any(p:p eq 'x')`,
// joined by `or`. Strings compare without regard to case, the "smtp:"
// prefix included. Anything else is Graph's "Unsupported Query.".
func parseUserFilter(filter string) (func(*User) bool, *graphError) {
	if strings.TrimSpace(filter) == "" {
		return func(*User) bool { return true }, nil
	}
	unsupported := gerr(http.StatusBadRequest, "Request_UnsupportedQuery", "Unsupported Query.")
	var terms []func(*User) bool
	rest := strings.TrimSpace(filter)
	for {
		term, r, ok := parseUserTerm(rest)
		if !ok {
			return nil, unsupported
		}
		terms = append(terms, term)
		r = strings.TrimSpace(r)
		if r == "" {
			break
		}
		kw, r2, _ := strings.Cut(r, " ")
		if !strings.EqualFold(kw, "or") {
			return nil, unsupported
		}
		rest = strings.TrimSpace(r2)
	}
	return func(u *User) bool {
		return slices.ContainsFunc(terms, func(t func(*User) bool) bool { return t(u) })
	}, nil
}

// parseUserTerm parses one comparison at the start of s and returns the
// rest of s after it.
func parseUserTerm(s string) (func(*User) bool, string, bool) {
	if rest, ok := cutPrefixFold(s, "proxyAddresses/any("); ok {
		v, body, ok := strings.Cut(rest, ":")
		v = strings.TrimSpace(v)
		if !ok || v == "" {
			return nil, "", false
		}
		body, ok = cutPrefixFold(strings.TrimSpace(body), v+" eq ")
		if !ok {
			return nil, "", false
		}
		value, after, ok := odataLiteral(strings.TrimSpace(body))
		after = strings.TrimSpace(after)
		if !ok || !strings.HasPrefix(after, ")") {
			return nil, "", false
		}
		return func(u *User) bool { return containsFold(u.ProxyAddresses, value) }, after[1:], true
	}
	prop, rest, ok := strings.Cut(s, " ")
	if !ok {
		return nil, "", false
	}
	rest, ok = cutPrefixFold(strings.TrimSpace(rest), "eq ")
	if !ok {
		return nil, "", false
	}
	value, after, ok := odataLiteral(strings.TrimSpace(rest))
	if !ok {
		return nil, "", false
	}
	switch {
	case strings.EqualFold(prop, "mail"):
		return func(u *User) bool { return u.Mail != "" && strings.EqualFold(u.Mail, value) }, after, true
	case strings.EqualFold(prop, "userPrincipalName"):
		return func(u *User) bool { return strings.EqualFold(u.UPN, value) }, after, true
	}
	return nil, "", false
}

// odataLiteral reads a quoted OData string (” stands for ') at the
// start of s.
func odataLiteral(s string) (value, rest string, ok bool) {
	if !strings.HasPrefix(s, "'") {
		return "", "", false
	}
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		if s[i] != '\'' {
			b.WriteByte(s[i])
			continue
		}
		if i+1 < len(s) && s[i+1] == '\'' {
			b.WriteByte('\'')
			i++
			continue
		}
		return b.String(), s[i+1:], true
	}
	return "", "", false
}
