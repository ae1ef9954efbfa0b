package tui

import (
	"fmt"

	"github.com/modauth/modauth/store"

	"github.com/modauth/modauth/tui/step/consent"
	"github.com/modauth/modauth/tui/step/users"

	"github.com/modauth/modauth/tui/step/ids"
	"github.com/modauth/modauth/tui/step/profile"
	"github.com/modauth/modauth/tui/step/register"
	"github.com/modauth/modauth/tui/step/server"
	"github.com/modauth/modauth/tui/step/verify"

	"github.com/modauth/modauth/tui/common"
)

// fielder is a step with a form: the frame's error slot shows what is
// wrong with the field, while nothing else is.
type fielder interface{ FieldErr() error }

func fieldErr(s common.Step) error {
	if f, ok := s.(fielder); ok {
		return f.FieldErr()
	}
	return nil
}

// modal is a step with a form or question open: esc belongs to it, not to
// the wizard's "back".
type modal interface{ Modal() bool }

func isModal(s common.Step) bool {
	m, ok := s.(modal)
	return ok && m.Modal()
}

// wizard runs the steps in order. Each keeps its state while the person
// goes back and forth, so Esc loses no input.
type wizard struct {
	steps []common.Step
	at    int
}

// newWizard builds the steps and resumes after the last one completed.
func newWizard(c *common.Context) *wizard {
	w := &wizard{steps: []common.Step{
		profile.New(c),
		register.New(),
		ids.New(c),
		server.New(c),
		users.New(),
		consent.New(),
		verify.New(),
	}}
	for i, s := range w.steps {
		if s.ID() == c.Profile.WizardStep {
			w.at = i
			if n, ok := w.next(c.Profile); ok {
				w.at = n
			}
		}
	}
	return w
}

func (w *wizard) current() common.Step { return w.steps[w.at] }

// next is the position of the next step that belongs to p, if any.
func (w *wizard) next(p store.Profile) (int, bool) {
	for i := w.at + 1; i < len(w.steps); i++ {
		if common.Applies(w.steps[i], p) {
			return i, true
		}
	}
	return w.at, false
}

// prev is the position of the step before that belongs to p, if any.
func (w *wizard) prev(p store.Profile) (int, bool) {
	for i := w.at - 1; i >= 0; i-- {
		if common.Applies(w.steps[i], p) {
			return i, true
		}
	}
	return w.at, false
}

func (w *wizard) header(c *common.Context) string {
	n, at := 0, 0
	for i, s := range w.steps {
		if common.Applies(s, c.Profile) || i == w.at {
			n++
			if i <= w.at {
				at = n
			}
		}
	}
	return fmt.Sprintf("%s  %s", c.Styles.Title.Render("modauth setup"), c.Styles.Step.Render(fmt.Sprintf("step %d of %d · %s", at, n, w.current().Title())))
}

// saveProgress records that step s is complete.
func (w *wizard) saveProgress(c *common.Context, s common.Step) error {
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
