package appreg_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modauth/modauth/appreg"
	"github.com/modauth/modauth/exchange"
	"github.com/modauth/modauth/flows"
	"github.com/modauth/modauth/internal/testkit"
	"github.com/modauth/modauth/m365sim"
	"github.com/modauth/modauth/store"
)

const adminUPN = "admin@contoso.onmicrosoft.com"

func flowsFor(t *testing.T, sim *m365sim.Sim, clientID string, secret store.Secret) *flows.Client {
	t.Helper()
	c, err := flows.New(testkit.Ctx(t), flows.Config{
		Authority: sim.URL, Tenant: "contoso.com", ClientID: clientID, ClientSecret: secret,
		HTTPClient: sim.HTTPClient(), Now: sim.Clock.Now,
		Sleep: testkit.Sleep(sim),
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// adminGraph signs upn in to the admin public client by device code, as a
// consultant's customer admin would, and returns a Graph client on that
// token.
func adminGraph(t *testing.T, sim *m365sim.Sim, upn string) *exchange.Graph {
	t.Helper()
	if sim.AdminApp.ClientID != appreg.AdminClientID {
		t.Fatalf("the simulator's admin client %s is not the one modauth uses", sim.AdminApp.ClientID)
	}
	c := flowsFor(t, sim, appreg.AdminClientID, "")
	dc, err := c.StartDeviceCode(testkit.Ctx(t), appreg.AdminScopesOn(appreg.Graph.URI, appreg.AdminPermissions...))
	if err != nil {
		t.Fatal(err)
	}
	if err := sim.ApproveDevice(dc.UserCode, upn); err != nil {
		t.Fatalf("%s signs in: %v", upn, err)
	}
	tok, err := c.PollDeviceCode(testkit.Ctx(t), dc)
	if err != nil {
		t.Fatal(err)
	}
	return &exchange.Graph{Host: sim.URL, HTTP: sim.HTTPClient(), Token: func(context.Context) (store.Secret, error) { return tok.AccessToken, nil }}
}

func roles(t *testing.T, sim *m365sim.Sim, clientID string, secret store.Secret, resource string) ([]string, error) {
	t.Helper()
	tok, err := flowsFor(t, sim, clientID, secret).ClientCredentials(testkit.Ctx(t), resource)
	if err != nil {
		return nil, err
	}
	cl, err := flows.ParseClaims(tok.AccessToken.Reveal())
	return cl.Roles, err
}

func TestRegisterAppOnlyEndToEnd(t *testing.T) {
	sim := m365sim.Start(t, m365sim.Options{})
	g := adminGraph(t, sim, adminUPN)
	p := presetPlan(t, "moveit-app-only")

	reg, err := appreg.Register(testkit.Ctx(t), g, p, appreg.RegisterOptions{Now: sim.Clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	if reg.ClientID == "" || reg.SPObjectID == "" || reg.Secret == nil || reg.Secret.ExpirySource != store.ExpiryGraph || !reg.Secret.Created {
		t.Fatalf("registration %+v", reg)
	}
	if d := reg.Secret.Expiry.Sub(sim.Clock.Now()); d < 364*24*time.Hour || d > 366*24*time.Hour {
		t.Errorf("secret lifetime %v, want a year", d)
	}
	got, err := roles(t, sim, reg.ClientID, reg.Secret.Value, "https://graph.microsoft.com")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Mail.Send", "User.Read.All", "Application.Read.All"} {
		if !slices.Contains(got, want) {
			t.Errorf("token roles %v lack %s", got, want)
		}
	}

	// A second run, by client ID or by name, finds everything in place.
	for _, opts := range []appreg.RegisterOptions{{ClientID: reg.ClientID, HaveSecret: true, Now: sim.Clock.Now}, {HaveSecret: true, Now: sim.Clock.Now}} {
		again, err := appreg.Register(testkit.Ctx(t), g, p, opts)
		if err != nil {
			t.Fatal(err)
		}
		if len(again.Changes) != 0 || again.ClientID != reg.ClientID || again.Secret != nil {
			t.Errorf("second run changed %v", again.Changes)
		}
	}
}

func TestRegisterDelegatedGrantsConsentForAll(t *testing.T) {
	sim := m365sim.Start(t, m365sim.Options{})
	g := adminGraph(t, sim, adminUPN)
	p := presetPlan(t, "flowfact")
	reg, err := appreg.Register(testkit.Ctx(t), g, p, appreg.RegisterOptions{Now: sim.Clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	for _, scope := range []string{"IMAP.AccessAsUser.All", "POP.AccessAsUser.All", "SMTP.Send", "offline_access"} {
		if !sim.HasDelegatedGrant(sim.Tenant, reg.ClientID, scope) {
			t.Errorf("no tenant-wide grant of %s", scope)
		}
	}
	if reg.Secret == nil {
		t.Error("Flowfact's guide has a secret made for the product: none was")
	}
	// The missing piece on a re-run: an app registered by hand without
	// public client flows gets them, and nothing else changes.
	p.FallbackPublicClient = true
	again, err := appreg.Register(testkit.Ctx(t), g, p, appreg.RegisterOptions{ClientID: reg.ClientID, HaveSecret: true, Now: sim.Clock.Now})
	if err != nil || len(again.Changes) != 1 || !strings.Contains(again.Changes[0], "public client flows") {
		t.Errorf("changes %v, err %v", again.Changes, err)
	}
}

func TestRegisterWithoutRightsNamesTheRole(t *testing.T) {
	sim := m365sim.Start(t, m365sim.Options{})
	g := adminGraph(t, sim, "hugo.lefebvre@contoso.com") // Application Administrator
	_, err := appreg.Register(testkit.Ctx(t), g, presetPlan(t, "moveit-app-only"), appreg.RegisterOptions{Now: sim.Clock.Now})
	var re *appreg.RoleError
	if !errors.As(err, &re) || !errors.Is(err, exchange.ErrForbidden) {
		t.Fatalf("err %v, want a RoleError", err)
	}
	if !strings.Contains(err.Error(), "Privileged Role Administrator") || !strings.Contains(err.Error(), "Microsoft Graph application permission") {
		t.Errorf("message does not name the role and step: %v", err)
	}
}

func TestSecretExpiryFromGraphOrEntered(t *testing.T) {
	sim := m365sim.Start(t, m365sim.Options{})
	g := adminGraph(t, sim, adminUPN)
	reg, _ := appreg.Register(testkit.Ctx(t), g, presetPlan(t, "moveit-app-only"), appreg.RegisterOptions{Now: sim.Clock.Now})
	entered := store.ClientSecret{KeyID: reg.Secret.KeyID, Expiry: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), ExpirySource: store.ExpiryEntered}
	cs, err := appreg.SecretExpiry(testkit.Ctx(t), g, reg.ClientID, entered)
	if err != nil || cs.ExpirySource != store.ExpiryGraph || !cs.Expiry.Equal(reg.Secret.Expiry) {
		t.Errorf("from graph: %+v %v", cs, err)
	}
	// An app that may not read applications keeps the entered date.
	plain := sim.RegisterApp(sim.Tenant, m365sim.AppSpec{DisplayName: "no rights", Required: []string{"role:Mail.Send"}})
	sec := sim.AddSecret(plain, time.Hour)
	sim.GrantAdminConsent(sim.Tenant, plain)
	fc := flowsFor(t, sim, plain.ClientID, store.Secret(sec.Value))
	weak := &exchange.Graph{Host: sim.URL, HTTP: sim.HTTPClient(), Token: func(ctx context.Context) (store.Secret, error) {
		tok, err := fc.ClientCredentials(ctx, "https://graph.microsoft.com")
		if err != nil {
			return "", err
		}
		return tok.AccessToken, nil
	}}
	cs, err = appreg.SecretExpiry(testkit.Ctx(t), weak, reg.ClientID, entered)
	if !errors.Is(err, exchange.ErrForbidden) || cs.ExpirySource != store.ExpiryEntered || !cs.Expiry.Equal(entered.Expiry) {
		t.Errorf("without rights: %+v %v", cs, err)
	}
}

func TestRegistrationSaveSealsTheSecret(t *testing.T) {
	sim := m365sim.Start(t, m365sim.Options{})
	g := adminGraph(t, sim, adminUPN)
	reg, err := appreg.Register(testkit.Ctx(t), g, presetPlan(t, "moveit-app-only"), appreg.RegisterOptions{Now: sim.Clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	db := testkit.Store(t, sim)
	if err := db.PutProfile(store.Profile{ID: "moveit-production"}); err != nil {
		t.Fatal(err)
	}
	if err := reg.Save(db, "moveit-production"); err != nil {
		t.Fatal(err)
	}
	p, _ := db.Profile("moveit-production")
	cs, _ := db.ClientSecret("moveit-production")
	if p.ClientID != reg.ClientID || p.SecretKeyID != reg.Secret.KeyID || p.SecretExpirySource != store.ExpiryGraph || cs.Value != reg.Secret.Value {
		t.Errorf("profile %+v", p)
	}
	var dump strings.Builder
	db.Dump(&dump)
	if strings.Contains(dump.String(), reg.Secret.Value.Reveal()) {
		t.Error("the secret is stored in the clear")
	}
}

func TestRegistrationSummaryJoinsGrants(t *testing.T) {
	reg := appreg.Registration{Changes: []string{
		"created app registration X", "granted Microsoft Graph Mail.Send (application)", "granted Microsoft Graph User.Read.All (application)",
		"monitoring app: created app registration X (modauth monitor)", "monitoring app: granted Microsoft Graph AuditLog.Read.All (application)",
		"monitoring app: granted Microsoft Graph Directory.Read.All (application)", "monitoring app: added client secret k",
	}}
	want := "created app registration X; granted Microsoft Graph Mail.Send, User.Read.All (application); monitoring app: created app registration X (modauth monitor); granted Microsoft Graph AuditLog.Read.All, Directory.Read.All (application); added client secret k"
	if got := reg.Summary(); got != want {
		t.Errorf("summary\n%s\nwant\n%s", got, want)
	}
}
