package exchange_test

import (
	"cmp"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modauth/modauth/exchange"
	"github.com/modauth/modauth/flows"
	"github.com/modauth/modauth/m365sim"
	"github.com/modauth/modauth/store"
)

// mailPeerScopes are what a per-user mail profile asks for.
var mailPeerScopes = []string{"https://outlook.office.com/IMAP.AccessAsUser.All", "https://outlook.office.com/POP.AccessAsUser.All", "https://outlook.office.com/SMTP.Send", "offline_access"}

// TestMailPeers probes a real Dovecot (IMAP, POP) and a real Postfix
// (submission, logins checked by Dovecot) with tokens from the simulated
// tenant. Dovecot validates each token as Exchange would: the signature
// with the tenant's key, issuer, audience, expiry, and that the token's
// user is the user= of the login.
func TestMailPeers(t *testing.T) {
	mailNeedPeer(t, "dovecot")
	// The wall clock, not the tests' instant: Dovecot checks a token's
	// times against its own clock, and the assertions here name no date.
	sim := m365sim.Start(t, m365sim.Options{Clock: m365sim.NewClock()})
	good := mailSimToken(t, sim, mailUser, mailPeerScopes)
	graph := mailSimToken(t, sim, mailUser, []string{"https://graph.microsoft.com/User.Read"})
	forged := mailResign(t, good)
	const canary = store.Secret("CANARY-mail-peers-4f1c9a0e77b2")
	peers := startMailPeers(t, sim, good)

	type probe struct {
		proto exchange.MailProtocol
		addr  string
		name  string // what is wrong, "" for nothing
		user  string
		token store.Secret
		err   error
		took  time.Duration
	}
	var probes []*probe
	for _, p := range []struct {
		proto exchange.MailProtocol
		addr  string
	}{{exchange.MailIMAP, peers.imap}, {exchange.MailPOP, peers.pop}, {exchange.MailSMTP, peers.smtp}} {
		probes = append(probes,
			&probe{proto: p.proto, addr: p.addr, user: mailUser, token: good},
			&probe{proto: p.proto, addr: p.addr, name: "other key", user: mailUser, token: forged},
			&probe{proto: p.proto, addr: p.addr, name: "wrong user", user: "bjanssen@contoso.onmicrosoft.com", token: good},
			&probe{proto: p.proto, addr: p.addr, name: "graph audience", user: mailUser, token: graph},
			&probe{proto: p.proto, addr: p.addr, name: "canary", user: mailUser, token: canary},
		)
	}
	// Dovecot answers a refusal only on its next 0.5 s tick, so the
	// probes run all at once rather than one after the other.
	var wg sync.WaitGroup
	for _, p := range probes {
		if p.addr == "" {
			continue // no Postfix here; its subtests say why
		}
		wg.Go(func() {
			probe := exchange.MailProbe{Addr: p.addr, TLS: peers.pki.client(), Timeout: 10 * time.Second}
			start := time.Now() // real time: how long the probe took, for the log
			p.err = probe.Probe(t.Context(), p.proto, p.user, p.token)
			p.took = time.Since(start)
		})
	}
	wg.Wait()

	for _, p := range probes {
		name := cmp.Or(p.name, "good")
		t.Run(string(p.proto)+"/"+name, func(t *testing.T) {
			if p.addr == "" {
				mailNeedPeer(t, "postfix")
			}
			t.Logf("%v in %v", p.err, p.took.Round(time.Millisecond))
			for _, tok := range []store.Secret{good, forged, graph, canary} {
				mailNoSecrets(t, p.err, tok)
			}
			if p.name == "" {
				if p.err != nil {
					t.Fatalf("good token refused: %v", p.err)
				}
				return
			}
			var me *exchange.MailError
			if !errors.As(p.err, &me) || !errors.Is(p.err, exchange.ErrMailAuthFailed) || me.Stage != "auth" {
				t.Fatalf("want a refusal at auth, got %v", p.err)
			}
			if errors.Is(p.err, exchange.ErrSMTPAuthDisabled) {
				t.Errorf("%v: a bad token is not SMTP AUTH turned off", p.err)
			}
			hint := map[exchange.MailProtocol]string{exchange.MailIMAP: "-ImapEnabled $true", exchange.MailPOP: "-PopEnabled $true", exchange.MailSMTP: "SMTP.Send"}[p.proto]
			if !strings.Contains(me.Fix, "https://outlook.office.com") || !strings.Contains(me.Fix, hint) {
				t.Errorf("fix %q does not say what to check", me.Fix)
			}
		})
	}

	// The refusals must be for the intended reasons, not, say, a key file
	// Dovecot could not find.
	log := peers.dovecotLog()
	for _, want := range []string{"Bad signature", "did not match", "client_id not found in aud field", "Not a JWT token"} {
		if !strings.Contains(log, want) {
			t.Errorf("dovecot log has no %q", want)
		}
	}
	if strings.Contains(log, "RS256 key") {
		t.Errorf("dovecot could not find the key:\n%s", log)
	}
}

// mailNeedPeer skips the test when the named mail server cannot run here,
// or fails it when MODAUTH_REQUIRE_PEERS=1 (CI), so a missing package
// cannot pass as a green run.
func mailNeedPeer(t *testing.T, name string) {
	t.Helper()
	if reason := mailPeerMissing(name); reason != "" {
		if os.Getenv("MODAUTH_REQUIRE_PEERS") == "1" {
			t.Fatal(reason + " (MODAUTH_REQUIRE_PEERS=1)")
		}
		t.Skip(reason)
	}
}

// mailPeerMissing says why a server cannot run here, or "".
func mailPeerMissing(name string) string {
	install := name + " not installed: run .ci/run or apt-get install dovecot-imapd dovecot-pop3d postfix"
	if mailBin(name) == "" {
		return install
	}
	switch name {
	case "dovecot":
		for _, dir := range []string{"/usr/lib/dovecot", "/usr/libexec/dovecot"} {
			if mailIsFile(filepath.Join(dir, "imap")) && mailIsFile(filepath.Join(dir, "pop3")) {
				return ""
			}
		}
		return "dovecot-imapd or dovecot-pop3d not installed: run .ci/run or apt-get install dovecot-imapd dovecot-pop3d postfix"
	case "postfix":
		if os.Geteuid() != 0 {
			return "postfix needs root (its master process refuses to run otherwise): run the tests as root, as .ci/run does"
		}
		if mailPostfixMaster() == "" {
			return install
		}
	}
	return ""
}

// mailSimToken signs upn in to the simulated tenant by device code and
// returns the access token for scopes.
func mailSimToken(t *testing.T, sim *m365sim.Sim, upn string, scopes []string) store.Secret {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	var dc *flows.DeviceCode
	c, err := flows.New(ctx, flows.Config{
		Authority: sim.URL, Tenant: "contoso.com", ClientID: sim.App.ClientID,
		HTTPClient: sim.HTTPClient(), Now: sim.Clock.Now,
		// Approve instead of waiting. The simulated clock stays put:
		// Dovecot refuses a token issued even a second in its future.
		Sleep: func(ctx context.Context, d time.Duration) error {
			if err := sim.ApproveDevice(dc.UserCode, upn); err != nil {
				t.Errorf("approve: %v", err)
			}
			return ctx.Err()
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if dc, err = c.StartDeviceCode(ctx, scopes); err != nil {
		t.Fatal(err)
	}
	tok, err := c.PollDeviceCode(ctx, dc)
	if err != nil {
		t.Fatal(err)
	}
	return tok.AccessToken
}

// mailResign returns token with the same header and claims, signed by a
// key the tenant never had: what a forged token looks like.
func mailResign(t *testing.T, token store.Secret) store.Secret {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	signing := token.Reveal()[:strings.LastIndex(token.Reveal(), ".")]
	sum := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return store.Secret(signing + "." + base64.RawURLEncoding.EncodeToString(sig))
}

// mailJWTField reads a string field of a JWT part (0 header, 1 claims).
func mailJWTField(t *testing.T, token store.Secret, part int, field string) string {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(strings.Split(token.Reveal(), ".")[part])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	s, _ := m[field].(string)
	if s == "" {
		t.Fatalf("token has no %s", field)
	}
	return s
}
