// The engine behind the dashboard: the same sweeps as `modauth monitor`,
// run inside the program, its changes applied as they come, and the
// summary of every profile in one line.

package dashboard

import (
	"errors"
	"fmt"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/modauth/modauth/monitor"
	"github.com/modauth/modauth/store"
	"github.com/modauth/modauth/tui/common"
)

// runner is the monitor engine and its feed of changes: started once for
// the program and kept while the dashboard switches profiles.
type runner struct {
	eng    *monitor.Engine
	events <-chan monitor.Change
	stop   func()
	last   *sweepMsg // the last sweep, for a profile opened after it
	// hosted: the engine is the service's, which sweeps on its own
	// schedule; the dashboard only follows it.
	hosted bool
	// onlooker: the store is the monitors' in etcd, who sweep it; the
	// interface re-reads it every onlookerReload instead.
	onlooker bool
}

// sweepTickMsg asks for the next sweep.
type sweepTickMsg struct{}

// CompleteProfiles are the profiles whose setup was verified: those with
// a dashboard.
func CompleteProfiles(db *store.DB) ([]store.Profile, error) {
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

// Open shows c.Profile's dashboard and starts the engine the first time.
// The filter, search and sort start afresh; the engine and its sweep
// times go on, and a profile just set up is swept now rather than at the
// next tick.
func (d *Model) Open(c *common.Context) tea.Cmd {
	d.show(c)
	var cmds []tea.Cmd
	switch {
	case d.run == nil:
		hosted := c.Service != nil
		eng := monitor.New(c.DB, monitor.Options{HTTPClient: c.HTTPClient, Now: c.Now, Sleep: c.Sleep, Logger: c.Logger, MailTLS: c.MailTLS, Owner: c.Owner})
		if hosted {
			eng = c.Service.Engine // exactly one engine per data directory: the service's
		}
		events, stop := eng.Subscribe()
		_, onlooker := c.Owner.(monitor.Onlooker)
		d.run = &runner{eng: eng, events: events, stop: stop, hosted: hosted, onlooker: onlooker}
		cmds = append(cmds, d.Sweep(c), d.listen())
	default:
		if d.run.last != nil {
			d.applySweep(*d.run.last)
		}
		id := d.profile.ID
		if jobs, err := c.DB.Jobs(id); err == nil && len(jobs) == 0 {
			if keys, err := c.DB.UserKeys(id); err == nil && len(keys) > 0 {
				cmds = append(cmds, d.syncNow(c, "first sweep of "+id, keys...))
			}
		}
	}
	cmds = append(cmds, d.Init(c))
	d.layout(c)
	return tea.Batch(cmds...)
}

// show loads c.Profile afresh, keeping the engine and the tick.
func (d *Model) show(c *common.Context) {
	run, gen := d.run, d.tickGen
	*d = *New(c)
	d.run, d.tickGen = run, gen
	d.loadErr = d.load(c)
	d.summarize(c)
}

// Close stops the engine's feed of changes.
func (d *Model) Close() {
	if d.run != nil && d.run.stop != nil {
		d.run.stop()
	}
}

// Sweep runs one sweep of every profile now and reports when it ended.
func (d *Model) Sweep(c *common.Context) tea.Cmd {
	if d.run == nil {
		return nil
	}
	eng, ctx, now := d.run.eng, c.Ctx, c.Now
	if d.run.onlooker {
		return func() tea.Msg { return sweepMsg{at: now(), next: now().Add(onlookerReload)} }
	}
	if d.run.hosted {
		last := c.Service.LastSweep
		return func() tea.Msg {
			at := last()
			next := at.Add(eng.Interval())
			if at.IsZero() || !next.After(now()) {
				at, next = now(), now().Add(time.Minute) // the service is sweeping: look again soon
			}
			return sweepMsg{at: at, next: next}
		}
	}
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

// onlookerReload is how often the interface on the monitors' store in
// etcd re-reads it: their sweeps reach it no other way.
const onlookerReload = 15 * time.Second

// nextSweep waits on the interface's clock for the sweep after msg.
func nextSweep(c *common.Context, msg sweepMsg) tea.Cmd {
	return tea.Tick(max(msg.next.Sub(c.Now()), time.Second), func(time.Time) tea.Msg { return sweepTickMsg{} })
}

// listen waits for the engine's next change.
func (d *Model) listen() tea.Cmd {
	if d.run == nil {
		return nil
	}
	ch := d.run.events
	return func() tea.Msg {
		c, ok := <-ch
		if !ok {
			return nil
		}
		return jobEventMsg{c}
	}
}

// syncNow runs the named users' jobs at once, saying so first.
func (d *Model) syncNow(c *common.Context, what string, keys ...string) tea.Cmd {
	if d.run == nil {
		return nil
	}
	eng, ctx, pid := d.run.eng, c.Ctx, d.profile.ID
	return tea.Sequence(
		func() tea.Msg { return common.NoteMsg{Text: what + "…"} },
		func() tea.Msg {
			sum, err := eng.SyncNow(ctx, pid, keys...)
			if err != nil {
				return common.ErrMsg{Err: err}
			}
			return syncedNote(sum)
		})
}

// syncFailing syncs every failing user of the profile.
func (d *Model) syncFailing(c *common.Context) tea.Cmd {
	jobs, err := c.DB.Jobs(d.profile.ID)
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
	return d.syncNow(c, fmt.Sprintf("syncing the %d failing user(s)", len(keys)), keys...)
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

// worstState is the worst state among counts of users per state, in the
// order of monitor.States, and how many users are in it.
func worstState(counts map[store.JobState]int) (store.JobState, int) {
	for _, st := range monitor.States {
		if counts[st] > 0 {
			return st, counts[st]
		}
	}
	return store.StateNeverSynced, 0
}

// refresh re-reads the shown profile (a sweep may have read the secret's
// expiry from Graph, a rotation stored a new one) and the profiles' line.
func (d *Model) refresh(c *common.Context) {
	if c.DB == nil {
		return
	}
	if p, err := c.DB.Profile(d.profile.ID); err == nil {
		d.profile = p
		if c.Profile.ID == p.ID {
			c.Profile = p
		}
	}
	d.summarize(c)
}

// stateCounts counts a profile's users per state; a user whose job never
// ran is never-synced.
func stateCounts(db *store.DB, profileID string) map[store.JobState]int {
	counts := map[store.JobState]int{}
	keys, _ := db.UserKeys(profileID)
	jobs, _ := db.Jobs(profileID)
	for _, k := range keys {
		st := jobs[k].State
		if st == "" {
			st = store.StateNeverSynced
		}
		counts[st]++
	}
	return counts
}

// summarize makes the line above the table that sums up every complete
// profile with its worst state, when there are two or more. It reads
// every profile's jobs, so it is made when they change (a sweep, an
// action, a switch of profile), not on every frame.
func (d *Model) summarize(c *common.Context) {
	d.bar, d.profiles = "", 0
	if c.DB == nil {
		return
	}
	ps, err := CompleteProfiles(c.DB)
	if err != nil {
		return
	}
	d.profiles = len(ps)
	if len(ps) < 2 {
		return
	}
	st := c.Styles
	var parts []string
	for _, p := range ps {
		worst, n := worstState(stateCounts(c.DB, p.ID))
		label, style := p.ID+" ✓", st.OK
		switch worst {
		case store.StateOK:
		case store.StateNeverSynced, store.StateThrottled:
			label, style = fmt.Sprintf("%s %s (%d)", p.ID, worst, n), st.Warn
		default:
			label, style = fmt.Sprintf("%s ✗ %s (%d)", p.ID, worst, n), st.Error
		}
		if p.ID == d.profile.ID {
			label = "[" + label + "]"
		}
		parts = append(parts, style.Render(label))
	}
	d.bar = strings.Join(parts, st.Faint.Render(" · "))
}

// Background keeps the engine going while the wizard is shown instead of
// the dashboard: its sweeps go on and its change feed stays read, so that
// nothing stops until the dashboard is back (which reads the store anew
// when it opens). ok is false for a message that is not the engine's.
func (d *Model) Background(c *common.Context, msg tea.Msg) (tea.Cmd, bool) {
	switch msg := msg.(type) {
	case jobEventMsg:
		return d.listen(), true // the row is read again on Open
	case sweepTickMsg:
		return d.Sweep(c), true
	case sweepMsg:
		if d.run != nil {
			d.run.last = &msg
		}
		return nextSweep(c, msg), true
	case TickMsg, dashHistoryMsg:
		return nil, true // the screen's own: Open starts them again
	}
	return nil, false
}
