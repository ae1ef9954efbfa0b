package exchange

import (
	"bytes"
	"cmp"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/Azure/go-ntlmssp"

	"github.com/modauth/modauth/store"
)

// EWS is an Exchange Web Services client: SyncFolderItems for the sync,
// GetFolder for checks. Exchange Online takes a Bearer token; Exchange
// Server on-premises takes a service account's password, by NTLM
// (Windows authentication, on by default) or Basic.
type EWS struct {
	URL   string // e.g. https://outlook.office365.com/EWS/Exchange.asmx
	HTTP  *http.Client
	Token TokenFunc // Bearer; nil with a password
	// The service account of on-premises Exchange: DOMAIN\user or a UPN.
	Username string
	Password store.Secret
	// Auth is how the password is sent: AuthBasic, AuthNTLM, or "" for
	// NTLM where the server offers it (it never sends the password) and
	// Basic otherwise.
	Auth    string
	Sleep   func(ctx context.Context, d time.Duration) error
	Retries int // ErrorServerBusy retries; default 3
	// MaxWait bounds the BackOffMilliseconds one call sleeps in all
	// (default 30 s): a longer back-off ends the call at once with the
	// throttled error, and the next sweep tries again.
	MaxWait time.Duration
	// Online: the server is Exchange Online, whose EWS Microsoft blocks
	// from 1 October 2026 and retires on 1 April 2027; Now is the clock
	// a refusal is dated on (default time.Now).
	Online bool
	Now    func() time.Time
}

// EWSError is a response code other than NoError, or an HTTP failure.
type EWSError struct {
	Status  int    // HTTP status
	Code    string // ResponseCode, e.g. ErrorInvalidSyncStateData
	Message string
	BackOff time.Duration // from ErrorServerBusy's BackOffMilliseconds
	// Offered are the schemes a 401's WWW-Authenticate headers offer
	// (Negotiate, NTLM, Basic, Bearer), and Sent the one modauth sent.
	Offered []string
	Sent    string
	// Location is where a redirect or a login page pointed: scheme, host
	// and path, never the query.
	Location string

	kind        error // ErrAuthMethodNotOffered, ErrLoginPage, ErrBadAnswer, ErrAccessPolicy, ErrEWSBlocked or nil
	retired     bool  // ErrEWSBlocked on or after 1 April 2027
	cause       error // why a bad answer could not be read
	contentType string
	start       string // a bad answer's first bytes, without secrets
}

func (e *EWSError) Error() string {
	switch {
	case e.kind == ErrAuthMethodNotOffered:
		return fmt.Sprintf("ews: http %d: %s: modauth sent %s, the server offers %s", e.Status, e.kind, e.Sent, strings.Join(e.Offered, ", "))
	case e.kind != nil:
		return fmt.Sprintf("ews: http %d: %s: %s", e.Status, e.kind, e.Message)
	case e.Code == "":
		return fmt.Sprintf("ews: http %d: %s", e.Status, e.Message)
	}
	return fmt.Sprintf("ews: %s: %s", e.Code, e.Message)
}

// Unwrap gives errors.Is and errors.As the error's kind and cause.
func (e *EWSError) Unwrap() []error {
	var errs []error
	for _, err := range []error{e.kind, e.cause} {
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// Fix says what to do about the error.
func (e *EWSError) Fix() string {
	switch e.kind {
	case ErrAuthMethodNotOffered:
		offered := strings.Join(e.Offered, "/")
		if strings.EqualFold(e.Sent, "Basic") {
			return "This server offers only " + offered + " for EWS: turn on Basic authentication on the EWS virtual directory " +
				"(Set-WebServicesVirtualDirectory -Identity \"<server>\\EWS (Default Web Site)\" -BasicAuthentication $true, then iisreset) or use NTLM. " +
				"Get-WebServicesVirtualDirectory | fl *Authentication* shows what is on."
		}
		return "This server offers only " + offered + " for EWS and takes no OAuth token: on-premises Exchange takes tokens only with Hybrid Modern Authentication " +
			"(Set-WebServicesVirtualDirectory -OAuthAuthentication $true, the EvoSTS auth server); otherwise use the service account with Basic or NTLM."
	case ErrLoginPage:
		return "A proxy with forms pre-authentication sits in front of EWS (it answered with a login page at " + e.Location + "): " +
			"publish /EWS/Exchange.asmx on the proxy without pre-authentication (pass-through), or point the profile's EWS URL at a host without the proxy."
	case ErrBadAnswer:
		return fmt.Sprintf("The server answered http %d with %q starting %q, which is not an EWS SOAP answer: "+
			"check that the profile's EWS URL ends in /EWS/Exchange.asmx and that no proxy or filter rewrites or cuts the answer.", e.Status, cmp.Or(e.contentType, "no content type"), e.start)
	case ErrEWSBlocked:
		if e.retired {
			return "EWS in Exchange Online was switched off for good on 1 April 2027, with no exceptions: move the product to Microsoft Graph."
		}
		return "Exchange Online blocks EWS for this app (EwsEnabled, EwsAllowedAppIDs): read Get-OrganizationConfig | fl Ews*, then add the app's client ID to the list already there " +
			"with Set-OrganizationConfig -EwsEnabled $true -EwsAllowedAppIDs \"<app id>,<ids already listed>\" (changes can take hours). " +
			"This works only until 1 April 2027, when EWS in Exchange Online is switched off for good: move the product to Microsoft Graph before then."
	case ErrAccessPolicy:
		return "EWS refused the app by policy, not for a missing permission: in Exchange Online, read Get-OrganizationConfig | fl Ews* and Get-CASMailbox <mailbox> | fl Ews*; " +
			"allow the app with Set-OrganizationConfig -EwsEnabled $true -EwsAllowedAppIDs \"<app id>,<ids already listed>\" and Set-CASMailbox <mailbox> -EwsEnabled $true (changes can take hours)."
	}
	if f, ok := ewsFixes[e.Code]; ok {
		return f
	}
	switch {
	case e.Location != "":
		return "EWS answered from another address: set the profile's EWS URL to " + e.Location + "."
	case e.Status == http.StatusUnauthorized:
		return "The token or password was refused: sign in again, check the token's audience (https://outlook.office365.com) and EWS.AccessAsUser.All or full_access_as_app, or the service account's password."
	}
	return "Look up the response code in the EWS reference, and check the server's EWS logs."
}

// Is lets callers test the kinds that decide a user's state.
func (e *EWSError) Is(target error) bool {
	switch target {
	case ErrResyncRequired:
		return e.Code == "ErrorInvalidSyncStateData" || e.Code == "ErrorSyncFolderNotFound"
	case ErrThrottled:
		return e.Code == "ErrorServerBusy" || e.Code == "ErrorExceededConnectionCount" || e.Status == http.StatusServiceUnavailable
	case ErrNotFound:
		return e.Code == "ErrorNonExistentMailbox" || e.Code == "ErrorInvalidExchangeImpersonationHeaderData"
	case ErrAccessPolicy:
		return e.kind == ErrEWSBlocked
	case ErrForbidden:
		// Mailbox rights; a 403 without a response code is ErrAccessPolicy.
		return e.Code == "ErrorAccessDenied" || e.Code == "ErrorImpersonateUserDenied" || e.Code == "ErrorImpersonationDenied"
	}
	return false
}

var ewsFixes = map[string]string{
	"ErrorInvalidSyncStateData": "The stored SyncState belongs to another folder or expired: modauth syncs the folder again from the start.",
	"ErrorSyncFolderNotFound":   "The folder is gone: modauth syncs again from the start.",
	"ErrorNonExistentMailbox":   "No mailbox has this address: correct the user's Exchange account (the primary SMTP address).",
	"ErrorInvalidExchangeImpersonationHeaderData": "The impersonation header names a mailbox that is not there or is written wrong: " +
		"check the user's primary SMTP address (Get-Mailbox <user> | fl PrimarySmtpAddress) and correct the user's Exchange account.",
	"ErrorAccessDenied": "The account may not open this mailbox: grant the app full_access_as_app (scoped by RBAC for Applications) or the service account FullAccess.",
	"ErrorImpersonateUserDenied": "The service account may not impersonate this user: on-premises, give it the ApplicationImpersonation role with a scope that holds the user " +
		"(New-ManagementRoleAssignment -Name <name> -Role ApplicationImpersonation -User <service account> [-CustomRecipientWriteScope <scope>]); " +
		"Exchange Online removed the role: use an app-only token with full_access_as_app scoped by RBAC for Applications.",
	"ErrorImpersonationDenied": "The service account has no right to impersonate through this Exchange server: on-premises, assign it the ApplicationImpersonation role " +
		"(New-ManagementRoleAssignment -Name <name> -Role ApplicationImpersonation -User <service account>); in Exchange Online use an app-only token with full_access_as_app.",
	"ErrorImpersonationFailed": "Exchange could not impersonate the user because of a fault on its side (a server or trust problem), not a missing right: " +
		"check the Exchange servers' event logs and the account's health, then try again.",
	"ErrorSchemaValidation":        "The server did not accept the request's XML: it may be older than Exchange 2013 SP1, which modauth needs; check the server's version.",
	"ErrorInvalidServerVersion":    "The server does not know the EWS version modauth asks for (Exchange2013_SP1): Exchange 2010 and older are not supported.",
	"ErrorServerBusy":              "Exchange is throttling: modauth waits the time Exchange asked for (BackOffMilliseconds) and tries again.",
	"ErrorExceededConnectionCount": "Too many concurrent EWS connections for this account: modauth lowers its concurrency.",
}

// How EWS.Auth sends a service account's password.
const (
	AuthBasic = "basic"
	AuthNTLM  = "ntlm"
)

// passwordClient is client for one request to an on-premises server: it
// follows no redirect (no credential goes to a proxy's login page) and,
// with ntlm, answers the server's NTLM challenge with the request's Basic
// credentials (go-ntlmssp's Negotiator asks without them first), Basic
// itself only where auth allows it and the server offers it.
func passwordClient(client *http.Client, ntlm bool, auth string) *http.Client {
	hc := *cmp.Or(client, http.DefaultClient)
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	if ntlm {
		hc.Transport = ntlmssp.Negotiator{RoundTripper: cmp.Or(hc.Transport, http.DefaultTransport), AllowBasicAuth: auth == ""}
	}
	return &hc
}

// sentScheme is what the Negotiator answered a server offering offered
// with: NTLM where offered, Basic where allowed and offered, else what
// auth asked for.
func sentScheme(auth string, offered []string) string {
	has := func(s string) bool {
		return slices.ContainsFunc(offered, func(o string) bool { return strings.EqualFold(o, s) })
	}
	switch {
	case has("NTLM"), has("Negotiate") && auth != AuthBasic:
		return "NTLM"
	case auth == "" && has("Basic"):
		return "Basic"
	case auth == AuthNTLM:
		return "NTLM"
	}
	return "Basic or NTLM"
}

// Impersonation addresses another mailbox, with X-AnchorMailbox, which
// Exchange Online needs for routing: by the SOAP ExchangeImpersonation
// header (an app's token, or on-premises the ApplicationImpersonation
// role), or, when Delegate, as a delegate with FullAccess: the mailbox is
// named in each folder's address. Exchange Online removed
// ApplicationImpersonation in 2025: a service account there is a delegate.
type Impersonation struct {
	SMTP     string
	Delegate bool
}

// impersonate is the mailbox the ExchangeImpersonation header names, if any.
func (imp *Impersonation) impersonate() string {
	if imp == nil || imp.Delegate {
		return ""
	}
	return imp.SMTP
}

// folderID is a DistinguishedFolderId, in the delegate's mailbox if any.
func folderID(folder string, imp *Impersonation) string {
	if imp == nil || !imp.Delegate {
		return `<t:DistinguishedFolderId Id="` + xmlEscape(folder) + `"/>`
	}
	return `<t:DistinguishedFolderId Id="` + xmlEscape(folder) + `"><t:Mailbox><t:EmailAddress>` + xmlEscape(imp.SMTP) +
		`</t:EmailAddress></t:Mailbox></t:DistinguishedFolderId>`
}

// Change is one item of a SyncFolderItems answer.
type Change struct {
	Kind      string // Create, Update, Delete, ReadFlagChange
	ID        string
	ChangeKey string
}

// SyncPage is one SyncFolderItems answer.
type SyncPage struct {
	SyncState string
	Last      bool // IncludesLastItemInRange
	Changes   []Change
}

var ewsRequest = template.Must(template.New("").Funcs(template.FuncMap{"x": xmlEscape}).Parse(`<?xml version="1.0" encoding="utf-8"?>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types" xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages">
<soap:Header><t:RequestServerVersion Version="Exchange2013_SP1"/>{{if .Impersonate}}<t:ExchangeImpersonation><t:ConnectingSID><t:PrimarySmtpAddress>{{x .Impersonate}}</t:PrimarySmtpAddress></t:ConnectingSID></t:ExchangeImpersonation>{{end}}</soap:Header>
<soap:Body>{{.Body}}</soap:Body>
</soap:Envelope>`))

func xmlEscape(s string) string {
	var b bytes.Buffer
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

// SyncFolderItems asks for the changes of a distinguished folder (calendar,
// contacts, tasks, inbox) since syncState ("" for everything), at most max
// (1–512) at a time.
func (c *EWS) SyncFolderItems(ctx context.Context, imp *Impersonation, folder, syncState string, maxChanges int) (SyncPage, error) {
	maxChanges = min(max(maxChanges, 1), 512)
	body := `<m:SyncFolderItems><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape>` +
		`<m:SyncFolderId>` + folderID(folder, imp) + `</m:SyncFolderId>`
	if syncState != "" {
		body += `<m:SyncState>` + xmlEscape(syncState) + `</m:SyncState>`
	}
	body += `<m:MaxChangesReturned>` + strconv.Itoa(maxChanges) + `</m:MaxChangesReturned></m:SyncFolderItems>`
	var env syncEnvelope
	msg := &env.Body.Response.Messages.Message
	if err := c.call(ctx, imp, "SyncFolderItems", body, &env, &msg.responseMessage); err != nil {
		return SyncPage{}, err
	}
	page := SyncPage{SyncState: msg.SyncState, Last: msg.Last}
	for _, ch := range msg.Changes.Items {
		id := ch.id()
		page.Changes = append(page.Changes, Change{Kind: ch.XMLName.Local, ID: id.ID, ChangeKey: id.ChangeKey})
	}
	return page, nil
}

// GetFolder checks that a distinguished folder can be opened, and returns
// its ID: the cheapest proof that auth and impersonation work.
func (c *EWS) GetFolder(ctx context.Context, imp *Impersonation, folder string) (string, error) {
	body := `<m:GetFolder><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape></m:FolderShape>` +
		`<m:FolderIds>` + folderID(folder, imp) + `</m:FolderIds></m:GetFolder>`
	var env getFolderEnvelope
	msg := &env.Body.Response.Messages.Message
	if err := c.call(ctx, imp, "GetFolder", body, &env, &msg.responseMessage); err != nil {
		return "", err
	}
	return msg.Folders.First.FolderID.ID, nil
}

// call posts one SOAP request and decodes it into out, whose response
// message is msg, retrying ErrorServerBusy after the BackOffMilliseconds
// Exchange asks for, as long as the call's waits stay within MaxWait.
func (c *EWS) call(ctx context.Context, imp *Impersonation, action, body string, out any, msg *responseMessage) error {
	retries := cmp.Or(c.Retries, 3)
	left := cmp.Or(c.MaxWait, 30*time.Second)
	for attempt := 0; ; attempt++ {
		a, err := c.post(ctx, imp, action, body)
		if err == nil {
			err = a.decode(out, msg)
		}
		var ee *EWSError
		if errors.As(err, &ee) && ee.Code == "ErrorAccessDenied" && imp != nil && imp.Delegate {
			// The account's own token is good: the mailbox is not open to it.
			return fmt.Errorf("open the mailbox %s as a delegate: %w: %w", imp.SMTP, ErrMailboxAccessDenied, err)
		}
		if !errors.As(err, &ee) || ee.Code != "ErrorServerBusy" || attempt >= retries {
			return err
		}
		wait := max(ee.BackOff, time.Second)
		if wait > left {
			return err // the next sweep tries again, after the back-off
		}
		left -= wait
		if err := sleepCtx(ctx, c.Sleep, wait); err != nil {
			return err
		}
	}
}

func (c *EWS) post(ctx context.Context, imp *Impersonation, action, body string) (*ewsAnswer, error) {
	var buf bytes.Buffer
	data := struct{ Impersonate, Body string }{Body: body, Impersonate: imp.impersonate()}
	if err := ewsRequest.Execute(&buf, data); err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL, &buf)
	if err != nil {
		return nil, fmt.Errorf("ews %s: %w", action, err)
	}
	req.Header.Set("Content-Type", "text/xml; charset=utf-8")
	req.Header.Set("SOAPAction", "http://schemas.microsoft.com/exchange/services/2006/messages/"+action)
	if imp != nil {
		req.Header.Set("X-AnchorMailbox", imp.SMTP)
	}
	a := &ewsAnswer{url: req.URL, online: c.Online}
	switch {
	case c.Token != nil:
		tok, err := c.Token(ctx)
		if err != nil {
			return nil, fmt.Errorf("ews %s: get token: %w", action, err)
		}
		req.Header.Set("Authorization", "Bearer "+tok.Reveal())
		a.sent, a.secrets = "Bearer", []string{tok.Reveal()}
	case c.Username != "":
		req.SetBasicAuth(c.Username, c.Password.Reveal())
		a.sent = "Basic"
		a.secrets = []string{c.Password.Reveal(), strings.TrimPrefix(req.Header.Get("Authorization"), "Basic ")}
	}
	// EWS does not move: a redirect is answered here, not followed, so no
	// credential goes to a proxy's login page.
	ntlm := c.Username != "" && c.Token == nil && c.Auth != AuthBasic
	hc := passwordClient(c.HTTP, ntlm, c.Auth)
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("ews %s: %w", action, err)
	}
	defer resp.Body.Close()
	a.status, a.header = resp.StatusCode, resp.Header
	if a.at = time.Now(); c.Now != nil {
		a.at = c.Now()
	}
	if ntlm {
		a.sent = sentScheme(c.Auth, authSchemes(resp.Header.Values("WWW-Authenticate")))
	}
	a.body, a.readErr = io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	return a, nil
}

func sleepCtx(ctx context.Context, sleep func(context.Context, time.Duration) error, d time.Duration) error {
	if sleep != nil {
		return sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
