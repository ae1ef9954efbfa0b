package tui

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	bolt "go.etcd.io/bbolt"

	"github.com/modauth/modauth/m365sim"
	"github.com/modauth/modauth/store"
	"github.com/modauth/modauth/tui/common"
)

// completeAppOnly stores an app-only Graph profile whose setup is done,
// with an app in the simulator that may rotate its own secret.
func completeAppOnly(t *testing.T, h *harness) *m365sim.App {
	t.Helper()
	app := h.sim.RegisterApp(h.sim.Tenant, m365sim.AppSpec{DisplayName: "moveIT Exchange (production)",
		Required: []string{"role:Calendars.ReadWrite", "role:Contacts.ReadWrite", "role:Tasks.ReadWrite.All", "role:Application.ReadWrite.OwnedBy"}})
	h.sim.GrantAdminConsent(h.sim.Tenant, app)
	sec := h.sim.AddSecret(app, 20*24*time.Hour)
	p := store.Profile{ID: "acme-production", Customer: "Acme", Environment: "production", Preset: "generic", Model: store.AppOnly,
		Protocols: []store.Protocol{store.Graph}, Folders: []string{"calendar", "contacts", "tasks"}, TenantID: h.sim.Tenant.ID,
		ClientID: app.ClientID, Hosts: h.options().Hosts, WizardStep: common.StepVerify}
	must(t, h.db.PutProfile(p))
	must(t, h.db.SetClientSecret(p.ID, store.ClientSecret{Value: store.Secret(sec.Value), KeyID: sec.KeyID, Expiry: sec.End, ExpirySource: store.ExpiryGraph}))
	for _, u := range []struct{ key, upn string }{{"AV", "anna.devries@contoso.com"}, {"BJ", "bjanssen@contoso.onmicrosoft.com"}, {"XX", "nobody@contoso.com"}} {
		su := h.sim.Tenant.User(u.upn)
		user := store.User{Key: u.key, Name: u.key, Account: u.upn, UPN: u.upn, Mapping: store.MappingOK}
		if su != nil {
			user.ObjectID, user.PrimarySMTP = su.ObjectID, su.Mail
		} else {
			user.Mapping = store.MappingNotFound
		}
		must(t, h.db.PutUsers(p.ID, user))
	}
	return app
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestDashboardOpensAfterSetupAndSweeps(t *testing.T) {
	h := newHarness(t)
	h.wait = 800 * time.Millisecond
	app := completeAppOnly(t, h)
	h.open()
	if h.m.screen != screenDashboard {
		t.Fatalf("screen %v", h.m.screen)
	}
	h.sees("acme-production", "secret 20d 0h") // the clock stands still: to the second
	h.fits()
	// The first sweep ran inside the program: two users synced, one not.
	if j, _ := h.db.Job("acme-production", "AV"); j.State != store.StateOK {
		t.Fatalf("anna after the first sweep: %s", j.State)
	}
	h.keys("3") // no sync-id
	h.sees("no sync-id: 1 of 3", "XX")
	h.fits()

	h.keys("y")
	h.sees("! synced 1 user(s): 0 ok, 1 upn-invalid") // XX's account is not found: no ✓
	h.keys("e")
	h.sees("user(s) written to")
	files, _ := os.ReadDir(h.db.Path()[:strings.LastIndex(h.db.Path(), "/")])
	found := false
	for _, f := range files {
		found = found || strings.HasPrefix(f.Name(), "acme-production-users-")
	}
	if !found {
		t.Error("no export file")
	}

	old := app.Secrets[0].KeyID
	h.keys("R")
	h.sees("Rotate the client secret?")
	h.keys("y")
	h.sees("✓ new secret")
	cs, _ := h.db.ClientSecret("acme-production")
	rot, ok, _ := h.db.Rotation("acme-production")
	if cs.KeyID != old || len(app.Secrets) != 2 || !ok || rot.NewKeyID == old {
		t.Fatalf("rotation: modauth's %s (old %s), %d secrets in Entra, rotation %+v", cs.KeyID, old, len(app.Secrets), rot)
	}
	h.sees("Rotation: new secret", "not handed over yet")
	h.keys("H") // the sheet hands the new secret over
	h.sees("NEW client secret of a rotation")
	h.keys("v")
	h.keys("y")
	h.sees("This is the only time it is shown")
	h.keys("<esc>")
	h.sees("handed over")
	// No monitoring app sees the product: the admin says it works.
	h.keys("R")
	h.seesText("Does the product work with the new secret?")
	h.keys("y")
	h.sees("✓ old secret " + old[:8] + "… removed")
	if cs, _ := h.db.ClientSecret("acme-production"); cs.KeyID != rot.NewKeyID || len(app.Secrets) != 1 || app.Secrets[0].KeyID != rot.NewKeyID {
		t.Errorf("after retiring: modauth's %s, %d secrets in Entra", cs.KeyID, len(app.Secrets))
	}
	h.lacks("Rotation: new secret")
	h.sees("secret 365d 0h") // the header counts down to the new secret's expiry
	h.keys("1<down>l")
	h.sees("consent link for")

	h.keys("n")
	if h.m.screen != screenWizard || h.step() != common.StepProfile {
		t.Errorf("n: screen %v step %s", h.m.screen, h.step())
	}
}

func TestDashboardReconsentOpensTheConsentStep(t *testing.T) {
	h := newHarness(t)
	h.wait = 800 * time.Millisecond
	completeAppOnly(t, h)
	h.open()
	h.keys("c")
	if h.m.screen != screenWizard || h.step() != common.StepConsent {
		t.Errorf("c: screen %v step %s", h.m.screen, h.step())
	}
}

func TestDashboardSyncFailingAndStaleWhenUnreachable(t *testing.T) {
	h := newHarness(t)
	h.wait = 800 * time.Millisecond
	completeAppOnly(t, h)
	h.open()
	h.keys("F")
	h.sees("! synced 1 user(s): 0 ok, 1 upn-invalid") // only XX, whose account is not found
	if strings.Contains(h.screen(), "stale") {
		t.Fatal("stale before any failure")
	}
	h.sim.FailNext("/", 1000, 503)
	h.sim.Clock.Advance(16 * time.Minute)
	h.run(h.m.dash.Sweep(h.m.c))
	h.sees("stale")
	h.fits()
}

func TestDashboardSeveralProfiles(t *testing.T) {
	h := newHarness(t)
	h.wait = 800 * time.Millisecond
	completeAppOnly(t, h)
	p, _ := h.db.Profile("acme-production")
	p.ID, p.Environment = "acme-acceptance", "acceptance"
	must(t, h.db.PutProfile(p))
	must(t, h.db.PutUsers(p.ID, store.User{Key: "AV", Account: "anna.devries@contoso.com", UPN: "anna.devries@contoso.com", Mapping: store.MappingOK}))
	h.open()
	h.sees("acme-acceptance", "acme-production ✗ upn-invalid (1)")
	first := h.m.c.Profile.ID
	h.keys("<tab>")
	if h.m.c.Profile.ID == first {
		t.Error("tab did not switch profiles")
	}
	h.sees("[" + h.m.c.Profile.ID)
	h.fits()
}

// profileBar is the line that sums up the profiles: the body's first.
func (h *harness) profileBar() string {
	return strings.Split(h.screen(), "\n")[2]
}

// barLine is the help bar: the frame's last line.
func (h *harness) barLine() string {
	lines := strings.Split(strings.TrimRight(h.screen(), "\n"), "\n")
	return lines[len(lines)-1]
}

// TestDashboardKeysDoWhatTheBarSays drives the dashboard through the
// frame, as a person does: esc closes the detail pane and clears a search
// (the wizard behind the dashboard must not take it), actions work in the
// detail pane, the bar and F1 help fit, and a question is never cut.
func TestDashboardKeysDoWhatTheBarSays(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {60, 18}} {
		t.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(t *testing.T) {
			h := newHarness(t)
			h.wait = 800 * time.Millisecond
			completeAppOnly(t, h)
			h.open()
			h.send(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
			fits := func() {
				t.Helper()
				lines := strings.Split(h.screen(), "\n")
				if len(lines) > size[1] {
					t.Fatalf("%d lines:\n%s", len(lines), h.screen())
				}
				for _, l := range lines {
					if ansi.StringWidth(l) > size[0] {
						t.Fatalf("%q is wider than %d", l, size[0])
					}
				}
				if bar := h.barLine(); strings.HasSuffix(strings.TrimSpace(bar), "…") {
					t.Fatalf("the help bar is cut: %q", bar)
				}
			}
			fits()
			if bar := h.barLine(); !strings.Contains(bar, "ctrl+c quit") || !strings.Contains(bar, "f1 more keys") {
				t.Fatalf("bar %q", bar)
			}

			// F1 lists every key within the frame; F1 again closes it.
			h.keys("<f1>")
			h.sees("Keys on this screen", "f1 close help")
			if size[0] == 80 {
				h.seesText("y sync now", "F sync failing", "R rotate secret", "3 no sync-id", "/ search", "enter detail", "s/S sort")
			}
			fits()
			h.keys("<f1>")
			h.lacks("Keys on this screen")

			// Search, keep it, and esc clears it.
			h.keys("/anna<enter>")
			h.sees(`search "anna"`)
			h.keys("<esc>")
			h.lacks(`search "anna"`)
			if h.m.screen != screenDashboard {
				t.Fatalf("esc left the dashboard for screen %v", h.m.screen)
			}

			// The detail pane: esc closes it; the actions in its bar work.
			h.keys("<enter>")
			h.sees("esc close")
			fits()
			h.keys("y")
			h.sees("synced 1 user(s)")
			h.keys("<esc>")
			if h.m.screen != screenDashboard || h.m.dash.Detail() {
				t.Fatalf("esc: screen %v, detail %v", h.m.screen, h.m.dash.Detail())
			}

			// A question is never cut: its answers and keys are on screen.
			h.keys("R")
			h.seesText("Rotate the client secret?", "uses the new one.")
			h.sees("Rotate   Cancel", "y yes • n/esc no")
			fits()
			h.keys("n")
			h.lacks("Rotate the client secret?")
		})
	}
}

// delegatedComplete stores a per-user Graph profile whose setup is done
// and whose users skipped the sign-in.
func delegatedComplete(t *testing.T, h *harness, id string) store.Profile {
	t.Helper()
	p := store.Profile{ID: id, Customer: "Acme", Environment: "production", Preset: "generic", Model: store.Delegated,
		Protocols: []store.Protocol{store.Graph}, Folders: []string{"calendar"}, TenantID: h.sim.Tenant.ID,
		ClientID: h.sim.App.ClientID, Hosts: h.options().Hosts, WizardStep: common.StepVerify}
	must(t, h.db.PutProfile(p))
	for _, u := range []struct{ key, upn string }{{"AV", "anna.devries@contoso.com"}, {"BJ", "bjanssen@contoso.onmicrosoft.com"}} {
		must(t, h.db.PutUsers(p.ID, store.User{Key: u.key, Name: u.key, Account: u.upn, UPN: u.upn, Mapping: store.MappingOK, Consent: store.ConsentPending}))
	}
	return p
}

// TestDashboardSkippedSignInIsSignInNeeded: users who skipped the sign-in
// are sign-in-needed, the sign-in filter finds them, F syncs them, and a
// sync with no success says so without a ✓.
func TestDashboardSkippedSignInIsSignInNeeded(t *testing.T) {
	h := newHarness(t)
	h.wait = 800 * time.Millisecond
	delegatedComplete(t, h, "acme-production")
	h.open()
	if j, _ := h.db.Job("acme-production", "AV"); j.State != store.StateSignInNeeded {
		t.Fatalf("AV after the first sweep: %q", j.State)
	}
	h.keys("4")
	h.sees("sign-in needed: 2 of 2")
	h.keys("2")
	h.sees("failing: 2 of 2")
	h.keys("F")
	h.sees("! synced 2 user(s): 0 ok, 2 sign-in-needed")
	h.lacks("✓")
}

// TestDashboardNewProfileIsSwept: a profile set up from the dashboard (n)
// is swept when its dashboard opens, and the header keeps the engine's
// sweep times; the profile bar only changes when a state does.
func TestDashboardNewProfileIsSwept(t *testing.T) {
	h := newHarness(t)
	h.wait = 800 * time.Millisecond
	completeAppOnly(t, h)
	h.open()
	h.sees("next sweep in")
	p := delegatedComplete(t, h, "acme-acceptance")
	h.run(h.m.openDashboard(p))
	h.sees("[acme-acceptance", "next sweep in")
	if j, err := h.db.Job(p.ID, "AV"); err != nil || j.State != store.StateSignInNeeded {
		t.Fatalf("the new profile was not swept: %+v %v", j, err)
	}
	bar := h.profileBar()
	for range 3 {
		h.run(h.m.dash.Sweep(h.m.c)) // nothing is due: nothing changes
		if got := h.profileBar(); got != bar {
			t.Fatalf("the profile bar changed without a change:\n%s\n%s", bar, got)
		}
	}
}

// TestDemoQuitSaysWhatIsThrownAway: in the demo, leaving asks first even
// on the dashboard, says the data is thrown away, and exports go where the
// question says they stay.
func TestDemoQuitSaysWhatIsThrownAway(t *testing.T) {
	h := newHarness(t)
	h.wait = 800 * time.Millisecond
	completeAppOnly(t, h)
	keep := t.TempDir()
	h.m = nil
	m, err := New(context.Background(), func() common.Options {
		o := h.options()
		o.Throwaway, o.ExportDir = filepath.Dir(h.db.Path()), keep
		return o
	}())
	must(t, err)
	h.m = m
	h.send(tea.WindowSizeMsg{Width: 80, Height: 24})
	h.run(m.Init())
	h.keys("e")
	h.seesText("written to " + keep)
	h.keys("<ctrl+c>")
	h.seesText("Leave the demo?", "is thrown away", "stay in "+keep, "Quit Stay", "y yes")
	h.fits()
	h.keys("n")
	if h.m.screen != screenDashboard {
		t.Fatal("n left the dashboard")
	}
}

// TestAQuestionKeepsItsAnswers: a question longer than its slot loses
// the end of its text, never the answers under it.
func TestAQuestionKeepsItsAnswers(t *testing.T) {
	h := newHarness(t)
	h.send(tea.WindowSizeMsg{Width: 60, Height: 18})
	long := strings.Repeat("This question goes on and on about what will happen. ", 12)
	h.run(h.m.askFirst(long, "Go on", "Stop", nil))
	h.sees("Go on", "Stop", "y yes")
	h.fits()
}

// TestDashboardShowsADamagedRecordAsOneRow: a user record that does not
// decode costs that row, shown as damaged with the way out; the others
// load.
func TestDashboardShowsADamagedRecordAsOneRow(t *testing.T) {
	h := newHarness(t)
	h.wait = 800 * time.Millisecond
	completeAppOnly(t, h)
	path := h.db.Path()
	must(t, h.db.Close())
	bdb, err := bolt.Open(path, 0o600, nil)
	must(t, err)
	must(t, bdb.Update(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte("profiles")).Bucket([]byte("acme-production")).Bucket([]byte("users")).Put([]byte("BJ"), []byte("\x07garbage{"))
	}))
	must(t, bdb.Close())
	h.db, err = store.Open(path, store.Options{Now: h.sim.Clock.Now})
	must(t, err)
	t.Cleanup(func() { h.db.Close() })
	h.open()
	h.sees("all: 3 of 3", "AV", "BJ (damaged r", "damaged")
	h.keys("<down><enter>")
	h.seesText("modauth doctor")
}

// openFailed opens the dashboard of completeAppOnly's profile with AV's
// job failed with le in state s, due only in an hour, so the sweep at
// opening leaves it as it is.
func openFailed(t *testing.T, s store.JobState, le store.LastError) *harness {
	t.Helper()
	h := newHarness(t)
	h.wait = 800 * time.Millisecond
	completeAppOnly(t, h)
	now := h.sim.Clock.Now()
	le.At = now.Add(-5 * time.Minute)
	later := store.Job{State: store.StateOK, LastRun: now, LastSuccess: now, NextRun: now.Add(time.Hour)}
	must(t, h.db.PutJobs("acme-production", map[string]store.Job{
		"AV": {State: s, LastRun: le.At, NextRun: now.Add(time.Hour), Failures: 2, LastError: &le},
		"BJ": later, "XX": later,
	}))
	h.open()
	return h
}

// TestDashboardDetailShowsTheConnectionLayersFix: a mailbox Exchange
// refused shows the fix the connection layer found for it, its meaning
// and its PowerShell, not a state's general advice, within 80x24.
func TestDashboardDetailShowsTheConnectionLayersFix(t *testing.T) {
	h := openFailed(t, store.StateMailboxDenied, store.LastError{
		Message:    "IMAP: the token was accepted, but not for mailbox anna.devries@contoso.com",
		Meaning:    "Exchange took the token but not the mailbox: the app has no FullAccess on it.",
		Fix:        "Give the app's service principal FullAccess: Add-MailboxPermission -Identity anna.devries@contoso.com -User <service principal ID> -AccessRights FullAccess.",
		PowerShell: []string{"# Connect first", "", "Add-MailboxPermission -Identity anna.devries@contoso.com -User $SPObjectId -AccessRights FullAccess"},
	})
	h.sees("mailbox-denied") // the state fits its column
	h.fits()
	h.keys("<enter>")
	h.seesText("State: mailbox-access-denied", "Exchange took the token but not the mailbox", "Fix: Give the app's service principal FullAccess: Add-MailboxPermission")
	h.sees("Exchange Online PowerShell", "Add-MailboxPermission -Identity anna.devries@contoso.com -User $SPObjectId")
	h.lacks("Consent is missing", "Connect first")
	h.fits()
}

// TestDashboardSMTPAuthDisabledShowsItsFix: SMTP AUTH switched off shows
// its own fix and PowerShell, and sorts and sums up as a failure.
func TestDashboardSMTPAuthDisabledShowsItsFix(t *testing.T) {
	h := openFailed(t, store.StateSMTPAuthDisabled, store.LastError{
		Message:    "SMTP: 535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Mailbox",
		Fix:        "Turn SMTP AUTH on for anna.devries@contoso.com: Set-CASMailbox -SmtpClientAuthenticationDisabled $false.",
		PowerShell: []string{"Set-CASMailbox -Identity anna.devries@contoso.com -SmtpClientAuthenticationDisabled $false"},
	})
	h.sees("smtp-auth-off")
	h.keys("2")
	h.sees("failing: 1 of 3", "AV")
	h.keys("<enter>")
	h.seesText("State: smtp-auth-disabled", "Fix: Turn SMTP AUTH on for anna.devries@contoso.com")
	h.sees("Exchange Online PowerShell", "  Set-CASMailbox -Identity anna.devries@contoso.com", common.ContMark+"-SmtpClientAuthenticationDisabled $false")
	h.lacks("Consent is missing")
	h.fits()
}
