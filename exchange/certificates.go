package exchange

import (
	"context"
	"crypto/sha1"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/modauth/modauth/internal/guid"
)

// keyCredentialBody is a certificate as a PATCH of keyCredentials sends it:
// with its key, since the list sent replaces the app's.
type keyCredentialBody struct {
	KeyID               string    `json:"keyId"`
	DisplayName         string    `json:"displayName"`
	Type                string    `json:"type"`
	Usage               string    `json:"usage"`
	Key                 string    `json:"key"`
	CustomKeyIdentifier string    `json:"customKeyIdentifier,omitempty"`
	StartDateTime       time.Time `json:"startDateTime"`
	EndDateTime         time.Time `json:"endDateTime"`
}

// appKeys reads an application's certificates with their keys: selecting
// keyCredentials returns them (microsoft.md §4.1), and only with them can
// a PATCH keep the certificates it does not change.
func (g *Graph) appKeys(ctx context.Context, appID string) ([]keyCredentialBody, error) {
	var app struct {
		KeyCredentials []struct {
			keyCredentialBody
			Key *string `json:"key"`
		} `json:"keyCredentials"`
	}
	if err := g.Do(ctx, http.MethodGet, appPath(appID)+"?$select=id,appId,keyCredentials", nil, &app); err != nil {
		return nil, err
	}
	keys := make([]keyCredentialBody, 0, len(app.KeyCredentials))
	for _, kc := range app.KeyCredentials {
		if kc.Key == nil || *kc.Key == "" {
			return nil, fmt.Errorf("graph did not return the key of certificate %s, so it cannot be kept: upload the new certificate in Entra ID > App registrations > Certificates & secrets instead", kc.KeyID)
		}
		b := kc.keyCredentialBody
		b.Key = *kc.Key
		keys = append(keys, b)
	}
	return keys, nil
}

// AddCertificate uploads a certificate's public part (DER) to the
// application with client ID appID, valid as long as the certificate, and
// returns it. PATCH replaces the app's whole keyCredentials list, so the
// certificates it has are read with their keys and sent again. It needs
// Application.ReadWrite.All, or OwnedBy for the app's own.
func (g *Graph) AddCertificate(ctx context.Context, appID string, certDER []byte, displayName string) (KeyCredential, error) {
	cert, err := x509.ParseCertificate(certDER)
	if err != nil {
		return KeyCredential{}, fmt.Errorf("add a certificate: not a certificate: %w", err)
	}
	keys, err := g.appKeys(ctx, appID)
	if err != nil {
		return KeyCredential{}, fmt.Errorf("add a certificate to app %s: %w", appID, err)
	}
	keyID, err := guid.New()
	if err != nil {
		return KeyCredential{}, fmt.Errorf("add a certificate to app %s: %w", appID, err)
	}
	sum := sha1.Sum(certDER)
	added := keyCredentialBody{
		KeyID: keyID, DisplayName: displayName, Type: "AsymmetricX509Cert", Usage: "Verify",
		Key: base64.StdEncoding.EncodeToString(certDER), CustomKeyIdentifier: base64.StdEncoding.EncodeToString(sum[:]),
		StartDateTime: cert.NotBefore.UTC(), EndDateTime: cert.NotAfter.UTC(),
	}
	if err := g.putKeys(ctx, appID, append(keys, added)); err != nil {
		return KeyCredential{}, fmt.Errorf("add a certificate to app %s: %w", appID, err)
	}
	return KeyCredential{KeyID: keyID, DisplayName: displayName, Type: added.Type, Usage: added.Usage,
		StartDateTime: added.StartDateTime, EndDateTime: added.EndDateTime}, nil
}

// RemoveCertificate removes the certificate keyID from the application,
// keeping the others.
func (g *Graph) RemoveCertificate(ctx context.Context, appID, keyID string) error {
	keys, err := g.appKeys(ctx, appID)
	if err != nil {
		return fmt.Errorf("remove certificate %s: %w", keyID, err)
	}
	kept := slices.DeleteFunc(keys, func(k keyCredentialBody) bool { return strings.EqualFold(k.KeyID, keyID) })
	if len(kept) == len(keys) {
		return fmt.Errorf("remove certificate %s: app %s has no such certificate: %w", keyID, appID, ErrNotFound)
	}
	if err := g.putKeys(ctx, appID, kept); err != nil {
		return fmt.Errorf("remove certificate %s: %w", keyID, err)
	}
	return nil
}

func (g *Graph) putKeys(ctx context.Context, appID string, keys []keyCredentialBody) error {
	return g.Do(ctx, http.MethodPatch, appPath(appID), map[string]any{"keyCredentials": keys}, nil)
}
