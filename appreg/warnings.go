package appreg

import "github.com/modauth/modauth/store"

// The platform changes of 2025-2026 (microsoft.md §5) that make parts of
// the products' own guides wrong.
var (
	warnEWSBlocked = Warning{
		Title: "EWS in Exchange Online is blocked from 1 October 2026",
		Detail: "Microsoft disables EWS tenant by tenant from 1 October 2026: only apps listed in the organisation's " +
			"EwsAllowedAppIDs may still use it, and only while EwsEnabled is $true. On 1 April 2027 EWS in Exchange Online " +
			"is switched off for good, with no exceptions.",
		WayOut: "Until then: Set-OrganizationConfig -EwsEnabled $true -EwsAllowedAppIDs with this app's client ID " +
			"(see the Exchange PowerShell). For good: move the product to Microsoft Graph (protocol Graph).",
	}
	warnImpersonationGone = Warning{
		Title: "ApplicationImpersonation no longer exists in Exchange Online",
		Detail: "Exchange Online removed the ApplicationImpersonation role in 2025: a service account can no longer " +
			"impersonate mailboxes, whatever the product's guide says.",
		WayOut: "Use the app-only model: the application permission full_access_as_app (EWS) or Graph application " +
			"permissions, limited to the product's mailboxes with RBAC for Applications.",
	}
	warnOnPremNoOAuth = Warning{
		Title: "On-premises Exchange keeps Basic authentication for EWS",
		Detail: "Exchange Server accepts Entra ID tokens only with Hybrid Modern Authentication, which Microsoft " +
			"documents for its own clients. The product connects to EWS with a service account and impersonation rights " +
			"over HTTPS with Basic authentication.",
		WayOut: "Keep the service account's password safe, restrict it to EWS, and plan the move to Exchange Online.",
	}
	warnSMTPAuth = Warning{
		Title: "SMTP AUTH must be enabled for OAuth too",
		Detail: "OAuth over SMTP still needs SMTP AUTH on the mailbox or the organisation, and organisations created " +
			"since 2020 have it off (535 5.7.139). Basic authentication for SMTP AUTH is disabled by default at the end of " +
			"December 2026.",
		WayOut: "Enable SMTP AUTH only for the product's mailboxes (see the Exchange PowerShell) and use OAuth.",
	}
	warnRefresh90 = Warning{
		Title: "Each user's sign-in lapses after 90 days without use",
		Detail: "A refresh token unused for 90 days expires, and Conditional Access sign-in frequency can end it sooner; " +
			"the user must then sign in again. modauth's monitor keeps tokens in use and shows who needs to sign in.",
	}
	warnDeviceCodeCA = Warning{
		Title: "Conditional Access may block device code sign-in",
		Detail: "Many tenants block the device code flow (AADSTS53003), and tokens obtained by device code are then " +
			"blocked at refresh too.",
		WayOut: "Sign in with the browser instead: modauth offers it when device code is refused.",
	}
	warnTenantWideConsent = Warning{
		Title: "Tenant-wide consent reaches every mailbox",
		Detail: "Admin consent to application permissions lets the app into every mailbox of the organisation. RBAC for " +
			"Applications in Exchange can narrow it to the product's mailboxes, but grants in Entra and Exchange add up: " +
			"scoping only holds once the tenant-wide Entra grant of the same permission is removed.",
		WayOut: "Grant the roles through Exchange RBAC for Applications with a management scope (see the Exchange " +
			"PowerShell) and remove the tenant-wide grant of the same permission in Entra.",
	}
)

// warn collects the warnings that apply to the scenario.
func (p *Plan) warn() {
	add := func(w Warning) { p.Warnings = append(p.Warnings, w) }
	if p.OnPremises {
		add(warnOnPremNoOAuth)
		return
	}
	if p.uses(store.EWS) {
		add(warnEWSBlocked)
	}
	if p.Model == store.ServiceAccount {
		add(warnImpersonationGone)
	}
	if p.uses(store.SMTP) {
		add(warnSMTPAuth)
	}
	switch p.Model {
	case store.AppOnly:
		add(warnTenantWideConsent)
	default:
		add(warnRefresh90)
		if p.DeviceCode {
			add(warnDeviceCodeCA)
		}
	}
}
