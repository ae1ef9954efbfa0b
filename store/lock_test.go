package store

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const helperEnv = "MODAUTH_STORE_HELPER_DB"

// TestHelperProcess is not a test: TestOpenLockedByAnotherProcess runs the
// test binary again with only this function, as the "other process" that
// holds the database open. It prints "ready" once the file is locked and
// holds it until its stdin closes.
func TestHelperProcess(t *testing.T) {
	path := os.Getenv(helperEnv)
	if path == "" {
		t.Skip("helper process for TestOpenLockedByAnotherProcess")
	}
	db, err := Open(path, Options{})
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(2)
	}
	fmt.Println("ready")
	done := make(chan struct{})
	go func() { _, _ = bufio.NewReader(os.Stdin).ReadString('\n'); close(done) }()
	select {
	case <-done:
	case <-time.After(time.Minute): // never outlive a crashed parent for long
	}
	_ = db.Close()
	os.Exit(0)
}

func TestOpenLockedByAnotherProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "modauth.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), helperEnv+"="+path)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	must(t, err)
	stdout, err := cmd.StdoutPipe()
	must(t, err)
	must(t, cmd.Start())
	t.Cleanup(func() {
		_ = stdin.Close()
		_ = cmd.Wait()
	})
	// Skip anything the test framework prints before the helper's line.
	lines := bufio.NewScanner(stdout)
	for lines.Scan() && lines.Text() != "ready" {
		if strings.HasPrefix(lines.Text(), "error:") {
			t.Fatalf("helper process: %s", lines.Text())
		}
	}
	if lines.Text() != "ready" {
		t.Fatalf("helper process exited before opening the database: %v", lines.Err())
	}

	start := time.Now() // real time: the lock timeout is a real wait (DESIGN: fails within a second)
	db, err := Open(path, Options{})
	elapsed := time.Since(start)
	if err == nil {
		_ = db.Close()
	}
	wantErr(t, err, ErrLocked, path, "another modauth process", "--data-dir")
	if elapsed >= time.Second {
		t.Errorf("Open took %v to fail, want under a second", elapsed)
	}

	// Once the other process lets go, the file opens.
	_ = stdin.Close()
	must(t, cmd.Wait())
	mustOpen(t, path, Options{})
}

func TestOpenLockedInSameProcess(t *testing.T) {
	_, path := testDB(t, Options{})
	start := time.Now() // real time: the lock timeout is a real wait (DESIGN: fails within a second)
	db, err := Open(path, Options{})
	elapsed := time.Since(start)
	if err == nil {
		_ = db.Close()
	}
	wantErr(t, err, ErrLocked, "open "+path+": database is in use by another modauth process")
	if elapsed >= time.Second {
		t.Errorf("Open took %v to fail, want under a second", elapsed)
	}
}
