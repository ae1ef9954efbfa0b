package exchange

import "errors"

// The kinds of answer that are neither a network failure nor a refused
// right: each has its own fix, so callers tell them apart with errors.Is.
var (
	// ErrAuthMethodNotOffered: the server refused the authentication scheme
	// modauth sent (Basic or Bearer) because it does not offer it at all;
	// the credential itself was never judged.
	ErrAuthMethodNotOffered = errors.New("authentication method not offered")
	// ErrLoginPage: a proxy's forms login page answered instead of EWS.
	ErrLoginPage = errors.New("a forms login page answered instead of ews")
	// ErrBadAnswer: the answer could not be read as what was asked for.
	ErrBadAnswer = errors.New("answer not understood")
	// ErrAccessPolicy: an Exchange access policy blocks the app (EWS
	// EwsEnabled/EwsAllowedAppIDs, an Application Access Policy or a
	// CAS mailbox setting), not a missing permission or consent.
	ErrAccessPolicy = errors.New("blocked by an exchange access policy")
	// ErrEWSBlocked: Exchange Online refuses EWS to the app: from
	// 1 October 2026 to apps outside EwsAllowedAppIDs, from 1 April 2027 to
	// all (microsoft.md §5.1, §9.3). It is an ErrAccessPolicy too.
	ErrEWSBlocked = errors.New("ews blocked for this app in exchange online")
)
