package exchange

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"
)

// ewsAnswer is one HTTP answer to an EWS request, with what the request
// sent that an error must never repeat.
type ewsAnswer struct {
	status  int
	header  http.Header
	url     *url.URL  // where the request went
	body    []byte    // as much as was read
	readErr error     // why reading the body stopped early
	sent    string    // the authentication scheme sent: Bearer, Basic or ""
	secrets []string  // the token, the password and its Basic encoding
	online  bool      // the server is Exchange Online, not on-premises
	at      time.Time // when the answer came, on the client's clock
}

// decode turns the answer into out and msg, or into the error it is. The
// order matters: a 401's page is HTML, and a policy block's 403 has no
// SOAP body.
func (a *ewsAnswer) decode(out any, msg *responseMessage) error {
	if a.readErr != nil {
		// What Exchange said before the connection broke still counts.
		s := scanEWS(a.body)
		if e := cmp.Or(s.faultError(), s.messageError()); e != nil {
			e.Status = a.status
			return e
		}
		return fmt.Errorf("ews: read the answer: %w", a.readErr)
	}
	var err error
	switch {
	case a.status >= 300 && a.status < 400:
		err = a.redirect()
	case a.status == http.StatusUnauthorized:
		err = a.unauthorized()
	case a.status == http.StatusForbidden && !a.soap():
		// A valid token refused before any mailbox is opened: Exchange
		// Online's EwsEnabled / EwsAllowedAppIDs (microsoft.md 9.3).
		// From 1 October 2026 it is most likely the EWS block.
		err = &EWSError{Status: a.status, Message: a.diagnostics(), kind: ErrAccessPolicy}
		if a.ewsBlocked() {
			err = &EWSError{Status: a.status, Message: a.diagnostics(), kind: ErrEWSBlocked, retired: EWSRetired(a.at)}
		}
	case a.html() && a.status/100 == 2:
		err = a.loginPage(a.url)
	case a.status == http.StatusOK || a.soap():
		err = decodeEWS(a, out, msg)
	default:
		err = &EWSError{Status: a.status, Message: a.diagnostics()}
	}
	var ee *EWSError
	if errors.As(err, &ee) && ee.Status == 0 {
		ee.Status = a.status
	}
	return err
}

// soap reports whether the body is a SOAP envelope (a fault or an error
// response comes with HTTP 500), not a proxy's or IIS's page.
func (a *ewsAnswer) soap() bool { return !a.html() && bytes.Contains(a.body, []byte("Envelope")) }

// html reports whether the answer is a web page where XML was expected.
func (a *ewsAnswer) html() bool {
	if mt := a.contentType(); mt == "text/html" || mt == "application/xhtml+xml" {
		return true
	}
	start := bytes.ToLower(bytes.TrimLeftFunc(bytes.TrimPrefix(a.body, []byte("\uFEFF")), unicode.IsSpace))
	return bytes.HasPrefix(start, []byte("<!doctype html")) || bytes.HasPrefix(start, []byte("<html"))
}

func (a *ewsAnswer) contentType() string {
	mt, _, _ := mime.ParseMediaType(a.header.Get("Content-Type"))
	return mt
}

// redirect is a 3xx. EWS never moves to another path: a redirect there
// is a proxy sending the client to its sign-in form.
func (a *ewsAnswer) redirect() error {
	to, err := a.url.Parse(a.header.Get("Location"))
	if err != nil || a.header.Get("Location") == "" {
		return a.bad(errors.New("a redirect without a usable location"))
	}
	if !strings.EqualFold(strings.TrimSuffix(to.Path, "/"), strings.TrimSuffix(a.url.Path, "/")) {
		return a.loginPage(to)
	}
	return &EWSError{Status: a.status, Location: place(to), Message: "ews moved to " + place(to)}
}

func (a *ewsAnswer) loginPage(at *url.URL) *EWSError {
	return &EWSError{Status: a.status, Location: place(at), Message: "a login page answered at " + place(at), kind: ErrLoginPage}
}

// place is a URL without its query and fragment, which can carry the
// page's return address or a session.
func place(u *url.URL) string {
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()
}

// unauthorized is a 401: a refused credential, or a scheme the server
// does not offer at all (Basic switched off on the EWS virtual directory,
// or Bearer on an on-premises server without OAuth).
func (a *ewsAnswer) unauthorized() *EWSError {
	e := &EWSError{Status: a.status, Message: a.diagnostics(), Sent: a.sent, Offered: authSchemes(a.header.Values("WWW-Authenticate"))}
	if a.sent != "" && len(e.Offered) > 0 && !slices.ContainsFunc(e.Offered, func(s string) bool { return strings.EqualFold(s, a.sent) }) {
		e.kind = ErrAuthMethodNotOffered
	}
	return e
}

// authSchemes lists the schemes of WWW-Authenticate headers. One header
// may hold several challenges ("Negotiate, NTLM") and a challenge has
// parameters (`Bearer client_id="…", trusted_issuers="…"`): a comma-separated
// piece whose first word has no "=" starts a challenge.
func authSchemes(headers []string) []string {
	var schemes []string
	for _, h := range headers {
		for _, piece := range splitUnquoted(h, ',') {
			word, _, _ := strings.Cut(strings.TrimSpace(piece), " ")
			if word != "" && !strings.Contains(word, "=") && !slices.Contains(schemes, word) {
				schemes = append(schemes, word)
			}
		}
	}
	return schemes
}

// splitUnquoted splits s at sep outside double quotes.
func splitUnquoted(s string, sep rune) []string {
	var parts []string
	quoted, from := false, 0
	for i, r := range s {
		switch {
		case r == '"':
			quoted = !quoted
		case r == sep && !quoted:
			parts = append(parts, s[from:i])
			from = i + 1
		}
	}
	return append(parts, s[from:])
}

// diagnostics is Exchange's x-ms-diagnostics header, else the status text.
func (a *ewsAnswer) diagnostics() string {
	if d := strings.TrimSpace(a.header.Get("x-ms-diagnostics")); d != "" {
		return a.redact(d)
	}
	return strings.ToLower(http.StatusText(a.status))
}

// bad is ErrBadAnswer: the answer is not EWS SOAP, and the error says what
// came instead.
func (a *ewsAnswer) bad(cause error) *EWSError {
	return &EWSError{Status: a.status, Message: "not an ews soap answer: " + a.redact(cause.Error()),
		kind: ErrBadAnswer, cause: cause, contentType: a.contentType(), start: a.start()}
}

// startBytes is how much of an answer an error quotes.
const startBytes = 64

// start is the answer's first bytes, printable and without any secret.
func (a *ewsAnswer) start() string {
	longest := 0
	for _, s := range a.secrets {
		longest = max(longest, len(s))
	}
	window := a.redact(string(a.body[:min(len(a.body), startBytes+longest)]))
	window = strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) {
			return r
		}
		return ' '
	}, window)
	if len(window) > startBytes {
		window = window[:startBytes]
	}
	return strings.ToValidUTF8(window, "")
}

// redact removes what modauth sent from text the server wrote.
func (a *ewsAnswer) redact(text string) string {
	for _, s := range a.secrets {
		if s != "" {
			text = strings.ReplaceAll(text, s, "[redacted]")
		}
	}
	return text
}
