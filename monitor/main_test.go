package monitor_test

import (
	"fmt"
	"os"
	"testing"
)

// TestMain runs the tests, or, started by BenchmarkSweep100kUsers50Tenants
// with benchSimEnv set, serves as that benchmark's simulator process.
func TestMain(m *testing.M) {
	if spec := os.Getenv(benchSimEnv); spec != "" {
		if err := serveBenchSim(spec); err != nil {
			fmt.Fprintf(os.Stderr, "bench simulator: %v\n", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}
