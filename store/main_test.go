package store

import (
	"flag"
	"os"
	"testing"
)

// TestMain bounds how long `go test -fuzz` minimizes each new interesting
// input, for the reason exchange/main_test.go gives (the packages may not
// share test code): FuzzReadUsersCSV's seeds are Excel exports of a few
// hundred bytes, and Go's default minimization, quadratic in an input's
// length, left the only worker of a short run minimizing for most of it.
// -fuzzminimizetime on the command line overrides it.
func TestMain(m *testing.M) {
	if err := flag.Set("test.fuzzminimizetime", "2000x"); err != nil {
		panic(err)
	}
	os.Exit(m.Run())
}
