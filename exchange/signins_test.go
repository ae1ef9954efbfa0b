package exchange_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modauth/modauth/exchange"
	"github.com/modauth/modauth/flows"
	"github.com/modauth/modauth/internal/testkit"
	"github.com/modauth/modauth/m365sim"
	"github.com/modauth/modauth/store"
)

const productCallback = "https://crm.example.com/oauth/callback"

var imapScopes = []string{"https://outlook.office.com/IMAP.AccessAsUser.All", "offline_access"}

// flowsAs is the flows client of an app of the simulated tenant.
func flowsAs(t *testing.T, sim *m365sim.Sim, clientID string, secret store.Secret) *flows.Client {
	t.Helper()
	c, err := flows.New(testkit.Ctx(t), flows.Config{Authority: sim.URL, Tenant: "contoso.com", ClientID: clientID, ClientSecret: secret,
		HTTPClient: sim.HTTPClient(), Now: sim.Clock.Now, Sleep: testkit.Sleep(sim)})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// monitor registers the app that watches the product, with the Graph
// application permissions named, and returns a Graph client on its token
// whose waits advance the simulator's clock.
func monitor(t *testing.T, sim *m365sim.Sim, roles ...string) *exchange.Graph {
	t.Helper()
	var required []string
	for _, r := range roles {
		required = append(required, "role:"+r)
	}
	app := sim.RegisterApp(sim.Tenant, m365sim.AppSpec{DisplayName: "modauth monitor", Required: required})
	sim.GrantAdminConsent(sim.Tenant, app)
	sec := sim.AddSecret(app, 30*24*time.Hour)
	tok, err := flowsAs(t, sim, app.ClientID, store.Secret(sec.Value)).ClientCredentials(testkit.Ctx(t), "https://graph.microsoft.com")
	if err != nil {
		t.Fatal(err)
	}
	return &exchange.Graph{Host: sim.URL, HTTP: sim.HTTPClient(), Now: sim.Clock.Now, Sleep: testkit.Sleep(sim),
		Token: func(context.Context) (store.Secret, error) { return tok.AccessToken, nil }}
}

func fullMonitor(t *testing.T, sim *m365sim.Sim) *exchange.Graph {
	return monitor(t, sim, "AuditLog.Read.All", "Directory.Read.All")
}

// registerProduct registers the business product as a consultant would:
// a Web redirect, IMAP delegated and app-only, admin consent.
func registerProduct(sim *m365sim.Sim) *m365sim.App {
	app := sim.RegisterApp(sim.Tenant, m365sim.AppSpec{DisplayName: "MILSCN", WebRedirectURIs: []string{productCallback},
		Required: []string{"IMAP.AccessAsUser.All", "offline_access", "openid", "role:IMAP.AccessAsApp"}})
	sim.GrantAdminConsent(sim.Tenant, app)
	return app
}

// browserSignIn signs upn in to the product in the browser and redeems
// the code with the product's secret, as the product's server does.
func browserSignIn(t *testing.T, sim *m365sim.Sim, product *flows.Client, upn string) store.Token {
	t.Helper()
	sess, err := product.StartAuthCode(flows.AuthCodeRequest{RedirectURI: productCallback, Scopes: imapScopes, Confidential: true})
	if err != nil {
		t.Fatal(err)
	}
	back, err := sim.SignIn(sess.URL, upn)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := sess.Complete(testkit.Ctx(t), back)
	if err != nil {
		t.Fatalf("%s signs in: %v", upn, err)
	}
	return tok.Stored()
}

// lastByUser is what a dashboard shows per user: the last good sign-in
// and the last failure.
func lastByUser(sins []exchange.SignIn) (ok, failed map[string]exchange.SignIn) {
	ok, failed = map[string]exchange.SignIn{}, map[string]exchange.SignIn{}
	for _, s := range sins { // newest first: keep the first of each
		last := failed
		if s.OK() {
			last = ok
		}
		if _, seen := last[s.UPN]; !seen {
			last[s.UPN] = s
		}
	}
	return ok, failed
}

// TestProductSignIns plays the product: users sign in through the real
// token endpoint and refresh, one is revoked, the product's two secrets
// take app-only tokens and a wrong one fails; the monitor then reads per
// user the last success and failure, and per key the app's sign-ins.
func TestProductSignIns(t *testing.T) {
	sim := m365sim.Start(t, m365sim.Options{})
	app := registerProduct(sim)
	keyA, keyB := sim.AddSecret(app, 180*24*time.Hour), sim.AddSecret(app, 180*24*time.Hour)
	product := flowsAs(t, sim, app.ClientID, store.Secret(keyA.Value))
	const anna, claire = "anna.devries@contoso.com", "claire.dubois@contoso.com"
	tokens := map[string]store.Token{anna: browserSignIn(t, sim, product, anna), claire: browserSignIn(t, sim, product, claire)}

	sim.Clock.Advance(time.Hour)
	refreshedAt := sim.Clock.Now().UTC().Truncate(time.Second)
	for _, upn := range []string{anna, claire} {
		if _, err := product.Refresh(testkit.Ctx(t), tokens[upn]); err != nil {
			t.Fatalf("refresh %s: %v", upn, err)
		}
	}
	sim.Clock.Advance(time.Minute)
	revokedAt := sim.Clock.Now().UTC().Truncate(time.Second)
	sim.RevokeSessions(sim.Tenant.User(claire))
	if _, err := product.Refresh(testkit.Ctx(t), tokens[claire]); err == nil {
		t.Fatal("a revoked refresh token worked")
	}
	var keyTimes []time.Time
	for _, sec := range []string{keyA.Value, keyB.Value, "not-the-secret"} {
		sim.Clock.Advance(time.Minute)
		keyTimes = append(keyTimes, sim.Clock.Now().UTC().Truncate(time.Second))
		_, _ = flowsAs(t, sim, app.ClientID, store.Secret(sec)).ClientCredentials(testkit.Ctx(t), "https://outlook.office365.com")
	}

	g := fullMonitor(t, sim)
	users, err := g.SignIns(testkit.Ctx(t), exchange.SignInQuery{AppID: app.ClientID, Kind: exchange.UserSignIns})
	if err != nil {
		t.Fatal(err)
	}
	if len(users) != 7 { // 2 × (page, code), 2 refreshes, 1 refused
		t.Fatalf("%d user sign-ins: %+v", len(users), users)
	}
	ok, failed := lastByUser(users)
	if !ok[anna].Created.Equal(refreshedAt) || !ok[claire].Created.Equal(refreshedAt) || ok[anna].Interactive {
		t.Errorf("last good sign-ins: %+v", ok)
	}
	f := failed[claire]
	if len(failed) != 1 || f.ErrorCode != 50173 || !f.Created.Equal(revokedAt) || !strings.Contains(f.FailureReason, "revoked") ||
		f.UserID != sim.Tenant.User(claire).ObjectID || !slices.Equal(f.EventTypes, []string{"nonInteractiveUser"}) {
		t.Errorf("last failures: %+v", failed)
	}
	first := users[len(users)-1]
	if !first.Interactive || first.CredentialType != "none" || users[len(users)-2].CredentialKeyID != keyA.KeyID {
		t.Errorf("the first sign-ins (page, then code redeemed with secret A): %+v %+v", first, users[len(users)-2])
	}

	apps, err := g.SignIns(testkit.Ctx(t), exchange.SignInQuery{AppID: app.ClientID, Kind: exchange.AppSignIns})
	if err != nil {
		t.Fatal(err)
	}
	type keyed struct {
		key  string
		code int
		at   time.Time
	}
	var got []keyed
	for _, s := range apps {
		got = append(got, keyed{s.CredentialKeyID, s.ErrorCode, s.Created})
	}
	wantKeyed := []keyed{{"", 7000215, keyTimes[2]}, {keyB.KeyID, 0, keyTimes[1]}, {keyA.KeyID, 0, keyTimes[0]}}
	if !slices.Equal(got, wantKeyed) {
		t.Errorf("service principal sign-ins:\n got %v\nwant %v", got, wantKeyed)
	}

	narrow := []struct {
		q    exchange.SignInQuery
		want int
	}{
		{exchange.SignInQuery{AppID: app.ClientID, Kind: exchange.AppSignIns, KeyID: keyA.KeyID}, 1},
		{exchange.SignInQuery{AppID: app.ClientID, UPN: "Anna.DeVries@Contoso.com"}, 3},
		{exchange.SignInQuery{AppID: app.ClientID, Since: revokedAt}, 1},
		{exchange.SignInQuery{AppID: sim.App.ClientID}, 0},
	}
	for _, n := range narrow {
		sins, err := g.SignIns(testkit.Ctx(t), n.q)
		if err != nil || len(sins) != n.want {
			t.Errorf("%+v: %d sign-ins, want %d: %v", n.q, len(sins), n.want, err)
		}
	}

	acts, err := g.CredentialActivity(testkit.Ctx(t), app.ClientID)
	if err != nil {
		t.Fatal(err)
	}
	last := map[string]time.Time{}
	for _, a := range acts {
		last[a.KeyID] = a.LastSignIn
		if a.KeyType != "clientSecret" || a.Expires.IsZero() {
			t.Errorf("credential %+v", a)
		}
	}
	if len(last) != 2 || !last[keyA.KeyID].Equal(keyTimes[0]) || !last[keyB.KeyID].Equal(keyTimes[1]) {
		t.Errorf("credential activity %v, want A at %v and B at %v", last, keyTimes[0], keyTimes[1])
	}
}

// TestSignInsPageThrottledAndDuplicated: many small pages, each event
// served twice, more requests than Graph allows in ten seconds: the
// reader waits out the 429s on the clock and returns each sign-in once,
// newest first.
func TestSignInsPageThrottledAndDuplicated(t *testing.T) {
	sim := m365sim.Start(t, m365sim.Options{})
	app := registerProduct(sim)
	product := flowsAs(t, sim, app.ClientID, store.Secret(sim.AddSecret(app, time.Hour).Value))
	sess, err := product.StartAuthCode(flows.AuthCodeRequest{RedirectURI: productCallback, Scopes: imapScopes, Confidential: true})
	if err != nil {
		t.Fatal(err)
	}
	for range 12 {
		sim.Clock.Advance(time.Second)
		if _, err := sim.SignIn(sess.URL, "anna.devries@contoso.com"); err != nil {
			t.Fatal(err)
		}
	}
	sim.DuplicateSignIns(true)
	g := fullMonitor(t, sim)
	var waits []time.Duration
	g.Sleep = func(ctx context.Context, d time.Duration) error {
		waits = append(waits, d)
		return testkit.Sleep(sim)(ctx, d)
	}
	sins, err := g.SignIns(testkit.Ctx(t), exchange.SignInQuery{AppID: app.ClientID, PageSize: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(sins) != 12 || len(waits) == 0 {
		t.Fatalf("%d sign-ins after %d waits", len(sins), len(waits))
	}
	for i := 1; i < len(sins); i++ {
		if !sins[i].Created.Before(sins[i-1].Created) {
			t.Fatalf("not newest first at %d: %v then %v", i, sins[i-1].Created, sins[i].Created)
		}
	}
}

// TestSignInsRefused: a tenant without P1 is ErrNoPremium, not a missing
// permission; a monitor without Directory.Read.All is told to add both.
func TestSignInsRefused(t *testing.T) {
	sim := m365sim.Start(t, m365sim.Options{})
	q := exchange.SignInQuery{AppID: sim.App.ClientID}

	_, err := monitor(t, sim, "AuditLog.Read.All").SignIns(testkit.Ctx(t), q)
	var ge *exchange.GraphError
	if !errors.Is(err, exchange.ErrForbidden) || !errors.As(err, &ge) || !strings.Contains(ge.Fix(), "AuditLog.Read.All and Directory.Read.All") {
		t.Errorf("without Directory.Read.All: %v", err)
	}

	sim.SetPremium(sim.Tenant, false)
	g := fullMonitor(t, sim)
	_, err = g.SignIns(testkit.Ctx(t), q)
	if !errors.Is(err, exchange.ErrNoPremium) || errors.Is(err, exchange.ErrForbidden) || !errors.As(err, &ge) || !strings.Contains(ge.Fix(), "P1 or P2") {
		t.Errorf("free tenant: %v", err)
	}
	if _, err := g.CredentialActivity(testkit.Ctx(t), sim.App.ClientID); !errors.Is(err, exchange.ErrNoPremium) {
		t.Errorf("credential activity on a free tenant: %v", err)
	}
	if _, err := g.SignIns(testkit.Ctx(t), exchange.SignInQuery{}); err == nil || !strings.Contains(err.Error(), "client ID") {
		t.Errorf("no app: %v", err)
	}
}
