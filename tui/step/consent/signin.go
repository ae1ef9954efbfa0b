// The consent step's sign-ins: device code, the browser with a loopback
// listener or a pasted address, and storing what they bring.

package consent

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/modauth/modauth/tui/common"

	tea "charm.land/bubbletea/v2"
	"github.com/modauth/modauth/conn"
	"github.com/modauth/modauth/flows"
	"github.com/modauth/modauth/store"
)

// session starts a new sign-in and returns its seq and context.
func (s *Step) session(c *common.Context, working string) (int, context.Context) {
	s.endSession()
	ctx, seq := s.task.Start(c.Ctx)
	s.working, s.note, s.panel = working, "", ""
	return seq, ctx
}

// conn is the profile's connection, made anew when the profile's cloud,
// tenant or app changed.
func (s *Step) conn(c *common.Context) (*conn.Conn, error) {
	if c.Profile.ClientID == "" || conn.Tenant(c.Profile) == "" {
		return nil, errors.New("the profile has no tenant or client ID yet: go back (esc) to the IDs step")
	}
	if s.cn == nil || !s.cn.Serves(c.Profile) {
		s.cn = c.Conn(c.Profile)
	}
	return s.cn, nil
}

func (s *Step) startAdminURL(c *common.Context) tea.Cmd {
	s.adminURL = ""
	cn, err := s.conn(c)
	if err != nil {
		s.panel = err.Error()
		return nil
	}
	seq, ctx := s.session(c, "")
	redirect := c.Profile.RedirectURI
	if redirect == "" {
		redirect = "http://localhost"
	}
	state := "modauth-" + c.Profile.ID
	return func() tea.Msg {
		fc, err := cn.Identity(ctx)
		if err != nil {
			return consentAdminMsg{seq: seq, err: err}
		}
		return consentAdminMsg{seq: seq, url: fc.AdminConsentURL(redirect, state)}
	}
}

func (s *Step) startDevice(c *common.Context, e consentEntry) tea.Cmd {
	cn, err := s.conn(c)
	if err != nil {
		s.panel = err.Error()
		return nil
	}
	if len(c.Profile.Scopes) == 0 {
		s.panel = "The profile asks for no scopes: go back to the profile step."
		return nil
	}
	seq, ctx := s.session(c, "asking Microsoft for a one-time code…")
	s.target = e.user.Key
	scopes := slices.Clone(c.Profile.Scopes)
	return func() tea.Msg {
		fc, err := cn.Identity(ctx)
		if err != nil {
			return consentDeviceMsg{seq: seq, err: err}
		}
		dc, err := fc.StartDeviceCode(ctx, scopes)
		return consentDeviceMsg{seq: seq, fc: fc, dc: dc, err: err}
	}
}

func consentTick(seq int) tea.Cmd {
	return tea.Tick(time.Second, func(time.Time) tea.Msg { return consentTickMsg{seq} })
}

// deviceStarted shows the code and polls until the user signs in.
func (s *Step) deviceStarted(c *common.Context, msg consentDeviceMsg) tea.Cmd {
	if !s.task.Current(msg.seq) {
		return nil
	}
	s.working = ""
	if msg.err != nil {
		s.endSession()
		s.mode, s.panel = consentTable, consentProblem(msg.err, true)
		return nil
	}
	s.mode, s.dev = consentDevice, msg.dc
	seq, ctx, fc, dc, user := s.task.ID(), s.task.Context(), msg.fc, msg.dc, s.target
	poll := func() tea.Msg {
		tok, err := fc.PollDeviceCode(ctx, dc)
		return consentResultMsg{seq: seq, user: user, tok: tok, err: err}
	}
	// The poll first: a runtime runs both at once, and a test harness that
	// runs commands one by one then never waits on the ticking clock.
	return tea.Batch(poll, consentTick(seq))
}

// consentLoopback is a browser sign-in: the session whose link a person
// opens anywhere, and flows' listener on 127.0.0.1 (nil when none could
// be opened) for when that browser runs on this machine. Whichever
// completes first wins.
type consentLoopback struct {
	sess *flows.AuthCodeSession
	lb   *flows.Loopback

	mu       sync.Mutex
	finished bool
}

// complete redeems a redirect once.
func (l *consentLoopback) complete(ctx context.Context, redirected string) (*flows.Token, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.finished {
		return nil, flows.ErrSignInComplete
	}
	tok, err := l.sess.Complete(ctx, redirected)
	if err == nil {
		l.finished = true
	}
	return tok, err
}

func (l *consentLoopback) close() {
	if l.lb != nil {
		l.lb.Close()
	}
}

func (s *Step) startBrowser(c *common.Context, e consentEntry) tea.Cmd {
	cn, err := s.conn(c)
	if err != nil {
		s.panel = err.Error()
		return nil
	}
	seq, ctx := s.session(c, "checking the sign-in page…")
	s.target = e.user.Key
	req := flows.AuthCodeRequest{RedirectURI: "http://localhost", Scopes: slices.Clone(c.Profile.Scopes), LoginHint: e.account(), Prompt: "select_account"}
	open := c.OpenURL
	return func() tea.Msg {
		fc, err := cn.Identity(ctx)
		if err != nil {
			return consentBrowserMsg{seq: seq, err: err}
		}
		// A listener here gets the redirect when the browser runs on this
		// machine; without one the address is pasted.
		ln, lnErr := flows.ListenLoopback()
		if lnErr == nil {
			req.RedirectURI = ln.RedirectURI
		}
		sess, err := fc.StartAuthCode(req)
		if err == nil {
			err = sess.Preflight(ctx)
		}
		if err != nil {
			if ln != nil {
				ln.Close()
			}
			return consentBrowserMsg{seq: seq, err: err}
		}
		lb := &consentLoopback{sess: sess, lb: ln}
		if ln != nil {
			ln.Serve(lb.complete)
		}
		opened := open != nil && open(sess.URL) == nil
		return consentBrowserMsg{seq: seq, lb: lb, opened: opened}
	}
}

func (s *Step) browserStarted(msg consentBrowserMsg) tea.Cmd {
	if !s.task.Current(msg.seq) {
		if msg.lb != nil {
			msg.lb.close()
		}
		return nil
	}
	s.working = ""
	if msg.err != nil {
		s.endSession()
		s.mode, s.panel = consentTable, consentProblem(msg.err, false)
		return nil
	}
	s.mode, s.lb, s.opened = consentBrowser, msg.lb, msg.opened
	return tea.Batch(s.input.Focus(), s.waitLoopback())
}

// waitLoopback waits for the listener's result; it ends with the session.
func (s *Step) waitLoopback() tea.Cmd {
	if s.lb == nil || s.lb.lb == nil {
		return nil
	}
	seq, ctx, results, user := s.task.ID(), s.task.Context(), s.lb.lb.Results(), s.target
	return func() tea.Msg {
		select {
		case r := <-results:
			return consentResultMsg{seq: seq, user: user, tok: r.Token, err: r.Err, loopback: true}
		case <-ctx.Done():
			return nil
		}
	}
}

// submitPaste redeems the address pasted from the browser's address bar.
func (s *Step) submitPaste(text string) tea.Cmd {
	text = strings.TrimSpace(text)
	s.input.Reset()
	if text == "" {
		s.brErr = "Paste the whole address the browser ends on, starting with http://localhost."
		return nil
	}
	s.brErr, s.working = "", "redeeming the sign-in…"
	seq, ctx, lb, user := s.task.ID(), s.task.Context(), s.lb, s.target
	return func() tea.Msg {
		tok, err := lb.complete(ctx, text)
		return consentResultMsg{seq: seq, user: user, tok: tok, err: err, pasted: true}
	}
}

// finish handles the end of a sign-in: refuse a wrong account, else store
// the token first and then mark the user done.
func (s *Step) finish(c *common.Context, msg consentResultMsg) tea.Cmd {
	if !s.task.Current(msg.seq) {
		return nil
	}
	s.working = ""
	if msg.err == nil && msg.tok == nil {
		msg.err = errors.New("the sign-in returned no token")
	}
	if msg.err != nil {
		if s.mode == consentBrowser && (msg.pasted || msg.loopback) {
			s.brErr = consentProblem(msg.err, false)
			if msg.loopback {
				return s.waitLoopback()
			}
			return nil
		}
		blocked := errors.Is(msg.err, flows.ErrBlockedByPolicy) || errors.Is(msg.err, flows.ErrPublicClientOff)
		s.endSession()
		s.mode, s.panel = consentTable, consentProblem(msg.err, blocked)
		return nil
	}
	s.endSession()
	s.mode = consentTable
	i, ok := s.entry(msg.user)
	if !ok {
		return common.ErrCmd(fmt.Errorf("sign-in finished for user %q, who is no longer in the profile", msg.user))
	}
	e := s.entries[i]
	if err := flows.CheckAccount(msg.tok.Identity, e.user); err != nil {
		var wrong *flows.WrongAccountError
		if errors.As(err, &wrong) {
			s.wrong[e.user.Key] = wrong.Got
			s.panel = fmt.Sprintf("✗ Signed in as %s, but this sign-in is for %s: nothing was stored.\n"+
				"Sign out in the browser (or use a private window) and sign in as %s, then press d or b again.",
				wrong.Got, wrong.Expected, wrong.Expected)
			return nil
		}
		s.panel = consentProblem(err, false)
		return nil
	}
	if err := s.store(c, &e, msg.tok); err != nil {
		s.panel = "✗ " + common.FirstLine(err)
		return common.ErrCmd(err)
	}
	s.entries[i] = e
	delete(s.wrong, e.user.Key)
	who := e.account()
	if msg.tok.Identity != nil && msg.tok.Identity.PreferredUsername != "" {
		who = msg.tok.Identity.PreferredUsername
	}
	s.note = "✓ Signed in as " + who
	if n := s.firstPending(); n >= 0 {
		s.win.Cursor = n
	}
	return nil
}

// store saves the sign-in in one write: the user (made now if the
// entry is new), the refresh token, the consent and who signed in.
func (s *Step) store(c *common.Context, e *consentEntry, tok *flows.Token) error {
	if c.DB == nil || c.Profile.ID == "" {
		return errors.New("no database to keep the sign-in in")
	}
	u := e.user
	u.Consent, u.SignedIn = store.ConsentDone, tok.Identity
	b := store.Batch{Profile: c.Profile.ID, Users: []store.User{u}, Tokens: map[string]store.Token{u.Key: tok.Stored()}}
	if err := c.DB.Apply(b); err != nil {
		return fmt.Errorf("save the sign-in of %s: %w", e.account(), err)
	}
	e.user, e.saved = u, true
	return nil
}

// consentProblem is what went wrong and what to do, for the screen.
func consentProblem(err error, offerBrowser bool) string {
	head, fix := "✗ "+common.FirstLine(err), ""
	var fe *flows.Error
	if errors.As(err, &fe) {
		if ent, ok := flows.Lookup(fe.Code()); ok {
			head = fmt.Sprintf("✗ AADSTS%d: %s.", ent.Code, ent.Meaning)
			if errors.Is(err, flows.ErrBlockedByPolicy) {
				head = "✗ Device code sign-in is blocked. " + head[len("✗ "):]
			}
		}
		fix = fe.Fix()
	}
	out := head
	if fix != "" {
		out += "\n" + fix
	}
	if offerBrowser {
		out += "\nb: sign in with the browser instead"
	}
	return out
}
