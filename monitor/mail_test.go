package monitor_test

import (
	"net"
	"strings"
	"testing"

	"github.com/modauth/modauth/m365sim"
	"github.com/modauth/modauth/store"
)

// A mail-protocol profile's job is a sign-in probe with the user's Outlook
// token: here the IMAP server is down, so the user is unreachable, with
// the address in the error. (The probes themselves meet real Dovecot and
// Postfix in the exchange package.)
func TestMailProbeJob(t *testing.T) {
	f := newFixture(t, m365sim.Options{})
	f.app = f.sim.App // the demo app: IMAP, POP, SMTP delegated
	f.sim.GrantAdminConsent(f.sim.Tenant, f.app)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	f.putProfile(store.Profile{Model: store.Delegated, Protocols: []store.Protocol{store.IMAP},
		Scopes: []string{"https://outlook.office.com/IMAP.AccessAsUser.All", "offline_access", "openid", "profile"}})
	p, _ := f.db.Profile(pid)
	p.Hosts.IMAP = addr
	f.db.PutProfile(p)
	f.user("AV", anna, store.MappingOK)
	f.signInScopes("AV", anna, p.Scopes)
	f.sweep()
	j := f.job("AV")
	if j.State != store.StateUnreachable || j.LastError == nil || !strings.Contains(j.LastError.Message, addr) {
		t.Errorf("job %s %+v", j.State, j.LastError)
	}
	if n := f.eng.Stats.TokenRequests.Load(); n != 1 {
		t.Errorf("%d token requests: the Outlook token must be fetched once", n)
	}
}
