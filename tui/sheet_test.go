package tui

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/modauth/modauth/internal/testkit"
	"github.com/modauth/modauth/m365sim"
	"github.com/modauth/modauth/store"
)

// madeSecret stores the profile's secret as modauth made it (register
// for me, rotation): its value may be shown once.
func madeSecret(t *testing.T, h *harness, profileID string) store.ClientSecret {
	t.Helper()
	cs, err := h.db.ClientSecret(profileID)
	must(t, err)
	cs.Created = true
	must(t, h.db.SetClientSecret(profileID, cs))
	return cs
}

// atTheEnd opens the interface at the end of the setup of a flowfact
// profile whose secret modauth made.
func atTheEnd(t *testing.T) (*harness, *m365sim.App, m365sim.PasswordCredential) {
	t.Helper()
	h := newHarness(t)
	p, app, sec := verifyPreset(t, h, "flowfact")
	madeSecret(t, h, p.ID)
	h.open()
	h.m.finished = true
	return h, app, sec
}

// clipboard is what the commands delivered since from set the clipboard to.
func (h *harness) clipboard(from int) []string {
	var out []string
	for _, msg := range h.msgs[from:] {
		if reflect.TypeOf(msg) == reflect.TypeOf(tea.SetClipboard("")()) {
			out = append(out, fmt.Sprint(msg))
		}
	}
	return out
}

// TestHandOffShowsAMadeSecretOnce: v asks, warns, then shows the value of
// a secret modauth made until v again or leaving the sheet; from then on
// it is masked for good, also after a restart on the same store.
func TestHandOffShowsAMadeSecretOnce(t *testing.T) {
	h, _, sec := atTheEnd(t)
	h.keys("h")
	h.sees("v show secret", "v shows the secret's value, once")
	h.lacks(sec.Value)
	h.fits()
	h.keys("v")
	h.seesText("This is the only time it is shown: copy it into Flowfact Performer's settings now. Show the secret?")
	h.lacks(sec.Value)
	h.keys("y")
	h.sees(sec.Value, "! This is the only time it is shown", "v hide secret")
	h.fits()
	h.keys("v")
	h.lacks(sec.Value, "v show secret", "v hide secret")
	h.seesText("The secret was shown once on", "save the sheet to a file (s) or rotate for a new one")
	h.keys("v")
	h.lacks(sec.Value)

	// Copying the secret is the same one showing: refused now.
	h.record = true
	h.keys("<down><down>c")
	h.seesText("the secret was shown once on")
	h.lacks("Copy the secret?")
	if got := h.clipboard(0); len(got) != 0 {
		t.Errorf("copied %v after the showing", got)
	}

	// A restart: a new model on the same store shows it no more.
	h.open()
	h.m.finished = true
	h.keys("h")
	h.lacks(sec.Value, "v show secret")
	h.keys("v")
	h.lacks(sec.Value, "Show the secret?")
	h.seesText("shown once on")
}

// TestHandOffLeavingEndsTheShowing: esc while the value shows masks it for
// good; the sheet opened again does not show it.
func TestHandOffLeavingEndsTheShowing(t *testing.T) {
	h, _, sec := atTheEnd(t)
	h.keys("hvy")
	h.sees(sec.Value)
	h.keys("<esc>")
	h.lacks(sec.Value)
	h.keys("h")
	h.lacks(sec.Value, "v show secret")
	h.seesText("shown once on")
}

// TestHandOffCopyIsTheOneShowing: c copies the field under the cursor
// with OSC 52; on the secret it asks first and counts as the showing,
// without drawing the value.
func TestHandOffCopyIsTheOneShowing(t *testing.T) {
	h, app, sec := atTheEnd(t)
	h.record = true
	h.keys("h<down>c")
	h.sees("✓ copied Client ID to the clipboard (your terminal must allow OSC 52)")
	if got := h.clipboard(0); len(got) != 1 || got[0] != app.ClientID {
		t.Fatalf("copied %v, want the client ID", got)
	}
	n := len(h.msgs)
	h.keys("<down>c")
	h.seesText("This is the only time it can be copied: paste it into Flowfact Performer's settings now. Copy the secret?")
	h.keys("y")
	h.sees("✓ copied Client Secret (Wert) to the clipboard")
	h.lacks(sec.Value)
	if got := h.clipboard(n); len(got) != 1 || got[0] != sec.Value {
		t.Fatalf("copied %d values, want the secret's", len(got))
	}
	h.keys("v")
	h.lacks(sec.Value)
	h.seesText("shown once on")
}

// TestHandOffFromTheDashboard: H opens the same sheet for the dashboard's
// profile, masked, with copy and save; esc goes back to the dashboard.
// The bar and the sheet fit 80x24 and 60x18.
func TestHandOffFromTheDashboard(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {60, 18}} {
		t.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(t *testing.T) {
			h := newHarness(t)
			h.wait = 800 * time.Millisecond
			app := completeAppOnly(t, h)
			sec := app.Secrets[0].Value
			h.open()
			h.m.c.ExportDir = t.TempDir()
			h.send(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
			h.keys("H")
			h.sees("Hand-off", "Client ID", "c copy", "esc back")
			h.seesText("You entered this secret yourself")
			h.lacks(sec)
			sheetFits(t, h, size)
			h.record = true
			h.keys("c")
			if got := h.clipboard(0); len(got) != 1 || got[0] != h.sim.Tenant.ID {
				t.Errorf("c on the first field copied %v, want the tenant", got)
			}
			h.keys("s")
			h.seesText("Save the sheet with the secret's value")
			h.keys("y")
			h.sees("✓ Saved to")
			h.lacks(sec)
			path := filepath.Join(h.m.c.ExportDir, "acme-production-handoff.txt")
			if b, err := os.ReadFile(path); err != nil || !strings.Contains(string(b), sec) {
				t.Errorf("the saved sheet lacks the secret: %v", err)
			}
			h.keys("<esc>")
			h.lacks("Hand-off")
			h.sees("acme-production", "enter detail")
			if h.m.screen != screenDashboard || h.m.sheet != nil {
				t.Fatalf("esc: screen %v, sheet %v", h.m.screen, h.m.sheet != nil)
			}
		})
	}
}

// sheetFits fails when the frame is larger than size or its bar is cut.
func sheetFits(t *testing.T, h *harness, size [2]int) {
	t.Helper()
	lines := strings.Split(h.screen(), "\n")
	if len(lines) > size[1] {
		t.Fatalf("%d lines:\n%s", len(lines), h.screen())
	}
	for _, l := range lines {
		if w := len([]rune(l)); w > size[0] {
			t.Fatalf("%q is wider than %d", l, size[0])
		}
	}
	if bar := h.barLine(); strings.HasSuffix(strings.TrimSpace(bar), "…") || !strings.Contains(bar, "esc back") {
		t.Fatalf("the help bar: %q", bar)
	}
}

// TestHandOffCanary shows a made secret once from the dashboard and then
// looks for its value everywhere: the frames after the showing, the
// clipboard, the event log, the log and the users' export hold none of
// it; the saved sheet holds it and only its owner can read it.
func TestHandOffCanary(t *testing.T) {
	h := newHarness(t)
	h.wait = 800 * time.Millisecond
	var logs testkit.SyncBuffer // the engine logs from its goroutines
	h.logger = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	app := completeAppOnly(t, h)
	madeSecret(t, h, "acme-production")
	canary := app.Secrets[0].Value
	piece := canary[len(canary)/2-6 : len(canary)/2+6] // past the hint: a wrapped value too
	h.open()
	h.m.c.ExportDir = t.TempDir()
	h.record = true

	h.keys("Hvy")
	showing := len(h.frames)
	h.sees(canary)
	h.keys("v")
	over := len(h.frames)
	h.keys("<down>c<up>cs")
	h.keys("y")
	h.keys("<esc>ey")
	h.keys("Hv<esc>")
	h.send(tea.WindowSizeMsg{Width: 60, Height: 18})
	h.keys("H<down><down>c<esc>")

	for i, f := range h.frames {
		if i >= showing-1 && i < over-1 { // the one showing
			if !strings.Contains(f, canary) {
				t.Fatalf("frame %d of the showing lacks the secret:\n%s", i, f)
			}
			continue
		}
		if strings.Contains(f, canary) || strings.Contains(f, piece) {
			t.Fatalf("frame %d of %d shows the secret:\n%s", i, len(h.frames), f)
		}
	}
	for _, v := range h.clipboard(0) {
		if strings.Contains(v, piece) {
			t.Error("the clipboard got the secret without a showing")
		}
	}
	places := map[string][]byte{"log": logs.Bytes()}
	evs, err := h.db.Events("", 0, 0)
	must(t, err)
	var evText bytes.Buffer
	for _, e := range evs {
		fmt.Fprintf(&evText, "%+v\n", e)
	}
	places["events"] = evText.Bytes()
	if !bytes.Contains(evText.Bytes(), []byte("was shown, once")) {
		t.Errorf("the event log does not say the secret was shown:\n%s", evText.Bytes())
	}
	exports, _ := filepath.Glob(filepath.Join(h.m.c.ExportDir, "acme-production-users-*.csv"))
	if len(exports) != 1 {
		t.Fatalf("exports %v", exports)
	}
	places["export"], err = os.ReadFile(exports[0])
	must(t, err)
	for name, data := range places {
		if len(data) == 0 {
			t.Errorf("%s: nothing to search", name)
		}
		if bytes.Contains(data, []byte(piece)) {
			t.Errorf("%s holds the secret", name)
		}
	}

	path := filepath.Join(h.m.c.ExportDir, "acme-production-handoff.txt")
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("the saved sheet: %v %v", fi, err)
	}
	if b, _ := os.ReadFile(path); !bytes.Contains(b, []byte(canary)) {
		t.Error("the saved sheet lacks the secret")
	}
}

// TestHandOffScrollsToTheField: at 60x18 AllSolutions' sheet (long
// endpoints, two notes) is taller than the room; the focused field stays
// in view, the notes come with the last one when they fit, and a line says
// there is more.
func TestHandOffScrollsToTheField(t *testing.T) {
	h := newHarness(t)
	verifyPreset(t, h, "allsolutions-online")
	h.open()
	h.m.finished = true
	h.send(tea.WindowSizeMsg{Width: 60, Height: 18})
	h.keys("h")
	h.sees("› Application (client) ID", "↓ more below")
	sheetFits(t, h, [2]int{60, 18})
	for _, label := range []string{"Client secret", "OAuth 2.0 authorization endpoint", "OAuth 2.0 token endpoint", "Redirect URL"} {
		h.keys("<down>")
		h.sees("› " + label)
		sheetFits(t, h, [2]int{60, 18})
	}
	h.sees("Then MZZPAR", "↓ more below") // the notes begin below the last field
	h.send(tea.WindowSizeMsg{Width: 80, Height: 24})
	h.sees("› Redirect URL", "Then MZZPAR")
	h.fits()
}
