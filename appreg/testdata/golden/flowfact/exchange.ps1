# Flowfact Performer Exchange (production): Exchange Online admin steps.
# Run in Exchange Online PowerShell as an Exchange Administrator:
#   Install-Module ExchangeOnlineManagement; Connect-ExchangeOnline -UserPrincipalName <admin UPN>

$AppId     = '<Application (client) ID>'
$Mailboxes = @('anna.devries@contoso.com', 'orders@contoso.com')

# SMTP AUTH: OAuth needs it too. Per mailbox; the organisation's setting stays as it is.
$Mailboxes | ForEach-Object { Set-CASMailbox -Identity $_ -SmtpClientAuthenticationDisabled $false }
# Or for the whole organisation instead: Set-TransportConfig -SmtpClientAuthenticationDisabled $false

# IMAP and POP on for the mailboxes.
$Mailboxes | ForEach-Object { Set-CASMailbox -Identity $_ -ImapEnabled $true -PopEnabled $true }
