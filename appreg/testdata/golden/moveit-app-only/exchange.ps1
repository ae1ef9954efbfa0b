# moveIT Exchange (production): Exchange Online admin steps.
# Run in Exchange Online PowerShell as an Exchange Administrator:
#   Install-Module ExchangeOnlineManagement; Connect-ExchangeOnline -UserPrincipalName <admin UPN>

$AppId     = '<Application (client) ID>'
$Mailboxes = @('anna.devries@contoso.com', 'orders@contoso.com')

# Limit the app to the product's mailboxes with RBAC for Applications.
# The object ID is the enterprise application's (Entra ID > Enterprise applications), not the app registration's.
$SPObjectId = '<enterprise application object ID>'
New-ServicePrincipal -AppId $AppId -ObjectId $SPObjectId -DisplayName 'moveIT Exchange (production)'
$Mailboxes | ForEach-Object { Set-Mailbox -Identity $_ -CustomAttribute15 'modauth-moveit' }
New-ManagementScope -Name 'moveIT Exchange (production) mailboxes' -RecipientRestrictionFilter "CustomAttribute15 -eq 'modauth-moveit'"
New-ManagementRoleAssignment -App $SPObjectId -Role 'Application Mail.Send' -CustomResourceScope 'moveIT Exchange (production) mailboxes'
Test-ServicePrincipalAuthorization -Identity $SPObjectId -Resource $Mailboxes[0] | Format-Table

# WARNING: Entra and Exchange grants add up. While the tenant-wide admin consent for the same permissions
# stays in Entra (Enterprise applications > moveIT Exchange (production) > Permissions), the app still reaches every
# mailbox and this scope changes nothing. Remove that consent once Test-ServicePrincipalAuthorization shows InScope.
