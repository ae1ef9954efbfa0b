package tui

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modauth/modauth/tui/step/consent"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/modauth/modauth/m365sim"
	"github.com/modauth/modauth/store"
	"github.com/modauth/modauth/tui/common"
	"github.com/modauth/modauth/tui/internal/qr"
)

const (
	consentProfileID = "acme-production"
	consentAnna      = "anna.devries@contoso.com"
	consentBram      = "bjanssen@contoso.onmicrosoft.com"
)

// newConsentHarness stores a profile for the simulator's demo app, with
// the users step done and two resolved users, and reopens the interface,
// which resumes at the consent step. mod changes the profile first.
func newConsentHarness(t *testing.T, mod ...func(*store.Profile)) *harness {
	t.Helper()
	h := newHarness(t)
	// Commands that wait longer are dropped: the countdown's one-second
	// tick, and a poll or listener the test keeps waiting on purpose.
	h.wait = 800 * time.Millisecond
	p := store.Profile{
		ID: consentProfileID, Customer: "Acme", Environment: "production", Preset: "generic",
		ClientID: h.sim.App.ClientID, TenantID: h.sim.Tenant.ID,
		Hosts:  store.Hosts{Authority: h.sim.URL},
		Scopes: []string{"https://outlook.office.com/IMAP.AccessAsUser.All", "openid", "profile", "offline_access"},
		Model:  store.Delegated, Protocols: []store.Protocol{store.IMAP}, WizardStep: common.StepUsers,
	}
	for _, m := range mod {
		m(&p)
	}
	if err := h.db.PutProfile(p); err != nil {
		t.Fatal(err)
	}
	if err := h.db.PutUsers(p.ID,
		store.User{Key: "anna", Name: "Anna de Vries", Account: consentAnna, UPN: consentAnna, Mapping: store.MappingOK},
		store.User{Key: "bram", Name: "Bram Janssen", Account: "bram.janssen@contoso.com", UPN: consentBram, Mapping: store.MappingOK},
	); err != nil {
		t.Fatal(err)
	}
	h.open()
	if h.step() != common.StepConsent {
		t.Fatalf("resumed at %s, want consent:\n%s", h.step(), h.screen())
	}
	t.Cleanup(func() {
		if s, ok := h.m.wiz.steps[4].(*consent.Step); ok {
			s.Stop() // stops a poll or listener left waiting
		}
	})
	return h
}

func (h *harness) consent() *consent.Step { return h.m.wiz.current().(*consent.Step) }

// approveDeviceAs makes the device-code poll approve the sign-in as upn
// just before its first poll, as a person on their phone would. It returns
// what the simulator's sign-in page answered.
func (h *harness) approveDeviceAs(upn string) func() error {
	var (
		mu       sync.Mutex
		approved bool
		pageErr  error
	)
	h.m.c.Sleep = func(ctx context.Context, d time.Duration) error {
		h.sim.Clock.Advance(d)
		mu.Lock()
		defer mu.Unlock()
		if !approved {
			approved = true
			// The step set dev before it started the poll.
			pageErr = h.sim.ApproveDevice(h.consent().Device().UserCode, upn)
		}
		return ctx.Err()
	}
	return func() error { mu.Lock(); defer mu.Unlock(); return pageErr }
}

// holdDevicePoll keeps the device-code poll waiting, as for a person who
// has not signed in yet, until the sign-in is cancelled.
func (h *harness) holdDevicePoll() {
	h.m.c.Sleep = func(ctx context.Context, d time.Duration) error {
		<-ctx.Done()
		return ctx.Err()
	}
}

// seesText is sees for sentences the screen may wrap.
func (h *harness) seesText(texts ...string) {
	h.t.Helper()
	flat := strings.Join(strings.Fields(h.screen()), " ")
	for _, text := range texts {
		if !strings.Contains(flat, strings.Join(strings.Fields(text), " ")) {
			h.t.Fatalf("the screen lacks %q:\n%s", text, h.screen())
		}
	}
}

func consentKey(r rune) tea.KeyPressMsg { return tea.KeyPressMsg{Code: r, Text: string(r)} }

func (h *harness) lacks(texts ...string) {
	h.t.Helper()
	s := h.screen()
	for _, text := range texts {
		if strings.Contains(s, text) {
			h.t.Fatalf("the screen shows %q:\n%s", text, s)
		}
	}
}

func (h *harness) user(key string) store.User {
	h.t.Helper()
	u, err := h.db.User(consentProfileID, key)
	if err != nil {
		h.t.Fatal(err)
	}
	return u
}

func TestConsentDeviceCodeSignsEveryoneIn(t *testing.T) {
	h := newConsentHarness(t)
	h.sees("step 5 of 6", "0 of 2 signed in", "Anna de Vries", consentAnna, "Bram Janssen", consentBram, "pending", "d device", "b browser", "x export", "s skip")
	h.fits()

	page := h.approveDeviceAs(consentAnna)
	writes := h.db.WriteTransactions()
	h.keys("d")
	if err := page(); err != nil {
		t.Fatalf("approve: %v", err)
	}
	h.sees("✓ Signed in as "+consentAnna, "1 of 2 signed in", "✓ "+consentAnna)
	if n := h.db.WriteTransactions() - writes; n != 1 {
		t.Errorf("a sign-in took %d write transactions, want 1: the token, the consent and who signed in together", n)
	}
	h.fits()
	tok, err := h.db.Token(consentProfileID, "anna")
	if err != nil {
		t.Fatalf("no token stored: %v\n%s", err, h.screen())
	}
	if tok.RefreshToken.IsZero() || !tok.ViaDevice {
		t.Errorf("stored token %+v", tok)
	}
	if u := h.user("anna"); u.Consent != store.ConsentDone || u.SignedIn == nil || u.SignedIn.PreferredUsername != consentAnna {
		t.Errorf("anna %+v", u)
	}
	if u := h.user("bram"); u.Consent == store.ConsentDone {
		t.Error("bram is done without signing in")
	}
	// The selection moved on to the next one to sign in.
	if s := h.consent(); s.Selected() != "bram" {
		t.Errorf("selected %q", s.Selected())
	}
	// The refresh token never reaches the screen.
	if strings.Contains(h.screen(), tok.RefreshToken.Reveal()) {
		t.Fatal("the refresh token is on the screen")
	}

	h.approveDeviceAs(consentBram)
	h.keys("d")
	h.sees("✓ Signed in as "+consentBram, "2 of 2 signed in")
	h.keys("<enter>")
	if h.step() != common.StepVerify {
		t.Fatalf("enter with everyone signed in stayed on %s:\n%s", h.step(), h.screen())
	}
	if p, _ := h.db.Profile(consentProfileID); p.WizardStep != common.StepConsent {
		t.Errorf("progress %q", p.WizardStep)
	}
}

func TestConsentWrongAccountIsRefused(t *testing.T) {
	h := newConsentHarness(t)
	h.approveDeviceAs(consentBram) // Bram signs in on Anna's code
	h.keys("d")
	h.seesText("Signed in as "+consentBram, "this sign-in is for "+consentAnna, "nothing was stored", "sign in as "+consentAnna, "✗ wrong account")
	h.lacks("✓ Signed in")
	h.fits()
	if _, err := h.db.Token(consentProfileID, "anna"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a token was stored for anna: %v", err)
	}
	if _, err := h.db.Token(consentProfileID, "bram"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a token was stored for bram: %v", err)
	}
	if u := h.user("anna"); u.Consent == store.ConsentDone || u.SignedIn != nil {
		t.Errorf("anna %+v", u)
	}
	h.keys("<enter>")
	h.sees("Not everyone has signed in yet")
	if h.step() != common.StepConsent {
		t.Fatal("moved on after a wrong account")
	}
}

func TestConsentBlockedDeviceCodeFallsBackToBrowser(t *testing.T) {
	h := newConsentHarness(t)
	h.sim.BlockDeviceCode(true)
	page := h.approveDeviceAs(consentAnna)
	h.keys("d")
	if err := page(); err == nil {
		t.Fatal("the simulator's page did not block the device code")
	}
	h.seesText("Device code sign-in is blocked", "AADSTS53003", "Conditional Access", "b: sign in with the browser instead",
		"Anna de Vries", "Bram Janssen") // the table stays
	h.fits()
	if h.step() != common.StepConsent {
		t.Fatalf("left the step: %s", h.step())
	}

	h.keys("b")
	h.seesText("Browser sign-in for Anna de Vries", "No browser can be opened here", "sign in as "+consentAnna, "paste it here")
	h.fits()
	s := h.consent()
	if s.Mode() != "browser" || s.SignInURL() == "" {
		t.Fatalf("mode %s:\n%s", s.Mode(), h.screen())
	}
	if !strings.Contains(s.SignInURL(), "login_hint=anna.devries") {
		t.Errorf("no login hint in %s", s.SignInURL())
	}
	// The link is on screen, wrapped: the pieces join up to the whole.
	if got := strings.Join(consentLinkLines(h.screen()), ""); got != s.SignInURL() {
		t.Errorf("link on screen\n%s\nwant\n%s", got, s.SignInURL())
	}
	redirect, err := h.sim.SignIn(s.SignInURL(), consentAnna)
	if err != nil {
		t.Fatal(err)
	}
	h.paste(redirect)
	h.sees("✓ Signed in as "+consentAnna, "1 of 2 signed in")
	tok, err := h.db.Token(consentProfileID, "anna")
	if err != nil || tok.RefreshToken.IsZero() || tok.ViaDevice {
		t.Fatalf("token %+v, %v", tok, err)
	}
	if strings.Contains(h.screen(), "code=") {
		t.Error("the pasted address stays on screen")
	}
}

// consentLinkLines are the screen's lines that are part of a sign-in link.
func consentLinkLines(screen string) []string {
	var out []string
	in := false
	for _, l := range strings.Split(screen, "\n") {
		l = strings.TrimRight(l, " ")
		switch {
		case strings.HasPrefix(l, "http://127.0.0.1"):
			in = true
		case in && (l == "" || strings.Contains(l, " ")):
			return out
		}
		if in {
			out = append(out, l)
		}
	}
	return out
}

// consentJoinedScreen is the screen with its lines' trailing blanks and
// the line breaks removed, to find a path or link broken over lines.
func consentJoinedScreen(screen string) string {
	var b strings.Builder
	for _, l := range strings.Split(screen, "\n") {
		b.WriteString(strings.TrimRight(l, " "))
	}
	return b.String()
}

func TestConsentPasteFromAnotherSignInIsRefused(t *testing.T) {
	h := newConsentHarness(t)
	h.keys("b")
	first := h.consent().SignInURL()
	h.keys("<esc>")
	h.sees("Sign-in cancelled", "Anna de Vries")
	h.keys("b")
	second := h.consent().SignInURL()
	if first == second {
		t.Fatal("the same session twice")
	}
	old, err := h.sim.SignIn(first, consentAnna)
	if err != nil {
		t.Fatal(err)
	}
	h.paste(old)
	h.seesText("from another sign-in", "start the sign-in again")
	h.fits()
	if _, err := h.db.Token(consentProfileID, "anna"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("stored from a stale address: %v", err)
	}
	if h.consent().Mode() != "browser" {
		t.Fatal("the paste field is gone after a wrong paste")
	}
	// Not a sign-in address at all, typed and entered.
	h.keys("hello<enter>")
	h.sees("from another sign-in")
	// The right address still works.
	good, err := h.sim.SignIn(second, consentAnna)
	if err != nil {
		t.Fatal(err)
	}
	h.paste(good)
	h.sees("✓ Signed in as " + consentAnna)
}

func TestConsentLoopbackListenerCompletes(t *testing.T) {
	h := newConsentHarness(t)
	var opened string
	h.m.c.OpenURL = func(u string) error { opened = u; return nil }
	h.keys("<down>")
	// Start the browser sign-in by hand, to play the browser before the
	// step starts waiting on the listener.
	_, cmd := h.m.Update(consentKey('b'))
	msg, ok := cmd().(interface {
		URL() string
		Opened() bool
		Err() error
	})
	if !ok || msg.Err() != nil || msg.URL() == "" || !msg.Opened() {
		t.Fatalf("start: %+v", msg)
	}
	if opened == "" || opened != msg.URL() {
		t.Fatalf("opened %q", opened)
	}
	redirect, err := h.sim.SignIn(opened, consentBram)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(redirect, "http://localhost:") {
		t.Fatalf("redirect %s", redirect)
	}
	// A stale tab is refused and the listener keeps waiting.
	hc := h.sim.HTTPClient()
	local := strings.Replace(redirect, "localhost", "127.0.0.1", 1)
	resp, err := hc.Get(regexp.MustCompile(`state=[^&]*`).ReplaceAllString(local, "state=stale"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Fatalf("stale state answered %d", resp.StatusCode)
	}
	// The browser on this machine follows the redirect to the listener.
	resp, err = hc.Get(local)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("listener answered %d", resp.StatusCode)
	}
	h.send(msg)
	h.seesText("✓ Signed in as "+consentBram, "1 of 2 signed in")
	if u := h.user("bram"); u.Consent != store.ConsentDone {
		t.Errorf("bram %+v", u)
	}
	if h.consent().SignInURL() != "" {
		t.Error("the listener is left open")
	}
}

func TestConsentDeviceCodeScreen(t *testing.T) {
	h := newConsentHarness(t)
	h.holdDevicePoll()
	h.keys("d")
	s := h.consent()
	if s.Mode() != "device" {
		t.Fatalf("mode %s:\n%s", s.Mode(), h.screen())
	}
	code := s.Device().UserCode
	h.sees("Device code sign-in for Anna de Vries", "First copy your one-time code: "+code,
		consent.SpacedCode(code), "Open "+h.sim.URL+"/devicelogin on any device and enter it",
		"Enlarge the window for a QR code")
	h.lacks("█", "▀")
	h.fits()
	if !h.m.wiz.current().Busy() {
		t.Error("not busy while polling: esc would leave the step")
	}

	// The countdown follows the clock.
	before := consentCountdown(t, h.screen())
	if before > 15*time.Minute || before < 14*time.Minute {
		t.Errorf("countdown starts at %v", before)
	}
	h.sim.Clock.Advance(61 * time.Second)
	if after := consentCountdown(t, h.screen()); before-after < 60*time.Second || before-after > 63*time.Second {
		t.Errorf("countdown went from %v to %v after 61s", before, after)
	}
	h.sim.Clock.Advance(15 * time.Minute)
	h.sees("The code has expired")

	// A tall window has room for the QR code.
	h.send(tea.WindowSizeMsg{Width: 100, Height: 40})
	screen := h.screen()
	if strings.Contains(screen, "Enlarge the window") || strings.Count(screen, "█") < 50 {
		t.Fatalf("no QR code at 100x40:\n%s", screen)
	}
	// It is the code of the address shown, which the qr package's zbarimg
	// test decodes back to the exact address.
	want, err := qr.Terminal(h.sim.URL+"/devicelogin", h.m.c.Dark)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(want, "\n") {
		if !strings.Contains(screen, l) {
			t.Fatalf("the screen lacks the QR line %q:\n%s", l, screen)
		}
	}
	lines := strings.Split(screen, "\n")
	if len(lines) > 40 {
		t.Errorf("%d lines at 100x40", len(lines))
	}
	for i, l := range lines {
		if ansi.StringWidth(l) > 100 {
			t.Errorf("line %d is %d wide", i, ansi.StringWidth(l))
		}
	}
	if !strings.Contains(screen, "ctrl+c quit") {
		t.Errorf("the QR code pushed the help bar off:\n%s", screen)
	}
	h.send(tea.WindowSizeMsg{Width: 80, Height: 24})

	// c copies the code with OSC 52.
	_, cmd := h.m.Update(consentKey('c'))
	if cmd == nil {
		t.Fatal("c returned no command")
	}
	msg := cmd()
	if reflect.TypeOf(msg) != reflect.TypeOf(tea.SetClipboard("")()) || fmt.Sprint(msg) != code {
		t.Errorf("c sent %T %v, want the clipboard set to %s", msg, msg, code)
	}
	h.sees("✓ copied")
	h.fits()

	h.keys("<esc>")
	h.sees("Sign-in cancelled", "Anna de Vries")
	if h.step() != common.StepConsent || h.consent().Mode() != "table" {
		t.Fatal("esc left the step instead of cancelling the sign-in")
	}
	if h.m.wiz.current().Busy() {
		t.Error("still busy after esc")
	}
}

var consentCountdownRe = regexp.MustCompile(`expires in (\d\d):(\d\d)`)

func consentCountdown(t *testing.T, screen string) time.Duration {
	t.Helper()
	m := consentCountdownRe.FindStringSubmatch(screen)
	if m == nil {
		t.Fatalf("no countdown:\n%s", screen)
	}
	var mm, ss int
	fmt.Sscan(m[1], &mm)
	fmt.Sscan(m[2], &ss)
	return time.Duration(mm)*time.Minute + time.Duration(ss)*time.Second
}

func TestConsentContinueNamesWhoIsMissing(t *testing.T) {
	h := newConsentHarness(t)
	h.approveDeviceAs(consentAnna)
	h.keys("d")
	h.keys("<enter>")
	h.seesText("Not everyone has signed in yet: Bram Janssen ("+consentBram+") is missing", "s to skip the rest")
	h.lacks("Anna de Vries (" + consentAnna + ") is")
	h.fits()
	if h.step() != common.StepConsent {
		t.Fatal("enter moved on with Bram pending")
	}
	h.keys("s")
	h.seesText("Skip the rest for now? 1 user has not signed in", "Skip Keep going", "y yes")
	h.fits()
	h.keys("n")
	if h.step() != common.StepConsent || h.consent().Mode() != "table" {
		t.Fatal("n did not keep the step")
	}
	h.keys("sy")
	if h.step() != common.StepVerify {
		t.Fatalf("y did not skip: %s\n%s", h.step(), h.screen())
	}
	if u := h.user("bram"); u.Consent != store.ConsentPending {
		t.Errorf("bram %q, want pending", u.Consent)
	}
	if u := h.user("anna"); u.Consent != store.ConsentDone {
		t.Errorf("anna %q", u.Consent)
	}
}

func TestConsentExportInstructions(t *testing.T) {
	h := newConsentHarness(t)
	h.approveDeviceAs(consentAnna)
	h.keys("d")
	code := "" // the code of a second, unfinished sign-in must not be exported
	h.holdDevicePoll()
	h.keys("d") // Bram is selected now
	code = h.consent().Device().UserCode
	h.keys("<esc>x")
	h.sees("Wrote sign-in instructions for 1 user to")
	h.fits()
	path := filepath.Join(filepath.Dir(h.db.Path()), consentProfileID+"-sign-in-instructions.txt")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	for _, want := range []string{consentBram, "Bram Janssen", "Open " + h.sim.URL + "/devicelogin on any device", "15 minutes"} {
		if !strings.Contains(text, want) {
			t.Errorf("instructions lack %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, consentAnna) {
		t.Error("instructions for anna, who is signed in")
	}
	if strings.Contains(text, code) {
		t.Error("the instructions carry a one-time code")
	}
	// The screen says where (the path may be wrapped).
	if got := consentJoinedScreen(h.screen()); !strings.Contains(got, path) {
		t.Errorf("the screen does not name the file:\n%s", h.screen())
	}
}

func TestConsentPublicClientFlowsOff(t *testing.T) {
	h := newConsentHarness(t)
	app := h.sim.RegisterApp(h.sim.Tenant, m365sim.AppSpec{DisplayName: "no public flows", PublicRedirectURIs: []string{"http://localhost"},
		Required: []string{"IMAP.AccessAsUser.All", "offline_access", "openid", "profile"}})
	h.m.c.Profile.ClientID = app.ClientID
	h.keys("d")
	h.seesText("AADSTS7000218", "Allow public client flows", "b: sign in with the browser instead", "Bram Janssen")
	h.fits()
	if _, err := h.db.Token(consentProfileID, "anna"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("token: %v", err)
	}
}

func TestConsentRedirectMismatchCaughtBeforeTheLink(t *testing.T) {
	h := newConsentHarness(t)
	app := h.sim.RegisterApp(h.sim.Tenant, m365sim.AppSpec{DisplayName: "web only", WebRedirectURIs: []string{"https://crm.example.com/cb"},
		Required: []string{"IMAP.AccessAsUser.All", "offline_access", "openid", "profile"}})
	h.m.c.Profile.ClientID = app.ClientID
	h.keys("b")
	h.seesText("AADSTS50011", "redirect URI", "Mobile and desktop applications")
	h.lacks("paste it here")
	h.fits()
	if h.consent().Mode() != "table" {
		t.Fatal("the paste field is shown for a link that cannot work")
	}
}

func TestConsentAppOnly(t *testing.T) {
	h := newConsentHarness(t, func(p *store.Profile) { p.Model = store.AppOnly })
	h.seesText("App-only: nobody signs in", "register step", "enter to continue")
	h.lacks("Anna de Vries")
	h.fits()
	s := h.consent()
	if !regexp.MustCompile(`/adminconsent\?client_id=` + h.sim.App.ClientID).MatchString(s.AdminConsentURL()) {
		t.Fatalf("admin consent link %q", s.AdminConsentURL())
	}
	if !strings.Contains(consentJoinedScreen(h.screen()), s.AdminConsentURL()) {
		t.Errorf("no link on screen:\n%s", h.screen())
	}
	_, cmd := h.m.Update(consentKey('c'))
	if cmd == nil || fmt.Sprint(cmd()) != s.AdminConsentURL() {
		t.Error("c does not copy the link")
	}
	h.sees("✓ copied the link")
	h.keys("<enter>")
	if h.step() != common.StepVerify {
		t.Fatalf("enter stayed on %s", h.step())
	}
}

func TestConsentServiceAccount(t *testing.T) {
	h := newConsentHarness(t, func(p *store.Profile) { p.Model = store.ServiceAccount })
	h.sees("Which account signs in for every mailbox?", "Service account")
	h.fits()
	h.keys("svc<enter>")
	h.sees("enter the account's sign-in name")
	h.keys("@contoso<backspace><backspace><backspace><backspace><backspace><backspace><backspace><backspace><backspace><backspace><backspace>")
	h.keys(consentAnna + "<enter>")
	h.seesText("The service account signs in once", "0 of 1 signed in", consentAnna)
	h.lacks("Bram Janssen")
	h.fits()
	if p, _ := h.db.Profile(consentProfileID); p.ServiceAccount != consentAnna {
		t.Fatalf("service account %q not saved", p.ServiceAccount)
	}
	// anna is also a user of the profile: her record is the service account's.
	h.approveDeviceAs(consentAnna)
	h.keys("d")
	h.sees("✓ Signed in as "+consentAnna, "1 of 1 signed in")
	if _, err := h.db.Token(consentProfileID, "anna"); err != nil {
		t.Fatalf("no token: %v", err)
	}
	h.keys("<enter>")
	if h.step() != common.StepVerify {
		t.Fatalf("stayed on %s", h.step())
	}
}

func TestConsentNewServiceAccountGetsARecord(t *testing.T) {
	h := newConsentHarness(t, func(p *store.Profile) { p.Model = store.ServiceAccount; p.ServiceAccount = "hugo.lefebvre@contoso.com" })
	h.sees("Service account", "hugo.lefebvre@contoso.com", "pending")
	h.approveDeviceAs("hugo.lefebvre@contoso.com")
	h.keys("d")
	h.sees("✓ Signed in as hugo.lefebvre@contoso.com")
	if _, err := h.db.Token(consentProfileID, consent.ServiceKey); err != nil {
		t.Fatalf("no token under %s: %v", consent.ServiceKey, err)
	}
	if u := h.user(consent.ServiceKey); u.Consent != store.ConsentDone || u.UPN != "hugo.lefebvre@contoso.com" {
		t.Errorf("record %+v", u)
	}
}

func TestConsentBrowserLinkOnASmallScreen(t *testing.T) {
	h := newConsentHarness(t)
	h.send(tea.WindowSizeMsg{Width: 60, Height: 18})
	h.keys("b")
	h.seesText("press c to copy it whole", "paste it here")
	if !strings.Contains(h.screen(), "› http://localhost…") {
		t.Fatalf("the paste field is cut off:\n%s", h.screen())
	}
	lines := strings.Split(h.screen(), "\n")
	if len(lines) > 18 {
		t.Errorf("%d lines at 60x18", len(lines))
	}
	for i, l := range lines {
		if ansi.StringWidth(l) > 60 {
			t.Errorf("line %d is %d wide", i, ansi.StringWidth(l))
		}
	}
	_, cmd := h.m.Update(consentKey('c'))
	if cmd == nil || fmt.Sprint(cmd()) != h.consent().SignInURL() {
		t.Error("c does not copy the whole link")
	}
}

// TestConsentTableAlignsNonASCIINames: padding by bytes shifted the
// columns of names like Müller.
func TestConsentTableAlignsNonASCIINames(t *testing.T) {
	h := newConsentHarness(t, func(p *store.Profile) {})
	if err := h.db.PutUsers(consentProfileID, store.User{Key: "jm", Name: "Zoë Åsa", Account: "zoe.asa@contoso.com", UPN: "zoe.asa@contoso.com", Mapping: store.MappingOK}); err != nil {
		t.Fatal(err)
	}
	h.open()
	col := -1
	for _, l := range strings.Split(h.screen(), "\n") {
		i := strings.Index(l, "@contoso.com")
		if i < 0 || !strings.Contains(l, "pending") {
			continue
		}
		at := ansi.StringWidth(l[:i]) - ansi.StringWidth(strings.Fields(l[:i])[len(strings.Fields(l[:i]))-1])
		if col >= 0 && at != col {
			t.Fatalf("the account column starts at cell %d and at %d:\n%s", col, at, h.screen())
		}
		col = at
	}
	if col < 0 {
		t.Fatalf("no rows:\n%s", h.screen())
	}
}
