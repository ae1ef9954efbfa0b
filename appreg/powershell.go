package appreg

import (
	"cmp"
	"fmt"
	"io"
	"strings"

	"github.com/modauth/modauth/store"
)

// AdminInput fills the Exchange PowerShell with known values; empty fields
// become placeholders to replace.
type AdminInput struct {
	AppID          string   // Application (client) ID
	SPObjectID     string   // the enterprise application's object ID
	Mailboxes      []string // the product's mailboxes (primary SMTP addresses)
	ServiceAccount string   // the account that signs in for a service-account model
}

// rbacRoles are the RBAC for Applications roles for an app-only plan's
// protocols and data (microsoft.md §5.4). Tasks have none.
var rbacRoles = []struct {
	proto store.Protocol
	data  Data
	role  string
}{
	{store.EWS, "", "Application EWS.AccessAsApp"},
	{store.Graph, Calendar, "Application Calendars.ReadWrite"},
	{store.Graph, Contacts, "Application Contacts.ReadWrite"},
	{store.Graph, MailSend, "Application Mail.Send"},
}

// ExchangePowerShell writes the Exchange admin side of the plan: protocol
// switches, the EWS allow list, RBAC for Applications scoping, and
// on-premises impersonation.
func (p *Plan) ExchangePowerShell(w io.Writer, in AdminInput) error {
	var b strings.Builder
	ps := psWriter{&b}
	tag := "modauth-" + strings.ToLower(strings.ReplaceAll(p.Product, " ", "-"))
	if p.OnPremises {
		p.onPremPowerShell(ps, in, tag)
		_, err := io.WriteString(w, b.String())
		return err
	}
	fmt.Fprintf(&b, "# %s: Exchange Online admin steps.\n", p.DisplayName)
	b.WriteString("# Run in Exchange Online PowerShell as an Exchange Administrator:\n")
	b.WriteString("#   Install-Module ExchangeOnlineManagement; Connect-ExchangeOnline -UserPrincipalName <admin UPN>\n\n")
	fmt.Fprintf(&b, "$AppId     = %s\n", psQuote(cmp.Or(in.AppID, "<Application (client) ID>")))
	fmt.Fprintf(&b, "$Mailboxes = @(%s)\n", psList(in.Mailboxes, "<mailbox@example.com>"))

	if p.Model == store.ServiceAccount {
		ps.section("The service account reaches the mailboxes as a delegate: Exchange Online has no impersonation any more.")
		fmt.Fprintf(&b, "$ServiceAccount = %s\n", psQuote(cmp.Or(in.ServiceAccount, "<service account UPN>")))
		b.WriteString("$Mailboxes | ForEach-Object { Add-MailboxPermission -Identity $_ -User $ServiceAccount -AccessRights FullAccess -AutoMapping $false }\n")
	}
	if p.uses(store.SMTP) {
		ps.section("SMTP AUTH: OAuth needs it too. Per mailbox; the organisation's setting stays as it is.")
		b.WriteString("$Mailboxes | ForEach-Object { Set-CASMailbox -Identity $_ -SmtpClientAuthenticationDisabled $false }\n")
		b.WriteString("# Or for the whole organisation instead: Set-TransportConfig -SmtpClientAuthenticationDisabled $false\n")
	}
	if p.uses(store.IMAP) || p.uses(store.POP) {
		var flags []string
		if p.uses(store.IMAP) {
			flags = append(flags, "-ImapEnabled $true")
		}
		if p.uses(store.POP) {
			flags = append(flags, "-PopEnabled $true")
		}
		ps.section("IMAP and POP on for the mailboxes.")
		fmt.Fprintf(&b, "$Mailboxes | ForEach-Object { Set-CASMailbox -Identity $_ %s }\n", strings.Join(flags, " "))
	}
	if p.uses(store.EWS) {
		ps.section("EWS: from 1 October 2026 only allow-listed apps may use it, and on 1 April 2027 it is switched off for good.\n" +
			"Look at the list first: -EwsAllowedAppIDs replaces it, so keep the IDs already there.")
		b.WriteString("Get-OrganizationConfig -RetrieveEwsOperationAccessPolicy | Format-List EwsEnabled, EwsAllowedAppIDs\n")
		b.WriteString("$Mailboxes | ForEach-Object { Set-CASMailbox -Identity $_ -EwsEnabled $true }\n")
		b.WriteString("Set-OrganizationConfig -EwsEnabled $true -EwsAllowedAppIDs \"$AppId\"   # add the existing IDs, comma-separated\n")
	}
	if p.Model == store.AppOnly {
		p.rbacPowerShell(ps, in, tag)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func (p *Plan) rbacPowerShell(ps psWriter, in AdminInput, tag string) {
	b := ps.b
	scope := p.DisplayName + " mailboxes"
	ps.section("Limit the app to the product's mailboxes with RBAC for Applications.\n" +
		"The object ID is the enterprise application's (Entra ID > Enterprise applications), not the app registration's.")
	fmt.Fprintf(b, "$SPObjectId = %s\n", psQuote(cmp.Or(in.SPObjectID, "<enterprise application object ID>")))
	fmt.Fprintf(b, "New-ServicePrincipal -AppId $AppId -ObjectId $SPObjectId -DisplayName %s\n", psQuote(p.DisplayName))
	fmt.Fprintf(b, "$Mailboxes | ForEach-Object { Set-Mailbox -Identity $_ -CustomAttribute15 %s }\n", psQuote(tag))
	fmt.Fprintf(b, "New-ManagementScope -Name %s -RecipientRestrictionFilter \"CustomAttribute15 -eq '%s'\"\n", psQuote(scope), tag)
	for _, r := range rbacRoles {
		switch {
		case !p.uses(r.proto):
		case r.data != "" && !p.syncs(r.data):
		default:
			fmt.Fprintf(b, "New-ManagementRoleAssignment -App $SPObjectId -Role %s -CustomResourceScope %s\n", psQuote(r.role), psQuote(scope))
		}
	}
	b.WriteString("Test-ServicePrincipalAuthorization -Identity $SPObjectId -Resource $Mailboxes[0] | Format-Table\n")
	if p.uses(store.Graph) && p.syncs(Tasks) {
		b.WriteString("# Tasks (Tasks.ReadWrite.All) have no RBAC for Applications role: that grant stays tenant-wide in Entra.\n")
	}
	if p.uses(store.IMAP) || p.uses(store.POP) || p.uses(store.SMTP) {
		ps.section("IMAP, POP and SMTP as the app: the service principal needs rights on each mailbox.")
		b.WriteString("$Mailboxes | ForEach-Object { Add-MailboxPermission -Identity $_ -User $SPObjectId -AccessRights FullAccess }\n")
		if p.uses(store.SMTP) {
			b.WriteString("$Mailboxes | ForEach-Object { Add-RecipientPermission -Identity $_ -Trustee $SPObjectId -AccessRights SendAs -Confirm:$false }\n")
		}
	}
	ps.section("WARNING: Entra and Exchange grants add up. While the tenant-wide admin consent for the same permissions\n" +
		"stays in Entra (Enterprise applications > " + p.DisplayName + " > Permissions), the app still reaches every\n" +
		"mailbox and this scope changes nothing. Remove that consent once Test-ServicePrincipalAuthorization shows InScope.")
}

func (p *Plan) onPremPowerShell(ps psWriter, in AdminInput, tag string) {
	b := ps.b
	fmt.Fprintf(b, "# %s: Exchange Server (on-premises) admin steps.\n", p.DisplayName)
	b.WriteString("# Run in the Exchange Management Shell as a member of Organization Management.\n\n")
	fmt.Fprintf(b, "$ServiceAccount = %s\n", psQuote(cmp.Or(in.ServiceAccount, `<DOMAIN\service account>`)))
	ps.section("Impersonation rights for the service account, limited to the product's users.")
	fmt.Fprintf(b, "Get-Mailbox -ResultSize Unlimited | Where-Object { $_.PrimarySmtpAddress -in @(%s) } | Set-Mailbox -CustomAttribute15 %s\n", psList(in.Mailboxes, "<mailbox@example.com>"), psQuote(tag))
	fmt.Fprintf(b, "New-ManagementScope -Name %s -RecipientRestrictionFilter \"CustomAttribute15 -eq '%s'\"\n", psQuote(p.Product+" users"), tag)
	fmt.Fprintf(b, "New-ManagementRoleAssignment -Name %s -Role ApplicationImpersonation -User $ServiceAccount -CustomRecipientWriteScope %s\n", psQuote(p.Product+" impersonation"), psQuote(p.Product+" users"))
	ps.section("EWS must accept Basic authentication over HTTPS (a login form means forms-based authentication).")
	b.WriteString("Get-WebServicesVirtualDirectory | Format-List Identity, InternalUrl, ExternalUrl, BasicAuthentication\n")
	b.WriteString("Set-WebServicesVirtualDirectory -Identity 'EWS (Default Web Site)' -BasicAuthentication $true\n")
}

// psWriter writes PowerShell sections.
type psWriter struct{ b *strings.Builder }

// section starts a block with a comment, one "# " per line.
func (w psWriter) section(comment string) {
	w.b.WriteString("\n# " + strings.ReplaceAll(comment, "\n", "\n# ") + "\n")
}

// psQuote quotes s as a PowerShell literal string.
func psQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func psList(items []string, placeholder string) string {
	if len(items) == 0 {
		return psQuote(placeholder)
	}
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = psQuote(s)
	}
	return strings.Join(q, ", ")
}
