package exchange

import (
	"bytes"
	"net/http"
	"strings"
	"time"
)

// The EWS retirement in Exchange Online (microsoft.md §5.1): tenant-by-
// tenant disablement from EWSBlockStart, only allow-listed apps until
// EWSRetirement, none after.
var (
	EWSBlockStart = time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	EWSRetirement = time.Date(2027, 4, 1, 0, 0, 0, 0, time.UTC)
)

// EWSRetired reports whether EWS in Exchange Online is switched off for
// good at t.
func EWSRetired(t time.Time) bool { return !t.Before(EWSRetirement) }

// EWSDaysLeft is the days from t to EWSRetirement, a part day counted
// whole; 0 from then on.
func EWSDaysLeft(t time.Time) int {
	const day = 24 * time.Hour
	return max(0, int((EWSRetirement.Sub(t)+day-1)/day))
}

// blockWords are what a refusal's text may say about EWS; Microsoft does
// not publish the body of its 403 (microsoft.md §9.3), so any one of them
// next to "ews" (or its long name) will do.
var blockWords = []string{"disabled", "blocked", "not allowed", "not enabled", "retired", "denied"}

// ewsBlocked reports whether a 403 without SOAP is Exchange Online's EWS
// block rather than another access policy: never on-premises, never with
// a token challenge; from EWSBlockStart any such 403 is, before it only
// one whose text says so.
func (a *ewsAnswer) ewsBlocked() bool {
	if !a.online || a.status != http.StatusForbidden || a.tokenChallenge() {
		return false
	}
	if !a.at.IsZero() && !a.at.Before(EWSBlockStart) {
		return true
	}
	text := strings.ToLower(string(a.body) + " " + a.header.Get("x-ms-diagnostics"))
	if !strings.Contains(text, "ews") && !strings.Contains(text, "exchange web services") {
		return false
	}
	for _, w := range blockWords {
		if strings.Contains(text, w) {
			return true
		}
	}
	return false
}

// tokenChallenge reports a Bearer challenge with an error: the 403 is
// about the token (insufficient_scope, invalid_token), not a policy.
func (a *ewsAnswer) tokenChallenge() bool {
	for _, h := range a.header.Values("WWW-Authenticate") {
		if strings.HasPrefix(strings.ToLower(strings.TrimSpace(h)), "bearer") && bytes.Contains(bytes.ToLower([]byte(h)), []byte("error=")) {
			return true
		}
	}
	return false
}
