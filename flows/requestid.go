package flows

import (
	"crypto/rand"
	"fmt"
	"strings"
)

// modauth signs in with the product's own app, so Entra's sign-in log
// holds modauth's sign-ins beside the product's. Every request modauth
// sends the identity platform carries a client-request-id, which Entra
// logs as the sign-in's correlationId; the ID starts with ownPrefix
// ("moda" in hex), so the monitor can tell its own sign-ins apart.
const ownPrefix = "6d6f6461-"

// newRequestID is a random GUID that starts with ownPrefix.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // RFC 4122 variant
	return fmt.Sprintf("%s%x-%x-%x-%x", ownPrefix, b[4:6], b[6:8], b[8:10], b[10:16])
}

// OwnRequest reports whether a sign-in's correlation ID is one modauth
// sent: the sign-in was modauth's, not the product's.
func OwnRequest(correlationID string) bool {
	return strings.HasPrefix(strings.ToLower(correlationID), ownPrefix)
}
