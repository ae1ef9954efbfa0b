package flows

import (
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
)

const (
	jwtTestKid    = "key-1"
	jwtTestTenant = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	jwtTestClient = "11111111-2222-3333-4444-555555555555"
	jwtTestIssuer = "https://login.microsoftonline.com/" + jwtTestTenant + "/v2.0"
)

var jwtTestNow = time.Date(2026, 11, 23, 16, 0, 0, 0, time.UTC)

// jwtTestKey is one 2048-bit key for the whole package: generating is slow.
var jwtTestKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

func jwtB64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func jwtJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return jwtB64(b)
}

// jwtSign builds a compact RS256 token by hand.
func jwtSign(t testing.TB, key *rsa.PrivateKey, header, claims map[string]any) string {
	t.Helper()
	input := jwtJSON(t, header) + "." + jwtJSON(t, claims)
	digest := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + jwtB64(sig)
}

func rsaKey(pub *rsa.PublicKey, kid string) JWK {
	return JWK{Kty: "RSA", Use: "sig", Kid: kid, N: jwtB64(pub.N.Bytes()), E: jwtB64(big.NewInt(int64(pub.E)).Bytes())}
}

func jwtTestSet() JWKS {
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return JWKS{Keys: []JWK{rsaKey(&other.PublicKey, "key-0"), rsaKey(&jwtTestKey().PublicKey, jwtTestKid)}}
}

func jwtHeader() map[string]any {
	return map[string]any{"typ": "JWT", "alg": "RS256", "kid": jwtTestKid}
}

// jwtIDClaims are the claims of a v2 id_token, valid at jwtTestNow.
func jwtIDClaims() map[string]any {
	return map[string]any{
		"iss":                jwtTestIssuer,
		"sub":                "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ",
		"aud":                jwtTestClient,
		"tid":                jwtTestTenant,
		"oid":                "00000000-0000-0000-66f3-3332eca7ea81",
		"preferred_username": "alice@contoso.com",
		"name":               "Alice Example",
		"nonce":              "n-0S6_WzA2Mj",
		"ver":                "2.0",
		"iat":                jwtTestNow.Add(-10 * time.Minute).Unix(),
		"nbf":                jwtTestNow.Add(-10 * time.Minute).Unix(),
		"exp":                jwtTestNow.Add(50 * time.Minute).Unix(),
	}
}

func jwtWith(m map[string]any, kv ...any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(out, kv[i].(string))
		} else {
			out[kv[i].(string)] = kv[i+1]
		}
	}
	return out
}

// jwtCheckSecret fails if err's message holds the token or a part of it.
func jwtCheckSecret(t *testing.T, err error, token string) {
	t.Helper()
	if err == nil {
		return
	}
	msg := err.Error()
	if token != "" && strings.Contains(msg, token) {
		t.Errorf("error contains the token: %q", msg)
	}
	for _, part := range strings.Split(token, ".") {
		if len(part) >= 8 && strings.Contains(msg, part) {
			t.Errorf("error contains part of the token: %q", msg)
		}
	}
	if msg != strings.ToLower(msg[:1])+msg[1:] {
		t.Errorf("error starts upper-case: %q", msg)
	}
}

func TestJWTVerify(t *testing.T) {
	set := jwtTestSet()
	key := jwtTestKey()
	good := jwtSign(t, key, jwtHeader(), jwtIDClaims())
	parts := strings.Split(good, ".")

	c, err := set.Verify(good)
	if err != nil {
		t.Fatalf("Verify(good) = %v", err)
	}
	if c.Oid != "00000000-0000-0000-66f3-3332eca7ea81" || c.Aud != jwtTestClient || c.Exp != jwtTestNow.Add(50*time.Minute).Unix() {
		t.Errorf("claims = %+v", c)
	}

	tampered := parts[0] + "." + jwtJSON(t, jwtWith(jwtIDClaims(), "oid", "someone-else")) + "." + parts[2]
	hs256Header := jwtJSON(t, map[string]any{"alg": "HS256", "kid": jwtTestKid})
	mac := hmac.New(sha256.New, []byte(set.Keys[1].N)) // the classic key confusion attack
	mac.Write([]byte(hs256Header + "." + parts[1]))

	bad := func(mod func(*JWK)) JWKS {
		k := rsaKey(&key.PublicKey, jwtTestKid)
		mod(&k)
		return JWKS{Keys: []JWK{k}}
	}
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name  string
		set   JWKS
		token string
		want  string
	}{
		{"tampered payload", set, tampered, "bad signature"},
		{"signature of another token", set, parts[0] + "." + parts[1] + "." + strings.Split(jwtSign(t, key, jwtHeader(), jwtWith(jwtIDClaims(), "nonce", "x")), ".")[2], "bad signature"},
		{"signed by another key", set, jwtSign(t, small, jwtHeader(), jwtIDClaims()), "bad signature"},
		{"unknown kid", set, jwtSign(t, key, jwtWith(jwtHeader(), "kid", "key-9"), jwtIDClaims()), "not found"},
		{"no kid", set, jwtSign(t, key, jwtWith(jwtHeader(), "kid", nil), jwtIDClaims()), "not found"},
		{"alg none", set, jwtJSON(t, map[string]any{"alg": "none"}) + "." + parts[1] + ".", "not RS256"},
		{"alg HS256", set, hs256Header + "." + parts[1] + "." + jwtB64(mac.Sum(nil)), "not RS256"},
		{"no alg", set, jwtSign(t, key, jwtWith(jwtHeader(), "alg", nil), jwtIDClaims()), "not RS256"},
		{"empty set", JWKS{}, good, "not found"},
		{"two parts", set, parts[0] + "." + parts[1], "2 parts"},
		{"signature not base64", set, parts[0] + "." + parts[1] + ".!!!", "signature is not valid base64url"},
		{"header not base64", set, "*." + parts[1] + "." + parts[2], "header is not valid base64url"},
		{"header not JSON", set, jwtB64([]byte("{alg")) + "." + parts[1] + "." + parts[2], "header is not valid JSON"},
		{"e empty", bad(func(k *JWK) { k.E = "" }), good, "exponent"},
		{"e one", bad(func(k *JWK) { k.E = "AQ" }), good, "exponent"},
		{"e even", bad(func(k *JWK) { k.E = "AQAA" }), good, "exponent"},
		{"e huge", bad(func(k *JWK) { k.E = jwtB64(make([]byte, 9)) + "AQ" }), good, "exponent"},
		{"e not base64", bad(func(k *JWK) { k.E = "A?" }), good, "exponent is not valid base64url"},
		{"n empty", bad(func(k *JWK) { k.N = "" }), good, "modulus has 0 bits"},
		{"n not base64", bad(func(k *JWK) { k.N = "n/+" }), good, "modulus is not valid base64url"},
		{"n too small", bad(func(k *JWK) { *k = rsaKey(&small.PublicKey, jwtTestKid) }), jwtSign(t, small, jwtHeader(), jwtIDClaims()), "modulus has 1024 bits"},
		{"n of another key", bad(func(k *JWK) { k.N = set.Keys[0].N }), good, "bad signature"},
		{"kty EC", bad(func(k *JWK) { k.Kty = "EC" }), good, "not an RSA signature key"},
		{"use enc", bad(func(k *JWK) { k.Use = "enc" }), good, "not an RSA signature key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.set.Verify(tt.token)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Verify() = %v, want an error containing %q", err, tt.want)
			}
			jwtCheckSecret(t, err, tt.token)
		})
	}
}

func TestJWTValidateIDToken(t *testing.T) {
	set := jwtTestSet()
	key := jwtTestKey()
	sign := func(kv ...any) string { return jwtSign(t, key, jwtHeader(), jwtWith(jwtIDClaims(), kv...)) }

	tests := []struct {
		name      string
		token     string
		issuer    string
		nonce     string
		now       time.Time
		wantError string // "" for success
	}{
		{"good", sign(), jwtTestIssuer, "n-0S6_WzA2Mj", jwtTestNow, ""},
		{"no nonce wanted", sign("nonce", nil), jwtTestIssuer, "", jwtTestNow, ""},
		{"aud as array", sign("aud", []string{jwtTestClient, "other"}), jwtTestIssuer, "", jwtTestNow, ""},
		{"issuer template", sign(), "https://login.microsoftonline.com/{tenantid}/v2.0", "", jwtTestNow, ""},
		{"expired within skew", sign(), jwtTestIssuer, "", jwtTestNow.Add(54 * time.Minute), ""},
		{"expired", sign(), jwtTestIssuer, "", jwtTestNow.Add(56 * time.Minute), "expired"},
		{"no exp", sign("exp", nil), jwtTestIssuer, "", jwtTestNow, "no expiry"},
		{"not yet valid", sign(), jwtTestIssuer, "", jwtTestNow.Add(-20 * time.Minute), "not valid yet"},
		{"wrong issuer", sign("iss", "https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0"), jwtTestIssuer, "", jwtTestNow, "not issued by " + jwtTestIssuer},
		{"v1 issuer", sign("iss", "https://sts.windows.net/"+jwtTestTenant+"/"), jwtTestIssuer, "", jwtTestNow, "not issued by"},
		{"template with other tenant", sign("tid", "9188040d-6c67-4c5b-b112-36a304b66dad"), "https://login.microsoftonline.com/{tenantid}/v2.0", "", jwtTestNow, "not issued by"},
		{"wrong aud", sign("aud", "99999999-2222-3333-4444-555555555555"), jwtTestIssuer, "", jwtTestNow, "not for client ID " + jwtTestClient},
		{"wrong aud first in array", sign("aud", []string{"other", jwtTestClient}), jwtTestIssuer, "", jwtTestNow, "not for client ID"},
		{"nonce mismatch", sign(), jwtTestIssuer, "another-nonce", jwtTestNow, "nonce does not match"},
		{"nonce missing", sign("nonce", nil), jwtTestIssuer, "n-0S6_WzA2Mj", jwtTestNow, "nonce does not match"},
		{"bad signature", sign()[:100] + "x" + sign()[101:], jwtTestIssuer, "", jwtTestNow, "jwt:"},
		{"no issuer given", sign(), "", "", jwtTestNow, "required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := set.ValidateIDToken(tt.token, tt.issuer, jwtTestClient, tt.nonce, tt.now)
			if tt.wantError == "" {
				if err != nil {
					t.Fatalf("ValidateIDToken() = %v", err)
				}
				if c.Tid != jwtTestTenant || c.PreferredUsername != "alice@contoso.com" {
					t.Errorf("claims = %+v", c)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantError) {
				t.Fatalf("ValidateIDToken() = %v, want an error containing %q", err, tt.wantError)
			}
			jwtCheckSecret(t, err, tt.token)
		})
	}
}

func TestParseClaims(t *testing.T) {
	unsigned := func(payload string) string { return jwtB64([]byte(`{"alg":"none"}`)) + "." + payload + "." }
	accessToken := unsigned(jwtJSON(t, map[string]any{
		"aud": "https://outlook.office365.com", "iss": "https://sts.windows.net/" + jwtTestTenant + "/",
		"appid": jwtTestClient, "scp": "EWS.AccessAsUser.All", "roles": []string{"full_access_as_app"},
		"ver": "1.0", "exp": 1.7e9, "iat": "1699990000",
	}))
	c, err := ParseClaims(accessToken)
	if err != nil {
		t.Fatal(err)
	}
	want := Claims{
		Iss: "https://sts.windows.net/" + jwtTestTenant + "/", Aud: "https://outlook.office365.com",
		AppID: jwtTestClient, Scp: "EWS.AccessAsUser.All", Roles: []string{"full_access_as_app"},
		Ver: "1.0", Exp: 1_700_000_000, Iat: 1_699_990_000,
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("ParseClaims() =\n%+v\nwant\n%+v", c, want)
	}
	if c.Expiry() != time.Unix(1_700_000_000, 0) || !(Claims{}).Expiry().IsZero() {
		t.Errorf("Expiry() = %v", c.Expiry())
	}

	for _, tt := range []struct {
		payload map[string]any
		wantAud string
	}{
		{map[string]any{"aud": []string{"a", "b"}}, "a"},
		{map[string]any{"aud": []string{}}, ""},
		{map[string]any{"aud": nil}, ""},
		{map[string]any{}, ""},
	} {
		c, err := ParseClaims(unsigned(jwtJSON(t, tt.payload)))
		if err != nil || c.Aud != tt.wantAud {
			t.Errorf("aud %v: got %q, %v; want %q", tt.payload["aud"], c.Aud, err, tt.wantAud)
		}
	}
	if c, _ := ParseClaims(unsigned(jwtJSON(t, map[string]any{"azp": "v2-client"}))); c.AppID != "v2-client" {
		t.Errorf("azp: AppID = %q", c.AppID)
	}

	for _, tt := range []struct {
		name, token, want string
	}{
		{"empty", "", "has 1 parts"},
		{"one part", "c2VjcmV0LXRva2VuLXZhbHVl", "has 1 parts"},
		{"four parts", "a.b.c.d", "has 4 parts"},
		{"payload not base64", "eyJhbGciOiJub25lIn0.c2Vj*cmV0.", "payload is not valid base64url"},
		{"payload not JSON", unsigned(jwtB64([]byte("secret-value-not-json"))), "payload is not valid JSON (at byte 1)"},
		{"payload not object", unsigned(jwtB64([]byte(`["secret"]`))), "payload is not a JSON object"},
		{"roles not array", unsigned(jwtJSON(t, map[string]any{"roles": "secret-role"})), "payload field roles has the wrong type"},
		{"exp not number", unsigned(jwtJSON(t, map[string]any{"exp": true})), "payload field exp has the wrong type"},
		{"exp huge", unsigned(jwtB64([]byte(`{"exp":1e300}`))), "payload field exp is not a time"},
		{"aud object", unsigned(jwtJSON(t, map[string]any{"aud": map[string]any{"secret": 1}})), "payload field aud has the wrong type"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseClaims(tt.token)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("ParseClaims() = %v, want an error containing %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("error quotes the token's content: %q", err)
			}
			jwtCheckSecret(t, err, tt.token)
		})
	}
}

// jwtClaimsMap is the wire form of c, as Entra ID would write it.
func jwtClaimsMap(c Claims) map[string]any {
	m := map[string]any{
		"iss": c.Iss, "sub": c.Sub, "aud": c.Aud, "tid": c.Tid, "oid": c.Oid,
		"preferred_username": c.PreferredUsername, "name": c.Name, "email": c.Email,
		"nonce": c.Nonce, "ver": c.Ver, "scp": c.Scp, "appid": c.AppID,
		"exp": c.Exp, "iat": c.Iat, "nbf": c.Nbf,
	}
	if c.Roles != nil {
		m["roles"] = c.Roles
	}
	return m
}

func FuzzParseClaims(f *testing.F) {
	key := jwtTestKey()
	f.Add(jwtSign(f, key, jwtHeader(), jwtIDClaims()), "https://login.microsoftonline.com/x/v2.0", "client", "nonce", "Alice", int64(1_700_000_000), "role")
	f.Add("a.b.c", "", "", "", "", int64(0), "")
	f.Add("eyJhbGciOiJub25lIn0.e30.", "iss", "aud", "", "", int64(-1), "")
	f.Add("..", "\x00", "\u2028", "é", "\"", int64(1<<62), "a,b")
	f.Fuzz(func(t *testing.T, token, iss, aud, nonce, name string, exp int64, role string) {
		// Any input: no panic, and an error never quotes a token with a dot
		// in it (a dotless token could be a substring of any fixed message).
		if _, err := ParseClaims(token); err != nil && strings.Contains(token, ".") && strings.Contains(err.Error(), token) {
			t.Errorf("error %q contains the token", err)
		}

		// Claims round-trip through an unsigned token.
		for _, s := range []string{iss, aud, nonce, name, role} {
			if !utf8.ValidString(s) {
				return // JSON would replace the invalid bytes
			}
		}
		want := Claims{Iss: iss, Aud: aud, Nonce: nonce, Name: name, Sub: name + iss, Exp: exp, Iat: exp / 2, Nbf: -exp}
		if role != "" {
			want.Roles = strings.Split(role, ",")
		}
		tok := jwtB64([]byte(`{"alg":"none"}`)) + "." + jwtJSON(t, jwtClaimsMap(want)) + "."
		got, err := ParseClaims(tok)
		if err != nil {
			t.Fatalf("ParseClaims(round trip) = %v", err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("round trip:\n got %+v\nwant %+v", got, want)
		}
	})
}
