// Reading the error bodies the identity platform sends (JSON, a form, or
// a page from whatever stood in between) into an *Error.

package flows

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

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
