package common

import (
	"fmt"
	"io"

	tea "charm.land/bubbletea/v2"
	"charm.land/huh/v2"
)

// Accessible mode (--accessible or ACCESSIBLE=1) is for screen readers: a
// form is not drawn in the frame but asked line by line, with huh's
// accessible prompts, while the interface steps aside (tea.Exec). The
// screens do not change: their form completes as if typed in the frame.

// FormHolder is a screen with a form open now; the frame asks it
// accessibly in accessible mode.
type FormHolder interface {
	OpenForm() *Form
}

// askedMsg reports that a form was asked accessibly.
type askedMsg struct {
	form *Form
	err  error
}

// AskAccessibly asks the form line by line on the terminal, once; the
// form then completes through its Update. note, if any, is said first:
// what was wrong with the last answers.
func AskAccessibly(f *Form, note string) tea.Cmd {
	if f == nil || f.asked {
		return nil
	}
	f.asked = true
	return tea.Exec(&accessibleRun{form: f, note: note}, func(err error) tea.Msg { return askedMsg{form: f, err: err} })
}

// accessibleRun is a form asked on the terminal, as a tea.ExecCommand.
type accessibleRun struct {
	form    *Form
	note    string
	in      io.Reader
	out, ew io.Writer
}

func (r *accessibleRun) SetStdin(in io.Reader)   { r.in = in }
func (r *accessibleRun) SetStdout(out io.Writer) { r.out = out }
func (r *accessibleRun) SetStderr(ew io.Writer)  { r.ew = ew }

func (r *accessibleRun) Run() error {
	if r.note != "" {
		fmt.Fprintln(r.out, r.note)
	}
	return r.form.WithAccessible(true).WithInput(r.in).WithOutput(r.out).Run()
}

// RunAccessible asks a field that is shown; a hidden one is skipped.
func (o *Optional) RunAccessible(w io.Writer, r io.Reader) error {
	if !o.Show() {
		return nil
	}
	return o.Field.RunAccessible(w, r)
}

// completed takes the end of an accessible run as the form's completion.
func (f *Form) completed(msg tea.Msg) bool {
	m, ok := msg.(askedMsg)
	if !ok || m.form != f {
		return false
	}
	if m.err == nil {
		f.State = huh.StateCompleted
	} else {
		f.asked = false // asked again by the frame
	}
	return true
}
