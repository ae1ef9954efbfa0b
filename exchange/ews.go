package exchange

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/modauth/modauth/store"
)

// EWS is an Exchange Web Services client: SyncFolderItems for the sync,
// GetFolder for checks. Exchange Online takes a Bearer token; Exchange
// Server on-premises takes Basic authentication with a service account.
type EWS struct {
	URL   string // e.g. https://outlook.office365.com/EWS/Exchange.asmx
	HTTP  *http.Client
	Token TokenFunc // Bearer; nil with Basic
	// Basic credentials for on-premises Exchange.
	Username string
	Password store.Secret
	Sleep    func(ctx context.Context, d time.Duration) error
	Retries  int // ErrorServerBusy retries; default 3
}

// EWSError is a response code other than NoError, or an HTTP failure.
type EWSError struct {
	Status  int    // HTTP status
	Code    string // ResponseCode, e.g. ErrorInvalidSyncStateData
	Message string
	BackOff time.Duration // from ErrorServerBusy's BackOffMilliseconds
}

func (e *EWSError) Error() string {
	if e.Code == "" {
		return fmt.Sprintf("ews: http %d: %s", e.Status, e.Message)
	}
	return fmt.Sprintf("ews: %s: %s", e.Code, e.Message)
}

// Fix says what to do about the error.
func (e *EWSError) Fix() string {
	if f, ok := ewsFixes[e.Code]; ok {
		return f
	}
	switch e.Status {
	case http.StatusUnauthorized:
		return "The token or password was refused: sign in again, check the token's audience (https://outlook.office365.com) and EWS.AccessAsUser.All or full_access_as_app, or the service account's password."
	case http.StatusForbidden:
		return "EWS refused the app: in Exchange Online, EWS is blocked unless the app is in EwsAllowedAppIDs and EwsEnabled is $true for the organisation and the mailbox."
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
		return e.Code == "ErrorNonExistentMailbox"
	case ErrForbidden:
		return e.Code == "ErrorAccessDenied" || e.Code == "ErrorImpersonateUserDenied" || e.Code == "ErrorImpersonationDenied" || e.Status == http.StatusForbidden
	}
	return false
}

var ewsFixes = map[string]string{
	"ErrorInvalidSyncStateData":    "The stored SyncState belongs to another folder or expired: modauth syncs the folder again from the start.",
	"ErrorSyncFolderNotFound":      "The folder is gone: modauth syncs again from the start.",
	"ErrorNonExistentMailbox":      "No mailbox has this address: correct the user's Exchange account (the primary SMTP address).",
	"ErrorAccessDenied":            "The account may not open this mailbox: grant the app full_access_as_app (scoped by RBAC for Applications) or the service account FullAccess.",
	"ErrorImpersonateUserDenied":   "Impersonation was refused: on-premises, give the service account the ApplicationImpersonation role; in Exchange Online use an app-only token with full_access_as_app.",
	"ErrorServerBusy":              "Exchange is throttling: modauth waits the time Exchange asked for (BackOffMilliseconds) and tries again.",
	"ErrorExceededConnectionCount": "Too many concurrent EWS connections for this account: modauth lowers its concurrency.",
}

// Impersonation addresses another mailbox: the SOAP ExchangeImpersonation
// header and X-AnchorMailbox, which Exchange Online needs for routing.
type Impersonation struct{ SMTP string }

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
		`<m:SyncFolderId><t:DistinguishedFolderId Id="` + xmlEscape(folder) + `"/></m:SyncFolderId>`
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
		`<m:FolderIds><t:DistinguishedFolderId Id="` + xmlEscape(folder) + `"/></m:FolderIds></m:GetFolder>`
	var env getFolderEnvelope
	msg := &env.Body.Response.Messages.Message
	if err := c.call(ctx, imp, "GetFolder", body, &env, &msg.responseMessage); err != nil {
		return "", err
	}
	return msg.Folders.First.FolderID.ID, nil
}

// call posts one SOAP request and decodes it into out, whose response
// message is msg, retrying ErrorServerBusy after the BackOffMilliseconds
// Exchange asks for.
func (c *EWS) call(ctx context.Context, imp *Impersonation, action, body string, out ewsEnvelope, msg *responseMessage) error {
	retries := c.Retries
	if retries == 0 {
		retries = 3
	}
	for attempt := 0; ; attempt++ {
		data, err := c.post(ctx, imp, action, body)
		if err == nil {
			if err = decodeEWS(data, out); err == nil {
				err = msg.err()
			}
		}
		var ee *EWSError
		if !errors.As(err, &ee) || ee.Code != "ErrorServerBusy" || attempt >= retries {
			return err
		}
		wait := max(ee.BackOff, time.Second)
		if err := sleepCtx(ctx, c.Sleep, wait); err != nil {
			return err
		}
	}
}

func (c *EWS) post(ctx context.Context, imp *Impersonation, action, body string) ([]byte, error) {
	var buf bytes.Buffer
	data := struct{ Impersonate, Body string }{Body: body}
	if imp != nil {
		data.Impersonate = imp.SMTP
	}
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
	switch {
	case c.Token != nil:
		tok, err := c.Token(ctx)
		if err != nil {
			return nil, fmt.Errorf("ews %s: get token: %w", action, err)
		}
		req.Header.Set("Authorization", "Bearer "+tok.Reveal())
	case c.Username != "":
		req.SetBasicAuth(c.Username, c.Password.Reveal())
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("ews %s: %w", action, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return nil, fmt.Errorf("ews %s: read: %w", action, err)
	}
	if resp.StatusCode != http.StatusOK && !(resp.StatusCode == http.StatusInternalServerError && bytes.Contains(out, []byte("Envelope"))) {
		msg := strings.TrimSpace(resp.Header.Get("x-ms-diagnostics"))
		if msg == "" {
			msg = http.StatusText(resp.StatusCode)
		}
		return nil, &EWSError{Status: resp.StatusCode, Message: msg}
	}
	return out, nil
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
