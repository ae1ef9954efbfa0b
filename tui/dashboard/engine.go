package tui

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/modauth/modauth/appreg"
	"github.com/modauth/modauth/flows"
	"github.com/modauth/modauth/monitor"
	"github.com/modauth/modauth/store"
	"github.com/modauth/modauth/tui/common"
)

// The dashboard's actions; the dashboard itself owns moving, sorting,
// filtering and searching.
var actionKeys = struct {
	SyncNow, SyncFailing, Reconsent, Rotate, Export, Link, NextProfile, NewProfile key.Binding
}{
	SyncNow:     key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "sync now")),
	SyncFailing: key.NewBinding(key.WithKeys("F"), key.WithHelp("F", "sync failing")),
	Reconsent:   key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "re-consent")),
	Rotate:      key.NewBinding(key.WithKeys("R"), key.WithHelp("R", "rotate secret")),
	Export:      key.NewBinding(key.WithKeys("e"), key.WithHelp("e", "export")),
	Link:        key.NewBinding(key.WithKeys("l"), key.WithHelp("l", "copy link")),
	NextProfile: key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "profile")),
	NewProfile:  key.NewBinding(key.WithKeys("n"), key.WithHelp("n", "new profile")),
}

// sweepTickMsg asks for the next sweep.
type sweepTickMsg struct{}

// completeProfiles are the profiles whose setup was verified.
func completeProfiles(db *store.DB) ([]store.Profile, error) {
	ps, err := db.Profiles()
	if err != nil {
		return nil, err
	}
	var out []store.Profile
	for _, p := range ps {
		if p.WizardStep == common.StepVerify {
			out = append(out, p)
		}
	}
	return out, nil
}

// openDashboard shows the dashboard for profile p and starts the engine
// the first time: the same sweeps as `modauth monitor`, inside the program.
func (m *Model) openDashboard(p store.Profile) tea.Cmd {
	c := m.c
	c.Profile = p
	m.screen = screenDashboard
	m.dash = newDashboard(c)
	m.bar = m.profileBar()
	var cmds []tea.Cmd
	switch {
	case m.eng == nil:
		m.eng = monitor.New(c.DB, monitor.Options{HTTPClient: c.HTTPClient, Now: c.Now, Sleep: c.Sleep, Logger: c.Logger, MailTLS: c.MailTLS})
		m.events, m.stopEvents = m.eng.Subscribe()
		cmds = append(cmds, m.sweep(), m.listen())
	default:
		// The engine runs already: the header keeps its sweep times, and a
		// profile just set up is swept now rather than at the next tick.
		if m.lastSweep != nil {
			m.dash.Update(c, *m.lastSweep)
		}
		if jobs, err := c.DB.Jobs(p.ID); err == nil && len(jobs) == 0 {
			if keys, err := c.DB.UserKeys(p.ID); err == nil && len(keys) > 0 {
				cmds = append(cmds, m.syncNow("first sweep of "+p.ID, keys...))
			}
		}
	}
	return tea.Batch(append(cmds, m.dash.Init(c))...)
}

// sweep runs one sweep of every profile and reports when it ended.
func (m *Model) sweep() tea.Cmd {
	eng, ctx, now := m.eng, m.c.Ctx, m.c.Now
	return func() tea.Msg {
		sum, err := eng.Sweep(ctx)
		if err == nil && sum.Jobs() > 0 && sum.Ran[store.StateUnreachable] == sum.Jobs() {
			// Every job found Microsoft unreachable: what is on screen is
			// the last good data, and the header says how old it is.
			err = errors.New("Microsoft could not be reached")
		}
		at := now()
		return sweepMsg{at: at, next: at.Add(eng.Interval()), err: err}
	}
}

// listen waits for the engine's next change.
func (m *Model) listen() tea.Cmd {
	ch := m.events
	return func() tea.Msg {
		c, ok := <-ch
		if !ok {
			return nil
		}
		return jobEventMsg{c}
	}
}

func (m *Model) updateDashboard(msg tea.Msg) tea.Cmd {
	c := m.c
	switch msg := msg.(type) {
	case sweepMsg:
		m.lastSweep = &msg
		m.refreshProfile()
		m.bar = m.profileBar()
		return tea.Batch(m.dash.Update(c, msg), m.dash.Reload(c), tea.Tick(max(msg.next.Sub(c.Now()), time.Second), func(time.Time) tea.Msg { return sweepTickMsg{} }))
	case sweepTickMsg:
		return m.sweep()
	case jobEventMsg:
		return tea.Batch(m.dash.Update(c, msg), m.listen())
	case tea.KeyPressMsg:
		if m.dash.Modal() {
			return m.dash.Update(c, msg)
		}
		switch {
		case key.Matches(msg, actionKeys.SyncNow):
			if u, ok := m.dash.Selected(); ok {
				return m.syncNow("syncing "+u.Key, u.Key)
			}
		case key.Matches(msg, actionKeys.SyncFailing):
			jobs, err := c.DB.Jobs(c.Profile.ID)
			if err != nil {
				return common.ErrCmd(err)
			}
			var keys []string
			for k, j := range jobs {
				if monitor.Failing(j.State) {
					keys = append(keys, k)
				}
			}
			if len(keys) == 0 {
				return func() tea.Msg { return common.NoteMsg{Text: "nobody is failing"} }
			}
			return m.syncNow(fmt.Sprintf("syncing the %d failing user(s)", len(keys)), keys...)
		case key.Matches(msg, actionKeys.Export):
			return m.export()
		case key.Matches(msg, actionKeys.Link):
			return m.copyLink()
		case key.Matches(msg, actionKeys.Rotate):
			return m.askFirst("Rotate the client secret? A new one is added and proven, then the old one is removed.", "Rotate", "Cancel", m.rotate())
		case key.Matches(msg, actionKeys.Reconsent):
			m.screen = screenWizard
			m.wiz = newWizard(c)
			m.wiz.at = m.wiz.index(common.StepConsent)
			return m.wiz.current().Init(c)
		case key.Matches(msg, actionKeys.NewProfile):
			c.Profile = store.Profile{Hosts: c.Options.Hosts}
			m.screen = screenWizard
			m.wiz = newWizard(c)
			return m.wiz.current().Init(c)
		case key.Matches(msg, actionKeys.NextProfile):
			ps, err := completeProfiles(c.DB)
			if err != nil || len(ps) < 2 {
				return nil
			}
			for i, p := range ps {
				if p.ID == c.Profile.ID {
					return m.openDashboard(ps[(i+1)%len(ps)])
				}
			}
		}
	}
	return m.dash.Update(c, msg)
}

// syncNow runs the named users' jobs at once.
func (m *Model) syncNow(what string, keys ...string) tea.Cmd {
	eng, ctx, pid := m.eng, m.c.Ctx, m.c.Profile.ID
	m.note = what + "…"
	return func() tea.Msg {
		sum, err := eng.SyncNow(ctx, pid, keys...)
		if err != nil {
			return common.ErrMsg{Err: err}
		}
		return syncedNote(sum)
	}
}

// syncedNote says how a "sync now" went: a ✓ only when every job ran ok.
func syncedNote(sum monitor.Summary) common.NoteMsg {
	ran, ok := sum.Jobs(), sum.Ran[store.StateOK]
	switch {
	case ran == 0:
		return common.NoteMsg{Text: "nothing to sync", Warn: true}
	case ok == ran:
		return common.NoteMsg{Text: fmt.Sprintf("✓ synced %d user(s)", ran)}
	}
	worst, n := worstState(sum.Ran)
	return common.NoteMsg{Text: fmt.Sprintf("! synced %d user(s): %d ok, %d %s", ran, ok, n, worst), Warn: true}
}

// export writes the current view as CSV next to the database.
func (m *Model) export() tea.Cmd {
	path := m.c.SavePath(fmt.Sprintf("%s-users-%s.csv", m.c.Profile.ID, m.c.Now().Format("20060102-150405")))
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return common.ErrCmd(fmt.Errorf("export: %w", err))
	}
	defer f.Close()
	rows := m.dash.Rows()
	if err := store.WriteUsersCSV(f, rows); err != nil {
		return common.ErrCmd(fmt.Errorf("export: %w", err))
	}
	return func() tea.Msg {
		return common.NoteMsg{Text: fmt.Sprintf("✓ %d user(s) written to %s", len(rows), path)}
	}
}

// copyLink copies a consent link for the selected user: the sign-in page
// with their name filled in, asking for consent. It carries no secret.
func (m *Model) copyLink() tea.Cmd {
	u, ok := m.dash.Selected()
	if !ok {
		return nil
	}
	c, p := m.c, m.c.Profile
	fc, err := c.Conn(p).Identity(c.Ctx)
	if err != nil {
		return common.ErrCmd(err)
	}
	s, err := fc.StartAuthCode(flows.AuthCodeRequest{RedirectURI: "http://localhost", Scopes: p.Scopes, LoginHint: cmp.Or(u.UPN, u.Account), Prompt: "consent"})
	if err != nil {
		return common.ErrCmd(err)
	}
	return tea.Batch(tea.SetClipboard(s.URL), func() tea.Msg {
		return common.NoteMsg{Text: "✓ consent link for " + cmp.Or(u.UPN, u.Account) + " copied (OSC 52)"}
	})
}

// rotate replaces the client secret as `modauth secret rotate` does: on
// the app's own token (Application.ReadWrite.OwnedBy) or the admin's.
func (m *Model) rotate() tea.Cmd {
	c, p := m.c, m.c.Profile
	return func() tea.Msg {
		current, err := c.DB.ClientSecret(p.ID)
		if err != nil {
			return common.ErrMsg{Err: fmt.Errorf("rotate secret: this profile has no client secret: %w", err)}
		}
		cn := c.Conn(p)
		g := c.AdminGraph
		if g == nil {
			if _, err := cn.Identity(c.Ctx); err != nil {
				return common.ErrMsg{Err: err}
			}
			g = cn.AppGraph()
		}
		next, err := appreg.Rotation{
			Graph: g, ClientID: p.ClientID, Current: current, Now: c.Now, Sleep: c.Sleep,
			Prove:     cn.ProveSecret,
			Save:      func(cs store.ClientSecret) error { return c.DB.SetClientSecret(p.ID, cs) },
			RemoveOld: func(store.ClientSecret) bool { return true }, // asked before starting
		}.Run(c.Ctx)
		if err != nil {
			var re *appreg.RoleError
			if errors.As(err, &re) {
				return common.ErrMsg{Err: fmt.Errorf("%w (or give the app Application.ReadWrite.OwnedBy)", err)}
			}
			return common.ErrMsg{Err: err}
		}
		return common.NoteMsg{Text: fmt.Sprintf("✓ new secret %s stored, valid until %s; the old one is removed", next.Value.Hint(), next.Expiry.Format("2 January 2006"))}
	}
}

// severity orders the states from worst to best, for a profile's summary.
var severity = []store.JobState{
	store.StateDamaged, store.StateSecretExpired, store.StateSignInNeeded, store.StateConsentNeeded, store.StateUPNInvalid,
	store.StateNoMailbox, store.StateUnreachable, store.StateThrottled, store.StateNeverSynced, store.StateOK,
}

// worstState is the worst state among counts of users per state, and how
// many users are in it.
func worstState(counts map[store.JobState]int) (store.JobState, int) {
	for _, st := range severity {
		if counts[st] > 0 {
			return st, counts[st]
		}
	}
	return store.StateNeverSynced, 0
}

// refreshProfile re-reads the shown profile: a sweep may have read the
// secret's expiry from Graph, a rotation stored a new one.
func (m *Model) refreshProfile() {
	if p, err := m.c.DB.Profile(m.c.Profile.ID); err == nil {
		m.c.Profile = p
	}
}

// stateCounts counts a profile's users per state; a user whose job never
// ran is never-synced.
func (m *Model) stateCounts(profileID string) map[store.JobState]int {
	counts := map[store.JobState]int{}
	keys, _ := m.c.DB.UserKeys(profileID)
	jobs, _ := m.c.DB.Jobs(profileID)
	for _, k := range keys {
		st := jobs[k].State
		if st == "" {
			st = store.StateNeverSynced
		}
		counts[st]++
	}
	return counts
}

// profileBar sums up every complete profile with its worst state. It
// reads every profile's jobs, so it is made when they change (a sweep, an
// action, a switch of profile), not on every frame.
func (m *Model) profileBar() string {
	ps, err := completeProfiles(m.c.DB)
	if err != nil || len(ps) < 2 {
		return ""
	}
	st := m.c.Styles
	var parts []string
	for _, p := range ps {
		worst, n := worstState(m.stateCounts(p.ID))
		label, style := p.ID+" ✓", st.OK
		switch worst {
		case store.StateOK:
		case store.StateNeverSynced, store.StateThrottled:
			label, style = fmt.Sprintf("%s %s (%d)", p.ID, worst, n), st.Warn
		default:
			label, style = fmt.Sprintf("%s ✗ %s (%d)", p.ID, worst, n), st.Error
		}
		if p.ID == m.c.Profile.ID {
			label = "[" + label + "]"
		}
		parts = append(parts, style.Render(label))
	}
	return strings.Join(parts, st.Faint.Render(" · "))
}

// dashboardKeys are the dashboard's bindings: in the bar the table's own
// first, then the actions most used; F1 lists them all, by kind.
func (m *Model) dashboardKeys() help.KeyMap {
	a := actionKeys
	actions := common.KeyMap{a.SyncNow, a.SyncFailing, a.Reconsent, a.Rotate, a.Export, a.Link, a.NewProfile}
	if ps, err := completeProfiles(m.c.DB); err == nil && len(ps) > 1 {
		actions = append(actions, a.NextProfile)
	}
	return dashHelp{table: m.dash.Keys().ShortHelp(), actions: actions}
}

// dashHelp is the dashboard's help: the table's keys, then its actions.
type dashHelp struct{ table, actions []key.Binding }

func (h dashHelp) ShortHelp() []key.Binding {
	return append(append([]key.Binding{}, h.table...), h.actions[:4]...)
}

func (h dashHelp) FullHelp() [][]key.Binding {
	k := dashKeys
	return [][]key.Binding{
		{k.Move, k.Detail, k.Search, k.SortHelp},
		{k.All, k.Failing, k.NoSyncID, k.SignIn, k.Expiring},
		h.actions,
	}
}

var _ = monitor.Fixes
