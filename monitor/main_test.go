package monitor_test

import (
	"testing"

	"github.com/modauth/modauth/internal/benchsim"
)

// TestMain runs the tests, or serves as BenchmarkSweep100kUsers50Tenants's simulator.
func TestMain(m *testing.M) { benchsim.Main(m) }
