// The dashboard's messages: keys, searches, the detail pane following the
// cursor, and the engine's row changes applied as they come.

package dashboard

import (
	"errors"
	"fmt"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/modauth/modauth/monitor"
	"github.com/modauth/modauth/store"
	"github.com/modauth/modauth/tui/common"
)

// Update handles a message: keys, the engine's sweeps and changes, the
// frame's notes (an action ended: the data is read again). Afterwards it
// lays out what the next frames draw, so View only draws.
func (d *Model) Update(c *common.Context, msg tea.Msg) tea.Cmd {
	d.nowFn = c.Now
	cmd := d.update(c, msg)
	d.layout(c)
	return cmd
}

func (d *Model) update(c *common.Context, msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case TickMsg:
		if msg.gen != d.tickGen {
			return nil
		}
		// The expiring filter depends on the time: layout refreshes it
		// once a minute at most.
		return dashTick(msg.gen)
	case sweepMsg:
		if d.run != nil {
			d.run.last = &msg
		}
		d.applySweep(msg)
		d.refresh(c)
		return tea.Batch(d.reload(c), nextSweep(c, msg))
	case sweepTickMsg:
		return d.Sweep(c)
	case jobEventMsg:
		return tea.Batch(d.jobEvent(c, msg.ch), d.listen())
	case common.NoteMsg:
		d.refresh(c)
		return d.reload(c)
	case dashHistoryMsg:
		if msg.key == d.hist.key {
			d.hist = dashHistory{key: msg.key, events: msg.events, err: msg.err}
		}
		return nil
	case tea.KeyPressMsg:
		if !d.searching {
			if cmd, ok := d.action(c, msg); ok {
				return cmd
			}
		}
		return d.key(c, msg)
	case tea.PasteMsg:
		if d.searching {
			return d.typeSearch(c, msg)
		}
	}
	return nil
}

// applySweep takes a sweep's times for the header.
func (d *Model) applySweep(msg sweepMsg) {
	d.sweepErr = msg.err
	d.nextSweep = msg.next
	if msg.err == nil {
		d.lastOK, d.haveSweep = msg.at, true
	}
}

func (d *Model) key(c *common.Context, k tea.KeyPressMsg) tea.Cmd {
	if d.searching {
		switch {
		case k.String() == "enter":
			d.searching = false
			d.search.Blur()
			return nil
		case k.String() == "esc":
			d.searching = false
			d.search.Blur()
			d.search.SetValue("")
			d.setQuery("")
			return nil
		case k.String() == "up", k.String() == "down", k.String() == "pgup", k.String() == "pgdown":
			d.moveKey(k)
			return d.followDetail(c)
		}
		return d.typeSearch(c, k)
	}
	if d.moveKey(k) {
		return d.followDetail(c)
	}
	k2 := dashKeys
	switch {
	case d.detail && key.Matches(k, k2.Close):
		d.detail = false
	case d.query != "" && key.Matches(k, k2.Clear):
		d.search.SetValue("")
		d.setQuery("")
	case key.Matches(k, k2.Detail):
		i := d.selectedRow()
		if i < 0 {
			return nil
		}
		d.detail = true
		return d.loadHistory(c, d.rows[i].user.Key)
	case key.Matches(k, k2.Search):
		d.searching = true
		return d.search.Focus()
	case key.Matches(k, k2.Sort):
		d.cycleSort()
	case key.Matches(k, k2.Reverse):
		d.reverse()
	case key.Matches(k, k2.All):
		d.setFilter(filterAll)
	case key.Matches(k, k2.Failing):
		d.setFilter(filterFailing)
	case key.Matches(k, k2.NoSyncID):
		d.setFilter(filterNoSyncID)
	case key.Matches(k, k2.SignIn):
		d.setFilter(filterSignIn)
	case key.Matches(k, k2.Expiring):
		d.setFilter(filterExpiring)
	case key.Matches(k, k2.ProductFailing):
		d.setFilter(filterProductFailing)
	default:
		return nil
	}
	return d.followDetail(c)
}

// followDetail reloads the history when the detail pane shows another
// user than the one under the cursor.
func (d *Model) followDetail(c *common.Context) tea.Cmd {
	if !d.detail {
		return nil
	}
	i := d.selectedRow()
	if i < 0 {
		d.hist = dashHistory{}
		return nil
	}
	if k := d.rows[i].user.Key; k != d.hist.key {
		return d.loadHistory(c, k)
	}
	return nil
}

func (d *Model) typeSearch(c *common.Context, msg tea.Msg) tea.Cmd {
	var cmd tea.Cmd
	d.search, cmd = d.search.Update(msg)
	d.setQuery(d.search.Value())
	return tea.Batch(cmd, d.followDetail(c))
}

// moveKey handles the cursor keys; it reports whether k was one.
func (d *Model) moveKey(k tea.KeyPressMsg) bool {
	d.ensureView()
	var ok bool
	ok = d.win.Move(k, len(d.view))
	return ok
}

// jobEvent applies an engine change to its user's row and moves the row
// within the view if its place changed. The change carries the job, the
// token's metadata and the item counts, so nothing is read from the store
// (and no refresh token unsealed), except the record of a user added
// since the load.
func (d *Model) jobEvent(c *common.Context, ch monitor.Change) tea.Cmd {
	ev := ch.Event
	if ev.User == "" || (ev.Profile != "" && ev.Profile != d.profile.ID) {
		return nil
	}
	if d.detail && d.hist.key == ev.User && !d.hist.loading {
		if n := len(d.hist.events); n == 0 || ev.Seq == 0 || ev.Seq > d.hist.events[0].Seq {
			d.hist.events = append([]store.Event{ev}, d.hist.events[:min(n, dashHistoryLen-1)]...)
		}
	}
	if i, ok := d.byKey[ev.User]; ok {
		r := newDashRow(d.rows[i].user, ch.Job, ch.Token, ch.HasToken, ch.Counts)
		r.product = d.rows[i].product // the sign-in log's, not the engine's change
		d.replaceRow(i, r)
		return nil
	}
	// A user added since the load, e.g. by an import.
	if c.DB == nil {
		return nil
	}
	u, err := c.DB.User(d.profile.ID, ev.User)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return common.ErrCmd(fmt.Errorf("read user %s: %w", ev.User, err))
	}
	d.rows = append(d.rows, newDashRow(u, ch.Job, ch.Token, ch.HasToken, ch.Counts))
	d.countsStale, d.sorted.valid = true, false
	d.byKey[u.Key] = len(d.rows) - 1
	d.markDirty()
	return nil
}
