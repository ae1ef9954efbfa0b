// The IDs step's live checks: each field checked against the identity
// platform as soon as it is left, and the step's submit, which waits for
// them.

package ids

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/modauth/modauth/appreg"
	"github.com/modauth/modauth/conn"
	"github.com/modauth/modauth/exchange"
	"github.com/modauth/modauth/flows"
	"github.com/modauth/modauth/store"
	"github.com/modauth/modauth/tui/common"
)

// check is the state of one live check. Its exported fields are what the
// field's description shows: huh redraws the description when they change.
type check struct {
	Running bool
	OK      string // what was found, when it passed
	Err     string // why it failed
	Value   string // the value it ran for
	// Retry: the failure is fixed elsewhere (a certificate uploaded in the
	// portal), not by typing, so enter checks the same value again.
	Retry  bool
	cancel context.CancelFunc
}

type checkedMsg struct {
	field, value, ok string
	tenant           string
	err              error
}

// submit moves on when every field passed its check for the values now
// entered; otherwise it starts what is missing, and the step moves on
// when the last check passes.
func (s *Step) submit(c *common.Context) (bool, tea.Cmd) {
	var cmds []tea.Cmd
	for _, f := range s.checkedFields() {
		ch := s.checks[f]
		switch {
		case ch.Running:
			return false, tea.Batch(cmds...)
		case ch.OK == "" || ch.Value != s.value(f):
			if cmd := s.check(c, f); cmd != nil {
				cmds = append(cmds, cmd)
			}
			return false, tea.Batch(cmds...)
		}
	}
	s.submitting = false
	if err := s.save(c); err != nil {
		return false, common.ErrCmd(err)
	}
	return true, nil
}

// checkedFields are the fields with a live check, in order.
func (s *Step) checkedFields() []string {
	if s.plan.secret {
		return []string{fieldTenant, fieldClient, fieldSecret}
	}
	return []string{fieldTenant, fieldClient}
}

// cancelChecks stops the checks under way; their fields are checked again
// when next left or submitted.
func (s *Step) cancelChecks() {
	for _, ch := range s.checks {
		if ch.Running {
			ch.cancel()
			*ch = check{}
		}
	}
	s.submitting = false
}

// check starts the live check of a field, if it has one and its value
// changed since the last one.
func (s *Step) check(c *common.Context, field string) tea.Cmd {
	ch, ok := s.checks[field]
	value := s.value(field)
	if !ok || value == "" || (ch.Value == value && (ch.Running || (!ch.Retry && (ch.OK != "" || ch.Err != "")))) {
		return nil
	}
	tenant, client, secret := s.value(fieldTenant), s.value(fieldClient), s.value(fieldSecret)
	cn := c.Conn(conn.WithIDs(c.Profile, tenant, client))
	var run func(context.Context) (string, error)
	switch field {
	case fieldTenant:
		run = cn.TenantID
	case fieldClient:
		if s.checks[fieldTenant].OK == "" {
			return nil
		}
		run = func(ctx context.Context) (string, error) { return "app found", cn.CheckClient(ctx) }
		if s.plan.certificate {
			run = s.proveCertificate(c, cn)
		}
	case fieldSecret:
		if s.checks[fieldClient].OK == "" || validSecret(secret) != nil {
			return nil
		}
		run = func(ctx context.Context) (string, error) {
			return "the secret works", cn.ProveSecret(ctx, store.Secret(secret))
		}
	}
	ctx, cancel := context.WithTimeout(c.Ctx, 30*time.Second)
	*ch = check{Running: true, Value: value, cancel: cancel}
	return func() tea.Msg {
		defer cancel()
		ok, err := run(ctx)
		m := checkedMsg{field: field, value: value, ok: ok, err: err}
		if field == fieldTenant {
			m.tenant = ok
			m.ok = "tenant " + ok + " found"
		}
		return m
	}
}

// errNotUploaded: the app was found, but its certificate does not sign in
// yet.
var errNotUploaded = errors.New("the certificate is not on the app yet")

// proveCertificate checks the client ID and then signs in with the
// profile's certificate: the check passes once the certificate is
// uploaded to that app.
func (s *Step) proveCertificate(c *common.Context, cn *conn.Conn) func(context.Context) (string, error) {
	db, id := c.DB, c.Profile.ID
	file := filepath.Base(c.SavePath(id + appreg.CertificateFileSuffix))
	return func(ctx context.Context) (string, error) {
		if err := cn.CheckClient(ctx); err != nil {
			return "", err
		}
		sc, err := db.ClientCertificate(id)
		if err != nil {
			return "", fmt.Errorf("%w: go back to the register step, which makes it", err)
		}
		cert, err := flows.CertificateFromStore(sc)
		if err != nil {
			return "", err
		}
		if err := cn.ProveCertificate(ctx, cert); err != nil {
			return "", fmt.Errorf("%w: upload %s under Certificates & secrets, then press enter (%w)", errNotUploaded, file, err)
		}
		return "app found; certificate " + sc.Thumbprint[:8] + "… works", nil
	}
}

// done takes a check's result.
func (s *Step) done(c *common.Context, m checkedMsg) (bool, tea.Cmd) {
	ch := s.checks[m.field]
	if !ch.Running || m.value != s.value(m.field) {
		return false, nil // cancelled, or typed over while the check ran
	}
	if m.err != nil {
		*ch = check{Value: m.value, Err: explain(m.err), Retry: errors.Is(m.err, errNotUploaded)}
		s.submitting = false
		return false, nil
	}
	*ch = check{OK: m.ok, Value: m.value}
	if m.field == fieldTenant {
		s.tenant = m.tenant
	}
	if s.submitting {
		return s.submit(c)
	}
	// A field left before its predecessor passed is checked now.
	for _, f := range []string{fieldClient, fieldSecret} {
		if cmd := s.check(c, f); cmd != nil {
			return false, cmd
		}
	}
	return false, nil
}

// explain turns a check's failure into what a person should read: the
// AADSTS meaning and fix, never a raw body.
func explain(err error) string {
	if errors.Is(err, errNotUploaded) {
		return err.Error()
	}
	var fe *flows.Error
	if errors.As(err, &fe) {
		return fe.Error() + ". " + fe.Fix()
	}
	var ge *exchange.GraphError
	if errors.As(err, &ge) {
		return ge.Error()
	}
	return err.Error()
}
