package flows

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
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

const (
	maxRaw   = 200 // bytes of a non-OAuth body's excerpt kept in Description
	maxField = 500 // bytes kept of any field of an OAuth error
)

// ParseError builds an Error from a token, devicecode or discovery response
// body. It accepts the JSON body (its first object, as decodeFirstJSONObject
// reads it), a form-encoded body, or anything else (then Err is empty and
// Description is a short excerpt of the body without credentials, see
// bodyExcerpt). It never fails and never panics.
func ParseError(status int, body []byte) *Error {
	e := &Error{Status: status}
	if !parseJSONBody(e, body) && !parseFormBody(e, body) {
		e.Description = bodyExcerpt(body)
	}
	e.classify()
	return e
}

// ParseResponse is ParseError plus the Retry-After header, which may be
// seconds or an HTTP date (taken relative to now).
func ParseResponse(resp *http.Response, body []byte, now time.Time) *Error {
	if resp == nil {
		return ParseError(0, body)
	}
	e := ParseError(resp.StatusCode, body)
	e.RetryAfter = retryAfter(resp.Header.Get("Retry-After"), now)
	return e
}

// ParseRedirectError builds an Error from the query of a redirect back from
// the authorize endpoint. That endpoint sends only error and
// error_description, so the code, trace ID and correlation ID are read from
// the description when no field carries them.
func ParseRedirectError(q url.Values) *Error {
	e := &Error{}
	fillFromValues(e, q)
	e.classify()
	return e
}

func parseJSONBody(e *Error, body []byte) bool {
	var b struct {
		Error         string `json:"error"`
		Description   string `json:"error_description"`
		Codes         []int  `json:"error_codes"`
		SubError      string `json:"suberror"`
		TraceID       string `json:"trace_id"`
		CorrelationID string `json:"correlation_id"`
		Timestamp     string `json:"timestamp"`
		Claims        string `json:"claims"`
	}
	if !decodeFirstJSONObject(body, &b) {
		return false
	}
	if b.Error == "" && b.Description == "" && len(b.Codes) == 0 {
		return false
	}
	e.Codes = b.Codes
	e.SubError, e.Claims = b.SubError, b.Claims
	e.TraceID, e.CorrelationID, e.Timestamp = b.TraceID, b.CorrelationID, b.Timestamp
	fillFromFields(e, b.Error, b.Description)
	return true
}

func parseFormBody(e *Error, body []byte) bool {
	q, _ := url.ParseQuery(string(body)) // keep whatever parsed
	if q.Get("error") == "" {
		return false
	}
	fillFromValues(e, q)
	return true
}

func fillFromValues(e *Error, q url.Values) {
	for _, v := range q["error_codes"] {
		for f := range strings.SplitSeq(v, ",") {
			if c, err := strconv.Atoi(strings.TrimSpace(f)); err == nil && c > 0 {
				e.Codes = append(e.Codes, c)
			}
		}
	}
	e.SubError, e.Claims = q.Get("suberror"), q.Get("claims")
	e.TraceID, e.CorrelationID, e.Timestamp = q.Get("trace_id"), q.Get("correlation_id"), q.Get("timestamp")
	fillFromFields(e, q.Get("error"), q.Get("error_description"))
}

// fillFromFields sets Err and Description, takes the trace, correlation and
// timestamp lines of a full description for fields that are still empty,
// and cleans every field so that none can break a log line.
func fillFromFields(e *Error, oauthErr, desc string) {
	first, rest, _ := strings.Cut(strings.ReplaceAll(desc, "\r", "\n"), "\n")
	for line := range strings.SplitSeq(rest, "\n") {
		name, val, ok := strings.Cut(line, ":")
		val = strings.TrimSpace(val)
		switch {
		case !ok:
		case name == "Trace ID" && e.TraceID == "":
			e.TraceID = val
		case name == "Correlation ID" && e.CorrelationID == "":
			e.CorrelationID = val
		case name == "Timestamp" && e.Timestamp == "":
			e.Timestamp = val
		}
	}
	e.Err = cleanText(oauthErr, maxField)
	e.Description = cleanText(first, maxField)
	e.SubError = cleanText(e.SubError, maxField)
	e.TraceID = cleanText(e.TraceID, maxField)
	e.CorrelationID = cleanText(e.CorrelationID, maxField)
	e.Timestamp = cleanText(e.Timestamp, maxField)
	e.Claims = strings.ToValidUTF8(e.Claims, "\uFFFD") // JSON: kept as sent
}

// cleanText makes s one line of valid UTF-8 of at most max bytes: control
// characters and line separators become spaces, runs of spaces collapse.
func cleanText(s string, max int) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strings.TrimSpace(s[:cut])
}

// codeIn returns the number after the first "AADSTS" in s, or 0.
func codeIn(s string) int {
	_, after, ok := strings.Cut(s, "AADSTS")
	if !ok {
		return 0
	}
	n := 0
	for n < len(after) && n < 9 && after[n] >= '0' && after[n] <= '9' {
		n++
	}
	code, _ := strconv.Atoi(after[:n])
	return code
}

func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 32); err == nil {
		return max(0, time.Duration(secs)*time.Second)
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(0, t.Sub(now))
	}
	return 0
}

func joinDetail(head, detail string) string {
	if detail == "" {
		return head
	}
	return head + ": " + detail
}

// nameToWords turns a catalog name into lower-case words:
// "InvalidClientSecret" → "invalid client secret",
// "UnauthorizedClient_DoesNotMatchRequest" → "unauthorized client does not match request".
// Acronym runs stay together ("MFARequired" → "mfa required"), and so does
// Microsoft's "AuthN".
func nameToWords(name string) string {
	isUpper := func(i int) bool { return i < len(name) && name[i] >= 'A' && name[i] <= 'Z' }
	isLower := func(i int) bool { return i < len(name) && name[i] >= 'a' && name[i] <= 'z' }
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		if name[i] == '_' {
			b.WriteByte(' ')
			continue
		}
		if i > 0 && isUpper(i) && name[i-1] != '_' {
			afterLower := !isUpper(i - 1)
			endsAcronym := isUpper(i-1) && isLower(i+1)
			oneLetterSuffix := isUpper(i+1) && isLower(i+2) // the N of AuthNRequired
			if endsAcronym || afterLower && !oneLetterSuffix {
				b.WriteByte(' ')
			}
		}
		b.WriteString(strings.ToLower(name[i : i+1]))
	}
	return b.String()
}

// indexEntries keys entries by code. A duplicate is a bug in the table below.
func indexEntries(entries []Entry) map[int]Entry {
	m := make(map[int]Entry, len(entries))
	for _, e := range entries {
		if _, dup := m[e.Code]; dup {
			panic(fmt.Sprintf("flows: AADSTS%d is in the catalog twice", e.Code))
		}
		m[e.Code] = e
	}
	return m
}

// Texts shared by entries of one family.
const (
	fixClientID = "In Entra ID > App registrations, open the app and copy the Application (client) ID and the Directory (tenant) ID from its Overview page into the modauth profile. If the app lives in another tenant (a multi-tenant app), an admin of this tenant must first grant consent with the admin consent URL that modauth shows."
	fixCert     = "In Entra ID > App registrations > <app> > Certificates & secrets > Certificates, upload the public part (.cer) of the certificate modauth signs with, and check that its thumbprint matches the one in the modauth profile. If the certificate was replaced, upload the new one."
	fixSignIn   = "The user signs in again; modauth then stores the new refresh token."
	fixPassword = "The user signs in again with the current password (after resetting it if it has expired); modauth then stores the new refresh token."
	fixBadReq   = "Check the profile's tenant, client ID, redirect URI and scopes. If they are all right, the request itself is faulty: report it with the trace ID."
	fixOneRes   = "Ask for one resource per token request: the Exchange token with https://outlook.office365.com/... scopes only, and a separate Graph token with the same refresh token. openid, profile, email and offline_access may go with either."
	fixDevice   = "Device code sign-in cannot prove which device the user is on. Sign in with the browser on a managed, compliant device instead, or ask the admin to exclude this app from the device-based Conditional Access policy."
	fixMFAReg   = "The user registers a second factor (for example Microsoft Authenticator) at https://aka.ms/mysecurityinfo, then signs in again."
)

var catalog = indexEntries([]Entry{
	// Client credentials: the app's secret or certificate.
	{Code: 7000215, Name: "InvalidClientSecret", Kind: KindInvalidSecret,
		Meaning: "the value sent is not a valid secret for this app (is it the Secret ID?)",
		Cause:   "The client secret in modauth is wrong. Most often the Secret ID (a GUID) was copied instead of the secret's Value. It can also be a secret of another app, a value cut short while pasting, or a secret that was deleted.",
		Fix:     "In Entra ID > App registrations > <app> > Certificates & secrets, copy the secret's Value column (shown only once, right after the secret is created), not the Secret ID. If the value is lost, create a new secret, enter its Value in modauth, and delete the old secret."},
	{Code: 7000222, Name: "InvalidClientSecretExpiredKeysProvided", Kind: KindSecretExpired,
		Meaning: "the client secret has expired",
		Cause:   "The secret passed its expiry date (at most 24 months after it was created). Every mailbox that uses this app stops at the same moment.",
		Fix:     "In Entra ID > App registrations > <app> > Certificates & secrets, create a new client secret, copy its Value and enter it in modauth, then delete the expired secret. Note the new expiry date, or move to a certificate."},
	{Code: 700024, Name: "ClientAssertionNotWithinValidTimeRange", Kind: KindInvalidSecret,
		Meaning: "the client assertion is expired or not yet valid",
		Cause:   "The clock of the machine running modauth is off by minutes, or local time is being sent as UTC.",
		Fix:     "Synchronise the machine's clock (NTP) and try again; modauth signs a new assertion for every request."},
	{Code: 700027, Name: "ClientAssertionSignatureInvalid", Kind: KindInvalidSecret,
		Meaning: "the client assertion's signature did not validate",
		Cause:   "The certificate modauth signs with is not among the certificates uploaded to the app, or it was removed.",
		Fix:     fixCert},
	{Code: 50012, Name: "AuthenticationFailed", Kind: KindInvalidSecret,
		Meaning: "the app's certificate or client assertion was not accepted",
		Cause:   "The signing certificate is unknown to the app, expired, not trusted, or its thumbprint does not match.",
		Fix:     fixCert},

	// Public client flows (device code).
	{Code: 7000218, Name: "MissingClientCredential", Kind: KindPublicClientOff,
		Meaning: "the app expects a client secret or certificate, but none was sent",
		Cause:   "Device code sign-in was used on an app registration that does not allow public client flows. Less often, a web app's secret is missing from the modauth profile.",
		Fix:     "For device code sign-in: in Entra ID > App registrations > <app> > Authentication > Advanced settings, set Allow public client flows to Yes and save. For a web app that uses a secret: enter the client secret in the modauth profile."},
	{Code: 700025, Name: "InvalidClientPublicClientWithCredential", Kind: KindPublicClientOff,
		Meaning: "the app is a public client, so it must not send a secret or certificate",
		Cause:   "The app registration is a public client (Allow public client flows is Yes), but the request carried a client secret, for example when refreshing a token from a device code sign-in.",
		Fix:     "Remove the client secret from this modauth profile. If the app really is a web app that uses a secret, set Allow public client flows to No under Authentication > Advanced settings instead, and have the users sign in again."},

	// App and tenant identity.
	{Code: 700016, Name: "UnauthorizedClient_DoesNotMatchRequest", Kind: KindClientNotFound,
		Meaning: "no app with this client ID exists in this tenant",
		Cause:   "The client ID is mistyped, belongs to another tenant, or the app was deleted. A multi-tenant app also gets this in a tenant where nobody has consented to it yet.",
		Fix:     fixClientID},
	{Code: 700011, Name: "UnauthorizedClientAppNotFoundInOrgIdTenant", Kind: KindClientNotFound,
		Meaning: "the client app was not found in the organization's tenant",
		Cause:   "The client ID is mistyped, belongs to another tenant, or the app was deleted.",
		Fix:     fixClientID},
	{Code: 90002, Name: "InvalidTenantName", Kind: KindTenantNotFound,
		Meaning: "the tenant was not found",
		Cause:   "The tenant ID or domain in the profile is mistyped, belongs to another cloud (such as a national cloud), or the domain is not verified in any tenant.",
		Fix:     "Copy the Directory (tenant) ID from Entra ID > Overview into the modauth profile; a GUID is safer than a domain name. For a national cloud, set the profile's authority host to that cloud's sign-in address."},
	{Code: 50194, Name: "SingleTenantAppOnCommonEndpoint", Kind: KindInvalidRequest,
		Meaning: "the app is single-tenant, so it cannot sign in through /common",
		Cause:   "The profile's tenant is common, but the app registration only accepts accounts of its own tenant.",
		Fix:     "Set the profile's tenant to the Directory (tenant) ID instead of common. If the app must serve several tenants, set Supported account types to multiple organizations under Authentication in the app registration."},
	{Code: 9001023, Name: "GrantTypeNotSupportedOnCommon", Kind: KindInvalidRequest,
		Meaning: "this kind of sign-in is not supported on /common or /consumers",
		Cause:   "The profile's tenant is common or consumers, and this grant (such as client credentials) needs a real tenant.",
		Fix:     "Set the profile's tenant to the Directory (tenant) ID or the tenant's domain (or organizations) instead of common."},

	// Redirect URIs.
	{Code: 50011, Name: "InvalidReplyTo", Kind: KindRedirectMismatch,
		Meaning: "the redirect URI does not match any registered for the app",
		Cause:   "The redirect URI sent is not registered exactly: scheme, host, path and trailing slash must match, and 127.0.0.1 is not the same as localhost.",
		Fix:     "In Entra ID > App registrations > <app> > Authentication, add the exact redirect URI under the right platform: Mobile and desktop applications for http://localhost, Web for the product's own https address. The port of http://localhost is ignored; the path is not."},
	{Code: 500113, Name: "NoReplyAddressRegistered", Kind: KindRedirectMismatch,
		Meaning: "the app has no redirect URI registered",
		Cause:   "The app registration has no redirect URI for any platform.",
		Fix:     "In Entra ID > App registrations > <app> > Authentication, choose Add a platform and register the redirect URI that modauth shows: Mobile and desktop applications for http://localhost, Web for an https address."},
	{Code: 900971, Name: "NoReplyAddressProvided", Kind: KindRedirectMismatch,
		Meaning: "the request carried no redirect URI",
		Cause:   "The profile has no redirect URI, so the sign-in request was sent without one.",
		Fix:     "Set the profile's redirect URI to one registered under Authentication in the app registration, then start the sign-in again."},

	// Consent and permissions.
	{Code: 65001, Name: "DelegationDoesNotExist", Kind: KindConsentRequired,
		Meaning: "nobody has consented to the permissions this app asks for",
		Cause:   "Neither the user nor an admin has granted the app's delegated permissions (such as EWS.AccessAsUser.All), or a permission was added after consent was given.",
		Fix:     "An admin opens Entra ID > App registrations > <app> > API permissions and chooses Grant admin consent, or opens the admin consent URL that modauth shows. Where users may consent, the user can instead accept the permissions during a browser sign-in."},
	{Code: 65004, Name: "UserDeclinedConsent", Kind: KindConsentDeclined,
		Meaning: "the user declined to give the app the permissions it asked for",
		Cause:   "The user chose Cancel on the permissions page.",
		Fix:     "The user signs in again and chooses Accept on the permissions page. If users may not consent, an admin grants consent under API permissions > Grant admin consent."},
	{Code: 90094, Name: "AdminConsentRequired", Kind: KindAdminConsentRequired,
		Meaning: "an administrator must consent to this app",
		Cause:   "The app asks for permissions that users may not grant themselves: application permissions, or any permission when user consent is off in the tenant.",
		Fix:     "A Global Administrator or Privileged Role Administrator opens Entra ID > App registrations > <app> > API permissions and chooses Grant admin consent for the organization, or opens the admin consent URL that modauth shows. Then the user signs in again."},
	{Code: 90095, Name: "AdminConsentRequiredRequestAccess", Kind: KindAdminConsentRequired,
		Meaning: "the user was told to ask an administrator for consent",
		Cause:   "The tenant's admin consent workflow is on and the user may not consent to this app; a request may now be waiting for an admin.",
		Fix:     "An admin approves the request under Entra ID > Enterprise applications > Admin consent requests, or grants consent under App registrations > <app> > API permissions. Then the user signs in again."},
	{Code: 650056, Name: "MisconfiguredApplication", Kind: KindConsentRequired,
		Meaning: "the app registration does not list the permission requested, or no admin consented to it",
		Cause:   "The permission asked for is missing from the app's API permissions, admin consent was not granted, or the client ID belongs to another app.",
		Fix:     "In Entra ID > App registrations > <app> > API permissions, add the permissions from modauth's plan (for EWS: Office 365 Exchange Online > EWS.AccessAsUser.All), then choose Grant admin consent. Check that the profile's client ID is this app's."},
	{Code: 650057, Name: "ResourceNotInRequestedPermissions", Kind: KindConsentRequired,
		Meaning: "the app asks for an API that is not in its API permissions",
		Cause:   "A scope names a resource (such as Office 365 Exchange Online) that the app registration does not list under API permissions.",
		Fix:     "In Entra ID > App registrations > <app> > API permissions, choose Add a permission, pick the API named in the error (for Exchange: APIs my organization uses > Office 365 Exchange Online), add the permission, and grant admin consent."},
	{Code: 7000114, Name: "AppOnBehalfOfNotAllowed", Kind: KindInvalidRequest,
		Meaning: "the app may not make on-behalf-of calls with an app-only token",
		Cause:   "An on-behalf-of request used an app-only token as its assertion; on-behalf-of works only with a user's token.",
		Fix:     "For access without a user, use client credentials (the app-only model) instead of on-behalf-of. For on-behalf-of, pass the signed-in user's access token."},

	// Services missing in the tenant.
	{Code: 650052, Name: "ServiceNotEnabledForOrganization", Kind: KindServiceMissing,
		Meaning: "the app needs a service the organization has not subscribed to or enabled",
		Cause:   "The tenant has no Exchange Online (no licence, or the Office 365 Exchange Online service principal is missing), or the app asks for a permission on a service the tenant does not use.",
		Fix:     "In the Microsoft 365 admin center, check that the users have an Exchange Online licence, and in Entra ID > Enterprise applications (Application type: Microsoft Applications) that Office 365 Exchange Online is listed. Remove permissions for services the tenant does not have from the app registration."},
	{Code: 500011, Name: "InvalidResourceServicePrincipalNotFound", Kind: KindServiceMissing,
		Meaning: "the API asked for does not exist in this tenant",
		Cause:   "The scope names a resource with no service principal in this tenant: Exchange Online is not provisioned, the resource address in the scope is mistyped, or the request went to the wrong tenant.",
		Fix:     "Check the scope's address in the profile (https://outlook.office365.com/ for Exchange Online, https://graph.microsoft.com/ for Graph) and the tenant ID. If both are right, check that Office 365 Exchange Online is listed under Entra ID > Enterprise applications (Application type: Microsoft Applications)."},

	// Scopes and malformed requests.
	{Code: 70011, Name: "InvalidScope", Kind: KindInvalidRequest,
		Meaning: "the scope requested is not valid",
		Cause:   "A scope is mistyped or names the wrong resource, or an app-only (client credentials) request names permissions instead of <resource>/.default.",
		Fix:     "Use the scopes of modauth's preset: for app-only, one scope such as https://outlook.office365.com/.default or https://graph.microsoft.com/.default; for users, full scopes such as https://outlook.office365.com/EWS.AccessAsUser.All plus offline_access."},
	{Code: 700022, Name: "InvalidMultipleResourcesScope", Kind: KindInvalidRequest,
		Meaning: "the scope names more than one resource",
		Cause:   "One token request asked for permissions of two APIs at once, such as Graph and Exchange Online; a token is always for one resource.",
		Fix:     fixOneRes},
	{Code: 28000, Name: "MultipleResourcesInScope", Kind: KindInvalidRequest,
		Meaning: "the scope names more than one resource",
		Cause:   "One token request asked for permissions of two APIs at once, such as Graph and Exchange Online; a token is always for one resource.",
		Fix:     fixOneRes},
	{Code: 28002, Name: "InvalidScopeForAccessToken", Kind: KindInvalidRequest,
		Meaning: "the scope is not valid for an access token request",
		Cause:   "The scope sent when redeeming the code or refresh token has no usable resource permission, or names a resource the app cannot use.",
		Fix:     "Send at least one resource scope of a single API (for example https://outlook.office365.com/EWS.AccessAsUser.All), matching what was asked for at sign-in."},
	{Code: 28003, Name: "EmptyScopeForAccessToken", Kind: KindInvalidRequest,
		Meaning: "the scope was empty when the authorization code was redeemed",
		Cause:   "The code was redeemed without a scope, usually because the profile lists no resource scope.",
		Fix:     "Add the preset's resource scopes to the profile and start the sign-in again."},
	{Code: 90014, Name: "MissingRequiredField", Kind: KindInvalidRequest,
		Meaning: "a required field is missing from the request",
		Cause:   "The profile is incomplete (no client ID, redirect URI or scope), or the request was built wrongly.",
		Fix:     fixBadReq},
	{Code: 900144, Name: "MissingRequestParameter", Kind: KindInvalidRequest,
		Meaning: "the request body lacks a required parameter",
		Cause:   "The profile is incomplete (no client ID, redirect URI or scope), or the request was built wrongly.",
		Fix:     fixBadReq},
	{Code: 9002313, Name: "InvalidRequest", Kind: KindInvalidRequest,
		Meaning: "the request is malformed or invalid",
		Cause:   "A parameter has a wrong value or format, such as a mistyped scope, a damaged code or an unsupported combination.",
		Fix:     fixBadReq},

	// Refresh tokens and sessions that ended: the user signs in again.
	{Code: 70000, Name: "InvalidGrant", Kind: KindSignInNeeded,
		Meaning: "the refresh token or authorization code is not valid",
		Cause:   "The refresh token is damaged, belongs to another app or user, or was revoked; or an authorization code was used twice or too late.",
		Fix:     "The user signs in again. If this happens right after a sign-in, the code must be redeemed once, within 10 minutes, with the same redirect URI and PKCE verifier."},
	{Code: 70008, Name: "ExpiredOrRevokedGrant", Kind: KindSignInNeeded,
		Meaning: "the refresh token expired or was revoked",
		Cause:   "The refresh token was not used for 90 days, or it was revoked.",
		Fix:     "The user signs in again. Keep the user's sync job running so that the token is refreshed well within 90 days."},
	{Code: 700082, Name: "ExpiredOrRevokedGrantInactiveToken", Kind: KindSignInNeeded,
		Meaning: "the refresh token expired after 90 days without use",
		Cause:   "Nothing used this user's refresh token for 90 days, for example because the sync job was paused.",
		Fix:     "The refresh token expired after 90 days without use: the user signs in again. Keep the user's sync job running so that the token is refreshed well within 90 days."},
	{Code: 700084, Name: "SpaRefreshTokenExpired", Kind: KindSignInNeeded,
		Meaning: "the refresh token of a single-page app reached its fixed 24-hour lifetime",
		Cause:   "The redirect URI is registered under the Single-page application platform, whose refresh tokens last 24 hours and cannot be extended.",
		Fix:     "In the app registration's Authentication page, register the redirect URI under Mobile and desktop applications (http://localhost) or Web instead of Single-page application and remove the SPA entry; then the user signs in again."},
	{Code: 70043, Name: "BadTokenDueToSignInFrequency", Kind: KindSignInNeeded,
		Meaning: "a Conditional Access sign-in frequency policy ended the session",
		Cause:   "A Conditional Access policy with a sign-in frequency control applies to this user and app, so the refresh token stops working after the set period.",
		Fix:     "The user signs in again. To stop the repeated sign-ins, the admin excludes this app from the sign-in frequency policy under Entra ID > Conditional Access."},
	{Code: 50173, Name: "FreshTokenNeeded", Kind: KindSignInNeeded,
		Meaning: "the grant was revoked, so a fresh sign-in is needed",
		Cause:   "An admin or the user revoked the sessions, or the password was changed or reset.",
		Fix:     fixSignIn},
	{Code: 50132, Name: "SsoArtifactInvalidOrExpired", Kind: KindSignInNeeded,
		Meaning: "the session is no longer valid because the password expired or was changed",
		Cause:   "The user's password expired or was changed since the refresh token was issued.",
		Fix:     fixPassword},
	{Code: 50133, Name: "SsoArtifactRevoked", Kind: KindSignInNeeded,
		Meaning: "the session was revoked because the password expired or was changed",
		Cause:   "The user's password expired or was changed since the refresh token was issued.",
		Fix:     fixPassword},
	{Code: 50089, Name: "FlowTokenExpired", Kind: KindSignInNeeded,
		Meaning: "the sign-in took too long and expired",
		Cause:   "The sign-in page was left open too long, or the session behind it expired.",
		Fix:     "Start the sign-in again and finish it without long pauses."},
	{Code: 50058, Name: "UserInformationNotProvided", Kind: KindSignInNeeded,
		Meaning: "there is no signed-in session to use without asking the user",
		Cause:   "A silent sign-in (prompt=none) found no signed-in browser session.",
		Fix:     "Start a normal, interactive sign-in so the user can enter their credentials."},

	// Multi-factor authentication.
	{Code: 50076, Name: "UserStrongAuthClientAuthNRequired", Kind: KindMFARequired,
		Meaning: "multi-factor authentication is required",
		Cause:   "A Conditional Access policy, per-user MFA or a new location requires MFA, and the request (a token refresh, for example) cannot show an MFA prompt.",
		Fix:     "The user signs in again interactively (browser or device code) and completes the MFA prompt. App-only access is not subject to MFA, if the product allows it."},
	{Code: 50079, Name: "UserStrongAuthEnrollmentRequired", Kind: KindMFARequired,
		Meaning: "the user must register for multi-factor authentication",
		Cause:   "A policy requires MFA and the user has not registered any second factor yet.",
		Fix:     fixMFAReg},
	{Code: 50074, Name: "UserStrongAuthClientAuthNRequiredInterrupt", Kind: KindMFARequired,
		Meaning: "strong authentication is required and the MFA challenge was not passed",
		Cause:   "The user did not complete the MFA prompt, or the flow used cannot show one.",
		Fix:     "The user signs in again interactively and completes the MFA prompt."},
	{Code: 50072, Name: "UserStrongAuthEnrollmentRequiredInterrupt", Kind: KindMFARequired,
		Meaning: "the user must set up a second factor before signing in",
		Cause:   "A policy requires MFA and the user has not registered any second factor yet.",
		Fix:     fixMFAReg},

	// Conditional Access and security policies.
	{Code: 53003, Name: "BlockedByConditionalAccess", Kind: KindBlockedByPolicy,
		Meaning: "access was blocked by a Conditional Access policy",
		Cause:   "A Conditional Access policy blocks this sign-in. Often it is a policy that blocks the device code flow; it can also limit locations, apps or platforms.",
		Fix:     "If the user signed in with a device code, device code is blocked by Conditional Access: sign in with the browser instead, or ask the admin to exclude this app from the policy. The admin sees which policy applied in Entra ID > Sign-in logs > the failed sign-in > Conditional Access."},
	{Code: 53000, Name: "DeviceNotCompliant", Kind: KindBlockedByPolicy,
		Meaning: "Conditional Access requires a compliant device, and this one is not",
		Cause:   "A policy requires an Intune-compliant device; device code sign-in and servers carry no device identity.",
		Fix:     fixDevice},
	{Code: 53001, Name: "DeviceNotDomainJoined", Kind: KindBlockedByPolicy,
		Meaning: "Conditional Access requires a domain-joined device, and this one is not",
		Cause:   "A policy requires a hybrid-joined device; device code sign-in and servers carry no device identity.",
		Fix:     fixDevice},
	{Code: 530003, Name: "DeviceManagementRequired", Kind: KindBlockedByPolicy,
		Meaning: "the device must be managed to access this resource",
		Cause:   "A device-based Conditional Access policy applies; device code sign-in carries no device identity.",
		Fix:     fixDevice},
	{Code: 50097, Name: "DeviceAuthenticationRequired", Kind: KindBlockedByPolicy,
		Meaning: "device authentication is required",
		Cause:   "A policy requires a registered device, and the sign-in did not prove one (device code sign-in never can).",
		Fix:     fixDevice},
	{Code: 530032, Name: "BlockedByConditionalAccessOnSecurityPolicy", Kind: KindBlockedByPolicy,
		Meaning: "a tenant security policy blocked the request",
		Cause:   "The tenant admin set up a security policy that this sign-in does not meet.",
		Fix:     "The admin opens the failed sign-in in Entra ID > Sign-in logs to see which policy blocked it, then adjusts the policy or excludes this app."},
	{Code: 530035, Name: "BlockedBySecurityDefaults", Kind: KindBlockedByPolicy,
		Meaning: "security defaults blocked the request",
		Cause:   "Security defaults are on; they block legacy authentication and sign-ins they consider unsafe.",
		Fix:     "Make sure the user has registered MFA and signs in with OAuth (browser or device code), not a password. The admin checks the failed sign-in in Entra ID > Sign-in logs; switching security defaults off means replacing them with Conditional Access policies."},

	// Users.
	{Code: 50034, Name: "UserAccountNotFound", Kind: KindUserNotFound,
		Meaning: "the user account does not exist in this tenant",
		Cause:   "The user name is mistyped, the user belongs to another tenant, or the email address was used where the sign-in name (UPN) differs.",
		Fix:     "Sign in with the user's UPN (user principal name) from Entra ID > Users, which can differ from the email address, and check that the profile points to the user's own tenant."},
	{Code: 50020, Name: "UserUnauthorized", Kind: KindUserNotFound,
		Meaning: "the user comes from another tenant or identity provider and is not a guest here",
		Cause:   "The account belongs to another tenant, or is a personal Microsoft account, and the sign-in went to this tenant.",
		Fix:     "Sign in with an account of this tenant, or point the profile at the user's home tenant. If an outside user really needs access, invite them as a guest (Entra ID > Users > Invite external user)."},
	{Code: 50105, Name: "EntitlementGrantsNotFound", Kind: KindUserNotFound,
		Meaning: "the user is not assigned to this app",
		Cause:   "The enterprise application has Assignment required set to Yes, and neither the user nor a group of theirs is assigned.",
		Fix:     "In Entra ID > Enterprise applications > <app> > Users and groups, assign the user or one of their groups; or set Properties > Assignment required to No."},
	{Code: 50053, Name: "IdsLocked", Kind: KindAccountDisabled,
		Meaning: "the account is locked, or the sign-in came from a suspicious IP address",
		Cause:   "Too many failed sign-ins locked the account (smart lockout), or Microsoft blocked the IP address for malicious activity.",
		Fix:     "Wait for the lockout to end and sign in with the right password. The admin finds the reason in Entra ID > Sign-in logs > the failed sign-in > Failure reason."},
	{Code: 50057, Name: "UserDisabled", Kind: KindAccountDisabled,
		Meaning: "the user account is disabled",
		Cause:   "An admin disabled the account, in Entra ID or in the on-premises Active Directory it is synced from.",
		Fix:     "An admin enables the account (Entra ID > Users > <user> > Edit properties > Account enabled, or in on-premises Active Directory for synced users), or the user is removed from the modauth profile."},
	{Code: 50055, Name: "InvalidPasswordExpiredPassword", Kind: KindAccountDisabled,
		Meaning: "the user's password has expired",
		Cause:   "The password reached the maximum age set by the organization.",
		Fix:     "The user changes the password (or an admin resets it), then signs in again."},
	{Code: 50126, Name: "InvalidUserNameOrPassword", Kind: KindAccountDisabled,
		Meaning: "the user name or password is wrong",
		Cause:   "The credentials typed are wrong; repeated failures can lock the account.",
		Fix:     "The user signs in again with the right user name (UPN) and password."},

	// Device code flow.
	{Code: 70016, Name: "AuthorizationPending", Kind: KindPending,
		Meaning: "the user has not finished the device code sign-in yet",
		Cause:   "Normal while waiting: the user has not yet entered the code and signed in.",
		Fix:     "Nothing to do: modauth keeps polling. The user opens https://microsoft.com/devicelogin, enters the code shown and signs in."},
	{Code: 70018, Name: "BadVerificationCode", Kind: KindBadUserCode,
		Meaning: "the code entered on the device login page is wrong",
		Cause:   "The user mistyped the code, or typed an old one.",
		Fix:     "The user types the code again exactly as modauth shows it, or starts a new sign-in to get a new code."},
	{Code: 70019, Name: "CodeExpired", Kind: KindExpired,
		Meaning: "the device code expired before the user signed in",
		Cause:   "A device code is valid for 15 minutes.",
		Fix:     "Start the sign-in again and enter the new code within 15 minutes."},
	{Code: 90120, Name: "InvalidDeviceFlowRequest", Kind: KindExpired,
		Meaning: "this device code sign-in was already completed or declined",
		Cause:   "Each device code works once, and this one was used.",
		Fix:     "Start a new sign-in to get a new code."},
	{Code: 50134, Name: "DeviceFlowAuthorizeWrongDatacenter", Kind: KindInvalidRequest,
		Meaning: "the device code was approved in another data center than the one it came from",
		Cause:   "The code was requested through one tenant and polled or approved through another.",
		Fix:     "Use the same tenant (preferably the Directory (tenant) ID, not common) for the whole device code sign-in and start it again."},

	// Throttling.
	{Code: 50196, Name: "LoopDetected", Kind: KindThrottled,
		Meaning: "the same request was sent too often in a short time",
		Cause:   "A client sent identical token requests in a loop instead of reusing its token.",
		Fix:     "Wait a few minutes before trying again. If it comes back, report it with the trace ID: access tokens should be reused until they expire."},
	{Code: 90055, Name: "TenantThrottlingError", Kind: KindThrottled,
		Meaning: "the tenant sends too many requests and is being throttled",
		Cause:   "Too many token requests reach this tenant, from modauth or from other apps.",
		Fix:     "Wait before trying again, sync fewer users at the same time, and look for other apps in the tenant that request many tokens."},
	{Code: 90033, Name: "TransientError", Kind: KindUnavailable,
		Meaning: "the identity platform had a transient error",
		Cause:   "A passing problem on Microsoft's side.",
		Fix:     "Try again in a few minutes; modauth retries on its own. If it persists, check Microsoft 365 service health."},

	// Authorization code redemption.
	{Code: 50148, Name: "PKCECodeVerifierMismatch", Kind: KindInvalidRequest,
		Meaning: "the PKCE code verifier does not match the challenge of this sign-in",
		Cause:   "The address pasted back belongs to another sign-in attempt, or the sign-in was restarted in between.",
		Fix:     "Start the sign-in again and paste the address that this attempt ends on."},
	{Code: 54005, Name: "AuthorizationCodeAlreadyRedeemed", Kind: KindInvalidRequest,
		Meaning: "the authorization code was already used",
		Cause:   "The same sign-in address was pasted twice, or the browser reloaded the redirect.",
		Fix:     "Start the sign-in again; each code works once. A saved refresh token, if any, still works."},
	{Code: 70003, Name: "UnsupportedGrantType", Kind: KindInvalidRequest,
		Meaning: "the provider does not support this kind of token request",
		Cause:   "The authority is not the Microsoft identity platform v2, or the app type does not allow this flow.",
		Fix:     "Check the authority host of the profile (public cloud: https://login.microsoftonline.com)."},
})
