package m365sim

import (
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
)

// serveAutodiscover answers POX Autodiscover as an on-premises Exchange
// does (pox-autodiscover-response-for-exchange): with the service
// account's credentials, the EWS URL of a mailbox of the tenant, or error
// 500 for an address no mailbox has. Without on-premises EWS there is no
// Autodiscover to ask.
func (s *Sim) serveAutodiscover(w http.ResponseWriter, r *http.Request) {
	s.mail.mu.Lock()
	onPrem := s.mail.onPrem
	s.mail.mu.Unlock()
	if onPrem == nil {
		http.NotFound(w, r)
		return
	}
	if _, ok := s.ewsAuthenticate(w, r, onPrem); !ok {
		return
	}
	var req struct {
		Request struct{ EMailAddress string }
	}
	if err := xml.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&req); err != nil {
		http.Error(w, "Bad Request", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	u := s.Tenant.userByAddress(req.Request.EMailAddress)
	s.mu.Unlock()
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	const head = `<?xml version="1.0" encoding="utf-8"?><Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"><Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a">`
	if u == nil || !u.HasMailbox {
		fmt.Fprintf(w, `%s<Error Time="09:12:44.1034321" Id="2477523837"><ErrorCode>500</ErrorCode><Message>The email address can't be found.</Message><DebugData /></Error></Response></Autodiscover>`, head)
		return
	}
	ews := esc(s.URL + "/EWS/Exchange.asmx")
	fmt.Fprintf(w, `%s<User><DisplayName>%s</DisplayName><AutoDiscoverSMTPAddress>%s</AutoDiscoverSMTPAddress></User><Account><AccountType>email</AccountType><Action>settings</Action>`+
		`<Protocol><Type>EXCH</Type><Server>EXCH01.contoso.local</Server><ASUrl>%s</ASUrl><EwsUrl>%s</EwsUrl></Protocol>`+
		`<Protocol><Type>EXPR</Type><Server>mail.contoso.com</Server><ASUrl>%s</ASUrl><EwsUrl>%s</EwsUrl></Protocol></Account></Response></Autodiscover>`,
		head, esc(u.DisplayName), esc(u.Mail), ews, ews, ews, ews)
}
