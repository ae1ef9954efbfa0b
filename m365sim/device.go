package m365sim

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// deviceGrant is a device-code sign-in in progress.
type deviceGrant struct {
	tenant   *Tenant
	app      *App
	scope    string
	userCode string
	expires  time.Time
	interval time.Duration
	lastPoll time.Time
	user     *User  // set once approved
	mfa      bool   // the user did MFA while approving
	declined bool   // the user said no
	failed   *Error // the sign-in failed on the page (CA, consent, disabled)
	redeemed bool
	// confidential: the client authenticated with its secret when it
	// asked for the code (plain mode), so its polls must too.
	confidential bool
	// correlation is the client-request-id of the request for the code.
	correlation string
}

// DeviceCode is the response of the device-code endpoint.
type deviceCodeResponse struct {
	UserCode        string `json:"user_code"`
	DeviceCode      string `json:"device_code"`
	VerificationURI string `json:"verification_uri"`
	ExpiresIn       int    `json:"expires_in"`
	Interval        int    `json:"interval"`
	Message         string `json:"message"`
}

// handleDeviceCode is POST /{tenant}/oauth2/v2.0/devicecode.
func (s *Sim) handleDeviceCode(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.formTenant(w, r)
	if t == nil {
		return
	}
	app := t.App(r.PostForm.Get("client_id"))
	if app == nil {
		s.writeError(w, errClientNotFound(r.PostForm.Get("client_id"), t.ID))
		return
	}
	confidential := false
	if s.opts.PlainOIDC && r.PostForm.Get("client_secret") != "" {
		if _, e := s.clientAuth(t, r); e != nil {
			s.writeError(w, e)
			return
		}
		confidential = true
	}
	scope := r.PostForm.Get("scope")
	if _, e := delegatedNeeds(app, scope); e != nil {
		s.writeError(w, e)
		return
	}
	dc := randomToken(48)
	g := &deviceGrant{
		tenant: t, app: app, scope: scope, confidential: confidential,
		userCode: s.userCode(),
		expires:  s.Clock.Now().Add(deviceCodeLifetime),
		interval: s.opts.DeviceInterval,
		// The person's sign-in on the page is logged under the request
		// that asked for the code.
		correlation: r.Header.Get("client-request-id"),
	}
	s.devices[dc] = g
	uri := s.URL + "/devicelogin"
	writeJSON(w, http.StatusOK, deviceCodeResponse{
		UserCode:        g.userCode,
		DeviceCode:      dc,
		VerificationURI: uri,
		ExpiresIn:       int(deviceCodeLifetime.Seconds()),
		Interval:        int(g.interval.Seconds()),
		Message:         fmt.Sprintf("To sign in, use a web browser to open the page %s and enter the code %s to authenticate.", uri, g.userCode),
	})
}

// userCode draws a nine-character code of the kind the real service shows.
func (s *Sim) userCode() string {
	const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	s.idMu.Lock()
	defer s.idMu.Unlock()
	b := make([]byte, 9)
	for i := range b {
		b[i] = alphabet[s.rng.IntN(len(alphabet))]
	}
	return string(b)
}

func (s *Sim) redeemDevice(t *Tenant, app *App, secretSent bool, form url.Values) (*tokenResponse, *Error) {
	g := s.devices[form.Get("device_code")]
	public := g == nil || !g.confidential
	if public && !app.FallbackPublicClient {
		return nil, aad(401, "invalid_client", 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
	}
	if e := credentialCheck(app, public, secretSent); e != nil {
		return nil, e
	}
	now := s.Clock.Now()
	switch {
	case g == nil || g.tenant != t || g.app != app:
		return nil, aad(400, "bad_verification_code", 70018, "The device code sent is not valid. Start the sign-in again.")
	case g.redeemed:
		return nil, aad(400, "invalid_grant", 90120, "The device code was already redeemed.")
	case !now.Before(g.expires):
		return nil, aad(400, "expired_token", 70019, "Verification code expired. Start the sign-in again.")
	}
	tooSoon := !g.lastPoll.IsZero() && now.Sub(g.lastPoll) < g.interval
	g.lastPoll = now
	if s.takeFault("#slow_down") != nil || tooSoon {
		g.interval += 5 * time.Second
		return nil, &Error{Status: 400, Err: "slow_down", Text: "The client is polling too quickly. Increase the polling interval by 5 seconds."}
	}
	switch {
	case g.failed != nil:
		return nil, g.failed
	case g.declined:
		return nil, &Error{Status: 400, Err: "authorization_declined", Text: "The end user denied the authorization request."}
	case g.user == nil:
		return nil, aad(400, "authorization_pending", 70016, "OAuth 2.0 device flow error. Authorization is pending. Continue polling.")
	}
	g.redeemed = true
	return s.issueDelegated(issued{tenant: t, app: app, user: g.user, scope: g.scope, public: !g.confidential, viaDevice: true, mfa: g.mfa})
}

// deviceByUserCode finds a pending device sign-in. Callers hold s.mu.
func (s *Sim) deviceByUserCode(code string) (*deviceGrant, *Error) {
	code = strings.ToUpper(strings.TrimSpace(code))
	for _, g := range s.devices {
		if g.userCode == code && !g.redeemed && s.Clock.Now().Before(g.expires) {
			return g, nil
		}
	}
	return nil, aad(400, "bad_verification_code", 70018, "The code you entered is not valid or has expired. Check the code and try again.")
}

// ApproveDevice completes a device-code sign-in as the user, consenting to
// what the app asks, as a person would on the /devicelogin page. The error
// is what the page would show; the polling client then sees it too.
func (s *Sim) ApproveDevice(userCode, upn string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, e := s.deviceByUserCode(userCode)
	if e != nil {
		return e
	}
	u := g.tenant.User(upn)
	e = s.admitDevice(g, u, upn)
	ev := userSignIn(InteractiveUser, g.app, u, upn, g.scope)
	ev.CorrelationID = g.correlation
	s.recordSignIn(g.tenant, ev, e)
	if e != nil {
		if u != nil { // a mistyped account may try again
			g.failed = e
		}
		return e
	}
	g.user, g.mfa = u, s.mfaRequired(u)
	return nil
}

// admitDevice is the person's part of the device login page: the account,
// Conditional Access, and consent to what the app asks.
func (s *Sim) admitDevice(g *deviceGrant, u *User, upn string) *Error {
	if u == nil {
		return aad(400, "invalid_grant", 50034, "The user account %s does not exist in the %s directory. To sign into this application, the account must be added to the directory.", upn, g.tenant.ID)
	}
	e := signInCheck(u)
	if e == nil && s.blockDev {
		e = errDeviceBlocked()
	}
	if e == nil {
		need, _ := delegatedNeeds(g.app, g.scope)
		e = s.consent(g.tenant, g.app, u, need, true)
	}
	return e
}

// DeclineDevice refuses a device-code sign-in, as "Cancel" on the page does.
func (s *Sim) DeclineDevice(userCode string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, e := s.deviceByUserCode(userCode)
	if e != nil {
		return e
	}
	g.declined = true
	return nil
}
