package exchange_test

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"text/template"
	"time"

	"github.com/modauth/modauth/m365sim"
	"github.com/modauth/modauth/store"
)

// mailBin finds a server binary; they live in sbin, which a non-root
// PATH often lacks.
func mailBin(name string) string {
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, dir := range []string{"/usr/sbin", "/usr/local/sbin"} {
		if p := filepath.Join(dir, name); mailIsFile(p) {
			return p
		}
	}
	return ""
}

func mailIsFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

// mailPostfixMaster is Postfix's master daemon. The tests start it
// directly: "postfix start" first runs an integrity check that takes 2 s.
func mailPostfixMaster() string {
	out, err := exec.Command(mailBin("postconf"), "-h", "daemon_directory").Output()
	if err != nil {
		return ""
	}
	if p := filepath.Join(strings.TrimSpace(string(out)), "master"); mailIsFile(p) {
		return p
	}
	return ""
}

// mailPeers are the running servers.
type mailPeers struct {
	pki             *mailPKI
	dir             string
	imap, pop, smtp string // host:port; smtp "" without Postfix
}

func (p *mailPeers) dovecotLog() string {
	b, _ := os.ReadFile(filepath.Join(p.dir, "log", "dovecot.log"))
	return string(b)
}

// mailPeerConf fills the templates in testdata/mail.
type mailPeerConf struct {
	Dir, Name                   string
	IMAPPort, POPPort, SMTPPort int
	Root                        bool
	User, Group                 string // Dovecot's mail user as root, else everything's
	Issuer, Audience            string
}

// startMailPeers writes the configurations into a temporary directory,
// starts Dovecot, and Postfix when it can run, and stops them when the
// test ends. token tells which key and issuer Dovecot must trust.
func startMailPeers(t *testing.T, sim *m365sim.Sim, token store.Secret) *mailPeers {
	t.Helper()
	dir := t.TempDir()
	if len(dir) > 60 {
		t.Fatalf("temporary directory %s is too long for the servers' unix sockets; set TMPDIR=/tmp", dir)
	}
	// The servers' unprivileged users must reach the sockets, keys and
	// mail in here; t.TempDir and its parent are 0700.
	for _, d := range []string{dir, filepath.Dir(dir)} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	conf := mailPeerConf{
		Dir: dir, Name: strconv.Itoa(os.Getpid()) + "-" + filepath.Base(dir),
		IMAPPort: mailFreePort(t), POPPort: mailFreePort(t), SMTPPort: mailFreePort(t),
		Root:     os.Geteuid() == 0,
		Issuer:   mailJWTField(t, token, 1, "iss"),
		Audience: mailJWTField(t, token, 1, "aud"),
	}
	owner := "nobody" // owns the mail directory when Dovecot runs as root
	if !conf.Root {
		u, err := user.Current()
		if err != nil {
			t.Fatal(err)
		}
		owner = u.Username
	}
	u, err := user.Lookup(owner)
	if err != nil {
		t.Fatal(err)
	}
	g, err := user.LookupGroupId(u.Gid)
	if err != nil {
		t.Fatal(err)
	}
	conf.User, conf.Group = u.Username, g.Name

	pki := newMailPKI(t)
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	for _, d := range []string{"log", "tls", "mail", "postfix/etc", "postfix/queue/pid"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	mailWrite(t, filepath.Join(dir, "tls", "cert.pem"), pki.certPEM, 0o644)
	mailWrite(t, filepath.Join(dir, "tls", "key.pem"), pki.keyPEM, 0o600)
	if err := os.Chown(filepath.Join(dir, "mail"), uid, gid); err != nil {
		t.Fatal(err)
	}
	// Dovecot looks the key up as shared/<azp>/<alg>/<kid> in its dict.
	pub, err := x509.MarshalPKIXPublicKey(sim.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(dir, "keys", mailJWTField(t, token, 1, "azp"), mailJWTField(t, token, 0, "alg"), mailJWTField(t, token, 0, "kid"))
	if err := os.MkdirAll(filepath.Dir(keyFile), 0o755); err != nil {
		t.Fatal(err)
	}
	mailWrite(t, keyFile, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}), 0o644)

	mailTemplate(t, "dovecot.conf", filepath.Join(dir, "dovecot.conf"), conf)
	mailTemplate(t, "dovecot-oauth2.conf.ext", filepath.Join(dir, "dovecot-oauth2.conf.ext"), conf)
	peers := &mailPeers{pki: pki, dir: dir,
		imap: net.JoinHostPort("127.0.0.1", strconv.Itoa(conf.IMAPPort)),
		pop:  net.JoinHostPort("127.0.0.1", strconv.Itoa(conf.POPPort)),
	}

	start := time.Now() // real time: start-up duration, for the log
	dovecot := mailStart(t, "dovecot", filepath.Join(dir, "log", "dovecot.log"), mailBin("dovecot"), "-F", "-c", filepath.Join(dir, "dovecot.conf"))
	var postfix *mailProc
	if mailPeerMissing("postfix") == "" {
		postfix = startMailPostfix(t, conf)
		peers.smtp = net.JoinHostPort("127.0.0.1", strconv.Itoa(conf.SMTPPort))
	}
	dovecot.waitListening(t, peers.imap, peers.pop)
	mailWaitFile(t, dovecot, filepath.Join(dir, "run", "auth-postfix"))
	if postfix != nil {
		postfix.waitListening(t, peers.smtp)
	}
	t.Logf("mail servers up in %v (postfix: %v)", time.Since(start).Round(time.Millisecond), postfix != nil)
	return peers
}

// startMailPostfix prepares the queue directory the way "postfix check"
// would, only the parts a submission listener uses, and runs master.
func startMailPostfix(t *testing.T, conf mailPeerConf) *mailProc {
	t.Helper()
	etc := filepath.Join(conf.Dir, "postfix", "etc")
	mailTemplate(t, "postfix-main.cf", filepath.Join(etc, "main.cf"), conf)
	mailTemplate(t, "postfix-master.cf", filepath.Join(etc, "master.cf"), conf)
	// Postfix waits until its configuration is a second old, re-reading it
	// every 0.3 s, in case an editor is still writing it. Backdating saves
	// that wait (on the wall clock: Postfix reads the file's mtime).
	old := time.Now().Add(-time.Minute) // real time: Postfix compares file times with its own clock
	for _, f := range []string{"main.cf", "master.cf"} {
		if err := os.Chtimes(filepath.Join(etc, f), old, old); err != nil {
			t.Fatal(err)
		}
	}
	pf, err := user.Lookup("postfix")
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.Atoi(pf.Uid)
	for _, d := range []string{"postfix/queue/private", "postfix/queue/public", "postfix/data"} {
		p := filepath.Join(conf.Dir, d)
		if err := os.MkdirAll(p, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(p, uid, -1); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(filepath.Join(conf.Dir, "postfix/queue/public"), 0o755); err != nil {
		t.Fatal(err)
	}
	return mailStart(t, "postfix", filepath.Join(conf.Dir, "log", "postfix.log"), mailPostfixMaster(), "-c", etc, "-s")
}

// mailProc is a server started by a test.
type mailProc struct {
	name string
	log  string
	done chan struct{} // closed when the process has exited
}

// mailStart runs a server in the foreground with its output in logFile;
// it is stopped, and its log printed if the test failed, when the test ends.
func mailStart(t *testing.T, name, logFile, bin string, args ...string) *mailProc {
	t.Helper()
	out, err := os.Create(logFile)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = filepath.Dir(logFile)
	cmd.Stdout, cmd.Stderr = out, out
	// Gone with the test process if it dies. (No Setpgid: Postfix's
	// master calls setsid, which a group leader may not.)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		out.Close()
		t.Fatalf("start %s: %v", name, err)
	}
	out.Close()
	p := &mailProc{name: name, log: logFile, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		start := time.Now() // real time: stop duration, for the log
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-p.done
		}
		t.Logf("%s stopped in %v", name, time.Since(start).Round(time.Millisecond))
		if t.Failed() {
			b, _ := os.ReadFile(logFile)
			t.Logf("%s log:\n%s", name, b)
		}
	})
	return p
}

// waitListening waits until every address accepts connections.
func (p *mailProc) waitListening(t *testing.T, addrs ...string) {
	t.Helper()
	for _, addr := range addrs {
		p.waitFor(t, addr, func() bool {
			c, err := net.DialTimeout("tcp", addr, time.Second)
			if err == nil {
				c.Close()
			}
			return err == nil
		})
	}
}

func mailWaitFile(t *testing.T, p *mailProc, path string) {
	t.Helper()
	p.waitFor(t, path, func() bool { _, err := os.Stat(path); return err == nil })
}

// waitFor polls ready for up to 10 s, failing early if the server exited.
func (p *mailProc) waitFor(t *testing.T, what string, ready func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second) // real time: how long a server may take to listen
	for !ready() {
		select {
		case <-p.done:
			b, _ := os.ReadFile(p.log)
			t.Fatalf("%s exited before %s was ready:\n%s", p.name, what, b)
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(p.log)
			t.Fatalf("%s: %s not ready after 10s:\n%s", p.name, what, b)
		}
	}
}

// mailFreePort returns a loopback port that was free a moment ago.
func mailFreePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func mailTemplate(t *testing.T, name, to string, conf mailPeerConf) {
	t.Helper()
	tmpl, err := template.New(name).Option("missingkey=error").ParseFiles(filepath.Join("testdata", "mail", name))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := tmpl.Execute(&b, conf); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	mailWrite(t, to, []byte(b.String()), 0o644)
}

func mailWrite(t *testing.T, path string, data []byte, perm os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, data, perm); err != nil {
		t.Fatal(fmt.Errorf("write %s: %w", path, err))
	}
}
