# AllSolutions Exchange (production): Exchange Server (on-premises) admin steps.
# Run in the Exchange Management Shell as a member of Organization Management.

$ServiceAccount = '<DOMAIN\service account>'

# Impersonation rights for the service account, limited to the product's users.
Get-Mailbox -ResultSize Unlimited | Where-Object { $_.PrimarySmtpAddress -in @('anna.devries@contoso.com', 'orders@contoso.com') } | Set-Mailbox -CustomAttribute15 'modauth-allsolutions'
New-ManagementScope -Name 'AllSolutions users' -RecipientRestrictionFilter "CustomAttribute15 -eq 'modauth-allsolutions'"
New-ManagementRoleAssignment -Name 'AllSolutions impersonation' -Role ApplicationImpersonation -User $ServiceAccount -CustomRecipientWriteScope 'AllSolutions users'

# EWS must accept Basic authentication over HTTPS (a login form means forms-based authentication).
Get-WebServicesVirtualDirectory | Format-List Identity, InternalUrl, ExternalUrl, BasicAuthentication
Set-WebServicesVirtualDirectory -Identity 'EWS (Default Web Site)' -BasicAuthentication $true
