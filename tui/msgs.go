package tui

import tea "charm.land/bubbletea/v2"

// errMsg puts an error in the fixed error slot; the next key clears it.
type errMsg struct{ err error }

func (e errMsg) Error() string { return e.err.Error() }

// errCmd returns a command that reports err.
func errCmd(err error) tea.Cmd { return func() tea.Msg { return errMsg{err} } }

// busyMsg starts or ends the spinner with a line of what is going on.
type busyMsg struct{ what string }
