package cluster_test

import (
	"testing"

	"github.com/modauth/modauth/internal/benchsim"
)

// TestMain runs the tests, or serves as BenchmarkClusterSweep's simulator.
func TestMain(m *testing.M) { benchsim.Main(m) }
