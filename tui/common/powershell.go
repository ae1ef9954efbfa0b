package common

import "strings"

// PowerShellLines draw the Exchange PowerShell that fixes a failure, for
// the verify step and the dashboard's detail pane alike: a line naming the
// shell (then note), the script without its opening comments (the line
// says how to connect instead), each line indent cells in. Long lines go
// on after ContMark, never re-flowed, so a copy of the script stays whole.
func PowerShellLines(c *Context, ps []string, indent int, note string) []string {
	st := c.Styles
	pad := strings.Repeat(" ", indent)
	width := max(c.Width-indent-1, 20)
	shell := "Exchange Online PowerShell, after Connect-ExchangeOnline"
	if c.Profile.OnPremises {
		shell = "Exchange Management Shell"
	}
	out := []string{pad + st.Faint.Render(shell+note+":")}
	for _, l := range ps[psOpening(ps):] {
		style := func(s ...string) string { return strings.Join(s, "") }
		if strings.HasPrefix(l, "#") {
			style = st.Faint.Render
		}
		for i, w := range CodeLines(l, width) {
			if i > 0 {
				w = st.Faint.Render(ContMark) + style(strings.TrimPrefix(w, ContMark))
			} else {
				w = style(w)
			}
			out = append(out, pad+w)
		}
	}
	return out
}

// psOpening is where the PowerShell's opening comments end.
func psOpening(ps []string) int {
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
