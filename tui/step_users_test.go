package tui

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modauth/modauth/tui/step/users"

	tea "charm.land/bubbletea/v2"

	"github.com/modauth/modauth/exchange"
	"github.com/modauth/modauth/m365sim"
	"github.com/modauth/modauth/store"
	"github.com/modauth/modauth/tui/common"
)

const usersTestProfile = "acme-production"

// usersOpen stores an app-only profile whose wizard is done up to the IDs,
// with the given users, and reopens the interface on the users step. With
// roles, it registers an app with those application permissions in the
// simulated tenant, consents and stores its secret; with secret false the
// app exists but no secret is stored.
func usersOpen(t *testing.T, h *harness, secret bool, roles []string, users ...store.User) {
	t.Helper()
	p := store.Profile{
		ID: usersTestProfile, Customer: "Acme", Environment: "production", Preset: "allsolutions-online",
		Model: store.AppOnly, Protocols: []store.Protocol{store.Graph}, Hosts: h.options().Hosts,
		TenantID: h.sim.Tenant.ID, WizardStep: common.StepIDs,
	}
	var sec m365sim.PasswordCredential
	if roles != nil {
		app := h.sim.RegisterApp(h.sim.Tenant, m365sim.AppSpec{DisplayName: "modauth acme", Required: roles})
		sec = h.sim.AddSecret(app, 24*time.Hour)
		h.sim.GrantAdminConsent(h.sim.Tenant, app)
		p.ClientID = app.ClientID
	}
	if err := h.db.PutProfile(p); err != nil {
		t.Fatal(err)
	}
	if secret {
		if err := h.db.SetClientSecret(p.ID, store.ClientSecret{Value: store.Secret(sec.Value), KeyID: sec.KeyID, Expiry: sec.End, ExpirySource: store.ExpiryEntered}); err != nil {
			t.Fatal(err)
		}
	}
	if len(users) > 0 {
		if err := h.db.PutUsers(p.ID, users...); err != nil {
			t.Fatal(err)
		}
	}
	h.open()
	if h.step() != common.StepUsers {
		t.Fatalf("opened on %s:\n%s", h.step(), h.screen())
	}
}

// usersPersonas are the simulated tenant's users, one per mapping
// problem, as a product might have entered them.
var usersPersonas = []store.User{
	{Key: "ADV", Name: "Anna de Vries", Account: "anna.devries@contoso.com"},
	{Key: "BJ", Name: "Bram Janssen", Account: "bram.janssen@contoso.com"},
	{Key: "DW", Name: "Dieter Wagner", Account: "dieter.wagner@contoso.com"},
	{Key: "ES", Name: "Eva Schmidt", Account: "eva.schmidt@contoso.com"},
	{Key: "XX", Name: "Anna (typo)", Account: "anna.devris@contoso.com"},
}

func (h *harness) usersDB() []store.User {
	h.t.Helper()
	users, err := h.db.Users(usersTestProfile)
	if err != nil {
		h.t.Fatal(err)
	}
	return users
}

// row is the table row of a user key, or "".
func (h *harness) row(key string) string {
	for _, l := range strings.Split(h.screen(), "\n") {
		f := strings.Fields(strings.TrimPrefix(l, "›"))
		if len(f) > 1 && f[0] == key {
			return l
		}
	}
	return ""
}

func (h *harness) rowStatus(key, status string) {
	h.t.Helper()
	r := h.row(key)
	if !strings.HasSuffix(strings.TrimSpace(r), "  "+status) {
		h.t.Fatalf("row %s is %q, want status %q:\n%s", key, r, status, h.screen())
	}
}

func (h *harness) usersStep() *users.Step { return h.m.wiz.current().(*users.Step) }

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestUsersImportSemicolonCSVWithBOM(t *testing.T) {
	h := newHarness(t)
	usersOpen(t, h, false, nil)
	h.sees("step 4 of 6", "No users yet", "i import", "a add", "ctrl+c quit")
	h.fits()

	path := writeFile(t, "mgebru.csv", "\xEF\xBB\xBFGebruiker;Naam;E-mailadres\r\n"+
		"ADV;Anna de Vries;anna.devries@contoso.com\r\n"+
		"BJ;\"Janssen; Bram\";bram.janssen@contoso.com\r\n")
	h.keys("i")
	h.sees("Import the product's users", "CSV file")
	h.fits()
	h.paste(path)
	h.keys("<enter>")
	h.sees("Imported 2 users from mgebru.csv", "2 users: 0 ok, 0 mismatch, 2 to fix")
	h.rowStatus("ADV", "unresolved")
	h.rowStatus("BJ", "unresolved")
	if r := h.row("ADV"); !strings.Contains(r, "anna.devries@contoso.com") {
		t.Errorf("row %q", r)
	}
	h.sees("r resolve", "e edit", "d del", "ctrl+c quit")
	h.fits()

	users := h.usersDB()
	if len(users) != 2 || users[0].Key != "ADV" || users[0].Name != "Anna de Vries" || users[1].Name != "Janssen; Bram" || users[1].Account != "bram.janssen@contoso.com" {
		t.Fatalf("stored %+v", users)
	}
}

func TestUsersImportMergesByKey(t *testing.T) {
	h := newHarness(t)
	usersOpen(t, h, false, nil,
		store.User{Key: "ADV", Name: "A. de Vries", Account: "anna.devries@contoso.com", UPN: "anna.devries@contoso.com", Mapping: store.MappingOK, Consent: store.ConsentDone},
		store.User{Key: "CD", Name: "Claire", Account: "c.dubois@contoso.com", UPN: "claire.dubois@contoso.com", Mapping: store.MappingMismatch},
		store.User{Key: "OLD", Account: "old@contoso.com"},
	)
	path := writeFile(t, "users.csv", "key,name,account\nadv,Anna de Vries,Anna.DeVries@contoso.com\nCD,Claire Dubois,claire.dubois@contoso.com\nBJ,Bram,bram.janssen@contoso.com\n")
	h.keys("i")
	h.paste(path)
	h.keys("<enter>")
	h.sees("Imported 3 users from users.csv: 1 new, 2 updated")
	h.fits()
	got := map[string]store.User{}
	for _, u := range h.usersDB() {
		got[u.Key] = u
	}
	if len(got) != 4 {
		t.Fatalf("users %v", got)
	}
	// Same account (in another case): the resolution and consent stay.
	if u := got["ADV"]; u.Name != "Anna de Vries" || u.Mapping != store.MappingOK || u.UPN == "" || u.Consent != store.ConsentDone {
		t.Errorf("ADV %+v", u)
	}
	// Another account: resolve again.
	if u := got["CD"]; u.Account != "claire.dubois@contoso.com" || u.Mapping != store.MappingUnresolved || u.UPN != "" {
		t.Errorf("CD %+v", u)
	}
	if _, ok := got["OLD"]; !ok {
		t.Error("a user missing from the file was removed")
	}
}

// TestUsersImportShowsWarnings: two product users on one mailbox are
// imported, and the step says so.
func TestUsersImportShowsWarnings(t *testing.T) {
	h := newHarness(t)
	usersOpen(t, h, false, nil)
	path := writeFile(t, "shared.csv", "sep=;\r\nGebruiker;Naam;E-mailadres;;\r\n"+
		"ADV;Anna de Vries;anna.devries@contoso.com;;\r\n"+
		"ADV2;Anna (balie);Anna.DeVries@contoso.com;;\r\n")
	h.keys("i")
	h.paste(path)
	h.keys("<enter>")
	h.seesText("Imported 2 users from shared.csv", "1 warning: line 4", `"ADV2"`, `"ADV" (line 3)`)
	h.fits()
	if users := h.usersDB(); len(users) != 2 {
		t.Fatalf("stored %+v", users)
	}
}

func TestUsersImportBadLinesImportsNothing(t *testing.T) {
	h := newHarness(t)
	usersOpen(t, h, false, nil)
	path := writeFile(t, "bad.csv", "key;name;account\n"+
		"A;Anna;anna.devries@contoso.com\n"+
		"B;Bram;\n"+
		"C;Claire;claire.dubois@contoso.com\n"+
		"D;Dieter;dieter wagner@contoso.com\n")
	h.keys("i")
	h.paste(path)
	h.keys("<enter>")
	h.sees("2 bad lines, nothing imported: lines 3, 5",
		"Nothing imported from bad.csv", "line 3: no account", `line 5: account "dieter wagner@contoso.com" is not an address`, "No users yet")
	h.fits()
	if users := h.usersDB(); len(users) != 0 {
		t.Fatalf("imported %v", users)
	}

	// A file that is not there keeps the form open; esc closes it and
	// stays on the step.
	h.keys("i")
	h.paste(filepath.Join(t.TempDir(), "missing.csv"))
	h.keys("<enter>")
	h.sees("Nothing imported, no such file or directory", "CSV file")
	h.fits()
	h.keys("<esc>")
	if h.step() != common.StepUsers || !h.usersStep().Listing() {
		t.Fatalf("esc: step %s listing %v", h.step(), h.usersStep().Listing())
	}
	h.sees("No users yet")
}

func TestUsersResolveAndContinue(t *testing.T) {
	h := newHarness(t)
	usersOpen(t, h, true, []string{"role:User.Read.All"}, usersPersonas...)
	h.sees("5 users: 0 ok, 0 mismatch, 5 to fix")
	h.keys("<enter>")
	h.sees("5 of 5 users are not ready: 5 unresolved", "press r to resolve")
	h.fits()

	h.keys("r")
	if h.usersStep().Busy() {
		t.Fatal("still busy after the run")
	}
	h.sees("Resolved 5 users: 1 ok, 1 mismatch, 3 to fix")
	h.rowStatus("ADV", "ok")
	h.rowStatus("BJ", "mismatch")
	h.rowStatus("DW", "disabled")
	h.rowStatus("ES", "no mailbox")
	h.rowStatus("XX", "not found")
	h.fits()
	want := map[string]store.MappingStatus{"ADV": store.MappingOK, "BJ": store.MappingMismatch, "DW": store.MappingDisabled, "ES": store.MappingNoMailbox, "XX": store.MappingNotFound}
	for _, u := range h.usersDB() {
		if u.Mapping != want[u.Key] {
			t.Errorf("%s stored as %q, want %q", u.Key, u.Mapping, want[u.Key])
		}
		if u.Key == "BJ" && u.UPN != "bjanssen@contoso.onmicrosoft.com" {
			t.Errorf("BJ's UPN %q", u.UPN)
		}
	}

	// The line under the table says what to do about the selected user.
	h.sees("ADV · OK: the account is the UPN")
	h.keys("<down>")
	h.sees("BJ · Found by mail address", "bjanssen@contoso.onmicrosoft.com", "modauth uses the UPN")
	h.keys("<down><down><down>")
	h.sees("XX · No Entra user has this address", "(e.g. MGEBRU)", "press e to edit it")
	h.fits()

	h.keys("<enter>")
	h.sees("3 of 5 users are not ready: 1 not found, 1 disabled, 1 without mailbox", "Nothing continues with an unresolved user")
	h.fits()
	if h.step() != common.StepUsers {
		t.Fatal("enter went on with unresolved users")
	}

	// Remove the three: each asks first.
	h.keys("d")
	h.sees("Remove XX (anna.devris@contoso.com)", "Remove   Keep", "y yes")
	h.fits()
	h.keys("y")
	h.keys("d") // ES, now the last
	h.sees("Remove ES")
	h.keys("y")
	h.keys("d")
	h.sees("Remove DW")
	h.keys("y")
	h.sees("2 users: 1 ok, 1 mismatch, 0 to fix", "enter next")
	h.fits()
	if users := h.usersDB(); len(users) != 2 || users[0].Key != "ADV" || users[1].Key != "BJ" {
		t.Fatalf("left %v", users)
	}
	h.keys("<enter>")
	if h.step() != common.StepConsent {
		t.Fatalf("enter stayed on %s:\n%s", h.step(), h.screen())
	}
	if p, _ := h.db.Profile(usersTestProfile); p.WizardStep != common.StepUsers {
		t.Errorf("progress %q", p.WizardStep)
	}
}

func TestUsersResolveShowsProgressAndStops(t *testing.T) {
	h := newHarness(t)
	usersOpen(t, h, true, []string{"role:User.Read.All"}, usersPersonas...)

	// Step the run by hand, one command at a time, to see each frame.
	step := func(cmd tea.Cmd) tea.Cmd {
		t.Helper()
		if cmd == nil {
			t.Fatalf("no command:\n%s", h.screen())
		}
		_, next := h.m.Update(cmd())
		return next
	}
	_, cmd := h.m.Update(tea.KeyPressMsg{Code: 'r', Text: "r"})
	if !h.usersStep().Busy() {
		t.Fatal("not busy while resolving")
	}
	h.sees("resolving: getting an app-only token")
	cmd = step(cmd) // the token
	h.sees("resolving 1/5: anna.devries@contoso.com")
	cmd = step(cmd) // ADV
	h.sees("resolving 2/5: bram.janssen@contoso.com", "esc stops")
	h.rowStatus("ADV", "ok")
	h.fits()

	// Keys that change users wait; esc stops and stays on the step.
	h.keys("d")
	h.sees("wait for it")
	h.keys("<esc>")
	if h.step() != common.StepUsers || h.usersStep().Busy() {
		t.Fatalf("esc: step %s busy %v", h.step(), h.usersStep().Busy())
	}
	h.sees("Stopped after 1 of 5 users")
	// BJ's answer comes in late: it is dropped, and nothing more runs.
	if next := step(cmd); next != nil {
		t.Error("a stopped run went on")
	}
	h.rowStatus("BJ", "unresolved")
	got := map[string]store.MappingStatus{}
	for _, u := range h.usersDB() {
		got[u.Key] = u.Mapping
	}
	if got["ADV"] != store.MappingOK || got["BJ"] != store.MappingUnresolved {
		t.Errorf("stored %v", got)
	}
}

func TestUsersResolveWithoutSecret(t *testing.T) {
	h := newHarness(t)
	usersOpen(t, h, false, []string{"role:User.Read.All"}, usersPersonas[0])
	h.keys("r")
	h.sees("No client secret is stored for the app", "User.Read.All")
	h.fits()
	if h.usersStep().Busy() || h.step() != common.StepUsers {
		t.Fatal("the run did not end")
	}
	h.rowStatus("ADV", "unresolved")
}

// The app may not read users (no plan grants it that): an admin signs in
// to look them up instead, and esc stops the wait.
func TestUsersResolveWithoutPermission(t *testing.T) {
	h := newHarness(t)
	usersOpen(t, h, true, []string{"role:Mail.Read"}, usersPersonas[:2]...)
	h.holdDevicePoll()
	h.wait = 300 * time.Millisecond
	h.keys("r")
	h.seesText("An administrator signs in to look the users up in Entra ID: the app may not read users itself", "one-time code")
	h.fits()
	h.keys("<esc>")
	if h.usersStep().Busy() || h.usersStep().Device() != nil {
		t.Fatal("still waiting for the admin")
	}
	for _, u := range h.usersDB() {
		if u.Mapping != store.MappingUnresolved {
			t.Errorf("%s stored as %q", u.Key, u.Mapping)
		}
	}
}

// usersAdmin stands in for the Graph client of an admin who signed in
// for step 2: a second app that may read users.
func usersAdmin(t *testing.T, h *harness) *exchange.Graph {
	t.Helper()
	app := h.sim.RegisterApp(h.sim.Tenant, m365sim.AppSpec{DisplayName: "admin stand-in", Required: []string{"role:User.Read.All"}})
	sec := h.sim.AddSecret(app, time.Hour)
	h.sim.GrantAdminConsent(h.sim.Tenant, app)
	p := store.Profile{TenantID: h.sim.Tenant.ID, ClientID: app.ClientID, Hosts: h.options().Hosts}
	g := h.m.c.Conn(p).WithSecret(store.Secret(sec.Value)).AppGraph()
	if _, err := g.Token(context.Background()); err != nil {
		t.Fatal(err)
	}
	return g
}

func TestUsersResolveWithAdminSignIn(t *testing.T) {
	h := newHarness(t)
	usersOpen(t, h, false, nil, usersPersonas[:2]...) // no app-only access at all
	h.m.c.AdminGraph = usersAdmin(t, h)
	h.keys("r")
	h.sees("Resolved 2 users: 1 ok, 1 mismatch, 0 to fix", "enter next")
	h.rowStatus("ADV", "ok")
	h.rowStatus("BJ", "mismatch")
	h.fits()
}

func TestUsersResolveFallsBackToAdminSignIn(t *testing.T) {
	h := newHarness(t)
	usersOpen(t, h, true, []string{"role:Mail.Read"}, usersPersonas[:2]...) // the app may not read users
	h.m.c.AdminGraph = usersAdmin(t, h)
	h.keys("r")
	h.sees("Resolved 2 users: 1 ok, 1 mismatch, 0 to fix")
	for _, u := range h.usersDB() {
		if u.Mapping != store.MappingOK && u.Mapping != store.MappingMismatch {
			t.Errorf("%s stored as %q", u.Key, u.Mapping)
		}
	}
}

func TestUsersAddEditRemove(t *testing.T) {
	h := newHarness(t)
	usersOpen(t, h, false, nil)
	h.keys("<enter>")
	h.sees("no users yet: import them with i or add one with a")
	if h.step() != common.StepUsers {
		t.Fatal("enter went on without users")
	}

	h.keys("a")
	h.sees("Add a user", "User key", "Exchange account")
	h.fits()
	h.keys("ADV<enter>Anna de Vries<enter>anna<enter>")
	h.sees(`"anna" is not an address like name@domain`)
	h.keys("@contoso.com<enter>")
	h.sees("Added ADV")
	h.rowStatus("ADV", "unresolved")

	// A key that is there already is refused.
	h.keys("a")
	h.keys("adv<enter>")
	h.sees("ADV is already a user")
	h.keys("<esc>")
	if n := len(h.usersDB()); n != 1 {
		t.Fatalf("%d users", n)
	}

	// Editing the account resolves the user again.
	resolved := h.usersDB()[0]
	resolved.UPN, resolved.Mapping = "anna@contoso.com", store.MappingOK
	if err := h.db.PutUsers(usersTestProfile, resolved); err != nil {
		t.Fatal(err)
	}
	h.open()
	h.rowStatus("ADV", "ok")
	h.keys("e")
	h.sees("Change the Exchange account of ADV (Anna de Vries)")
	h.fits()
	h.keys(strings.Repeat("<backspace>", len("anna@contoso.com")) + "anna.devries@contoso.com<enter>")
	h.sees("ADV is now anna.devries@contoso.com")
	h.rowStatus("ADV", "unresolved")
	if u := h.usersDB()[0]; u.Account != "anna.devries@contoso.com" || u.Mapping != store.MappingUnresolved || u.UPN != "" {
		t.Fatalf("edited %+v", u)
	}

	// Removing asks first.
	h.keys("d")
	h.sees("Remove ADV")
	h.keys("n")
	h.lacks("Remove ADV")
	if n := len(h.usersDB()); n != 1 {
		t.Fatal("n removed the user")
	}
	h.send(tea.KeyPressMsg{Code: tea.KeyDelete}) // the delete key does as d
	h.sees("Remove ADV")
	h.keys("y")
	h.sees("Removed ADV", "No users yet")
	h.fits()
	if n := len(h.usersDB()); n != 0 {
		t.Fatalf("%d users left", n)
	}
}

func TestUsersTableScrolls(t *testing.T) {
	h := newHarness(t)
	var users []store.User
	for i := range 40 {
		users = append(users, store.User{Key: fmt.Sprintf("U%02d", i), Account: fmt.Sprintf("user%02d@contoso.com", i)})
	}
	usersOpen(t, h, false, nil, users...)
	h.fits()
	if h.row("U00") == "" || h.row("U39") != "" {
		t.Fatalf("first page:\n%s", h.screen())
	}
	h.keys(strings.Repeat("<down>", 39))
	h.fits()
	if h.row("U39") == "" || h.row("U00") != "" || !strings.Contains(h.row("U39"), "›") {
		t.Fatalf("last page:\n%s", h.screen())
	}
	h.sees("of 40)", "U39 · Not resolved yet")
}
