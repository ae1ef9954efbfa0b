package monitor_test

import (
	"os"
	"testing"

	"github.com/modauth/modauth/internal/benchsim"
)

// TestMain runs the tests, or, started by BenchmarkSweep100kUsers50Tenants
// with benchsim.Env set, serves as that benchmark's simulator process.
func TestMain(m *testing.M) {
	benchsim.ServeIfAsked()
	os.Exit(m.Run())
}
