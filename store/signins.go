package store

import (
	"fmt"
	"time"
)

// The product's own sign-ins, read from Entra's sign-in log by the monitor:
// per user under profiles/<id>/signins/<key>, and where the reading stands
// under profiles/<id>/signinlog. The bucket is made on first write, so
// files written before it existed need no migration.
var (
	bktSignIns   = []byte("signins")
	keySignInLog = []byte("signinlog")
	keyRotation  = []byte("rotation")
	// keyRotationSecret seals the new secret of a rotation under way.
	keyRotationSecret = []byte("newsecret")
	// keyRotationCertificate seals the new certificate of one.
	keyRotationCertificate = []byte("newcertificate")
	recentSignIns          = 5
)

// ProductSignIn is one sign-in of the product's app, as Entra logged it.
type ProductSignIn struct {
	ID          string    `json:"id"`
	At          time.Time `json:"at"`
	Interactive bool      `json:"interactive,omitempty"`
	Code        int       `json:"code,omitempty"` // AADSTS code; 0 is success
	Reason      string    `json:"reason,omitempty"`
}

// ProductSignIns is what the sign-in log says of one user's sign-ins
// through the product's app: the truest answer to whether the product's
// own sync works for them.
type ProductSignIns struct {
	LastOK      time.Time  `json:"lastOk,omitzero"`
	LastFailure *LastError `json:"lastFailure,omitempty"`
	// Recent are the newest sign-ins, newest first.
	Recent []ProductSignIn `json:"recent,omitempty"`
}

// Failing reports whether the user's latest sign-in through the product
// failed.
func (p ProductSignIns) Failing() bool {
	return p.LastFailure != nil && p.LastFailure.At.After(p.LastOK)
}

// Add records a sign-in: the last success or failure moves on, and it
// joins the recent ones unless it is already there. failure describes a
// failed one (its code, meaning and fix); it is ignored for a success.
func (p *ProductSignIns) Add(s ProductSignIn, failure LastError) {
	for _, r := range p.Recent {
		if r.ID == s.ID {
			return
		}
	}
	if s.Code == 0 {
		if s.At.After(p.LastOK) {
			p.LastOK = s.At
		}
	} else if p.LastFailure == nil || s.At.After(p.LastFailure.At) {
		failure.Code, failure.At = s.Code, s.At
		p.LastFailure = &failure
	}
	i := 0
	for i < len(p.Recent) && !s.At.After(p.Recent[i].At) {
		i++
	}
	if i < recentSignIns {
		p.Recent = append(p.Recent[:i], append([]ProductSignIn{s}, p.Recent[i:]...)...)
		p.Recent = p.Recent[:min(len(p.Recent), recentSignIns)]
	}
}

// KeyUse is how the product's app signed in with one client secret
// (service-principal sign-ins): what tells the old secret from the new
// one during a rotation.
type KeyUse struct {
	First    time.Time `json:"first,omitzero"`
	Last     time.Time `json:"last,omitzero"`
	Count    int       `json:"count,omitempty"`
	Failures int       `json:"failures,omitempty"`
	// Today counts the successful sign-ins on Day (local midnight), the
	// day of the newest one.
	Day   time.Time `json:"day,omitzero"`
	Today int       `json:"today,omitempty"`
}

// Add counts one sign-in with the key at at.
func (k *KeyUse) Add(at time.Time, ok bool) {
	if !ok {
		k.Failures++
		return
	}
	if k.First.IsZero() || at.Before(k.First) {
		k.First = at
	}
	if at.After(k.Last) {
		k.Last = at
	}
	switch day := startOfDay(at); {
	case day.After(k.Day):
		k.Day, k.Today = day, 1
	case day.Equal(k.Day):
		k.Today++
	}
	k.Count++
}

// UsedOn is how many times the key signed in on the day of now, in local
// time: the day the person reading it calls today.
func (k KeyUse) UsedOn(now time.Time) int {
	if k.Day.Equal(startOfDay(now)) {
		return k.Today
	}
	return 0
}

// SignInLog is where a profile's reading of the product's sign-in log
// stands.
type SignInLog struct {
	// ReadUntil is the newest sign-in read; the next read starts a little
	// before it, since the log fills in late, and skips Seen.
	ReadUntil time.Time `json:"readUntil,omitzero"`
	Seen      []string  `json:"seen,omitempty"`
	ReadAt    time.Time `json:"readAt,omitzero"`
	// Unavailable says why the log could not be read (no monitoring app,
	// no Entra ID P1 licence, a missing permission); empty when it was.
	Unavailable string `json:"unavailable,omitempty"`
	// Keys are the app's own sign-ins per client secret key ID.
	Keys map[string]KeyUse `json:"keys,omitempty"`
	// Unmatched counts sign-ins of people who are not the profile's users.
	Unmatched int `json:"unmatched,omitempty"`
}

// SignInLog returns where the reading of a profile's sign-in log stands;
// the zero value when it was never read.
func (db *DB) SignInLog(profileID string) (SignInLog, error) {
	var l SignInLog
	err := db.view(func(tx kvTx) error {
		pb, err := profileBucket(tx, profileID)
		if err != nil {
			return err
		}
		if _, err := getJSON(pb, string(keySignInLog), &l); err != nil {
			return fmt.Errorf("sign-in log of profile %q: %w", profileID, err)
		}
		return nil
	})
	return l, err
}

// ProductSignIns returns the product's sign-ins per user key.
func (db *DB) ProductSignIns(profileID string) (map[string]ProductSignIns, error) {
	out := map[string]ProductSignIns{}
	err := db.view(func(tx kvTx) error {
		pb, err := profileBucket(tx, profileID)
		if err != nil {
			return err
		}
		b := pb.Bucket(bktSignIns)
		if b == nil {
			return nil
		}
		return eachRecord(b, func(key string, rec ProductSignIns, err error) error {
			if err != nil {
				return fmt.Errorf("sign-ins of user %q in profile %q: %w", key, profileID, err)
			}
			out[key] = rec
			return nil
		})
	})
	return out, err
}

// RecordSignIns stores one reading of the sign-in log: where it stands,
// and the users' records it changed, in one transaction. Users that are
// no longer stored are skipped.
func (db *DB) RecordSignIns(profileID string, log SignInLog, users map[string]ProductSignIns) error {
	return db.update(func(tx kvTx) error {
		pb, err := profileBucket(tx, profileID)
		if err != nil {
			return err
		}
		if err := putJSON(pb, string(keySignInLog), log); err != nil {
			return fmt.Errorf("sign-in log of profile %q: %w", profileID, err)
		}
		if len(users) == 0 {
			return nil
		}
		b, err := pb.CreateBucketIfNotExists(bktSignIns)
		if err != nil {
			return fmt.Errorf("sign-ins of profile %q: %w", profileID, err)
		}
		for key, rec := range users {
			if userExists(pb, profileID, key) != nil {
				continue
			}
			if err := putJSON(b, key, rec); err != nil {
				return fmt.Errorf("sign-ins of user %q in profile %q: %w", key, profileID, err)
			}
		}
		return nil
	})
}

// startOfDay is local midnight of t's day; a day is not always 24 hours.
func startOfDay(t time.Time) time.Time {
	y, m, d := t.Local().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.Local)
}
