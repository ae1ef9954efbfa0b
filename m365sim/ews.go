package m365sim

import (
	"cmp"
	"encoding/xml"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// EWS (SOAP 1.1) at POST /EWS/Exchange.asmx: GetFolder,
// SyncFolderHierarchy and SyncFolderItems over the same mailbox data as
// Graph, with OAuth as Exchange Online does it (microsoft.md §6.1) and,
// optionally, Basic and forms login as an on-premises server may
// (microsoft.md §6.4).

const (
	nsSoap   = "http://schemas.xmlsoap.org/soap/envelope/"
	nsMsg    = "http://schemas.microsoft.com/exchange/services/2006/messages"
	nsTypes  = "http://schemas.microsoft.com/exchange/services/2006/types"
	nsErrors = "http://schemas.microsoft.com/exchange/services/2006/errors"
)

// exoAudiences are the aud values Exchange Online accepts: its App ID
// URIs (microsoft.md §2.1) and its appId.
var exoAudiences = []string{"https://outlook.office365.com", "https://outlook.office365.com/",
	"https://outlook.office.com", "https://outlook.office.com/", ExchangeAppID}

type onPremEWS struct {
	account, password string
	impersonation     bool
	// What the virtual directory offers: Basic, and Windows
	// authentication (Negotiate and NTLM).
	basic, ntlm bool
}

// domain is the NetBIOS domain NTLM names: the first label of the account's.
func (o *onPremEWS) domain() string {
	if d, _, ok := strings.Cut(o.account, `\`); ok {
		return strings.ToUpper(d)
	}
	_, host, _ := strings.Cut(o.account, "@")
	d, _, _ := strings.Cut(host, ".")
	return strings.ToUpper(cmp.Or(d, "CONTOSO"))
}

// is reports whether user (in DOMAIN\user, user@domain or bare form) and
// an NTLM domain name the service account.
func (o *onPremEWS) is(user, domain string) bool {
	local := func(a string) string {
		if _, bare, ok := strings.Cut(a, `\`); ok {
			a = bare
		}
		l, _, _ := strings.Cut(a, "@")
		return strings.ToLower(l)
	}
	return local(user) == local(o.account) && (domain == "" || strings.EqualFold(domain, o.domain()) || strings.Contains(strings.ToLower(user), "@"))
}

// EWSOnPremAuth says what the on-premises EWS virtual directory offers:
// Basic authentication, Windows authentication (Negotiate/NTLM), or both,
// as Set-WebServicesVirtualDirectory -BasicAuthentication and
// -WindowsAuthentication do. EnableOnPremEWS offers Basic only.
func (s *Sim) EWSOnPremAuth(basic, ntlm bool) {
	s.mail.mu.Lock()
	defer s.mail.mu.Unlock()
	if s.mail.onPrem != nil {
		s.mail.onPrem.basic, s.mail.onPrem.ntlm = basic, ntlm
	}
}

// EnableOnPremEWS makes the EWS endpoint also accept HTTP Basic for the
// service account, as an on-premises Exchange does. With impersonation
// false the account lacks the ApplicationImpersonation role: impersonated
// requests answer ErrorImpersonateUserDenied. Without an impersonation
// header the account acts on its own mailbox, if it is a directory user.
func (s *Sim) EnableOnPremEWS(serviceAccount, password string, impersonation bool) {
	s.mail.mu.Lock()
	defer s.mail.mu.Unlock()
	s.mail.onPrem = &onPremEWS{account: serviceAccount, password: password, impersonation: impersonation, basic: true}
}

// EWSFormsLogin puts a reverse proxy with forms pre-authentication in
// front of EWS, or takes it away: while there, every request without the
// proxy's session cookie is redirected to the OWA-style login page,
// whatever credentials it carries for Exchange, a classic on-premises
// misconfiguration.
func (s *Sim) EWSFormsLogin(on bool) {
	s.mail.mu.Lock()
	s.mail.formsLogin = on
	s.mail.mu.Unlock()
}

// EWSServerBusy makes the next n authenticated EWS calls answer
// ErrorServerBusy with BackOffMilliseconds, as EWS throttling does.
func (s *Sim) EWSServerBusy(n int, backoff time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &fault{match: "#ews_busy", n: n, retryAfter: backoff})
}

func (s *Sim) ewsRoutes(mux *http.ServeMux) {
	mux.HandleFunc("/EWS/Exchange.asmx", s.serveEWS)
	mux.HandleFunc("GET /owa/auth/logon.aspx", s.handleOWALogon)
	mux.HandleFunc("POST /autodiscover/autodiscover.xml", s.serveAutodiscover)
}

// ewsCaller is who an EWS request comes from.
type ewsCaller struct {
	tenant  *Tenant
	user    *User // delegated user or Basic service account; nil for an app
	appOnly bool
	basic   bool
	allowed bool // holds the EWS permission (full_access_as_app, EWS.AccessAsUser.All)
}

// ewsError is an EWS ResponseCode with its MessageText.
type ewsError struct {
	code, text string
	backoff    time.Duration
}

var (
	errEWSSyncState    = &ewsError{"ErrorInvalidSyncStateData", "Synchronization state data is corrupt or otherwise invalid.", 0}
	errEWSNoMailbox    = &ewsError{"ErrorNonExistentMailbox", "The SMTP address has no mailbox associated with it.", 0}
	errEWSAccessDenied = &ewsError{"ErrorAccessDenied", "Access is denied. Check credentials and try again.", 0}
	errEWSImpersonate  = &ewsError{"ErrorImpersonateUserDenied", "The account does not have permission to impersonate the requested user.", 0}
	errEWSNeedsHeader  = &ewsError{"ErrorInvalidExchangeImpersonationHeaderData", "ExchangeImpersonation SOAP header must be present for this type of OAuth token.", 0}
	errEWSNoFolder     = &ewsError{"ErrorFolderNotFound", "The specified folder could not be found in the store.", 0}
	errEWSNoSyncFolder = &ewsError{"ErrorSyncFolderNotFound", "The specified folder could not be found in the store.", 0}
)

// The request, as far as the simulator reads it. Names match any
// namespace prefix.
type ewsEnvelope struct {
	Header struct {
		Impersonation *struct {
			PrimarySmtpAddress string `xml:"ConnectingSID>PrimarySmtpAddress"`
			SmtpAddress        string `xml:"ConnectingSID>SmtpAddress"`
			PrincipalName      string `xml:"ConnectingSID>PrincipalName"`
			SID                string `xml:"ConnectingSID>SID"`
		} `xml:"ExchangeImpersonation"`
	} `xml:"Header"`
	Body struct {
		GetFolder *struct {
			BaseShape string        `xml:"FolderShape>BaseShape"`
			FolderIDs ewsFolderRefs `xml:"FolderIds"`
		} `xml:"GetFolder"`
		SyncFolderHierarchy *struct {
			SyncState string `xml:"SyncState"`
		} `xml:"SyncFolderHierarchy"`
		SyncFolderItems *struct {
			Folder    ewsFolderRefs `xml:"SyncFolderId"`
			SyncState string        `xml:"SyncState"`
			Max       int           `xml:"MaxChangesReturned"`
		} `xml:"SyncFolderItems"`
		Other []struct {
			XMLName xml.Name
		} `xml:",any"`
	} `xml:"Body"`
}

type ewsFolderRefs struct {
	Refs []ewsFolderRef `xml:",any"`
}

// ewsFolderRef is a DistinguishedFolderId or a FolderId.
type ewsFolderRef struct {
	XMLName xml.Name
	ID      string `xml:"Id,attr"`
	Mailbox string `xml:"Mailbox>EmailAddress"`
}

func (s *Sim) serveEWS(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("request-id", s.newGUID())
	s.mail.mu.Lock()
	forms, onPrem := s.mail.formsLogin, s.mail.onPrem
	s.mail.mu.Unlock()
	if forms && !strings.Contains(r.Header.Get("Cookie"), "cadata=") {
		target := s.URL + "/owa/auth/logon.aspx?url=" + url.QueryEscape(s.URL+r.URL.Path) + "&reason=0"
		http.Redirect(w, r, target, http.StatusFound)
		return
	}
	c, ok := s.ewsAuthenticate(w, r, onPrem)
	if !ok {
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
		return
	}
	var env ewsEnvelope
	if err := xml.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&env); err != nil {
		s.soapFault(w, "ErrorSchemaValidation", "The request failed schema validation: "+err.Error())
		return
	}
	b := &env.Body
	var op string
	switch {
	case b.GetFolder != nil:
		op = "GetFolder"
	case b.SyncFolderHierarchy != nil:
		op = "SyncFolderHierarchy"
	case b.SyncFolderItems != nil:
		op = "SyncFolderItems"
		if m := b.SyncFolderItems.Max; m < 1 || m > 512 {
			s.soapFault(w, "ErrorSchemaValidation", fmt.Sprintf("The request failed schema validation: The 'MaxChangesReturned' element is invalid - The value '%d' is invalid according to its datatype: it must be between 1 and 512.", m))
			return
		}
	default:
		name := "(none)"
		if len(b.Other) > 0 {
			name = b.Other[0].XMLName.Local
		}
		s.soapFault(w, "ErrorInvalidRequest", "The request is invalid: the simulator does not implement "+name+".")
		return
	}
	n := 1
	if op == "GetFolder" {
		n = max(1, len(b.GetFolder.FolderIDs.Refs))
	}
	s.mu.Lock()
	busy := s.takeFault("#ews_busy")
	s.mu.Unlock()
	if busy != nil {
		s.ewsAnswer(w, op, repeat(ewsFail(&ewsError{"ErrorServerBusy", "The server cannot service this request right now. Try again later.", busy.retryAfter}), n))
		return
	}
	if !c.allowed {
		s.ewsAnswer(w, op, repeat(ewsFail(errEWSAccessDenied), n))
		return
	}
	u, e := s.ewsTarget(c, &env, onPrem)
	if e == nil && (c.appOnly || u != c.user) && !c.basic && r.Header.Get("X-AnchorMailbox") == "" {
		// Exchange Online takes an impersonated call without the anchor
		// but may route it to the wrong backend (microsoft.md §6.1 says to
		// always send it); the simulator refuses it so the mistake shows.
		http.Error(w, "X-AnchorMailbox header is required for impersonation", http.StatusBadRequest)
		return
	}
	if e != nil {
		s.ewsAnswer(w, op, repeat(ewsFail(e), n))
		return
	}
	m := s.Mailbox(u)
	var msgs []string
	switch op {
	case "GetFolder":
		msgs = s.ewsGetFolder(c.tenant, u, m, b.GetFolder.BaseShape, b.GetFolder.FolderIDs.Refs)
	case "SyncFolderHierarchy":
		msgs = []string{ewsSyncHierarchy(u, m, b.SyncFolderHierarchy.SyncState)}
	case "SyncFolderItems":
		req := b.SyncFolderItems
		msgs = []string{ewsSyncItems(c.tenant, u, m, req.Folder.Refs, req.SyncState, req.Max)}
	}
	s.ewsAnswer(w, op, msgs)
}

// ewsAuthenticate checks the credentials. On failure it has written the
// 401 and returns false.
func (s *Sim) ewsAuthenticate(w http.ResponseWriter, r *http.Request, onPrem *onPremEWS) (*ewsCaller, bool) {
	deny := func(diag string) (*ewsCaller, bool) {
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer client_id="%s", trusted_issuers="00000001-0000-0000-c000-000000000000@*", token_types="app_asserted_user_v1 service_asserted_app_v1", authorization_uri="%s/common/oauth2/authorize", error="invalid_token"`, ExchangeAppID, s.URL))
		if onPrem != nil {
			if onPrem.ntlm {
				w.Header().Add("WWW-Authenticate", "Negotiate")
				w.Header().Add("WWW-Authenticate", "NTLM")
			}
			if onPrem.basic {
				w.Header().Add("WWW-Authenticate", `Basic realm="`+r.Host+`"`)
			}
		}
		if diag != "" {
			w.Header().Set("x-ms-diagnostics", diag)
		}
		w.WriteHeader(http.StatusUnauthorized)
		return nil, false
	}
	invalid := func(reason string) (*ewsCaller, bool) {
		return deny(fmt.Sprintf(`2000001;reason="%s";error_category="invalid_token"`, reason))
	}
	authz := r.Header.Get("Authorization")
	if scheme, _, _ := strings.Cut(authz, " "); onPrem != nil && onPrem.ntlm && (strings.EqualFold(scheme, "NTLM") || strings.EqualFold(scheme, "Negotiate")) {
		account, challenged := s.ntlmStep(w, r, onPrem)
		switch {
		case challenged:
			return nil, false
		case account == "":
			return deny("")
		}
		return s.onPremCaller(account), true
	}
	if user, pass, ok := r.BasicAuth(); ok && onPrem != nil && onPrem.basic {
		_, bare, _ := strings.Cut(user, `\`) // DOMAIN\account
		if (!strings.EqualFold(user, onPrem.account) && !strings.EqualFold(bare, onPrem.account)) || pass != onPrem.password {
			return deny("")
		}
		return s.onPremCaller(onPrem.account), true
	}
	raw, ok := strings.CutPrefix(authz, "Bearer ")
	if !ok || strings.TrimSpace(raw) == "" {
		return deny("")
	}
	var claims accessClaims
	if e := s.verifyJWT(raw, &claims); e != nil {
		return invalid("The token is malformed or has an invalid signature.")
	}
	if !time.Unix(claims.Exp, 0).After(s.Clock.Now()) {
		return invalid("The token has expired.")
	}
	if !slices.Contains(exoAudiences, claims.Aud) {
		return invalid(fmt.Sprintf("The audience claim value is invalid '%s'.", claims.Aud))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tenant(claims.Tid)
	if t == nil {
		return invalid("The token issuer is not trusted.")
	}
	if why := t.ews.refusal(claims.AppID, s.Clock.Now()); why != "" && onPrem == nil {
		// Exchange Online's EWS block; an on-premises server has none.
		refuseEWS(w, why)
		return nil, false
	}
	c := &ewsCaller{tenant: t, appOnly: claims.Idtyp == "app"}
	perms := claims.Roles
	if !c.appOnly {
		if c.user = t.User(claims.Oid); c.user == nil {
			return invalid("The user of the token does not exist.")
		}
		perms = strings.Fields(claims.Scp)
	}
	if len(perms) == 0 {
		return deny(`2000008;reason="The token contains no permissions, or permissions can not be understood.";error_category="invalid_grant"`)
	}
	if c.appOnly {
		c.allowed = containsFold(perms, "full_access_as_app")
	} else {
		c.allowed = containsFold(perms, "EWS.AccessAsUser.All")
	}
	return c, true
}

// delegateOf is the mailbox a delegate opens: the one the request's folders
// name, when the caller has FullAccess on it (Add-MailboxPermission).
func (s *Sim) delegateOf(c *ewsCaller, env *ewsEnvelope) *User {
	var refs []ewsFolderRef
	switch b := &env.Body; {
	case b.GetFolder != nil:
		refs = b.GetFolder.FolderIDs.Refs
	case b.SyncFolderItems != nil:
		refs = b.SyncFolderItems.Folder.Refs
	}
	for _, ref := range refs {
		if ref.Mailbox == "" || c.user == nil {
			continue
		}
		s.mu.Lock()
		o := c.tenant.userByAddress(ref.Mailbox)
		s.mu.Unlock()
		if o != nil && o != c.user && s.HasFullAccess(o, c.user) {
			return o
		}
	}
	return nil
}

// GrantFullAccess gives delegate FullAccess on mailbox's mailbox, as
// Add-MailboxPermission -AccessRights FullAccess does; ok false takes it
// away.
func (s *Sim) GrantFullAccess(mailbox, delegate *User, ok bool) {
	s.mail.mu.Lock()
	defer s.mail.mu.Unlock()
	if s.mail.fullAccess == nil {
		s.mail.fullAccess = map[string]bool{}
	}
	s.mail.fullAccess[mailbox.ObjectID+" "+delegate.ObjectID] = ok
}

// HasFullAccess reports whether delegate may open mailbox's mailbox.
func (s *Sim) HasFullAccess(mailbox, delegate *User) bool {
	s.mail.mu.Lock()
	defer s.mail.mu.Unlock()
	return s.mail.fullAccess[mailbox.ObjectID+" "+delegate.ObjectID]
}

// onPremCaller is the on-premises service account, signed in.
func (s *Sim) onPremCaller(account string) *ewsCaller {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.Tenant.lookupUser(account)
	if u == nil {
		u = s.Tenant.userByAddress(account)
	}
	return &ewsCaller{tenant: s.Tenant, user: u, basic: true, allowed: true}
}

// ewsTarget is the mailbox a request acts on: the impersonated one, else
// the caller's own.
func (s *Sim) ewsTarget(c *ewsCaller, env *ewsEnvelope, onPrem *onPremEWS) (*User, *ewsError) {
	imp := env.Header.Impersonation
	if imp == nil {
		if c.appOnly {
			return nil, errEWSNeedsHeader
		}
		if o := s.delegateOf(c, env); o != nil {
			return o, nil
		}
		if c.user == nil || !c.user.HasMailbox {
			return nil, errEWSNoMailbox
		}
		return c.user, nil
	}
	s.mu.Lock()
	var u *User
	switch {
	case imp.PrincipalName != "":
		u = c.tenant.lookupUser(imp.PrincipalName)
	case imp.PrimarySmtpAddress != "":
		u = c.tenant.userByAddress(imp.PrimarySmtpAddress)
	case imp.SmtpAddress != "":
		u = c.tenant.userByAddress(imp.SmtpAddress)
	}
	s.mu.Unlock()
	switch {
	case c.basic && !onPrem.impersonation:
		return nil, errEWSImpersonate
	case !c.appOnly && !c.basic && u != c.user: // a user may only "impersonate" themselves
		return nil, errEWSImpersonate
	case u == nil || !u.HasMailbox:
		return nil, errEWSNoMailbox
	}
	return u, nil
}

// ewsFolder resolves a DistinguishedFolderId or FolderId in the target's
// mailbox. A Mailbox element naming someone else is delegate access,
// which nobody in the simulator has.
func ewsFolder(t *Tenant, u *User, m *Mailbox, ref ewsFolderRef) (Folder, *ewsError) {
	if ref.Mailbox != "" {
		if o := t.userByAddress(ref.Mailbox); o == nil {
			return "", errEWSNoMailbox
		} else if o != u {
			return "", errEWSAccessDenied
		}
	}
	switch ref.XMLName.Local {
	case "DistinguishedFolderId":
		if f := Folder(strings.ToLower(ref.ID)); slices.Contains(mailFolders, f) {
			return f, nil
		}
	case "FolderId":
		m.mu.Lock()
		defer m.mu.Unlock()
		if f, ok := m.folderByID(ref.ID); ok {
			return f, nil
		}
	}
	return "", errEWSNoFolder
}

var ewsFolderKinds = map[Folder]struct{ element, name, class string }{
	FolderInbox:    {"Folder", "Inbox", "IPF.Note"},
	FolderCalendar: {"CalendarFolder", "Calendar", "IPF.Appointment"},
	FolderContacts: {"ContactsFolder", "Contacts", "IPF.Contact"},
	FolderTasks:    {"TasksFolder", "Tasks", "IPF.Task"},
}

var ewsItemElements = map[Folder]string{FolderInbox: "Message", FolderCalendar: "CalendarItem", FolderContacts: "Contact", FolderTasks: "Task"}

// ewsFolderXML is a folder element; full adds what the Default shape shows.
func ewsFolderXML(m *Mailbox, f Folder, full bool) string {
	k := ewsFolderKinds[f]
	m.mu.Lock()
	fo := m.folders[f]
	out := fmt.Sprintf(`<t:%s><t:FolderId Id="%s" ChangeKey="%s"/>`, k.element, esc(fo.id), esc(fo.changeKey))
	if full {
		n := 0
		for _, it := range fo.items {
			if !it.deleted {
				n++
			}
		}
		out += fmt.Sprintf(`<t:FolderClass>%s</t:FolderClass><t:DisplayName>%s</t:DisplayName><t:TotalCount>%d</t:TotalCount><t:ChildFolderCount>0</t:ChildFolderCount>`, k.class, k.name, n)
	}
	m.mu.Unlock()
	return out + "</t:" + k.element + ">"
}

func (s *Sim) ewsGetFolder(t *Tenant, u *User, m *Mailbox, shape string, refs []ewsFolderRef) []string {
	var msgs []string
	for _, ref := range refs {
		f, e := ewsFolder(t, u, m, ref)
		if e != nil {
			msgs = append(msgs, ewsFail(e))
			continue
		}
		msgs = append(msgs, ewsOK("<m:Folders>"+ewsFolderXML(m, f, !strings.EqualFold(shape, "IdOnly"))+"</m:Folders>"))
	}
	if len(msgs) == 0 {
		msgs = append(msgs, ewsFail(errEWSNoFolder))
	}
	return msgs
}

func ewsSyncHierarchy(u *User, m *Mailbox, state string) string {
	cur := cursor{Kind: "hierarchy", User: u.ObjectID, Epoch: m.epochNow()}
	var changes strings.Builder
	if state == "" {
		for _, f := range mailFolders {
			changes.WriteString("<t:Create>" + ewsFolderXML(m, f, true) + "</t:Create>")
		}
	} else if c, ok := decodeCursor(state); !ok || c != cur {
		return ewsFail(errEWSSyncState)
	}
	return ewsOK(fmt.Sprintf(`<m:SyncState>%s</m:SyncState><m:IncludesLastFolderInRange>true</m:IncludesLastFolderInRange><m:Changes>%s</m:Changes>`,
		cur.encode(), changes.String()))
}

func ewsSyncItems(t *Tenant, u *User, m *Mailbox, refs []ewsFolderRef, state string, max int) string {
	if len(refs) != 1 {
		return ewsFail(errEWSNoSyncFolder)
	}
	f, e := ewsFolder(t, u, m, refs[0])
	if e == errEWSNoFolder {
		e = errEWSNoSyncFolder
	}
	if e != nil {
		return ewsFail(e)
	}
	cur := cursor{Kind: "ews", User: u.ObjectID, Folder: f, Epoch: m.epochNow()}
	if state != "" {
		c, ok := decodeCursor(state)
		if !ok || c.Kind != "ews" || c.User != u.ObjectID || c.Folder != f {
			return ewsFail(errEWSSyncState)
		}
		cur = c
	}
	changes, next, done, ok := m.changes(cur, max, nil)
	if !ok {
		return ewsFail(errEWSSyncState)
	}
	var b strings.Builder
	for _, c := range changes {
		id := fmt.Sprintf(`<t:ItemId Id="%s" ChangeKey="%s"/>`, esc(c.item.id), esc(c.item.changeKey))
		if c.kind == changeDelete {
			fmt.Fprintf(&b, "<t:Delete>%s</t:Delete>", id)
		} else {
			el := ewsItemElements[f]
			fmt.Fprintf(&b, "<t:%s><t:%s>%s</t:%s></t:%s>", c.kind, el, id, el, c.kind)
		}
	}
	return ewsOK(fmt.Sprintf(`<m:SyncState>%s</m:SyncState><m:IncludesLastItemInRange>%t</m:IncludesLastItemInRange><m:Changes>%s</m:Changes>`,
		next.encode(), done, b.String()))
}

// ewsOK and ewsFail are the inside of a response message; ewsAnswer
// wraps them in the operation's elements.
func ewsOK(inner string) string {
	return `ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode>` + inner
}

func ewsFail(e *ewsError) string {
	out := fmt.Sprintf(`ResponseClass="Error"><m:MessageText>%s</m:MessageText><m:ResponseCode>%s</m:ResponseCode><m:DescriptiveLinkKey>0</m:DescriptiveLinkKey>`, esc(e.text), e.code)
	if e.code == "ErrorServerBusy" {
		out += fmt.Sprintf(`<m:MessageXml><t:Value Name="BackOffMilliseconds">%d</t:Value></m:MessageXml>`, e.backoff.Milliseconds())
	}
	return out
}

func repeat(msg string, n int) []string { return slices.Repeat([]string{msg}, n) }

func (s *Sim) ewsAnswer(w http.ResponseWriter, op string, msgs []string) {
	var b strings.Builder
	fmt.Fprintf(&b, `<m:%sResponse xmlns:m="%s" xmlns:t="%s"><m:ResponseMessages>`, op, nsMsg, nsTypes)
	for _, msg := range msgs {
		fmt.Fprintf(&b, "<m:%sResponseMessage %s</m:%sResponseMessage>", op, msg, op)
	}
	fmt.Fprintf(&b, "</m:ResponseMessages></m:%sResponse>", op)
	s.writeSOAP(w, http.StatusOK, `<s:Header><t:ServerVersionInfo xmlns:t="`+nsTypes+`" MajorVersion="15" MinorVersion="20" MajorBuildNumber="8769" MinorBuildNumber="23" Version="V2018_01_08"/></s:Header>`, b.String())
}

// soapFault answers a request EWS cannot even read, with HTTP 500.
func (s *Sim) soapFault(w http.ResponseWriter, code, text string) {
	s.writeSOAP(w, http.StatusInternalServerError, "", fmt.Sprintf(
		`<s:Fault><faultcode xmlns:a="%s">a:%s</faultcode><faultstring xml:lang="en-US">%s</faultstring><detail><e:ResponseCode xmlns:e="%s">%s</e:ResponseCode><e:Message xmlns:e="%s">%s</e:Message></detail></s:Fault>`,
		nsTypes, code, esc(text), nsErrors, code, nsErrors, esc(text)))
}

func (s *Sim) writeSOAP(w http.ResponseWriter, status int, header, body string) {
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="%s">%s<s:Body>%s</s:Body></s:Envelope>`, nsSoap, header, body)
}

func esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// handleOWALogon is the forms-based login page EWSFormsLogin redirects to.
func (s *Sim) handleOWALogon(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprintf(w, `<!doctype html><html><head><title>Outlook</title></head><body>
<form action="/owa/auth.owa" method="POST" name="logonForm">
<input type="hidden" name="destination" value="%s">
<label>Domain\user name: <input id="username" name="username" type="text"></label>
<label>Password: <input id="password" name="password" type="password"></label>
<input type="submit" value="sign in"></form></body></html>
`, template.HTMLEscapeString(r.URL.Query().Get("url")))
}
