package store

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"
)

// Column names products use in their user exports, lower case, per field.
// AllSolutions (MGEBRU), Divalto, Flowfact and moveIT exports are Dutch,
// French and German as often as English.
var csvColumns = map[string][]string{
	"key":     {"key", "id", "userkey", "user key", "code", "usercode", "gebruiker", "user", "utilisateur", "benutzer", "kürzel"},
	"name":    {"name", "naam", "displayname", "display name", "full name", "nom", "volledige naam", "anzeigename"},
	"account": {"account", "exchange account", "exchangeaccount", "exchange-account", "upn", "email", "e-mail", "mail", "e-mailadres", "login", "adresse e-mail", "compte"},
	// The product's own sync-id of the user, where its export has one:
	// empty means the product's sync never started for them.
	"syncid": {"sync-id", "syncid", "sync id", "sync_id", "synchronisatie-id", "synchronisatie id", "sync-kenmerk", "identifiant de synchronisation", "sync-kennung", "synckennung"},
}

// Limits of a user's fields: an address has at most 254 characters (RFC
// 5321); a product's user key is a short code.
const (
	maxAccountLen = 254
	maxKeyLen     = 256
)

// ErrNoUsers is returned, as is, for an export with a header and no user
// lines under it.
var ErrNoUsers = errors.New("the file has a header line but no user lines under it: export the users again, or add one line per user")

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

// Warning is something odd about a line of an import that does not stop
// it, such as two product users sharing one mailbox.
type Warning struct {
	Line int
	Msg  string
}

func (w Warning) String() string { return fmt.Sprintf("line %d: %s", w.Line, w.Msg) }

// ReadUsersCSV reads a product's user export as Excel writes it: in
// UTF-8 (with or without a byte order mark), Windows-1252 or UTF-16 with
// a byte order mark; separated by what a first line "sep=;" names, or else
// by ';', ',' or a tab, told apart by the header line; quoted fields
// allowed. The header names the columns (see csvColumns); account is
// required, key defaults to the account. Line numbers are the file's.
//
// Either every line is good and all users are returned, with warnings
// about lines that are odd but may be meant, or an *ImportError lists the
// bad lines. A file without users is ErrNoUsers. Errors quote at most
// about 80 characters of any field.
func ReadUsersCSV(r io.Reader) ([]User, []Warning, error) {
	text, err := readCSVText(r)
	if err != nil {
		return nil, nil, err
	}
	text, comma, err := cutSepLine(text)
	if err != nil {
		return nil, nil, err
	}
	skipped := 0 // lines before the header: the sep= line
	if comma != 0 {
		skipped = 1
	} else {
		comma = sniffComma(text)
	}
	cr := csv.NewReader(strings.NewReader(text))
	cr.Comma = comma
	cr.FieldsPerRecord = -1
	// Allows a space before a quoted field (a; "b"), but would eat empty
	// fields when the separator is white space itself; fields are
	// trimmed later anyway.
	cr.TrimLeadingSpace = !unicode.IsSpace(comma)
	cr.ReuseRecord = true

	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, nil, errors.New("the file is empty: export the users from the product again")
	}
	if err != nil {
		return nil, nil, fmt.Errorf("the header line: %s", parseProblem(err))
	}
	cols, err := mapColumns(header, comma)
	if err != nil {
		return nil, nil, err
	}

	var (
		users    []User
		warnings []Warning
		bad      ImportError
		keys     = map[string]int{}    // lower-case key: line
		accounts = map[string]string{} // lower-case account: key
	)
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			// The line the broken field starts on, not the one the
			// parser gave up on: an open quote runs to the file's end.
			bad.Rows = append(bad.Rows, RowError{Line: pe.StartLine + skipped, Msg: parseProblem(err)})
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		if blank(rec) {
			continue
		}
		line, _ := cr.FieldPos(0)
		line += skipped
		u, msg := rowUser(rec, cols)
		if msg == "" {
			if first, dup := keys[strings.ToLower(u.Key)]; dup {
				msg = fmt.Sprintf("user key %s already on line %d: give each user their own key", quoted(u.Key), first)
			}
		}
		if msg != "" {
			bad.Rows = append(bad.Rows, RowError{Line: line, Msg: msg})
			continue
		}
		if other, dup := accounts[strings.ToLower(u.Account)]; dup {
			warnings = append(warnings, Warning{Line: line, Msg: fmt.Sprintf(
				"user %s has the account %s of user %s (line %d): both use one mailbox; correct the account in the product unless that is meant",
				quoted(u.Key), quoted(u.Account), quoted(other), keys[strings.ToLower(other)])})
		} else {
			accounts[strings.ToLower(u.Account)] = u.Key
		}
		keys[strings.ToLower(u.Key)] = line
		users = append(users, u)
	}
	switch {
	case len(bad.Rows) > 0:
		return nil, nil, &bad
	case len(users) == 0:
		return nil, nil, ErrNoUsers
	}
	return users, warnings, nil
}

// parseProblem says what is wrong with a line the csv reader refused and
// how to fix it.
func parseProblem(err error) string {
	switch {
	case errors.Is(err, csv.ErrQuote):
		return `a quoted field is not closed where it should be: close it with " right before the separator or the line end, and write every " inside it as ""`
	case errors.Is(err, csv.ErrBareQuote):
		return `a " in a field that does not start with one: put the whole field in quotes and write every " inside it as ""`
	}
	return err.Error()
}

func mapColumns(header []string, comma rune) (map[string]int, error) {
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
		return nil, fmt.Errorf("no account column in the header %s: name one of %s", quoted(strings.Join(header, string(comma))), strings.Join(csvColumns["account"], ", "))
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

// rowUser builds a user from a row, or says what is wrong with it. A line
// break in a name (Alt+Enter in an Excel cell) becomes a space.
func rowUser(rec []string, cols map[string]int) (User, string) {
	u := User{Key: field(rec, cols, "key"), Name: strings.Join(strings.Fields(field(rec, cols, "name")), " "), Account: field(rec, cols, "account")}
	if _, ok := cols["syncid"]; ok {
		u.ProductSyncID, u.SyncIDImported = field(rec, cols, "syncid"), true
	}
	switch {
	case u.Account == "":
		return u, "no account: fill in the user's Exchange address"
	case len(u.Account) > maxAccountLen:
		return u, fmt.Sprintf("account %s is longer than %d characters, which no address is", quoted(u.Account), maxAccountLen)
	case !strings.Contains(u.Account, "@") || strings.ContainsFunc(u.Account, notInAddress):
		return u, fmt.Sprintf("account %s is not an address like name@domain: correct it in the file", quoted(u.Account))
	case len(u.Key) > maxKeyLen:
		return u, fmt.Sprintf("user key %s is longer than %d characters: is the key column the right one?", quoted(u.Key), maxKeyLen)
	case strings.ContainsFunc(u.Key, unicode.IsControl):
		return u, fmt.Sprintf("user key %s has a line break or control character: remove it", quoted(u.Key))
	}
	if u.Key == "" {
		u.Key = strings.ToLower(u.Account)
	}
	return u, ""
}

// notInAddress reports whether r cannot be in an Exchange account.
func notInAddress(r rune) bool {
	return unicode.IsSpace(r) || unicode.IsControl(r) || r == '<' || r == '>'
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

// MergeUsers folds an import into a profile's users, matching the
// product's keys in any case, as products treat them: a user already
// there keeps its resolution and sign-in unless the import changes the
// account, which then must be resolved again; a new name replaces the old
// one, an empty one does not. It returns the users to store.
func MergeUsers(existing, in []User) (changed []User, added, updated int) {
	byKey := map[string]User{}
	for _, u := range existing {
		byKey[strings.ToLower(u.Key)] = u
	}
	for _, u := range in {
		old, ok := byKey[strings.ToLower(u.Key)]
		if !ok {
			changed = append(changed, u)
			added++
			continue
		}
		nu := old
		if u.Name != "" {
			nu.Name = u.Name
		}
		if !strings.EqualFold(old.Account, u.Account) {
			nu.UPN, nu.PrimarySMTP, nu.ObjectID, nu.ResolvedBy, nu.Mapping = "", "", "", "", MappingUnresolved
		}
		nu.Account = u.Account
		if nu != old {
			changed = append(changed, nu)
			updated++
		}
	}
	return changed, added, updated
}
