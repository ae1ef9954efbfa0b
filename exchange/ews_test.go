package exchange

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modauth/modauth/store"
)

// The credentials the tests send; no error text may carry them.
const (
	testPassword = "Winter2026!Pa55"
	testToken    = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL291dGxvb2sub2ZmaWNlMzY1LmNvbSJ9.c2lnbmF0dXJl"
)

// ewsTest is an EWS client of a loopback server, with a clock-free Sleep
// that records the waits it was asked for.
type ewsTest struct {
	*EWS
	srv   *httptest.Server
	hits  atomic.Int32
	waits []time.Duration
}

// newEWSTest serves h at /EWS/Exchange.asmx (and whatever else h serves);
// basic says whether the client sends Basic (on-premises) or Bearer.
func newEWSTest(t *testing.T, basic bool, h http.HandlerFunc) *ewsTest {
	t.Helper()
	et := &ewsTest{}
	et.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/EWS/Exchange.asmx" {
			et.hits.Add(1)
		}
		h(w, r)
	}))
	t.Cleanup(et.srv.Close)
	et.EWS = &EWS{URL: et.srv.URL + "/EWS/Exchange.asmx", HTTP: et.srv.Client(),
		Sleep: func(_ context.Context, d time.Duration) error { et.waits = append(et.waits, d); return nil }}
	if basic {
		et.Username, et.Password = `CONTOSO\svc-sync`, store.Secret(testPassword)
	} else {
		et.Token = func(context.Context) (store.Secret, error) { return testToken, nil }
	}
	return et
}

func (et *ewsTest) sync() error {
	_, err := et.SyncFolderItems(context.Background(), &Impersonation{SMTP: "anna.devries@contoso.com"}, "calendar", "", 100)
	return err
}

// writeXML answers as Exchange does: text/xml, the status, the body.
func writeXML(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.WriteHeader(status)
	fmt.Fprint(w, body)
}

// noSecret fails the test if err's text or fix carries a credential sent.
func noSecret(t *testing.T, err error) {
	t.Helper()
	text := err.Error() + "\n" + fixOf(err)
	basic := base64.StdEncoding.EncodeToString([]byte(`CONTOSO\svc-sync:` + testPassword))
	for _, secret := range []string{testPassword, testToken, basic} {
		if strings.Contains(text, secret) {
			t.Errorf("error carries a secret: %s", text)
		}
	}
}

// fixOf is the fix of an *EWSError, else "".
func fixOf(err error) string {
	var ee *EWSError
	if errors.As(err, &ee) {
		return ee.Fix()
	}
	return ""
}

// notNetwork fails the test if err passes for a network failure, which
// callers show as "unreachable".
func notNetwork(t *testing.T, err error) {
	t.Helper()
	var ne net.Error
	if errors.As(err, &ne) {
		t.Errorf("%v passes for a network error", err)
	}
}

// busyMessage is a SyncFolderItems answer refused with ErrorServerBusy, as
// Exchange Online sends it in an HTTP 200 (ews-throttling-in-exchange.md).
func busyMessage(ms int) string {
	return `<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Header><h:ServerVersionInfo MajorVersion="15" MinorVersion="20" xmlns:h="http://schemas.microsoft.com/exchange/services/2006/types"/></s:Header>` +
		`<s:Body><m:SyncFolderItemsResponse xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types"><m:ResponseMessages>` +
		`<m:SyncFolderItemsResponseMessage ResponseClass="Error"><m:MessageText>The server cannot service this request right now. Try again later.</m:MessageText>` +
		`<m:ResponseCode>ErrorServerBusy</m:ResponseCode><m:DescriptiveLinkKey>0</m:DescriptiveLinkKey><m:MessageXml><t:Value Name="BackOffMilliseconds">` + strconv.Itoa(ms) + `</t:Value></m:MessageXml>` +
		`<m:SyncState/><m:IncludesLastItemInRange>true</m:IncludesLastItemInRange></m:SyncFolderItemsResponseMessage></m:ResponseMessages></m:SyncFolderItemsResponse></s:Body></s:Envelope>`
}

// TestEWSCutOffBusy: an ErrorServerBusy answer that breaks off after its
// back-off (the connection drops, or a proxy cuts the body at a limit) is
// still throttling, with the back-off Exchange asked for.
func TestEWSCutOffBusy(t *testing.T) {
	body := busyMessage(2500)
	cut := strings.Index(body, "<m:SyncState/>")
	for _, dropped := range []bool{true, false} {
		et := newEWSTest(t, false, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/xml; charset=utf-8")
			if dropped {
				// Declares the whole body, sends part: the server drops the connection.
				w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			}
			w.WriteHeader(http.StatusOK)
			fmt.Fprint(w, body[:cut])
		})
		err := et.sync()
		var ee *EWSError
		if !errors.As(err, &ee) || !errors.Is(err, ErrThrottled) || ee.BackOff != 2500*time.Millisecond || ee.Status != http.StatusOK ||
			ee.Message != "The server cannot service this request right now. Try again later." {
			t.Errorf("dropped %v: %v, want ErrorServerBusy with its back-off", dropped, err)
		}
		if !slices.Equal(et.waits, []time.Duration{2500 * time.Millisecond, 2500 * time.Millisecond, 2500 * time.Millisecond}) {
			t.Errorf("dropped %v: waits %v, want three of 2.5 s", dropped, et.waits)
		}
	}
}

// TestEWSFaults: SOAP faults as Exchange sends them with HTTP 500 keep
// their status, take the code from faultcode when the detail has none, and
// keep what they said before a cut.
func TestEWSFaults(t *testing.T) {
	const (
		open  = `<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault>`
		close = `</s:Fault></s:Body></s:Envelope>`
		types = `xmlns:a="http://schemas.microsoft.com/exchange/services/2006/types"`
		errNS = `xmlns:e="http://schemas.microsoft.com/exchange/services/2006/errors"`
	)
	schema := `<faultcode ` + types + `>a:ErrorSchemaValidation</faultcode><faultstring xml:lang="en-US">The request failed schema validation: The 'Id' attribute is invalid - The value 'kalender' is invalid according to its datatype 'http://schemas.microsoft.com/exchange/services/2006/types:DistinguishedFolderIdNameType' - The Enumeration constraint failed.</faultstring>` +
		`<detail><e:ResponseCode ` + errNS + `>ErrorSchemaValidation</e:ResponseCode><e:Message ` + errNS + `>The request failed schema validation.</e:Message><t:MessageXml xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types"><t:LineNumber>2</t:LineNumber><t:LinePosition>630</t:LinePosition><t:Violation>The 'Id' attribute is invalid.</t:Violation></t:MessageXml></detail>`
	version := `<faultcode ` + types + `>a:ErrorInvalidServerVersion</faultcode><faultstring xml:lang="en-US">The specified server version is invalid.</faultstring>`
	tests := []struct {
		name, body, code, message string
	}{
		{"schema validation", open + schema + close, "ErrorSchemaValidation", "The request failed schema validation: The 'Id' attribute"},
		{"faultcode only", open + version + close, "ErrorInvalidServerVersion", "The specified server version is invalid."},
		{"cut after faultcode", open + version[:strings.Index(version, "<faultstring")+20], "ErrorInvalidServerVersion", ""},
		{"code in detail", open + `<faultcode>s:Client</faultcode><faultstring>An internal server error occurred. The operation failed.</faultstring><detail><e:ResponseCode ` + errNS + `>ErrorInternalServerError</e:ResponseCode></detail>` + close,
			"ErrorInternalServerError", "An internal server error occurred."},
	}
	for _, tt := range tests {
		et := newEWSTest(t, true, func(w http.ResponseWriter, r *http.Request) { writeXML(w, http.StatusInternalServerError, tt.body) })
		err := et.sync()
		var ee *EWSError
		if !errors.As(err, &ee) || ee.Code != tt.code || !strings.HasPrefix(ee.Message, tt.message) || ee.Status != http.StatusInternalServerError || errors.Is(err, ErrBadAnswer) {
			t.Errorf("%s: %#v, want %s with http 500", tt.name, err, tt.code)
		}
		notNetwork(t, err)
	}
}

// iis401 is the page IIS sends with a 401.
const iis401 = `<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd"><html xmlns="http://www.w3.org/1999/xhtml"><head><title>401 - Unauthorized: Access is denied due to invalid credentials.</title></head><body><h2>401 - Unauthorized: Access is denied due to invalid credentials.</h2></body></html>`

// TestEWSUnauthorized: a 401 that does not offer the scheme modauth sent
// says so and how to turn it on; a 401 that offers it is a refused
// credential. Neither carries the credential, even when the server echoes it.
func TestEWSUnauthorized(t *testing.T) {
	exo := `Bearer client_id="00000002-0000-0ff1-ce00-000000000000", trusted_issuers="00000001-0000-0000-c000-000000000000@*", token_types="app_asserted_user_v1 service_asserted_app_v1", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", error="invalid_token"`
	tests := []struct {
		name        string
		basic       bool
		auth        string // how the password goes: Basic, NTLM, or "" for NTLM where offered
		challenges  []string
		offered     []string
		notOffered  bool
		fixContains string
	}{
		{"basic to windows-only", true, AuthBasic, []string{"Negotiate", "NTLM"}, []string{"Negotiate", "NTLM"}, true, "-BasicAuthentication $true"},
		{"ntlm to basic-only", true, AuthNTLM, []string{`Basic realm="mail.contoso.com"`}, []string{"Basic"}, true, "Basic"},
		{"basic refused", true, AuthBasic, []string{"Negotiate", "NTLM", `Basic realm="mail.contoso.com"`}, []string{"Negotiate", "NTLM", "Basic"}, false, "password"},
		{"ntlm refused", true, "", []string{"Negotiate", "NTLM"}, []string{"Negotiate", "NTLM"}, false, "password"},
		{"bearer on-premises", false, "", []string{"Negotiate, NTLM", `Basic realm="mail.contoso.com"`}, []string{"Negotiate", "NTLM", "Basic"}, true, "Hybrid Modern Authentication"},
		{"bearer refused", false, "", []string{exo}, []string{"Bearer"}, false, "audience"},
	}
	for _, tt := range tests {
		et := newEWSTest(t, tt.basic, func(w http.ResponseWriter, r *http.Request) {
			for _, c := range tt.challenges {
				w.Header().Add("WWW-Authenticate", c)
			}
			// A careless front end echoing the request: still no secret.
			w.Header().Set("x-ms-diagnostics", "2000001;reason=\"refused "+r.Header.Get("Authorization")+"\"")
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, iis401)
		})
		et.Auth = tt.auth
		err := et.sync()
		var ee *EWSError
		if !errors.As(err, &ee) || ee.Status != http.StatusUnauthorized || !slices.Equal(ee.Offered, tt.offered) ||
			errors.Is(err, ErrAuthMethodNotOffered) != tt.notOffered || !strings.Contains(fixOf(err), tt.fixContains) || errors.Is(err, ErrForbidden) {
			t.Errorf("%s: %v, fix %q", tt.name, err, fixOf(err))
		}
		noSecret(t, err)
		notNetwork(t, err)
	}
}

// TestEWSLoginPage: a reverse proxy with forms pre-authentication answers
// with a redirect to its login page, or with the page itself. modauth does
// not follow (no credential reaches the page) and names the page.
func TestEWSLoginPage(t *testing.T) {
	var pageHits atomic.Int32
	page := func(w http.ResponseWriter, r *http.Request) {
		pageHits.Add(1)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, "<!DOCTYPE html>\n<html><head><title>Outlook</title></head><body><form action=\"/owa/auth.owa\" method=\"POST\">%s<input name=\"password\" type=\"password\"></form></body></html>", r.Header.Get("Authorization"))
	}
	for _, redirect := range []bool{true, false} {
		et := newEWSTest(t, true, func(w http.ResponseWriter, r *http.Request) {
			switch {
			case r.URL.Path == "/owa/auth/logon.aspx" || !redirect:
				page(w, r)
			default:
				http.Redirect(w, r, "/owa/auth/logon.aspx?url=https%3a%2f%2fmail.contoso.com%2fEWS%2fExchange.asmx&reason=0", http.StatusFound)
			}
		})
		pageHits.Store(0)
		err := et.sync()
		var ee *EWSError
		host := strings.TrimPrefix(et.srv.URL, "http://")
		want := "/owa/auth/logon.aspx"
		if !redirect {
			want = "/EWS/Exchange.asmx"
		}
		if !errors.As(err, &ee) || !errors.Is(err, ErrLoginPage) || ee.Location != et.srv.URL+want ||
			!strings.Contains(fixOf(err), "forms pre-authentication") || !strings.Contains(fixOf(err), host+want) || strings.Contains(fixOf(err), "reason=") {
			t.Errorf("redirect %v: %v, fix %q", redirect, err, fixOf(err))
		}
		if redirect && pageHits.Load() != 0 {
			t.Errorf("the client followed the redirect to the login page")
		}
		noSecret(t, err)
		notNetwork(t, err)
	}
}

// TestEWSBadAnswer: an answer that is not EWS SOAP is ErrBadAnswer, says
// what came, and never passes for a network failure nor repeats a secret.
func TestEWSBadAnswer(t *testing.T) {
	tests := []struct {
		name, contentType, body string
	}{
		{"empty", "text/xml", ""},
		{"json", "application/json", `{"error":"upstream","auth":"` + testToken + `"}`},
		{"not soap", "text/xml; charset=utf-8", `<?xml version="1.0"?><Error><Code>502</Code></Error>`},
		{"cut before a message", "text/xml; charset=utf-8", busyMessage(100)[:200]},
	}
	for _, tt := range tests {
		et := newEWSTest(t, false, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", tt.contentType)
			fmt.Fprint(w, tt.body)
		})
		err := et.sync()
		var ee *EWSError
		if !errors.As(err, &ee) || !errors.Is(err, ErrBadAnswer) || errors.Is(err, ErrThrottled) ||
			!strings.Contains(fixOf(err), "http 200") || !strings.Contains(fixOf(err), strings.Split(tt.contentType, ";")[0]) {
			t.Errorf("%s: %v, fix %q", tt.name, err, fixOf(err))
		}
		if want := tt.body[:min(len(tt.body), 20)]; !strings.Contains(fixOf(err), strings.ReplaceAll(want, `"`, `\"`)) && tt.name != "json" {
			t.Errorf("%s: fix %q does not quote the start %q", tt.name, fixOf(err), want)
		}
		noSecret(t, err)
		notNetwork(t, err)
	}
}

// errorMessage is a SyncFolderItems answer failing with code.
func errorMessage(code, text string) string {
	return strings.Replace(busyMessage(1), `<m:MessageText>The server cannot service this request right now. Try again later.</m:MessageText><m:ResponseCode>ErrorServerBusy</m:ResponseCode>`,
		`<m:MessageText>`+text+`</m:MessageText><m:ResponseCode>`+code+`</m:ResponseCode>`, 1)
}

// TestEWSResponseCodes: impersonation codes have their own fixes and
// kinds, and an unknown code is neither a network error nor a bad answer.
func TestEWSResponseCodes(t *testing.T) {
	tests := []struct {
		code, fix string
		kind      error
	}{
		{"ErrorInvalidExchangeImpersonationHeaderData", "primary SMTP address", ErrNotFound},
		{"ErrorImpersonateUserDenied", "-Role ApplicationImpersonation", ErrForbidden},
		{"ErrorImpersonationDenied", "ApplicationImpersonation", ErrForbidden},
		{"ErrorImpersonationFailed", "event logs", nil},
		{"ErrorMailboxMoveInProgress", "EWS reference", nil},
	}
	for _, tt := range tests {
		et := newEWSTest(t, false, func(w http.ResponseWriter, r *http.Request) {
			writeXML(w, http.StatusOK, errorMessage(tt.code, "refused"))
		})
		err := et.sync()
		var ee *EWSError
		if !errors.As(err, &ee) || ee.Code != tt.code || ee.Status != http.StatusOK || !strings.Contains(fixOf(err), tt.fix) ||
			(tt.kind != nil && !errors.Is(err, tt.kind)) || errors.Is(err, ErrBadAnswer) {
			t.Errorf("%s: %v, fix %q", tt.code, err, fixOf(err))
		}
		notNetwork(t, err)
	}
}

// TestEWSMaxWait: the back-offs one call sleeps add up to MaxWait at
// most; a longer one ends the call with the throttled error at once.
func TestEWSMaxWait(t *testing.T) {
	tests := []struct {
		backOffMS int
		waits     []time.Duration
	}{
		{180_000, nil},
		{12_000, []time.Duration{12 * time.Second, 12 * time.Second}},
		{10_000, []time.Duration{10 * time.Second, 10 * time.Second, 10 * time.Second}},
	}
	for _, tt := range tests {
		et := newEWSTest(t, false, func(w http.ResponseWriter, r *http.Request) { writeXML(w, http.StatusOK, busyMessage(tt.backOffMS)) })
		err := et.sync()
		var ee *EWSError
		if !errors.As(err, &ee) || !errors.Is(err, ErrThrottled) || ee.BackOff != time.Duration(tt.backOffMS)*time.Millisecond {
			t.Errorf("back-off %d ms: %v", tt.backOffMS, err)
		}
		if !slices.Equal(et.waits, tt.waits) || int(et.hits.Load()) != len(tt.waits)+1 {
			t.Errorf("back-off %d ms: waits %v in %d requests, want %v", tt.backOffMS, et.waits, et.hits.Load(), tt.waits)
		}
	}
}

// TestEWSForbidden: a 403 without a SOAP answer is the EWS access policy
// (EwsEnabled, EwsAllowedAppIDs), told apart from a missing mailbox right.
func TestEWSForbidden(t *testing.T) {
	tests := []struct {
		name, contentType, body string
		status                  int
		policy                  bool
	}{
		{"empty 403", "", "", http.StatusForbidden, true},
		{"html 403", "text/html", "<html><head><title>403 - Forbidden: Access is denied.</title></head><body></body></html>", http.StatusForbidden, true},
		{"access denied", "text/xml; charset=utf-8", errorMessage("ErrorAccessDenied", "Access is denied. Check credentials and try again."), http.StatusOK, false},
	}
	for _, tt := range tests {
		et := newEWSTest(t, false, func(w http.ResponseWriter, r *http.Request) {
			if tt.contentType != "" {
				w.Header().Set("Content-Type", tt.contentType)
			}
			w.WriteHeader(tt.status)
			fmt.Fprint(w, tt.body)
		})
		err := et.sync()
		var ee *EWSError
		if !errors.As(err, &ee) || errors.Is(err, ErrAccessPolicy) != tt.policy || errors.Is(err, ErrForbidden) == tt.policy ||
			(tt.policy && !strings.Contains(fixOf(err), "EwsAllowedAppIDs")) {
			t.Errorf("%s: %v, fix %q", tt.name, err, fixOf(err))
		}
		notNetwork(t, err)
	}
}

// TestAutodiscover: the EWS URL is read from a POX answer with either
// namespace spelling; a redirectAddr is followed; an unknown address and a
// redirect to http are errors that say what was tried.
func TestAutodiscover(t *testing.T) {
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "text/xml")
		head := `<?xml version="1.0"?><Autodiscover xmlns="https://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"><Response xmlns="https://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a">`
		switch {
		case strings.Contains(string(raw), "old@contoso.com"):
			fmt.Fprint(w, head+`<Account><Action>redirectAddr</Action><RedirectAddr>anna@contoso.com</RedirectAddr></Account></Response></Autodiscover>`)
		case strings.Contains(string(raw), "plain@contoso.com"):
			fmt.Fprint(w, head+`<Account><Action>redirectUrl</Action><RedirectUrl>http://mail.contoso.com/autodiscover/autodiscover.xml</RedirectUrl></Account></Response></Autodiscover>`)
		case strings.Contains(string(raw), "anna@contoso.com"):
			fmt.Fprint(w, head+`<Account><Action>settings</Action><Protocol><Type>EXPR</Type><ASUrl>https://mail.contoso.com/EWS/Exchange.asmx</ASUrl></Protocol></Account></Response></Autodiscover>`)
		default:
			fmt.Fprint(w, head+`<Error><ErrorCode>500</ErrorCode><Message>The email address can't be found.</Message></Error></Response></Autodiscover>`)
		}
	}))
	t.Cleanup(srv.Close)
	ad := Autodiscover{HTTP: srv.Client(), URLs: []string{srv.URL + "/autodiscover/autodiscover.xml"}, Username: `CONTOSO\svc`, Password: store.Secret(testPassword), Auth: AuthBasic}
	for _, email := range []string{"anna@contoso.com", "old@contoso.com"} {
		if u, err := ad.EWSURL(context.Background(), email); err != nil || u != "https://mail.contoso.com/EWS/Exchange.asmx" {
			t.Errorf("%s: %q %v", email, u, err)
		}
	}
	for email, want := range map[string]string{"nobody@contoso.com": "can't be found", "plain@contoso.com": "not followed"} {
		_, err := ad.EWSURL(context.Background(), email)
		if !errors.Is(err, ErrAutodiscover) || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), testPassword) {
			t.Errorf("%s: %v", email, err)
		}
	}
}
