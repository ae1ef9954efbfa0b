package testkit

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/modauth/modauth/m365sim"
)

// Product plays the business product: a client of the tenant of its own,
// not modauth's flows, so its sign-ins carry no modauth mark. It signs in
// with whatever secret its settings screen holds, or with the certificate
// file it was given (PEM: certificate and private key), signing RS256
// assertions with x5t as many products' older libraries do.
type Product struct {
	Sim *m365sim.Sim
	// Tenant is the one the product's app is in; nil: the simulator's own.
	Tenant   *m365sim.Tenant
	ClientID string
	Secret   string
	PEM      []byte
}

// SignIn takes an app-only Graph token, as the product's server does; the
// error is the service's answer.
func (p *Product) SignIn() error {
	_, err := p.token(url.Values{"grant_type": {"client_credentials"}, "scope": {"https://graph.microsoft.com/.default"}})
	return err
}

// Refresh redeems a user's refresh token with the product's secret and
// returns the new one, as the product's sync does.
func (p *Product) Refresh(refreshToken, scope string) (string, error) {
	return p.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}, "scope": {scope}})
}

// SignInUser signs upn in to the product by device code, the person
// approving at once, and returns the product's refresh token for them.
func (p *Product) SignInUser(upn, scope string) (string, error) {
	var dc struct {
		DeviceCode string `json:"device_code"`
		UserCode   string `json:"user_code"`
	}
	if err := p.post("devicecode", url.Values{"client_id": {p.ClientID}, "scope": {scope}}, &dc); err != nil {
		return "", err
	}
	if err := p.Sim.ApproveDevice(dc.UserCode, upn); err != nil {
		return "", err
	}
	return p.token(url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}, "device_code": {dc.DeviceCode}})
}

func (p *Product) token(form url.Values) (string, error) {
	form.Set("client_id", p.ClientID)
	if p.Secret != "" {
		form.Set("client_secret", p.Secret)
	}
	if len(p.PEM) > 0 {
		jwt, err := p.assertion()
		if err != nil {
			return "", err
		}
		form.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
		form.Set("client_assertion", jwt)
	}
	var body struct {
		RefreshToken string `json:"refresh_token"`
	}
	err := p.post("token", form, &body)
	return body.RefreshToken, err
}

// post sends a form to the tenant's endpoint and decodes the answer; an
// error answer is the error.
func (p *Product) post(endpoint string, form url.Values, out any) error {
	tenant := p.Tenant
	if tenant == nil {
		tenant = p.Sim.Tenant
	}
	resp, err := p.Sim.HTTPClient().Post(p.Sim.URL+"/"+tenant.ID+"/oauth2/v2.0/"+endpoint, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&e)
		return fmt.Errorf("product sign-in: %s: %s", e.Error, e.Description)
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// assertion signs a client assertion with the product's certificate file.
func (p *Product) assertion() (string, error) {
	var cert *x509.Certificate
	var key *rsa.PrivateKey
	for rest := p.PEM; ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			break
		}
		switch b.Type {
		case "CERTIFICATE":
			c, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				return "", fmt.Errorf("product: certificate file: %w", err)
			}
			cert = c
		case "PRIVATE KEY":
			k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
			if err != nil {
				return "", fmt.Errorf("product: certificate file: %w", err)
			}
			key, _ = k.(*rsa.PrivateKey)
		}
	}
	if cert == nil || key == nil {
		return "", fmt.Errorf("product: the certificate file has no certificate or no RSA private key")
	}
	thumb, jti := sha1.Sum(cert.Raw), make([]byte, 16)
	rand.Read(jti)
	now := p.Sim.Clock.Now()
	enc := func(v any) string { b, _ := json.Marshal(v); return base64.RawURLEncoding.EncodeToString(b) }
	input := enc(map[string]string{"alg": "RS256", "typ": "JWT", "x5t": base64.RawURLEncoding.EncodeToString(thumb[:])}) + "." +
		enc(map[string]any{"aud": p.Sim.URL + "/" + p.Sim.Tenant.ID + "/oauth2/v2.0/token", "iss": p.ClientID, "sub": p.ClientID,
			"jti": fmt.Sprintf("%x", jti), "nbf": now.Unix(), "exp": now.Add(10 * time.Minute).Unix()})
	digest := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, digest[:])
	if err != nil {
		return "", err
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}
