package store

import (
	"strings"
	"testing"
)

// A secret modauth made is shown once: the mark is taken before showing,
// a second one is refused, also after a restart and after the profile is
// saved again from a copy read before the mark. A secret the person typed
// in is never shown; a new secret (rotation) may be shown once again.
func TestMarkSecretShownOnce(t *testing.T) {
	db, path := testDB(t, Options{})
	seed(t, db)

	must(t, db.SetClientSecret("acme", ClientSecret{Value: "typed-in-value", KeyID: "k0", ExpirySource: ExpiryEntered}))
	if _, err := db.MarkSecretShown("acme", "k0"); err == nil || !strings.Contains(err.Error(), "entered by a person") {
		t.Fatalf("a typed-in secret: %v", err)
	}

	must(t, db.SetClientSecret("acme", ClientSecret{Value: "made-value-1", KeyID: "k1", ExpirySource: ExpiryGraph, Created: true}))
	stale, err := db.Profile("acme")
	must(t, err)
	if !stale.SecretShowable() {
		t.Fatalf("a made secret is not showable: %+v", stale)
	}
	if _, err := db.MarkSecretShown("acme", "k0"); err == nil || !strings.Contains(err.Error(), "changed since") {
		t.Fatalf("an old key ID: %v", err)
	}
	at, err := db.MarkSecretShown("acme", "k1")
	must(t, err)
	if at.IsZero() {
		t.Fatal("no time of showing")
	}
	if evs, err := db.Events("acme", 0, 10); err != nil || len(evs) != 1 || !strings.Contains(evs[0].Message, "client secret k1 was shown") {
		t.Fatalf("events %+v %v", evs, err)
	}
	if _, err := db.MarkSecretShown("acme", "k1"); err == nil || !strings.Contains(err.Error(), "was shown once on") {
		t.Fatalf("a second showing: %v", err)
	}

	// A step saves the profile it read before the mark; a monitor saves
	// the secret again with a new expiry: the mark stays.
	stale.Customer = "Acme BV"
	must(t, db.PutProfile(stale))
	cs, err := db.ClientSecret("acme")
	must(t, err)
	if !cs.Created {
		t.Fatal("ClientSecret lost Created")
	}
	must(t, db.SetClientSecret("acme", cs))

	must(t, db.Close())
	db = mustOpen(t, path, Options{})
	p, err := db.Profile("acme")
	must(t, err)
	if p.SecretShowable() || !p.SecretWasShown() || p.SecretShownKeyID != "k1" || !p.SecretShown.Equal(at) {
		t.Fatalf("after a restart: %+v", p)
	}
	if _, err := db.MarkSecretShown("acme", "k1"); err == nil {
		t.Fatal("shown a second time after a restart")
	}

	must(t, db.SetClientSecret("acme", ClientSecret{Value: "made-value-2", KeyID: "k2", ExpirySource: ExpiryGraph, Created: true}))
	if _, err := db.MarkSecretShown("acme", "k2"); err != nil {
		t.Fatalf("a rotated secret: %v", err)
	}
}
