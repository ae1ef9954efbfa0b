package appreg_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/modauth/modauth/appreg"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// presetPlan plans a preset for production at an example host.
func presetPlan(t *testing.T, id string) *appreg.Plan {
	t.Helper()
	pre, ok := appreg.PresetByID(id)
	if !ok {
		t.Fatalf("no preset %q", id)
	}
	p, err := appreg.NewPlan(pre.ScenarioFor("production", "crm.example.com"))
	if err != nil {
		t.Fatalf("plan %s: %v", id, err)
	}
	return p
}

// TestGolden pins the checklist, manifest, az script and Exchange
// PowerShell of every preset. Run with -update after a deliberate change
// and read the diff.
func TestGolden(t *testing.T) {
	for _, pre := range appreg.Presets() {
		t.Run(pre.ID, func(t *testing.T) {
			p := presetPlan(t, pre.ID)
			outputs := map[string]func(*bytes.Buffer) error{
				"checklist.txt": func(b *bytes.Buffer) error { return p.Checklist(b) },
				"manifest.json": func(b *bytes.Buffer) error { m, _ := p.Manifest(); b.Write(m); return nil },
				"az.sh":         func(b *bytes.Buffer) error { return p.AzScript(b) },
				"monitor-manifest.json": func(b *bytes.Buffer) error {
					if p.Monitor != nil {
						b.Write(p.Monitor.Manifest())
					}
					return nil
				},
				"exchange.ps1": func(b *bytes.Buffer) error {
					return p.ExchangePowerShell(b, appreg.AdminInput{Mailboxes: []string{"anna.devries@contoso.com", "orders@contoso.com"}})
				},
			}
			for name, write := range outputs {
				var got bytes.Buffer
				if err := write(&got); err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				path := filepath.Join("testdata", "golden", pre.ID, name)
				if *update {
					os.MkdirAll(filepath.Dir(path), 0o755)
					if err := os.WriteFile(path, got.Bytes(), 0o644); err != nil {
						t.Fatal(err)
					}
					continue
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("%v (run go test ./appreg -update)", err)
				}
				if !bytes.Equal(got.Bytes(), want) {
					t.Errorf("%s differs from %s; run go test ./appreg -run TestGolden -update and review the diff\n--- got ---\n%s", name, path, got.String())
				}
			}
		})
	}
}
