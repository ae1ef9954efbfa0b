package m365sim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// Error is an identity-platform error as Microsoft Entra sends it: an OAuth
// error code, an AADSTS number and a description. The simulator writes it as
// the real JSON body, and returns it from its Go API (SignIn, ApproveDevice)
// where a person would have seen it on a page.
type Error struct {
	Status int    // HTTP status for the JSON body
	Err    string // OAuth error: invalid_grant, invalid_client, ...
	Code   int    // AADSTS number; 0 for errors that carry none
	Text   string // the description after "AADSTSnnnn: "
}

func (e *Error) Error() string {
	if e.Code == 0 {
		return e.Err + ": " + e.Text
	}
	return fmt.Sprintf("AADSTS%d: %s", e.Code, e.Text)
}

func aad(status int, oauthErr string, code int, format string, args ...any) *Error {
	return &Error{Status: status, Err: oauthErr, Code: code, Text: fmt.Sprintf(format, args...)}
}

// errorBody is the real shape of a v2 token-endpoint error.
type errorBody struct {
	Error         string `json:"error"`
	Description   string `json:"error_description"`
	Codes         []int  `json:"error_codes,omitempty"`
	Timestamp     string `json:"timestamp"`
	TraceID       string `json:"trace_id"`
	CorrelationID string `json:"correlation_id"`
	ErrorURI      string `json:"error_uri,omitempty"`
	SubError      string `json:"suberror,omitempty"`
}

// writeError sends e the way login.microsoftonline.com does: the description
// carries the AADSTS line followed by trace, correlation and timestamp lines.
func (s *Sim) writeError(w http.ResponseWriter, e *Error) {
	now := s.Clock.Now().UTC()
	trace, corr := s.newGUID(), s.newGUID()
	stamp := now.Format("2006-01-02 15:04:05Z")
	b := errorBody{
		Error:         e.Err,
		Timestamp:     stamp,
		TraceID:       trace,
		CorrelationID: corr,
	}
	first := e.Text
	if e.Code != 0 {
		first = fmt.Sprintf("AADSTS%d: %s", e.Code, e.Text)
		b.Codes = []int{e.Code}
		b.ErrorURI = fmt.Sprintf("%s/error?code=%d", s.URL, e.Code)
	}
	if e.Code == 65001 {
		b.SubError = "consent_required"
	}
	b.Description = strings.Join([]string{first, "Trace ID: " + trace, "Correlation ID: " + corr, "Timestamp: " + stamp}, "\r\n")
	writeJSON(w, e.Status, b)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// Common errors, worded after the real service.
func errTenantNotFound(t string) *Error {
	return aad(400, "invalid_tenant", 90002, "Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.", t)
}

func errClientNotFound(clientID, tenant string) *Error {
	return aad(400, "unauthorized_client", 700016, "Application with identifier '%s' was not found in the directory '%s'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.", clientID, tenant)
}
