package tui

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/modauth/modauth/appreg"
	"github.com/modauth/modauth/exchange"
	"github.com/modauth/modauth/flows"
	"github.com/modauth/modauth/store"
)

// verifyStep is the wizard's last step: a connection test as one user,
// one line per protocol of the profile, with the time it took and, for a
// failure, the error, its fix and the Exchange PowerShell that fixes it
// where the fix is on the Exchange side.
type verifyStep struct {
	users   []store.User // those who can be tested: signed in, or resolved for app-only
	loaded  bool
	loadErr error
	cursor  int

	plan *appreg.Plan // for Graph's permission fix and the PowerShell

	run     int // which run results belong to; older ones are dropped
	cancel  context.CancelFunc
	results []verifyResult // one per protocol, in the profile's order
	pending int
	ran     bool // results are for the current user

	showPS bool
	offset int // scroll of the results
	note   string
}

// verifyResult is the outcome of one protocol's test.
type verifyResult struct {
	proto  store.Protocol
	done   bool
	ok     bool
	took   time.Duration
	what   string   // what a pass proved
	err    string   // the error's one line
	fix    string   // what to do about it
	ps     []string // Exchange PowerShell lines for the fix
	topics []string // which parts of the PowerShell
}

type verifyUsersMsg struct {
	profile string
	users   []store.User
	err     error
}

type verifyResultMsg struct {
	run int
	res verifyResult
}

// verifyTimeout bounds one run of the test.
const verifyTimeout = 60 * time.Second

// Token audiences, as the monitor asks for them.
const (
	verifyAudGraph   = "https://graph.microsoft.com"
	verifyAudOutlook = "https://outlook.office.com"    // IMAP, POP, SMTP
	verifyAudEWS     = "https://outlook.office365.com" // EWS, and app-only Exchange
)

var verifyKeys = struct {
	Test, Finish, Anyway, Rerun, User, PS, Copy, Scroll key.Binding
}{
	Test:   key.NewBinding(key.WithKeys("t"), key.WithHelp("t/enter", "test")),
	Finish: key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "finish")),
	Anyway: key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "continue anyway")),
	Rerun:  key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "test again")),
	User:   key.NewBinding(key.WithKeys("up", "down"), key.WithHelp("↑/↓", "user")),
	PS:     key.NewBinding(key.WithKeys("p"), key.WithHelp("p", "PowerShell")),
	Copy:   key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "copy")),
	Scroll: key.NewBinding(key.WithKeys("pgdown", "pgup"), key.WithHelp("pgdn/pgup", "scroll")),
}

func newVerifyStep() *verifyStep { return &verifyStep{} }

func (s *verifyStep) ID() string    { return stepVerify }
func (s *verifyStep) Title() string { return "connection test" }
func (s *verifyStep) Busy() bool    { return s.pending > 0 }

func (s *verifyStep) Keys() help.KeyMap {
	switch {
	case s.pending > 0:
		return keyMap{verifyKeys.Scroll}
	case !s.ran:
		return keyMap{verifyKeys.Test, verifyKeys.User}
	case s.failed() == 0:
		return keyMap{verifyKeys.Finish, verifyKeys.Rerun, verifyKeys.User, verifyKeys.Scroll}
	}
	k := keyMap{verifyKeys.Rerun}
	if s.hasPS() {
		k = append(k, verifyKeys.PS)
		if s.showPS {
			k = append(k, verifyKeys.Copy)
		}
	}
	return append(k, verifyKeys.Anyway, verifyKeys.Scroll, verifyKeys.User)
}

// hasPS reports whether a failure has PowerShell to show.
func (s *verifyStep) hasPS() bool {
	for _, r := range s.results {
		if len(r.ps) > 0 {
			return true
		}
	}
	return false
}

// Init starts over: the profile may have changed since the last visit.
func (s *verifyStep) Init(c *Context) tea.Cmd {
	s.stop()
	s.results, s.ran, s.showPS, s.offset, s.note = nil, false, false, 0, ""
	s.loaded, s.loadErr = false, nil
	s.plan, _ = planFor(c.Profile) // without a plan, failures show no PowerShell
	db, p := c.DB, c.Profile
	return func() tea.Msg {
		if db == nil || p.ID == "" {
			return verifyUsersMsg{profile: p.ID}
		}
		users, err := db.Users(p.ID)
		var ok []store.User
		for _, u := range users {
			if verifyTestable(p, u) {
				ok = append(ok, u)
			}
		}
		return verifyUsersMsg{profile: p.ID, users: ok, err: err}
	}
}

// stop abandons a run under way: its results are dropped when they come.
func (s *verifyStep) stop() {
	s.run++
	s.pending = 0
	if s.cancel != nil {
		s.cancel()
		s.cancel = nil
	}
}

// verifyTestable: delegated users must have signed in; app-only and
// on-premises users need a resolved mailbox.
func verifyTestable(p store.Profile, u store.User) bool {
	switch u.Mapping {
	case store.MappingNotFound, store.MappingNoMailbox, store.MappingDisabled:
		return false
	}
	if p.Model == store.AppOnly || p.OnPremises {
		return u.Mapping == store.MappingOK || u.Mapping == store.MappingMismatch
	}
	return u.Consent == store.ConsentDone
}

func (s *verifyStep) failed() int {
	n := 0
	for _, r := range s.results {
		if r.done && !r.ok {
			n++
		}
	}
	return n
}

// verifyContinueMsg: "continue anyway?" was answered yes.
type verifyContinueMsg struct{}

func (s *verifyStep) Update(c *Context, msg tea.Msg) (bool, tea.Cmd) {
	switch msg := msg.(type) {
	case verifyContinueMsg:
		return true, nil
	case verifyUsersMsg:
		if msg.profile != c.Profile.ID {
			return false, nil
		}
		var prev string
		if s.cursor < len(s.users) {
			prev = s.users[s.cursor].Key
		}
		s.users, s.loadErr, s.loaded, s.cursor = msg.users, msg.err, true, 0
		for i, u := range s.users {
			if u.Key == prev {
				s.cursor = i
			}
		}
		return false, nil
	case verifyResultMsg:
		if msg.run != s.run || s.pending == 0 {
			return false, nil
		}
		for i := range s.results {
			if s.results[i].proto == msg.res.proto && !s.results[i].done {
				s.results[i] = msg.res
				s.results[i].done = true
				s.pending--
				break
			}
		}
		if s.pending == 0 && s.cancel != nil {
			s.cancel()
			s.cancel = nil
		}
		return false, nil
	case tea.KeyPressMsg:
		return s.key(c, msg)
	}
	return false, nil
}

func (s *verifyStep) key(c *Context, k tea.KeyPressMsg) (bool, tea.Cmd) {
	s.note = ""
	switch {
	case key.Matches(k, verifyKeys.Scroll):
		lines, _ := s.region(c)
		page := max(s.regionHeight(c)-2, 1)
		if k.String() == "pgup" {
			page = -page
		}
		s.offset = min(max(s.offset+page, 0), verifyMaxOffset(len(lines), s.regionHeight(c)))
		return false, nil
	case s.pending > 0 && key.Matches(k, keys.Cancel):
		s.stop()
		s.results, s.ran, s.note = nil, false, "Test cancelled. Press t to run it again."
		return false, nil
	case s.pending > 0:
		return false, nil // a test is running: keys wait for it
	case key.Matches(k, keys.Up), key.Matches(k, keys.Down):
		if len(s.users) < 2 {
			return false, nil
		}
		d := 1
		if key.Matches(k, keys.Up) {
			d = len(s.users) - 1
		}
		s.cursor = (s.cursor + d) % len(s.users)
		s.results, s.ran, s.showPS, s.offset = nil, false, false, 0
		return false, nil
	case key.Matches(k, verifyKeys.Test), key.Matches(k, verifyKeys.Rerun):
		return false, s.start(c)
	case key.Matches(k, verifyKeys.Finish):
		switch {
		case !s.ran && len(s.users) > 0 && len(c.Profile.Protocols) > 0:
			return false, s.start(c)
		case s.ran && s.failed() == 0:
			return true, nil
		}
		return false, askCmd("The connection is not verified. Continue anyway?", "Continue", "Stay", func() tea.Msg { return verifyContinueMsg{} })
	case key.Matches(k, verifyKeys.PS) && s.hasPS():
		s.showPS = !s.showPS
		s.offset = 0
		if lines, at := s.region(c); s.showPS && at >= 0 {
			s.offset = min(at, verifyMaxOffset(len(lines), s.regionHeight(c)))
		}
		return false, nil
	case key.Matches(k, verifyKeys.Copy) && s.showPS:
		// Each section once, though several failures share the opening.
		var blocks []string
		for _, r := range s.results {
			for _, b := range strings.Split(strings.Join(r.ps, "\n"), "\n\n") {
				if b != "" && !slices.Contains(blocks, b) {
					blocks = append(blocks, b)
				}
			}
		}
		if len(blocks) == 0 {
			return false, nil
		}
		s.note = "Copied the PowerShell to the clipboard (OSC 52: works over SSH where the terminal allows it)."
		return false, tea.SetClipboard(strings.Join(blocks, "\n\n") + "\n")
	}
	return false, nil
}

// start runs every protocol's test at once, each as its own command.
func (s *verifyStep) start(c *Context) tea.Cmd {
	if len(s.users) == 0 || len(c.Profile.Protocols) == 0 {
		return nil
	}
	s.stop()
	base := c.ctx
	if base == nil {
		base = context.Background()
	}
	ctx, cancel := context.WithTimeout(base, verifyTimeout)
	s.cancel = cancel
	p := c.Profile
	vc := &verifyConn{
		prof: p, hosts: p.Hosts.WithDefaults(), user: s.users[s.cursor], db: c.DB,
		hc: c.HTTPClient, now: c.Now, sleep: c.Sleep, mailTLS: verifyMailTLS(c.HTTPClient),
		plan: s.plan, tokens: map[string]store.Secret{},
	}
	if vc.hc == nil {
		vc.hc = &http.Client{Timeout: 30 * time.Second}
	}
	if vc.now == nil {
		vc.now = time.Now
	}
	ps := verifyPowerShell(s.plan, p, vc.mailbox())
	s.results, s.ran, s.showPS, s.offset = nil, true, false, 0
	var cmds []tea.Cmd
	run := s.run
	for _, proto := range p.Protocols {
		if slices.ContainsFunc(s.results, func(r verifyResult) bool { return r.proto == proto }) {
			continue
		}
		s.results = append(s.results, verifyResult{proto: proto})
		cmds = append(cmds, func() tea.Msg {
			start := time.Now()
			res := vc.test(ctx, proto)
			res.proto, res.took = proto, time.Since(start)
			res.err, res.fix = vc.redact(res.err), vc.redact(res.fix)
			res.ps = verifyPick(ps, res.topics)
			return verifyResultMsg{run: run, res: res}
		})
	}
	s.pending = len(cmds)
	return tea.Batch(cmds...)
}

// verifyMailTLS verifies IMAP, POP and SMTP servers with the trust the
// HTTP client has (the system roots, or a proxy's or the demo
// simulator's certificate).
func verifyMailTLS(hc *http.Client) *tls.Config {
	if hc == nil {
		return nil
	}
	t, ok := hc.Transport.(*http.Transport)
	if !ok || t.TLSClientConfig == nil {
		return nil
	}
	cfg := t.TLSClientConfig.Clone()
	cfg.ServerName, cfg.NextProtos = "", nil
	return cfg
}

// verifyConn is one run's connection: what the tests share, made once.
type verifyConn struct {
	prof    store.Profile
	hosts   store.Hosts
	user    store.User
	db      *store.DB
	hc      *http.Client
	now     func() time.Time
	sleep   func(ctx context.Context, d time.Duration) error
	mailTLS *tls.Config
	plan    *appreg.Plan

	setupOnce sync.Once
	setupErr  error
	secret    store.ClientSecret
	fc        *flows.Client

	// refresh serialises token requests: each refresh starts from the
	// refresh token the one before stored.
	refresh sync.Mutex
	mu      sync.Mutex              // guards tokens and secrets
	tokens  map[string]store.Secret // access tokens by audience
	secrets []string                // values no line on screen may hold
}

// mailbox is the user's primary SMTP address: user= for mail, the
// impersonated mailbox for EWS.
func (vc *verifyConn) mailbox() string {
	if vc.user.PrimarySMTP != "" {
		return vc.user.PrimarySMTP
	}
	return vc.user.Account
}

// graphID is how Graph addresses the user's mailbox.
func (vc *verifyConn) graphID() string {
	switch {
	case vc.user.ObjectID != "":
		return vc.user.ObjectID
	case vc.user.UPN != "":
		return vc.user.UPN
	}
	return vc.user.Account
}

func (vc *verifyConn) hide(vs ...store.Secret) {
	vc.mu.Lock()
	defer vc.mu.Unlock()
	for _, v := range vs {
		if !v.IsZero() {
			vc.secrets = append(vc.secrets, v.Reveal())
		}
	}
}

// redact takes any secret the run handled out of a line, should a server
// have echoed one.
func (vc *verifyConn) redact(s string) string {
	vc.mu.Lock()
	defer vc.mu.Unlock()
	for _, v := range vc.secrets {
		s = strings.ReplaceAll(s, v, "[redacted]")
	}
	return s
}

// setup reads the client secret and discovers the tenant's endpoints, once.
func (vc *verifyConn) setup(ctx context.Context) error {
	vc.setupOnce.Do(func() {
		if vc.db != nil {
			cs, err := vc.db.ClientSecret(vc.prof.ID)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				vc.setupErr = err
				return
			}
			vc.secret = cs
			vc.hide(cs.Value)
		}
		if vc.prof.OnPremises {
			return // Basic with the service account: no identity platform
		}
		tenant := vc.prof.TenantID
		if tenant == "" {
			tenant = vc.prof.TenantDomain
		}
		vc.fc, vc.setupErr = flows.New(ctx, flows.Config{
			Authority: vc.hosts.Authority, Tenant: tenant, ClientID: vc.prof.ClientID, ClientSecret: vc.secret.Value,
			HTTPClient: vc.hc, Now: vc.now, Sleep: vc.sleep,
		})
	})
	return vc.setupErr
}

// verifyError is a failure found before any request, with its fix.
type verifyError struct{ msg, fix string }

func (e *verifyError) Error() string { return e.msg }

// token returns an access token for audience: app-only from the client
// secret for resource, otherwise by refreshing the user's stored sign-in.
// The rotated refresh token is stored before the access token is used.
func (vc *verifyConn) token(ctx context.Context, audience, resource string) (store.Secret, error) {
	if err := vc.setup(ctx); err != nil {
		return "", err
	}
	if vc.fc == nil {
		return "", &verifyError{"an on-premises profile has no tokens", "On-premises Exchange is reached by EWS only: choose that protocol in step 1."}
	}
	vc.mu.Lock()
	t, ok := vc.tokens[audience]
	vc.mu.Unlock()
	if ok {
		return t, nil
	}
	// One request at a time, so that a refresh never starts from a
	// refresh token another one just replaced.
	vc.refresh.Lock()
	defer vc.refresh.Unlock()
	vc.mu.Lock()
	t, ok = vc.tokens[audience]
	vc.mu.Unlock()
	if ok {
		return t, nil
	}
	if vc.prof.Model == store.AppOnly {
		tok, err := vc.fc.ClientCredentials(ctx, resource)
		if err != nil {
			return "", err
		}
		vc.keep(audience, tok.AccessToken)
		return tok.AccessToken, nil
	}
	if vc.db == nil {
		return "", &verifyError{"no store to read the sign-in from", "Run modauth with its data directory."}
	}
	stored, err := vc.db.Token(vc.prof.ID, vc.user.Key)
	if errors.Is(err, store.ErrNotFound) {
		return "", &verifyError{fmt.Sprintf("no sign-in is stored for %s", vc.user.Account), "Go back to the consent step (esc) and have the user sign in."}
	}
	if err != nil {
		return "", err
	}
	vc.hide(stored.RefreshToken)
	scopes := verifyScopes(vc.prof.Scopes, audience, vc.hosts.GraphResource)
	if len(scopes) == 0 {
		return "", &verifyError{fmt.Sprintf("the profile has no %s scopes", audience), "Go back to the consent step (esc): the sign-in must ask for the scopes of every protocol."}
	}
	tok, err := vc.fc.Refresh(ctx, stored, scopes...)
	if err != nil {
		return "", err
	}
	vc.hide(tok.AccessToken, tok.RefreshToken)
	rotated := tok.Stored()
	rotated.Scopes = stored.Scopes // what the user consented to, not just this resource
	if err := vc.db.PutToken(vc.prof.ID, vc.user.Key, rotated); err != nil {
		return "", fmt.Errorf("store the renewed sign-in: %w", err)
	}
	vc.keep(audience, tok.AccessToken)
	return tok.AccessToken, nil
}

func (vc *verifyConn) keep(audience string, t store.Secret) {
	vc.hide(t)
	vc.mu.Lock()
	vc.tokens[audience] = t
	vc.mu.Unlock()
}

// verifyScopes picks the profile's scopes on one audience. Graph's may be
// written without their resource.
func verifyScopes(all []string, audience, graphResource string) []string {
	var out []string
	for _, sc := range all {
		l := strings.ToLower(sc)
		switch {
		case strings.HasPrefix(l, audience+"/"):
			out = append(out, sc)
		case audience == verifyAudGraph && graphResource != "" && strings.HasPrefix(l, strings.ToLower(strings.TrimSuffix(graphResource, "/"))+"/"):
			out = append(out, sc)
		case audience == verifyAudGraph && !strings.Contains(sc, "/") && !slices.Contains([]string{"openid", "profile", "email", "offline_access"}, l):
			out = append(out, sc)
		}
	}
	return out
}

// test runs one protocol's test and explains a failure.
func (vc *verifyConn) test(ctx context.Context, proto store.Protocol) verifyResult {
	var what string
	var err error
	switch proto {
	case store.Graph:
		what, err = vc.testGraph(ctx)
	case store.EWS:
		what, err = vc.testEWS(ctx)
	case store.IMAP, store.POP, store.SMTP:
		what, err = vc.testMail(ctx, proto)
	default:
		err = &verifyError{fmt.Sprintf("modauth cannot test %s", proto), "Remove the protocol from the profile (step 1)."}
	}
	if err == nil {
		return verifyResult{ok: true, what: what}
	}
	res := verifyResult{err: firstLine(err)}
	res.fix, res.topics = vc.explain(err, proto)
	return res
}

// testGraph gets a Graph token and reads what proves mailbox access: one
// delta page of the first folder the profile syncs, or the mailbox
// settings.
func (vc *verifyConn) testGraph(ctx context.Context) (string, error) {
	tok, err := vc.token(ctx, verifyAudGraph, vc.hosts.GraphResource)
	if err != nil {
		return "", err
	}
	g := &exchange.Graph{Host: vc.hosts.Graph, HTTP: vc.hc, Sleep: vc.sleep, Retries: 1,
		Token: func(context.Context) (store.Secret, error) { return tok, nil }}
	id := vc.graphID()
	var page struct {
		Value []struct{} `json:"value"`
	}
	for _, f := range vc.prof.Folders {
		switch f {
		case exchange.FolderCalendar:
			now := vc.now()
			if err := g.Do(ctx, http.MethodGet, exchange.CalendarDelta(id, now.Add(-7*24*time.Hour), now.Add(7*24*time.Hour)), nil, &page); err != nil {
				return "", err
			}
			return fmt.Sprintf("read the calendar (one delta page, %d events)", len(page.Value)), nil
		case exchange.FolderContacts:
			if err := g.Do(ctx, http.MethodGet, exchange.ContactsDelta(id, "contacts"), nil, &page); err != nil {
				return "", err
			}
			return fmt.Sprintf("read the contacts (one delta page, %d contacts)", len(page.Value)), nil
		case exchange.FolderTasks:
			if _, err := g.DefaultTaskList(ctx, id); err != nil {
				return "", err
			}
			return "found the default task list", nil
		}
	}
	var settings map[string]any
	if err := g.Do(ctx, http.MethodGet, "/users/"+url.PathEscape(id)+"/mailboxSettings", nil, &settings); err != nil {
		return "", err
	}
	return "read the mailbox settings", nil
}

// testEWS opens the calendar folder: Basic with the service account
// on-premises, otherwise Bearer; app-only and service accounts
// impersonate the user's mailbox, as the monitor does.
func (vc *verifyConn) testEWS(ctx context.Context) (string, error) {
	if err := vc.setup(ctx); err != nil {
		return "", err
	}
	x := &exchange.EWS{URL: vc.hosts.EWS, HTTP: vc.hc, Sleep: vc.sleep, Retries: 1}
	var imp *exchange.Impersonation
	switch {
	case vc.prof.OnPremises:
		if vc.secret.Value.IsZero() {
			return "", &verifyError{"no password is stored for the service account", "Go back to the IDs step (esc) and enter the service account's password."}
		}
		x.Username, x.Password = vc.prof.ServiceAccount, vc.secret.Value
		imp = &exchange.Impersonation{SMTP: vc.mailbox()}
	default:
		tok, err := vc.token(ctx, verifyAudEWS, verifyAudEWS)
		if err != nil {
			return "", err
		}
		x.Token = func(context.Context) (store.Secret, error) { return tok, nil }
		if vc.prof.Model != store.Delegated {
			imp = &exchange.Impersonation{SMTP: vc.mailbox()}
		}
	}
	if _, err := x.GetFolder(ctx, imp, "calendar"); err != nil {
		return "", err
	}
	if imp != nil {
		return "opened the calendar as " + imp.SMTP + " (impersonation)", nil
	}
	return "opened the calendar", nil
}

// testMail signs in over IMAP, POP or SMTP with XOAUTH2, as the monitor's
// probe does: the Outlook token of the user, or the app's Exchange token.
func (vc *verifyConn) testMail(ctx context.Context, proto store.Protocol) (string, error) {
	var tok store.Secret
	var err error
	if vc.prof.Model == store.AppOnly {
		tok, err = vc.token(ctx, verifyAudEWS, verifyAudEWS)
	} else {
		tok, err = vc.token(ctx, verifyAudOutlook, verifyAudOutlook)
	}
	if err != nil {
		return "", err
	}
	addr := map[store.Protocol]string{store.IMAP: vc.hosts.IMAP, store.POP: vc.hosts.POP, store.SMTP: vc.hosts.SMTP}[proto]
	probe := exchange.MailProbe{Addr: addr, TLS: vc.mailTLS}
	if err := probe.Probe(ctx, exchange.MailProtocol(proto), vc.mailbox(), tok); err != nil {
		return "", err
	}
	return "signed in as " + vc.mailbox() + " at " + addr, nil
}

// explain says what to do about a failure and which parts of the Exchange
// PowerShell fix it, where the fix is on the Exchange side.
func (vc *verifyConn) explain(err error, proto store.Protocol) (string, []string) {
	p := vc.prof
	var (
		ve *verifyError
		fe *flows.Error
		me *exchange.MailError
		ee *exchange.EWSError
		ge *exchange.GraphError
		ne net.Error
	)
	switch {
	case errors.As(err, &ve):
		return ve.fix, nil
	case errors.As(err, &fe):
		return fe.Fix(), nil
	case errors.As(err, &me):
		var topics []string
		switch {
		case errors.Is(err, exchange.ErrSMTPAuthDisabled):
			topics = []string{"smtp"}
		case me.Stage == "auth" && errors.Is(err, exchange.ErrMailAuthFailed):
			if proto == store.IMAP || proto == store.POP {
				topics = append(topics, "imappop")
			}
			switch p.Model {
			case store.AppOnly:
				topics = append(topics, "rbac")
			case store.ServiceAccount:
				topics = append(topics, "delegate")
			}
		}
		return me.Fix, topics
	case errors.As(err, &ee):
		var topics []string
		switch {
		case p.OnPremises && ee.Status == http.StatusUnauthorized:
			topics = []string{"onprem-basic"}
		case ee.Status == http.StatusForbidden:
			topics = []string{"ews"}
		case errors.Is(err, exchange.ErrForbidden):
			switch {
			case p.OnPremises:
				topics = []string{"onprem-imp"}
			case p.Model == store.AppOnly:
				topics = []string{"rbac"}
			case p.Model == store.ServiceAccount:
				topics = []string{"delegate"}
			default:
				topics = []string{"ews"}
			}
		}
		return ee.Fix(), topics
	case errors.As(err, &ge):
		switch {
		case ge.Status == http.StatusForbidden || ge.Code == "ErrorAccessDenied" || ge.Code == "Authorization_RequestDenied":
			if p.Model == store.AppOnly {
				return verifyGraphFix(vc.plan, p.Model), []string{"rbac"}
			}
			return verifyGraphFix(vc.plan, p.Model), nil
		case ge.Status == http.StatusUnauthorized:
			return fmt.Sprintf("Graph refused the token. Check that the profile's Graph resource (%s) is right for its cloud; for a user, sign in again (the consent step).", vc.hosts.GraphResource), nil
		case ge.Code == "MailboxNotEnabledForRESTAPI" || ge.Status == http.StatusNotFound:
			return "Graph finds no Exchange Online mailbox for this user: check the user's licence in the Microsoft 365 admin center, or correct the user's account (the users step).", nil
		case ge.Status == http.StatusTooManyRequests:
			return "Graph is throttling this mailbox: wait a few minutes, then r tests again.", nil
		case ge.Status >= 500:
			return "Graph had a temporary problem: r tests again in a few minutes; check Microsoft 365 service health if it persists.", nil
		}
		return "Look the error code up in the Microsoft Graph error reference.", nil
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Sprintf("The test did not finish within %s: a proxy or firewall probably holds the connection. r tests again.", verifyTimeout), nil
	case errors.As(err, &ne):
		return "The service could not be reached: check the profile's host names, DNS, the proxy and outbound firewall rules.", nil
	}
	return "", nil
}

// verifyGraphFix names the Graph permissions to grant for a refused
// mailbox read.
func verifyGraphFix(plan *appreg.Plan, model store.AccessModel) string {
	var names []string
	if plan != nil {
		for _, perm := range plan.On(appreg.Graph) {
			switch perm.Name {
			case "openid", "profile", "email", "offline_access", "User.Read", "User.Read.All", "Application.Read.All",
				"IMAP.AccessAsUser.All", "POP.AccessAsUser.All", "SMTP.Send":
				continue
			}
			if (perm.Kind == appreg.AppRole) == (model == store.AppOnly) {
				names = append(names, perm.Name)
			}
		}
	}
	perms := "the permissions of modauth's plan"
	if len(names) > 0 {
		perms = strings.Join(names, ", ")
	}
	if model == store.AppOnly {
		return "Graph refused the app this mailbox. In Entra ID > App registrations > <app> > API permissions, add the Microsoft Graph application permissions " + perms +
			" and choose Grant admin consent. Where RBAC for Applications limits the app, the mailbox must be in its management scope."
	}
	return "Graph refused access to the mailbox. In Entra ID > App registrations > <app> > API permissions, add the Microsoft Graph delegated permissions " + perms +
		", choose Grant admin consent, then have the user sign in again (the consent step)."
}

// verifyPowerShell is the plan's Exchange PowerShell for the tested mailbox.
func verifyPowerShell(plan *appreg.Plan, p store.Profile, mailbox string) string {
	if plan == nil {
		return ""
	}
	var b bytes.Buffer
	in := appreg.AdminInput{AppID: p.ClientID, SPObjectID: p.ServicePrincipalID, ServiceAccount: p.ServiceAccount}
	if mailbox != "" {
		in.Mailboxes = []string{mailbox}
	}
	if err := plan.ExchangePowerShell(&b, in); err != nil {
		return ""
	}
	return b.String()
}

// verifyTopics tell the PowerShell's sections apart by what they run.
var verifyTopics = map[string][]string{
	"smtp":         {"SmtpClientAuthenticationDisabled"},
	"imappop":      {"-ImapEnabled", "-PopEnabled"},
	"ews":          {"EwsEnabled"},
	"rbac":         {"New-ServicePrincipal", "$SPObjectId", "Entra and Exchange grants add up"},
	"delegate":     {"-User $ServiceAccount -AccessRights FullAccess"},
	"onprem-imp":   {"ApplicationImpersonation"},
	"onprem-basic": {"BasicAuthentication"},
}

// verifyPick takes the PowerShell's opening (how to connect, and the
// variables: its first two blocks) and the sections of the topics.
func verifyPick(ps string, topics []string) []string {
	if ps == "" || len(topics) == 0 {
		return nil
	}
	blocks := strings.Split(strings.TrimSpace(ps), "\n\n")
	picked := blocks[:min(2, len(blocks))]
	for _, b := range blocks[len(picked):] {
		keep := false
		for _, t := range topics {
			for _, marker := range verifyTopics[t] {
				keep = keep || strings.Contains(b, marker)
			}
		}
		if keep {
			picked = append(picked, b)
		}
	}
	if len(picked) <= 2 {
		return nil // nothing on the Exchange side for these topics
	}
	return strings.Split(strings.Join(picked, "\n\n"), "\n")
}

var verifyNames = map[store.Protocol]string{store.Graph: "Graph", store.EWS: "EWS", store.IMAP: "IMAP", store.POP: "POP", store.SMTP: "SMTP"}

func verifyName(p store.Protocol) string {
	if n, ok := verifyNames[p]; ok {
		return n
	}
	return string(p)
}

func verifyDuration(d time.Duration) string {
	if d < time.Second {
		return fmt.Sprintf("%dms", d.Milliseconds())
	}
	return fmt.Sprintf("%.1fs", d.Seconds())
}

// The screen: a head (what, and the user), the results, scrollable, and a
// status line.
const (
	verifyHeadLines    = 2
	verifyFootLines    = 2
	verifyResultIndent = 19 // "✓ Graph   120ms    "
	verifyPSIndent     = 4
)

// verifyMaxOffset is how far n lines scroll in h: a line of h tells
// where the view is once they do not fit.
func verifyMaxOffset(n, h int) int {
	if n <= h {
		return 0
	}
	return n - (h - 1)
}

func (s *verifyStep) regionHeight(c *Context) int {
	return max(c.bodyHeight()-verifyHeadLines-verifyFootLines, 3)
}

// region renders the results, one protocol after the other; at is the
// line where the first PowerShell starts, or -1.
func (s *verifyStep) region(c *Context) (lines []string, at int) {
	st := c.Styles
	at = -1
	if !s.ran {
		var names []string
		for _, p := range c.Profile.Protocols {
			names = append(names, verifyName(p))
		}
		if len(names) == 0 {
			return []string{st.Warn.Render("The profile has no protocols to test: choose them in step 1.")}, -1
		}
		return strings.Split(wrap("Tests "+strings.Join(names, ", ")+" of "+c.Profile.ID+" with this user's access, as the sync will: a token, then one "+
			"real request per protocol. Nothing is changed in the mailbox.", c.Width-2), "\n"), -1
	}
	indent := strings.Repeat(" ", verifyResultIndent)
	width := max(c.Width-verifyResultIndent-1, 20)
	sub := func(style func(...string) string, text string) {
		for _, l := range strings.Split(wrap(text, width), "\n") {
			lines = append(lines, indent+style(l))
		}
	}
	for _, r := range s.results {
		name := padRight(verifyName(r.proto), 6)
		switch {
		case !r.done:
			lines = append(lines, st.Faint.Render("… "+name+"  "+padRight("", 7)+"  testing…"))
		case r.ok:
			first := strings.Split(wrap(r.what, width), "\n")
			lines = append(lines, st.OK.Render("✓")+" "+st.Bold.Render(name)+"  "+padRight(verifyDuration(r.took), 7)+"  "+first[0])
			for _, l := range first[1:] {
				lines = append(lines, indent+l)
			}
		default:
			first := strings.Split(wrap(r.err, width), "\n")
			lines = append(lines, st.Error.Render("✗")+" "+st.Bold.Render(name)+"  "+padRight(verifyDuration(r.took), 7)+"  "+first[0])
			for _, l := range first[1:] {
				lines = append(lines, indent+l)
			}
			if r.fix != "" {
				sub(st.Warn.Render, "Fix: "+r.fix)
			}
			switch {
			case len(r.ps) > 0 && s.showPS:
				if at < 0 {
					at = len(lines)
				}
				lines = append(lines, s.psLines(c, r.ps)...)
			case len(r.ps) > 0:
				lines = append(lines, indent+st.Faint.Render("p shows the Exchange PowerShell for this."))
			}
		}
	}
	return lines, at
}

// psLines shows a failure's PowerShell below it: the plan's variables and
// the sections that fix it (the copy has the opening's comments too).
func (s *verifyStep) psLines(c *Context, ps []string) []string {
	st := c.Styles
	indent := strings.Repeat(" ", verifyPSIndent)
	width := max(c.Width-verifyPSIndent-1, 20)
	shell := "Exchange Online PowerShell, after Connect-ExchangeOnline"
	if c.Profile.OnPremises {
		shell = "Exchange Management Shell"
	}
	out := []string{indent + st.Faint.Render(shell+" (c copies it):")}
	for _, l := range ps[verifyOpening(ps):] {
		style := func(s ...string) string { return strings.Join(s, "") }
		if strings.HasPrefix(l, "#") {
			style = st.Faint.Render
		}
		// Long lines go on after a mark, never re-flowed; c copies them whole.
		for i, w := range codeLines(l, width) {
			if i > 0 {
				w = st.Faint.Render(contMark) + style(strings.TrimPrefix(w, contMark))
			} else {
				w = style(w)
			}
			out = append(out, indent+w)
		}
	}
	return out
}

// verifyOpening is where the PowerShell's opening comments end: the
// screen says how to connect in one line instead.
func verifyOpening(ps []string) int {
	for i, l := range ps {
		if l == "" {
			return i + 1
		}
		if !strings.HasPrefix(l, "#") {
			return i
		}
	}
	return 0
}

func (s *verifyStep) View(c *Context) string {
	st := c.Styles
	var b strings.Builder
	switch {
	case !s.loaded:
		b.WriteString(st.Faint.Render("Reading the users…") + "\n\n")
	case s.loadErr != nil:
		b.WriteString(st.Error.Render("✗ "+firstLine(s.loadErr)) + "\n\n")
	case len(s.users) == 0:
		b.WriteString(st.Warn.Render("No user can be tested yet.") + "\n\n")
	default:
		u := s.users[s.cursor]
		mailbox := u.PrimarySMTP
		if mailbox == "" {
			mailbox = u.Account
		}
		name := u.Name
		if name == "" {
			name = u.Key
		}
		pos := ""
		if len(s.users) > 1 {
			pos = st.Faint.Render(fmt.Sprintf("   ↑/↓ %d of %d", s.cursor+1, len(s.users)))
		}
		b.WriteString("Test as  " + st.Selected.Render(name) + "  " + mailbox + pos + "\n\n")
	}

	var region []string
	if s.loaded && len(s.users) == 0 {
		what := "A user must have signed in (the consent step) before the connection can be tested."
		if c.Profile.Model == store.AppOnly || c.Profile.OnPremises {
			what = "A user's mailbox must be resolved (the users step) before the connection can be tested."
		}
		region = strings.Split(wrap(what+" esc goes back; enter finishes without a test.", c.Width-2), "\n")
	} else {
		region, _ = s.region(c)
	}
	h := s.regionHeight(c)
	off := min(max(s.offset, 0), verifyMaxOffset(len(region), h))
	shown := region
	if len(region) > h {
		shown = region[off:min(off+h-1, len(region))]
		shown = append(shown, st.Faint.Render(fmt.Sprintf("── lines %d–%d of %d · pgdn/pgup scroll ──", off+1, off+len(shown), len(region))))
	}
	b.WriteString(strings.Join(shown, "\n"))
	for range h - len(shown) {
		b.WriteString("\n")
	}
	b.WriteString("\n\n")

	n, failed := len(s.results), s.failed()
	switch {
	case s.note != "":
		b.WriteString(st.OK.Render(s.note))
	case s.pending > 0:
		b.WriteString(st.Faint.Render(fmt.Sprintf("Testing %d of %d protocols…", s.pending, n)))
	case !s.ran && len(s.users) > 0 && len(c.Profile.Protocols) > 0:
		b.WriteString("t or enter tests the connection as this user.")
	case !s.ran:
	case failed == 0:
		works := fmt.Sprintf("✓ All %d protocols work.", n)
		if n == 1 {
			works = "✓ " + verifyName(s.results[0].proto) + " works."
		}
		b.WriteString(st.OK.Render(works + " enter finishes the setup."))
	default:
		msg := fmt.Sprintf("✗ %d of %d failed. r tests again; enter continues anyway.", failed, n)
		if s.hasPS() && !s.showPS {
			msg = fmt.Sprintf("✗ %d of %d failed. p shows the PowerShell; r tests again.", failed, n)
		}
		b.WriteString(st.Error.Render(msg))
	}
	return b.String()
}
