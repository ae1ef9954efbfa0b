package store

import (
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Diagnosis is what Diagnose found in a database.
type Diagnosis struct {
	Path string `json:"path"`
	// File is damage to the file itself (its pages, its buckets, the event
	// log): each entry one line.
	File     []string           `json:"file,omitempty"`
	Profiles []ProfileDiagnosis `json:"profiles"`
}

// ProfileDiagnosis counts a profile's sound records and lists its damaged
// ones, one line each.
type ProfileDiagnosis struct {
	ID      string   `json:"id"`
	Users   int      `json:"users"`
	Tokens  int      `json:"tokens"`
	Jobs    int      `json:"jobs"`
	Items   int      `json:"items"`
	Damaged []string `json:"damaged,omitempty"`
}

// Healthy reports whether nothing is damaged.
func (d Diagnosis) Healthy() bool { return d.FirstProblem() == "" }

// FirstProblem is the first damage found, "" if none.
func (d Diagnosis) FirstProblem() string {
	if len(d.File) > 0 {
		return d.File[0]
	}
	for _, p := range d.Profiles {
		if len(p.Damaged) > 0 {
			return "profile " + p.ID + ": " + p.Damaged[0]
		}
	}
	return ""
}

// maxFindings bounds the lines listed per profile and for the file: past
// that, the answer (restore a backup) is the same.
const maxFindings = 20

// findings collects lines up to maxFindings and counts the rest.
type findings struct {
	lines []string
	more  int
}

func (f *findings) add(format string, args ...any) {
	if len(f.lines) < maxFindings {
		f.lines = append(f.lines, fmt.Sprintf(format, args...))
	} else {
		f.more++
	}
}

func (f *findings) list() []string {
	if f.more > 0 {
		return append(f.lines, fmt.Sprintf("and %d more", f.more))
	}
	return f.lines
}

// Diagnose checks the database at path: its pages as Open does, then
// bbolt's own consistency check, then every record: each decodes, and each
// sealed secret opens with the key file. It repairs nothing. Damage is
// reported in the Diagnosis; the error is for what stops the check itself:
// no database, another process using it, a wrong key file.
func Diagnose(path string, opts Options) (Diagnosis, error) {
	d := Diagnosis{Path: path, Profiles: []ProfileDiagnosis{}}
	opts.MustExist = true
	db, err := Open(path, opts)
	var damage *damageError
	if errors.As(err, &damage) {
		d.File = []string{damage.what}
		return d, nil
	}
	if err != nil {
		return d, err
	}
	defer db.Close()
	return db.Diagnose()
}

// Diagnose checks an open database as the function Diagnose does: for the
// service, which holds the file open and lock.
func (db *DB) Diagnose() (Diagnosis, error) {
	d := Diagnosis{Path: db.path, Profiles: []ProfileDiagnosis{}}
	var file findings
	var damage *damageError
	err := db.diagnose(&d, &file)
	if errors.As(err, &damage) {
		file.add("%s", damage.what)
	} else if err != nil {
		return d, err
	}
	d.File = file.list()
	return d, nil
}

// diagnose runs the page check and the record checks of an open database.
func (db *DB) diagnose(d *Diagnosis, file *findings) error {
	problems, err := db.pageProblems()
	if err != nil {
		return err
	}
	for _, problem := range problems {
		file.add("%s", problem)
	}
	return db.view(func(tx kvTx) error {
		if events, err := root(tx, bktEvents); err != nil {
			file.add("%v", err)
		} else {
			diagnoseRecords[Event](events, file, func(k string) string { return fmt.Sprintf("event %x", k) }, nil)
		}
		profiles, err := root(tx, bktProfiles)
		if err != nil {
			file.add("%v", err)
			return nil
		}
		return profiles.ForEach(func(k, v []byte) error {
			if v != nil {
				file.add("profiles/%q is a record, not a profile's bucket", k)
				return nil
			}
			d.Profiles = append(d.Profiles, db.diagnoseProfile(profiles.Bucket(k), string(k)))
			return nil
		})
	})
}

// pageProblems runs bbolt's consistency check (what `bbolt check` does).
func (db *DB) pageProblems() ([]string, error) {
	var problems []string
	if db.bolt == nil {
		return nil, nil // etcd checks its own pages; the records are checked all the same
	}
	err := db.boltView("the page check", func(tx *bolt.Tx) error {
		// Drain the channel: bbolt's checker runs in its own goroutine and
		// would block forever on an abandoned one.
		for err := range tx.Check() {
			problems = append(problems, err.Error())
		}
		return nil
	})
	return problems, err
}

// diagnoseProfile checks every record of a profile.
func (db *DB) diagnoseProfile(pb kvBucket, id string) ProfileDiagnosis {
	pd := ProfileDiagnosis{ID: id}
	var bad findings
	if _, err := readProfile(pb, id); err != nil {
		bad.add("%v", err)
	}
	for _, k := range []sealedSecret{clientSecret, monitorSecret} {
		if blob := pb.Get(k.key); blob != nil {
			if _, err := db.openSecret(k, id, blob); err != nil {
				bad.add("%v", err)
			}
		}
	}
	buckets := map[string]kvBucket{}
	for _, name := range profileSubBuckets {
		b, err := sub(pb, id, name)
		if err != nil {
			bad.add("%v", err)
			continue
		}
		buckets[string(name)] = b
	}
	if b := buckets[string(bktUsers)]; b != nil {
		pd.Users = diagnoseRecords(b, &bad, func(k string) string { return fmt.Sprintf("user %q", k) }, sameKey)
	}
	if b := buckets[string(bktJobs)]; b != nil {
		pd.Jobs = diagnoseRecords[Job](b, &bad, func(k string) string { return fmt.Sprintf("job of user %q", k) }, nil)
	}
	if b := buckets[string(bktTokens)]; b != nil {
		_ = b.ForEach(func(k, v []byte) error {
			if _, err := db.openToken(id, string(k), v); err != nil {
				bad.add("%v", err)
			} else {
				pd.Tokens++
			}
			return nil
		})
	}
	if b := buckets[string(bktItems)]; b != nil {
		_ = b.ForEachBucket(func(user []byte) error {
			ub := b.Bucket(user)
			if ub == nil {
				bad.add("items of user %q: listed as a bucket but none is there", user)
				return nil
			}
			return ub.ForEachBucket(func(folder []byte) error {
				fb := ub.Bucket(folder)
				if fb == nil {
					bad.add("items folder %q of user %q: listed as a bucket but none is there", folder, user)
					return nil
				}
				pd.Items += diagnoseRecords[Item](fb, &bad, func(k string) string {
					return fmt.Sprintf("item %q in folder %q of user %q", k, folder, user)
				}, nil)
				return nil
			})
		})
	}
	pd.Damaged = bad.list()
	return pd
}

// diagnoseRecords decodes every record of b as a T and checks it with
// check, if any; it adds a line for each that fails, naming it with name,
// and returns how many pass.
func diagnoseRecords[T any](b kvBucket, bad *findings, name func(key string) string, check func(key string, rec T) error) int {
	sound := 0
	_ = eachRecord(b, func(key string, rec T, err error) error {
		if err == nil && check != nil {
			err = check(key, rec)
		}
		if err != nil {
			bad.add("%s: %v", name(key), err)
		} else {
			sound++
		}
		return nil
	})
	return sound
}
