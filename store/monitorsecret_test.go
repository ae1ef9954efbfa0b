package store

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// The monitoring app's secret is its own sealed record: it needs the
// monitoring app first, keeps the product's secret apart, survives an
// older copy of the profile being saved, and goes when another
// monitoring app replaces the first.
func TestMonitorSecret(t *testing.T) {
	db, _ := testDB(t, Options{})
	seed(t, db)
	end := time.Date(2027, 12, 1, 0, 0, 0, 0, time.UTC)
	mon := ClientSecret{Value: "mon-0123456789", KeyID: "mk1", Expiry: end, ExpirySource: ExpiryGraph}

	if err := db.SetMonitorSecret("acme", mon); err == nil || !strings.Contains(err.Error(), "no monitoring app") {
		t.Errorf("SetMonitorSecret without a monitoring app: %v", err)
	}
	_, err := db.MonitorSecret("acme")
	wantErr(t, err, ErrNotFound, "monitoring app's secret")

	old, err := db.Profile("acme") // read before the monitoring app existed
	must(t, err)
	p := old
	p.Monitor = &MonitorApp{ClientID: "mon-app", ServicePrincipalID: "mon-sp", SecretHint: "forged"}
	must(t, db.PutProfile(p))
	if got, _ := db.Profile("acme"); got.Monitor == nil || got.Monitor.SecretHint != "" {
		t.Fatalf("PutProfile stored monitor %+v; only SetMonitorSecret sets its secret fields", got.Monitor)
	}
	must(t, db.SetClientSecret("acme", ClientSecret{Value: "product-secret", KeyID: "pk1"}))
	must(t, db.SetMonitorSecret("acme", mon))

	old.WizardStep = "users"
	must(t, db.PutProfile(old))
	got, err := db.Profile("acme")
	must(t, err)
	if got.Monitor == nil || got.Monitor.ClientID != "mon-app" || got.Monitor.SecretKeyID != "mk1" || got.Monitor.SecretHint != "mon••••••" || !got.Monitor.SecretExpiry.Equal(end) {
		t.Errorf("after saving an older copy the monitoring app is %+v", got.Monitor)
	}
	if got.SecretKeyID != "pk1" {
		t.Errorf("the product's secret fields changed: key id %q", got.SecretKeyID)
	}
	gotMon, err := db.MonitorSecret("acme")
	must(t, err)
	gotCS, err := db.ClientSecret("acme")
	must(t, err)
	if gotMon.Value.Reveal() != "mon-0123456789" || gotCS.Value.Reveal() != "product-secret" {
		t.Errorf("secrets mixed up: monitor %q, product %q", gotMon.Value.Reveal(), gotCS.Value.Reveal())
	}

	// The product's sealed record copied over the monitoring one does not
	// unseal there.
	must(t, db.update(func(tx kvTx) error {
		pb := tx.Bucket(bktProfiles).Bucket([]byte("acme"))
		return pb.Put(keyMonitorSecret, bytes.Clone(pb.Get(keySecret)))
	}))
	_, err = db.MonitorSecret("acme")
	wantErr(t, err, ErrUnseal, "monitoring app's secret")
	must(t, db.SetMonitorSecret("acme", mon))

	// Another monitoring app: the first one's secret is gone with it.
	got.Monitor = &MonitorApp{ClientID: "other-mon"}
	must(t, db.PutProfile(got))
	if _, err := db.MonitorSecret("acme"); err == nil {
		t.Error("the old monitoring app's secret stayed for the new one")
	}
	if got, _ := db.Profile("acme"); got.Monitor == nil || got.Monitor.SecretKeyID != "" {
		t.Errorf("the new monitoring app shows the old secret: %+v", got.Monitor)
	}
}
