package common

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
)

func TestProfileIDReadsAsTheCustomerWritesIt(t *testing.T) {
	for customer, want := range map[string]string{
		"Acme B.V.":                  "acme-b-v-production",
		"Immobilien Müller GmbH":     "immobilien-mueller-gmbh-production",
		"Straßenbau Größe AG":        "strassenbau-groesse-ag-production",
		"Société Générale de Façade": "societe-generale-de-facade-production",
		"Ærø Bygg A/S":               "aeroe-bygg-a-s-production",
		"北京":                         "profile-production",
	} {
		if got := ProfileID(customer, "production"); got != want {
			t.Errorf("profileID(%q) = %q, want %q", customer, got, want)
		}
	}
}

func TestWrapCountsCellsNotBytes(t *testing.T) {
	// 22 cells, but 26 bytes: byte counting breaks it too early.
	text := "Jürgen Müller-Lüdenscheidt Åsa Ødegård"
	for _, l := range strings.Split(Wrap(text, 26), "\n") {
		if ansi.StringWidth(l) > 26 {
			t.Errorf("line %q is %d cells", l, ansi.StringWidth(l))
		}
	}
	if got := Wrap("Jürgen Müller Lüdenscheidt", 26); got != "Jürgen Müller Lüdenscheidt" {
		t.Errorf("26 cells wrapped: %q", got)
	}
	// Wide characters take two cells each.
	for _, l := range strings.Split(Wrap("東京 大阪 名古屋 札幌 福岡 神戸 京都 横浜 川崎 仙台", 20), "\n") {
		if ansi.StringWidth(l) > 20 {
			t.Errorf("line %q is %d cells", l, ansi.StringWidth(l))
		}
	}
}

func TestCodeLinesNeverReflow(t *testing.T) {
	script := "# Grant the app FullAccess to the mailbox; this comment is long enough to wrap twice at forty\n" +
		"Add-MailboxPermission -Identity 'anna.devries@contoso.com' -User $SPObjectId -AccessRights FullAccess\n" +
		"Get-Mailbox"
	lines := CodeLines(script, 40)
	var joined []string
	for _, l := range lines {
		if w := ansi.StringWidth(l); w > 40 {
			t.Errorf("%q is %d cells", l, w)
		}
		if rest, ok := strings.CutPrefix(l, ContMark); ok {
			joined[len(joined)-1] += " " + rest
			continue
		}
		joined = append(joined, l)
	}
	want := strings.Split(script, "\n")
	if len(joined) != len(want) {
		t.Fatalf("%d lines make %d script lines:\n%s", len(lines), len(joined), strings.Join(lines, "\n"))
	}
	for i := range want {
		if strings.Join(strings.Fields(joined[i]), " ") != strings.Join(strings.Fields(want[i]), " ") {
			t.Errorf("line %d reads %q, want %q", i, joined[i], want[i])
		}
	}
	// The comment's continuation is marked, so it never reads as a command.
	if !strings.HasPrefix(lines[1], ContMark) || !strings.HasPrefix(lines[2], ContMark) || !strings.HasPrefix(lines[3], "Add-") {
		t.Errorf("lines:\n%s", strings.Join(lines, "\n"))
	}
}

func TestBreakAtSpacesKeepsIndent(t *testing.T) {
	got := breakAtSpaces(`    "requiredResourceAccess": [ { "resourceAppId": "00000003-0000-0000-c000-000000000000" } ]`, 40)
	if !strings.HasPrefix(got[0], `    "requiredResourceAccess":`) {
		t.Errorf("first piece %q lost its indent", got[0])
	}
	for _, p := range got {
		if ansi.StringWidth(p) > 40 {
			t.Errorf("%q is wider than 40", p)
		}
	}
}

func TestWrapHangsListItems(t *testing.T) {
	got := Wrap("1. Sign in to https://entra.microsoft.com as an Application Administrator of the tenant.\n   - a detail that is long enough to wrap onto a second line here", 40)
	for _, l := range strings.Split(got, "\n")[1:] {
		if !strings.HasPrefix(l, "   ") {
			t.Fatalf("a continuation starts at the margin:\n%s", got)
		}
	}
	if lines := strings.Split(got, "\n"); !strings.HasPrefix(lines[len(lines)-1], "     ") {
		t.Fatalf("the bullet's continuation is not under its text:\n%s", got)
	}
}

// profileID may be called from several goroutines (the race detector
// caught a shared transformer).
func TestProfileIDIsSafeConcurrently(t *testing.T) {
	done := make(chan string)
	for range 8 {
		go func() { done <- ProfileID("Société Müller", "production") }()
	}
	for range 8 {
		if id := <-done; id != "societe-mueller-production" {
			t.Errorf("profileID = %q", id)
		}
	}
}
