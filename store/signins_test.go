package store

import (
	"errors"
	"testing"
	"time"

	"github.com/modauth/modauth/internal/testclock"
)

func TestProductSignInsAdd(t *testing.T) {
	t0 := testclock.Start(t)
	var p ProductSignIns
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	p.Add(ProductSignIn{ID: "a", At: at(1)}, LastError{})
	p.Add(ProductSignIn{ID: "b", At: at(3), Code: 50173, Reason: "revoked"}, LastError{Meaning: "the grant was revoked"})
	p.Add(ProductSignIn{ID: "b", At: at(3), Code: 50173}, LastError{}) // a duplicate of the log's
	p.Add(ProductSignIn{ID: "c", At: at(2)}, LastError{})              // read late: older than b
	if !p.LastOK.Equal(at(2)) {
		t.Errorf("LastOK = %v, want %v", p.LastOK, at(2))
	}
	if p.LastFailure == nil || p.LastFailure.Code != 50173 || !p.LastFailure.At.Equal(at(3)) || p.LastFailure.Meaning == "" {
		t.Fatalf("LastFailure = %+v", p.LastFailure)
	}
	if !p.Failing() {
		t.Error("the newest sign-in failed, but Failing is false")
	}
	if got := ids(p.Recent); got != "bca" {
		t.Errorf("recent = %s, want newest first bca", got)
	}
	for i := range 10 {
		p.Add(ProductSignIn{ID: string(rune('d' + i)), At: at(10 + i)}, LastError{})
	}
	if len(p.Recent) != recentSignIns || p.Recent[0].ID != "m" {
		t.Errorf("recent = %s, want the %d newest", ids(p.Recent), recentSignIns)
	}
	if p.Failing() {
		t.Error("a success after the failure, but Failing is true")
	}
}

func ids(s []ProductSignIn) string {
	var b []byte
	for _, x := range s {
		b = append(b, x.ID...)
	}
	return string(b)
}

func TestRecordSignIns(t *testing.T) {
	db, path := testDB(t, Options{})
	must(t, db.PutProfile(Profile{ID: "p"}))
	must(t, db.PutUsers("p", User{Key: "u1", Account: "a@contoso.com"}, User{Key: "u2", Account: "b@contoso.com"}))
	if l, err := db.SignInLog("p"); err != nil || !l.ReadAt.IsZero() {
		t.Fatalf("before any read: %+v, %v", l, err)
	}
	t0 := testclock.Start(t)
	log := SignInLog{ReadUntil: t0, ReadAt: t0, Seen: []string{"x"}, Keys: map[string]KeyUse{"k1": {Count: 3, Last: t0}}}
	users := map[string]ProductSignIns{
		"u1":   {LastOK: t0},
		"gone": {LastOK: t0}, // deleted since: skipped, not an error
	}
	must(t, db.RecordSignIns("p", log, users))
	must(t, db.Close())

	db = mustOpen(t, path, Options{})
	got, err := db.SignInLog("p")
	must(t, err)
	if got.Keys["k1"].Count != 3 || !got.ReadUntil.Equal(t0) || len(got.Seen) != 1 {
		t.Errorf("log = %+v", got)
	}
	recs, err := db.ProductSignIns("p")
	must(t, err)
	if len(recs) != 1 || !recs["u1"].LastOK.Equal(t0) {
		t.Errorf("records = %+v, want u1 only", recs)
	}
	must(t, db.DeleteUser("p", "u1"))
	if recs, _ := db.ProductSignIns("p"); len(recs) != 0 {
		t.Errorf("after DeleteUser: %+v", recs)
	}
}

func TestRotationRecord(t *testing.T) {
	db, path := testDB(t, Options{})
	must(t, db.PutProfile(Profile{ID: "p"}))
	must(t, db.SetClientSecret("p", ClientSecret{Value: "old-value", KeyID: "old"}))
	if _, ok, err := db.Rotation("p"); ok || err != nil {
		t.Fatalf("no rotation yet: %v %v", ok, err)
	}
	t0 := testclock.Start(t)
	must(t, db.StartRotation("p", Rotation{OldKeyID: "old", NewKeyID: "new", Started: t0}, ClientSecret{Value: "new-value", KeyID: "new", Created: true}))
	if cs, _ := db.ClientSecret("p"); cs.KeyID != "old" {
		t.Fatalf("modauth's secret changed at the start of the rotation: %s", cs.KeyID)
	}
	must(t, db.MarkHandedOver("p", "other")) // not the rotation's: nothing
	if r, _, _ := db.Rotation("p"); !r.HandedOver.IsZero() {
		t.Fatal("handed over by another key ID")
	}
	must(t, db.MarkHandedOver("p", "new"))
	must(t, db.Close())

	db = mustOpen(t, path, Options{})
	r, ok, err := db.Rotation("p")
	if !ok || err != nil || r.HandedOver.IsZero() || r.NewKeyID != "new" {
		t.Fatalf("rotation after a restart: %+v %v %v", r, ok, err)
	}
	r, err = db.PromoteRotation("p", t0.Add(time.Hour), SwitchedBySignInLog)
	must(t, err)
	if cs, _ := db.ClientSecret("p"); cs.KeyID != "new" || cs.Value.Reveal() != "new-value" || !cs.Created || r.Promoted.IsZero() || r.SwitchedBy != SwitchedBySignInLog {
		t.Fatalf("after promotion: modauth's %s, rotation %+v", cs.KeyID, r)
	}
	must(t, db.EndRotation("p"))
	if _, ok, _ := db.Rotation("p"); ok {
		t.Error("rotation still there after EndRotation")
	}
	if _, err := db.RotationSecret("p"); !errors.Is(err, ErrNotFound) {
		t.Errorf("the new secret's sealed copy stays after the end: %v", err)
	}
}
