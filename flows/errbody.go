package flows

import (
	"bytes"
	"encoding/json"
	"errors"
	"regexp"
	"strings"
)

// maxJSONBody bounds the copy of an error body that is decoded as JSON. An
// identity-platform error object is a few kilobytes at most, claims
// challenge included.
const maxJSONBody = 64 << 10

// decodeFirstJSONObject decodes the first JSON object of body into v, as
// servers really send error bodies: after a byte order mark or white space,
// followed by anything (proxies and Entra's own error pages append an HTML
// page), and with raw line breaks or tabs inside strings (Entra's
// error_description carries "\r\n", which some proxies pass on unescaped).
// It reports whether an object was read. A field of an unexpected type
// spoils only that field.
func decodeFirstJSONObject(body []byte, v any) bool {
	body = bytes.TrimLeft(body, " \t\r\n\uFEFF")
	if len(body) == 0 || body[0] != '{' {
		return false
	}
	data := escapeControlsInStrings(body[:min(len(body), maxJSONBody)])
	// The decoder reads one value and stops, whatever follows it.
	var typeErr *json.UnmarshalTypeError
	if err := json.NewDecoder(bytes.NewReader(data)).Decode(v); err != nil && !errors.As(err, &typeErr) {
		return false
	}
	return true
}

// escapeControlsInStrings returns a copy of data in which the control
// characters inside JSON strings, which JSON forbids raw, are escaped.
// Outside strings, data is copied as it is.
func escapeControlsInStrings(data []byte) []byte {
	const hex = "0123456789abcdef"
	out := make([]byte, 0, len(data)+16)
	inString, escaped := false, false
	for _, c := range data {
		switch {
		case !inString:
			inString = c == '"'
		case escaped:
			escaped = false
		case c == '\\':
			escaped = true
		case c == '"':
			inString = false
		case c < 0x20:
			out = append(out, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			continue
		}
		out = append(out, c)
	}
	return out
}

// maxExcerptScan bounds how much of a body that is neither JSON nor a form
// is looked at for its excerpt.
const maxExcerptScan = 8 << 10

// bodyExcerpt is what an error keeps of a body that is neither an OAuth JSON
// error nor a form: the title of an HTML page, or else the start of the
// text, with anything that looks like a credential replaced, as one clean
// line of at most maxRaw bytes. Gateways and proxies sometimes echo the
// request, which carries secrets, codes and tokens.
func bodyExcerpt(body []byte) string {
	s := string(body[:min(len(body), maxExcerptScan)])
	if title := htmlTitle(s); title != "" {
		s = title
	}
	return cleanText(redactCredentials(s), maxRaw)
}

var titleRE = regexp.MustCompile(`(?is)<title[^>]*>(.*?)</title>`)

// htmlTitle returns the text of the first <title> element of s, or "".
func htmlTitle(s string) string {
	m := titleRE.FindStringSubmatch(s)
	if m == nil {
		return ""
	}
	return strings.TrimSpace(m[1])
}

const redacted = "[redacted]"

var (
	// The value of a credential parameter, as a form (client_secret=…), a
	// JSON member ("refresh_token":"…") or a header-like line.
	credentialParamRE = regexp.MustCompile(`(?i)\b(client_secret|client_assertion|assertion|refresh_token|access_token|id_token|device_code|code_verifier|code|password)("?\s*[:=]\s*"?)([^\s&"',;<>]+)`)
	// An Authorization header value.
	authHeaderRE = regexp.MustCompile(`(?i)\b(bearer|basic)(\s+)[A-Za-z0-9._~+/=-]+`)
	// A long run of base64url characters: a JWT, a refresh token, an
	// authorization code, a secret value. GUIDs (36 characters), which help
	// Microsoft's support, are shorter; URL paths have slashes.
	tokenLikeRE = regexp.MustCompile(`[A-Za-z0-9._~+=-]{40,}`)
)

// redactCredentials replaces the credentials in s by [redacted]. A purely
// numeric code= is kept: it is an AADSTS number in an error URL.
func redactCredentials(s string) string {
	s = credentialParamRE.ReplaceAllStringFunc(s, func(m string) string {
		sub := credentialParamRE.FindStringSubmatch(m)
		if strings.EqualFold(sub[1], "code") && strings.Trim(sub[3], "0123456789") == "" {
			return m
		}
		return sub[1] + sub[2] + redacted
	})
	s = authHeaderRE.ReplaceAllString(s, "${1}${2}"+redacted)
	return tokenLikeRE.ReplaceAllStringFunc(s, func(m string) string {
		if looksRandom(m) {
			return redacted
		}
		return m
	})
}

// looksRandom reports whether s mixes upper case, lower case and digits, as
// tokens and secrets do and host names (lower case) do not.
func looksRandom(s string) bool {
	return strings.ContainsAny(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") &&
		strings.ContainsAny(s, "abcdefghijklmnopqrstuvwxyz") &&
		strings.ContainsAny(s, "0123456789")
}
