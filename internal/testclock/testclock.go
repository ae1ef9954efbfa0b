// Package testclock is the one place tests take "now" from.
//
// Every clock a test injects (the simulator's, the store's, the engine's,
// the interface's) starts at Start: the instant in $MODAUTH_TEST_NOW, or
// Default. It then stands still unless the test moves it, so a run gives
// the same times on every day, and .ci/run repeats the suite at awkward
// instants (month ends, a leap day, Europe/Amsterdam's DST changes, a
// second before midnight) by setting the variable.
package testclock

import (
	"os"
	"testing"
	"time"
)

// Env names the variable that sets the tests' start instant, in RFC 3339
// to the second: MODAUTH_TEST_NOW=2028-02-29T12:00:00Z.
const Env = "MODAUTH_TEST_NOW"

// Default is the start instant without the variable: an ordinary Tuesday
// afternoon, off the hour and the minute, so nothing lines up by luck.
var Default = time.Date(2026, 11, 17, 14, 37, 21, 0, time.UTC)

// Start returns the instant tests start at, in the local time zone as
// time.Now gives it, so that TZ=Europe/Amsterdam reaches the code's
// formatting too. A malformed variable fails t.
func Start(t testing.TB) time.Time {
	t.Helper()
	v := os.Getenv(Env)
	if v == "" {
		return Default.Local()
	}
	at, err := time.Parse(time.RFC3339, v)
	if err != nil || at.Nanosecond() != 0 {
		t.Fatalf("%s=%s is not an instant in RFC 3339 to the second: write it like 2028-02-29T12:00:00Z, or unset it for the default", Env, v)
	}
	return at.Local()
}
