package store

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestReadUsersCSV(t *testing.T) {
	cases := map[string]string{
		"semicolon with BOM (Excel NL)": "\xEF\xBB\xBFGebruiker;Naam;Exchange account\r\nAV;\"de Vries; Anna\";anna.devries@contoso.com\r\nBJ;Bram Janssen;bram.janssen@contoso.com\r\n",
		"comma, quoted, blank line":     "key,name,email\nAV,\"de Vries, Anna\",anna.devries@contoso.com\n\nBJ,Bram Janssen,bram.janssen@contoso.com\n",
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			users, err := ReadUsersCSV(strings.NewReader(in))
			if err != nil {
				t.Fatal(err)
			}
			if len(users) != 2 || users[0].Key != "AV" || !strings.HasPrefix(users[0].Name, "de Vries") || users[1].Account != "bram.janssen@contoso.com" {
				t.Errorf("%+v", users)
			}
		})
	}
}

func TestReadUsersCSVReportsEveryBadLine(t *testing.T) {
	in := "key;account\nAV;anna.devries@contoso.com\nX1;not-an-address\nX2;\nAV;other@contoso.com\nBJ;\"unterminated\n"
	users, err := ReadUsersCSV(strings.NewReader(in))
	var ie *ImportError
	if !errors.As(err, &ie) || users != nil {
		t.Fatalf("users %v err %v", users, err)
	}
	var lines []int
	for _, r := range ie.Rows {
		lines = append(lines, r.Line)
	}
	if len(lines) != 4 || lines[0] != 3 || lines[1] != 4 || lines[2] != 5 || lines[3] != 6 {
		t.Errorf("bad lines %v (%v)", lines, err)
	}
	if !strings.Contains(err.Error(), "line 5: user key \"AV\" already on line 2") {
		t.Errorf("message %q", err)
	}
}

func TestReadUsersCSVNeedsAccountColumn(t *testing.T) {
	if _, err := ReadUsersCSV(strings.NewReader("key;name\nAV;Anna\n")); err == nil || !strings.Contains(err.Error(), "no account column") {
		t.Errorf("err %v", err)
	}
	if _, err := ReadUsersCSV(strings.NewReader("")); err == nil {
		t.Error("empty file must fail")
	}
}

func TestWriteUsersCSVRoundTrips(t *testing.T) {
	in := []User{{Key: "AV", Name: "Anna, de Vries", Account: "anna.devries@contoso.com", UPN: "anna.devries@contoso.com", Mapping: MappingOK}}
	var b bytes.Buffer
	if err := WriteUsersCSV(&b, in); err != nil {
		t.Fatal(err)
	}
	out, err := ReadUsersCSV(&b)
	if err != nil || len(out) != 1 || out[0].Name != in[0].Name || out[0].Account != in[0].Account {
		t.Errorf("%+v %v", out, err)
	}
}

func FuzzReadUsersCSV(f *testing.F) {
	f.Add([]byte("\xEF\xBB\xBFGebruiker;Naam;Exchange account\r\nAV;Anna;anna@x.nl\r\n"))
	f.Add([]byte("key,email\n\"a\"\"b\",x@y\n"))
	f.Add([]byte("account\n\"\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		users, err := ReadUsersCSV(bytes.NewReader(data))
		if err != nil && users != nil {
			t.Fatal("users returned with an error: import must be all or nothing")
		}
		for _, u := range users {
			if u.Key == "" || !strings.Contains(u.Account, "@") {
				t.Fatalf("bad user accepted: %+v", u)
			}
		}
	})
}
