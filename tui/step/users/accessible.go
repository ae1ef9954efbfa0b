package users

import "github.com/modauth/modauth/tui/common"

// OpenForm is the import, add or edit form while one is open, asked line
// by line in accessible mode.
func (s *Step) OpenForm() *common.Form {
	if s.mode == usersList || s.loading {
		return nil
	}
	return s.form
}
