package testkit

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/modauth/modauth/m365sim"
)

// Product plays the business product: a client of the tenant of its own,
// not modauth's flows, so its sign-ins carry no modauth mark. It signs in
// with whatever secret its settings screen holds.
type Product struct {
	Sim      *m365sim.Sim
	ClientID string
	Secret   string
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
	var body struct {
		RefreshToken string `json:"refresh_token"`
	}
	err := p.post("token", form, &body)
	return body.RefreshToken, err
}

// post sends a form to the tenant's endpoint and decodes the answer; an
// error answer is the error.
func (p *Product) post(endpoint string, form url.Values, out any) error {
	resp, err := p.Sim.HTTPClient().Post(p.Sim.URL+"/"+p.Sim.Tenant.ID+"/oauth2/v2.0/"+endpoint, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
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
