package common

import tea "charm.land/bubbletea/v2"

// ErrMsg puts an error in the fixed error slot; the next key clears it.
type ErrMsg struct{ Err error }

func (e ErrMsg) Error() string { return e.Err.Error() }

// ErrCmd returns a command that reports err.
func ErrCmd(err error) tea.Cmd { return func() tea.Msg { return ErrMsg{err} } }

// NoteMsg shows a line in the error slot's place, not as an error; warn
// when the news is not all good.
type NoteMsg struct {
	Text string
	Warn bool
}
