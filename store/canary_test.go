package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	canarySecret = "CANARY-secret-7f3a9"
	canaryRT     = "CANARY-rt-41c2"
	// canaryMonitor is the monitoring app's secret.
	canaryMonitor = "CANARY-monitor-9d1e"
	// canaryRotation is a rotation's new secret, not yet modauth's own.
	canaryRotation = "CANARY-rotation-5b2c"
	// canaryCertKey stands for a certificate's private key (PKCS#8 DER).
	canaryCertKey = "CANARY-certkey-3e8f"
)

// TestNoPlaintextSecretAnywhere stores a known client secret and refresh
// token and looks for them everywhere they could leak.
func TestNoPlaintextSecretAnywhere(t *testing.T) {
	db, path := testDB(t, Options{})
	storeCanaries(t, db)

	places := map[string][]byte{}
	var dump bytes.Buffer
	must(t, db.Dump(&dump))
	places["Dump"] = dump.Bytes()
	var backup bytes.Buffer
	_, err := db.Backup(&backup)
	must(t, err)
	places["Backup"] = backup.Bytes()
	backupFile := filepath.Join(t.TempDir(), "backup.db")
	must(t, db.BackupFile(backupFile))
	places["BackupFile"], err = os.ReadFile(backupFile)
	must(t, err)

	p, err := db.Profile("acme")
	must(t, err)
	u, err := db.User("acme", "u1")
	must(t, err)
	gotCS, err := db.ClientSecret("acme")
	must(t, err)
	gotTok, err := db.Token("acme", "u1")
	must(t, err)
	gotMon, err := db.MonitorSecret("acme")
	must(t, err)
	gotRot, err := db.RotationSecret("acme")
	must(t, err)
	rot, _, err := db.Rotation("acme")
	must(t, err)
	gotCert, err := db.ClientCertificate("acme")
	must(t, err)
	events, err := db.Events("", 0, 0)
	must(t, err)
	for name, v := range map[string]any{"Profile": p, "User": u, "Token": gotTok, "ClientSecret": gotCS, "MonitorSecret": gotMon, "RotationSecret": gotRot, "Rotation": rot, "Events": events, "ClientCertificate": gotCert} {
		data, err := json.Marshal(v)
		must(t, err)
		places["JSON of "+name] = data
	}
	for name, v := range map[string]any{"ClientSecret": gotCS, "MonitorSecret": gotMon, "RotationSecret": gotRot, "Profile": p, "Token": gotTok, "*Token": &gotTok, "ClientCertificate": gotCert} {
		places["fmt of "+name] = fmt.Appendf(nil, "%v %+v %#v %s %q %x", v, v, v, v, v, v)
	}
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("stored", "secret", gotCS, "token", gotTok, "value", gotCS.Value, "rt", gotTok.RefreshToken, "monitor", gotMon, "rotation", gotRot, "profile", p, "certificate", gotCert)
	places["slog"] = logs.Bytes()

	must(t, db.Close())
	places["database file"], err = os.ReadFile(path)
	must(t, err)
	places["key file"], err = os.ReadFile(keyPath(path))
	must(t, err)

	for name, data := range places {
		if len(data) == 0 {
			t.Errorf("%s: nothing to search", name)
		}
		for _, canary := range canaries {
			if bytes.Contains(data, []byte(canary)) {
				t.Errorf("%s contains %s", name, canary)
			}
		}
	}
	if !strings.Contains(dump.String(), "profiles/acme/monitorsecret = base64:") {
		t.Errorf("Dump does not show the sealed monitoring secret:\n%s", dump.String())
	}
	if !strings.Contains(dump.String(), "profiles/acme/tokens/u1") || !strings.Contains(dump.String(), `"rt":"`) {
		t.Errorf("Dump does not show the sealed token record:\n%s", dump.String())
	}

	// And they are all still there for whoever holds the key.
	if gotCS.Value.Reveal() != canarySecret || gotCS.KeyID != "kid" || gotCS.ExpirySource != ExpiryEntered || !gotCS.Created {
		t.Error("ClientSecret did not return the stored secret intact")
	}
	if gotMon.Value.Reveal() != canaryMonitor || gotMon.KeyID != "mkid" || p.Monitor == nil || p.Monitor.SecretKeyID != "mkid" {
		t.Errorf("MonitorSecret did not return the stored secret intact (profile shows %+v)", p.Monitor)
	}
	if gotRot.Value.Reveal() != canaryRotation || rot.HandedOver.IsZero() {
		t.Errorf("RotationSecret did not return the new secret intact, or showing it did not hand it over (%+v)", rot)
	}
	if gotCert.KeyPKCS8.Reveal() != canaryCertKey || string(gotCert.CertDER) != "public cert" || p.Certificate == nil || p.Certificate.Thumbprint != "AB12" {
		t.Errorf("ClientCertificate did not return the stored key intact, or the profile does not show it (%+v)", p.Certificate)
	}
	if !strings.Contains(dump.String(), "profiles/acme/certificate = base64:") {
		t.Errorf("Dump does not show the sealed certificate:\n%s", dump.String())
	}
	if gotTok.RefreshToken.Reveal() != canaryRT {
		t.Error("Token did not return the stored refresh token intact")
	}
}

// canaries are the secrets storeCanaries stores.
var canaries = []string{canarySecret, canaryRT, canaryMonitor, canaryRotation, canaryCertKey}

// storeCanaries stores each canary where a secret of its kind goes: a
// client secret, a refresh token, a monitoring secret, a rotation's secret
// and a certificate's private key, in profile "acme" of seed.
func storeCanaries(t *testing.T, db *DB) {
	t.Helper()
	seed(t, db)
	cs := ClientSecret{Value: canarySecret, KeyID: "kid", ExpirySource: ExpiryEntered, Created: true}
	tok := Token{RefreshToken: canaryRT, Scopes: []string{"offline_access"}}
	must(t, db.SetClientSecret("acme", cs))
	_, err := db.MarkSecretShown("acme", "kid") // its event names the key ID only
	must(t, err)
	must(t, db.PutToken("acme", "u1", tok))
	p, err := db.Profile("acme")
	must(t, err)
	p.Monitor = &MonitorApp{ClientID: "mon-app", ServicePrincipalID: "mon-sp"}
	must(t, db.PutProfile(p))
	must(t, db.SetMonitorSecret("acme", ClientSecret{Value: canaryMonitor, KeyID: "mkid", ExpirySource: ExpiryGraph}))
	must(t, db.StartRotation("acme", Rotation{OldKeyID: "kid", NewKeyID: "rkid"}, ClientSecret{Value: canaryRotation, KeyID: "rkid", Created: true}))
	_, err = db.MarkSecretShown("acme", "rkid") // the rotation's is shown once too
	must(t, err)
	must(t, db.SetClientCertificate("acme", ClientCertificate{KeyID: "ckid", Thumbprint: "AB12", CertDER: []byte("public cert"), KeyPKCS8: canaryCertKey}))
	must(t, db.PutProfile(p)) // saving the profile again keeps what it shows of the certificate
	must(t, db.PutJobs("acme", map[string]Job{"u1": {State: StateOK}}))
	_, err = db.Append(Event{Profile: "acme", Kind: "secret", Message: "client secret set"})
	must(t, err)
}
