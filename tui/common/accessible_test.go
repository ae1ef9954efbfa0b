package common

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"charm.land/huh/v2"
)

// In accessible mode a form is asked line by line: the answers land where
// the screen keeps its values, a wrong answer is asked again with its
// error, a hidden field is not asked, and the form then completes as if
// typed in the frame.
func TestAskAccessibly(t *testing.T) {
	c := &Context{Styles: NewStyles(true)}
	var name, host string
	f := NewForm(c,
		huh.NewInput().Title("Customer").Value(&name).Validate(func(v string) error {
			if v == "" {
				return errors.New("enter the customer's name")
			}
			return nil
		}),
		&Optional{Field: huh.NewInput().Title("Product address").Value(&host), Show: func() bool { return false }},
	)
	cmd := AskAccessibly(f, "✗ the last answer was wrong")
	if cmd == nil {
		t.Fatal("no command to ask the form")
	}
	if AskAccessibly(f, "") != nil {
		t.Error("the same form asked twice")
	}
	var out bytes.Buffer
	run := &accessibleRun{form: f, note: "✗ the last answer was wrong"}
	run.SetStdin(strings.NewReader("\nAcme B.V.\n"))
	run.SetStdout(&out)
	if err := run.Run(); err != nil {
		t.Fatal(err)
	}
	if name != "Acme B.V." || host != "" {
		t.Errorf("name %q host %q", name, host)
	}
	for _, want := range []string{"✗ the last answer was wrong", "Customer", "enter the customer's name"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the terminal lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "Product address") {
		t.Error("a hidden field was asked")
	}
	if state, _ := f.Update(askedMsg{form: f}); state != huh.StateCompleted {
		t.Errorf("state %v after the accessible run", state)
	}
}

// Keys that come before huh's focus move (typed fast, pasted, or on a
// slow machine) land in the field the focus moves to, not the one left.
func TestFormKeysWaitForTheFocusMove(t *testing.T) {
	c := &Context{Styles: NewStyles(true)}
	var first, second string
	f := NewForm(c, huh.NewInput().Title("Name").Value(&first), huh.NewInput().Title("Account").Value(&second))
	f.Update(tea.KeyPressMsg{Code: 'A', Text: "A"})
	f.Update(tea.KeyPressMsg{Code: tea.KeyEnter}) // huh answers with a command that moves the focus
	f.Update(tea.KeyPressMsg{Code: 'a', Text: "a"})
	f.Update(tea.PasteMsg{Content: "nna@contoso.com"})
	if first != "A" {
		t.Fatalf("a key typed before the move reached the field left: %q", first)
	}
	f.Update(huh.NextField()) // the move arrives
	if first != "A" || second != "anna@contoso.com" {
		t.Errorf("first %q, second %q", first, second)
	}
}
