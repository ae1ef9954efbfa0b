package m365sim

import (
	"strings"
	"testing"
)

// FuzzSignInFilter: any value quoted as OData quotes it (a quote doubled)
// is read back whole, whatever " and ", " or ", quotes or parentheses it
// holds; and no filter makes the parser panic.
func FuzzSignInFilter(f *testing.F) {
	for _, seed := range []string{"o'brien@contoso.com", "x' and appId eq 'y", "a) or (b", "''", " and ", "signInEventTypes/any(t: t eq 'x')"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, v string) {
		_, _ = parseSignInFilter(v)
		lit := "'" + strings.ReplaceAll(v, "'", "''") + "'"
		filter := "userPrincipalName eq " + lit + " and signInEventTypes/any(t: t eq 'nonInteractiveUser' or t eq 'servicePrincipal')"
		p, e := parseSignInFilter(filter)
		if e != nil {
			t.Fatalf("%s: %v", filter, e)
		}
		if !p.keep(&SignIn{UPN: v, EventType: ServicePrincipal}) || p.keep(&SignIn{UPN: v + "x", EventType: ServicePrincipal}) ||
			p.keep(&SignIn{UPN: v, EventType: InteractiveUser}) {
			t.Fatalf("%s does not select exactly %q's non-interactive and app sign-ins", filter, v)
		}
	})
}
