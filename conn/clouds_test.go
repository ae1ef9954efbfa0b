package conn_test

import (
	"slices"
	"testing"

	"github.com/modauth/modauth/appreg"
	"github.com/modauth/modauth/conn"
	"github.com/modauth/modauth/store"
)

// TestAudiencesPerCloud: a profile of each cloud asks for its own cloud's
// audiences, as shared/reference/microsoft.md §9.8 gives them (and §2.2
// for the global cloud's Outlook audience): Graph, EWS and app-only
// Exchange tokens, delegated IMAP/POP/SMTP tokens, the scopes the sign-in
// consents to, and an admin's Graph scopes. Before, EWS and mail
// audiences were public-cloud constants.
func TestAudiencesPerCloud(t *testing.T) {
	want := map[string]struct{ graph, exchange, mail string }{
		"public":    {"https://graph.microsoft.com", "https://outlook.office365.com", "https://outlook.office.com"},
		"usgov":     {"https://graph.microsoft.us", "https://outlook.office365.us", "https://outlook.office365.us"},
		"usgov-dod": {"https://dod-graph.microsoft.us", "https://outlook-dod.office365.us", "https://outlook-dod.office365.us"},
		"china":     {"https://microsoftgraph.chinacloudapi.cn", "https://partner.outlook.cn", "https://partner.outlook.cn"},
	}
	for _, cl := range store.Clouds {
		t.Run(cl.ID, func(t *testing.T) {
			w := want[cl.ID]
			all := []store.Protocol{store.Graph, store.EWS, store.IMAP, store.POP, store.SMTP}
			delegated := conn.New(store.Profile{Model: store.Delegated, Protocols: all, Hosts: cl.Hosts}, conn.Deps{})
			app := conn.New(store.Profile{Model: store.AppOnly, Protocols: all, Hosts: cl.Hosts}, conn.Deps{})
			for _, tc := range []struct {
				c     *conn.Conn
				proto store.Protocol
				want  string
			}{
				{delegated, store.Graph, w.graph}, {delegated, store.EWS, w.exchange},
				{delegated, store.IMAP, w.mail}, {delegated, store.POP, w.mail}, {delegated, store.SMTP, w.mail},
				{app, store.Graph, w.graph}, {app, store.EWS, w.exchange},
				{app, store.IMAP, w.exchange}, {app, store.POP, w.exchange}, {app, store.SMTP, w.exchange},
			} {
				if got := tc.c.Audience(tc.proto); got != tc.want {
					t.Errorf("%s %s: audience %s, want %s", tc.c.Profile().Model, tc.proto, got, tc.want)
				}
			}
			// In a national cloud EWS and mail share the Exchange audience:
			// one token serves both.
			if got := delegated.Audiences(); !slices.Equal(got, slices.Compact([]string{w.graph, w.exchange, w.mail})) {
				t.Errorf("delegated audiences %v", got)
			}
			if got := delegated.AdminScopes(appreg.AdminPermissions...); got[0] != w.graph+"/User.Read.All" || got[len(got)-1] != "offline_access" {
				t.Errorf("admin scopes %v", got)
			}

			// The scopes a sign-in consents to are on the cloud's resources.
			sc := appreg.Scenario{Product: "Acme", Environment: "production", Model: store.Delegated, Protocols: all,
				Data: []appreg.Data{appreg.Calendar}, Hosts: cl.Hosts}
			plan, err := appreg.NewPlan(sc)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range []string{w.graph + "/Calendars.ReadWrite", w.exchange + "/EWS.AccessAsUser.All", w.mail + "/IMAP.AccessAsUser.All", w.mail + "/SMTP.Send"} {
				if !slices.Contains(plan.SignInScopes, s) {
					t.Errorf("sign-in scopes %v lack %s", plan.SignInScopes, s)
				}
			}
			p := store.Profile{Model: store.Delegated, Protocols: all, Hosts: cl.Hosts, Scopes: plan.SignInScopes}
			got := conn.New(p, conn.Deps{}).Scopes(w.mail)
			for _, s := range []string{w.mail + "/IMAP.AccessAsUser.All", w.mail + "/POP.AccessAsUser.All", w.mail + "/SMTP.Send"} {
				if !slices.Contains(got, s) {
					t.Errorf("the mail token's scopes %v lack %s", got, s)
				}
			}
			app2, err := appreg.NewPlan(appreg.Scenario{Product: "Acme", Environment: "production", Model: store.AppOnly, Protocols: all,
				Data: []appreg.Data{appreg.MailSend}, Hosts: cl.Hosts})
			if err != nil {
				t.Fatal(err)
			}
			for _, tok := range app2.Tokens {
				if tok.Audience != w.graph && tok.Audience != w.exchange {
					t.Errorf("app-only token for %s", tok.Audience)
				}
			}
		})
	}
}
