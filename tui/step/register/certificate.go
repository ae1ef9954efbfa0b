package register

import (
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/modauth/modauth/appreg"
	"github.com/modauth/modauth/flows"
	"github.com/modauth/modauth/store"
	"github.com/modauth/modauth/tui/common"
)

// certificateLifetime is a new certificate's: Microsoft advises renewing
// credentials within a year, and the countdown warns before.
const certificateLifetime = 365 * 24 * time.Hour

// ensureCertificate makes the profile's certificate, when it signs in with
// one and has none yet, and seals it; until it is uploaded (its keyId
// unknown) the public part is saved for an upload by hand. It returns the
// note to show: where that file is.
func ensureCertificate(c *common.Context) (string, error) {
	p := c.Profile
	if !p.UsesCertificate() {
		return "", nil
	}
	sc, err := c.DB.ClientCertificate(p.ID)
	if errors.Is(err, store.ErrNotFound) {
		cert, key, err := flows.NewCertificate("modauth "+p.ID, certificateLifetime, c.Now())
		if err != nil {
			return "", err
		}
		if sc, err = (&flows.ClientCertificate{Cert: cert, Key: key}).Stored(""); err != nil {
			return "", err
		}
		if err := c.DB.SetClientCertificate(p.ID, sc); err != nil {
			return "", fmt.Errorf("keep the new certificate: %w", err)
		}
		if c.Profile, err = c.DB.Profile(p.ID); err != nil {
			return "", err
		}
	} else if err != nil {
		return "", err
	}
	if sc.KeyID != "" {
		return "", nil // uploaded by "register for me"
	}
	path := c.SavePath(p.ID + appreg.CertificateFileSuffix)
	err = store.WriteExport(path, func(w io.Writer) error { return pem.Encode(w, &pem.Block{Type: "CERTIFICATE", Bytes: sc.CertDER}) })
	if err != nil {
		return "", fmt.Errorf("save the certificate to upload: %w", err)
	}
	return fmt.Sprintf("Certificate %s… saved to %s: upload it, or r uploads it.", sc.Thumbprint[:8], path), nil
}

// certificateToUpload is the profile's certificate while it is not yet
// uploaded; nil once it is, or when the profile uses a secret.
func certificateToUpload(db *store.DB, p store.Profile) (*flows.ClientCertificate, error) {
	if !p.UsesCertificate() {
		return nil, nil
	}
	sc, err := db.ClientCertificate(p.ID)
	if err != nil || sc.KeyID != "" {
		return nil, err
	}
	return flows.CertificateFromStore(sc)
}
