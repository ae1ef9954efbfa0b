package exchange

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// mailMaxReply is how much of a server's answer a MailError keeps.
const mailMaxReply = 200

const mailRedacted = "[redacted]"

// mailClean turns a server's answer into something safe to show and log:
// one line of at most mailMaxReply characters, with the secrets and
// anything that looks like an encoded credential replaced. Some servers
// echo a bad command back, and the probe's commands carry the token.
func mailClean(reply string, secrets []string) string {
	for _, s := range secrets {
		if s != "" {
			reply = strings.ReplaceAll(reply, s, mailRedacted)
		}
	}
	reply = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == utf8.RuneError {
			return ' '
		}
		return r
	}, reply)
	words := strings.Fields(reply)
	for i, w := range words {
		after := i > 0 && strings.HasSuffix(strings.ToLower(words[i-1]), "bearer")
		if after || mailLooksEncoded(w) {
			words[i] = mailRedacted
		}
	}
	reply = strings.Join(words, " ")
	if utf8.RuneCountInString(reply) > mailMaxReply {
		r := []rune(reply)
		reply = string(r[:mailMaxReply-1]) + "…"
	}
	return reply
}

// mailLooksEncoded reports whether a word of a server's answer looks like
// base64 or a JWT: long, and made only of their characters. Host names
// (dots), times (colons) and GUIDs, which Exchange puts in its answers and
// which help its support, stay.
func mailLooksEncoded(w string) bool {
	w = strings.Trim(w, `[](){}<>"',;`)
	if len(w) < 24 || mailIsGUID(w) {
		return false
	}
	if parts := strings.Split(w, "."); len(parts) == 3 {
		for _, p := range parts {
			if len(p) < 8 || !mailBase64Chars(p) {
				return false
			}
		}
		return true // header.payload.signature
	}
	// Long words of plain letters, such as SmtpClientAuthentication, are
	// words; encoded data of this length nearly always has a digit.
	return mailBase64Chars(w) && strings.ContainsAny(w, "0123456789+/=")
}

func mailBase64Chars(s string) bool {
	for _, r := range s {
		switch {
		case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z', '0' <= r && r <= '9':
		case r == '+', r == '/', r == '=', r == '-', r == '_':
		default:
			return false
		}
	}
	return true
}

// mailIsGUID matches 8-4-4-4-12 hex digits.
func mailIsGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, r := range s {
		switch i {
		case 8, 13, 18, 23:
			if r != '-' {
				return false
			}
		default:
			if !unicode.Is(unicode.ASCII_Hex_Digit, r) {
				return false
			}
		}
	}
	return true
}
