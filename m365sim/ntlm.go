package m365sim

import (
	"bytes"
	"crypto/hmac"
	"crypto/md5"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"net/http"
	"strings"
	"unicode/utf16"

	"golang.org/x/crypto/md4" //nolint:staticcheck // NTLM is built on MD4; the simulator checks what clients send
)

// NTLM, as an on-premises Exchange's EWS virtual directory speaks it with
// Windows authentication on: the client sends NEGOTIATE, the server a
// CHALLENGE on the same connection, the client an AUTHENTICATE whose
// NTLMv2 response the server checks against the account's password
// (MS-NLMP 3.3.2). Only what a client needs to prove a password is here:
// no session keys, no signing.

const ntlmSignature = "NTLMSSP\x00"

// The NTLM message types.
const (
	ntlmNegotiate    = 1
	ntlmChallenge    = 2
	ntlmAuthenticate = 3
)

// ntlmFlags are the CHALLENGE's flags: Unicode, NTLM, target info,
// extended session security, the target is a domain.
const ntlmFlags = 0x00000001 | 0x00000004 | 0x00000200 | 0x00010000 | 0x00080000 | 0x00800000

var errNTLM = errors.New("ntlm: bad message")

// ntlmStep answers one NTLM message of a request: the CHALLENGE for a
// NEGOTIATE (kept per connection), or the account the AUTHENTICATE proves.
// Callers hold no lock.
func (s *Sim) ntlmStep(w http.ResponseWriter, r *http.Request, onPrem *onPremEWS) (account string, done bool) {
	scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	msg, err := base64.StdEncoding.DecodeString(strings.TrimSpace(token))
	if err != nil || len(msg) < 12 || string(msg[:8]) != ntlmSignature {
		return "", false
	}
	switch binary.LittleEndian.Uint32(msg[8:12]) {
	case ntlmNegotiate:
		var challenge [8]byte
		s.idMu.Lock()
		binary.LittleEndian.PutUint64(challenge[:], s.rng.Uint64())
		s.idMu.Unlock()
		s.mail.mu.Lock()
		if s.mail.ntlm == nil {
			s.mail.ntlm = map[string][8]byte{}
		}
		s.mail.ntlm[r.RemoteAddr] = challenge
		s.mail.mu.Unlock()
		w.Header().Set("WWW-Authenticate", scheme+" "+base64.StdEncoding.EncodeToString(ntlmChallengeMessage(challenge, onPrem.domain())))
		w.WriteHeader(http.StatusUnauthorized)
		return "", true
	case ntlmAuthenticate:
		s.mail.mu.Lock()
		challenge, ok := s.mail.ntlm[r.RemoteAddr]
		delete(s.mail.ntlm, r.RemoteAddr)
		s.mail.mu.Unlock()
		if !ok {
			return "", false
		}
		user, domain, err := ntlmVerify(msg, challenge, onPrem.password)
		if err != nil || !onPrem.is(user, domain) {
			return "", false
		}
		return onPrem.account, false
	}
	return "", false
}

// ntlmChallengeMessage is a CHALLENGE naming domain, with the target info
// NTLMv2 responses are computed over.
func ntlmChallengeMessage(challenge [8]byte, domain string) []byte {
	name := ntlmUnicode(domain)
	var info bytes.Buffer
	for _, av := range []struct {
		id    uint16
		value []byte
	}{{2, name}, {1, ntlmUnicode("EXCH01")}, {4, ntlmUnicode(strings.ToLower(domain) + ".local")}, {0, nil}} {
		_ = binary.Write(&info, binary.LittleEndian, av.id)
		_ = binary.Write(&info, binary.LittleEndian, uint16(len(av.value)))
		info.Write(av.value)
	}
	const header = 48
	var m bytes.Buffer
	m.WriteString(ntlmSignature)
	le := func(v any) { _ = binary.Write(&m, binary.LittleEndian, v) }
	le(uint32(ntlmChallenge))
	le(uint16(len(name))) // target name
	le(uint16(len(name)))
	le(uint32(header))
	le(uint32(ntlmFlags))
	m.Write(challenge[:])
	m.Write(make([]byte, 8)) // reserved
	le(uint16(info.Len()))   // target info
	le(uint16(info.Len()))
	le(uint32(header + len(name)))
	m.Write(name)
	m.Write(info.Bytes())
	return m.Bytes()
}

// ntlmVerify checks an AUTHENTICATE's NTLMv2 response against password
// and returns the user and domain it names.
func ntlmVerify(msg []byte, challenge [8]byte, password string) (user, domain string, err error) {
	field := func(at int) ([]byte, error) {
		if len(msg) < at+8 {
			return nil, errNTLM
		}
		n := int(binary.LittleEndian.Uint16(msg[at:]))
		off := int(binary.LittleEndian.Uint32(msg[at+4:]))
		if off < 0 || n < 0 || off+n > len(msg) {
			return nil, errNTLM
		}
		return msg[off : off+n], nil
	}
	nt, err := field(20)
	if err != nil || len(nt) < 16+28 {
		return "", "", errNTLM // NTLMv1, or no response at all
	}
	d, err1 := field(28)
	u, err2 := field(36)
	if err1 != nil || err2 != nil {
		return "", "", errNTLM
	}
	user, domain = ntlmString(u), ntlmString(d)
	h := md4.New()
	h.Write(ntlmUnicode(password))
	v2 := hmacMD5(h.Sum(nil), ntlmUnicode(strings.ToUpper(user)+domain))
	if !hmac.Equal(nt[:16], hmacMD5(v2, challenge[:], nt[16:])) {
		return user, domain, errNTLM
	}
	return user, domain, nil
}

func hmacMD5(key []byte, data ...[]byte) []byte {
	m := hmac.New(md5.New, key)
	for _, d := range data {
		m.Write(d)
	}
	return m.Sum(nil)
}

// ntlmUnicode is s in UTF-16LE, as NTLM writes strings.
func ntlmUnicode(s string) []byte {
	var b []byte
	for _, r := range utf16.Encode([]rune(s)) {
		b = binary.LittleEndian.AppendUint16(b, r)
	}
	return b
}

func ntlmString(b []byte) string {
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return string(utf16.Decode(u))
}
