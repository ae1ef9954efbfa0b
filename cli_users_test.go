package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/modauth/modauth/m365sim"
	"github.com/modauth/modauth/store"
)

func TestUsersImportResolveExportAndReport(t *testing.T) {
	sim, dir, _ := simProfile(t, "role:User.Read.All")
	syncsCalendars(t, sim, dir)
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

// syncsCalendars makes the profile in dir one that keeps sync-ids.
func syncsCalendars(t *testing.T, sim *m365sim.Sim, dir string) {
	t.Helper()
	db := openIn(t, sim, dir)
	defer db.Close()
	p := mustProfile(t, db)
	p.Folders = []string{"calendar"}
	must(t, db.PutProfile(p))
}

// importUsers writes content to a file in the data directory dir and runs
// `users import` on it for the profile acme.
func importUsers(t *testing.T, dir, name, content string) (stderr string, err error) {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	_, errOut, done := run(t, context.Background(), "users", "import", path, "--profile", "acme", "--data-dir", dir)
	err = <-done
	return errOut.String(), err
}

// storedUsers are the users of acme in the data directory dir.
func storedUsers(t *testing.T, dir string) []store.User {
	t.Helper()
	db, err := store.Open(filepath.Join(dir, "modauth.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	users, err := db.Users("acme")
	if err != nil {
		t.Fatal(err)
	}
	return users
}

// TestUsersImportExcelDutch imports what Excel writes in a Dutch locale:
// a sep= line, Windows-1252, CRLF, empty trailing columns and lines, a
// quoted cell with a line break and one with the separator.
func TestUsersImportExcelDutch(t *testing.T) {
	_, dir, _ := simProfile(t)
	errOut, err := importUsers(t, dir, "gebruikers.csv", "sep=;\r\n"+
		"Gebruiker;Naam;E-mailadres;;\r\n"+
		"MU;M\xfcller, J\xfcrgen;juergen.mueller@contoso.com;;\r\n"+
		"FD;\"Fran\xe7oise\r\nDubois\";francoise.dubois@contoso.com;;\r\n"+
		"AV;\"de Vries; Anna\";anna.devries@contoso.com;;\r\n"+
		";;;;\r\n\r\n")
	if err != nil || !strings.Contains(errOut, "imported 3 user(s) into acme") {
		t.Fatalf("import: %v\n%s", err, errOut)
	}
	names := map[string]string{}
	for _, u := range storedUsers(t, dir) {
		names[u.Key] = u.Name
	}
	if len(names) != 3 || names["MU"] != "Müller, Jürgen" || names["FD"] != "Françoise Dubois" || names["AV"] != "de Vries; Anna" {
		t.Errorf("stored names %q", names)
	}
}

func TestUsersImportHeaderOnlyFails(t *testing.T) {
	_, dir, _ := simProfile(t)
	errOut, err := importUsers(t, dir, "leeg.csv", "Gebruiker;Naam;E-mailadres;;\r\n;;;;\r\n\r\n")
	if err == nil || exitCode(err) != 1 || !strings.Contains(err.Error(), "no users in ") || !strings.Contains(err.Error(), "leeg.csv") {
		t.Fatalf("err %v (exit %d), want exit 1 and no users in …leeg.csv", err, exitCode(err))
	}
	if strings.Contains(errOut, "imported") {
		t.Errorf("stderr %q", errOut)
	}
}

// TestUsersImportWarnsSameAccount: two keys on one account are imported,
// and named on stderr.
func TestUsersImportWarnsSameAccount(t *testing.T) {
	_, dir, _ := simProfile(t)
	errOut, err := importUsers(t, dir, "shared.csv", "key;name;account\nAV;Anna;anna.devries@contoso.com\nAV2;Anna (balie);Anna.DeVries@contoso.com\n")
	if err != nil || !strings.Contains(errOut, "imported 2 user(s)") {
		t.Fatalf("import: %v\n%s", err, errOut)
	}
	if !strings.Contains(errOut, "shared.csv:3: warning: ") || !strings.Contains(errOut, `"AV2"`) || !strings.Contains(errOut, `"AV" (line 2)`) {
		t.Errorf("no warning about the shared account on stderr:\n%s", errOut)
	}
	if n := len(storedUsers(t, dir)); n != 2 {
		t.Errorf("%d users stored", n)
	}
}

// TestUsersImportBadLineStoresNothing: a file with bad lines changes no
// user, adds none, and every bad line is listed, not only the first ten.
func TestUsersImportBadLineStoresNothing(t *testing.T) {
	_, dir, _ := simProfile(t)
	if errOut, err := importUsers(t, dir, "first.csv", "key;name;account\nAV;Anna;anna.devries@contoso.com\nBJ;Bram;bram.janssen@contoso.com\n"); err != nil {
		t.Fatalf("first import: %v\n%s", err, errOut)
	}
	before := storedUsers(t, dir)

	in := "key;name;account\nAV;Anna de Vries;anna.devries@contoso.com\nBJ;Bram;bram@contoso.com\nCD;Claire;claire.dubois@contoso.com\n"
	for i := range 12 {
		in += fmt.Sprintf("X%d;Typo;x%d.contoso.com\n", i, i)
	}
	errOut, err := importUsers(t, dir, "second.csv", in)
	if err == nil || exitCode(err) != 1 || !strings.Contains(err.Error(), "12 bad line(s)") || !strings.Contains(err.Error(), "nothing imported") {
		t.Fatalf("err %v", err)
	}
	for line := 5; line <= 16; line++ {
		if !strings.Contains(errOut, fmt.Sprintf("second.csv:%d: account ", line)) {
			t.Errorf("bad line %d not listed:\n%s", line, errOut)
		}
	}
	if after := storedUsers(t, dir); !reflect.DeepEqual(before, after) {
		t.Errorf("the store changed:\nbefore %+v\nafter  %+v", before, after)
	}
}

// TestUsersImportWorkbook: a workbook fed in as is is named, briefly,
// with how to save it as CSV.
func TestUsersImportWorkbook(t *testing.T) {
	_, dir, _ := simProfile(t)
	errOut, err := importUsers(t, dir, "users.xlsx", "PK\x03\x04\x14\x00\x06\x00\x08\x00"+strings.Repeat("\x00\x9c\xfe[Content_Types].xml", 20_000))
	if err == nil || !strings.Contains(err.Error(), "Excel workbook") || !strings.Contains(err.Error(), "CSV UTF-8") || len(err.Error())+len(errOut) > 400 {
		t.Fatalf("err (%d bytes) %.500v\nstderr %.500s", len(err.Error()), err, errOut)
	}
}

// A re-import matches keys in any case, as the interface does, and keeps
// what is known of a user whose account did not change.
func TestUsersImportMergesKeysInAnyCase(t *testing.T) {
	_, dir, _ := simProfile(t)
	if _, err := importUsers(t, dir, "a.csv", "key;name;account\nAV;Anna;anna.devries@contoso.com\n"); err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(filepath.Join(dir, "modauth.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p := mustProfile(t, db)
	u, _ := db.User(p.ID, "AV")
	u.UPN, u.Mapping = "anna.devries@contoso.com", store.MappingOK
	if err := db.PutUsers(p.ID, u); err != nil {
		t.Fatal(err)
	}
	db.Close()

	errOut, err := importUsers(t, dir, "b.csv", "key;name;account\nav;Anna de Vries;Anna.DeVries@contoso.com\n")
	if err != nil || !strings.Contains(errOut, "0 new, 1 updated") {
		t.Fatalf("err %v, stderr %q", err, errOut)
	}
	users := storedUsers(t, dir)
	if len(users) != 1 || users[0].Key != "AV" || users[0].Name != "Anna de Vries" || users[0].Mapping != store.MappingOK {
		t.Fatalf("stored %+v", users)
	}
}

// TestReportJoinsTheProductsViews: the report says per user which of the
// three is wrong: the product's export (no sync-id), modauth's own check
// (nothing synced), or the product's own sign-in (failing, with its code).
func TestReportJoinsTheProductsViews(t *testing.T) {
	sim, dir, _ := simProfile(t, "role:User.Read.All")
	if _, err := importUsers(t, dir, "export.csv", "Gebruiker;Exchange account;Sync-id\r\n"+
		"AV;anna.devries@contoso.com;AAMkAGI2\r\n"+
		"BJ;bram.janssen@contoso.com;\r\n"+
		"CD;claire.dubois@contoso.com;AAMkAGI3\r\n"); err != nil {
		t.Fatal(err)
	}
	db := openIn(t, sim, dir)
	p := mustProfile(t, db)
	p.Monitor = &store.MonitorApp{ClientID: "monitor"}
	p.Model, p.Folders = store.Delegated, []string{"calendar"} // users sign in to the product, which syncs
	must(t, db.PutProfile(p))
	now := sim.Clock.Now()
	must(t, db.PutJobs("acme", map[string]store.Job{"AV": {State: store.StateOK}, "BJ": {State: store.StateOK}, "CD": {State: store.StateOK}}))
	must(t, db.PutItems("acme", "AV", "calendar", store.Item{ID: "1", ChangeKey: "a"}))
	must(t, db.PutItems("acme", "BJ", "calendar", store.Item{ID: "2", ChangeKey: "b"}))
	must(t, db.PutItems("acme", "CD", "calendar", store.Item{ID: "3", ChangeKey: "c"}))
	failing := store.ProductSignIns{LastOK: now.Add(-time.Hour), LastFailure: &store.LastError{Code: 50173, Message: "revoked", Fix: "sign in again", At: now}}
	must(t, db.RecordSignIns("acme", store.SignInLog{ReadAt: now}, map[string]store.ProductSignIns{"AV": {LastOK: now}, "CD": failing}))
	db.Close()

	out, _, done := run(t, context.Background(), "report", "no-sync-id", "--json", "--profile", "acme", "--data-dir", dir)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	var rows []noSyncRow
	if err := json.Unmarshal([]byte(out.String()), &rows); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	got := map[string]noSyncRow{}
	for _, r := range rows {
		got[r.Key] = r
	}
	if _, ok := got["AV"]; ok || len(rows) != 2 {
		t.Errorf("rows %+v: want BJ and CD only", rows)
	}
	if r := got["BJ"]; !reflect.DeepEqual(r.Wrong, []string{"product export"}) || r.ProductSignIn != "none seen" {
		t.Errorf("BJ: %+v", r)
	}
	if r := got["CD"]; !reflect.DeepEqual(r.Wrong, []string{"product sign-in"}) || r.ProductSignIn != "failing: AADSTS50173" || r.Fix != "sign in again" {
		t.Errorf("CD: %+v", r)
	}
}

// The product's own app may not read the directory; with a monitoring
// app, `users resolve` reads it with that app's User.Read.All instead.
func TestUsersResolveThroughTheMonitoringApp(t *testing.T) {
	sim, dir, _ := simProfile(t, "role:Mail.Send")
	if _, err := importUsers(t, dir, "export.csv", "key,account\r\nAV,anna.devries@contoso.com\r\n"); err != nil {
		t.Fatal(err)
	}
	_, _, done := runOn(sim.Clock.Now, context.Background(), "users", "resolve", "--profile", "acme", "--data-dir", dir)
	if err := <-done; err == nil || !strings.Contains(err.Error(), "User.Read.All") {
		t.Fatalf("without a monitoring app: %v, want the missing right named", err)
	}
	addMonitor(t, sim, dir)
	out, errOut, done := runOn(sim.Clock.Now, context.Background(), "users", "resolve", "--profile", "acme", "--data-dir", dir)
	if err := <-done; err != nil || !strings.Contains(out.String(), "AV,,anna.devries@contoso.com,anna.devries@contoso.com") {
		t.Fatalf("with the monitoring app: %v\n%s%s", err, out, errOut)
	}
}
