package appreg

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// AzScript writes a bash script that creates the registration with the
// Azure CLI: app, service principal, permissions, admin consent and a
// secret. The secret is written to a 0600 file for pasting into modauth,
// never to the terminal.
func (p *Plan) AzScript(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "#!/usr/bin/env bash\n# %s: app registration with the Azure CLI.\n", p.DisplayName)
	if p.Monitor != nil {
		fmt.Fprintf(&b, "# Two apps: the product's own, then modauth's optional read-only monitoring app.\n")
	}
	if !p.NeedsApp {
		b.WriteString("# Nothing to register: on-premises Exchange is reached with a service account (see the checklist).\n")
		_, err := io.WriteString(w, b.String())
		return err
	}
	b.WriteString("# Sign in first as an admin of the customer's tenant:\n#   az login --tenant <tenant ID or domain> --allow-no-subscriptions\nset -euo pipefail\n\n")

	app, unresolved, _ := p.Application(nil)
	rra, _ := json.MarshalIndent(app.RequiredResourceAccess, "", "  ")
	fmt.Fprintf(&b, "rra=$(mktemp)\ncat >\"$rra\" <<'JSON'\n%s\nJSON\n\n", rra)

	fmt.Fprintf(&b, "app_id=$(az ad app create \\\n  --display-name %s \\\n  --sign-in-audience %s \\\n", shQuote(p.DisplayName), p.SignInAudience)
	if p.FallbackPublicClient {
		b.WriteString("  --is-fallback-public-client true \\\n")
	}
	if len(p.PublicRedirectURIs) > 0 {
		fmt.Fprintf(&b, "  --public-client-redirect-uris %s \\\n", shJoin(p.PublicRedirectURIs))
	}
	if len(p.WebRedirectURIs) > 0 {
		fmt.Fprintf(&b, "  --web-redirect-uris %s \\\n", shJoin(p.WebRedirectURIs))
	}
	b.WriteString("  --required-resource-accesses @\"$rra\" \\\n  --query appId -o tsv)\nrm -f \"$rra\"\n")
	b.WriteString("az ad sp create --id \"$app_id\" >/dev/null\n")
	for _, perm := range unresolved {
		v := "role_" + strings.NewReplacer(".", "_").Replace(strings.ToLower(perm.Name))
		fmt.Fprintf(&b, "\n# Microsoft does not publish the ID of %s: read it from the tenant.\n", perm.Name)
		fmt.Fprintf(&b, "%s=$(az ad sp show --id %s --query \"appRoles[?value=='%s'].id\" -o tsv)\n", v, perm.Resource.AppID, perm.Name)
		fmt.Fprintf(&b, "az ad app permission add --id \"$app_id\" --api %s --api-permissions \"$%s=%s\"\n", perm.Resource.AppID, v, perm.Kind)
	}
	if p.AdminConsent {
		b.WriteString("\n# Grant admin consent (needs Global Administrator or Privileged Role Administrator).\naz ad app permission admin-consent --id \"$app_id\"\n")
	}
	if p.NeedsSecret && p.Certificate {
		fmt.Fprintf(&b, "\n# Upload modauth's certificate (its public part), keeping the app's others.\n")
		fmt.Fprintf(&b, "az ad app credential reset --id \"$app_id\" --append --cert @\"${cert_file:?set cert_file to the %s file modauth saved}\"\n", CertificateFileSuffix)
	} else if p.NeedsSecret {
		fmt.Fprintf(&b, "\n# A client secret for one year; its value goes to a file only you can read.\n")
		fmt.Fprintf(&b, "umask 077\naz ad app credential reset --id \"$app_id\" --append --display-name %s --years 1 --query password -o tsv >modauth-secret.txt\n", shQuote("modauth "+p.Environment))
		b.WriteString("echo \"secret value written to $(pwd)/modauth-secret.txt: paste it into modauth, then delete the file\" >&2\n")
	}
	b.WriteString("\necho \"tenant ID: $(az account show --query tenantId -o tsv)\"\necho \"client ID: $app_id\"\n")
	if p.Monitor != nil {
		p.Monitor.azScript(&b)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// shQuote quotes s for a POSIX shell.
func shQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func shJoin(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = shQuote(s)
	}
	return strings.Join(q, " ")
}
