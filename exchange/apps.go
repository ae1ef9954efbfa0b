package exchange

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// PasswordCredential is a client secret as Graph describes it. SecretText
// is only set in the answer to AddPassword.
type PasswordCredential struct {
	KeyID         string    `json:"keyId"`
	DisplayName   string    `json:"displayName"`
	Hint          string    `json:"hint"`
	StartDateTime time.Time `json:"startDateTime"`
	EndDateTime   time.Time `json:"endDateTime"`
	SecretText    string    `json:"secretText,omitempty"`
}

// AppPasswords reads an application's client secrets (never their
// values), by its client ID. It needs Application.Read.All.
func (g *Graph) AppPasswords(ctx context.Context, appID string) ([]PasswordCredential, error) {
	var app struct {
		PasswordCredentials []PasswordCredential `json:"passwordCredentials"`
	}
	if err := g.Do(ctx, http.MethodGet, appPath(appID)+"?$select=id,appId,passwordCredentials", nil, &app); err != nil {
		return nil, fmt.Errorf("read secrets of app %s: %w", appID, err)
	}
	return app.PasswordCredentials, nil
}

// KeyCredential is a certificate as Graph describes it (never its key).
type KeyCredential struct {
	KeyID string `json:"keyId"`
	// CustomKeyIdentifier is the certificate's SHA-1 thumbprint as bytes,
	// base64 in JSON (Edm.Binary), as the portal sets it on upload.
	CustomKeyIdentifier []byte    `json:"customKeyIdentifier"`
	DisplayName         string    `json:"displayName"`
	Type                string    `json:"type"`  // AsymmetricX509Cert
	Usage               string    `json:"usage"` // Verify
	StartDateTime       time.Time `json:"startDateTime"`
	EndDateTime         time.Time `json:"endDateTime"`
}

// Thumbprint is the certificate's SHA-1 thumbprint in hex capitals, as
// the portal shows it; "" when Graph gave none.
func (k KeyCredential) Thumbprint() string { return fmt.Sprintf("%X", k.CustomKeyIdentifier) }

// AppCredentials are an application's client secrets and certificates.
type AppCredentials struct {
	Passwords []PasswordCredential `json:"passwordCredentials"`
	Keys      []KeyCredential      `json:"keyCredentials"`
}

// AppCredentials reads every credential of an application, by its client
// ID: secrets (never their values) and certificates (never their keys:
// only selecting "key" returns them). It needs Application.Read.All, on
// the app's own token or, for another app, on a monitoring app's.
func (g *Graph) AppCredentials(ctx context.Context, appID string) (AppCredentials, error) {
	var creds AppCredentials
	if err := g.Do(ctx, http.MethodGet, appPath(appID)+"?$select=id,appId,passwordCredentials,keyCredentials", nil, &creds); err != nil {
		return creds, fmt.Errorf("read credentials of app %s: %w", appID, err)
	}
	return creds, nil
}

// AddPassword adds a client secret to the application with client ID
// appID and returns it with its value.
func (g *Graph) AddPassword(ctx context.Context, appID, displayName string, end time.Time) (PasswordCredential, error) {
	body := map[string]any{"passwordCredential": map[string]any{"displayName": displayName, "endDateTime": end.UTC().Format(time.RFC3339)}}
	var pc PasswordCredential
	if err := g.Do(ctx, http.MethodPost, appPath(appID)+"/addPassword", body, &pc); err != nil {
		return pc, fmt.Errorf("add a client secret: %w", err)
	}
	return pc, nil
}

// RemovePassword removes the client secret keyID from the application.
func (g *Graph) RemovePassword(ctx context.Context, appID, keyID string) error {
	if err := g.Do(ctx, http.MethodPost, appPath(appID)+"/removePassword", map[string]string{"keyId": keyID}, nil); err != nil {
		return fmt.Errorf("remove client secret %s: %w", keyID, err)
	}
	return nil
}

// appPath addresses an application by its client ID.
func appPath(appID string) string { return "/applications(appId='" + url.PathEscape(appID) + "')" }
