package store

import (
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/modauth/modauth/internal/testclock"
)

func TestReopenKeepsEverything(t *testing.T) {
	path := filepath.Join(t.TempDir(), "modauth.db")
	// t0 in UTC: JSON gives a UTC time back as UTC, so DeepEqual holds.
	t0, now := testclock.Start(t).UTC(), clock(t)
	db, err := Open(path, Options{Now: now})
	must(t, err)

	p := Profile{
		ID: "acme-production", Customer: "Acme", Environment: "production", Preset: "divalto",
		TenantID: "11111111-2222-3333-4444-555555555555", ClientID: "cid", Model: Delegated,
		Protocols: []Protocol{EWS}, Scopes: []string{"https://outlook.office365.com/EWS.AccessAsUser.All"},
		Hosts: DefaultHosts, WizardStep: "consent",
	}
	must(t, db.PutProfile(p))
	cs := ClientSecret{Value: "abcDEF~secret-value-1234", KeyID: "kid-1", Expiry: t0.AddDate(1, 0, 0), ExpirySource: ExpiryGraph}
	must(t, db.SetClientSecret(p.ID, cs))
	users := []User{
		{Key: "u1", Name: "Ann", Account: "ann", UPN: "ann@acme.example", Mapping: MappingOK, Consent: ConsentDone,
			SignedIn: &Identity{ObjectID: "oid", TenantID: "tid", PreferredUsername: "ann@acme.example"}},
		{Key: "u2", Name: "Bob", Account: "bob@acme.example", Mapping: MappingMismatch},
	}
	must(t, db.PutUsers(p.ID, users...))
	tok := Token{RefreshToken: "rt-value-0001", AccessExpiry: t0.Add(time.Hour), Issued: t0, Scopes: []string{"offline_access"}, ViaDevice: true}
	must(t, db.PutToken(p.ID, "u1", tok))
	jobs := map[string]Job{
		"u1": {State: StateOK, LastRun: t0, Checkpoints: map[string]string{"inbox": "delta-1"}, Counts: map[string]int{"inbox": 2}},
		"u2": {State: StateUPNInvalid, Failures: 3, LastError: &LastError{Code: 50034, HTTPStatus: 400, Message: "user not found", At: t0}},
	}
	must(t, db.PutJobs(p.ID, jobs))
	items := []Item{{ID: "AAMk1", ChangeKey: "ck1", LastModified: t0}, {ID: "AAMk2", ChangeKey: "ck2"}}
	must(t, db.PutItems(p.ID, "u1", "inbox", items...))
	_, err = db.Append(Event{Profile: p.ID, User: "u1", Kind: "sync", State: StateOK, Message: "synced 2 items"})
	must(t, err)
	must(t, db.Close())

	db = mustOpen(t, path, Options{Now: now})
	gotP, err := db.Profile(p.ID)
	must(t, err)
	if gotP.Customer != "Acme" || gotP.WizardStep != "consent" || gotP.Hosts != DefaultHosts || gotP.SecretKeyID != "kid-1" ||
		gotP.SecretHint != "abc••••••" || !gotP.SecretExpiry.Equal(cs.Expiry) || gotP.SecretExpirySource != ExpiryGraph {
		t.Errorf("profile after reopen = %+v", gotP)
	}
	gotCS, err := db.ClientSecret(p.ID)
	must(t, err)
	if gotCS.Value.Reveal() != cs.Value.Reveal() || gotCS.KeyID != cs.KeyID || !gotCS.Expiry.Equal(cs.Expiry) || gotCS.ExpirySource != cs.ExpirySource {
		t.Errorf("client secret after reopen: keyID=%q expiry=%v source=%q, value intact=%v",
			gotCS.KeyID, gotCS.Expiry, gotCS.ExpirySource, gotCS.Value.Reveal() == cs.Value.Reveal())
	}
	gotUsers, err := db.Users(p.ID)
	must(t, err)
	if !reflect.DeepEqual(gotUsers, users) {
		t.Errorf("users = %+v, want %+v", gotUsers, users)
	}
	gotTok, err := db.Token(p.ID, "u1")
	must(t, err)
	if gotTok.RefreshToken.Reveal() != tok.RefreshToken.Reveal() || !reflect.DeepEqual(gotTok, tok) {
		t.Errorf("token after reopen = %+v (refresh token intact: %v)", gotTok, gotTok.RefreshToken.Reveal() == tok.RefreshToken.Reveal())
	}
	gotJobs, err := db.Jobs(p.ID)
	must(t, err)
	if !reflect.DeepEqual(gotJobs, jobs) {
		t.Errorf("jobs = %+v, want %+v", gotJobs, jobs)
	}
	gotItems, err := db.Items(p.ID, "u1", "inbox")
	must(t, err)
	if !reflect.DeepEqual(gotItems, items) {
		t.Errorf("items = %+v, want %+v", gotItems, items)
	}
	evs, err := db.Events("", 0, 0)
	must(t, err)
	if len(evs) != 1 || evs[0].Seq != 1 || evs[0].Message != "synced 2 items" || evs[0].At.IsZero() {
		t.Errorf("events = %+v", evs)
	}
}

func TestOpenCreatesPrivateFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new", "dir")
	path := filepath.Join(dir, "modauth.db")
	mustOpen(t, path, Options{})
	for name, want := range map[string]os.FileMode{dir: 0o700, path: 0o600, filepath.Join(dir, "modauth.key"): 0o600} {
		fi, err := os.Stat(name)
		must(t, err)
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s has mode %#o, want %#o", name, got, want)
		}
	}
}

func TestOpenRefusesDatabaseOpenToOthers(t *testing.T) {
	db, path := testDB(t, Options{})
	must(t, db.Close())
	must(t, os.Chmod(path, 0o640))
	_, err := Open(path, Options{})
	wantErr(t, err, ErrDBPermissions, path, "0640", "chmod 600 "+path)
}

func TestProfiles(t *testing.T) {
	backends(t, Options{}, func(t *testing.T, db *DB) {
		must(t, db.PutProfile(Profile{ID: "zeta", Model: AppOnly}))
		must(t, db.PutProfile(Profile{ID: "acme", Model: Delegated, SecretHint: "forged"}))

		first, err := db.Profile("acme")
		must(t, err)
		if first.Created.IsZero() || !first.Created.Equal(first.Updated) {
			t.Errorf("first put: created %v, updated %v", first.Created, first.Updated)
		}
		if first.SecretHint != "" {
			t.Errorf("PutProfile stored secret hint %q; only SetClientSecret may", first.SecretHint)
		}
		must(t, db.SetClientSecret("acme", ClientSecret{Value: "xyz-0123456789", KeyID: "k1"}))
		first.WizardStep = "users" // an older copy, without the secret fields
		first.SecretHint = ""
		must(t, db.PutProfile(first))
		second, err := db.Profile("acme")
		must(t, err)
		if !second.Created.Equal(first.Created) || !second.Updated.After(first.Updated) || second.WizardStep != "users" {
			t.Errorf("second put: %+v", second)
		}
		if second.SecretHint != "xyz••••••" || second.SecretKeyID != "k1" {
			t.Errorf("saving an older copy lost the secret fields: hint %q, key id %q", second.SecretHint, second.SecretKeyID)
		}

		all, err := db.Profiles()
		must(t, err)
		if len(all) != 2 || all[0].ID != "acme" || all[1].ID != "zeta" {
			t.Errorf("Profiles() = %+v", all)
		}

		must(t, db.DeleteProfile("zeta"))
		_, err = db.Profile("zeta")
		wantErr(t, err, ErrNotFound, `profile "zeta": not found`)
		wantErr(t, db.DeleteProfile("zeta"), ErrNotFound)
	})
}

func TestProfileIDValidation(t *testing.T) {
	backends(t, Options{}, func(t *testing.T, db *DB) {
		for _, id := range []string{"", "Acme", "acme prod", "a/b", "..", ".", "é", string(make([]byte, 65))} {
			wantErr(t, db.PutProfile(Profile{ID: id}), ErrInvalidID)
		}
		for _, id := range []string{"acme", "acme-production", "a.b_c-9", "x"} {
			must(t, db.PutProfile(Profile{ID: id}))
		}
		_, err := db.Profile("Bad ID")
		wantErr(t, err, ErrInvalidID)
	})
}

func TestNotFoundMessages(t *testing.T) {
	backends(t, Options{}, func(t *testing.T, db *DB) {
		seed(t, db)
		_, err := db.Profile("nope")
		wantErr(t, err, ErrNotFound, `profile "nope": not found`)
		_, err = db.User("acme", "u9")
		wantErr(t, err, ErrNotFound, `user "u9" in profile "acme": not found`)
		_, err = db.Token("acme", "u1")
		wantErr(t, err, ErrNotFound, `token of user "u1" in profile "acme": not found`)
		_, err = db.Job("acme", "u1")
		wantErr(t, err, ErrNotFound, `job of user "u1" in profile "acme": not found`)
		_, err = db.ClientSecret("acme")
		wantErr(t, err, ErrNotFound, `client secret of profile "acme": not found`)
		wantErr(t, db.PutUsers("nope", User{Key: "u1"}), ErrNotFound, `profile "nope"`)
		wantErr(t, db.PutToken("acme", "u9", Token{}), ErrNotFound, `user "u9"`)
		wantErr(t, db.PutJobs("acme", map[string]Job{"u1": {}, "u9": {}}), ErrNotFound, `user "u9"`)
		wantErr(t, db.PutItems("acme", "u9", "inbox", Item{ID: "i"}), ErrNotFound, `user "u9"`)
		wantErr(t, db.DeleteUser("acme", "u9"), ErrNotFound)
		wantErr(t, db.DeleteToken("acme", "u1"), ErrNotFound)
		wantErr(t, db.PutUsers("acme", User{Key: ""}), ErrInvalidID)
		if _, err := db.Job("acme", "u1"); err == nil {
			t.Error("a failed PutJobs wrote the job of the user that exists")
		}
	})
}

func TestUsers(t *testing.T) {
	backends(t, Options{}, func(t *testing.T, db *DB) {
		seed(t, db)
		must(t, db.PutUsers("acme", User{Key: "u0", Name: "Zoe"}, User{Key: "u1", Name: "Ann B."}))
		u, err := db.User("acme", "u1")
		must(t, err)
		if u.Name != "Ann B." {
			t.Errorf("User(u1).Name = %q, want the replaced name", u.Name)
		}
		var keys []string
		must(t, db.ForEachUser("acme", func(u User) error { keys = append(keys, u.Key); return nil }))
		if !reflect.DeepEqual(keys, []string{"u0", "u1", "u2"}) {
			t.Errorf("ForEachUser order = %v", keys)
		}
		stop := os.ErrClosed
		if err := db.ForEachUser("acme", func(User) error { return stop }); err != stop {
			t.Errorf("ForEachUser returned %v, want fn's error", err)
		}
	})
}

func TestDeleteUserRemovesEverythingOfTheUser(t *testing.T) {
	backends(t, Options{}, func(t *testing.T, db *DB) {
		seed(t, db)
		for _, key := range []string{"u1", "u2"} {
			must(t, db.PutToken("acme", key, Token{RefreshToken: "rt-" + Secret(key)}))
			must(t, db.PutItems("acme", key, "inbox", Item{ID: "i1"}))
		}
		must(t, db.PutJobs("acme", map[string]Job{"u1": {State: StateOK}, "u2": {State: StateOK}}))

		must(t, db.DeleteUser("acme", "u1"))
		_, err := db.User("acme", "u1")
		wantErr(t, err, ErrNotFound)
		_, err = db.Token("acme", "u1")
		wantErr(t, err, ErrNotFound)
		_, err = db.Job("acme", "u1")
		wantErr(t, err, ErrNotFound)
		_, err = db.Items("acme", "u1", "inbox")
		wantErr(t, err, ErrNotFound)
		// Re-adding the user must not bring back the old items.
		must(t, db.PutUsers("acme", User{Key: "u1"}))
		if n, err := db.CountItems("acme", "u1"); err != nil || len(n) != 0 {
			t.Errorf("items of a deleted user came back: %v %v", n, err)
		}
		// u2 is untouched.
		if _, err := db.Token("acme", "u2"); err != nil {
			t.Error(err)
		}
		if n, _ := db.CountItems("acme", "u2"); n["inbox"] != 1 {
			t.Errorf("u2 items = %v", n)
		}
	})
}

func TestTokens(t *testing.T) {
	backends(t, Options{}, func(t *testing.T, db *DB) {
		seed(t, db)
		must(t, db.PutToken("acme", "u1", Token{Scopes: []string{"a"}})) // app-only style: no refresh token
		tok, err := db.Token("acme", "u1")
		must(t, err)
		if !tok.RefreshToken.IsZero() || !reflect.DeepEqual(tok.Scopes, []string{"a"}) {
			t.Errorf("token = %+v", tok)
		}
		must(t, db.PutToken("acme", "u1", Token{RefreshToken: "second"}))
		tok, err = db.Token("acme", "u1")
		must(t, err)
		if tok.RefreshToken.Reveal() != "second" {
			t.Error("PutToken did not replace the refresh token")
		}
		must(t, db.DeleteToken("acme", "u1"))
		_, err = db.Token("acme", "u1")
		wantErr(t, err, ErrNotFound)
	})
}

func TestItems(t *testing.T) {
	backends(t, Options{}, func(t *testing.T, db *DB) {
		seed(t, db)
		must(t, db.PutItems("acme", "u1", "inbox", Item{ID: "b", ChangeKey: "1"}, Item{ID: "a", ChangeKey: "1"}, Item{ID: "c"}))
		must(t, db.PutItems("acme", "u1", "calendar", Item{ID: "x"}))
		must(t, db.PutItems("acme", "u1", "inbox", Item{ID: "a", ChangeKey: "2"}))
		must(t, db.DeleteItems("acme", "u1", "inbox", "c", "not-there"))
		must(t, db.DeleteItems("acme", "u2", "never-synced", "x"))

		got, err := db.Items("acme", "u1", "inbox")
		must(t, err)
		want := []Item{{ID: "a", ChangeKey: "2"}, {ID: "b", ChangeKey: "1"}}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Items = %+v, want %+v", got, want)
		}
		counts, err := db.CountItems("acme", "u1")
		must(t, err)
		if !maps.Equal(counts, map[string]int{"inbox": 2, "calendar": 1}) {
			t.Errorf("CountItems = %v", counts)
		}
		if got, err := db.Items("acme", "u2", "inbox"); err != nil || len(got) != 0 {
			t.Errorf("Items of a user never synced = %v, %v", got, err)
		}
		wantErr(t, db.PutItems("acme", "u1", "inbox", Item{ID: ""}), ErrInvalidID)
		wantErr(t, db.PutItems("acme", "u1", "", Item{ID: "a"}), ErrInvalidID)
	})
}
