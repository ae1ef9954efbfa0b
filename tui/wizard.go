package tui

import (
	"fmt"

	"charm.land/bubbles/v2/help"
	tea "charm.land/bubbletea/v2"
)

// step is one screen of the wizard.
type step interface {
	// ID is stored as the profile's progress once the step is done.
	ID() string
	Title() string
	// Init starts the step; called each time it is entered.
	Init(c *Context) tea.Cmd
	// Update handles a message; done means the step is complete and the
	// wizard moves on (the step has saved what it made).
	Update(c *Context, msg tea.Msg) (done bool, cmd tea.Cmd)
	View(c *Context) string
	// SetSize fits the step to the frame's body; it is called when the
	// terminal's size changes and when the step is entered, so that View
	// only draws.
	SetSize(c *Context)
	// Keys are the step's own bindings, for the help bar.
	Keys() help.KeyMap
	// Busy reports long work under way: Esc and quitting wait or ask.
	Busy() bool
}

// fielder is a step with a form: the frame's error slot shows what is
// wrong with the field, while nothing else is.
type fielder interface{ FieldErr() error }

func fieldErr(s step) error {
	if f, ok := s.(fielder); ok {
		return f.FieldErr()
	}
	return nil
}

// modal is a step with a form or question open: esc belongs to it, not to
// the wizard's "back".
type modal interface{ Modal() bool }

func isModal(s step) bool {
	m, ok := s.(modal)
	return ok && m.Modal()
}

// wizard runs the steps in order. Each keeps its state while the person
// goes back and forth, so Esc loses no input.
type wizard struct {
	steps []step
	at    int
}

// newWizard builds the steps and resumes after the last one completed.
func newWizard(c *Context) *wizard {
	w := &wizard{steps: []step{
		newProfileStep(c),
		newRegisterStep(),
		newIDsStep(c),
		newUsersStep(),
		newConsentStep(),
		newVerifyStep(),
	}}
	for i, s := range w.steps {
		if s.ID() == c.Profile.WizardStep {
			w.at = min(i+1, len(w.steps)-1)
		}
	}
	return w
}

func (w *wizard) current() step { return w.steps[w.at] }

func (w *wizard) header(c *Context) string {
	return fmt.Sprintf("%s  %s", c.Styles.Title.Render("modauth setup"), c.Styles.Step.Render(fmt.Sprintf("step %d of %d · %s", w.at+1, len(w.steps), w.current().Title())))
}

// saveProgress records that step s is complete.
func (w *wizard) saveProgress(c *Context, s step) error {
	if c.Profile.ID == "" || c.DB == nil {
		return nil
	}
	c.Profile.WizardStep = s.ID()
	if err := c.DB.PutProfile(c.Profile); err != nil {
		return fmt.Errorf("save progress: %w", err)
	}
	p, err := c.DB.Profile(c.Profile.ID)
	if err == nil {
		c.Profile = p
	}
	return nil
}

// index is the position of the step with the given ID.
func (w *wizard) index(id string) int {
	for i, s := range w.steps {
		if s.ID() == id {
			return i
		}
	}
	return 0
}
