package appreg

import (
	"fmt"
	"io"
	"strings"

	"github.com/modauth/modauth/store"
)

// Checklist writes the numbered steps to register the app by hand in the
// Microsoft Entra admin center, with the exact values to enter.
func (p *Plan) Checklist(w io.Writer) error {
	var b strings.Builder
	n := 0
	step := func(format string, args ...any) {
		n++
		fmt.Fprintf(&b, "%d. %s\n", n, fmt.Sprintf(format, args...))
	}
	detail := func(format string, args ...any) { fmt.Fprintf(&b, "   "+format+"\n", args...) }

	fmt.Fprintf(&b, "%s\n%s\n\n", p.DisplayName, strings.Repeat("=", len(p.DisplayName)))
	if !p.NeedsApp {
		p.onPremChecklist(step, detail)
	} else {
		p.appChecklist(step, detail)
		if p.Monitor != nil {
			p.Monitor.checklist(&b, step, detail)
		}
	}
	if len(p.Notes) > 0 {
		fmt.Fprintf(&b, "\n%s\n%s\n", p.Product, strings.Repeat("-", len(p.Product)))
		for _, note := range p.Notes {
			fmt.Fprintf(&b, "- %s\n", note)
		}
	}
	if len(p.Warnings) > 0 {
		b.WriteString("\nWarnings\n--------\n")
		for _, w := range p.Warnings {
			fmt.Fprintf(&b, "- %s. %s\n", w.Title, w.Detail)
			if w.WayOut != "" {
				fmt.Fprintf(&b, "  Way out: %s\n", w.WayOut)
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

type stepFunc func(format string, args ...any)

func (p *Plan) appChecklist(step, detail stepFunc) {
	step("Sign in to https://entra.microsoft.com as an Application Administrator (or Global Administrator) of the customer's tenant.")
	step("Go to Entra ID > App registrations > New registration and enter:")
	detail("Name: %s", p.DisplayName)
	detail("Supported account types: Accounts in this organizational directory only (single tenant)")
	if len(p.WebRedirectURIs) > 0 {
		detail("Redirect URI: platform Web, %s", p.WebRedirectURIs[0])
	} else {
		detail("Redirect URI: leave empty")
	}
	detail("Then select Register.")
	if len(p.PublicRedirectURIs) > 0 {
		step("Authentication > Add a platform > Mobile and desktop applications > custom redirect URI: %s (modauth's own sign-in; Entra ignores its port).", strings.Join(p.PublicRedirectURIs, ", "))
	}
	if p.FallbackPublicClient {
		step("Authentication > Advanced settings > Allow public client flows: Yes, then Save (needed for device code sign-in).")
	}
	step("API permissions > Add a permission, and add exactly these:")
	for _, r := range p.Resources() {
		for _, k := range []Kind{Delegated, AppRole} {
			var names []string
			for _, perm := range p.On(r) {
				if perm.Kind == k {
					names = append(names, perm.Name)
				}
			}
			if len(names) == 0 {
				continue
			}
			where := r.Name
			if r == Exchange {
				where = "APIs my organization uses > " + r.Name
			}
			kind := "Delegated permissions"
			if k == AppRole {
				kind = "Application permissions"
			}
			detail("%s > %s: %s", where, kind, strings.Join(names, ", "))
		}
	}
	if p.AdminConsent {
		step("Still in API permissions, select Grant admin consent for <your organization> and confirm; every permission shows Granted.")
	}
	if p.NeedsSecret && p.Certificate {
		step("Certificates & secrets > Certificates > Upload certificate: the file ending in %s that modauth saved (the public part only; the private key stays sealed in modauth until the hand-off), description \"modauth %s\".", CertificateFileSuffix, p.Environment)
	} else if p.NeedsSecret {
		step("Certificates & secrets > Client secrets > New client secret: description \"modauth %s\", expiry 12 months (at most 24; Microsoft advises under 12).", p.Environment)
		detail("Copy the Value column at once: it is shown only this once. Not the Secret ID, which is a GUID.")
	}
	switch {
	case p.NeedsSecret && p.Certificate:
		step("Overview: copy the Directory (tenant) ID and the Application (client) ID, and enter them in modauth; modauth checks each one live, and signs in with the certificate to prove it was uploaded.")
	case p.NeedsSecret && p.SecretForModauth():
		step("Overview: copy the Directory (tenant) ID and the Application (client) ID, and enter them in modauth with the secret value; modauth checks each one live.")
	case p.NeedsSecret:
		step("Overview: copy the Directory (tenant) ID and the Application (client) ID, and enter them in modauth; modauth checks each one live. The secret value is for the product's own settings only.")
	default:
		step("Overview: copy the Directory (tenant) ID and the Application (client) ID, and enter them in modauth; modauth checks each one live. This app has no secret: nobody needs one.")
	}
	if p.needsExchangeAdmin() {
		step("Run the Exchange PowerShell steps as an Exchange Administrator (modauth shows them).")
	}
}

func (p *Plan) onPremChecklist(step, detail stepFunc) {
	step("No Entra ID app registration is needed: the product signs in to Exchange Server's EWS with a service account.")
	step("Create the service account in Active Directory: a normal user without administrator rights and without a mailbox of its own.")
	step("Run the Exchange Management Shell steps (modauth shows them): they give the account impersonation rights and check that EWS accepts Basic authentication.")
	step("Check that the EWS URL answers over HTTPS from the product's server, for example https://webmail.example.com/EWS/Exchange.asmx.")
	step("Enter the EWS URL, the service account and its password in the product; modauth can test impersonation of one mailbox.")
	detail("The password is the only secret: keep it in the product's vault, never in scripts.")
}

// needsExchangeAdmin reports whether Exchange itself needs switches or
// scoping for the plan.
func (p *Plan) needsExchangeAdmin() bool {
	return p.Model == store.AppOnly || p.uses(store.EWS) || p.uses(store.SMTP) || p.uses(store.IMAP) || p.uses(store.POP)
}

// CertificateFileSuffix ends the name of the file modauth saves the
// certificate's public part to for an upload by hand, after the profile's
// ID.
const CertificateFileSuffix = "-certificate.cer"
