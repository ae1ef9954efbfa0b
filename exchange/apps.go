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
