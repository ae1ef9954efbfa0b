// The rotation of the client secret (or certificate), in its two parts: a
// new one for the product, then the old one retired once the product uses
// the new.

package dashboard

import (
	"errors"
	"fmt"

	tea "charm.land/bubbletea/v2"

	"github.com/modauth/modauth/appreg"
	"github.com/modauth/modauth/exchange"
	"github.com/modauth/modauth/store"
	"github.com/modauth/modauth/tui/common"
)

// rotateOrRetire starts a rotation, or, with one under way, asks to
// retire the old secret when the product is seen on the new one (or the
// admin says so when the sign-ins cannot be read).
func (d *Model) rotateOrRetire(c *common.Context) tea.Cmd {
	rot, ok, err := c.DB.Rotation(d.profile.ID)
	if err != nil {
		return common.ErrCmd(err)
	}
	if !ok {
		what := "client secret"
		if d.profile.UsesCertificate() {
			what = "certificate"
		}
		return common.AskCmd("Rotate the "+what+"? A new one is added beside the old one and proven; you give it to the product (H), and the old one is removed only once the product uses the new one.", "Rotate", "Cancel", d.rotate(c))
	}
	ret, what := d.retirement(c, rot), rot.Credential()
	switch v := ret.Check(c.Now()); {
	case v.Retire:
		return common.AskCmd(fmt.Sprintf("The product signs in with the new %s %s only. Remove the old %[1]s %s now?", what, short(rot.NewKeyID), short(rot.OldKeyID)), "Remove", "Keep", d.retire(c, ret))
	case v.Promote:
		return d.retire(c, ret) // modauth takes the new credential; the old one waits
	case ret.Use == nil:
		ret.Confirmed = true
		return common.AskCmd("Nobody can see the product's sign-ins ("+ret.Unseen+"). Does the product work with the new "+what+"? Only then remove the old one.", "It works: remove", "Keep", d.retire(c, ret))
	default:
		return common.ErrCmd(fmt.Errorf("old %s %s stays: %s", what, short(rot.OldKeyID), v.Why))
	}
}

// retirement is the rotation's second part as the monitor's reading of
// the sign-in log sees it.
func (d *Model) retirement(c *common.Context, rot store.Rotation) appreg.Retirement {
	ret := appreg.Retirement{ClientID: d.profile.ClientID, Rotation: rot}
	log, err := c.DB.SignInLog(d.profile.ID)
	switch {
	case err != nil:
		ret.Unseen = err.Error()
	case log.Unavailable != "" || log.ReadAt.IsZero():
		ret.Unseen = log.Unavailable
		if ret.Unseen == "" {
			ret.Unseen = c.Conn(d.profile).Sees().Why
		}
	default:
		ret.Use = log.Keys
		if ret.Use == nil {
			ret.Use = map[string]store.KeyUse{}
		}
	}
	return ret
}

// writer is Graph with the right to add and remove secrets: the admin's
// who signed in this session, else the app's own.
func (d *Model) writer(c *common.Context) (*exchange.Graph, error) {
	if c.AdminGraph != nil {
		return c.AdminGraph, nil
	}
	cn := c.Conn(d.profile)
	if _, err := cn.Identity(c.Ctx); err != nil {
		return nil, err
	}
	return cn.AppGraph(), nil
}

// rotate adds, proves and stores a new secret (or certificate), and
// records the rotation; the hand-off sheet (H) gives it to the product.
func (d *Model) rotate(c *common.Context) tea.Cmd {
	p := d.profile
	return func() tea.Msg {
		g, err := d.writer(c)
		if err != nil {
			return common.ErrMsg{Err: err}
		}
		if p.UsesCertificate() {
			return rotateCertificate(c, p, g)
		}
		current, err := c.DB.ClientSecret(p.ID)
		if err != nil {
			return common.ErrMsg{Err: fmt.Errorf("rotate secret: this profile has no client secret: %w", err)}
		}
		next, _, err := appreg.Rotation{
			Graph: g, ClientID: p.ClientID, Current: current, Now: c.Now, Sleep: c.Sleep,
			Prove: c.Conn(p).ProveSecret,
			Save:  func(cs store.ClientSecret, r store.Rotation) error { return c.DB.StartRotation(p.ID, r, cs) },
		}.Run(c.Ctx)
		if err != nil {
			return common.ErrMsg{Err: err}
		}
		return common.NoteMsg{Text: fmt.Sprintf("✓ new secret %s added and proven, valid until %s: H hands it to the product; the old one stays until the product uses it", short(next.KeyID), next.Expiry.Format("2 Jan 2006"))}
	}
}

// rotateCertificate makes, uploads, proves and stores a new certificate.
func rotateCertificate(c *common.Context, p store.Profile, g *exchange.Graph) tea.Msg {
	current, err := c.DB.ClientCertificate(p.ID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return common.ErrMsg{Err: fmt.Errorf("rotate certificate: %w", err)}
	}
	next, _, err := appreg.CertificateRotation{
		Graph: g, ClientID: p.ClientID, Subject: "modauth " + p.ID, Current: current, Now: c.Now, Sleep: c.Sleep,
		Prove: c.Conn(p).ProveCertificate,
		Save: func(sc store.ClientCertificate, r store.Rotation) error {
			return c.DB.StartCertificateRotation(p.ID, r, sc)
		},
	}.Run(c.Ctx)
	if err != nil {
		return common.ErrMsg{Err: err}
	}
	return common.NoteMsg{Text: fmt.Sprintf("✓ new certificate %s added and proven, valid until %s: H hands it to the product (s saves it); the old one stays until the product uses it", short(next.KeyID), next.NotAfter.Format("2 Jan 2006"))}
}

// retire moves the rotation on: modauth takes the new secret once the
// product uses it, and the old one is removed once nothing else does.
func (d *Model) retire(c *common.Context, ret appreg.Retirement) tea.Cmd {
	p := d.profile
	return func() tea.Msg {
		g, err := d.writer(c)
		if err != nil {
			return common.ErrMsg{Err: err}
		}
		ret.Graph = g
		rot, err := ret.Run(c.Ctx, c.DB, p.ID, c.Now())
		switch {
		case errors.Is(err, appreg.ErrStillInUse) && !rot.Promoted.IsZero():
			return common.NoteMsg{Text: "✓ the product uses the new " + rot.Credential() + " " + short(rot.NewKeyID) + ": modauth does too now; R removes the old one once nothing signs in with it", Warn: true}
		case err != nil:
			return common.ErrMsg{Err: err}
		}
		return common.NoteMsg{Text: "✓ old " + rot.Credential() + " " + short(rot.OldKeyID) + " removed; the product uses " + short(rot.NewKeyID)}
	}
}
