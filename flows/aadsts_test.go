package flows

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"
)

const (
	aadTestTrace = "0000aaaa-11bb-cccc-dd22-eeeeee333333"
	aadTestCorr  = "aaaa0000-bb11-2222-33cc-444444dddddd"
	aadTestStamp = "2026-11-23 16:21:07Z"
)

// aadTestBody is a token-endpoint error body as login.microsoftonline.com
// sends it.
func aadTestBody(oauthErr string, code int, text string, extra string) string {
	desc := fmt.Sprintf(`AADSTS%d: %s\r\nTrace ID: %s\r\nCorrelation ID: %s\r\nTimestamp: %s`, code, text, aadTestTrace, aadTestCorr, aadTestStamp)
	return fmt.Sprintf(`{"error":%q,"error_description":"%s","error_codes":[%d],"timestamp":%q,"trace_id":%q,"correlation_id":%q,"error_uri":"https://login.microsoftonline.com/error?code=%d"%s}`,
		oauthErr, desc, code, aadTestStamp, aadTestTrace, aadTestCorr, code, extra)
}

var (
	aadBodySecret        = aadTestBody("invalid_client", 7000215, "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '11111111-2222-3333-4444-555555555555'.", "")
	aadBodyPending       = aadTestBody("authorization_pending", 70016, "OAuth 2.0 device flow error. Authorization is pending. Continue polling.", "")
	aadBodyInactive      = aadTestBody("invalid_grant", 700082, "The refresh token has expired due to inactivity. The token was issued on 2026-08-01T10:00:00Z and was inactive for 90.00:00:00.", "")
	aadBodyConsent       = aadTestBody("invalid_grant", 65001, "The user or administrator has not consented to use the application with ID '11111111-2222-3333-4444-555555555555' named 'modauth'.", `,"suberror":"consent_required"`)
	aadBodyMFA           = aadTestBody("interaction_required", 50076, "Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access '00000002-0000-0ff1-ce00-000000000000'.", `,"suberror":"basic_action","claims":"{\"access_token\":{\"capolids\":{\"essential\":true,\"values\":[\"abc\"]}}}"`)
	aadBodyCA            = aadTestBody("invalid_grant", 53003, "Access has been blocked by Conditional Access policies. The access policy does not allow token issuance.", "")
	aadBodyUnknown       = aadTestBody("invalid_grant", 99999, "Something new happened.", "")
	aadBodyUnknownClient = aadTestBody("unauthorized_client", 1234567, "Something else happened.", "")
	aadBodyNoCodes       = `{"error":"invalid_request","error_description":"AADSTS900144: The request body must contain the following parameter: 'grant_type'.\r\nTrace ID: t1\r\nCorrelation ID: c1\r\nTimestamp: 2026-11-23 16:21:07Z"}`
	aadBodyStringCodes   = `{"error":"invalid_client","error_description":"AADSTS7000222: The provided client secret keys for app 'x' are expired.","error_codes":["7000222"]}`
	aadBodySlowDown      = `{"error":"slow_down"}`
	aadBodyForm          = "error=invalid_grant&error_description=AADSTS70008%3A+The+provided+authorization+code+or+refresh+token+has+expired+due+to+inactivity.%0D%0ATrace+ID%3A+" + aadTestTrace + "&error_codes=70008"
	aadBodyHTML          = "<!DOCTYPE html>\r\n<html><head><title>Service Unavailable</title></head>\r\n<body><h1>Service Unavailable</h1>\r\n<p>The service is temporarily unavailable. Please try again later.</p>" + strings.Repeat("<p>padding</p>", 30) + "</body></html>"
)

func TestParseError(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		body      string
		wantErr   string
		wantCode  int
		wantKind  Kind
		wantIs    error
		wantDesc  string // prefix
		wantTrace string
		wantError string // exact Error(), if set
	}{
		{name: "secret id", status: 401, body: aadBodySecret, wantErr: "invalid_client", wantCode: 7000215, wantKind: KindInvalidSecret, wantIs: ErrInvalidSecret,
			wantDesc: "AADSTS7000215: Invalid client secret provided.", wantTrace: aadTestTrace,
			wantError: "aadsts7000215 invalid client secret: the value sent is not a valid secret for this app (is it the Secret ID?)"},
		{name: "device pending", status: 400, body: aadBodyPending, wantErr: "authorization_pending", wantCode: 70016, wantKind: KindPending,
			wantError: "aadsts70016 authorization pending: the user has not finished the device code sign-in yet"},
		{name: "inactive refresh token", status: 400, body: aadBodyInactive, wantErr: "invalid_grant", wantCode: 700082, wantKind: KindSignInNeeded, wantIs: ErrSignInNeeded},
		{name: "consent", status: 400, body: aadBodyConsent, wantErr: "invalid_grant", wantCode: 65001, wantKind: KindConsentRequired, wantIs: ErrConsentRequired},
		{name: "mfa", status: 400, body: aadBodyMFA, wantErr: "interaction_required", wantCode: 50076, wantKind: KindMFARequired, wantIs: ErrMFARequired,
			wantError: "aadsts50076 user strong auth client authn required: multi-factor authentication is required"},
		{name: "conditional access", status: 400, body: aadBodyCA, wantErr: "invalid_grant", wantCode: 53003, wantKind: KindBlockedByPolicy, wantIs: ErrBlockedByPolicy},
		{name: "unknown code, known error", status: 400, body: aadBodyUnknown, wantErr: "invalid_grant", wantCode: 99999, wantKind: KindSignInNeeded, wantIs: ErrSignInNeeded,
			wantError: "aadsts99999 (not in catalog): Something new happened."},
		{name: "unknown code, unknown error", status: 400, body: aadBodyUnknownClient, wantErr: "unauthorized_client", wantCode: 1234567, wantKind: KindUnknown},
		{name: "code only in description", status: 400, body: aadBodyNoCodes, wantErr: "invalid_request", wantCode: 900144, wantKind: KindInvalidRequest, wantTrace: "t1"},
		{name: "codes of the wrong type", status: 401, body: aadBodyStringCodes, wantErr: "invalid_client", wantCode: 7000222, wantKind: KindSecretExpired, wantIs: ErrSecretExpired},
		{name: "slow down", status: 400, body: aadBodySlowDown, wantErr: "slow_down", wantKind: KindSlowDown, wantError: "slow_down"},
		{name: "form encoded", status: 400, body: aadBodyForm, wantErr: "invalid_grant", wantCode: 70008, wantKind: KindSignInNeeded, wantIs: ErrSignInNeeded, wantTrace: aadTestTrace},
		{name: "html 503", status: 503, body: aadBodyHTML, wantKind: KindUnavailable, wantIs: ErrUnavailable, wantDesc: "Service Unavailable", wantError: "http 503: Service Unavailable"},
		{name: "plain 502", status: 502, body: "Bad Gateway\n", wantKind: KindUnavailable, wantIs: ErrUnavailable, wantError: "http 502: Bad Gateway"},
		{name: "empty 500", status: 500, body: "", wantKind: KindUnavailable, wantError: "http 500"},
		{name: "empty 400", status: 400, body: "", wantKind: KindUnknown, wantError: "http 400"},
		{name: "empty json 400", status: 400, body: "{}", wantKind: KindUnknown, wantError: "http 400: {}"},
		{name: "429 plain", status: 429, body: "Too Many Requests", wantKind: KindThrottled, wantIs: ErrThrottled},
		{name: "429 temporarily unavailable", status: 429, body: `{"error":"temporarily_unavailable"}`, wantErr: "temporarily_unavailable", wantKind: KindThrottled, wantIs: ErrThrottled},
		{name: "429 loop detected", status: 429, body: aadTestBody("invalid_request", 50196, "The server terminated an operation because it encountered a client request loop.", ""), wantErr: "invalid_request", wantCode: 50196, wantKind: KindThrottled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := ParseError(tt.status, []byte(tt.body))
			if e.Status != tt.status || e.Err != tt.wantErr || e.Code() != tt.wantCode || e.Kind != tt.wantKind {
				t.Errorf("got status %d, err %q, code %d, kind %v; want %d, %q, %d, %v",
					e.Status, e.Err, e.Code(), e.Kind, tt.status, tt.wantErr, tt.wantCode, tt.wantKind)
			}
			if (e.Entry != nil) != aadInCatalog(tt.wantCode) {
				t.Errorf("Entry = %v, want it set only for catalog codes", e.Entry)
			}
			if tt.wantIs != nil && !errors.Is(e, tt.wantIs) {
				t.Errorf("errors.Is(%v, %v) = false", e, tt.wantIs)
			}
			if !strings.HasPrefix(e.Description, tt.wantDesc) {
				t.Errorf("Description = %q, want prefix %q", e.Description, tt.wantDesc)
			}
			if tt.wantTrace != "" && e.TraceID != tt.wantTrace {
				t.Errorf("TraceID = %q, want %q", e.TraceID, tt.wantTrace)
			}
			if strings.Contains(e.Error(), "Trace ID") {
				t.Errorf("Error() has the trace lines: %q", e.Error())
			}
			if r, _ := utf8.DecodeRuneInString(e.Error()); unicode.IsUpper(r) {
				t.Errorf("Error() starts upper-case: %q", e.Error())
			}
			if tt.wantError != "" && e.Error() != tt.wantError {
				t.Errorf("Error() = %q\nwant      %q", e.Error(), tt.wantError)
			}
			aadCheckClean(t, e)
		})
	}
}

func aadInCatalog(code int) bool {
	_, ok := Lookup(code)
	return ok
}

// aadCheckClean checks what holds for any parsed error: one line of valid
// UTF-8, a Kind in range, a Fix.
func aadCheckClean(t *testing.T, e *Error) {
	t.Helper()
	msg := e.Error()
	if strings.ContainsAny(msg, "\r\n") || !utf8.ValidString(msg) {
		t.Errorf("Error() is not one clean line: %q", msg)
	}
	for name, f := range map[string]string{"Err": e.Err, "Description": e.Description, "SubError": e.SubError,
		"TraceID": e.TraceID, "CorrelationID": e.CorrelationID, "Timestamp": e.Timestamp} {
		if len(f) > maxField || !utf8.ValidString(f) || strings.ContainsFunc(f, unicode.IsControl) {
			t.Errorf("%s is not one short clean line: %q", name, f)
		}
	}
	if e.Kind < KindUnknown || int(e.Kind) >= len(kindNames) {
		t.Errorf("Kind %d out of range", e.Kind)
	}
	if e.Fix() == "" {
		t.Error("Fix() is empty")
	}
}

func TestParseErrorFields(t *testing.T) {
	e := ParseError(400, []byte(aadBodyMFA))
	if e.TraceID != aadTestTrace || e.CorrelationID != aadTestCorr || e.Timestamp != aadTestStamp {
		t.Errorf("ids = %q, %q, %q", e.TraceID, e.CorrelationID, e.Timestamp)
	}
	if e.SubError != "basic_action" || !strings.Contains(e.Claims, `"capolids"`) {
		t.Errorf("SubError = %q, Claims = %q", e.SubError, e.Claims)
	}
	if len(e.Codes) != 1 || e.Codes[0] != 50076 {
		t.Errorf("Codes = %v", e.Codes)
	}
	if want := "AADSTS50076: Due to a configuration change"; !strings.HasPrefix(e.Description, want) || strings.Contains(e.Description, "Trace") {
		t.Errorf("Description = %q, want only the first line", e.Description)
	}
}

func TestParseErrorRawBodyIsShortAndClean(t *testing.T) {
	body := "oops\x00\x1b[31m\r\n" + strings.Repeat("é", 300) + "\xff"
	e := ParseError(500, []byte(body))
	if len(e.Description) > 200 || !utf8.ValidString(e.Description) {
		t.Errorf("Description has %d bytes, valid UTF-8 %v", len(e.Description), utf8.ValidString(e.Description))
	}
	if strings.ContainsFunc(e.Description, unicode.IsControl) {
		t.Errorf("Description has control characters: %q", e.Description)
	}
	if !strings.HasPrefix(e.Description, "oops [31m é") {
		t.Errorf("Description = %q", e.Description)
	}
	if len(ParseError(503, []byte(aadBodyHTML)).Description) > 200 {
		t.Error("HTML body not cut to 200 bytes")
	}
}

func TestParseResponseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 23, 16, 0, 0, 0, time.UTC)
	tests := []struct {
		header string
		want   time.Duration
	}{
		{"120", 2 * time.Minute},
		{" 5 ", 5 * time.Second},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0},
		{"-3", 0},
		{"soon", 0},
		{"99999999999999999999", 0},
		{"", 0},
	}
	for _, tt := range tests {
		resp := &http.Response{StatusCode: 429, Header: http.Header{}}
		if tt.header != "" {
			resp.Header.Set("Retry-After", tt.header)
		}
		e := ParseResponse(resp, nil, now)
		if e.RetryAfter != tt.want || e.Kind != KindThrottled || e.Status != 429 {
			t.Errorf("Retry-After %q: got %v, kind %v; want %v, throttled", tt.header, e.RetryAfter, e.Kind, tt.want)
		}
	}

	resp := &http.Response{StatusCode: 503, Header: http.Header{"Retry-After": {"30"}}}
	e := ParseResponse(resp, []byte(`{"error":"temporarily_unavailable","error_description":"AADSTS90006: The service is temporarily unavailable."}`), now)
	if e.RetryAfter != 30*time.Second || !errors.Is(e, ErrUnavailable) {
		t.Errorf("503: RetryAfter %v, kind %v", e.RetryAfter, e.Kind)
	}
	if e := ParseResponse(nil, []byte(aadBodySecret), now); e.Code() != 7000215 {
		t.Errorf("nil response: code %d", e.Code())
	}
}

func TestParseRedirectError(t *testing.T) {
	tests := []struct {
		q        url.Values
		wantCode int
		wantKind Kind
	}{
		{url.Values{"error": {"access_denied"}, "error_description": {"AADSTS65004: User declined to consent to access the app.\r\nTrace ID: " + aadTestTrace + "\r\nCorrelation ID: " + aadTestCorr + "\r\nTimestamp: " + aadTestStamp}}, 65004, KindConsentDeclined},
		{url.Values{"error": {"invalid_request"}, "error_description": {"AADSTS50011: The redirect URI 'http://localhost:8400/' specified in the request does not match the redirect URIs configured for the application."}}, 50011, KindRedirectMismatch},
		{url.Values{"error": {"access_denied"}, "error_description": {"the user canceled the authentication"}}, 0, KindDeclined},
		{url.Values{"error": {"login_required"}}, 0, KindSignInNeeded},
		{url.Values{"error": {"invalid_client"}, "error_codes": {"7000218"}}, 7000218, KindPublicClientOff},
		{url.Values{}, 0, KindUnknown},
	}
	for _, tt := range tests {
		e := ParseRedirectError(tt.q)
		if e.Code() != tt.wantCode || e.Kind != tt.wantKind || e.Status != 0 {
			t.Errorf("%v: code %d, kind %v, status %d; want %d, %v, 0", tt.q, e.Code(), e.Kind, e.Status, tt.wantCode, tt.wantKind)
		}
		aadCheckClean(t, e)
	}
	e := ParseRedirectError(tests[0].q)
	if e.TraceID != aadTestTrace || e.CorrelationID != aadTestCorr || e.Timestamp != aadTestStamp {
		t.Errorf("ids from description = %q, %q, %q", e.TraceID, e.CorrelationID, e.Timestamp)
	}
}

func TestKindFromOAuthError(t *testing.T) {
	tests := map[string]Kind{
		"authorization_pending":   KindPending,
		"slow_down":               KindSlowDown,
		"authorization_declined":  KindDeclined,
		"access_denied":           KindDeclined,
		"expired_token":           KindExpired,
		"bad_verification_code":   KindBadUserCode,
		"consent_required":        KindConsentRequired,
		"interaction_required":    KindSignInNeeded,
		"invalid_grant":           KindSignInNeeded,
		"invalid_client":          KindUnknown,
		"temporarily_unavailable": KindUnavailable,
		"server_error":            KindUnavailable,
		"invalid_scope":           KindInvalidRequest,
		"invalid_request":         KindInvalidRequest,
		"unsupported_grant_type":  KindInvalidRequest,
		"something_new":           KindUnknown,
	}
	for oauthErr, want := range tests {
		e := ParseError(400, []byte(`{"error":"`+oauthErr+`"}`))
		if e.Kind != want {
			t.Errorf("%s: kind %v, want %v", oauthErr, e.Kind, want)
		}
	}
}

func TestAADSTSErrorIs(t *testing.T) {
	all := make([]error, 0, len(sentinels))
	for _, s := range sentinels {
		all = append(all, s)
	}
	for k, sentinel := range sentinels {
		err := fmt.Errorf("refresh alice: %w", &Error{Kind: k})
		for _, s := range all {
			if got := errors.Is(err, s); got != (s == sentinel) {
				t.Errorf("errors.Is(%v error, %q) = %v", k, s, got)
			}
		}
	}
	var e *Error
	if !errors.As(fmt.Errorf("wrapped: %w", ParseError(401, []byte(aadBodySecret))), &e) || e.Code() != 7000215 {
		t.Error("errors.As does not find the *Error")
	}
	if errors.Is(&Error{Kind: KindPending}, ErrExpired) || errors.Is(&Error{}, nil) {
		t.Error("a kind without a sentinel matches")
	}
}

func TestAADSTSFix(t *testing.T) {
	e := ParseError(401, []byte(aadBodySecret))
	if fix := e.Fix(); !strings.Contains(fix, "Secret ID") || !strings.Contains(fix, "Value") {
		t.Errorf("7000215 fix does not explain Secret ID vs Value: %q", fix)
	}

	e = ParseError(400, []byte(aadBodyUnknown))
	want := "AADSTS99999 is not in modauth's catalog; look it up at https://login.microsoftonline.com/error?code=99999 and search the sign-in logs for trace ID " + aadTestTrace + "."
	if e.Fix() != want {
		t.Errorf("unknown code fix:\n got %q\nwant %q", e.Fix(), want)
	}
	if fix := (&Error{Codes: []int{424242}}).Fix(); !strings.Contains(fix, "error?code=424242") || strings.Contains(fix, "trace ID") {
		t.Errorf("unknown code without trace ID: %q", fix)
	}

	// Built by hand, without Entry: the catalog still answers.
	if fix := (&Error{Codes: []int{7000218}}).Fix(); !strings.Contains(fix, "Allow public client flows") {
		t.Errorf("7000218 fix: %q", fix)
	}
	if fix := ParseError(429, nil).Fix(); fix == "" || strings.Contains(fix, "catalog") {
		t.Errorf("429 fix: %q", fix)
	}
}

func TestKindString(t *testing.T) {
	seen := map[string]bool{}
	for k := KindUnknown; k <= KindUnavailable; k++ {
		s := k.String()
		if s == "" || seen[s] || strings.HasPrefix(s, "Kind(") || s != strings.ToLower(s) {
			t.Errorf("Kind %d: bad or duplicate name %q", int(k), s)
		}
		seen[s] = true
	}
	if got := KindConsentRequired.String(); got != "consent-required" {
		t.Errorf("KindConsentRequired = %q", got)
	}
	if got := Kind(99).String(); got != "Kind(99)" {
		t.Errorf("Kind(99) = %q", got)
	}
}

func TestCatalogEntries(t *testing.T) {
	for code, e := range catalog {
		if e.Code != code {
			t.Errorf("AADSTS%d: entry says code %d", code, e.Code)
		}
		if e.Name == "" || e.Meaning == "" || e.Cause == "" || e.Fix == "" {
			t.Errorf("AADSTS%d: empty Name, Meaning, Cause or Fix", code)
		}
		if e.Kind == KindUnknown || e.Kind.String() == "" || strings.HasPrefix(e.Kind.String(), "Kind(") {
			t.Errorf("AADSTS%d: kind %v", code, e.Kind)
		}
		// Meaning goes after a colon in Error(): a lower-case fragment.
		if r, _ := utf8.DecodeRuneInString(e.Meaning); unicode.IsUpper(r) && !strings.HasPrefix(e.Meaning, "Conditional Access") || strings.HasSuffix(e.Meaning, ".") {
			t.Errorf("AADSTS%d: Meaning should be a lower-case fragment without a full stop: %q", code, e.Meaning)
		}
		if !strings.HasSuffix(e.Cause, ".") || !strings.HasSuffix(e.Fix, ".") {
			t.Errorf("AADSTS%d: Cause and Fix should be sentences", code)
		}
		if w := nameToWords(e.Name); strings.Contains(w, "  ") || w != strings.ToLower(w) {
			t.Errorf("AADSTS%d: name %q reads %q", code, e.Name, w)
		}
	}
}

// TestCatalogCoversReference lists the codes of microsoft.md §3 and §1.4 and
// the extras modauth needs.
func TestCatalogCoversReference(t *testing.T) {
	codes := []int{
		// §3
		7000215, 7000222, 7000218, 700025, 700016, 700011, 90002, 50011, 500113, 900971,
		65001, 65004, 90094, 90095, 650052, 650056, 650057, 500011, 70011, 700022, 28002, 28003,
		70000, 70008, 700082, 700084, 70043, 50173, 50132, 50133, 50089, 50076, 50079, 50074, 50072,
		53003, 53000, 53001, 530003, 50097, 530032, 530035, 50034, 50126, 50053, 50057, 50055,
		50020, 50058, 50105, 90014, 900144, 9002313, 9001023, 700024, 700027, 50012,
		70016, 70018, 70019, 50196, 90055,
		// §1.4 device code flow
		90120, 50134,
		// extras
		28000, 7000114, 50194,
		// certificate credentials (microsoft.md §9.2)
		700021, 700023, 50013,
	}
	for _, c := range codes {
		if _, ok := Lookup(c); !ok {
			t.Errorf("AADSTS%d is missing from the catalog", c)
		}
	}
	if _, ok := Lookup(0); ok {
		t.Error("Lookup(0) found an entry")
	}
}

func TestCatalogKinds(t *testing.T) {
	want := map[int]Kind{
		90002: KindTenantNotFound, 700016: KindClientNotFound, 7000215: KindInvalidSecret,
		7000222: KindSecretExpired, 7000218: KindPublicClientOff, 50011: KindRedirectMismatch,
		65001: KindConsentRequired, 90094: KindAdminConsentRequired, 65004: KindConsentDeclined,
		700082: KindSignInNeeded, 50076: KindMFARequired, 53003: KindBlockedByPolicy,
		50105: KindUserNotFound, 50057: KindAccountDisabled, 650052: KindServiceMissing,
		70016: KindPending, 70019: KindExpired, 70018: KindBadUserCode, 90055: KindThrottled,
		28000: KindInvalidRequest,
	}
	for code, k := range want {
		if e, _ := Lookup(code); e.Kind != k {
			t.Errorf("AADSTS%d: kind %v, want %v", code, e.Kind, k)
		}
	}
}

func TestAADSTSWords(t *testing.T) {
	for name, want := range map[string]string{
		"InvalidClientSecret":                    "invalid client secret",
		"UnauthorizedClient_DoesNotMatchRequest": "unauthorized client does not match request",
		"UserStrongAuthClientAuthNRequired":      "user strong auth client authn required",
		"MFARequired":                            "mfa required",
		"IdsLocked":                              "ids locked",
	} {
		if got := nameToWords(name); got != want {
			t.Errorf("nameToWords(%q) = %q, want %q", name, got, want)
		}
	}
}

func FuzzParseError(f *testing.F) {
	bodies := []string{
		aadBodySecret, aadBodyPending, aadBodyInactive, aadBodyConsent, aadBodyMFA, aadBodyCA,
		aadBodyUnknown, aadBodyNoCodes, aadBodyStringCodes, aadBodySlowDown, aadBodyForm, aadBodyHTML,
		"", "{}", "null", `{"error_codes":[1e99]}`, "Bad Gateway", "error=x&error_codes=1,2,x",
		"AADSTS99999999999999", "\u2028\x85\r\n", "Trace ID0", `{"error":"A"}`,
		"\uFEFF{\"error\":\"a\nb\"}<html>", "<title>t</title>client_secret=x",
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "errbodies", "*.txt"))
	for _, name := range files {
		raw, _ := os.ReadFile(name)
		_, body, _ := strings.Cut(string(raw), "\n\n")
		bodies = append(bodies, body)
	}
	for _, b := range bodies {
		for _, status := range []int{0, 400, 429, 500} {
			f.Add(status, []byte(b))
		}
	}
	const planted = "Qx8Q~plantedSecretValue0123456789abcdEFGH"
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		e := ParseError(status, body)
		aadCheckClean(t, e)
		if e.Status != status {
			t.Errorf("Status = %d, want %d", e.Status, status)
		}
		if q, err := url.ParseQuery(string(body)); err == nil {
			aadCheckClean(t, ParseRedirectError(q))
		}

		// The first JSON object decides, whatever comes before (a byte order
		// mark, white space) or after it (an HTML page).
		var first Error
		if len(body) < maxJSONBody/2 && parseJSONBody(&first, body) {
			wrapped := append([]byte("\uFEFF \r\n"), body...)
			wrapped = append(wrapped, "\r\n<!DOCTYPE html><html><head><title>IIS Detailed Error</title></head></html>"...)
			var again Error
			if !parseJSONBody(&again, wrapped) || !reflect.DeepEqual(first, again) {
				t.Errorf("with a BOM before and a page after the object:\n got %+v\nwant %+v", again, first)
			}
		}

		// A credential echoed in the body never shows.
		if !bytes.Contains(body, []byte(planted)) {
			e := ParseError(status, append([]byte("client_secret="+planted+"&"), body...))
			if strings.Contains(e.Error(), planted) || strings.Contains(e.Description, planted) {
				t.Errorf("the planted secret shows: %q", e.Error())
			}
		}
	})
}
