package flows

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// errBodyFile reads a fixture of testdata/errbodies: "key: value" header
// lines (source, shape, status), a blank line, then the body exactly as
// the server sent it.
func errBodyFile(t *testing.T, name string) (status int, body []byte) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "errbodies", name))
	if err != nil {
		t.Fatal(err)
	}
	header, body, ok := bytes.Cut(raw, []byte("\n\n"))
	if !ok {
		t.Fatalf("%s: no blank line after the header", name)
	}
	for line := range strings.SplitSeq(string(header), "\n") {
		if v, ok := strings.CutPrefix(line, "status: "); ok {
			if status, err = strconv.Atoi(v); err != nil {
				t.Fatalf("%s: status %q", name, v)
			}
		}
	}
	if status == 0 {
		t.Fatalf("%s: no status line", name)
	}
	return status, body
}

// TestParseErrorRealBodies parses error bodies in the shapes quoted in
// public threads (each fixture names its source): JSON followed by an HTML
// page, raw line breaks inside strings, a byte order mark, indented JSON,
// fields in another order.
func TestParseErrorRealBodies(t *testing.T) {
	tests := []struct {
		file          string
		err           string
		code          int
		kind          Kind
		desc          string // prefix of the description's first line
		trace, corr   string
		stamp, subErr string
	}{
		{file: "7000215-then-iis-page.txt", err: "invalid_client", code: 7000215, kind: KindInvalidSecret,
			desc: "AADSTS7000215: Invalid client secret provided.", trace: "7c1e9a40-2b3d-4f5e-8a6b-1c2d3e4f5a00",
			corr: "9d8c7b6a-5e4f-4a3b-8c2d-1e0f9a8b7c6d", stamp: "2026-11-23 08:14:52Z"},
		{file: "700082-inactive.txt", err: "invalid_grant", code: 700082, kind: KindSignInNeeded,
			desc: "AADSTS700082: The refresh token has expired due to inactivity.", trace: "5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c00",
			corr: "0e1d2c3b-4a59-4687-9a6b-5c4d3e2f1a0b", stamp: "2026-11-23 22:31:52Z"},
		{file: "50173-adal-field-order.txt", err: "invalid_grant", code: 50173, kind: KindSignInNeeded,
			desc: "AADSTS50173: The provided grant has expired due to it being revoked", trace: "2b6f4e1a-9c3d-4b7e-a5f2-8d1c0e9b4a00",
			corr: "6c5d4e3f-2a1b-4c0d-9e8f-7a6b5c4d3e2f", stamp: "2026-11-23 19:06:51Z"},
		{file: "50173-raw-crlf.txt", err: "invalid_grant", code: 50173, kind: KindSignInNeeded,
			desc: "AADSTS50173: The provided grant has expired due to it being revoked.", stamp: "2026-11-23 07:57:31Z"},
		{file: "53003-wrapped-lines.txt", err: "interaction_required", code: 53003, kind: KindBlockedByPolicy,
			desc: "AADSTS53003: Access has been blocked by Conditional Access policies.", trace: "4d3c2b1a-0f9e-4d8c-b7a6-95847362a600",
			corr: "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d", stamp: "2026-11-23 05:46:34Z", subErr: "message_only"},
		{file: "90002-invalid-tenant.txt", err: "invalid_tenant", code: 90002, kind: KindTenantNotFound,
			desc: "AADSTS90002: Tenant '0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f' not found.", trace: "8e7d6c5b-4a39-4281-9f0e-1d2c3b4a1200",
			corr: "3f4e5d6c-7b8a-4998-a7b6-c5d4e3f2a1b0", stamp: "2026-11-23 16:26:49Z"},
		{file: "65001-indented.txt", err: "invalid_grant", code: 65001, kind: KindConsentRequired,
			desc: "AADSTS65001: The user or administrator has not consented", trace: "b2a19f8e-7d6c-4b5a-9483-7261504f5900",
			corr: "d4c3b2a1-f0e9-4d8c-b7a6-958473625140", stamp: "2026-11-23 08:55:37Z", subErr: "consent_required"},
		{file: "700016-bom.txt", err: "unauthorized_client", code: 700016, kind: KindClientNotFound,
			desc: "AADSTS700016: Application with identifier", trace: "e5f4a3b2-c1d0-4e9f-8a7b-6c5d4e3f2100",
			corr: "a0b1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d", stamp: "2026-11-23 11:02:17Z"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			status, body := errBodyFile(t, tt.file)
			e := ParseError(status, body)
			if e.Status != status || e.Err != tt.err || e.Code() != tt.code || e.Kind != tt.kind {
				t.Errorf("got status %d, error %q, code %d, kind %v; want %d, %q, %d, %v",
					e.Status, e.Err, e.Code(), e.Kind, status, tt.err, tt.code, tt.kind)
			}
			if !strings.HasPrefix(e.Description, tt.desc) || strings.Contains(e.Description, "Trace ID") {
				t.Errorf("Description = %q, want the first line, starting %q", e.Description, tt.desc)
			}
			if e.TraceID != tt.trace || e.CorrelationID != tt.corr || e.Timestamp != tt.stamp || e.SubError != tt.subErr {
				t.Errorf("trace %q, correlation %q, timestamp %q, suberror %q\nwant  %q, %q, %q, %q",
					e.TraceID, e.CorrelationID, e.Timestamp, e.SubError, tt.trace, tt.corr, tt.stamp, tt.subErr)
			}
			aadCheckClean(t, e)
		})
	}
}

// TestParseErrorExcerpt covers bodies that are neither an OAuth JSON error
// nor a form: the error names the status and gives a short excerpt (an HTML
// page's title), without any credential a gateway echoed from the request.
func TestParseErrorExcerpt(t *testing.T) {
	const (
		secret  = "Xq8Q~k2vR4mT7wY1zB5nC9dF3gH6jL0pS2uV4xA"
		refresh = "0.AXkAb3Jk2Lm4Np6Qr8St0Uv2Wx4Yz6Ab8Cd0Ef2Gh4Ij6Kl8Mn0Op2Qr4St6Uv"
		jwt     = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL291dGxvb2sub2ZmaWNlMzY1LmNvbSJ9.c2lnbmF0dXJl"
	)
	tests := []struct {
		name, body, wantDesc, wantError string
	}{
		{name: "waf page echoing the form", body: "<html><head><title>403 Forbidden</title></head><body><p>Request blocked: grant_type=refresh_token&refresh_token=" + refresh + "&client_secret=" + secret + "</p></body></html>",
			wantDesc: "403 Forbidden", wantError: "http 403: 403 Forbidden"},
		{name: "plain text echoing the form", body: "request rejected: client_id=abc&client_secret=" + secret + "&code=" + refresh + "&password=hunter2",
			wantDesc: "request rejected: client_id=abc&client_secret=[redacted]&code=[redacted]&password=[redacted]"},
		{name: "plain text echoing a header", body: "401 Unauthorized\nAuthorization: Bearer " + jwt + "\nAuthorization: Basic dXNlcjpwYXNzd29yZA==",
			wantDesc: "401 Unauthorized Authorization: Bearer [redacted] Authorization: Basic [redacted]"},
		{name: "json echoing a token", body: `{"message":"bad token","access_token":"` + jwt + `"}`,
			wantDesc: `{"message":"bad token","access_token":"[redacted]"}`},
		{name: "token cut by the scan limit", body: "code=" + strings.Repeat("A1b", 2717) + " " + secret + refresh,
			wantDesc: "code=[redacted]"},
		{name: "error url and ids stay", body: "see https://login.microsoftonline.com/error?code=50058 trace 0000aaaa-11bb-cccc-dd22-eeeeee333333 at login.microsoftonline.com/common/oauth2/v2.0/token",
			wantDesc: "see https://login.microsoftonline.com/error?code=50058 trace 0000aaaa-11bb-cccc-dd22-eeeeee333333 at login.microsoftonline.com/common/oauth2/v2.0/token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := ParseError(403, []byte(tt.body))
			if e.Description != tt.wantDesc {
				t.Errorf("Description = %q\nwant          %q", e.Description, tt.wantDesc)
			}
			if tt.wantError != "" && e.Error() != tt.wantError {
				t.Errorf("Error() = %q, want %q", e.Error(), tt.wantError)
			}
			for _, s := range []string{secret[:20], refresh[:20], jwt[40:60], "hunter2", "dXNlcjpwYXNzd29yZA"} {
				if strings.Contains(e.Error(), s) || strings.Contains(e.Description, s) || strings.Contains(e.Fix(), s) {
					t.Errorf("the error shows a credential: %q", e.Description)
				}
			}
			aadCheckClean(t, e)
		})
	}
}
