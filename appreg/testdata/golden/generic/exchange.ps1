# Generic Exchange (production): Exchange Online admin steps.
# Run in Exchange Online PowerShell as an Exchange Administrator:
#   Install-Module ExchangeOnlineManagement; Connect-ExchangeOnline -UserPrincipalName <admin UPN>

$AppId     = '<Application (client) ID>'
$Mailboxes = @('anna.devries@contoso.com', 'orders@contoso.com')
