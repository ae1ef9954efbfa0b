package conn_test

import (
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/modauth/modauth/appreg"
	"github.com/modauth/modauth/conn"
	"github.com/modauth/modauth/internal/testkit"
	"github.com/modauth/modauth/m365sim"
	"github.com/modauth/modauth/store"
)

const (
	pid  = testkit.ProfileID
	anna = "anna.devries@contoso.com"
)

// fixture is a simulated tenant and a store on its clock.
type fixture struct {
	t        *testing.T
	sim      *m365sim.Sim
	db       *store.DB
	requests atomic.Int64 // token requests the connections sent
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{t: t, sim: m365sim.Start(t, m365sim.Options{})}
	f.db = testkit.Store(t, f.sim)
	return f
}

func (f *fixture) deps() conn.Deps {
	d := testkit.Deps(f.db, f.sim)
	d.TokenRequested = func() { f.requests.Add(1) }
	return d
}

// presetProfile is the profile the wizard saves for a preset, on the
// simulator, its mail servers included.
func (f *fixture) presetProfile(pre appreg.Preset) store.Profile {
	f.t.Helper()
	return testkit.Profile(f.t, f.sim, pre)
}

// register makes the plan's app registration by hand, as a consultant
// does from the checklist, without the permissions named in without, and
// stores the profile with its client ID and secret.
func (f *fixture) register(p *store.Profile, without ...string) {
	f.t.Helper()
	plan, err := conn.Plan(*p)
	if err != nil {
		f.t.Fatal(err)
	}
	app, sec := testkit.RegisterPlan(f.sim, plan, without...)
	p.ClientID = app.ClientID
	if err := f.db.PutProfile(*p); err != nil {
		f.t.Fatal(err)
	}
	if plan.NeedsSecret {
		if err := f.db.SetClientSecret(p.ID, store.ClientSecret{Value: store.Secret(sec.Value), KeyID: sec.KeyID}); err != nil {
			f.t.Fatal(err)
		}
	}
}

// user stores a simulator user as the wizard resolves one.
func (f *fixture) user(upn string) store.User {
	f.t.Helper()
	su := f.sim.Tenant.User(upn)
	u := store.User{Key: "AV", Name: su.DisplayName, Account: upn, UPN: upn, ObjectID: su.ObjectID, PrimarySMTP: su.Mail, Mapping: store.MappingOK}
	if err := f.db.PutUsers(pid, u); err != nil {
		f.t.Fatal(err)
	}
	return u
}

// signIn signs the user in by device code with the profile's scopes but
// those of the permissions named in without, and stores the sign-in, as
// the consent step does.
func (f *fixture) signIn(cn *conn.Conn, u store.User, without ...string) store.Token {
	f.t.Helper()
	var scopes []string
	for _, s := range cn.Profile().Scopes {
		if !slices.ContainsFunc(without, func(name string) bool { return strings.HasSuffix(s, "/"+name) }) {
			scopes = append(scopes, s)
		}
	}
	if !slices.ContainsFunc(scopes, func(s string) bool { return strings.Contains(s, "/") }) {
		// Left with OpenID scopes only, the sign-in is for Graph's
		// User.Read, which the plan grants too.
		scopes = append(scopes, "https://graph.microsoft.com/User.Read")
	}
	return testkit.SignIn(f.t, f.db, f.sim, cn.Profile(), u.Key, u.UPN, scopes)
}
