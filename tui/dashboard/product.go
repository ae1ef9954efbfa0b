// The product beside modauth's own checks: its own sign-ins per user, as
// the monitoring app reads them from Entra's sign-in log, and a rotation
// of the client secret it holds.

package dashboard

import (
	"cmp"
	"fmt"
	"strconv"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/modauth/modauth/flows"
	"github.com/modauth/modauth/store"
	"github.com/modauth/modauth/tui/common"
)

// loadProduct reads what is known of the product: whether its sign-ins
// are read and where that stands, a rotation under way, and per user its
// sign-ins.
func (d *Model) loadProduct(c *common.Context) (map[string]store.ProductSignIns, error) {
	id := d.profile.ID
	d.readsProduct = d.profile.Monitor != nil && !d.profile.OnPremises
	d.rotation = nil
	if rot, ok, err := c.DB.Rotation(id); err != nil {
		return nil, err
	} else if ok {
		d.rotation = &rot
	}
	if !d.readsProduct {
		return nil, nil
	}
	var err error
	if d.signInLog, err = c.DB.SignInLog(id); err != nil {
		return nil, err
	}
	recs, err := c.DB.ProductSignIns(id)
	if err != nil {
		return nil, fmt.Errorf("read the product's sign-ins: %w", err)
	}
	return recs, nil
}

// productColumns reports whether the table has the product's columns:
// its sign-ins are read, and its users sign in (not an app-only product).
func (d *Model) productColumns() bool { return d.readsProduct && !d.appOnly() }

// productCell is the product's last success or last failure.
func productCell(r *dashRow, c dashCol, now time.Time) (string, dashInk) {
	p := r.product
	switch {
	case c == colProduct && p.Failing():
		return "✗" + strconv.Itoa(p.LastFailure.Code), inkError
	case c == colProduct && !p.LastOK.IsZero():
		return "✓" + dashDur(now.Sub(p.LastOK), 1), inkOK
	case c == colProdOK && !p.LastOK.IsZero():
		return dashAgo(now, p.LastOK), inkPlain
	case c == colProdFail && p.LastFailure != nil:
		text := strconv.Itoa(p.LastFailure.Code) + " " + dashDur(now.Sub(p.LastFailure.At), 1)
		if p.Failing() {
			return text, inkError
		}
		return text, inkFaint // a success came after it
	}
	return "—", inkFaint
}

// productLines are the lines above the table about the product: why its
// sign-ins cannot be read, and a rotation under way.
func (d *Model) productLines(c *common.Context, now time.Time) []string {
	st, w := &c.Styles, c.Width
	var out []string
	if d.readsProduct && d.signInLog.Unavailable != "" {
		out = append(out, st.Warn.Render(ansi.Truncate("Product sign-ins: "+d.signInLog.Unavailable, w, "…")))
	}
	if r := d.rotation; r != nil {
		for _, l := range d.rotationLines(r, now) {
			out = append(out, st.Warn.Render(ansi.Truncate(l, w, "…")))
		}
	} else if line := d.appSignInLine(now); line != "" {
		out = append(out, st.Faint.Render(ansi.Truncate(line, w, "…")))
	}
	return out
}

// appSignInLine is how an app-only product signs in, as its own app: no
// user of it signs in, so its columns would stay empty.
func (d *Model) appSignInLine(now time.Time) string {
	if !d.readsProduct || !d.appOnly() || d.signInLog.Unavailable != "" {
		return ""
	}
	var key string
	var last store.KeyUse
	for id, k := range d.signInLog.Keys {
		if k.Last.After(last.Last) {
			key, last = id, k
		}
	}
	if key == "" {
		return "Product: no sign-in of its app seen yet"
	}
	_, what := d.profile.CredentialExpiry()
	return fmt.Sprintf("Product: its app signed in %s with %s %s, %s today", dashAgo(now, last.Last), what, short(key), common.Count(last.UsedOn(now), "time"))
}

// rotationLines say where a rotation stands, and, while the product still
// uses the old secret, how much: each short enough for 80 columns.
func (d *Model) rotationLines(r *store.Rotation, now time.Time) []string {
	what := r.Credential()
	if r.Certificate {
		what = "cert" // the line fits 80 columns
	}
	line := "Rotation: new " + what + " " + short(r.NewKeyID)
	switch {
	case r.HandedOver.IsZero():
		line += " not handed over yet (H)"
	case r.Promoted.IsZero():
		line += " handed over " + dashAgo(now, r.HandedOver) + ", product not on it yet"
	default:
		line += " in use by the product since " + dashAgo(now, r.Switched)
	}
	out := []string{line + " · R"}
	if d.readsProduct && d.signInLog.Unavailable == "" {
		// Before the switch any use is the product's; after it, only
		// a use since modauth took the new secret.
		if old := d.signInLog.Keys[r.OldKeyID]; old.UsedOn(now) > 0 && (r.Promoted.IsZero() || old.Last.After(r.Promoted)) {
			out = append(out, fmt.Sprintf("Old %s still in use by the product: %s today, last %s", r.Credential(), common.Count(old.UsedOn(now), "sign-in"), dashAgo(now, old.Last)))
		}
	}
	return out
}

func short(id string) string {
	if len(id) > 8 {
		return id[:8] + "…"
	}
	return id
}

// productDetail describes the user's sign-ins through the product: the
// last success and failure, with its meaning and fix, and the newest.
func (d *Model) productDetail(c *common.Context, r *dashRow, now time.Time, w int) []string {
	st := &c.Styles
	out := []string{st.Bold.Render("Product sign-ins") + st.Faint.Render(" from Entra's sign-in log")}
	if !d.readsProduct {
		why := c.Conn(d.profile).Sees().Why
		return append(out, common.WrapLines(st.Faint, "  "+why, w, 2)...)
	}
	if d.signInLog.Unavailable != "" {
		return append(out, common.WrapLines(st.Warn, "  "+d.signInLog.Unavailable, w, 3)...)
	}
	if d.appOnly() {
		return append(out, common.WrapLines(st.Faint, "  "+cmp.Or(d.appSignInLine(now), "Product: no sign-in of its app seen yet")+" (an app-only product signs in as its app, not per user)", w, 2)...)
	}
	p := r.product
	if p.LastOK.IsZero() && p.LastFailure == nil {
		return append(out, st.Faint.Render("  none seen: the product has not signed this user in lately"))
	}
	out = append(out, ansi.Truncate("  last ok "+dashAgo(now, p.LastOK), w, "…"))
	if f := p.LastFailure; f != nil {
		style := st.Faint
		if p.Failing() {
			style = st.Error
		}
		out = append(out, common.WrapLines(style, fmt.Sprintf("  last failure %s: AADSTS%d %s", dashAgo(now, f.At), f.Code, f.Message), w, 2)...)
		if p.Failing() {
			fix := f.Fix
			if e, ok := flows.Lookup(f.Code); ok && fix == "" {
				fix = e.Fix
			}
			if fix != "" {
				out = append(out, common.WrapLines(st.Warn, "  Fix: "+fix, w, 3)...)
			}
		}
	}
	for _, s := range p.Recent {
		mark, kind := "✓", "background"
		if s.Code != 0 {
			mark = "✗ AADSTS" + strconv.Itoa(s.Code)
		}
		if s.Interactive {
			kind = "signed in"
		}
		out = append(out, ansi.Truncate(fmt.Sprintf("  %-8s  %-10s %s", dashAgo(now, s.At), kind, mark), w, "…"))
	}
	return out
}
