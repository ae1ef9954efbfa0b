package m365sim_test

import (
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/Azure/go-ntlmssp"

	"github.com/modauth/modauth/m365sim"
)

const exoURI = "https://outlook.office365.com"

// ewsAnswer is an EWS response, parsed with namespaces, so a wrong one
// fails to match.
type ewsAnswer struct {
	raw    string
	status int
	header http.Header
	Header struct {
		Version *struct {
			Major string `xml:"MajorVersion,attr"`
		} `xml:"http://schemas.microsoft.com/exchange/services/2006/types ServerVersionInfo"`
	} `xml:"http://schemas.xmlsoap.org/soap/envelope/ Header"`
	Body struct {
		Responses []struct {
			XMLName  xml.Name
			Messages struct {
				List []ewsMessage `xml:",any"`
			} `xml:"http://schemas.microsoft.com/exchange/services/2006/messages ResponseMessages"`
		} `xml:",any"`
	} `xml:"http://schemas.xmlsoap.org/soap/envelope/ Body"`
}

type ewsMessage struct {
	XMLName    xml.Name
	Class      string `xml:"ResponseClass,attr"`
	Code       string `xml:"http://schemas.microsoft.com/exchange/services/2006/messages ResponseCode"`
	SyncState  string `xml:"http://schemas.microsoft.com/exchange/services/2006/messages SyncState"`
	LastItem   string `xml:"http://schemas.microsoft.com/exchange/services/2006/messages IncludesLastItemInRange"`
	LastFolder string `xml:"http://schemas.microsoft.com/exchange/services/2006/messages IncludesLastFolderInRange"`
	MessageXML struct {
		Value struct {
			Name string `xml:"Name,attr"`
			Text string `xml:",chardata"`
		} `xml:"http://schemas.microsoft.com/exchange/services/2006/types Value"`
	} `xml:"http://schemas.microsoft.com/exchange/services/2006/messages MessageXml"`
	Folders struct {
		List []struct {
			FolderID ewsID `xml:"http://schemas.microsoft.com/exchange/services/2006/types FolderId"`
		} `xml:",any"`
	} `xml:"http://schemas.microsoft.com/exchange/services/2006/messages Folders"`
	ChangeList struct {
		List []ewsChange `xml:",any"`
	} `xml:"http://schemas.microsoft.com/exchange/services/2006/messages Changes"`
}

type ewsID struct {
	ID        string `xml:"Id,attr"`
	ChangeKey string `xml:"ChangeKey,attr"`
}

// ewsChange is a Create, Update or Delete: Delete holds the ItemId,
// the others an item or folder that holds it.
type ewsChange struct {
	XMLName xml.Name
	ItemID  ewsID `xml:"http://schemas.microsoft.com/exchange/services/2006/types ItemId"`
	Inner   struct {
		ItemID   ewsID `xml:"http://schemas.microsoft.com/exchange/services/2006/types ItemId"`
		FolderID ewsID `xml:"http://schemas.microsoft.com/exchange/services/2006/types FolderId"`
	} `xml:",any"`
}

func (c ewsChange) id() ewsID {
	if c.ItemID.ID != "" {
		return c.ItemID
	}
	return c.Inner.ItemID
}

// ewsPost sends a SOAP request: header is the SOAP header's inside, body
// the operation; set adds credentials and HTTP headers.
func ewsPost(t *testing.T, s *m365sim.Sim, set func(*http.Request), header, body string) *ewsAnswer {
	t.Helper()
	env := `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types" xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages">` +
		`<soap:Header><t:RequestServerVersion Version="Exchange2016"/>` + header + `</soap:Header><soap:Body>` + body + `</soap:Body></soap:Envelope>`
	req, err := http.NewRequest("POST", s.URL+"/EWS/Exchange.asmx", strings.NewReader(env))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "text/xml; charset=utf-8")
	if set != nil {
		set(req)
	}
	return ewsDo(t, s, req)
}

func ewsDo(t *testing.T, s *m365sim.Sim, req *http.Request) *ewsAnswer {
	t.Helper()
	hc := *s.HTTPClient()
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := &ewsAnswer{raw: string(raw), status: resp.StatusCode, header: resp.Header}
	if resp.StatusCode == http.StatusOK {
		if err := xml.Unmarshal(raw, a); err != nil {
			t.Fatalf("decode %s: %v", raw, err)
		}
	}
	return a
}

// msg is the answer's only response message, checked to be of op.
func (a *ewsAnswer) msg(t *testing.T, op string) ewsMessage {
	t.Helper()
	if a.status != http.StatusOK || len(a.Body.Responses) != 1 || a.Body.Responses[0].XMLName.Local != op+"Response" ||
		len(a.Body.Responses[0].Messages.List) != 1 || a.Body.Responses[0].Messages.List[0].XMLName.Local != op+"ResponseMessage" ||
		a.Header.Version == nil {
		t.Fatalf("%s: HTTP %d %s", op, a.status, a.raw)
	}
	return a.Body.Responses[0].Messages.List[0]
}

func bearer(tok string) func(*http.Request) {
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }
}

func impersonate(addr string) string {
	return `<t:ExchangeImpersonation><t:ConnectingSID><t:PrimarySmtpAddress>` + addr + `</t:PrimarySmtpAddress></t:ConnectingSID></t:ExchangeImpersonation>`
}

func syncItems(folder, state string, max int) string {
	if state != "" {
		state = "<m:SyncState>" + state + "</m:SyncState>"
	}
	return fmt.Sprintf(`<m:SyncFolderItems><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape><m:SyncFolderId>%s</m:SyncFolderId>%s<m:MaxChangesReturned>%d</m:MaxChangesReturned></m:SyncFolderItems>`, folder, state, max)
}

func distinguished(id string) string { return `<t:DistinguishedFolderId Id="` + id + `"/>` }

// ewsSyncAll syncs a folder to IncludesLastItemInRange and returns the
// changes, the final SyncState and the number of calls.
func ewsSyncAll(t *testing.T, s *m365sim.Sim, set func(*http.Request), header, folder, state string, max int) ([]ewsChange, string, int) {
	t.Helper()
	var all []ewsChange
	for calls := 1; calls < 100; calls++ {
		m := ewsPost(t, s, set, header, syncItems(folder, state, max)).msg(t, "SyncFolderItems")
		if m.Class != "Success" || m.Code != "NoError" || m.SyncState == "" || len(m.ChangeList.List) > max {
			t.Fatalf("sync: %+v", m)
		}
		all, state = append(all, m.ChangeList.List...), m.SyncState
		if m.LastItem == "true" {
			return all, state, calls
		}
	}
	t.Fatal("no end to the sync")
	return nil, "", 0
}

func createdIDs(changes []ewsChange) []string {
	var ids []string
	for _, c := range changes {
		if c.XMLName.Local == "Create" {
			ids = append(ids, c.id().ID)
		}
	}
	return sorted(ids)
}

func TestEWSDelegatedSync(t *testing.T) {
	s := m365sim.Start(t, m365sim.Options{})
	anna := s.Tenant.User("anna.devries@contoso.com")
	m := s.Mailbox(anna)
	for range 15 {
		m.Add(m365sim.FolderCalendar)
	}
	auth := bearer(userToken(t, s, anna.UPN, exoURI+"/EWS.AccessAsUser.All"))

	h := ewsPost(t, s, auth, "", `<m:SyncFolderHierarchy><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape></m:FolderShape></m:SyncFolderHierarchy>`).msg(t, "SyncFolderHierarchy")
	if h.Class != "Success" || h.LastFolder != "true" || len(h.ChangeList.List) != 4 || h.SyncState == "" || !slices.ContainsFunc(h.ChangeList.List, func(c ewsChange) bool { return c.Inner.FolderID.ID == m.FolderID(m365sim.FolderCalendar) }) {
		t.Errorf("hierarchy: %+v", h)
	}
	g := ewsPost(t, s, auth, "", `<m:GetFolder><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape></m:FolderShape><m:FolderIds>`+distinguished("calendar")+`</m:FolderIds></m:GetFolder>`).msg(t, "GetFolder")
	if g.Code != "NoError" || len(g.Folders.List) != 1 || g.Folders.List[0].FolderID.ID != m.FolderID(m365sim.FolderCalendar) || g.Folders.List[0].FolderID.ChangeKey == "" {
		t.Fatalf("GetFolder: %+v", g)
	}
	byID := `<t:FolderId Id="` + g.Folders.List[0].FolderID.ID + `"/>`

	changes, state, calls := ewsSyncAll(t, s, auth, "", byID, "", 10)
	if ids := createdIDs(changes); !slices.Equal(ids, sorted(m.IDs(m365sim.FolderCalendar))) || calls != (len(ids)+9)/10 {
		t.Errorf("first sync: %d items in %d calls, mailbox has %d", len(ids), calls, m.Count(m365sim.FolderCalendar))
	}

	ids := m.IDs(m365sim.FolderCalendar)
	added := m.Add(m365sim.FolderCalendar)
	m.Touch(m365sim.FolderCalendar, ids[2])
	m.Delete(m365sim.FolderCalendar, ids[3])
	changes, state2, _ := ewsSyncAll(t, s, auth, "", distinguished("calendar"), state, 10)
	var got []string
	for _, c := range changes {
		got = append(got, c.XMLName.Local+" "+c.id().ID)
	}
	if want := []string{"Update " + ids[2], "Delete " + ids[3], "Create " + added}; !slices.Equal(got, want) {
		t.Errorf("incremental: %v, want %v", got, want)
	}

	// Bad sync states.
	_, contactsState, _ := ewsSyncAll(t, s, auth, "", distinguished("contacts"), "", 512)
	for name, st := range map[string]string{"garbage": "bm90IGEgc3luYyBzdGF0ZQ", "another folder's": contactsState, "the hierarchy's": h.SyncState} {
		if m := ewsPost(t, s, auth, "", syncItems(distinguished("calendar"), st, 10)).msg(t, "SyncFolderItems"); m.Class != "Error" || m.Code != "ErrorInvalidSyncStateData" {
			t.Errorf("%s state: %+v", name, m)
		}
	}
	s.ExpireDeltaTokens(anna)
	if m := ewsPost(t, s, auth, "", syncItems(distinguished("calendar"), state2, 10)).msg(t, "SyncFolderItems"); m.Code != "ErrorInvalidSyncStateData" {
		t.Errorf("expired state: %+v", m)
	}

	// Anna may not impersonate Bram, nor sync out of range.
	if m := ewsPost(t, s, auth, impersonate("bram.janssen@contoso.com"), syncItems(distinguished("calendar"), "", 10)).msg(t, "SyncFolderItems"); m.Code != "ErrorImpersonateUserDenied" {
		t.Errorf("anna impersonating bram: %+v", m)
	}
	if a := ewsPost(t, s, auth, "", syncItems(distinguished("calendar"), "", 513)); a.status != http.StatusInternalServerError || !strings.Contains(a.raw, "ErrorSchemaValidation") {
		t.Errorf("MaxChangesReturned 513: %d %s", a.status, a.raw)
	}
}

func TestEWSAppOnlyImpersonation(t *testing.T) {
	s := m365sim.Start(t, m365sim.Options{})
	bram := s.Tenant.User("bjanssen@contoso.onmicrosoft.com")
	tok := appToken(t, s, exoURI, "full_access_as_app")
	withAnchor := func(r *http.Request) {
		bearer(tok)(r)
		r.Header.Set("X-AnchorMailbox", "bram.janssen@contoso.com")
	}
	changes, _, _ := ewsSyncAll(t, s, withAnchor, impersonate("bram.janssen@contoso.com"), distinguished("contacts"), "", 10)
	if ids := createdIDs(changes); !slices.Equal(ids, sorted(s.Mailbox(bram).IDs(m365sim.FolderContacts))) {
		t.Errorf("bram's contacts: %v", ids)
	}
	principal := `<t:ExchangeImpersonation><t:ConnectingSID><t:PrincipalName>bjanssen@contoso.onmicrosoft.com</t:PrincipalName></t:ConnectingSID></t:ExchangeImpersonation>`
	if m := ewsPost(t, s, withAnchor, principal, syncItems(distinguished("tasks"), "", 10)).msg(t, "SyncFolderItems"); m.Code != "NoError" {
		t.Errorf("by PrincipalName: %+v", m)
	}

	if a := ewsPost(t, s, bearer(tok), impersonate("bram.janssen@contoso.com"), syncItems(distinguished("contacts"), "", 10)); a.status != http.StatusBadRequest || !strings.Contains(a.raw, "X-AnchorMailbox") {
		t.Errorf("without anchor: %d %s", a.status, a.raw)
	}
	for name, c := range map[string]struct{ header, code string }{
		"no impersonation header": {"", "ErrorInvalidExchangeImpersonationHeaderData"},
		"eva, without mailbox":    {impersonate("eva.schmidt@contoso.com"), "ErrorNonExistentMailbox"},
		"unknown address":         {impersonate("nobody@contoso.com"), "ErrorNonExistentMailbox"},
	} {
		if m := ewsPost(t, s, withAnchor, c.header, syncItems(distinguished("contacts"), "", 10)).msg(t, "SyncFolderItems"); m.Class != "Error" || m.Code != c.code {
			t.Errorf("%s: %+v", name, m)
		}
	}

	// Without full_access_as_app: no permissions at all, or only others.
	noRoles := appToken(t, s, exoURI)
	a := ewsPost(t, s, bearer(noRoles), impersonate("bram.janssen@contoso.com"), syncItems(distinguished("contacts"), "", 10))
	if a.status != http.StatusUnauthorized || !strings.HasPrefix(a.header.Get("x-ms-diagnostics"), "2000008;") || !strings.Contains(a.header.Get("x-ms-diagnostics"), `error_category="invalid_grant"`) {
		t.Errorf("token without roles: %d %v", a.status, a.header)
	}
	imapOnly := appToken(t, s, exoURI, "IMAP.AccessAsApp")
	set := func(r *http.Request) {
		bearer(imapOnly)(r)
		r.Header.Set("X-AnchorMailbox", "bram.janssen@contoso.com")
	}
	if m := ewsPost(t, s, set, impersonate("bram.janssen@contoso.com"), syncItems(distinguished("contacts"), "", 10)).msg(t, "SyncFolderItems"); m.Code != "ErrorAccessDenied" {
		t.Errorf("IMAP.AccessAsApp only: %+v", m)
	}
}

func TestEWSRejectsBadTokens(t *testing.T) {
	s := m365sim.Start(t, m365sim.Options{})
	graphTok := appToken(t, s, graphURI, "Mail.Read")
	exoTok := appToken(t, s, exoURI, "full_access_as_app")
	body := syncItems(distinguished("inbox"), "", 10)
	for name, set := range map[string]func(*http.Request){
		"no credentials":  nil,
		"garbage":         bearer("garbage"),
		"graph audience":  bearer(graphTok),
		"basic, not here": func(r *http.Request) { r.SetBasicAuth("svc", "pw") },
	} {
		a := ewsPost(t, s, set, "", body)
		diag := a.header.Get("x-ms-diagnostics")
		if a.status != http.StatusUnauthorized || !strings.HasPrefix(a.header.Get("WWW-Authenticate"), "Bearer ") || strings.Contains(a.header.Get("WWW-Authenticate"), "Basic") {
			t.Errorf("%s: %d %v", name, a.status, a.header)
		}
		if wantDiag := set != nil && name != "basic, not here"; wantDiag != (strings.HasPrefix(diag, "2000001;reason=") && strings.HasSuffix(diag, `;error_category="invalid_token"`)) {
			t.Errorf("%s: x-ms-diagnostics %q", name, diag)
		}
	}
	s.Clock.Advance(2 * time.Hour)
	if a := ewsPost(t, s, bearer(exoTok), impersonate("anna.devries@contoso.com"), body); a.status != http.StatusUnauthorized || !strings.Contains(a.header.Get("x-ms-diagnostics"), "expired") {
		t.Errorf("expired: %d %v", a.status, a.header)
	}
}

func TestEWSServerBusy(t *testing.T) {
	s := m365sim.Start(t, m365sim.Options{})
	auth := bearer(userToken(t, s, "anna.devries@contoso.com", exoURI+"/EWS.AccessAsUser.All"))
	s.EWSServerBusy(2, 30*time.Second)
	for i := range 3 {
		m := ewsPost(t, s, auth, "", syncItems(distinguished("calendar"), "", 10)).msg(t, "SyncFolderItems")
		switch {
		case i < 2 && (m.Class != "Error" || m.Code != "ErrorServerBusy" || m.MessageXML.Value.Name != "BackOffMilliseconds" || m.MessageXML.Value.Text != "30000"):
			t.Errorf("call %d: %+v", i, m)
		case i == 2 && m.Code != "NoError":
			t.Errorf("after the busy spell: %+v", m)
		}
	}
}

func TestEWSOnPremBasic(t *testing.T) {
	s := m365sim.Start(t, m365sim.Options{})
	anna := s.Tenant.User("anna.devries@contoso.com")
	basic := func(user, pw string) func(*http.Request) {
		return func(r *http.Request) { r.SetBasicAuth(user, pw) }
	}
	s.EnableOnPremEWS("svc-sync@contoso.com", "S3cret!", true)
	body := syncItems(distinguished("calendar"), "", 512)
	for name, set := range map[string]func(*http.Request){"none": nil, "wrong password": basic("svc-sync@contoso.com", "nope")} {
		a := ewsPost(t, s, set, impersonate(anna.Mail), body)
		if a.status != http.StatusUnauthorized || !slices.ContainsFunc(a.header.Values("WWW-Authenticate"), func(v string) bool { return strings.HasPrefix(v, `Basic realm="`) }) {
			t.Errorf("%s: %d %v", name, a.status, a.header)
		}
	}
	m := ewsPost(t, s, basic(`CONTOSO\svc-sync@contoso.com`, "S3cret!"), impersonate(anna.Mail), body).msg(t, "SyncFolderItems")
	if len(m.ChangeList.List) != s.Mailbox(anna).Count(m365sim.FolderCalendar) || m.LastItem != "true" {
		t.Errorf("basic with impersonation: %+v", m)
	}
	if m := ewsPost(t, s, basic("svc-sync@contoso.com", "S3cret!"), "", body).msg(t, "SyncFolderItems"); m.Code != "ErrorNonExistentMailbox" {
		t.Errorf("service account's own mailbox: %+v", m)
	}
	s.EnableOnPremEWS("svc-sync@contoso.com", "S3cret!", false)
	if m := ewsPost(t, s, basic("svc-sync@contoso.com", "S3cret!"), impersonate(anna.Mail), body).msg(t, "SyncFolderItems"); m.Code != "ErrorImpersonateUserDenied" {
		t.Errorf("without the impersonation role: %+v", m)
	}
}

func TestEWSFormsLogin(t *testing.T) {
	s := m365sim.Start(t, m365sim.Options{})
	tok := userToken(t, s, "anna.devries@contoso.com", exoURI+"/EWS.AccessAsUser.All")
	s.EWSFormsLogin(true)
	post := ewsPost(t, s, nil, "", syncItems(distinguished("inbox"), "", 10))
	get, _ := http.NewRequest("GET", s.URL+"/EWS/Exchange.asmx", nil)
	for name, a := range map[string]*ewsAnswer{"POST": post, "GET": ewsDo(t, s, get)} {
		if loc := a.header.Get("Location"); a.status != http.StatusFound || !strings.HasPrefix(loc, s.URL+"/owa/auth/logon.aspx?") {
			t.Errorf("%s: %d %q", name, a.status, loc)
		}
	}
	resp, err := s.HTTPClient().Get(post.header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(page), `type="password"`) || !strings.Contains(string(page), "EWS/Exchange.asmx") {
		t.Errorf("login page: %d %s", resp.StatusCode, page)
	}
	// The proxy wants its own session cookie: credentials for Exchange do
	// not get past it.
	basic := func(r *http.Request) { r.SetBasicAuth(`CONTOSO\svc-sync`, "S3cret!") }
	for name, set := range map[string]func(*http.Request){"token": bearer(tok), "basic": basic} {
		if a := ewsPost(t, s, set, "", syncItems(distinguished("inbox"), "", 10)); a.status != http.StatusFound {
			t.Errorf("with a %s: %d", name, a.status)
		}
	}
	s.EWSFormsLogin(false)
	if m := ewsPost(t, s, bearer(tok), "", syncItems(distinguished("inbox"), "", 10)).msg(t, "SyncFolderItems"); m.Code != "NoError" {
		t.Errorf("forms off, with a token: %+v", m)
	}
	if a := ewsPost(t, s, nil, "", syncItems(distinguished("inbox"), "", 10)); a.status != http.StatusUnauthorized {
		t.Errorf("forms off: %d", a.status)
	}
}

// An Exchange Server with Windows authentication only: Basic is refused
// with the schemes on offer, and NTLM (as go-ntlmssp speaks it) proves the
// service account's password, in DOMAIN\user and UPN form.
func TestEWSOnPremNTLM(t *testing.T) {
	s := m365sim.Start(t, m365sim.Options{})
	anna := s.Tenant.User("anna.devries@contoso.com")
	s.EnableOnPremEWS("svc-sync@contoso.com", "S3cret!", true)
	s.EWSOnPremAuth(false, true)
	body := syncItems(distinguished("calendar"), "", 512)
	a := ewsPost(t, s, func(r *http.Request) { r.SetBasicAuth("svc-sync@contoso.com", "S3cret!") }, impersonate(anna.Mail), body)
	if offered := a.header.Values("WWW-Authenticate"); a.status != http.StatusUnauthorized || !slices.Contains(offered, "NTLM") || slices.ContainsFunc(offered, func(v string) bool { return strings.HasPrefix(v, "Basic") }) {
		t.Fatalf("basic where only windows authentication is on: %d %v", a.status, offered)
	}
	ntlm := func(user, pw string) int {
		env := `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types" xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages">` +
			`<soap:Header><t:RequestServerVersion Version="Exchange2016"/>` + impersonate(anna.Mail) + `</soap:Header><soap:Body>` + body + `</soap:Body></soap:Envelope>`
		req, _ := http.NewRequest("POST", s.URL+"/EWS/Exchange.asmx", strings.NewReader(env))
		req.Header.Set("Content-Type", "text/xml; charset=utf-8")
		req.SetBasicAuth(user, pw) // the Negotiator takes them for NTLM
		hc := &http.Client{Transport: ntlmssp.Negotiator{RoundTripper: s.HTTPClient().Transport}}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		if resp.StatusCode == http.StatusOK && !strings.Contains(string(raw), `ResponseClass="Success"`) {
			t.Errorf("%s: %s", user, raw)
		}
		return resp.StatusCode
	}
	for user, want := range map[string]int{`CONTOSO\svc-sync`: 200, "svc-sync@contoso.com": 200} {
		if got := ntlm(user, "S3cret!"); got != want {
			t.Errorf("ntlm as %s: %d, want %d", user, got, want)
		}
	}
	if got := ntlm(`CONTOSO\svc-sync`, "wrong"); got != http.StatusUnauthorized {
		t.Errorf("ntlm with a wrong password: %d", got)
	}
}
