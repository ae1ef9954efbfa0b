package store

import (
	"fmt"
	"log/slog"
)

// Secret holds a client secret, refresh token or access token in memory.
//
// It never prints itself: every fmt verb, JSON encoding and slog attribute
// shows a fixed mask, so a Secret that slips into a log line, an error or an
// export leaks nothing. Reveal is the one way to get the value, and is only
// called where the value goes on the wire or into the sealer.
type Secret string

const mask = "••••••"

// Reveal returns the secret value.
func (s Secret) Reveal() string { return string(s) }

// IsZero reports whether no secret is set.
func (s Secret) IsZero() bool { return s == "" }

// String returns a fixed mask, or "" for an empty secret.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return mask
}

// Hint returns the first three characters followed by the mask, the same
// hint Microsoft Entra shows for a client secret. Only for client secrets:
// a refresh token's prefix says nothing useful.
func (s Secret) Hint() string {
	if len(s) < 8 {
		return s.String()
	}
	return string(s[:3]) + mask
}

// Format masks the secret for every verb, including %#v and %x.
func (s Secret) Format(f fmt.State, verb rune) { fmt.Fprint(f, s.String()) }

// GoString masks the secret for %#v.
func (s Secret) GoString() string { return s.String() }

// MarshalText masks the secret, so encoding/json and encoding/csv never see it.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// LogValue masks the secret in log/slog output.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }
