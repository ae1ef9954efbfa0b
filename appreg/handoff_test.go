package appreg_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modauth/modauth/appreg"
	"github.com/modauth/modauth/store"
)

// The hand-off sheet of every preset, in the product's words and order
// (golden files, run with -update after a deliberate change); the secret's
// value is written only when revealed, and masked otherwise.
func TestHandOffGolden(t *testing.T) {
	const secret = "abc8Q~Zk3-secret-value-of-the-app"
	for _, pre := range appreg.Presets() {
		t.Run(pre.ID, func(t *testing.T) {
			sc := pre.ScenarioFor("production", "crm.acme.nl")
			plan, err := appreg.NewPlan(sc)
			if err != nil {
				t.Fatal(err)
			}
			p := store.Profile{ID: "acme-production", Customer: "Acme", Preset: pre.ID, Model: sc.Model,
				ClientID: "76861f50-3640-452b-a8e6-14b189a0bd53", RedirectURI: sc.RedirectURI, Scopes: plan.SignInScopes}
			if sc.OnPremises {
				p.Hosts.EWS, p.ServiceAccount = "https://mail.acme.nl/EWS/Exchange.asmx", `ACME\svc-allsolutions`
			}
			needsSecret := plan.NeedsSecret || sc.OnPremises
			h := appreg.NewHandOff(p, appreg.HandOffInput{Tenant: "3ec37dbf-c77c-47fb-9dc3-e830e97e4bb5", Secret: secret, Mailbox: "moveit@acme.nl", NeedsSecret: needsSecret})
			var masked, revealed bytes.Buffer
			if err := h.WriteText(&masked, false); err != nil {
				t.Fatal(err)
			}
			h.WriteText(&revealed, true)
			if strings.Contains(masked.String(), secret) {
				t.Errorf("the masked sheet holds the secret:\n%s", masked.String())
			}
			if needsSecret != strings.Contains(revealed.String(), secret) {
				t.Errorf("secret in the revealed sheet: %v, want %v:\n%s", !needsSecret, needsSecret, revealed.String())
			}
			path := filepath.Join("testdata", "golden", pre.ID, "handoff.txt")
			if *update {
				if err := os.WriteFile(path, masked.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./appreg -update)", err)
			}
			if masked.String() != string(want) {
				t.Errorf("the sheet differs from %s:\n%s", path, masked.String())
			}
		})
	}
}
