package flows

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
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
	if len(body) > maxExcerptScan {
		// Drop the word cut in two: its end might have made it a token.
		s = s[:max(0, strings.LastIndexAny(s, wordSeparators))]
	}
	if title := htmlTitle(s); title != "" {
		s = title
	}
	// cleanText grows a string by at most three times (invalid bytes
	// become U+FFFD), so this first call only makes one line of it.
	return cleanText(redactCredentials(cleanText(s, 3*len(s)+1)), maxRaw)
}

// htmlTitle returns the text of the first <title> element of s, or "".
func htmlTitle(s string) string {
	lower := asciiLower(s)
	start := strings.Index(lower, "<title")
	if start < 0 {
		return ""
	}
	open := strings.IndexByte(lower[start:], '>')
	if open < 0 {
		return ""
	}
	from := start + open + 1
	end := strings.Index(lower[from:], "</title>")
	if end < 0 {
		return ""
	}
	return strings.TrimSpace(s[from : from+end])
}

const redacted = "[redacted]"

// The names whose value is a credential: form parameters and JSON members
// (client_secret=…, "refresh_token":"…") and Authorization schemes
// (Bearer …, Basic …).
var (
	credentialParams  = []string{"client_secret", "client_assertion", "assertion", "refresh_token", "access_token", "id_token", "device_code", "code_verifier", "code", "password"}
	credentialSchemes = []string{"bearer", "basic"}
)

// wordSeparators end a parameter's value.
const wordSeparators = " \t\r\n&\"',;<>"

// redactCredentials replaces the credentials in the line s by [redacted]:
// the values of credential parameters (but a numeric code=, which is an
// AADSTS number in an error URL), Authorization values, and long runs of
// token characters that look random (a JWT, a refresh token, a secret).
// It is linear in the length of s.
func redactCredentials(s string) string {
	lower := asciiLower(s)
	var cuts [][2]int // byte ranges of s to replace
	for _, name := range append(credentialParams, credentialSchemes...) {
		for from := 0; ; {
			i := strings.Index(lower[from:], name)
			if i < 0 {
				break
			}
			i += from
			from = i + len(name)
			if i > 0 && isWordByte(lower[i-1]) {
				continue // part of a longer name
			}
			if start, end := credentialValue(lower, from, name); start < end {
				cuts = append(cuts, [2]int{start, end})
			}
		}
	}
	slices.SortFunc(cuts, func(a, b [2]int) int { return a[0] - b[0] })
	var b strings.Builder
	at := 0
	for _, c := range cuts {
		if c[0] < at {
			continue // inside a value already replaced
		}
		b.WriteString(redactTokens(s[at:c[0]]))
		b.WriteString(redacted)
		at = c[1]
	}
	b.WriteString(redactTokens(s[at:]))
	return b.String()
}

// credentialValue returns where the value of the credential name, which
// ends at lower[at], starts and ends; start == end when name is not
// followed by a value.
func credentialValue(lower string, at int, name string) (start, end int) {
	skip := func(i int, set string) int {
		for i < len(lower) && strings.IndexByte(set, lower[i]) >= 0 {
			i++
		}
		return i
	}
	i := at
	if slices.Contains(credentialSchemes, name) {
		if i = skip(i, " "); i == at {
			return 0, 0
		}
		start = i
		for i < len(lower) && (isTokenByte(lower[i]) || lower[i] == '/') {
			i++
		}
		return start, i
	}
	i = skip(skip(i, `"`), " ")
	if i == len(lower) || (lower[i] != ':' && lower[i] != '=') {
		return 0, 0
	}
	start = skip(skip(i+1, " "), `"`)
	end = start
	for end < len(lower) && strings.IndexByte(wordSeparators, lower[end]) < 0 {
		end++
	}
	if name == "code" && strings.Trim(lower[start:end], "0123456789") == "" {
		return 0, 0 // an AADSTS number
	}
	return start, end
}

// redactTokens replaces the runs of token characters of s that are at
// least 40 bytes long and look random. GUIDs (36 characters), which help
// Microsoft's support, are shorter; URL paths have slashes; host names are
// lower case.
func redactTokens(s string) string {
	var b strings.Builder
	run := -1 // start of the current run of token bytes
	for i := 0; i <= len(s); i++ {
		if i < len(s) && isTokenByte(s[i]) {
			if run < 0 {
				run = i
			}
			continue
		}
		if run >= 0 {
			if t := s[run:i]; len(t) >= 40 && looksRandom(t) {
				b.WriteString(redacted)
			} else {
				b.WriteString(t)
			}
			run = -1
		}
		if i < len(s) {
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// isTokenByte reports whether c is a base64url character, or one of the
// others ('.', '~', '+', '=') that tokens and secret values contain.
func isTokenByte(c byte) bool {
	return isWordByte(c) || strings.IndexByte("-.~+=", c) >= 0
}

func isWordByte(c byte) bool {
	return c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// looksRandom reports whether s mixes upper case, lower case and digits, as
// tokens and secrets do.
func looksRandom(s string) bool {
	return strings.ContainsAny(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") &&
		strings.ContainsAny(s, "abcdefghijklmnopqrstuvwxyz") &&
		strings.ContainsAny(s, "0123456789")
}

// asciiLower lowers the ASCII letters of s only, byte by byte, so that byte
// offsets in the result are offsets in s, even in invalid UTF-8.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
