package store

import (
	"errors"
	"testing"
)

func TestApplyIsOneTransactionAndAllOrNothing(t *testing.T) {
	backends(t, Options{}, func(t *testing.T, db *DB) {
		if err := db.PutProfile(Profile{ID: "p"}); err != nil {
			t.Fatal(err)
		}
		if err := db.PutUsers("p", User{Key: "a"}, User{Key: "b"}); err != nil {
			t.Fatal(err)
		}
		if err := db.PutItems("p", "a", "calendar", Item{ID: "old1"}, Item{ID: "old2"}); err != nil {
			t.Fatal(err)
		}
		before := db.WriteTransactions()
		err := db.Apply(Batch{
			Profile: "p",
			Tokens:  map[string]Token{"a": {RefreshToken: "rt-a"}},
			Jobs:    map[string]Job{"a": {State: StateOK}, "b": {State: StateNeverSynced}},
			Folders: []FolderChange{
				{User: "a", Folder: "calendar", Reset: true, Put: []Item{{ID: "new1", ChangeKey: "ck"}}},
				{User: "b", Folder: "contacts", Put: []Item{{ID: "c1"}, {ID: "c2"}}, Delete: []string{"c2"}},
			},
			Events: []Event{{Profile: "p", User: "a", Kind: "sync", Message: "ok"}},
		})
		if err != nil {
			t.Fatal(err)
		}
		if n := db.WriteTransactions() - before; n != 1 {
			t.Errorf("%d write transactions, want 1", n)
		}
		items, _ := db.Items("p", "a", "calendar")
		if len(items) != 1 || items[0].ID != "new1" {
			t.Errorf("reset folder holds %+v", items)
		}
		if items, _ := db.Items("p", "b", "contacts"); len(items) != 1 || items[0].ID != "c1" {
			t.Errorf("contacts %+v", items)
		}
		if tok, _ := db.Token("p", "a"); tok.RefreshToken != "rt-a" {
			t.Error("token not written")
		}
		if ev, _ := db.Events("p", 0, 0); len(ev) != 1 {
			t.Errorf("events %v", ev)
		}

		// A batch naming an unknown user writes nothing at all.
		err = db.Apply(Batch{Profile: "p", Jobs: map[string]Job{"a": {State: StateThrottled}, "ghost": {State: StateOK}}})
		if !errors.Is(err, ErrNotFound) {
			t.Fatalf("err %v", err)
		}
		if j, _ := db.Job("p", "a"); j.State != StateOK {
			t.Errorf("half-applied batch: job a is %s", j.State)
		}
		if err := db.Apply(Batch{Profile: "p"}); err != nil || db.WriteTransactions()-before != 1 {
			t.Errorf("an empty batch must not write: %v", err)
		}
	})
}

func TestBulkReadsMatchPerUserReads(t *testing.T) {
	backends(t, Options{}, func(t *testing.T, db *DB) {
		must(t, db.PutProfile(Profile{ID: "p"}))
		must(t, db.PutUsers("p", User{Key: "a"}, User{Key: "b"}))
		must(t, db.PutToken("p", "a", Token{RefreshToken: "rt", Scopes: []string{"x"}}))
		must(t, db.PutItems("p", "a", "calendar", Item{ID: "1"}, Item{ID: "2"}))
		must(t, db.PutItems("p", "b", "tasks", Item{ID: "3"}))
		reads, unseals := db.ReadTransactions(), db.Unseals()
		meta, err := db.TokenMeta("p")
		if err != nil || len(meta) != 1 || meta["a"].Scopes[0] != "x" || !meta["a"].RefreshToken.IsZero() {
			t.Errorf("meta %+v %v", meta, err)
		}
		some, err := db.TokenMetaOf("p", []string{"a", "b", "ghost", ""})
		if err != nil || len(some) != 1 || some["a"].Scopes[0] != "x" || !some["a"].RefreshToken.IsZero() {
			t.Errorf("meta of a, b, ghost: %+v %v", some, err)
		}
		if n := db.ReadTransactions() - reads; n != 2 {
			t.Errorf("%d read transactions for two bulk reads, want 2", n)
		}
		if n := db.Unseals() - unseals; n != 0 {
			t.Errorf("reading metadata unsealed %d values, want none", n)
		}
		if _, err := db.Token("p", "a"); err != nil || db.Unseals()-unseals != 1 {
			t.Errorf("a token read must count one unseal: %d (%v)", db.Unseals()-unseals, err)
		}
		counts, err := db.ItemCounts("p")
		if err != nil || counts["a"]["calendar"] != 2 || counts["b"]["tasks"] != 1 {
			t.Errorf("counts %+v %v", counts, err)
		}
	})
}
