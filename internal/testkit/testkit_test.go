package testkit_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/modauth/modauth/appreg"
	"github.com/modauth/modauth/conn"
	"github.com/modauth/modauth/internal/testkit"
	"github.com/modauth/modauth/m365sim"
	"github.com/modauth/modauth/store"
)

const anna = "anna.devries@contoso.com"

// genericProfile registers the generic preset's plan by hand, without the
// permissions named in without, and stores its profile.
func genericProfile(t *testing.T, sim *m365sim.Sim, db *store.DB, without ...string) store.Profile {
	t.Helper()
	p := testkit.Profile(t, sim, generic())
	plan, err := conn.Plan(p)
	if err != nil {
		t.Fatal(err)
	}
	app, _ := testkit.RegisterPlan(sim, plan, without...)
	p.ClientID = app.ClientID
	if err := db.PutProfile(p); err != nil {
		t.Fatal(err)
	}
	return p
}

func generic() appreg.Preset {
	i := slices.IndexFunc(appreg.Presets(), func(p appreg.Preset) bool { return p.ID == "generic" })
	return appreg.Presets()[i]
}

// TestSignInGivesAWorkingSignIn signs a user in with the kit and probes
// Graph as the monitor would: the stored sign-in must serve, and a
// registration and sign-in without a permission the profile syncs with
// must not.
func TestSignInGivesAWorkingSignIn(t *testing.T) {
	for _, tc := range []struct {
		without string
		ok      bool
	}{{"", true}, {"Tasks.ReadWrite", false}} {
		t.Run("without "+tc.without, func(t *testing.T) {
			sim := m365sim.Start(t, m365sim.Options{})
			db := testkit.Store(t, sim)
			p := genericProfile(t, sim, db, tc.without)
			u := store.User{Key: "AV", Account: anna, UPN: anna, ObjectID: sim.Tenant.User(anna).ObjectID, Mapping: store.MappingOK}
			if err := db.PutUsers(p.ID, u); err != nil {
				t.Fatal(err)
			}
			// Without the permission, the user cannot consent to it either.
			scopes := slices.DeleteFunc(slices.Clone(p.Scopes), func(s string) bool { return tc.without != "" && strings.HasSuffix(s, "/"+tc.without) })
			st := testkit.SignIn(t, db, sim, p, u.Key, u.UPN, scopes)
			got, err := db.Token(p.ID, u.Key)
			if err != nil || got.RefreshToken.Reveal() != st.RefreshToken.Reveal() || !slices.Equal(got.Scopes, scopes) || !got.ViaDevice {
				t.Fatalf("stored %+v (%v), signed in %+v with scopes %v", got, err, st, scopes)
			}
			r := conn.New(p, testkit.Deps(db, sim)).Probe(testkit.Ctx(t), u, store.Graph)
			if r.OK != tc.ok {
				t.Errorf("probe OK = %v, want %v: tried %s: %s", r.OK, tc.ok, r.Tried, r.Message)
			}
		})
	}
}

// TestRegisterPlanLeavesOut checks that a registration made without a
// permission lists all the plan's permissions but that one.
func TestRegisterPlanLeavesOut(t *testing.T) {
	sim := m365sim.Start(t, m365sim.Options{})
	plan, err := conn.Plan(testkit.Profile(t, sim, generic()))
	if err != nil {
		t.Fatal(err)
	}
	all, _ := testkit.RegisterPlan(sim, plan)
	some, _ := testkit.RegisterPlan(sim, plan, "Tasks.ReadWrite")
	if len(all.Required) != len(plan.Permissions) || len(some.Required) != len(all.Required)-1 {
		t.Errorf("%d permissions planned, %d registered, %d without Tasks.ReadWrite", len(plan.Permissions), len(all.Required), len(some.Required))
	}
}
