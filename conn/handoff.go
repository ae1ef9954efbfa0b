package conn

import (
	"github.com/modauth/modauth/appreg"
	"github.com/modauth/modauth/store"
)

// Handed is the client secret a hand-off sheet gives the product: the
// new one while a rotation is under way, else the profile's own.
type Handed struct {
	KeyID string
	// Created: modauth made it, so its value may be shown once.
	Created bool
	// Rotation: it is a rotation's new secret, not yet modauth's own.
	Rotation bool
}

// HandOff is the profile's hand-off sheet, the secret it hands over in it
// (masked unless the sheet is written revealed): what the product's own
// settings screen needs.
func HandOff(db *store.DB, p store.Profile) (appreg.HandOff, Handed) {
	in := appreg.HandOffInput{Tenant: Tenant(p), NeedsSecret: p.OnPremises || p.Model == store.AppOnly}
	if plan, err := Plan(p); err == nil && plan != nil {
		in.NeedsSecret = in.NeedsSecret || plan.NeedsSecret
	}
	var handed Handed
	if p.UsesCertificate() {
		in.Certificate, handed = handedCertificate(db, p)
	} else if rot, ok, err := db.Rotation(p.ID); err == nil && ok && rot.Promoted.IsZero() {
		if cs, err := db.RotationSecret(p.ID); err == nil {
			in.Secret, handed = cs.Value, Handed{KeyID: cs.KeyID, Created: true, Rotation: true}
			in.NeedsSecret = true // a rotation is of the secret the product holds
		}
	}
	if in.Secret.IsZero() && !p.UsesCertificate() {
		if cs, err := db.ClientSecret(p.ID); err == nil {
			in.Secret, handed = cs.Value, Handed{KeyID: cs.KeyID, Created: cs.Created}
		}
	}
	if users, err := db.Users(p.ID); err == nil && len(users) > 0 {
		in.Mailbox = Mailbox(users[0])
	}
	h := appreg.NewHandOff(p, in)
	if handed.Rotation {
		what := "client secret"
		if p.UsesCertificate() {
			what = "certificate"
		}
		h.Notes = append([]string{"This is the NEW " + what + " of a rotation: enter it in the product's settings. The old one stays valid until the product is seen using this one."}, h.Notes...)
	}
	return h, handed
}

// handedCertificate is the certificate a sheet hands over: a rotation's
// new one while it is not yet modauth's own, else the profile's.
func handedCertificate(db *store.DB, p store.Profile) (*store.ClientCertificate, Handed) {
	if rot, ok, err := db.Rotation(p.ID); err == nil && ok && rot.Certificate && rot.Promoted.IsZero() {
		if c, err := db.RotationCertificate(p.ID); err == nil {
			return &c, Handed{KeyID: c.KeyID, Created: true, Rotation: true}
		}
	}
	if c, err := db.ClientCertificate(p.ID); err == nil {
		return &c, Handed{KeyID: c.KeyID, Created: true}
	}
	return nil, Handed{}
}
