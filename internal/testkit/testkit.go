// Package testkit is test-only support: the simulated tenant, store,
// hosts, app registrations and sign-ins that the tests of every package
// build the same way. Nothing but tests may import it, as nothing but tests
// and the demo imports m365sim; the clock still comes from
// internal/testclock, through m365sim.Start.
package testkit

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/modauth/modauth/appreg"
	"github.com/modauth/modauth/conn"
	"github.com/modauth/modauth/m365sim"
	"github.com/modauth/modauth/store"
)

// Timeout bounds every context Ctx gives, so a hung request fails the
// test instead of the whole run.
const Timeout = 60 * time.Second

// GraphScopes are the delegated scopes a Graph sync profile signs its
// users in with.
var GraphScopes = []string{
	"https://graph.microsoft.com/Calendars.ReadWrite", "https://graph.microsoft.com/Contacts.ReadWrite",
	"https://graph.microsoft.com/Tasks.ReadWrite", "openid", "profile", "offline_access",
}

// Ctx returns a context that ends after Timeout or when the test ends.
func Ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), Timeout)
	t.Cleanup(cancel)
	return c
}

// Store opens a real bbolt store in the test's temporary directory on the
// simulator's clock and closes it when the test ends.
func Store(t testing.TB, sim *m365sim.Sim) *store.DB {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "modauth.db"), store.Options{Now: sim.Clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// Hosts are the simulator's endpoints as a profile holds them: it serves
// the authority, Graph, EWS, IMAP, POP and SMTP, and takes tokens for
// Graph's real resource.
func Hosts(sim *m365sim.Sim) store.Hosts {
	m := mail(sim)
	return store.Hosts{Authority: sim.URL, Graph: sim.URL, GraphResource: "https://graph.microsoft.com", EWS: sim.URL + "/EWS/Exchange.asmx",
		IMAP: m.IMAP, POP: m.POP, SMTP: m.SMTP}
}

// mail starts the simulator's mail servers. They cannot fail but for a
// machine without loopback, where no test can run.
func mail(sim *m365sim.Sim) *m365sim.MailServers {
	m, err := sim.StartMail()
	if err != nil {
		panic("testkit: the simulator's mail servers: " + err.Error())
	}
	return m
}

// Sleep advances the simulator's clock instead of waiting.
func Sleep(sim *m365sim.Sim) func(context.Context, time.Duration) error {
	return func(ctx context.Context, d time.Duration) error {
		sim.Clock.Advance(d)
		return ctx.Err()
	}
}

// Deps connects to the simulator with db's secrets and sign-ins, on the
// simulator's clock.
func Deps(db *store.DB, sim *m365sim.Sim) conn.Deps {
	return conn.Deps{DB: db, HTTP: sim.HTTPClient(), Now: sim.Clock.Now, Sleep: Sleep(sim), MailTLS: mail(sim).TLS}
}

// RegisterPlan makes a plan's app registration in the simulator's tenant
// by hand, as a consultant does in the portal from the checklist, without
// the permissions named in without: the redirect URIs, the permissions,
// the admin consent and a secret of 180 days when the plan needs them.
func RegisterPlan(sim *m365sim.Sim, plan *appreg.Plan, without ...string) (*m365sim.App, m365sim.PasswordCredential) {
	return registerPlan(sim, plan, plan.AdminConsent, without)
}

// RegisterPlanWithoutConsent is RegisterPlan by a consultant who did not
// choose Grant admin consent: an admin gives it later, by the link.
func RegisterPlanWithoutConsent(sim *m365sim.Sim, plan *appreg.Plan) (*m365sim.App, m365sim.PasswordCredential) {
	return registerPlan(sim, plan, false, nil)
}

func registerPlan(sim *m365sim.Sim, plan *appreg.Plan, consent bool, without []string) (*m365sim.App, m365sim.PasswordCredential) {
	spec := m365sim.AppSpec{DisplayName: plan.DisplayName, WebRedirectURIs: plan.WebRedirectURIs,
		PublicRedirectURIs: plan.PublicRedirectURIs, FallbackPublicClient: plan.FallbackPublicClient}
	for _, perm := range plan.Permissions {
		if slices.Contains(without, perm.Name) {
			continue
		}
		name := perm.Name
		if perm.Kind == appreg.AppRole {
			name = "role:" + name
		}
		spec.Required = append(spec.Required, name)
	}
	app := sim.RegisterApp(sim.Tenant, spec)
	if consent {
		sim.GrantAdminConsent(sim.Tenant, app)
	}
	var sec m365sim.PasswordCredential
	if plan.NeedsSecret {
		sec = sim.AddSecret(app, 180*24*time.Hour)
	}
	return app, sec
}

// SignIn signs upn in to the profile's app by device code with scopes and
// stores the sign-in under the product user key, as the wizard's consent
// step does.
func SignIn(t testing.TB, db *store.DB, sim *m365sim.Sim, p store.Profile, key, upn string, scopes []string) store.Token {
	t.Helper()
	fc, err := conn.New(p, Deps(db, sim)).Identity(Ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	dc, err := fc.StartDeviceCode(Ctx(t), scopes)
	if err != nil {
		t.Fatal(err)
	}
	if err := sim.ApproveDevice(dc.UserCode, upn); err != nil {
		t.Fatalf("%s signs in: %v", upn, err)
	}
	tok, err := fc.PollDeviceCode(Ctx(t), dc)
	if err != nil {
		t.Fatal(err)
	}
	st := tok.Stored()
	st.Scopes = scopes
	if err := db.PutToken(p.ID, key, st); err != nil {
		t.Fatal(err)
	}
	return st
}

// ProfileID is the ID of the profile Profile makes: customer Acme, the
// production environment.
const ProfileID = "acme-production"

// Profile is the profile the wizard saves for a preset on the simulator,
// before the app is registered (no client ID yet): the preset's scenario
// for Acme's production environment at crm.example.com, with its plan's
// sign-in scopes and the folders it syncs. It is not stored.
func Profile(t testing.TB, sim *m365sim.Sim, pre appreg.Preset) store.Profile {
	t.Helper()
	sc := pre.ScenarioFor("production", "crm.example.com")
	sc.Hosts = Hosts(sim)
	plan, err := appreg.NewPlan(sc)
	if err != nil {
		t.Fatal(err)
	}
	p := store.Profile{ID: ProfileID, Customer: "Acme", Environment: "production", Preset: pre.ID, Model: sc.Model,
		Protocols: sc.Protocols, OnPremises: sc.OnPremises, RedirectURI: sc.RedirectURI, Scopes: plan.SignInScopes,
		Hosts: sc.Hosts, TenantID: sim.Tenant.ID}
	for _, d := range sc.Data {
		if d != appreg.MailSend {
			p.Folders = append(p.Folders, string(d))
		}
	}
	if len(p.Folders) == 0 && slices.Contains(sc.Protocols, store.EWS) {
		p.Folders = []string{"calendar", "contacts", "tasks"}
	}
	return p
}

// RegisterMonitor makes a plan's read-only monitoring app in the
// simulator's tenant by hand, from the checklist: its Graph application
// permissions with admin consent, and a secret of 365 days.
func RegisterMonitor(sim *m365sim.Sim, plan *appreg.Plan) (*m365sim.App, m365sim.PasswordCredential) {
	spec := m365sim.AppSpec{DisplayName: plan.Monitor.DisplayName}
	for _, perm := range plan.Monitor.Permissions {
		spec.Required = append(spec.Required, "role:"+perm.Name)
	}
	app := sim.RegisterApp(sim.Tenant, spec)
	sim.GrantAdminConsent(sim.Tenant, app)
	return app, sim.AddSecret(app, 365*24*time.Hour)
}
