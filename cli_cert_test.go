package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modauth/modauth/flows"
	"github.com/modauth/modauth/internal/testkit"
	"github.com/modauth/modauth/m365sim"
	"github.com/modauth/modauth/store"
)

// TestCertificateRotateAndRetireCommands is the secret rotation's test on
// a profile that signs in with a certificate: rotate uploads a new one
// beside the old and writes the sheet with the new certificate and its
// private key as PEM; the product, given that file, signs in with it;
// retire waits until the product is seen on it, then removes the old
// certificate, and the product never breaks.
func TestCertificateRotateAndRetireCommands(t *testing.T) {
	sim, dir, _ := simProfile(t, "role:Application.ReadWrite.OwnedBy", "role:Mail.Send")
	addMonitor(t, sim, dir)
	app := sim.Tenant.App(profileIn(t, sim, dir).ClientID)
	old := certificateProfile(t, sim, dir)
	oldPEM := pemOf(t, old)
	product := testkit.Product{Sim: sim, ClientID: app.ClientID, PEM: oldPEM}
	must(t, product.SignIn())

	cmd := func(args ...string) (string, string, error) {
		t.Helper()
		out, errOut, done := runOn(sim.Clock.Now, context.Background(), append(args, "--profile", "acme", "--data-dir", dir)...)
		err := <-done
		if all := out.String() + errOut.String(); strings.Contains(all, "PRIVATE KEY") {
			t.Fatalf("a private key was printed:\n%s", all)
		}
		return out.String(), errOut.String(), err
	}
	out, errOut, err := cmd("check")
	if exitCode(err) != 0 || !strings.Contains(out+errOut, "certificate") {
		t.Fatalf("check on a certificate profile: %v\n%s%s", err, out, errOut)
	}

	sheet := filepath.Join(t.TempDir(), "handoff.txt")
	out, errOut, err = cmd("secret", "rotate", "--handoff-file", sheet)
	if err != nil {
		t.Fatalf("%v\n%s", err, errOut)
	}
	newKey := strings.TrimSpace(out)
	if len(app.Certificates) != 2 || app.Certificates[1].KeyID != newKey || len(app.Secrets) != 1 {
		t.Fatalf("after rotate: %d certificates (new %s), %d secrets; want the old and the new certificate, the secret untouched", len(app.Certificates), newKey, len(app.Secrets))
	}
	fi, err := os.Stat(sheet)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("sheet %s: %v %v", sheet, err, fi)
	}
	handed, _ := os.ReadFile(sheet)
	if !strings.Contains(string(handed), "BEGIN PRIVATE KEY") || strings.Contains(string(handed), string(oldPEM)) {
		t.Fatalf("the sheet does not hand over the new certificate alone:\n%s", handed)
	}
	if p := profileIn(t, sim, dir); p.Certificate.KeyID != old.KeyID {
		t.Fatalf("modauth took the new certificate %s before the product did", p.Certificate.KeyID)
	}

	sim.Clock.Advance(time.Minute)
	must(t, product.SignIn()) // still on the old certificate
	_, errOut, err = cmd("secret", "retire", "--when-unused")
	if exitCode(err) != exitTryLater || !strings.Contains(err.Error(), "has not signed in with the new certificate") {
		t.Fatalf("retire before the switch: exit %d, %v\n%s", exitCode(err), err, errOut)
	}

	product.PEM = handed // the admin gives the product the sheet's file
	sim.Clock.Advance(time.Hour)
	must(t, product.SignIn())
	sim.Clock.Advance(time.Minute)
	if _, errOut, err = cmd("secret", "retire", "--when-unused"); exitCode(err) != exitTryLater || !strings.Contains(errOut, "modauth uses it too") {
		t.Fatalf("retire at the switch: exit %d, %v\n%s", exitCode(err), err, errOut)
	}
	sim.Clock.Advance(15 * time.Minute)
	out, errOut, err = cmd("secret", "retire", "--when-unused")
	if err != nil || strings.TrimSpace(out) != old.KeyID {
		t.Fatalf("retire once the old certificate is unused: %v, printed %q\n%s", err, out, errOut)
	}
	if len(app.Certificates) != 1 || app.Certificates[0].KeyID != newKey {
		t.Errorf("certificates left in Entra: %d", len(app.Certificates))
	}
	must(t, product.SignIn()) // the product never noticed
	if p := profileIn(t, sim, dir); p.Certificate.KeyID != newKey {
		t.Errorf("modauth signs in with %s, want the new certificate %s", p.Certificate.KeyID, newKey)
	}
	if out, errOut, err := cmd("check"); exitCode(err) != 0 {
		t.Errorf("check after the rotation (modauth on the new certificate): %v\n%s%s", err, out, errOut)
	}
}

// certificateProfile makes the profile in dir sign in with a new
// certificate uploaded to its app, and returns it.
func certificateProfile(t *testing.T, sim *m365sim.Sim, dir string) store.ClientCertificate {
	t.Helper()
	db := openIn(t, sim, dir)
	defer db.Close()
	p := mustProfile(t, db)
	cert, key, err := flows.NewCertificate("modauth acme", 365*24*time.Hour, sim.Clock.Now())
	must(t, err)
	kc, err := sim.UploadCertificate(sim.Tenant.App(p.ClientID), cert.Raw, "modauth acme")
	must(t, err)
	sc, err := (&flows.ClientCertificate{Cert: cert, Key: key}).Stored(kc.KeyID)
	must(t, err)
	must(t, db.SetClientCertificate("acme", sc))
	p.Credential = store.CredentialCertificate
	must(t, db.PutProfile(p))
	return sc
}

func pemOf(t *testing.T, c store.ClientCertificate) []byte {
	var b strings.Builder
	must(t, c.WritePEM(&b))
	return []byte(b.String())
}
