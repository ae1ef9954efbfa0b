package tui

import (
	"crypto/rsa"
	"encoding/pem"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"software.sslmate.com/src/go-pkcs12"

	"github.com/modauth/modauth/flows"
	"github.com/modauth/modauth/internal/testkit"
	"github.com/modauth/modauth/monitor"
	"github.com/modauth/modauth/store"
	"github.com/modauth/modauth/tui/common"
)

// certificateProfile fills the profile step for moveIT app-only with a
// certificate instead of a client secret: the choice is offered for a
// product that can sign in with one.
func certificateProfile(t *testing.T, h *harness) {
	t.Helper()
	fillProfileUpTo(h, "moveit-app-only")
	h.sees("Credential", "‹ client secret ›")
	h.fits()
	h.keys("<right>")
	h.sees("‹ certificate (Microsoft's advice) ›")
	h.keys("<enter>")
	if h.step() != common.StepRegister {
		t.Fatalf("still on %s:\n%s", h.step(), h.screen())
	}
	if p, _ := h.db.Profile("acme-production"); !p.UsesCertificate() {
		t.Fatalf("credential %q, want certificate", p.Credential)
	}
}

// TestWizardCertificateByHand: a certificate-only app set up from the
// checklist. modauth makes the key pair and saves the certificate's public
// part to upload; the client ID's check says the app does not take it
// until it is uploaded, and enter checks again once it is; the wizard ends
// with a connection test on the certificate, no client secret anywhere;
// the hand-off sheet saves the certificate and its key as PEM and PFX; the
// monitor runs on it and learns the keyId Entra gave the upload.
func TestWizardCertificateByHand(t *testing.T) {
	h := newHarness(t)
	h.m.c.Options.ExportDir = t.TempDir()
	certificateProfile(t, h)
	cer := filepath.Join(h.m.c.Options.ExportDir, "acme-production-certificate.cer")
	h.seesText("saved to "+cer, ": upload it, or r uploads it.")
	h.fits()
	h.keys("<pgdown>")
	h.seesText("Certificates & secrets > Certificates > Upload certificate: the file ending in -certificate.cer")
	h.lacks("New client secret")

	app, _ := registerByHand(t, h)
	h.keys("<enter>")
	h.sees("Enter the IDs")
	h.lacks("Secret value")
	h.keys(h.sim.Tenant.ID + "<enter>" + app.ClientID + "<enter>")
	h.seesText("the certificate is not on the app yet: upload acme-production-certificate.cer under Certificates & secrets, then press enter")
	if h.step() != common.StepIDs {
		t.Fatalf("moved on without the certificate uploaded: %s", h.step())
	}

	pemData, err := os.ReadFile(cer)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(pemData)
	if block == nil || block.Type != "CERTIFICATE" || strings.Contains(string(pemData), "PRIVATE KEY") {
		t.Fatalf("the file to upload is not the certificate alone:\n%s", pemData)
	}
	uploaded, err := h.sim.UploadCertificate(app, block.Bytes, "uploaded in the portal")
	if err != nil {
		t.Fatal(err)
	}
	h.keys("<enter>") // check again, now that it is uploaded
	if h.step() != common.StepUsers {
		t.Fatalf("still at %s:\n%s", h.step(), h.screen())
	}
	if _, err := h.db.ClientSecret("acme-production"); err == nil {
		t.Error("a client secret was stored for a certificate profile")
	}

	h.approveAdmin("admin@contoso.onmicrosoft.com")
	h.keys("a")
	h.keys("AV<enter>Anna de Vries<enter>anna.devries@contoso.com<enter>")
	h.keys("r")
	h.sees("Resolved 1 user")
	h.keys("<enter>")
	h.sees("App-only: nobody signs in")
	h.keys("<enter>")
	h.keys("t")
	h.sees("enter finishes")
	h.keys("<enter>")
	if !h.m.finished {
		t.Fatalf("not finished:\n%s", h.screen())
	}

	h.keys("h")
	h.sees("Certificate (PEM)", "thumbprint")
	h.seesText("s saves the sheet with the certificate and its private key to files only you can read: PEM in the sheet, PFX beside it.")
	h.fits()
	h.keys("sy")
	sheet, err := os.ReadFile(filepath.Join(h.m.c.Options.ExportDir, "acme-production-handoff.txt"))
	if err != nil || !strings.Contains(string(sheet), "BEGIN PRIVATE KEY") {
		t.Fatalf("the saved sheet has no private key: %v\n%s", err, sheet)
	}
	// The PFX beside it opens with the password the sheet gives, and holds
	// the same certificate and key.
	pfxPath := filepath.Join(h.m.c.Options.ExportDir, "acme-production-handoff.pfx")
	m := regexp.MustCompile(`PFX \(PKCS#12, AES-256\): (\S+), password (\S+)`).FindStringSubmatch(string(sheet))
	if m == nil || m[1] != pfxPath {
		t.Fatalf("the sheet names no PFX file and password:\n%s", sheet)
	}
	pfx, err := os.ReadFile(pfxPath)
	if fi, _ := os.Stat(pfxPath); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("pfx %s: %v", pfxPath, err)
	}
	key, cert, err := pkcs12.Decode(pfx, m[2])
	if p, _ := h.db.Profile("acme-production"); err != nil || flows.ThumbprintSHA1(cert.Raw) != p.Certificate.Thumbprint || !cert.PublicKey.(*rsa.PublicKey).Equal(key.(*rsa.PrivateKey).Public()) {
		t.Fatalf("the PFX does not hold the profile's certificate and key: %v", err)
	}
	if strings.Contains(h.screen(), m[2]) {
		t.Error("the PFX password is on the screen")
	}
	product := testkit.Product{Sim: h.sim, ClientID: app.ClientID, PEM: sheet}
	if err := product.SignIn(); err != nil {
		t.Fatalf("the product cannot sign in with the sheet's file: %v", err)
	}

	// The monitor runs on the certificate.
	h.sim.Clock.Advance(2 * time.Hour)
	eng := monitor.New(h.db, monitor.Options{HTTPClient: h.sim.HTTPClient(), Now: h.sim.Clock.Now, BackupEvery: -1})
	sum, err := eng.Sweep(testkit.Ctx(t))
	if err != nil || sum.States[store.StateOK] != 1 {
		t.Fatalf("sweep on the certificate: %+v, %v", sum.States, err)
	}
	// It learnt the keyId Entra gave the upload, which the sign-in log
	// names the certificate by.
	if p, _ := h.db.Profile("acme-production"); p.Certificate.KeyID != uploaded.KeyID {
		t.Errorf("certificate keyId %q, want the upload's %s", p.Certificate.KeyID, uploaded.KeyID)
	}
}

// TestWizardCertificateThroughGraph: "register for me" uploads the
// certificate modauth made instead of adding a secret, and the IDs step
// proves it at once.
func TestWizardCertificateThroughGraph(t *testing.T) {
	h := newHarness(t)
	h.m.c.Options.ExportDir = t.TempDir()
	certificateProfile(t, h)
	h.approveAdmin("admin@contoso.onmicrosoft.com")
	h.keys("r")
	h.keys("<enter>") // with the monitoring app
	h.sees("✓ Registered")
	h.seesText("uploaded certificate")
	p, _ := h.db.Profile("acme-production")
	app := h.sim.Tenant.App(p.ClientID)
	if p.Certificate == nil || p.Certificate.KeyID == "" || len(app.Certificates) != 1 || len(app.Secrets) != 0 {
		t.Fatalf("certificate %+v; app has %d certificates, %d secrets", p.Certificate, len(app.Certificates), len(app.Secrets))
	}
	h.keys("<enter>")
	h.keys("<enter><enter>") // the IDs the registration filled in
	if h.step() != common.StepUsers {
		t.Fatalf("still at %s:\n%s", h.step(), h.screen())
	}
}
