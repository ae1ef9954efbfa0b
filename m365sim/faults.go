package m365sim

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

// fault answers the next n requests whose path contains match with an
// error instead of the real handler.
type fault struct {
	match      string
	n          int
	status     int
	retryAfter time.Duration
}

// Throttle makes the next n requests whose path contains match answer 429
// with Retry-After, as the real service does under load.
func (s *Sim) Throttle(match string, n int, retryAfter time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &fault{match: match, n: n, status: http.StatusTooManyRequests, retryAfter: retryAfter})
}

// FailNext makes the next n requests whose path contains match answer with
// status (a 5xx), as during an outage.
func (s *Sim) FailNext(match string, n int, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &fault{match: match, n: n, status: status})
}

// SetLatency adds d of real delay to every request.
func (s *Sim) SetLatency(d time.Duration) {
	s.mu.Lock()
	s.latency = d
	s.mu.Unlock()
}

// RevokeSessions revokes every refresh token of the user, as "Revoke
// sessions" in the portal does: the next refresh fails with AADSTS50173.
func (s *Sim) RevokeSessions(u *User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, g := range s.refresh {
		if g.user == u {
			g.revoked = true
		}
	}
}

// AgeRefreshTokens makes the user's refresh tokens look unused for d, so
// that d past 90 days gives AADSTS700082 on the next refresh.
func (s *Sim) AgeRefreshTokens(u *User, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, g := range s.refresh {
		if g.user == u {
			g.lastUsed = g.lastUsed.Add(-d)
		}
	}
}

// RequireMFA makes Conditional Access require MFA for the user from now on:
// refresh tokens from sign-ins without MFA fail with AADSTS50076, and the
// next interactive sign-in (which then includes MFA) satisfies it.
func (s *Sim) RequireMFA(u *User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mfa[u.ObjectID] = s.Clock.Now()
}

// BlockDeviceCode turns a Conditional Access policy blocking the device
// code flow on or off. While on, device-code sign-ins fail with AADSTS53003,
// and so do refreshes of tokens first obtained by device code (protocol
// tracking, microsoft.md §8).
func (s *Sim) BlockDeviceCode(on bool) {
	s.mu.Lock()
	s.blockDev = on
	s.mu.Unlock()
}

// SlowDownNext makes the next n device-code polls answer slow_down.
func (s *Sim) SlowDownNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &fault{match: "#slow_down", n: n})
}

// takeFault consumes one matching fault. Callers hold s.mu.
func (s *Sim) takeFault(path string) *fault {
	for i, f := range s.faults {
		if f.n > 0 && strings.Contains(path, f.match) {
			f.n--
			if f.n == 0 {
				s.faults = append(s.faults[:i], s.faults[i+1:]...)
			}
			return f
		}
	}
	return nil
}

// middleware counts requests, adds latency and injects faults.
func (s *Sim) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.requests[r.URL.Path]++
		latency := s.latency
		f := s.takeFault(r.URL.Path)
		s.mu.Unlock()
		// Mailbox calls wait inside their handler, while they count
		// against the mailbox's concurrency limit (graph_mailbox.go).
		if rt, _ := matchMailboxRoute(r.URL.Path); latency > 0 && rt == nil {
			select {
			case <-time.After(latency):
			case <-r.Context().Done():
				return
			}
		}
		if f == nil {
			next.ServeHTTP(w, r)
			return
		}
		if f.retryAfter > 0 {
			w.Header().Set("Retry-After", fmt.Sprint(int(f.retryAfter.Seconds())))
		}
		if f.status == http.StatusTooManyRequests {
			s.writeError(w, aad(f.status, "temporarily_unavailable", 90055, "The request was throttled. The tenant is sending too many requests; retry after the interval in the Retry-After header."))
			return
		}
		s.writeError(w, aad(f.status, "temporarily_unavailable", 90033, "A transient error has occurred. Please try again."))
	})
}
