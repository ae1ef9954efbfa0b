// The dashboard's header: the profile, the client secret's countdown, the
// next sweep, and how old the data is when Microsoft could not be reached.

package dashboard

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/modauth/modauth/exchange"
	"github.com/modauth/modauth/store"
	"github.com/modauth/modauth/tui/common"
)

// secretLevel is the urgency of a client secret that expires in left.
func secretLevel(left time.Duration) dashLevel {
	const day = 24 * time.Hour
	switch {
	case left <= 7*day:
		return levelError
	case left <= 14*day:
		return levelWarnBold
	case left <= 30*day:
		return levelWarn
	}
	return levelNormal
}

func (l dashLevel) style(st *common.Styles) lipgloss.Style {
	switch l {
	case levelWarn:
		return st.Warn
	case levelWarnBold:
		return st.Warn.Bold(true)
	case levelError:
		return st.Error
	}
	return lipgloss.NewStyle()
}

// Header is the frame's one header line: the profile, its tenant and
// access model, the client secret's countdown, the next sweep and, when
// the last sweep could not reach Microsoft, how old the data is. The least
// important parts go first when the line is too long.
func (d *Model) Header(c *common.Context) string {
	st, now, p := &c.Styles, c.Now(), d.profile
	type part struct {
		text   string
		prio   int  // dropped from the highest down
		attach bool // joined to the part before with a space
	}
	parts := []part{{text: st.Title.Render(p.ID)}}
	if p.Environment != "" {
		parts = append(parts, part{text: p.Environment, prio: 5})
	}
	if t := dashTenant(p); t != "" {
		parts = append(parts, part{text: t, prio: 6})
	}
	if p.Model != "" {
		parts = append(parts, part{text: string(p.Model), prio: 4})
	}
	if text, _ := d.secretText(now); text != "" {
		parts = append(parts, part{text: d.secretLevel(now).style(st).Render(text), prio: 1})
		src := p.SecretExpirySource
		if src == "" {
			src = store.ExpiryUnknown
		}
		parts = append(parts, part{text: st.Faint.Render("(" + string(src) + ")"), prio: 7, attach: true})
	}
	if text := ewsCountdown(p, now); text != "" {
		// Below the secret and a stale sweep, above the next sweep.
		parts = append(parts, part{text: st.Warn.Render(text), prio: 2})
	}
	if d.run != nil && d.run.onlooker {
		parts = append(parts, part{text: st.Faint.Render("swept by the monitors on etcd"), prio: 3})
	} else if !d.nextSweep.IsZero() {
		text := "sweep due"
		if left := d.nextSweep.Sub(now); left > 0 {
			text = "next sweep in " + dashIn(now, d.nextSweep, 1)
		}
		parts = append(parts, part{text: st.Faint.Render(text), prio: 3})
	}
	if d.sweepErr != nil {
		text := "stale"
		if !d.lastOK.IsZero() {
			text += " " + dashDur(now.Sub(d.lastOK), 1)
		}
		parts = append(parts, part{text: st.Error.Render(text), prio: 2})
	}
	join := func() string {
		var b strings.Builder
		for i, pt := range parts {
			switch {
			case i == 0:
			case pt.attach:
				b.WriteString(" ")
			default:
				b.WriteString(" · ")
			}
			b.WriteString(pt.text)
		}
		return b.String()
	}
	line := join()
	for ansi.StringWidth(line) > c.Width && len(parts) > 1 {
		worst := 1
		for i, pt := range parts {
			if pt.prio > parts[worst].prio {
				worst = i
			}
		}
		parts = slices.Delete(parts, worst, worst+1)
		line = join()
	}
	return ansi.Truncate(line, c.Width, "…")
}

// secretText is the countdown of the app's credential, its client secret
// or its certificate; "" for a profile with neither.
func (d *Model) secretText(now time.Time) (string, bool) {
	p := d.profile
	if p.OnPremises {
		return "", false // a service account's password, not a client secret
	}
	expiry, what := p.CredentialExpiry()
	if expiry.IsZero() {
		if what == "secret" && p.SecretHint == "" && p.SecretKeyID == "" {
			return "", false
		}
		return what + " expiry unknown", true
	}
	if what == "certificate" {
		what = "cert" // the header is narrow
	}
	left := expiry.Sub(now)
	if left <= 0 {
		return what + " expired " + dashDur(-left, 1) + " ago", true
	}
	return what + " " + dashIn(now, expiry, 2), true
}

// secretLevel is the header's credential colour; unknown expiry is a
// warning.
func (d *Model) secretLevel(now time.Time) dashLevel {
	expiry, _ := d.profile.CredentialExpiry()
	if expiry.IsZero() {
		return levelWarn
	}
	return secretLevel(expiry.Sub(now))
}

// dashTenant is the tenant in a few cells: its onmicrosoft.com name or the
// start of its GUID.
func dashTenant(p store.Profile) string {
	if p.TenantDomain != "" {
		return strings.TrimSuffix(p.TenantDomain, ".onmicrosoft.com")
	}
	if len(p.TenantID) > 8 {
		return p.TenantID[:8] + "…"
	}
	return p.TenantID
}

// ewsCountdown is the countdown to the end of EWS in Exchange Online
// (1 April 2027) on a profile that uses it: "EWS ends in 122d", then
// "EWS gone"; "" on-premises, where EWS stays.
func ewsCountdown(p store.Profile, now time.Time) string {
	switch {
	case p.OnPremises || !slices.Contains(p.Protocols, store.EWS):
		return ""
	case exchange.EWSRetired(now):
		return "EWS gone"
	}
	return fmt.Sprintf("EWS ends in %dd", exchange.EWSDaysLeft(now))
}
