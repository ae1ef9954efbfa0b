// The users step's changes to the list: a product's CSV export imported,
// a user added, an account corrected, a user removed.

package users

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	tea "charm.land/bubbletea/v2"
	"charm.land/huh/v2"
	"github.com/modauth/modauth/store"
	"github.com/modauth/modauth/tui/common"
)

// open shows the form of a mode, filled from the values.
func (s *Step) open(c *common.Context, mode usersMode) {
	var fields []huh.Field
	switch mode {
	case usersImport:
		fields = append(fields, huh.NewInput().Title("CSV file").Value(&s.v.path).
			Description("The product's user export, e.g. ~/mgebru.csv: ';' or ',' separated, with a header.").
			Validate(common.Required("the path of the CSV file")))
	case usersAdd:
		fields = append(fields,
			huh.NewInput().Title("User key").Value(&s.v.key).
				Description("The product's own key for the user, e.g. ADV. Empty: the account.").Validate(s.newKey),
			huh.NewInput().Title("Name").Value(&s.v.name).Description("As the product shows it (may stay empty)."),
			huh.NewInput().Title("Exchange account").Value(&s.v.account).
				Description("The address entered in the product, e.g. anna@contoso.com.").
				Validate(func(v string) error {
					if err := usersValidAccount(v); err != nil {
						return err
					}
					if strings.TrimSpace(s.v.key) == "" { // the account is the key
						return s.newKey(strings.ToLower(strings.TrimSpace(v)))
					}
					return nil
				}))
	case usersEdit:
		fields = append(fields, huh.NewInput().Title("Exchange account").Value(&s.v.account).
			Description("Correct it in the product too, or the next import brings the old one back.").Validate(usersValidAccount))
	}
	s.mode, s.form = mode, common.NewForm(c, fields...)
	s.SetSize(c)
}

// newKey refuses a user key the profile has already.
func (s *Step) newKey(k string) error {
	for _, o := range s.users {
		if k != "" && strings.EqualFold(o.Key, strings.TrimSpace(k)) {
			return fmt.Errorf("%s is already a user: change its account with e in the list", o.Key)
		}
	}
	return nil
}

// submit acts on a completed form.
func (s *Step) submit(c *common.Context) tea.Cmd {
	if c.DB == nil || c.Profile.ID == "" {
		s.mode, s.form = usersList, nil
		return common.ErrCmd(errors.New("no profile to keep users in: go back to step 1"))
	}
	switch s.mode {
	case usersImport:
		s.loading = true
		return usersImportCmd(c.DB, c.Profile.ID, usersPath(strings.TrimSpace(s.v.path)))
	case usersAdd:
		u := store.User{Key: strings.TrimSpace(s.v.key), Name: strings.TrimSpace(s.v.name), Account: strings.TrimSpace(s.v.account)}
		if u.Key == "" {
			u.Key = strings.ToLower(u.Account)
		}
		if err := c.DB.PutUsers(c.Profile.ID, u); err != nil {
			return common.ErrCmd(fmt.Errorf("add user: %w", err))
		}
		s.mode, s.form = usersList, nil
		cmd := s.load(c)
		s.selectKey(u.Key)
		s.setNote("ok", fmt.Sprintf("Added %s. Press r to resolve it.", u.Key))
		return cmd
	case usersEdit:
		u, ok := s.selected()
		account := strings.TrimSpace(s.v.account)
		s.mode, s.form = usersList, nil
		if !ok || account == u.Account {
			return nil
		}
		u.Account = account
		u.UPN, u.PrimarySMTP, u.ObjectID, u.ResolvedBy, u.Mapping = "", "", "", "", store.MappingUnresolved
		if err := c.DB.PutUsers(c.Profile.ID, u); err != nil {
			return common.ErrCmd(fmt.Errorf("change account of %s: %w", u.Key, err))
		}
		cmd := s.load(c)
		s.selectKey(u.Key)
		s.setNote("ok", fmt.Sprintf("%s is now %s. Press r to resolve it.", u.Key, account))
		return cmd
	}
	return nil
}

// confirm answers the question whether to remove the selected user.
// remove deletes a user, once the question was answered yes.
func (s *Step) remove(c *common.Context, key string) tea.Cmd {
	s.selectKey(key)
	u, ok := s.selected()
	if !ok || u.Key != key {
		return nil
	}
	if err := c.DB.DeleteUser(c.Profile.ID, u.Key); err != nil {
		return common.ErrCmd(fmt.Errorf("remove %s: %w", u.Key, err))
	}
	cmd := s.load(c)
	s.setNote("ok", fmt.Sprintf("Removed %s (%s) from %s.", u.Key, u.Account, c.Profile.ID))
	return cmd
}

func (s *Step) selectKey(k string) {
	for i, u := range s.users {
		if u.Key == k {
			s.win.Cursor = i
		}
	}
}

// usersValidAccount checks an account as the CSV import does.
func usersValidAccount(v string) error {
	v = strings.TrimSpace(v)
	switch {
	case v == "":
		return errors.New("enter the Exchange account, like anna@contoso.com")
	case !strings.Contains(v, "@") || strings.ContainsAny(v, " \t<>"):
		return fmt.Errorf("%q is not an address like name@domain", v)
	}
	return nil
}

// usersPath cleans a typed or pasted path: quotes a file manager added,
// and ~ for the home folder.
func usersPath(p string) string {
	p = strings.TrimSpace(p)
	if len(p) >= 2 && (p[0] == '"' || p[0] == '\'') && p[len(p)-1] == p[0] {
		p = p[1 : len(p)-1]
	}
	if rest, ok := strings.CutPrefix(p, "~/"); ok || p == "~" {
		if home, err := os.UserHomeDir(); err == nil {
			p = filepath.Join(home, rest)
		}
	}
	return p
}

// usersImportCmd reads a CSV file and merges its users into the
// profile's: all or nothing.
func usersImportCmd(db *store.DB, profileID, path string) tea.Cmd {
	return func() tea.Msg {
		msg := usersImportedMsg{file: path}
		f, err := os.Open(path)
		if err != nil {
			msg.err = err
			return msg
		}
		defer f.Close()
		in, warnings, err := store.ReadUsersCSV(f)
		if err != nil {
			msg.err = err
			return msg
		}
		msg.warnings = warnings
		existing, err := db.Users(profileID)
		if err != nil {
			msg.err = err
			return msg
		}
		changed, added, updated := store.MergeUsers(existing, in)
		if len(changed) > 0 {
			if err := db.PutUsers(profileID, changed...); err != nil {
				msg.err = fmt.Errorf("save users: %w", err)
				return msg
			}
		}
		msg.users, err = db.Users(profileID)
		msg.added, msg.updated, msg.err = added, updated, err
		return msg
	}
}

func (s *Step) imported(c *common.Context, msg usersImportedMsg) tea.Cmd {
	s.loading = false
	var ie *store.ImportError
	switch {
	case errors.As(msg.err, &ie):
		s.mode, s.form = usersList, nil
		s.clearNote()
		s.bad, s.badFile = ie.Rows, filepath.Base(msg.file)
		lines := make([]string, len(ie.Rows))
		for i, r := range ie.Rows {
			lines[i] = fmt.Sprint(r.Line)
		}
		word := "line"
		if len(lines) > 1 {
			word = "lines"
		}
		return common.ErrCmd(fmt.Errorf("%s, nothing imported: %s %s", common.Count(len(ie.Rows), "bad line"), word, strings.Join(lines, ", ")))
	case msg.err != nil:
		// A file that cannot be read or is no user export: stay in the
		// form to pick another.
		s.formErr = "Nothing imported: " + strings.TrimPrefix(msg.err.Error(), "read users: ")
		var pe *fs.PathError
		if errors.As(msg.err, &pe) {
			s.formErr = fmt.Sprintf("Nothing imported, %s: %s", pe.Err, pe.Path)
		}
		s.open(c, usersImport)
		return nil
	}
	s.mode, s.form = usersList, nil
	s.users = msg.users
	s.win.Cursor = min(s.win.Cursor, max(len(s.users)-1, 0))
	n := msg.added + msg.updated
	s.setNote("ok", fmt.Sprintf("Imported %s from %s: %d new, %d updated. Press r to resolve them.", common.Count(n, "user"), filepath.Base(msg.file), msg.added, msg.updated))
	if n == 0 {
		s.setNote("ok", fmt.Sprintf("%s holds no changes: every user in it is here already.", filepath.Base(msg.file)))
	}
	if len(msg.warnings) > 0 {
		lines := make([]string, len(msg.warnings))
		for i, w := range msg.warnings {
			lines[i] = w.String()
		}
		s.setNote("warn", s.note+" "+common.Count(len(lines), "warning")+": "+strings.Join(lines, "; ")+".")
	}
	return nil
}
