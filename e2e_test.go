package main

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// term is the compiled binary running in a real pseudo-terminal, drawn by
// tmux at 80x24: keys go in with send-keys, the screen comes out with
// capture-pane, as a person would see it.
type term struct {
	t      *testing.T
	socket string
}

func newTerm(t *testing.T, args ...string) *term {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		if os.Getenv("MODAUTH_REQUIRE_PEERS") != "" {
			t.Fatal("tmux is not installed (MODAUTH_REQUIRE_PEERS=1): run .ci/run or apt-get install tmux")
		}
		t.Skip("tmux is not installed: run .ci/run or apt-get install tmux")
	}
	dir := t.TempDir()
	bin := buildOnce(t)
	tm := &term{t: t, socket: fmt.Sprintf("modauth-e2e-%d-%d", os.Getpid(), terms.Add(1))}
	cmd := strings.Join(append([]string{bin}, args...), " ") + " 2>" + filepath.Join(dir, "stderr")
	tm.tmux("new-session", "-d", "-s", "e2e", "-x", "80", "-y", "24", "-c", dir, "env", "TERM=xterm-256color", "MODAUTH_DATA_DIR="+dir, "sh", "-c", cmd)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("last screen:\n%s", tm.screen())
		}
		exec.Command("tmux", "-L", tm.socket, "kill-server").Run()
	})
	return tm
}

// terms numbers the terminals, so that each has its own tmux server.
var terms atomic.Int64

// built is the binary the end-to-end tests share: built once per run.
var built struct {
	sync.Once
	path string
	err  error
	out  []byte
}

func buildOnce(t *testing.T) string {
	t.Helper()
	built.Do(func() {
		dir, err := os.MkdirTemp("", "modauth-e2e-")
		if err != nil {
			built.err = err
			return
		}
		built.path = filepath.Join(dir, "modauth")
		built.out, built.err = exec.Command("go", "build", "-o", built.path, ".").CombinedOutput()
	})
	if built.err != nil {
		t.Fatalf("build: %v\n%s", built.err, built.out)
	}
	return built.path
}

func (tm *term) tmux(args ...string) string {
	tm.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-L", tm.socket}, args...)...).CombinedOutput()
	if err != nil {
		tm.t.Fatalf("tmux %v: %v\n%s", args, err, out)
	}
	return string(out)
}

func (tm *term) screen() string {
	out, _ := exec.Command("tmux", "-L", tm.socket, "capture-pane", "-p", "-t", "e2e").CombinedOutput()
	return string(out)
}

// waitFor waits until the screen shows text, and returns the screen.
func (tm *term) waitFor(text string) string {
	tm.t.Helper()
	deadline := time.Now().Add(45 * time.Second) // real time: how long the program may take to draw on a loaded machine, not a "now" it decides on
	for {
		s := tm.screen()
		if strings.Contains(s, text) {
			return s
		}
		if time.Now().After(deadline) {
			tm.t.Fatalf("the screen never showed %q:\n%s", text, s)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// keys sends keys: literal text, or tmux key names like Enter, Right, Escape.
func (tm *term) keys(keys ...string) {
	tm.t.Helper()
	for _, k := range keys {
		switch k {
		case "Enter", "Escape", "Right", "Left", "Up", "Down", "Space", "Tab", "BSpace", "C-c", "C-u":
			tm.tmux("send-keys", "-t", "e2e", k)
		default:
			tm.tmux("send-keys", "-t", "e2e", "-l", k)
		}
		time.Sleep(30 * time.Millisecond) // a person's pace: let each key land
	}
}

var codeRe = regexp.MustCompile(`one-time code: ([A-Z0-9]{9})`)

// approve signs upn in on the simulator's device login page, as the person
// would on their phone.
func approve(t *testing.T, simURL, screen, upn string) {
	t.Helper()
	m := codeRe.FindStringSubmatch(screen)
	if m == nil {
		t.Fatalf("no device code on the screen:\n%s", screen)
	}
	resp, err := http.PostForm(simURL+"/devicelogin", url.Values{"code": {m[1]}, "upn": {upn}, "action": {"accept"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}

var simRe = regexp.MustCompile(`demo: (http://127\.0\.0\.1:\d+)`)

// TestWizardEndToEnd runs `modauth demo` in a terminal at 80x24 and sets up
// a per-user delegated profile with keys only, the sign-ins approved on the
// simulator's pages.
func TestWizardEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and drives it in tmux; skipped with -short")
	}
	tm := newTerm(t, "demo")
	s := tm.waitFor("Which connection")
	m := simRe.FindStringSubmatch(s)
	if m == nil {
		t.Fatalf("no simulator address in the header:\n%s", s)
	}
	sim := m[1]

	// 1. Profile: Acme, production, Generic (each user signs in, Graph).
	tm.keys("Acme", "Enter", "Enter")
	for range 6 {
		tm.keys("Right")
	}
	tm.waitFor("Generic")
	tm.keys("Enter", "Enter", "Enter", "Enter", "Enter")
	tm.waitFor("step 2 of 6")

	// 2. Register it through Graph, with the monitoring app: the admin
	// approves a device code.
	tm.keys("r")
	tm.waitFor("monitoring app for modauth?")
	tm.keys("y")
	approve(t, sim, tm.waitFor("one-time code"), "admin@contoso.onmicrosoft.com")
	tm.waitFor("✓ Registered")
	tm.keys("Enter")

	// 3. IDs: filled in by the registration, checked live.
	tm.waitFor("step 3 of 6")
	tm.keys("Enter")
	tm.waitFor("✓ tenant")
	tm.keys("Enter") // the client check passes and the step completes
	tm.waitFor("step 4 of 6")

	// 4. Users: add Anna and resolve her through Graph on the admin's sign-in.
	tm.keys("a")
	tm.waitFor("Exchange account")
	tm.keys("AV", "Enter", "Anna de Vries", "Enter", "anna.devries@contoso.com", "Enter")
	tm.waitFor("Added AV") // the form is closed: the next keys are the list's
	// Bram is known to the product by his mail address; his UPN differs.
	tm.keys("a")
	tm.waitFor("Exchange account")
	tm.keys("BJ", "Enter", "Bram Janssen", "Enter", "bram.janssen@contoso.com", "Enter")
	tm.waitFor("Added BJ")
	tm.keys("r")
	tm.waitFor("bjanssen@contoso.onmicrosoft.com")
	tm.keys("Enter")
	tm.waitFor("step 5 of 6")

	// 5. Consent: Anna signs in by device code on "her phone"; Bram will
	// later (skipped for now), so his sync cannot start.
	tm.keys("d")
	approve(t, sim, tm.waitFor("one-time code"), "anna.devries@contoso.com")
	tm.waitFor("✓ Signed in as anna.devries@contoso.com")
	tm.keys("s")
	tm.waitFor("n/esc no")
	tm.keys("y")

	// 6. Verify: a Graph connection test for Anna, then done.
	tm.waitFor("step 6 of 6")
	tm.keys("t")
	tm.waitFor("✓ Graph")
	tm.keys("Enter")
	tm.waitFor("Setup of acme-production is complete")

	// The dashboard: after the first sweep, the no-sync-id filter shows
	// exactly the user who cannot sync.
	tm.keys("Enter")
	tm.waitFor("next sweep")
	tm.keys("3")
	s = tm.waitFor("no sync-id: 1 of 2")
	if !strings.Contains(s, "Bram Janssen") || strings.Contains(s, "anna.devries") {
		t.Errorf("no-sync-id view:\n%s", s)
	}
}

var throwawayRe = regexp.MustCompile(`Its data \((\S+)\)`)

// TestDemoKeepsItsPromises: without --data-dir the demo asks before it
// throws its store away and says where saved files stay; with --data-dir
// the store is made there and kept.
func TestDemoKeepsItsPromises(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and drives it in tmux; skipped with -short")
	}
	tm := newTerm(t, "demo")
	tm.waitFor("Which connection")
	tm.keys("C-c")
	s := tm.waitFor("n/esc no")
	flat := strings.Join(strings.Fields(s), " ")
	m := throwawayRe.FindStringSubmatch(flat)
	if m == nil || !strings.Contains(flat, "is thrown away") || !strings.Contains(flat, "stay in") {
		t.Fatalf("the quit question does not say what is thrown away and what stays:\n%s", s)
	}
	if _, err := os.Stat(m[1]); err != nil {
		t.Fatalf("the demo's store %s: %v", m[1], err)
	}
	tm.keys("y")
	for i := 0; ; i++ { // the program removes it as it ends
		if _, err := os.Stat(m[1]); os.IsNotExist(err) {
			break
		}
		if i == 200 {
			t.Fatalf("%s is still there after leaving", m[1])
		}
		time.Sleep(50 * time.Millisecond)
	}

	kept := filepath.Join(t.TempDir(), "demo-data")
	tm2 := newTerm(t, "demo", "--data-dir", kept)
	tm2.waitFor("Which connection")
	tm2.keys("C-c")
	s = tm2.waitFor("n/esc no")
	if strings.Contains(s, "thrown away") {
		t.Fatalf("a kept demo store is said to be thrown away:\n%s", s)
	}
	tm2.keys("y")
	for i := 0; ; i++ {
		if _, err := os.Stat(filepath.Join(kept, "modauth.db")); err == nil {
			break
		}
		if i == 200 {
			t.Fatalf("no store in %s", kept)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
