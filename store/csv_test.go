package store

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/encoding/unicode"
)

// readUsers reads a user export given as text.
func readUsers(in string) ([]User, []Warning, error) {
	return ReadUsersCSV(strings.NewReader(in))
}

// mustReadUsers reads a user export that must be good.
func mustReadUsers(t *testing.T, in string) ([]User, []Warning) {
	t.Helper()
	users, warns, err := readUsers(in)
	if err != nil {
		t.Fatalf("ReadUsersCSV: %v", err)
	}
	return users, warns
}

// badLines reads a user export that must fail with an *ImportError and
// returns the lines it names.
func badLines(t *testing.T, in string) ([]int, *ImportError) {
	t.Helper()
	users, _, err := readUsers(in)
	var ie *ImportError
	if !errors.As(err, &ie) || users != nil {
		t.Fatalf("want an *ImportError and no users, got users %v err %v", users, err)
	}
	var lines []int
	for _, r := range ie.Rows {
		lines = append(lines, r.Line)
	}
	return lines, ie
}

func TestReadUsersCSV(t *testing.T) {
	cases := map[string]string{
		"semicolon with BOM (Excel NL)": "\xEF\xBB\xBFGebruiker;Naam;Exchange account\r\nAV;\"de Vries; Anna\";anna.devries@contoso.com\r\nBJ;Bram Janssen;bram.janssen@contoso.com\r\n",
		"comma, quoted, blank line":     "key,name,email\nAV,\"de Vries, Anna\",anna.devries@contoso.com\n\nBJ,Bram Janssen,bram.janssen@contoso.com\n",
		"commas in a quoted header":     "key;name;account;\"notes, free, text, here, too\"\nAV;de Vries, Anna;anna.devries@contoso.com;x\nBJ;Bram Janssen;bram.janssen@contoso.com;\n",
		"tab separated, empty cell":     "key\tname\taccount\r\nAV\t\"de Vries, Anna\"\tanna.devries@contoso.com\r\nBJ\t\tbram.janssen@contoso.com\r\n",
		"old Mac Excel: CR line ends":   "key;name;account\rAV;de Vries, Anna;anna.devries@contoso.com\rBJ;;bram.janssen@contoso.com\r",
	}
	readsAnnaAndBram(t, cases)
}

// readsAnnaAndBram checks that each case reads as two users, AV (de Vries,
// Anna) and BJ (bram.janssen@contoso.com), without warnings.
func readsAnnaAndBram(t *testing.T, cases map[string]string) {
	t.Helper()
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			users, warns := mustReadUsers(t, in)
			if len(users) != 2 || users[0].Key != "AV" || !strings.HasPrefix(users[0].Name, "de Vries") || users[1].Key != "BJ" || users[1].Account != "bram.janssen@contoso.com" || len(warns) != 0 {
				t.Errorf("%+v %v", users, warns)
			}
		})
	}
}

// TestReadUsersCSVExcelDutch reads what Excel writes in a Dutch locale
// when told to add a sep= line and save as "CSV (gescheiden door
// lijstscheidingstekens)": Windows-1252, CRLF, empty trailing columns and
// lines, a cell with a line break and one with the separator in it.
func TestReadUsersCSVExcelDutch(t *testing.T) {
	in := "sep=;\r\n" +
		"Gebruiker;Naam;E-mailadres;;\r\n" +
		"MU;M\xfcller, J\xfcrgen;juergen.mueller@contoso.com;;\r\n" +
		"FD;\"Fran\xe7oise\r\nDubois\";francoise.dubois@contoso.com;;\r\n" +
		"AV;\"de Vries; Anna\";anna.devries@contoso.com;;\r\n" +
		";;;;\r\n" +
		";;;;\r\n" +
		"\r\n"
	users, warns := mustReadUsers(t, in)
	want := []User{
		{Key: "MU", Name: "Müller, Jürgen", Account: "juergen.mueller@contoso.com"},
		{Key: "FD", Name: "Françoise Dubois", Account: "francoise.dubois@contoso.com"},
		{Key: "AV", Name: "de Vries; Anna", Account: "anna.devries@contoso.com"},
	}
	if len(users) != len(want) || len(warns) != 0 {
		t.Fatalf("users %+v warnings %v", users, warns)
	}
	for i := range want {
		if users[i] != want[i] {
			t.Errorf("user %d: got %+v, want %+v", i, users[i], want[i])
		}
	}
}

func TestReadUsersCSVSepLine(t *testing.T) {
	readsAnnaAndBram(t, map[string]string{
		"semicolon":                     "sep=;\r\nkey;name;account\r\nAV;de Vries, Anna;anna.devries@contoso.com\r\nBJ;;bram.janssen@contoso.com\r\n",
		"comma though the header has ;": "sep=,\nkey,name,account,notes;a;b;c;d\nAV,\"de Vries, Anna\",anna.devries@contoso.com,x\nBJ,,bram.janssen@contoso.com\n",
		"after a UTF-8 BOM":             "\xEF\xBB\xBFsep=;\r\nkey;name;account\r\nAV;de Vries, Anna;anna.devries@contoso.com\r\nBJ;;bram.janssen@contoso.com\r\n",
		"tab":                           "sep=\t\nkey\tname\taccount\nAV\tde Vries, Anna\tanna.devries@contoso.com\nBJ\t\tbram.janssen@contoso.com\n",
		"pipe":                          "SEP=|\nkey|name|account\nAV|de Vries, Anna|anna.devries@contoso.com\nBJ||bram.janssen@contoso.com\n",
		"padded by a spreadsheet":       "sep=;;;\nkey;name;account\nAV;de Vries, Anna;anna.devries@contoso.com\nBJ;;bram.janssen@contoso.com\n",
	})
	// Lines are counted in the file, sep= line included.
	lines, _ := badLines(t, "sep=;\nkey;account\nAV;anna.devries@contoso.com\nBJ;bram\n")
	if len(lines) != 1 || lines[0] != 4 {
		t.Errorf("bad lines %v, want [4]", lines)
	}
	for _, in := range []string{"sep=\nkey;account\n", "sep=;,\nkey;account\nAV;a@b\n", "sep=\"\nkey\"account\n"} {
		if _, _, err := readUsers(in); err == nil || !strings.Contains(err.Error(), "sep=;") {
			t.Errorf("%q: err %v, want one that shows how to write the sep= line", in, err)
		}
	}
}

func TestReadUsersCSVDecodesWindows1252(t *testing.T) {
	for name, in := range map[string]string{
		"windows-1252": "key;name;account\nMU;M\xfcller;mueller@contoso.com\nFD;Fran\xe7oise \x80 \x93Dubois\x94;francoise@contoso.com\n",
		"utf-8":        "key;name;account\nMU;Müller;mueller@contoso.com\nFD;Françoise € “Dubois”;francoise@contoso.com\n",
		"utf-8 BOM":    "\xEF\xBB\xBFkey;name;account\nMU;Müller;mueller@contoso.com\nFD;Françoise € “Dubois”;francoise@contoso.com\n",
	} {
		t.Run(name, func(t *testing.T) {
			users, _ := mustReadUsers(t, in)
			if len(users) != 2 || users[0].Name != "Müller" || users[1].Name != "Françoise € “Dubois”" {
				t.Errorf("%+v", users)
			}
		})
	}
}

// TestReadUsersCSVDecodesUTF16 reads Excel's "Unicode text" export:
// UTF-16 with a byte order mark, tab separated.
func TestReadUsersCSVDecodesUTF16(t *testing.T) {
	text := "Gebruiker\tNaam\tE-mailadres\r\nMU\tMüller\tmueller@contoso.com\r\nFD\t\tfrancoise@contoso.com\r\n"
	for name, e := range map[string]unicode.Endianness{"little endian": unicode.LittleEndian, "big endian": unicode.BigEndian} {
		t.Run(name, func(t *testing.T) {
			in, err := unicode.UTF16(e, unicode.UseBOM).NewEncoder().String(text)
			if err != nil {
				t.Fatal(err)
			}
			users, _ := mustReadUsers(t, in)
			if len(users) != 2 || users[0].Name != "Müller" || users[1].Key != "FD" || users[1].Account != "francoise@contoso.com" {
				t.Errorf("%+v", users)
			}
		})
	}
	// Without a byte order mark UTF-16 is not told from text with NUL
	// bytes: say how to save the file instead of naming no account column.
	in, _ := unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM).NewEncoder().String(text)
	if _, _, err := readUsers(in); err == nil || !strings.Contains(err.Error(), "CSV UTF-8") {
		t.Errorf("UTF-16 without BOM: err %v", err)
	}
}

func TestReadUsersCSVReportsEveryBadLine(t *testing.T) {
	lines, ie := badLines(t, "key;account\nAV;anna.devries@contoso.com\nX1;not-an-address\nX2;\nAV;other@contoso.com\nBJ;\"unterminated\n")
	if len(lines) != 4 || lines[0] != 3 || lines[1] != 4 || lines[2] != 5 || lines[3] != 6 {
		t.Errorf("bad lines %v (%v)", lines, ie)
	}
	if !strings.Contains(ie.Error(), "line 5: user key \"AV\" already on line 2") {
		t.Errorf("message %q", ie)
	}
}

// TestReadUsersCSVBrokenQuoteLine: a quote that does not close swallows
// the lines after it; the line to fix is the one where the field starts.
func TestReadUsersCSVBrokenQuoteLine(t *testing.T) {
	cases := map[string]struct {
		in   string
		line int
	}{
		"never closed":         {"key;name;account\r\nAV;Anna;anna@contoso.com\r\nBJ;\"Bram;bram@contoso.com\r\nCD;Claire;claire@contoso.com\r\nDW;Dieter;dieter@contoso.com\r\n", 3},
		"text after the close": {"key;name;account\nAV;Anna;anna@contoso.com\nBJ;\"Bram\nJanssen\" jr;bram@contoso.com\nCD;Claire;claire@contoso.com\n", 3},
		"after a sep= line":    {"sep=;\nkey;name;account\nBJ;\"Bram;bram@contoso.com\nCD;Claire;claire@contoso.com\n", 3},
		"after a quoted break": {"key;name;account\nAV;\"Anna\nde Vries\";anna@contoso.com\nBJ;\"Bram;bram@contoso.com\nCD;Claire;claire@contoso.com\n", 4},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			lines, ie := badLines(t, c.in)
			if len(lines) != 1 || lines[0] != c.line {
				t.Fatalf("bad lines %v, want [%d] (%v)", lines, c.line, ie)
			}
			if msg := ie.Rows[0].Msg; !strings.Contains(msg, `"`) || !strings.Contains(msg, "close") {
				t.Errorf("message %q does not say how to close the quote", msg)
			}
		})
	}
}

// TestReadUsersCSVQuotesLittle: an error quotes at most about 80
// characters of any header or field, and a workbook is named as one.
func TestReadUsersCSVQuotesLittle(t *testing.T) {
	long := strings.Repeat("x", 300_000)
	for name, c := range map[string]struct {
		in   string
		want string
	}{
		"xlsx":                 {"PK\x03\x04\x14\x00\x06\x00" + long, "Excel workbook"},
		"xls":                  {"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1" + long, "Excel 97-2003 workbook"},
		"long header":          {"key;name;" + long + "\nAV;Anna;anna@contoso.com\n", "no account column"},
		"long account":         {"key;account\nAV;" + long + "\n", "longer than 254"},
		"long key":             {"key;account\n" + long + ";anna@contoso.com\n", "user key"},
		"long account of 255":  {"key;account\nAV;" + strings.Repeat("a", 250) + "@contoso.com\n", "longer than"},
		"many long bad lines":  {"key;account\n" + strings.Repeat("AV;"+strings.Repeat("y", 5000)+"\n", 50), "and 40 more"},
		"long same account":    {"key;account\nAV;" + strings.Repeat("a", 200) + "@b\nBJ;" + strings.Repeat("a", 200) + "@b\nX;" + strings.Repeat("a", 200) + " @b\n", "not an address"},
		"long unclosed quote":  {"key;account\nAV;\"" + long + "\n", "close"},
		"long header, bad one": {"key;\"" + long + "\n", "header"},
	} {
		t.Run(name, func(t *testing.T) {
			_, _, err := readUsers(c.in)
			if err == nil || !strings.Contains(err.Error(), c.want) || len(err.Error()) > 2000 {
				t.Errorf("err (%d bytes) %.3000v, want under 2000 bytes and %q", len(fmtErr(err)), err, c.want)
			}
		})
	}
	if _, _, err := readUsers("PK\x03\x04"); err == nil || !strings.Contains(err.Error(), "CSV UTF-8") {
		t.Errorf("a workbook must say how to save it as CSV: %v", err)
	}
}

func fmtErr(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestReadUsersCSVNoUsers(t *testing.T) {
	for name, in := range map[string]string{
		"header only":          "Gebruiker;Naam;E-mailadres\r\n",
		"header, empty rows":   "sep=;\r\nGebruiker;Naam;E-mailadres;;\r\n;;;;\r\n\r\n",
		"header without break": "key,account",
	} {
		t.Run(name, func(t *testing.T) {
			users, _, err := readUsers(in)
			if !errors.Is(err, ErrNoUsers) || users != nil {
				t.Errorf("users %v err %v, want ErrNoUsers", users, err)
			}
		})
	}
}

func TestReadUsersCSVNeedsAccountColumn(t *testing.T) {
	if _, _, err := readUsers("key;name\nAV;Anna\n"); err == nil || !strings.Contains(err.Error(), "no account column") {
		t.Errorf("err %v", err)
	}
	for _, in := range []string{"", "\xEF\xBB\xBF", "sep=;\r\n"} {
		if _, _, err := readUsers(in); err == nil || errors.Is(err, ErrNoUsers) {
			t.Errorf("%q: err %v, want one that says the file is empty", in, err)
		}
	}
}

// TestReadUsersCSVWarnsSameAccount: two product users on one mailbox may
// be meant (a shared login), so it is a warning, not a bad line.
func TestReadUsersCSVWarnsSameAccount(t *testing.T) {
	users, warns := mustReadUsers(t, "key;name;account\nAV;Anna;anna.devries@contoso.com\nBJ;Bram;bram@contoso.com\nAV2;Anna (2);Anna.DeVries@contoso.com\n")
	if len(users) != 3 {
		t.Fatalf("users %+v", users)
	}
	if len(warns) != 1 || warns[0].Line != 4 {
		t.Fatalf("warnings %v, want one on line 4", warns)
	}
	for _, want := range []string{"AV2", `"AV"`, "line 2", "Anna.DeVries@contoso.com"} {
		if !strings.Contains(warns[0].String(), want) {
			t.Errorf("warning %q lacks %q", warns[0], want)
		}
	}
}

func TestWriteUsersCSVRoundTrips(t *testing.T) {
	in := []User{{Key: "AV", Name: "Anna, de Vries", Account: "anna.devries@contoso.com", UPN: "anna.devries@contoso.com", Mapping: MappingOK}}
	var b bytes.Buffer
	if err := WriteUsersCSV(&b, in); err != nil {
		t.Fatal(err)
	}
	out, _, err := readUsers(b.String())
	if err != nil || len(out) != 1 || out[0].Name != in[0].Name || out[0].Account != in[0].Account {
		t.Errorf("%+v %v", out, err)
	}
}

// maxErrLen bounds an import error: ten bad lines, each quoting at most
// about 80 characters of two values.
const maxErrLen = 4096

func FuzzReadUsersCSV(f *testing.F) {
	for _, seed := range []string{
		"\xEF\xBB\xBFGebruiker;Naam;Exchange account\r\nAV;Anna;anna@x.nl\r\n",
		"key,email\n\"a\"\"b\",x@y\n",
		"account\n\"\n",
		"sep=;\r\nGebruiker;Naam;E-mailadres;;\r\nMU;M\xfcller;mu@x.de;;\r\nFD;Fran\xe7oise;fd@x.fr;;\r\n;;;;\r\n\r\n",
		"\xEF\xBB\xBFsep=,\nkey,account\nAV,a@x\n",
		"sep=\t\nkey\tname\taccount\nAV\t\ta@x\n",
		"sep=|\nkey|account\nAV|a@x\n",
		"sep=;;\nkey;account\nAV;a@x\n",
		"sep=\nkey;account\n",
		"\xFF\xFEk\x00e\x00y\x00\t\x00a\x00c\x00c\x00o\x00u\x00n\x00t\x00\r\x00\n\x00A\x00\t\x00a\x00@\x00x\x00\r\x00\n\x00",
		"\xFE\xFF\x00k\x00\t\x00m\x00a\x00i\x00l\x00\n\x00A\x00\t\x00a\x00@\x00x",
		"key;name;account\nAV;\"Anna;a@x\nBJ;Bram;b@x\n",
		"key;name;account\nAV;An\"na;a@x\n",
		"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00[Content_Types].xml",
		"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1\x00\x00",
		"Gebruiker;Naam;E-mailadres\r\n",
		"key;account\nAV;a@x\nBJ;A@X\n",
		"key;account\rAV;a@x\rBJ;b@x\r",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		users, warns, err := readUsers(string(data))
		if err != nil {
			if users != nil || warns != nil {
				t.Fatal("users or warnings returned with an error: import must be all or nothing")
			}
			if msg := err.Error(); len(msg) > maxErrLen || !utf8.ValidString(msg) {
				t.Fatalf("error of %d bytes (max %d) or not UTF-8: %.300q", len(msg), maxErrLen, msg)
			}
			var ie *ImportError
			if errors.As(err, &ie) {
				if len(ie.Rows) == 0 {
					t.Fatal("an ImportError without rows")
				}
				for i, r := range ie.Rows {
					if r.Line < 1 || (i > 0 && r.Line < ie.Rows[i-1].Line) || r.Msg == "" {
						t.Fatalf("bad rows out of order or unnamed: %v", ie.Rows)
					}
				}
			}
			return
		}
		if len(users) == 0 {
			t.Fatal("no error and no users: a file without users must be refused")
		}
		keys := map[string]bool{}
		for _, u := range users {
			if u.Key == "" || u.Account == "" || !strings.Contains(u.Account, "@") || strings.ContainsAny(u.Account, " \t\r\n<>") {
				t.Fatalf("bad user accepted: %+v", u)
			}
			if !utf8.ValidString(u.Key + u.Name + u.Account) {
				t.Fatalf("user not UTF-8: %+v", u)
			}
			if strings.ContainsAny(u.Key+u.Name, "\r\n") {
				t.Fatalf("user with a line break: %+v", u)
			}
			if keys[strings.ToLower(u.Key)] {
				t.Fatalf("user key %q twice", u.Key)
			}
			keys[strings.ToLower(u.Key)] = true
		}
		for _, w := range warns {
			if w.Line < 1 || w.Msg == "" || len(w.Msg) > maxErrLen {
				t.Fatalf("bad warning %v", w)
			}
		}
	})
}

// A product export with its own sync-id column: each user keeps it, and an
// empty cell is a user the product never synced; without the column
// nothing is known.
func TestReadUsersCSVProductSyncID(t *testing.T) {
	users, _ := mustReadUsers(t, "Gebruiker;Exchange account;Sync-id\r\nAV;anna.devries@contoso.com;AAMkAGI2\r\nBJ;bjanssen@contoso.com;\r\n")
	if len(users) != 2 || users[0].ProductSyncID != "AAMkAGI2" || !users[0].SyncIDImported || users[1].ProductSyncID != "" || !users[1].SyncIDImported {
		t.Fatalf("users %+v", users)
	}
	users, _ = mustReadUsers(t, "key,account\r\nAV,anna.devries@contoso.com\r\n")
	if users[0].SyncIDImported {
		t.Errorf("no sync-id column, but imported: %+v", users[0])
	}
}
