package exchange_test

import (
	"testing"
	"time"

	"github.com/modauth/modauth/flows"
	"github.com/modauth/modauth/internal/testkit"
	"github.com/modauth/modauth/m365sim"
)

func TestAddCertificateKeepsTheOthers(t *testing.T) {
	sim := m365sim.Start(t, m365sim.Options{})
	g := monitor(t, sim, "Application.ReadWrite.All")
	product := registerProduct(sim)
	old, oldKey, err := flows.NewCertificate("CN=old", 90*24*time.Hour, sim.Clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	kept, err := sim.UploadCertificate(product, old.Raw, "uploaded in the portal")
	if err != nil {
		t.Fatal(err)
	}
	cert, key, err := flows.NewCertificate("CN=modauth", 365*24*time.Hour, sim.Clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	added, err := g.AddCertificate(testkit.Ctx(t), product.ClientID, cert.Raw, "modauth")
	if err != nil {
		t.Fatal(err)
	}
	creds, err := g.AppCredentials(testkit.Ctx(t), product.ClientID)
	if err != nil {
		t.Fatal(err)
	}
	if len(creds.Keys) != 2 || creds.Keys[0].KeyID != kept.KeyID || creds.Keys[1].KeyID != added.KeyID || !creds.Keys[1].EndDateTime.Equal(cert.NotAfter) {
		t.Fatalf("certificates after adding one: %+v (kept %s, added %s)", creds.Keys, kept.KeyID, added.KeyID)
	}

	// Both sign in: the old one was sent again with its key, not only listed.
	for name, cc := range map[string]*flows.ClientCertificate{"old": {Cert: old, Key: oldKey}, "new": {Cert: cert, Key: key}} {
		c, err := flows.New(testkit.Ctx(t), flows.Config{Authority: sim.URL, Tenant: "contoso.com", ClientID: product.ClientID, Certificate: cc,
			HTTPClient: sim.HTTPClient(), Now: sim.Clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.ClientCredentials(testkit.Ctx(t), "https://outlook.office365.com"); err != nil {
			t.Errorf("%s certificate: %v", name, err)
		}
	}

	if err := g.RemoveCertificate(testkit.Ctx(t), product.ClientID, kept.KeyID); err != nil {
		t.Fatal(err)
	}
	creds, err = g.AppCredentials(testkit.Ctx(t), product.ClientID)
	if err != nil {
		t.Fatal(err)
	}
	if len(creds.Keys) != 1 || creds.Keys[0].KeyID != added.KeyID {
		t.Errorf("certificates after removing the old one: %+v", creds.Keys)
	}
	if err := g.RemoveCertificate(testkit.Ctx(t), product.ClientID, kept.KeyID); err == nil {
		t.Error("removing a certificate twice succeeded")
	}
}
