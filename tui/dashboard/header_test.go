package dashboard

import (
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/modauth/modauth/store"
	"github.com/modauth/modauth/tui/common"
)

// TestHeaderEWSCountdown: a profile on Exchange Online's EWS counts down
// to 1 April 2027 and then says EWS is gone; an on-premises or a Graph
// profile never does; a narrow header drops the countdown before the
// secret's.
func TestHeaderEWSCountdown(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	online := store.Profile{ID: "acme-prod", Model: store.AppOnly, Protocols: []store.Protocol{store.EWS},
		SecretExpiry: at("2027-09-01T00:00:00Z"), SecretExpirySource: store.ExpiryGraph}
	onPrem := online
	onPrem.OnPremises, onPrem.Model = true, store.ServiceAccount
	graph := online
	graph.Protocols = []store.Protocol{store.Graph}
	header := func(p store.Profile, now time.Time, width int) string {
		c := &common.Context{Options: common.Options{Now: func() time.Time { return now }}, Width: width, Styles: common.NewStyles(true)}
		return ansi.Strip((&Model{profile: p}).Header(c))
	}
	for _, tc := range []struct {
		p    store.Profile
		now  string
		want string
	}{
		{online, "2026-09-30T12:00:00Z", "EWS ends in 183d"},
		{online, "2026-11-17T00:00:00Z", "EWS ends in 135d"},
		{online, "2027-03-31T12:00:00Z", "EWS ends in 1d"},
		{online, "2027-04-01T00:00:00Z", "EWS gone"},
		{onPrem, "2026-11-17T00:00:00Z", ""},
		{graph, "2026-11-17T00:00:00Z", ""},
	} {
		h := header(tc.p, at(tc.now), 120)
		if tc.want == "" && strings.Contains(h, "EWS") || tc.want != "" && !strings.Contains(h, tc.want) {
			t.Errorf("%s on %s: %q, want %q", tc.p.Protocols, tc.now, h, tc.want)
		}
	}
	wide := header(online, at("2026-11-17T00:00:00Z"), 120)
	// One cell too narrow for the profile, the secret and the countdown.
	narrow := header(online, at("2026-11-17T00:00:00Z"), ansi.StringWidth("acme-prod · secret 288d 0h · EWS ends in 135d")-1)
	if narrow != "acme-prod · secret 288d 0h" {
		t.Errorf("narrow header: %q (wide %q)", narrow, wide)
	}
}
