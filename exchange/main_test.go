package exchange

import (
	"flag"
	"os"
	"testing"
)

// fuzzMinimizeBudget bounds how long `go test -fuzz` minimizes each new
// interesting input. Go's default (60 s) includes a pass that is quadratic
// in the input's length; with the realistic seeds here (SOAP answers and
// token-endpoint bodies of 0.5 to 1.3 KB) the one worker of a short run on a
// loaded machine spent the whole -fuzztime minimizing the first mutation of
// a seed, reporting 0 execs/s and trying no new input. 2000 executions
// still cover the linear passes (cut the tail, drop single bytes).
// -fuzzminimizetime on the command line overrides it.
const fuzzMinimizeBudget = "2000x"

func TestMain(m *testing.M) {
	if err := flag.Set("test.fuzzminimizetime", fuzzMinimizeBudget); err != nil {
		panic(err)
	}
	os.Exit(m.Run())
}
