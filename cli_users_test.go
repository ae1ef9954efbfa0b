package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestUsersImportResolveExportAndReport(t *testing.T) {
	_, dir, _ := simProfile(t, "role:User.Read.All")
	csv := filepath.Join(dir, "export.csv")
	os.WriteFile(csv, []byte("\xEF\xBB\xBFGebruiker;Naam;Exchange account\r\n"+
		"AV;Anna de Vries;anna.devries@contoso.com\r\n"+
		"BJ;Bram Janssen;bram.janssen@contoso.com\r\n"+
		"CD;Claire Dubois;claire.dubois@contoso.com\r\n"+
		"DW;Dieter Wagner;dieter.wagner@contoso.com\r\n"+
		"ES;Eva Schmidt;eva.schmidt@contoso.com\r\n"+
		"XX;Typo;anna.devris@contoso.com\r\n"), 0o600)
	_, errOut, done := run(t, context.Background(), "users", "import", csv, "--profile", "acme", "--data-dir", dir)
	if err := <-done; err != nil || !strings.Contains(errOut.String(), "imported 6 user(s)") {
		t.Fatalf("import: %v %s", err, errOut)
	}
	out, errOut, done := run(t, context.Background(), "users", "resolve", "--profile", "acme", "--data-dir", dir)
	if err := <-done; err != nil {
		t.Fatalf("resolve: %v %s", err, errOut)
	}
	for _, want := range []string{
		"AV,Anna de Vries,anna.devries@contoso.com,anna.devries@contoso.com,anna.devries@contoso.com,ok",
		"BJ,Bram Janssen,bram.janssen@contoso.com,bjanssen@contoso.onmicrosoft.com,bram.janssen@contoso.com,mismatch",
		"DW,Dieter Wagner,dieter.wagner@contoso.com,dieter.wagner@contoso.com,dieter.wagner@contoso.com,disabled",
		"ES,Eva Schmidt,eva.schmidt@contoso.com,eva.schmidt@contoso.com,,no-mailbox",
		"XX,Typo,anna.devris@contoso.com,,,not-found",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("resolve output lacks %q:\n%s", want, out)
		}
	}
	out, _, done = run(t, context.Background(), "report", "no-sync-id", "--csv", "--profile", "acme", "--data-dir", dir)
	if err := <-done; err != nil || strings.Count(out.String(), "\n") != 7 || !strings.Contains(out.String(), "acme,XX,Typo") {
		t.Errorf("report (%v):\n%s", err, out)
	}
	_, _, done = run(t, context.Background(), "users", "import", filepath.Join(dir, "nope.csv"), "--profile", "acme", "--data-dir", dir)
	if err := <-done; err == nil {
		t.Error("a missing file must fail")
	}
}
