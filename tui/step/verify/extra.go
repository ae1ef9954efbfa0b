package verify

import (
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/huh/v2"

	"github.com/modauth/modauth/store"
	"github.com/modauth/modauth/tui/common"
)

// sendMsg: the person said yes to a test message.
type sendMsg struct{}

// canSend reports whether a passing run may be followed by a real test
// message: the plan sends mail through Graph, and nothing runs.
func (s *Step) canSend() bool {
	if !s.sends || !s.ran || s.pending > 0 || len(s.users) == 0 {
		return false
	}
	for _, r := range s.results {
		if r.proto != protoSend && r.proto != protoScope && !r.ok {
			return false // the connection itself must pass first
		}
	}
	return true
}

// extraKeys are the tests a passing run of a sending profile offers.
func (s *Step) extraKeys() common.KeyMap {
	if !s.sends {
		return nil
	}
	k := common.KeyMap{verifyKeys.Send}
	if s.appOnly {
		k = append(k, verifyKeys.Scope)
	}
	return k
}

// extra runs a test message (send) or the scope proof (scope, as the
// outside mailbox) and adds its line to the results.
func (s *Step) extra(c *common.Context, proto store.Protocol, outside string) tea.Cmd {
	if !s.canSend() {
		return nil
	}
	ctx, run := s.run.StartTimeout(c.Ctx, verifyTimeout)
	cn, u := c.Conn(c.Profile), s.users[s.cursor]
	s.results = slices.DeleteFunc(s.results, func(r verifyResult) bool { return r.proto == proto }) // the new one replaces it
	s.results = append(s.results, verifyResult{proto: proto})
	s.pending++
	return func() tea.Msg {
		start := time.Now() // how long it took, for the line: real time
		r := cn.SendTest(ctx, u)
		if proto == protoScope {
			r = cn.ScopeProof(ctx, u, outside)
		}
		res := verifyResult{proto: proto, took: time.Since(start), ok: r.OK, what: r.Tried}
		if !r.OK {
			res.err, res.fix, res.ps = strings.SplitN(r.Message, "\n", 2)[0], r.Fix, r.PowerShell
		}
		return verifyResultMsg{run: run, res: res}
	}
}

// formKey hands a key to the outside mailbox's form; esc closes it.
func (s *Step) formKey(c *common.Context, k tea.KeyPressMsg) (bool, tea.Cmd) {
	if key.Matches(k, common.Keys.Back) {
		s.form = nil
		return false, nil
	}
	return s.formUpdate(c, k)
}

func (s *Step) formUpdate(c *common.Context, msg tea.Msg) (bool, tea.Cmd) {
	state, cmd := s.form.Update(msg)
	if state != huh.StateCompleted {
		return false, cmd
	}
	s.form = nil
	return false, tea.Batch(cmd, s.extra(c, protoScope, strings.TrimSpace(s.outside)))
}

// Modal: the outside mailbox's form owns esc while it is open.
func (s *Step) Modal() bool { return s.form != nil }

// OpenForm is the outside mailbox's form, asked line by line in
// accessible mode.
func (s *Step) OpenForm() *common.Form { return s.form }

// FieldErr is what is wrong with the outside mailbox as entered.
func (s *Step) FieldErr() error {
	if s.form == nil {
		return nil
	}
	return s.form.Err()
}
