package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/modauth/modauth/store"
)

// dataDirFlag holds --data-dir: where the database and its key file live.
// The store it opens stamps records with now.
type dataDirFlag struct {
	dir string
	now func() time.Time
	// shared is the service's open database, when the command runs in the
	// service for a client: open and create lend it instead of opening
	// the file, which the service holds locked.
	shared *store.DB
	// etcd, when set, keeps the store in etcd under etcdPrefix rather
	// than in the data directory's file (--etcd): the data directory
	// keeps the sealing key, which the monitors share, and the socket.
	etcd       []string
	etcdPrefix string
}

// defaultDataDir is $MODAUTH_DATA_DIR, else the user's config dir.
func defaultDataDir() string {
	if d := os.Getenv("MODAUTH_DATA_DIR"); d != "" {
		return d
	}
	if d, err := os.UserConfigDir(); err == nil {
		return filepath.Join(d, "modauth")
	}
	return ".modauth"
}

// path is the database file in the data directory.
func (f *dataDirFlag) path() string { return filepath.Join(f.dir, "modauth.db") }

// keyFile is the sealing key's file in the data directory.
func (f *dataDirFlag) keyFile() string { return filepath.Join(f.dir, "modauth.key") }

// open opens the store in the data directory, which must hold one: the
// commands that read or watch never create a store, so a mistyped
// --data-dir is an error, not a new empty store.
func (f *dataDirFlag) open() (*store.DB, error) {
	if f.shared != nil {
		return f.shared.Borrow(), nil
	}
	if len(f.etcd) > 0 {
		return f.openEtcd(true)
	}
	db, err := store.Open(f.path(), store.Options{MustExist: true, Now: f.now})
	if errors.Is(err, store.ErrNoDatabase) {
		return nil, fmt.Errorf("%w: check --data-dir, or run `modauth` to set up a profile", err)
	}
	if err != nil {
		return nil, fmt.Errorf("open data in %s: %w", f.dir, err)
	}
	return db, nil
}

// create opens the store in the data directory, creating both if need
// be: for the wizard, which sets up the first profile.
func (f *dataDirFlag) create() (*store.DB, error) {
	if f.shared != nil {
		return f.shared.Borrow(), nil
	}
	if len(f.etcd) > 0 {
		return f.openEtcd(false)
	}
	db, err := store.Open(f.path(), store.Options{Now: f.now})
	if err != nil {
		return nil, fmt.Errorf("open data in %s: %w", f.dir, err)
	}
	return db, nil
}

// diagnose checks the database for `doctor`: the file, or the service's
// open database.
func (f *dataDirFlag) diagnose() (store.Diagnosis, error) {
	if f.shared != nil {
		return f.shared.Diagnose()
	}
	return store.Diagnose(f.path(), store.Options{})
}

// parseDays reads a duration that may be given in days ("30d") as
// operators write expiry thresholds, or as Go durations ("36h").
func parseDays(s string) (time.Duration, error) {
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(d)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("%w: %q is not a number of days", errUsage, s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%w: %q is not a duration like 30d or 12h", errUsage, s)
	}
	return v, nil
}

// errNoProfiles: the store holds no profile yet.
var errNoProfiles = errors.New("no profiles yet")

// selectProfiles returns the named profile, or all of them.
func selectProfiles(db *store.DB, id string) ([]store.Profile, error) {
	if id != "" {
		p, err := db.Profile(id)
		if err != nil {
			return nil, err
		}
		return []store.Profile{p}, nil
	}
	ps, err := db.Profiles()
	if err != nil {
		return nil, err
	}
	if len(ps) == 0 {
		return nil, fmt.Errorf("%w in %s: run `modauth` to set one up, or check --data-dir", errNoProfiles, where(db))
	}
	return ps, nil
}

// where names the store for a person: its data directory, or where in
// etcd it is.
func where(db *store.DB) string {
	if db.InEtcd() {
		return db.Path()
	}
	return db.Dir()
}

// openProfile opens the store and loads the profile a command names with
// --profile. The caller closes the store.
func (f *dataDirFlag) openProfile(id string) (*store.DB, store.Profile, error) {
	if id == "" {
		return nil, store.Profile{}, fmt.Errorf("%w: `--profile` is required", errUsage)
	}
	db, err := f.open()
	if err != nil {
		return nil, store.Profile{}, err
	}
	p, err := db.Profile(id)
	if err != nil {
		db.Close()
		return nil, store.Profile{}, err
	}
	return db, p, nil
}
