package flows

import (
	"flag"
	"os"
	"testing"
)

// TestMain bounds how long `go test -fuzz` minimizes each new interesting
// input, for the reason exchange/main_test.go gives (the two packages may
// not share test code): FuzzParseError's seeds are token-endpoint bodies of
// up to 1.3 KB. -fuzzminimizetime on the command line overrides it.
func TestMain(m *testing.M) {
	if err := flag.Set("test.fuzzminimizetime", "2000x"); err != nil {
		panic(err)
	}
	os.Exit(m.Run())
}
