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

func (p *Product) token(form url.Values) (string, error) {
	form.Set("client_id", p.ClientID)
	form.Set("client_secret", p.Secret)
	resp, err := p.Sim.HTTPClient().Post(p.Sim.URL+"/"+p.Sim.Tenant.ID+"/oauth2/v2.0/token", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var body struct {
		RefreshToken string `json:"refresh_token"`
		Error        string `json:"error"`
		Description  string `json:"error_description"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("product sign-in: %s: %s", body.Error, body.Description)
	}
	return body.RefreshToken, nil
}
