# AllSolutions Exchange (production): Exchange Online admin steps.
# Run in Exchange Online PowerShell as an Exchange Administrator:
#   Install-Module ExchangeOnlineManagement; Connect-ExchangeOnline -UserPrincipalName <admin UPN>

$AppId     = '<Application (client) ID>'
$Mailboxes = @('anna.devries@contoso.com', 'orders@contoso.com')

# The service account reaches the mailboxes as a delegate: Exchange Online has no impersonation any more.
$ServiceAccount = '<service account UPN>'
$Mailboxes | ForEach-Object { Add-MailboxPermission -Identity $_ -User $ServiceAccount -AccessRights FullAccess -AutoMapping $false }

# EWS: from 1 October 2026 only allow-listed apps may use it, and on 1 April 2027 it is switched off for good.
# Look at the list first: -EwsAllowedAppIDs replaces it, so keep the IDs already there.
Get-OrganizationConfig -RetrieveEwsOperationAccessPolicy | Format-List EwsEnabled, EwsAllowedAppIDs
$Mailboxes | ForEach-Object { Set-CASMailbox -Identity $_ -EwsEnabled $true }
Set-OrganizationConfig -EwsEnabled $true -EwsAllowedAppIDs "$AppId"   # add the existing IDs, comma-separated
