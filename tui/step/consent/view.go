// The consent step's screens: who signs in, the device code with its QR
// code, the browser's link, and app-only.

package consent

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/modauth/modauth/store"
	"github.com/modauth/modauth/tui/common"
	"github.com/modauth/modauth/tui/internal/qr"
)

func (s *Step) View(c *common.Context) string {
	if s.working != "" && s.mode != consentBrowser {
		return s.working
	}
	switch s.mode {
	case consentAccount:
		return c.Styles.Bold.Render("Which account signs in for every mailbox?") + "\n\n" + s.account.View()
	case consentDevice:
		return s.viewDevice(c)
	case consentBrowser:
		return s.viewBrowser(c)
	case consentAppOnly:
		return s.viewAppOnly(c)
	}
	return s.viewTable(c)
}

func (s *Step) targetEntry() consentEntry {
	if i, ok := s.entry(s.target); ok {
		return s.entries[i]
	}
	return consentEntry{}
}

func (s *Step) viewTable(c *common.Context) string {
	st, w := c.Styles, c.Width
	var top []string
	if c.Profile.Model == store.ServiceAccount {
		top = append(top, common.Wrap("The service account signs in once; modauth then reaches every mailbox through it.", w))
	} else {
		top = append(top, common.Wrap("Each user signs in once, so that modauth gets their consent and a refresh token.", w))
	}
	done := len(s.entries) - len(s.pending())
	line := fmt.Sprintf("%d of %d signed in · d: device code, b: browser, for the selected one · a: admin consent link.", done, len(s.entries))
	if s.skipped > 0 {
		line += fmt.Sprintf(" %d %s without a resolved account left out.", s.skipped, consentPlural(s.skipped, "user", "users"))
	}
	top = append(top, st.Faint.Render(line), "")

	var bottom []string
	switch {
	case s.panel != "":
		for i, l := range strings.Split(s.panel, "\n") {
			l = consentFit(l, w)
			switch {
			case i == 0 && strings.HasPrefix(l, "✗"):
				l = st.Error.Render(l)
			case strings.HasPrefix(l, "b: "):
				l = st.Key.Render("b") + l[1:]
			}
			bottom = append(bottom, l)
		}
	}
	if s.note != "" {
		style := st.Faint
		if strings.HasPrefix(s.note, "✓") {
			style = st.OK
		}
		bottom = append(bottom, style.Render(consentFit(s.note, w)))
	}
	if s.adminURL != "" {
		bottom = append(bottom, common.Wrap("Admin consent for every user: an admin opens this link and accepts (c copies it):", w))
		for _, l := range consentHardWrap(s.adminURL, w-1) {
			bottom = append(bottom, st.Key.Render(l))
		}
		if s.copied {
			bottom = append(bottom, st.OK.Render("✓ copied the link"))
		}
	}
	if len(bottom) > 0 {
		bottom = append([]string{""}, bottom...)
	}
	bottomLines := strings.Count(strings.Join(bottom, "\n"), "\n") + 1
	if len(bottom) == 0 {
		bottomLines = 0
	}
	topLines := strings.Count(strings.Join(top, "\n"), "\n") + 1
	rows := max(c.BodyHeight()-topLines-bottomLines-1, 2)

	var table []string
	if len(s.entries) == 0 {
		table = append(table, st.Faint.Render("Nobody to sign in yet: add users in the users step (esc)."))
	} else {
		table = s.tableLines(c, rows)
	}
	return strings.Join(top, "\n") + "\n" + strings.Join(table, "\n") + "\n" + strings.Join(bottom, "\n")
}

func (s *Step) tableLines(c *common.Context, rows int) []string {
	st, w := c.Styles, c.Width
	nameW, acctW := 4, 7
	for _, e := range s.entries {
		nameW = max(nameW, ansi.StringWidth(e.user.Name))
		acctW = max(acctW, ansi.StringWidth(e.account()))
	}
	nameW, acctW = min(nameW, 22), min(acctW, 36)
	statusW := max(w-2-nameW-2-acctW-2, 10)
	cell := func(v string, n int) string { return common.PadRight(ansi.Truncate(v, n, "…"), n) }
	out := []string{st.Faint.Render("  " + cell("Name", nameW) + "  " + cell("Account", acctW) + "  " + "Status")}
	win := s.win // a copy: View only draws
	win.Fit(rows, len(s.entries))
	first, end := win.Span(len(s.entries))
	for i := first; i < end; i++ {
		e := s.entries[i]
		var status string
		switch got, wrong := s.wrong[e.user.Key]; {
		case e.done():
			who := e.account()
			if e.user.SignedIn != nil && e.user.SignedIn.PreferredUsername != "" {
				who = e.user.SignedIn.PreferredUsername
			}
			status = st.OK.Render(ansi.Truncate("✓ "+who, statusW, "…"))
		case wrong:
			status = st.Error.Render(ansi.Truncate("✗ wrong account: "+got, statusW, "…"))
		case e.user.Consent == store.ConsentWrong:
			status = st.Error.Render("✗ wrong account")
		default:
			status = st.Warn.Render("pending")
		}
		marker, name := "  ", cell(e.user.Name, nameW)
		if i == s.win.Cursor {
			marker, name = st.Selected.Render("› "), st.Bold.Render(name)
		}
		out = append(out, marker+name+"  "+cell(e.account(), acctW)+"  "+status)
	}
	if len(s.entries) > rows {
		out = append(out, st.Faint.Render(fmt.Sprintf("  %d–%d of %d", first+1, min(first+rows, len(s.entries)), len(s.entries))))
	}
	return out
}

// consentSpaced writes a code as spaced letters, to read off a screen.
func SpacedCode(code string) string {
	return strings.Join(strings.Split(code, ""), " ")
}

func (s *Step) viewDevice(c *common.Context) string {
	st, w, e := c.Styles, c.Width, s.targetEntry()
	dc := s.dev
	var lines []string
	lines = append(lines, st.Bold.Render("Device code sign-in for "+e.label()), "")
	first := st.Warn.Render("!") + " First copy your one-time code: " + st.Code.Render(dc.UserCode)
	if s.copied {
		first += "  " + st.OK.Render("✓ copied")
	}
	lines = append(lines, first)
	box := st.Box.Padding(1, 4).Render(st.Code.Render(SpacedCode(dc.UserCode)))
	lines = append(lines, strings.Split(box, "\n")...)
	lines = append(lines, strings.Split(common.Wrap("Open "+dc.VerificationURI+" on any device and enter it, then sign in as "+e.account()+".", w), "\n")...)
	left := dc.ExpiresAt.Sub(c.Now())
	if left > 0 {
		secs := int(left.Round(time.Second) / time.Second)
		t := fmt.Sprintf("%02d:%02d", secs/60, secs%60)
		style := st.Bold
		if left < 2*time.Minute {
			style = st.Warn
		}
		lines = append(lines, "The code expires in "+style.Render(t)+st.Faint.Render(" · waiting for the sign-in…"))
	} else {
		lines = append(lines, st.Warn.Render("The code has expired: press esc, then d for a new one."))
	}
	lines = append(lines, "")
	code := s.qr(c, dc.VerificationURI)
	qrLines := strings.Count(code, "\n") + 1
	switch {
	case code == "":
	case c.BodyHeight()-len(lines) >= qrLines && ansi.StringWidth(strings.SplitN(code, "\n", 2)[0]) <= w:
		lines = append(lines, strings.Split(code, "\n")...)
	default:
		lines = append(lines, st.Faint.Render("Enlarge the window for a QR code of the address."))
	}
	return strings.Join(lines, "\n")
}

// qr renders the verification address as a QR code, once per address
// and background.
func (s *Step) qr(c *common.Context, url string) string {
	k := fmt.Sprint(url, c.Dark)
	if s.qrFor == k {
		return s.qrText
	}
	s.qrFor = k
	s.qrText, _ = qr.Terminal(url, c.Dark) // "" when too long for a QR code: the address is shown anyway
	return s.qrText
}

// consentFit wraps text at spaces, then breaks what is still too wide
// (paths, links) anywhere: nothing is cut off at the frame's edge.
func consentFit(text string, width int) string {
	var out []string
	for _, l := range strings.Split(common.Wrap(text, width), "\n") {
		if ansi.StringWidth(l) > width {
			out = append(out, consentHardWrap(l, width)...)
		} else {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// consentHardWrap breaks a link into lines of width cells: a link has no
// spaces to break at. c copies it whole.
func consentHardWrap(s string, width int) []string {
	return strings.Split(ansi.Hardwrap(s, max(width, 20), true), "\n")
}

func (s *Step) viewBrowser(c *common.Context) string {
	st, w, e := c.Styles, c.Width, s.targetEntry()
	head := []string{st.Bold.Render("Browser sign-in for " + e.label()), ""}
	intro := "! No browser can be opened here. Open this link on any device and sign in as " + e.account() + ":"
	if s.opened {
		intro = "✓ A browser opened the sign-in page: sign in there as " + e.account() + ". If the browser runs elsewhere, open this link:"
	}
	for _, l := range strings.Split(consentFit(intro, w), "\n") {
		if strings.HasPrefix(l, "! ") {
			l = st.Warn.Render("!") + l[1:]
		}
		head = append(head, l)
	}
	link := consentHardWrap(s.lb.sess.URL, w-1)
	var tail []string
	if s.copied {
		tail = append(tail, st.OK.Render("✓ copied the link"))
	}
	tail = append(tail, "", consentFit("After signing in, the browser ends on an address that may not load — copy it from the address bar and paste it here:", w))
	s.input.SetWidth(max(w-4, 10))
	tail = append(tail, s.input.View())
	if s.working != "" {
		tail = append(tail, st.Faint.Render(s.working))
	}
	if s.brErr != "" {
		for i, l := range strings.Split(s.brErr, "\n") {
			l = consentFit(l, w)
			if i == 0 {
				l = st.Error.Render(l)
			}
			tail = append(tail, l)
		}
	}
	count := func(ls []string) int { return strings.Count(strings.Join(ls, "\n"), "\n") + 1 }
	// On a small screen the blank lines go first, then the end of the
	// link: c still copies it whole.
	if count(head)+len(link)+count(tail) > c.BodyHeight() {
		head = slices.DeleteFunc(head, func(l string) bool { return l == "" })
		tail = slices.DeleteFunc(tail, func(l string) bool { return l == "" })
	}
	if room := c.BodyHeight() - count(head) - count(tail); len(link) > room {
		link = append(link[:max(room-1, 1)], "… the link goes on: press c to copy it whole")
	}
	for i, l := range link {
		if !strings.HasPrefix(l, "… ") {
			link[i] = st.Key.Render(l)
		} else {
			link[i] = st.Warn.Render(l)
		}
	}
	return strings.Join(slices.Concat(head, link, tail), "\n")
}

func (s *Step) viewAppOnly(c *common.Context) string {
	st, w := c.Styles, c.Width
	var lines []string
	lines = append(lines, st.Bold.Render("App-only: nobody signs in."), "",
		common.Wrap("modauth reaches the mailboxes as the app itself. Its permissions were granted with admin consent in the register step, so there is nothing to do here: press enter to continue.", w), "",
		common.Wrap("If that consent is missing, an admin (Global, Privileged Role, Cloud Application or Application Administrator) opens this link and accepts:", w))
	switch {
	case s.adminURL != "":
		for _, l := range consentHardWrap(s.adminURL, w-1) {
			lines = append(lines, st.Key.Render(l))
		}
		if s.copied {
			lines = append(lines, st.OK.Render("✓ copied the link"))
		}
	case s.working != "":
		lines = append(lines, st.Faint.Render("making the link…"))
	}
	if s.panel != "" {
		lines = append(lines, "", st.Error.Render(consentFit(s.panel, w)))
	}
	return strings.Join(lines, "\n")
}

func consentNames(es []consentEntry) string {
	var names []string
	for i, e := range es {
		if i == 3 {
			names = append(names, fmt.Sprintf("and %d more", len(es)-3))
			break
		}
		names = append(names, e.label())
	}
	return strings.Join(names, ", ")
}

func consentPlural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// consentDeviceURL is where a user enters a device code in the profile's
// cloud. The codes themselves expire, so exports carry only the address.
func consentDeviceURL(c *common.Context, s *Step) string {
	if s.dev != nil && s.dev.VerificationURI != "" {
		return s.dev.VerificationURI
	}
	if cl, ok := store.CloudOf(c.Profile.Hosts); ok {
		return cl.DeviceLogin
	}
	return strings.TrimSuffix(c.Profile.Hosts.WithDefaults().Authority, "/") + "/devicelogin"
}
