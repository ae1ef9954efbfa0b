package dashboard

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/modauth/modauth/tui/common"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/modauth/modauth/flows"
	"github.com/modauth/modauth/monitor"
	"github.com/modauth/modauth/store"
)

// dashEventPage is how many events the history reads per transaction.
const dashEventPage = 4096

// loadHistory reads a user's last events in the background: the event log
// holds every profile's events, up to 100,000 of them.
func (d *Model) loadHistory(c *common.Context, key string) tea.Cmd {
	d.hist = dashHistory{key: key, loading: c.DB != nil}
	if c.DB == nil {
		return nil
	}
	db, profile := c.DB, d.profile.ID
	return func() tea.Msg {
		evs, err := dashUserHistory(db, profile, key)
		return dashHistoryMsg{key: key, events: evs, err: err}
	}
}

// dashUserHistory is a user's last dashHistoryLen events, newest first,
// read a page at a time so the whole log is never in memory at once.
func dashUserHistory(db *store.DB, profile, key string) ([]store.Event, error) {
	var last []store.Event
	var after uint64
	for {
		page, err := db.Events(profile, after, dashEventPage)
		if err != nil {
			return nil, fmt.Errorf("read the history of %s: %w", key, err)
		}
		for _, e := range page {
			if e.User == key {
				last = append(last, e)
				if len(last) > 2*dashHistoryLen {
					last = append(last[:0], last[len(last)-dashHistoryLen:]...)
				}
			}
		}
		if len(page) < dashEventPage {
			break
		}
		after = page[len(page)-1].Seq
	}
	last = last[max(len(last)-dashHistoryLen, 0):]
	slices.Reverse(last)
	return last, nil
}

// detailLines describe one user: state, token, the last error with its
// meaning and fix, the folders and the state history. The most useful
// come first, since the pane is clipped from the bottom.
func (d *Model) detailLines(c *common.Context, r *dashRow, now time.Time, w int) []string {
	st := &c.Styles
	out := []string{ansi.Truncate(st.Bold.Render(r.name())+" · "+r.upn()+st.Faint.Render(" · key "+r.user.Key+" · enter closes"), w, "…")}

	state := r.state()
	line := "State: " + dashStateStyle(st, state).Render(string(state)) + " · last success " + dashAgo(now, r.job.LastSuccess)
	if r.job.Failures > 1 {
		line += fmt.Sprintf(" · failed %d times in a row", r.job.Failures)
	}
	if !r.job.LastRun.IsZero() {
		line += " · last run " + dashAgo(now, r.job.LastRun)
	}
	out = append(out, ansi.Truncate(line, w, "…"))

	if !d.appOnly() && r.hasToken {
		line := "Token:"
		if t := r.token.AccessExpiry; !t.IsZero() {
			if now.Before(t) {
				line += " access expires in " + dashIn(now, t, 1) + ";"
			} else {
				line += " access expired " + dashAgo(now, t) + ";"
			}
		}
		if t := r.rtSince(); !t.IsZero() {
			age := now.Sub(t)
			text := fmt.Sprintf(" refresh token unused for %dd of %dd", int(age/(24*time.Hour)), int(dashRTLimit/(24*time.Hour)))
			switch {
			case age > dashRTExpiring:
				text = st.Error.Render(text)
			case age > dashRTWarn:
				text = st.Warn.Render(text)
			}
			line += text
		}
		out = append(out, ansi.Truncate(line, w, "…"))
	}

	// The fix the connection layer found for this failure comes first,
	// then the AADSTS catalog's, then the state's.
	job := r.job
	job.State = state // a job that never ran is never-synced
	fix := monitor.FixFor(job)
	var ps []string
	if le := r.job.LastError; le != nil {
		out = append(out, common.WrapLines(st.Error, "Last error ("+dashAgo(now, le.At)+"): "+r.errLine, w, 2)...)
		e, known := flows.Lookup(le.Code)
		switch {
		case le.Meaning != "":
			out = append(out, common.WrapLines(lipgloss.NewStyle(), le.Meaning, w, 2)...)
		case known && le.Code != 0:
			out = append(out, common.WrapLines(lipgloss.NewStyle(), fmt.Sprintf("AADSTS%d %s: %s", le.Code, e.Name, e.Meaning), w, 2)...)
		case le.Code != 0:
			out = append(out, ansi.Truncate(fmt.Sprintf("AADSTS%d is not in modauth's catalog: look it up at https://login.microsoftonline.com/error?code=%d", le.Code, le.Code), w, "…"))
		}
		if known && le.Code != 0 && le.Fix == "" {
			fix = e.Fix
		}
		ps = le.PowerShell
	}
	if fix != "" && state != store.StateOK {
		out = append(out, common.WrapLines(st.Warn, "Fix: "+fix, w, 3)...)
	}
	if len(ps) > 0 && monitor.Failing(state) {
		out = append(out, common.PowerShellLines(c, ps, 2, "")...)
	}

	out = append(out, d.productDetail(c, r, now, w)...)

	out = append(out, st.Bold.Render("Folders"))
	folders := dashFolders(d.profile, r)
	if len(folders) == 0 {
		out = append(out, st.Faint.Render("  none synced yet"))
	}
	for _, f := range folders {
		out = append(out, ansi.Truncate(fmt.Sprintf("  %s: %s · %s", f, cmp.Or(r.ckpt[f], "not synced yet"), common.Count(r.counts[f], "item")), w, "…"))
	}

	out = append(out, st.Bold.Render("History")+st.Faint.Render(" newest first"))
	switch {
	case d.hist.loading:
		out = append(out, st.Faint.Render("  reading the event log…"))
	case d.hist.err != nil:
		out = append(out, st.Error.Render(ansi.Truncate("  "+common.FirstLine(d.hist.err), w, "…")))
	case len(d.hist.events) == 0:
		out = append(out, st.Faint.Render("  no events yet"))
	}
	for _, e := range d.hist.events {
		s := e.State
		line := fmt.Sprintf("  %-8s  %-7s ", dashAgo(now, e.At), e.Kind)
		if s != "" {
			line += dashStateStyle(st, s).Render(string(s)) + " "
		}
		out = append(out, ansi.Truncate(line+strings.Join(strings.Fields(e.Message), " "), w, "…"))
	}
	return out
}

// dashFolders are the folders a user has anything for: the profile's, and
// those with a checkpoint or stored items.
func dashFolders(p store.Profile, r *dashRow) []string {
	seen := map[string]bool{}
	var out []string
	add := func(f string) {
		if f != "" && !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	for _, f := range p.Folders {
		add(f)
	}
	more := slices.AppendSeq(slices.Collect(maps.Keys(r.ckpt)), maps.Keys(r.counts))
	slices.Sort(more)
	for _, f := range more {
		add(f)
	}
	return out
}

// dashCheckpoint says what a folder's checkpoint is, never the checkpoint
// itself: a Graph delta link is a long URL with a token in it.
func dashCheckpoint(v string) string {
	switch {
	case v == "":
		return "not synced yet"
	case strings.HasPrefix(v, "https://"), strings.HasPrefix(v, "http://"):
		return "synced (delta link)"
	}
	return "synced (sync state)"
}
