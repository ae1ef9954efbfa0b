package conn_test

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/modauth/modauth/appreg"
	"github.com/modauth/modauth/conn"
	"github.com/modauth/modauth/exchange"
	"github.com/modauth/modauth/internal/testkit"
	"github.com/modauth/modauth/m365sim"
	"github.com/modauth/modauth/store"
)

// notProbed are the plan's permissions no probe relies on, and why.
var notProbed = map[string]string{
	"openid":               "the sign-in's id_token: who signed in",
	"profile":              "the sign-in's id_token: the user's name",
	"offline_access":       "the refresh token itself: without it there is no stored sign-in to probe",
	"User.Read":            "the signed-in user reads their own profile; the product needs it, the probe not",
	"Application.Read.All": "the monitor reads the secret's expiry with it",
}

// prepare makes a preset's profile on the simulator with the plan's
// permissions but those in without, and its user.
func prepare(t *testing.T, id string, without ...string) (*fixture, *conn.Conn, store.User) {
	pre, ok := appreg.PresetByID(id)
	if !ok {
		t.Fatalf("no preset %s", id)
	}
	f := newFixture(t)
	p := f.presetProfile(pre)
	f.register(&p, without...)
	return f, conn.New(p, f.deps()), f.user(anna)
}

// setUp prepares a preset and signs the user in where the model has
// sign-ins.
func setUp(t *testing.T, pre appreg.Preset, without ...string) (*conn.Conn, store.User) {
	f, cn, u := prepare(t, pre.ID, without...)
	if cn.Profile().Model != store.AppOnly {
		f.signIn(cn, u, without...)
	}
	return cn, u
}

// TestProbeUsesExactlyThePlan: for every preset of Exchange Online, the
// probe of each protocol passes with exactly the permissions its plan
// grants, and with any one of them taken away fails with a fix that
// names it. (moveIT's probes read mailboxSettings, which its plan never
// grants, and failed with ErrorAccessDenied.)
func TestProbeUsesExactlyThePlan(t *testing.T) {
	for _, pre := range appreg.Presets() {
		if pre.Scenario.OnPremises {
			continue // no Entra permissions: TestProbeOnPremises
		}
		t.Run(pre.ID, func(t *testing.T) {
			cn, u := setUp(t, pre)
			for _, proto := range cn.Profile().Protocols {
				r := cn.Probe(testkit.Ctx(t), u, proto)
				switch {
				case !r.OK:
					t.Errorf("%s failed with the plan's permissions: %s (%s)\n%s", proto, r.Message, r.Tried, r.Fix)
				case r.OK && r.Tried == "":
					t.Errorf("%s: passed without saying what it proved", proto)
				}
			}
			plan := cn.Plan()
			for _, perm := range plan.Permissions {
				if notProbed[perm.Name] != "" {
					continue
				}
				t.Run("without "+perm.Name, func(t *testing.T) {
					cn, u := setUp(t, pre, perm.Name)
					var named bool
					for _, proto := range cn.Profile().Protocols {
						r := cn.Probe(testkit.Ctx(t), u, proto)
						if r.OK {
							continue
						}
						if r.Fix == "" || r.Message == "" {
							t.Errorf("%s failed without a message and a fix: %+v", proto, r)
						}
						named = named || strings.Contains(r.Fix, perm.Name)
					}
					if !named {
						t.Errorf("no probe failed with a fix naming %s", perm.Name)
					}
				})
			}
		})
	}
}

// moveIT sends mail and nothing else: its probes send none and read
// nothing the plan does not grant, and say so.
func TestProbeOfMailSendSendsNothing(t *testing.T) {
	for _, id := range []string{"moveit-app-only", "moveit-delegated"} {
		pre, _ := appreg.PresetByID(id)
		cn, u := setUp(t, pre)
		r := cn.Probe(testkit.Ctx(t), u, store.Graph)
		if !r.OK || !strings.Contains(r.Tried, "Mail.Send") || !strings.Contains(r.Tried, "no mail was sent") {
			t.Errorf("%s: %+v", id, r)
		}
		if id == "moveit-app-only" && !strings.Contains(r.Tried, "found the mailbox "+anna) {
			t.Errorf("%s: the app's probe must find the mailbox: %s", id, r.Tried)
		}
	}
}

// On-premises Exchange has no Entra app: the plan is the service
// account's password and its ApplicationImpersonation role.
func TestProbeOnPremises(t *testing.T) {
	pre, _ := appreg.PresetByID("allsolutions-onprem")
	for _, impersonation := range []bool{true, false} {
		f := newFixture(t)
		p := f.presetProfile(pre)
		p.ServiceAccount = "svc-crm@contoso.com"
		if err := f.db.PutProfile(p); err != nil {
			t.Fatal(err)
		}
		if err := f.db.SetClientSecret(pid, store.ClientSecret{Value: "password of the service account"}); err != nil {
			t.Fatal(err)
		}
		f.sim.EnableOnPremEWS(p.ServiceAccount, "password of the service account", impersonation)
		u := f.user(anna)
		r := conn.New(p, f.deps()).Probe(testkit.Ctx(t), u, store.EWS)
		switch {
		case impersonation && (!r.OK || !strings.Contains(r.Tried, "as "+anna+" (impersonation)")):
			t.Errorf("with the role: %+v", r)
		case !impersonation && (r.OK || !strings.Contains(r.Fix, "ApplicationImpersonation") ||
			!slices.ContainsFunc(r.PowerShell, func(l string) bool { return strings.Contains(l, "ApplicationImpersonation") })):
			t.Errorf("without the role: %+v", r)
		}
	}
}

// TestProbeMailRefusals: the simulator's IMAP, POP and SMTP refuse as
// Exchange Online does, and each refusal reaches the probe's result as its
// own cause with its own fix, never as consent.
func TestProbeMailRefusals(t *testing.T) {
	pre, _ := appreg.PresetByID("flowfact") // IMAP, POP and SMTP, delegated
	t.Run("smtp auth off for the mailbox", func(t *testing.T) {
		f, cn, u := prepare(t, pre.ID)
		f.signIn(cn, u)
		mail, _ := f.sim.StartMail()
		mail.SetSMTPAuth(f.sim.Tenant.User(anna), false)
		r := cn.Probe(testkit.Ctx(t), u, store.SMTP)
		if r.OK || !errors.Is(r.Err, exchange.ErrSMTPAuthDisabled) || !strings.Contains(r.Fix, "-SmtpClientAuthenticationDisabled $false") {
			t.Fatalf("%+v", r)
		}
		if !slices.ContainsFunc(r.PowerShell, func(l string) bool { return strings.Contains(l, "SmtpClientAuthenticationDisabled") }) {
			t.Errorf("no PowerShell that turns SMTP AUTH on: %q", r.PowerShell)
		}
	})
	t.Run("another person's mailbox", func(t *testing.T) {
		f, cn, u := prepare(t, pre.ID)
		f.signIn(cn, u)
		other := u
		other.PrimarySMTP = f.sim.Tenant.User("claire.dubois@contoso.com").Mail // Anna's token, Claire's mailbox
		for _, proto := range []store.Protocol{store.IMAP, store.POP, store.SMTP} {
			r := cn.Probe(testkit.Ctx(t), other, proto)
			if r.OK || !errors.Is(r.Err, exchange.ErrMailboxAccessDenied) || errors.Is(r.Err, exchange.ErrMailAuthFailed) {
				t.Errorf("%s: %+v", proto, r)
			}
			if strings.Contains(r.Fix, "onsent") {
				t.Errorf("%s: a mailbox refusal blamed on consent: %s", proto, r.Fix)
			}
		}
	})
}

// An application access policy that leaves the mailbox out is Exchange's
// policy, not a missing consent: the probe says which policy to change.
func TestProbeAppAccessPolicy(t *testing.T) {
	pre, _ := appreg.PresetByID("generic") // Graph calendars, contacts and tasks…
	pre.Scenario.Model = store.AppOnly     // …read by the app itself
	f := newFixture(t)
	p := f.presetProfile(pre)
	f.register(&p)
	cn, u := conn.New(p, f.deps()), f.user(anna)
	f.sim.RestrictAppAccess(cn.Profile().ClientID, f.sim.Tenant.User("claire.dubois@contoso.com"))
	r := cn.Probe(testkit.Ctx(t), u, store.Graph)
	if r.OK || !errors.Is(r.Err, exchange.ErrAccessPolicy) || errors.Is(r.Err, exchange.ErrForbidden) {
		t.Fatalf("%+v", r)
	}
	if !strings.Contains(r.Fix, "ApplicationAccessPolicy") || strings.Contains(r.Fix, "Grant admin consent") {
		t.Errorf("fix %q", r.Fix)
	}
}

// TestCheckServerOnPremises: the service account's sign-in to an
// on-premises EWS is checked before any user, by NTLM where offered; a
// wrong password says so without the password; an untrusted certificate
// gives its fingerprint, and trusting exactly that fingerprint works.
func TestCheckServerOnPremises(t *testing.T) {
	pre, _ := appreg.PresetByID("allsolutions-onprem")
	sim := m365sim.Start(t, m365sim.Options{TLS: true})
	f := &fixture{t: t, sim: sim, db: testkit.Store(t, sim)}
	p := f.presetProfile(pre)
	p.ServiceAccount = `CONTOSO\svc-crm`
	if err := f.db.PutProfile(p); err != nil {
		t.Fatal(err)
	}
	const pw = "Winter2026!"
	if err := f.db.SetClientSecret(pid, store.ClientSecret{Value: pw}); err != nil {
		t.Fatal(err)
	}
	sim.EnableOnPremEWS(p.ServiceAccount, pw, true)
	sim.EWSOnPremAuth(false, true) // Windows authentication only
	if chk := conn.New(p, f.deps()).CheckServer(testkit.Ctx(t)); !chk.OK {
		t.Fatalf("ntlm: %+v", chk)
	}
	sim.EnableOnPremEWS(p.ServiceAccount, "Spring2027!", true)
	chk := conn.New(p, f.deps()).CheckServer(testkit.Ctx(t))
	if chk.OK || !strings.Contains(chk.Fix, "password") || strings.Contains(chk.Message+chk.Fix, pw) {
		t.Errorf("wrong password: %+v", chk)
	}
	sim.EnableOnPremEWS(p.ServiceAccount, pw, true)

	// A machine that does not know the server's certificate.
	d := f.deps()
	d.HTTP = &http.Client{}
	chk = conn.New(p, d).CheckServer(testkit.Ctx(t))
	if chk.OK || len(chk.Fingerprint) != 64 || !strings.Contains(chk.Fix, "fingerprint") {
		t.Fatalf("untrusted: %+v", chk)
	}
	p.Hosts.TrustedCert = chk.Fingerprint
	if chk := conn.New(p, d).CheckServer(testkit.Ctx(t)); !chk.OK {
		t.Errorf("trusted by fingerprint: %+v", chk)
	}
	p.Hosts.TrustedCert = strings.Repeat("ab", 32)
	if chk := conn.New(p, d).CheckServer(testkit.Ctx(t)); chk.OK {
		t.Error("another fingerprint trusted the certificate")
	}
}

// TestFindEWS: Autodiscover gives the EWS URL of a mailbox with the
// service account's credentials.
func TestFindEWS(t *testing.T) {
	pre, _ := appreg.PresetByID("allsolutions-onprem")
	f := newFixture(t)
	p := f.presetProfile(pre)
	p.ServiceAccount = `CONTOSO\svc-crm`
	p.Hosts.Autodiscover = f.sim.URL + "/autodiscover/autodiscover.xml"
	if err := f.db.PutProfile(p); err != nil {
		t.Fatal(err)
	}
	if err := f.db.SetClientSecret(pid, store.ClientSecret{Value: "Winter2026!"}); err != nil {
		t.Fatal(err)
	}
	f.sim.EnableOnPremEWS(p.ServiceAccount, "Winter2026!", true)
	u, err := conn.New(p, f.deps()).FindEWS(testkit.Ctx(t), anna)
	if err != nil || u != f.sim.URL+"/EWS/Exchange.asmx" {
		t.Errorf("%q %v", u, err)
	}
	if _, err := conn.New(p, f.deps()).FindEWS(testkit.Ctx(t), "nobody@contoso.com"); !errors.Is(err, exchange.ErrAutodiscover) {
		t.Errorf("unknown address: %v", err)
	}
}

// TestSendTestAndScopeProof (moveIT app-only): after a yes, a test message
// goes from the mailbox to itself; a mailbox outside the app's scope is
// refused, which is the pass, and where the scope does not hold the
// result says how to narrow it.
func TestSendTestAndScopeProof(t *testing.T) {
	pre, _ := appreg.PresetByID("moveit-app-only")
	f, cn, u := prepare(t, pre.ID)
	if !cn.Sends() {
		t.Fatal("moveIT's plan sends")
	}
	if r := cn.SendTest(testkit.Ctx(t), u); !r.OK || !strings.Contains(r.Tried, "202") {
		t.Fatalf("send test: %+v", r)
	}
	if sent := f.sim.Sent(); len(sent) != 1 || sent[0].From != u.PrimarySMTP || sent[0].To != u.PrimarySMTP {
		t.Fatalf("sent %+v", sent)
	}
	claire := f.sim.Tenant.User("claire.dubois@contoso.com").Mail
	if r := cn.ScopeProof(testkit.Ctx(t), u, claire); r.OK || !strings.Contains(r.Fix, "New-ManagementScope") {
		t.Errorf("no scope at all: %+v", r)
	} else if ps := strings.Join(r.PowerShell, "\n"); !strings.Contains(ps, u.PrimarySMTP) || strings.Contains(ps, claire) {
		t.Errorf("the PowerShell must scope the app to the product's mailbox, not the outside one:\n%s", ps)
	}
	f.sim.RestrictAppAccess(cn.Profile().ClientID, f.sim.Tenant.User(anna))
	if r := cn.ScopeProof(testkit.Ctx(t), u, claire); !r.OK || !strings.Contains(r.Tried, "refused, as it should be") {
		t.Errorf("scoped: %+v", r)
	}
	if n := len(f.sim.Sent()); n != 2 {
		t.Errorf("%d messages: only the unscoped proof may have sent one", n)
	}
}
