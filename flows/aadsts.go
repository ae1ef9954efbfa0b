package flows

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Kind groups errors by what the caller must do; the monitor maps kinds to
// user states.
type Kind int

const (
	KindUnknown              Kind = iota
	KindInvalidRequest            // malformed request, wrong scope, multiple resources
	KindTenantNotFound            // 90002
	KindClientNotFound            // 700016, 700011
	KindInvalidSecret             // 7000215 (incl. Secret ID pasted instead of value)
	KindSecretExpired             // 7000222
	KindPublicClientOff           // 7000218 (device code without "Allow public client flows"), 700025
	KindRedirectMismatch          // 50011, 500113, 900971
	KindConsentRequired           // 65001, 650056, 650057, consent_required
	KindAdminConsentRequired      // 90094, 90095
	KindConsentDeclined           // 65004
	KindSignInNeeded              // refresh token dead: 70000, 70008, 700082, ...; invalid_grant in general
	KindMFARequired               // 50076, 50079, 50074, 50072
	KindBlockedByPolicy           // 53003, 53000, 53001, 530003, 50097, 530032, 530035
	KindUserNotFound              // 50034, 50020, 50105 (not assigned)
	KindAccountDisabled           // 50053, 50057, 50055, 50126
	KindServiceMissing            // 650052, 500011
	KindPending                   // 70016 authorization_pending
	KindSlowDown                  // slow_down
	KindDeclined                  // authorization_declined
	KindExpired                   // 70019 expired_token
	KindBadUserCode               // 70018 bad_verification_code
	KindThrottled                 // HTTP 429, 50196, 90055
	KindUnavailable               // HTTP 5xx, temporarily_unavailable, server_error
)

var kindNames = [...]string{
	KindUnknown:              "unknown",
	KindInvalidRequest:       "invalid-request",
	KindTenantNotFound:       "tenant-not-found",
	KindClientNotFound:       "client-not-found",
	KindInvalidSecret:        "invalid-secret",
	KindSecretExpired:        "secret-expired",
	KindPublicClientOff:      "public-client-off",
	KindRedirectMismatch:     "redirect-mismatch",
	KindConsentRequired:      "consent-required",
	KindAdminConsentRequired: "admin-consent-required",
	KindConsentDeclined:      "consent-declined",
	KindSignInNeeded:         "sign-in-needed",
	KindMFARequired:          "mfa-required",
	KindBlockedByPolicy:      "blocked-by-policy",
	KindUserNotFound:         "user-not-found",
	KindAccountDisabled:      "account-disabled",
	KindServiceMissing:       "service-missing",
	KindPending:              "pending",
	KindSlowDown:             "slow-down",
	KindDeclined:             "declined",
	KindExpired:              "expired",
	KindBadUserCode:          "bad-user-code",
	KindThrottled:            "throttled",
	KindUnavailable:          "unavailable",
}

// String returns the kind in kebab case, e.g. "consent-required".
func (k Kind) String() string {
	if k >= 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Sentinels for the kinds a caller acts on, so that callers can write
// errors.Is(err, flows.ErrSignInNeeded).
var (
	ErrTenantNotFound       = errors.New("tenant not found")
	ErrClientNotFound       = errors.New("app not found in tenant")
	ErrInvalidSecret        = errors.New("invalid client credential")
	ErrSecretExpired        = errors.New("client secret expired")
	ErrPublicClientOff      = errors.New("public client flows not allowed")
	ErrRedirectMismatch     = errors.New("redirect uri mismatch")
	ErrConsentRequired      = errors.New("consent required")
	ErrAdminConsentRequired = errors.New("admin consent required")
	ErrConsentDeclined      = errors.New("consent declined")
	ErrSignInNeeded         = errors.New("sign-in needed")
	ErrMFARequired          = errors.New("multi-factor authentication required")
	ErrBlockedByPolicy      = errors.New("blocked by policy")
	ErrUserNotFound         = errors.New("user not found")
	ErrAccountDisabled      = errors.New("account disabled or locked")
	ErrServiceMissing       = errors.New("service missing in tenant")
	ErrThrottled            = errors.New("throttled")
	ErrUnavailable          = errors.New("identity platform unavailable")
	ErrDeclined             = errors.New("sign-in declined")
	ErrExpired              = errors.New("sign-in code expired")
)

var sentinels = map[Kind]error{
	KindTenantNotFound:       ErrTenantNotFound,
	KindClientNotFound:       ErrClientNotFound,
	KindInvalidSecret:        ErrInvalidSecret,
	KindSecretExpired:        ErrSecretExpired,
	KindPublicClientOff:      ErrPublicClientOff,
	KindRedirectMismatch:     ErrRedirectMismatch,
	KindConsentRequired:      ErrConsentRequired,
	KindAdminConsentRequired: ErrAdminConsentRequired,
	KindConsentDeclined:      ErrConsentDeclined,
	KindSignInNeeded:         ErrSignInNeeded,
	KindMFARequired:          ErrMFARequired,
	KindBlockedByPolicy:      ErrBlockedByPolicy,
	KindUserNotFound:         ErrUserNotFound,
	KindAccountDisabled:      ErrAccountDisabled,
	KindServiceMissing:       ErrServiceMissing,
	KindThrottled:            ErrThrottled,
	KindUnavailable:          ErrUnavailable,
	KindDeclined:             ErrDeclined,
	KindExpired:              ErrExpired,
}

// Entry is what the catalog knows of one AADSTS code.
type Entry struct {
	Code    int
	Name    string // Microsoft's name where it has one, e.g. "DelegationDoesNotExist"
	Kind    Kind
	Meaning string // lower-case fragment, used in Error
	Cause   string // the likely cause, in sentences
	Fix     string // what to do in Entra ID, Exchange admin or modauth
}

// Lookup returns the catalog entry of an AADSTS code.
func Lookup(code int) (Entry, bool) {
	e, ok := catalog[code]
	return e, ok
}

// Error is a failed request to the identity platform, parsed from its error
// body.
type Error struct {
	Status        int    // HTTP status, 0 if it came from a redirect
	Err           string // the OAuth "error" field: invalid_grant, authorization_pending...
	Codes         []int  // error_codes
	Description   string // error_description, first line only (the "AADSTSnnnn: text" line), trimmed
	SubError      string
	TraceID       string
	CorrelationID string
	Timestamp     string
	Claims        string        // Conditional Access claims challenge, if any
	RetryAfter    time.Duration // from a 429/503 Retry-After header (set by ParseResponse)
	Kind          Kind
	Entry         *Entry // nil when the code is not in the catalog
}

// Code returns the first of Codes, or the AADSTS number in Description, or 0.
func (e *Error) Code() int {
	for _, c := range e.Codes {
		if c > 0 {
			return c
		}
	}
	return codeIn(e.Description)
}

// Error returns one short line. The description's trace lines and the body
// are left out: they are in the fields, and Fix says what to do.
func (e *Error) Error() string {
	code := e.Code()
	if ent, ok := e.entry(); ok {
		return fmt.Sprintf("aadsts%d %s: %s", ent.Code, nameToWords(ent.Name), ent.Meaning)
	}
	if code != 0 {
		msg := fmt.Sprintf("aadsts%d (not in catalog)", code)
		// The description repeats the code; drop it.
		d := strings.TrimSpace(strings.TrimPrefix(e.Description, fmt.Sprintf("AADSTS%d:", code)))
		if d == "" {
			d = e.Err
		}
		return joinDetail(msg, d)
	}
	switch {
	case e.Err != "":
		return joinDetail(e.Err, e.Description)
	case e.Status != 0:
		return joinDetail("http "+strconv.Itoa(e.Status), e.Description)
	}
	return joinDetail("identity platform error", e.Description)
}

// Is reports whether target is the sentinel of e.Kind.
func (e *Error) Is(target error) bool {
	s, ok := sentinels[e.Kind]
	return ok && target == s
}

// Fix tells a person what to do about e.
func (e *Error) Fix() string {
	if ent, ok := e.entry(); ok {
		return ent.Fix
	}
	where := "at the time of the failure"
	if e.TraceID != "" {
		where = "for trace ID " + e.TraceID
	}
	if code := e.Code(); code != 0 {
		return fmt.Sprintf("AADSTS%d is not in modauth's catalog; look it up at https://login.microsoftonline.com/error?code=%d and search the sign-in logs %s.", code, code, where)
	}
	if fix, ok := kindFixes[e.Kind]; ok {
		return fix
	}
	return "modauth does not recognise this error; search the Entra ID sign-in logs (Monitoring & health > Sign-in logs) " + where + "."
}

// entry is e.Entry, or the catalog's entry when e was built by hand.
func (e *Error) entry() (Entry, bool) {
	if e.Entry != nil {
		return *e.Entry, true
	}
	return Lookup(e.Code())
}

// Fixes for errors that carry no AADSTS code, such as device-flow polling
// answers and gateway failures.
var kindFixes = map[Kind]string{
	KindInvalidRequest:  "The identity platform rejected the request as malformed. Check the profile's tenant, client ID, redirect URI and scopes (one resource per token request).",
	KindConsentRequired: "Consent is missing: an admin grants it under Entra ID > App registrations > <app> > API permissions > Grant admin consent, or the user accepts the permissions during a browser sign-in.",
	KindSignInNeeded:    "The saved sign-in can no longer be used: the user signs in again.",
	KindPending:         "Nothing to do yet: the user has not finished signing in, and modauth keeps polling.",
	KindSlowDown:        "modauth polled too fast; it waits 5 seconds longer between polls.",
	KindDeclined:        "The user declined the sign-in. Start it again if that was a mistake.",
	KindExpired:         "The sign-in code expired before the user finished: start the sign-in again and enter the new code within 15 minutes.",
	KindBadUserCode:     "The code entered was wrong: the user types it again exactly as shown, or starts a new sign-in.",
	KindThrottled:       "Microsoft is throttling requests: wait a few minutes before trying again, and sync fewer users at the same time if it keeps happening.",
	KindUnavailable:     "The Microsoft identity platform had a temporary problem: try again in a few minutes, and check Microsoft 365 service health if it persists.",
}

// Kinds of the OAuth "error" field, for codes the catalog doesn't know.
// invalid_client is left out: without a code it can be any credential problem.
var errKinds = map[string]Kind{
	"authorization_pending":   KindPending,
	"slow_down":               KindSlowDown,
	"authorization_declined":  KindDeclined,
	"access_denied":           KindDeclined,
	"expired_token":           KindExpired,
	"bad_verification_code":   KindBadUserCode,
	"consent_required":        KindConsentRequired,
	"interaction_required":    KindSignInNeeded,
	"login_required":          KindSignInNeeded,
	"invalid_grant":           KindSignInNeeded,
	"temporarily_unavailable": KindUnavailable,
	"server_error":            KindUnavailable,
	"invalid_scope":           KindInvalidRequest,
	"invalid_request":         KindInvalidRequest,
	"unsupported_grant_type":  KindInvalidRequest,
}

// classify sets Entry and Kind: the catalog first, since the code is the most
// precise; then the OAuth error; then the HTTP status.
func (e *Error) classify() {
	if ent, ok := Lookup(e.Code()); ok {
		e.Entry, e.Kind = &ent, ent.Kind
		return
	}
	e.Kind = errKinds[e.Err]
	switch {
	case e.Status == http.StatusTooManyRequests && (e.Kind == KindUnknown || e.Kind == KindUnavailable):
		// A 429 is throttling whatever its body says, and RetryAfter applies.
		e.Kind = KindThrottled
	case e.Kind == KindUnknown && e.Status >= 500 && e.Status < 600:
		e.Kind = KindUnavailable
	}
}
