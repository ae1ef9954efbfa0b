package appreg

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/modauth/modauth/store"
)

// MonitorPlan is the optional second app registration: modauth's own
// read-only monitoring app. Least privilege: reading every credential's
// expiry of the product's app, its sign-in logs and the directory's users
// takes directory-wide read rights, and those go to this app, which can
// read but never write, instead of to the product's app, which keeps only
// what the product needs.
type MonitorPlan struct {
	DisplayName string
	Permissions []Permission // Graph application permissions, admin-consented
}

// MonitorWhy says in one line why the monitoring app exists.
const MonitorWhy = "Least privilege: modauth reads the product app's secret and certificate expiry, its sign-in logs and users with this read-only app, so the product's own app never needs directory-wide read rights; the monitoring app can read, never write."

// monitorPermissions: Application.Read.All for passwordCredentials and
// keyCredentials, AuditLog.Read.All with Directory.Read.All for sign-in
// logs (microsoft.md §9.1), User.Read.All for the users.
var monitorPermissions = []Permission{permAppReadAllApp, permAuditLogReadAllApp, permDirectoryReadAllApp, permUserReadAllApp}

func newMonitorPlan(productApp string) *MonitorPlan {
	return &MonitorPlan{DisplayName: productApp + " (modauth monitor)", Permissions: monitorPermissions}
}

// Application is the monitoring app's registration: no redirect URI, no
// public client, only application permissions on Microsoft Graph.
func (m *MonitorPlan) Application() Application {
	rra := RequiredResourceAccess{ResourceAppID: Graph.AppID}
	for _, perm := range m.Permissions {
		rra.ResourceAccess = append(rra.ResourceAccess, ResourceAccess{ID: perm.ID, Type: perm.Kind})
	}
	return Application{
		DisplayName: m.DisplayName, SignInAudience: "AzureADMyOrg",
		PublicClient: RedirectURIs{[]string{}}, Web: RedirectURIs{[]string{}},
		RequiredResourceAccess: []RequiredResourceAccess{rra},
	}
}

// Manifest is the monitoring app as indented JSON, like Plan.Manifest.
func (m *MonitorPlan) Manifest() []byte {
	b, _ := json.MarshalIndent(m.Application(), "", "  ")
	return append(b, '\n')
}

// names lists the permissions' names.
func (m *MonitorPlan) names() string {
	names := make([]string, len(m.Permissions))
	for i, perm := range m.Permissions {
		names[i] = perm.Name
	}
	return strings.Join(names, ", ")
}

// registerMonitor creates or completes the monitoring app: registration,
// service principal, admin consent and a secret. Its changes join reg's,
// marked as the monitoring app's.
func registerMonitor(ctx context.Context, d *directory, p *Plan, opts RegisterOptions, reg *Registration) error {
	m := p.Monitor
	if m == nil {
		return fmt.Errorf("register: %s plans no monitoring app", p.DisplayName)
	}
	mon := &Registration{}
	app, sp, err := ensureApp(ctx, d, opts.MonitorClientID, m.DisplayName, m.Application(), mon)
	if err != nil {
		return fmt.Errorf("monitoring app: %w", err)
	}
	mon.ClientID, mon.ObjectID, mon.SPObjectID = app.AppID, app.ID, sp.ID
	if err := grantRoles(ctx, d, m.Permissions, sp, mon); err != nil {
		return fmt.Errorf("monitoring app: %w", err)
	}
	if !opts.HaveMonitorSecret {
		now := opts.Now()
		pc, err := d.g.AddPassword(ctx, app.AppID, "modauth monitor "+now.Format("2006-01-02"), now.Add(opts.SecretLifetime))
		if err != nil {
			return fmt.Errorf("monitoring app: %w", step("add a client secret", rolesAppWrite, err))
		}
		mon.Secret = &store.ClientSecret{Value: store.Secret(pc.SecretText), KeyID: pc.KeyID, Expiry: pc.EndDateTime, ExpirySource: store.ExpiryGraph}
		mon.Changes = append(mon.Changes, fmt.Sprintf("added client secret %s, valid until %s", pc.KeyID, pc.EndDateTime.Format("2 January 2006")))
	}
	for _, c := range mon.Changes {
		reg.Changes = append(reg.Changes, "monitoring app: "+c)
	}
	reg.Monitor = mon
	return nil
}

// monitorChecklist writes the monitoring app's steps, after the product
// app's, numbered on.
func (m *MonitorPlan) checklist(b *strings.Builder, step, detail stepFunc) {
	title := "Optional second app: " + m.DisplayName
	fmt.Fprintf(b, "\n%s\n%s\n", title, strings.Repeat("-", len(title)))
	fmt.Fprintf(b, "%s\n", MonitorWhy)
	step("App registrations > New registration: Name %s, single tenant, no redirect URI; Register.", m.DisplayName)
	step("API permissions > Add a permission > Microsoft Graph > Application permissions: %s.", m.names())
	step("Still in API permissions, select Grant admin consent for <your organization> (Global Administrator or Privileged Role Administrator).")
	step("Certificates & secrets > Client secrets > New client secret: description \"modauth monitor\", expiry 12 months. Copy the Value at once.")
	step("Overview: copy this app's Application (client) ID. It and its secret are modauth's only: the product never gets them.")
	detail("Without this app modauth still works: the secret's expiry is the date you entered, and the product's sign-ins are not read.")
}

// azScript writes the monitoring app's part of the az script, run unless
// MONITOR=no.
func (m *MonitorPlan) azScript(b *strings.Builder) {
	fmt.Fprintf(b, "\n# ---- Optional second app: %s ----\n", m.DisplayName)
	fmt.Fprintf(b, "# %s\n", MonitorWhy)
	b.WriteString("# Skip it with MONITOR=no.\nif [ \"${MONITOR:-yes}\" = yes ]; then\n")
	rra, _ := json.MarshalIndent(m.Application().RequiredResourceAccess, "", "  ")
	fmt.Fprintf(b, "mon_rra=$(mktemp)\ncat >\"$mon_rra\" <<'JSON'\n%s\nJSON\n", rra)
	fmt.Fprintf(b, "mon_id=$(az ad app create --display-name %s --sign-in-audience AzureADMyOrg \\\n  --required-resource-accesses @\"$mon_rra\" --query appId -o tsv)\n", shQuote(m.DisplayName))
	b.WriteString("rm -f \"$mon_rra\"\naz ad sp create --id \"$mon_id\" >/dev/null\n")
	b.WriteString("az ad app permission admin-consent --id \"$mon_id\"\n")
	b.WriteString("umask 077\naz ad app credential reset --id \"$mon_id\" --append --display-name 'modauth monitor' --years 1 --query password -o tsv >modauth-monitor-secret.txt\n")
	b.WriteString("echo \"monitoring app's secret written to $(pwd)/modauth-monitor-secret.txt: paste it into modauth, then delete the file\" >&2\n")
	b.WriteString("echo \"monitoring app's client ID: $mon_id\"\nfi\n")
}
