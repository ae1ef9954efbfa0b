package store

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modauth/modauth/internal/testetcd"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// testPrefix is where the tests keep the store in etcd.
const testPrefix = "modauth-test/"

// startEtcd runs a real etcd for the test; see testetcd.Start.
func startEtcd(t *testing.T) string { return testetcd.Start(t) }

// rawEtcd is a plain client, for reading what the store wrote.
func rawEtcd(t *testing.T, endpoint string) *clientv3.Client { return testetcd.Client(t, endpoint) }

// etcdDB opens the store in a fresh etcd, on the tests' clock unless opts
// name one, and returns it with the etcd's client URL.
func etcdDB(t *testing.T, opts Options) (*DB, string) {
	t.Helper()
	endpoint := startEtcd(t)
	return openEtcdDB(t, []string{endpoint}, opts), endpoint
}

// openEtcdDB opens the store in the etcd at endpoints, on the tests' clock
// and a fresh key file unless opts name them, and closes it at cleanup.
func openEtcdDB(t *testing.T, endpoints []string, opts Options) *DB {
	t.Helper()
	if opts.Now == nil {
		opts.Now = clock(t)
	}
	if opts.KeyFile == "" {
		opts.KeyFile = filepath.Join(t.TempDir(), "modauth.key")
	}
	db, err := OpenEtcd(endpoints, testPrefix, opts)
	if err != nil {
		t.Fatalf("OpenEtcd: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// backends runs a behavioural test on a bbolt file and on a real etcd.
func backends(t *testing.T, opts Options, test func(t *testing.T, db *DB)) {
	t.Run("bbolt", func(t *testing.T) {
		db, _ := testDB(t, opts)
		test(t, db)
	})
	t.Run("etcd", func(t *testing.T) {
		db, _ := etcdDB(t, opts)
		test(t, db)
	})
}

// TestEtcdKeepsNoSecretReadable reads every key and value the store wrote
// under its prefix, raw, as anyone with access to etcd could, and finds
// none of the secrets; the store still returns them whole.
func TestEtcdKeepsNoSecretReadable(t *testing.T) {
	db, endpoint := etcdDB(t, Options{})
	storeCanaries(t, db)
	var dump bytes.Buffer
	must(t, db.Dump(&dump))

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := rawEtcd(t, endpoint).Get(ctx, testPrefix, clientv3.WithPrefix())
	must(t, err)
	if len(resp.Kvs) < 20 {
		t.Fatalf("only %d keys under %s: nothing much to search", len(resp.Kvs), testPrefix)
	}
	places := map[string][]byte{"Dump": dump.Bytes()}
	for _, kv := range resp.Kvs {
		places[string(kv.Key)] = append(bytes.Clone(kv.Key), kv.Value...)
	}
	sealedToken := false
	for name, data := range places {
		for _, canary := range canaries {
			if bytes.Contains(data, []byte(canary)) {
				t.Errorf("etcd key %q contains %s", name, canary)
			}
		}
		sealedToken = sealedToken || bytes.Contains(data, []byte(`"rt":"`))
	}
	if !sealedToken {
		t.Error("no token record found in etcd: the search looked in the wrong place")
	}
	if !strings.Contains(dump.String(), "profiles/acme/certificate = base64:") {
		t.Errorf("Dump does not show the sealed certificate:\n%s", dump.String())
	}
	tok, err := db.Token("acme", "u1")
	must(t, err)
	cert, err := db.ClientCertificate("acme")
	must(t, err)
	if tok.RefreshToken.Reveal() != canaryRT || cert.KeyPKCS8.Reveal() != canaryCertKey {
		t.Error("the sealed secrets did not come back whole")
	}
}

// TestEtcdMonitorsShareOneStore opens the store twice, as two monitors
// would, and appends events from both at once: updates are serializable,
// so every event gets its own sequence number and none is lost.
func TestEtcdMonitorsShareOneStore(t *testing.T) {
	a, endpoint := etcdDB(t, Options{MaxEvents: -1})
	b, err := OpenEtcd([]string{endpoint}, testPrefix, Options{KeyFile: a.keyFile, Now: clock(t), MaxEvents: -1})
	must(t, err)
	t.Cleanup(func() { _ = b.Close() })

	const perWriter = 15
	errs := make(chan error, 4)
	for w, db := range []*DB{a, a, b, b} {
		go func() {
			for i := range perWriter {
				if _, err := db.Append(Event{Kind: "sync", Message: fmt.Sprintf("writer %d event %d", w, i)}); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range 4 {
		must(t, <-errs)
	}
	events, err := b.Events("", 0, 0)
	must(t, err)
	if len(events) != 4*perWriter {
		t.Fatalf("%d events stored, want %d: concurrent updates overwrote each other", len(events), 4*perWriter)
	}
	messages := map[string]bool{}
	for i, e := range events {
		if e.Seq != uint64(i+1) {
			t.Fatalf("event %d has sequence %d: sequences are not consecutive", i, e.Seq)
		}
		messages[e.Message] = true
	}
	if len(messages) != 4*perWriter {
		t.Errorf("%d distinct events, want %d", len(messages), 4*perWriter)
	}
	if seq, _ := a.LastSeq(); seq != 4*perWriter {
		t.Errorf("LastSeq = %d, want %d", seq, 4*perWriter)
	}
}

// TestEtcdRefusesAnotherKey: a monitor with another key file must not
// open, let alone seal with its own key, the store the others share.
func TestEtcdRefusesAnotherKey(t *testing.T) {
	db, endpoint := etcdDB(t, Options{})
	seed(t, db)
	other := filepath.Join(t.TempDir(), "other.key")
	_, err := createKey(other)
	must(t, err)
	_, err = OpenEtcd([]string{endpoint}, testPrefix, Options{KeyFile: other})
	wantErr(t, err, ErrWrongKey, "other.key", "restore the key file")
	_, err = OpenEtcd([]string{endpoint}, testPrefix, Options{KeyFile: filepath.Join(t.TempDir(), "missing.key")})
	wantErr(t, err, ErrWrongKey, "missing.key")
	_, err = OpenEtcd([]string{endpoint}, testPrefix, Options{})
	if err == nil || !strings.Contains(err.Error(), "key file") {
		t.Errorf("OpenEtcd without a key file: %v", err)
	}
}

// TestEtcdSaysWhatOnlyBboltHas: a hot copy and the page check name etcd's
// own tools instead of failing obscurely.
func TestEtcdSaysWhatOnlyBboltHas(t *testing.T) {
	db, _ := etcdDB(t, Options{})
	_, err := db.Backup(io.Discard)
	if err == nil || !strings.Contains(err.Error(), "not available on etcd") || !strings.Contains(err.Error(), "etcdctl snapshot save") {
		t.Errorf("Backup on etcd: %v", err)
	}
	if err := db.Check(); err == nil || !strings.Contains(err.Error(), "not available on etcd") {
		t.Errorf("Check on etcd: %v", err)
	}
	seed(t, db)
	d, err := db.Diagnose()
	must(t, err)
	if !d.Healthy() || len(d.Profiles) != 1 || d.Profiles[0].Users != 2 {
		t.Errorf("Diagnose on etcd: %+v", d)
	}
}

// TestEtcdKeyEncodingKeepsOrder: enc keeps bbolt's byte order and no name's
// encoding is a prefix of another's, so a bucket's keys are one range in
// order and never collide with a nested bucket's.
func TestEtcdKeyEncodingKeepsOrder(t *testing.T) {
	names := [][]byte{{0}, {0, 0}, {0, 1}, {0, 0xFF}, {1}, {0xFF}, {0xFF, 0}, []byte("a"), []byte("a\x00"), []byte("a\x00b"), []byte("a\x01"), []byte("ab")}
	for _, x := range names {
		if got := dec(enc(nil, x)); !bytes.Equal(got, x) {
			t.Errorf("dec(enc(%q)) = %q", x, got)
		}
		for _, y := range names {
			ex, ey := enc(nil, x), enc(nil, y)
			if c := bytes.Compare(ex, ey); c != bytes.Compare(x, y) {
				t.Errorf("enc(%q) vs enc(%q) compares %d, names compare %d", x, y, c, bytes.Compare(x, y))
			}
			if !bytes.Equal(x, y) && bytes.HasPrefix(ey, ex) {
				t.Errorf("enc(%q) is a prefix of enc(%q)", x, y)
			}
		}
	}
}

// TestEtcdAutoBackupWritesNothing: a monitor on etcd sweeps with backups
// on by default; they must not make directories named after the endpoint
// in its working directory, as they once did.
func TestEtcdAutoBackupWritesNothing(t *testing.T) {
	db, _ := etcdDB(t, Options{})
	t.Chdir(t.TempDir())
	path, err := db.AutoBackup(clock(t)(), time.Hour, 3)
	if path != "" || err != nil {
		t.Fatalf("AutoBackup on etcd = %q, %v; want nothing done", path, err)
	}
	if entries, _ := os.ReadDir("."); len(entries) != 0 {
		t.Fatalf("AutoBackup on etcd left %v in the working directory", entries)
	}
}

// TestEtcdFenceRefusesWritesAfterTheLease: writes fenced by a lease land
// while it lives and are refused, whole, once it is gone, as a monitor's
// are once its tenants went to the others.
func TestEtcdFenceRefusesWritesAfterTheLease(t *testing.T) {
	db, endpoint := etcdDB(t, Options{})
	raw := rawEtcd(t, endpoint)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	lease, err := raw.Grant(ctx, 60)
	must(t, err)
	_, err = raw.Put(ctx, "monitors/m1", "m1", clientv3.WithLease(lease.ID))
	must(t, err)
	db.Fence("monitors/m1", int64(lease.ID))
	must(t, db.PutProfile(Profile{ID: "kept", TenantID: "t1"}))

	_, err = raw.Revoke(ctx, lease.ID)
	must(t, err)
	err = db.PutProfile(Profile{ID: "refused", TenantID: "t2"})
	if err == nil || !strings.Contains(err.Error(), "nothing was written") {
		t.Fatalf("a write after the fence's lease ended: %v", err)
	}
	ps, err := db.Profiles()
	must(t, err)
	var ids []string
	for _, p := range ps {
		ids = append(ids, p.ID)
	}
	if !slices.Equal(ids, []string{"kept"}) {
		t.Errorf("profiles after the refused write: %v, want [kept]", ids)
	}
}

// TestEtcdBucketReadWhole: after a few single reads a transaction reads
// a bucket whole; what Get answers stays what it answered one key at a
// time, with the transaction's own writes and deletions over it.
func TestEtcdBucketReadWhole(t *testing.T) {
	backends(t, Options{}, func(t *testing.T, db *DB) {
		name := []byte("whole")
		must(t, db.update(func(tx kvTx) error {
			b, err := tx.CreateBucketIfNotExists(name)
			if err != nil {
				return err
			}
			for i := range 30 {
				must(t, b.Put(fmt.Appendf(nil, "k%02d", i), fmt.Appendf(nil, "v%02d", i)))
			}
			_, err = b.CreateBucketIfNotExists([]byte("nested"))
			return err
		}))
		must(t, db.update(func(tx kvTx) error {
			b := tx.Bucket(name)
			must(t, b.Put([]byte("k25"), []byte("new")))
			must(t, b.Delete([]byte("k26")))
			must(t, b.Put([]byte("k40"), []byte("added")))
			var got []string
			for i := range 42 {
				if v := b.Get(fmt.Appendf(nil, "k%02d", i)); v != nil {
					got = append(got, fmt.Sprintf("%02d=%s", i, v))
				}
			}
			want := []string{}
			for i := range 30 {
				switch i {
				case 25:
					want = append(want, "25=new")
				case 26:
				default:
					want = append(want, fmt.Sprintf("%02d=v%02d", i, i))
				}
			}
			want = append(want, "40=added")
			if !slices.Equal(got, want) {
				t.Errorf("Get key by key:\n%v\nwant\n%v", got, want)
			}
			if b.Get([]byte("nested")) != nil || b.Bucket([]byte("nested")) == nil || b.Bucket([]byte("k01")) != nil {
				t.Error("a nested bucket and a value are mixed up once the bucket is read whole")
			}
			return nil
		}))
	})
}

// TestEtcdGroupCommit: updates made at once from many goroutines share
// transactions (far fewer etcd revisions than three per update: lock,
// commit, unlock), each sees the writes of those before it, and one that
// fails is taken back alone.
func TestEtcdGroupCommit(t *testing.T) {
	db, endpoint := etcdDB(t, Options{})
	raw := rawEtcd(t, endpoint)
	revision := func() int64 {
		resp, err := raw.Get(context.Background(), "any")
		must(t, err)
		return resp.Header.Revision
	}
	must(t, db.update(func(tx kvTx) error { _, err := tx.CreateBucketIfNotExists([]byte("group")); return err }))
	before := revision()
	const n = 64
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			errs <- db.update(func(tx kvTx) error {
				b := tx.Bucket([]byte("group"))
				must(t, b.Put(fmt.Appendf(nil, "k%02d", i), []byte("v")))
				count, _ := strconv.Atoi(string(b.Get([]byte("count"))))
				must(t, b.Put([]byte("count"), []byte(strconv.Itoa(count+1))))
				if i%10 == 3 {
					return fmt.Errorf("update %d fails", i)
				}
				return nil
			})
		})
	}
	wg.Wait()
	close(errs)
	failed := 0
	for err := range errs {
		if err != nil {
			failed++
		}
	}
	revisions := revision() - before
	t.Logf("%d updates in %d etcd revisions", n, revisions)
	if failed != 7 || revisions >= 3*n {
		t.Fatalf("%d updates failed (want 7), %d revisions (one transaction each would make %d)", failed, revisions, 3*n)
	}
	must(t, db.view(func(tx kvTx) error {
		b := tx.Bucket([]byte("group"))
		for i := range n {
			if got, want := b.Get(fmt.Appendf(nil, "k%02d", i)) != nil, i%10 != 3; got != want {
				t.Errorf("key of update %d stored: %v, want %v", i, got, want)
			}
		}
		if got := string(b.Get([]byte("count"))); got != strconv.Itoa(n-7) {
			t.Errorf("count = %s, want %d: an update did not see those before it, or a failed one was kept", got, n-7)
		}
		return nil
	}))
}

// TestEtcdGroupCommitBounded: big updates arriving together are not all
// put in one Txn, which etcd would refuse for its size.
func TestEtcdGroupCommitBounded(t *testing.T) {
	db, endpoint := etcdDB(t, Options{})
	must(t, db.update(func(tx kvTx) error { _, err := tx.CreateBucketIfNotExists([]byte("big")); return err }))
	write := func(g int) func(tx kvTx) error {
		return func(tx kvTx) error {
			b := tx.Bucket([]byte("big"))
			for i := range 4000 {
				if err := b.Put(fmt.Appendf(nil, "g%d-%04d", g, i), []byte("v")); err != nil {
					return err
				}
			}
			return nil
		}
	}
	// Five wait in the queue when the sixth comes: it commits them all.
	var waiting []*pendingUpdate
	for g := range 5 {
		p := &pendingUpdate{fn: write(g), done: make(chan error, 1)}
		db.kv.(*etcdStore).queue.push(p)
		waiting = append(waiting, p)
	}
	must(t, db.update(write(5)))
	for _, p := range waiting {
		must(t, <-p.done)
	}
	resp, err := rawEtcd(t, endpoint).Get(context.Background(), testPrefix, clientv3.WithPrefix(), clientv3.WithKeysOnly())
	must(t, err)
	byRevision := map[int64]int{}
	for _, kv := range resp.Kvs {
		byRevision[kv.ModRevision]++
	}
	for rev, n := range byRevision {
		if n > 14000 { // 10,000 (maxGroupWrites) and the update that passed it
			t.Errorf("one commit (revision %d) wrote %d keys", rev, n)
		}
	}
	if len(resp.Kvs) < 24000 {
		t.Errorf("%d keys stored, want all 24000", len(resp.Kvs))
	}
}
