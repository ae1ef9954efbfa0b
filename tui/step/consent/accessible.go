package consent

import "github.com/modauth/modauth/tui/common"

// OpenForm is the service account's form while it is asked, line by line
// in accessible mode.
func (s *Step) OpenForm() *common.Form {
	if s.mode != consentAccount {
		return nil
	}
	return s.account
}
