package appreg

import (
	"cmp"
	"crypto/rand"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/modauth/modauth/store"
)

// A hand-off sheet is what the product's own settings screen needs, in its
// words and order (the vendor guides in shared/seeds): modauth does the
// Entra side, and the product signs its users in itself.

// HandOffField is one field of a product's settings screen.
type HandOffField struct {
	Label, Value string
	// Secret fields are shown masked and written out only on request.
	Secret bool
}

// HandOff is the sheet for one profile.
type HandOff struct {
	Product string
	Screen  string // where the fields are, as the product names it
	Fields  []HandOffField
	Notes   []string
	// Certificate is the certificate handed over, private key and all,
	// for a profile that signs in with one; the sheet written revealed
	// carries it as PEM, and Save writes it as PFX too.
	Certificate *store.ClientCertificate
	// pfx is the PFX file Save wrote and its password, for the sheet.
	pfx struct{ path, password string }
}

// Save writes the sheet, secrets revealed, to path, readable by its owner
// only. A certificate also goes to a PFX file beside it (Windows products
// import that), under a password the sheet holds; the files written are
// returned.
func (h HandOff) Save(path string) ([]string, error) {
	files := []string{path}
	if h.Certificate != nil {
		h.pfx.path = strings.TrimSuffix(path, filepath.Ext(path)) + ".pfx"
		h.pfx.password = rand.Text()
		if err := store.WriteExport(h.pfx.path, func(w io.Writer) error { return h.Certificate.WritePFX(w, h.pfx.password) }); err != nil {
			return nil, err
		}
		files = append(files, h.pfx.path)
	}
	return files, store.WriteExport(path, func(w io.Writer) error { return h.WriteText(w, true) })
}

// HandOffInput is what a sheet is made from besides the profile: the
// tenant as the connection layer gives it, the secret's value when it is
// known, and the mailbox a sending product sends as.
type HandOffInput struct {
	Tenant  string
	Secret  store.Secret
	Mailbox string
	// NeedsSecret: the product signs in with the secret (the plan's
	// NeedsSecret, or on-premises its password); else no secret field.
	NeedsSecret bool
	// Certificate takes the secret's place for a profile that signs in
	// with a certificate.
	Certificate *store.ClientCertificate
}

// handOffScreens are the products' settings screens, per preset: the
// screen and its fields in the guide's order.
var handOffScreens = map[string]struct {
	screen string
	fields []string // keys of handOffValues
	notes  []string
}{
	"allsolutions-online": {"Importlocaties Documenten (MILSCN): a new record of import type EWS",
		[]string{"Application (client) ID", "Client secret", "OAuth 2.0 authorization endpoint", "OAuth 2.0 token endpoint", "Redirect URL"},
		[]string{"Then MZZPAR > Exchange Webservice: Authentication method OAuth 2.0, Interface voor EWS this import location.",
			"Sign in with the MZZPAR account only, in a private window: MILSCN's refresh token field is filled afterwards."}},
	"allsolutions-onprem": {"MZZPAR > Exchange Webservice (Exchange Server on-premises)",
		[]string{"EWS URL", "User name", "Password"}, nil},
	"divalto": {"Paramétrage EWS en mode OAuth (Harmony 409 SP A or later)",
		[]string{"Tenant ID", "Client ID", "URL d'indirection"},
		[]string{"Each user signs in from Divalto once; nothing else to enter."}},
	"flowfact": {"Maildienst > OAuthEinrichtungKurzübersicht (Standard-Kontenbelegung O365)",
		[]string{"Tenant Id (Mandanten ID)", "Client ID", "Client Secret (Wert)"},
		[]string{"Save, open the form again, then 'Get OAuth Access Token' per user."}},
	"moveit-app-only": {"moveIT Kommunikationssystem > Absender > [Neu], Kontotyp „Exchange Online (Mit geheimen Clientschlüssel)“",
		[]string{"Sender-Adresse", "E-Mail-Adresse", "Anwendungs-ID (Client)", "Verzeichnis-ID (Mandant)", "Geheimer Clientschlüssel"},
		[]string{"[Speichern], then [Verbindung testen]."}},
	"moveit-delegated": {"moveIT Kommunikationssystem > Absender > [Neu], Kontotyp „Exchange Online (Modern Authentication)“",
		[]string{"Anwendungs-ID (Client)", "Verzeichnis-ID (Mandant)"},
		[]string{"[Speichern], then sign in with the mailbox's account."}},
	"generic": {"the product's OAuth 2.0 settings",
		[]string{"Tenant ID", "Client ID", "Client secret", "Authorization endpoint", "Token endpoint", "Redirect URI", "Scopes"}, nil},
}

// NewHandOff makes the sheet of profile p.
func NewHandOff(p store.Profile, in HandOffInput) HandOff {
	pre, _ := PresetByID(p.Preset)
	scr, ok := handOffScreens[p.Preset]
	if !ok {
		scr = handOffScreens["generic"]
	}
	authority := strings.TrimSuffix(p.Hosts.WithDefaults().Authority, "/") + "/" + in.Tenant + "/oauth2/v2.0/"
	values := map[string]HandOffField{
		"client":   {Value: p.ClientID},
		"tenant":   {Value: in.Tenant},
		"secret":   {Value: in.Secret.Reveal(), Secret: true},
		"auth":     {Value: authority + "authorize"},
		"token":    {Value: authority + "token"},
		"redirect": {Value: p.RedirectURI},
		"scopes":   {Value: strings.Join(p.Scopes, " ")},
		"mailbox":  {Value: in.Mailbox},
		"ews":      {Value: p.Hosts.EWS},
		"account":  {Value: p.ServiceAccount},
	}
	h := HandOff{Product: cmp.Or(pre.Product, p.Customer), Screen: scr.screen, Notes: scr.notes}
	for _, label := range scr.fields {
		f := values[handOffKeys[label]]
		f.Label = label
		if f.Secret && !in.NeedsSecret {
			continue // a public client: the product has no secret to enter
		}
		if f.Secret && p.UsesCertificate() {
			h.Certificate = in.Certificate
			f = certificateField(in.Certificate)
			h.Notes = append([]string{"The app signs in with a certificate, not a secret: choose the certificate option of the product's settings and give it the saved sheet's file (PEM: certificate and private key)."}, h.Notes...)
		}
		if f.Value == "" && !f.Secret {
			continue // nothing to enter: no redirect with device code
		}
		h.Fields = append(h.Fields, f)
	}
	return h
}

// certificateField is the field of a certificate: what identifies it,
// the PEM itself only in the saved sheet.
func certificateField(c *store.ClientCertificate) HandOffField {
	f := HandOffField{Label: "Certificate (PEM)", Value: "(none yet: make one with 'modauth secret rotate')"}
	if c != nil {
		f.Value = fmt.Sprintf("thumbprint %s, valid until %s; certificate and private key in the saved sheet", c.Thumbprint, c.NotAfter.Format("2 Jan 2006"))
	}
	return f
}

// handOffKeys say which value each product's label is.
var handOffKeys = map[string]string{
	"Application (client) ID": "client", "Client ID": "client", "Anwendungs-ID (Client)": "client",
	"Tenant ID": "tenant", "Tenant Id (Mandanten ID)": "tenant", "Verzeichnis-ID (Mandant)": "tenant",
	"Client secret": "secret", "Client Secret (Wert)": "secret", "Geheimer Clientschlüssel": "secret", "Password": "secret",
	"OAuth 2.0 authorization endpoint": "auth", "Authorization endpoint": "auth",
	"OAuth 2.0 token endpoint": "token", "Token endpoint": "token",
	"Redirect URL": "redirect", "Redirect URI": "redirect", "URL d'indirection": "redirect",
	"Scopes":         "scopes",
	"Sender-Adresse": "mailbox", "E-Mail-Adresse": "mailbox",
	"EWS URL": "ews", "User name": "account",
}

// Text is the field's value as written: a secret's only when reveal is
// set, else its hint.
func (f HandOffField) Text(reveal bool) string {
	switch {
	case f.Secret && f.Value == "":
		return "(the secret's value: shown once when it was made; make a new one if it is lost)"
	case f.Secret && !reveal:
		return store.Secret(f.Value).Hint()
	}
	return f.Value
}

// WriteText writes the sheet as text: secret values only when reveal is
// set (the 0600 file the person asked for), else masked.
func (h HandOff) WriteText(w io.Writer, reveal bool) error {
	width := 0
	for _, f := range h.Fields {
		width = max(width, len([]rune(f.Label)))
	}
	fmt.Fprintf(w, "%s: %s\n\n", h.Product, h.Screen)
	for _, f := range h.Fields {
		fmt.Fprintf(w, "  %-*s  %s\n", width, f.Label, f.Text(reveal))
	}
	for _, n := range h.Notes {
		fmt.Fprintf(w, "\n%s", n)
	}
	if len(h.Notes) > 0 {
		fmt.Fprintln(w)
	}
	if _, err := fmt.Fprintln(w); err != nil || !reveal || h.Certificate == nil {
		return err
	}
	// PEM readers skip the text before the first block, so the file is
	// the sheet and the product's certificate file at once.
	if h.pfx.path != "" {
		fmt.Fprintf(w, "The same as PFX (PKCS#12, AES-256): %s, password %s\n\n", h.pfx.path, h.pfx.password)
	}
	fmt.Fprintf(w, "Certificate %s and its private key, for the product:\n\n", h.Certificate.Thumbprint)
	return h.Certificate.WritePEM(w)
}
