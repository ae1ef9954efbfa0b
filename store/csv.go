package store

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Column names products use in their user exports, lower case, per field.
// AllSolutions (MGEBRU), Divalto, Flowfact and moveIT exports are Dutch,
// French and German as often as English.
var csvColumns = map[string][]string{
	"key":     {"key", "id", "userkey", "user key", "code", "usercode", "gebruiker", "user", "utilisateur", "benutzer", "kürzel"},
	"name":    {"name", "naam", "displayname", "display name", "full name", "nom", "volledige naam", "anzeigename"},
	"account": {"account", "exchange account", "exchangeaccount", "exchange-account", "upn", "email", "e-mail", "mail", "e-mailadres", "login", "adresse e-mail", "compte"},
}

// RowError is one bad line of an import.
type RowError struct {
	Line int
	Msg  string
}

// ImportError lists every bad line, so a person can fix the file at once.
type ImportError struct{ Rows []RowError }

func (e *ImportError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d bad line(s), nothing imported:", len(e.Rows))
	for i, r := range e.Rows {
		if i == 10 {
			fmt.Fprintf(&b, " (and %d more)", len(e.Rows)-10)
			break
		}
		fmt.Fprintf(&b, " line %d: %s;", r.Line, r.Msg)
	}
	return strings.TrimSuffix(b.String(), ";")
}

// ReadUsersCSV reads a product's user export: ';' or ',' separated (told
// apart by the header line), with or without a UTF-8 byte order mark,
// quoted fields allowed. The header names the columns (see csvColumns);
// account is required, key defaults to the account. Either every row is
// good and all users are returned, or an *ImportError lists the bad ones.
func ReadUsersCSV(r io.Reader) ([]User, error) {
	br := bufio.NewReader(r)
	if bom, err := br.Peek(3); err == nil && bytes.Equal(bom, []byte{0xEF, 0xBB, 0xBF}) {
		br.Discard(3)
	}
	head, err := br.Peek(4096)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, fmt.Errorf("read users: %w", err)
	}
	cr := csv.NewReader(br)
	cr.Comma = sniffComma(head)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	cr.ReuseRecord = true

	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("read users: the file is empty")
	}
	if err != nil {
		return nil, fmt.Errorf("read users: header: %w", err)
	}
	cols, err := mapColumns(header)
	if err != nil {
		return nil, err
	}

	var users []User
	var bad ImportError
	seen := map[string]int{}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				bad.Rows = append(bad.Rows, RowError{Line: pe.Line, Msg: pe.Err.Error()})
				continue
			}
			return nil, fmt.Errorf("read users: %w", err)
		}
		if blank(rec) {
			continue
		}
		line, _ := cr.FieldPos(0)
		u, msg := rowUser(rec, cols)
		if msg == "" {
			if first, dup := seen[strings.ToLower(u.Key)]; dup {
				msg = fmt.Sprintf("user key %q already on line %d", u.Key, first)
			}
		}
		if msg != "" {
			bad.Rows = append(bad.Rows, RowError{Line: line, Msg: msg})
			continue
		}
		seen[strings.ToLower(u.Key)] = line
		users = append(users, u)
	}
	if len(bad.Rows) > 0 {
		return nil, &bad
	}
	return users, nil
}

// sniffComma picks ';' when the header line has more of them than commas,
// as Excel exports in Dutch, French and German locales do.
func sniffComma(head []byte) rune {
	line, _, _ := bytes.Cut(head, []byte("\n"))
	if bytes.Count(line, []byte(";")) > bytes.Count(line, []byte(",")) {
		return ';'
	}
	return ','
}

func mapColumns(header []string) (map[string]int, error) {
	cols := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(h))
		for field, names := range csvColumns {
			for _, n := range names {
				if h == n {
					if _, dup := cols[field]; !dup {
						cols[field] = i
					}
				}
			}
		}
	}
	if _, ok := cols["account"]; !ok {
		return nil, fmt.Errorf("read users: no account column in the header %q: name one of %s", strings.Join(header, ","), strings.Join(csvColumns["account"], ", "))
	}
	return cols, nil
}

func field(rec []string, cols map[string]int, name string) string {
	i, ok := cols[name]
	if !ok || i >= len(rec) {
		return ""
	}
	return strings.TrimSpace(rec[i])
}

// rowUser builds a user from a row, or says what is wrong with it.
func rowUser(rec []string, cols map[string]int) (User, string) {
	u := User{Key: field(rec, cols, "key"), Name: field(rec, cols, "name"), Account: field(rec, cols, "account")}
	switch {
	case !utf8.ValidString(strings.Join(rec, "")):
		return u, "not UTF-8: save the file as UTF-8"
	case u.Account == "":
		return u, "no account"
	case !strings.Contains(u.Account, "@") || strings.ContainsAny(u.Account, " \t<>"):
		return u, fmt.Sprintf("account %q is not an address like name@domain", u.Account)
	}
	if u.Key == "" {
		u.Key = strings.ToLower(u.Account)
	}
	return u, ""
}

func blank(rec []string) bool {
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

// WriteUsersCSV writes users as CSV with a header: key, name, account,
// upn, primary SMTP, mapping and consent status. Nothing secret is in a
// User, so nothing secret can be written.
func WriteUsersCSV(w io.Writer, users []User) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"key", "name", "account", "upn", "primary_smtp", "mapping", "consent"})
	for _, u := range users {
		cw.Write([]string{u.Key, u.Name, u.Account, u.UPN, u.PrimarySMTP, string(u.Mapping), string(u.Consent)})
	}
	cw.Flush()
	return cw.Error()
}
