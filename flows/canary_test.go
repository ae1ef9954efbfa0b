package flows_test

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modauth/modauth/flows"
	"github.com/modauth/modauth/internal/testkit"
	"github.com/modauth/modauth/m365sim"
	"github.com/modauth/modauth/store"
)

// TestCanary plants a client secret and refresh tokens, runs every flow
// and store path with debug logging on, and then looks for them in every
// log line, error string, event and store dump. They may exist only
// sealed.
func TestCanary(t *testing.T) {
	const secretCanary = "CANARY-secret-Zq81xv0pLk2M"
	const rtCanary = "CANARY-rt-9fd1e2"
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))

	e := newEnv(t, func(c *flows.Config) { c.Logger = logger })
	app := e.sim.RegisterApp(e.sim.Tenant, m365sim.AppSpec{
		DisplayName: "canary", WebRedirectURIs: []string{"https://crm.example.com/cb"},
		PublicRedirectURIs: []string{"http://localhost"}, FallbackPublicClient: true,
		Required: []string{"IMAP.AccessAsUser.All", "SMTP.Send", "offline_access", "openid", "profile", "User.Read", "role:full_access_as_app"},
	})
	e.sim.AddSecretValue(app, secretCanary, 24*time.Hour)
	e.sim.GrantAdminConsent(e.sim.Tenant, app)
	c := e.client(t, func(c *flows.Config) {
		c.ClientID, c.ClientSecret, c.Logger = app.ClientID, store.Secret(secretCanary), logger
	})
	e.c = c

	var errs []error
	var secrets []string // every token value the flows handed out
	keep := func(tok *flows.Token, err error) *flows.Token {
		if err != nil {
			errs = append(errs, err)
			return tok
		}
		secrets = append(secrets, tok.AccessToken.Reveal(), tok.RefreshToken.Reveal())
		return tok
	}

	// Every flow, good and bad.
	keep(c.ClientCredentials(testkit.Ctx(t), "https://outlook.office365.com"))
	dev := keep(e.signInDevice(t, anna), nil)
	loop := keep(e.signInLoopback(t, anna))
	s, _ := c.StartAuthCode(flows.AuthCodeRequest{RedirectURI: "https://crm.example.com/cb", Scopes: delegatedScopes, Confidential: true})
	to, _ := e.sim.SignIn(s.URL, anna)
	keep(s.Complete(testkit.Ctx(t), to))
	keep(s.Complete(testkit.Ctx(t), to)) // a second redemption fails
	keep(c.Refresh(testkit.Ctx(t), dev.Stored()))
	keep(c.Refresh(testkit.Ctx(t), store.Token{RefreshToken: rtCanary, Confidential: true}))
	bad := e.client(t, func(cfg *flows.Config) {
		cfg.ClientID, cfg.ClientSecret, cfg.Logger = app.ClientID, store.Secret(secretCanary+"x"), logger
	})
	keep(bad.ClientCredentials(testkit.Ctx(t), "https://outlook.office365.com"))
	// A device flow sending the secret (DeviceConfidential) to a public
	// client: Entra refuses the poll with 700025.
	devConf := e.client(t, func(cfg *flows.Config) {
		cfg.ClientID, cfg.ClientSecret, cfg.Logger, cfg.DeviceConfidential = app.ClientID, store.Secret(secretCanary), logger, true
	})
	if dc, err := devConf.StartDeviceCode(testkit.Ctx(t), delegatedScopes); err != nil {
		errs = append(errs, err)
	} else {
		keep(devConf.PollDeviceCode(testkit.Ctx(t), dc))
	}
	e.sim.RevokeSessions(e.sim.Tenant.User(anna))
	keep(c.Refresh(testkit.Ctx(t), loop.Stored()))
	if len(errs) < 5 {
		t.Fatalf("want the bad calls to fail, got %d errors", len(errs))
	}

	// Every store path: the client secret, tokens, and errors as events.
	dir := t.TempDir()
	db, err := store.Open(filepath.Join(dir, "modauth.db"), store.Options{Now: e.sim.Clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.PutProfile(store.Profile{ID: "acme-production", Customer: "Acme", ClientID: app.ClientID}); err != nil {
		t.Fatal(err)
	}
	if err := db.SetClientSecret("acme-production", store.ClientSecret{Value: secretCanary, KeyID: "k"}); err != nil {
		t.Fatal(err)
	}
	if err := db.PutUsers("acme-production", store.User{Key: "AV", Account: anna}); err != nil {
		t.Fatal(err)
	}
	planted := dev.Stored()
	planted.RefreshToken = rtCanary
	if err := db.PutToken("acme-production", "AV", planted); err != nil {
		t.Fatal(err)
	}
	for _, err := range errs {
		if _, err := db.Append(store.Event{Profile: "acme-production", User: "AV", Kind: "token", Message: err.Error()}); err != nil {
			t.Fatal(err)
		}
	}
	var dump bytes.Buffer
	if err := db.Dump(&dump); err != nil {
		t.Fatal(err)
	}
	events, _ := db.Events("", 0, 0)
	got, _ := db.Token("acme-production", "AV")
	cs, _ := db.ClientSecret("acme-production")
	db.Close()
	raw, _ := os.ReadFile(filepath.Join(dir, "modauth.db"))
	if got.RefreshToken != rtCanary || cs.Value != secretCanary {
		t.Fatal("the sealed values must come back intact")
	}

	places := map[string]string{
		"logs":     logs.String(),
		"dump":     dump.String(),
		"database": string(raw),
		"events":   fmt.Sprintf("%+v", events),
		"tokens":   fmt.Sprintf("%v %+v %#v %v", dev, loop, dev.Stored(), got),
		"secret":   fmt.Sprintf("%v %+v %#v", cs, cs, cs),
	}
	for _, err := range errs {
		places["error "+err.Error()[:min(40, len(err.Error()))]] = err.Error() + fmt.Sprintf(" %+v %#v", err, errors.Unwrap(err))
	}
	if !strings.Contains(logs.String(), "/oauth2/v2.0/token") {
		t.Fatal("debug logging did not run: the test would prove nothing")
	}
	for where, text := range places {
		for _, secret := range append([]string{secretCanary, rtCanary}, secrets...) {
			if secret != "" && strings.Contains(text, secret) {
				t.Errorf("%s contains a secret (%.12s…)", where, secret)
			}
		}
	}
}
