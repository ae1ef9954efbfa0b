package monitor

import (
	"context"
	"errors"
	"net"

	"github.com/modauth/modauth/exchange"
	"github.com/modauth/modauth/flows"
	"github.com/modauth/modauth/store"
)

// The state model. Each user of a profile is in exactly one state, the
// one its last job ended in; each state says one thing and has one fix:
//
//	never-synced     no job has run for the user yet: the next sweep runs it
//	ok               the last job synced every folder of every protocol
//	sign-in-needed   a delegated user with no working sign-in: skipped or
//	                 not yet done at the consent step, revoked, 90 days
//	                 unused, MFA or Conditional Access
//	consent-needed   a right or a consent is missing (AADSTS65001, Graph
//	                 403, EWS access denied, a mail protocol refused)
//	secret-expired   the app's client secret expired or is wrong
//	upn-invalid      no Entra user has the account as UPN, mail or alias
//	no-mailbox       the user has no Exchange Online mailbox
//	throttled        Microsoft asked to wait; the job tries again after
//	unreachable      Microsoft could not be reached; the last data stays
//	damaged          the user's record, job or token in the database does
//	                 not decode: doctor restores it, or import the user again
//
// Transitions happen only when a job runs (record): success moves any
// state to ok; a failure moves to the state classify gives its error; a
// delegated user without a stored sign-in moves to sign-in-needed. Nothing
// else writes a job's state, so a state never changes without a run.
// "Failing" means every state but ok and never-synced.

// Failing reports whether a state needs attention: every state but ok
// and never-synced.
func Failing(s store.JobState) bool {
	return s != store.StateOK && s != store.StateNeverSynced && s != ""
}

// Fixes says, per state, what gets a user going again.
var Fixes = map[store.JobState]string{
	store.StateOK:            "",
	store.StateNeverSynced:   "modauth has not run this user's job yet: the next sweep runs it (y syncs now).",
	store.StateConsentNeeded: "Consent is missing: grant admin consent for the app, or have the user accept the permissions at sign-in.",
	store.StateSignInNeeded:  "The user signs in (again): at the consent step (device code or browser), or with the consent link (l). A sign-in lapses when revoked, unused for 90 days, or refused by MFA or Conditional Access.",
	store.StateSecretExpired: "The client secret expired or is wrong: rotate the secret (modauth secret rotate) and store the new value.",
	store.StateUPNInvalid:    "No Entra ID user has this account as UPN, mail or alias: correct the user's Exchange account in the product.",
	store.StateNoMailbox:     "The user has no Exchange Online mailbox: assign an Exchange licence, or remove the user from the product's sync.",
	store.StateThrottled:     "Microsoft is throttling this mailbox or tenant: modauth waits as told and tries again.",
	store.StateUnreachable:   "Microsoft could not be reached: check the network and proxy of this server; modauth keeps the last good data.",
	store.StateDamaged:       "This user's data in the database is damaged: run `modauth doctor` to check it and restore the last backup, or import the user again.",
}

// classify maps a job's failure to the one state the user is in.
func classify(err error) store.JobState {
	var ge *exchange.GraphError
	var ne net.Error
	switch {
	case errors.Is(err, store.ErrDamaged), errors.Is(err, store.ErrUnseal):
		return store.StateDamaged
	case errors.Is(err, flows.ErrSecretExpired), errors.Is(err, flows.ErrInvalidSecret):
		return store.StateSecretExpired
	case errors.Is(err, flows.ErrConsentRequired), errors.Is(err, flows.ErrAdminConsentRequired):
		return store.StateConsentNeeded
	case errors.Is(err, flows.ErrSignInNeeded), errors.Is(err, flows.ErrMFARequired),
		errors.Is(err, flows.ErrBlockedByPolicy), errors.Is(err, flows.ErrAccountDisabled):
		return store.StateSignInNeeded
	case errors.Is(err, exchange.ErrSMTPAuthDisabled), errors.Is(err, exchange.ErrMailAuthFailed):
		// The mailbox refused the token: a protocol switched off, or
		// rights missing; the error's fix says which.
		return store.StateConsentNeeded
	case errors.Is(err, flows.ErrThrottled), errors.Is(err, exchange.ErrThrottled):
		return store.StateThrottled
	case errors.Is(err, exchange.ErrNoMailbox):
		return store.StateNoMailbox
	case errors.As(err, &ge) && ge.Code == "MailboxNotEnabledForRESTAPI":
		return store.StateNoMailbox
	case errors.Is(err, exchange.ErrNotFound), errors.Is(err, flows.ErrUserNotFound):
		return store.StateUPNInvalid
	case errors.Is(err, exchange.ErrForbidden):
		// Graph 403, EWS ErrorAccessDenied or a refused impersonation:
		// a right or a consent is missing.
		return store.StateConsentNeeded
	case errors.Is(err, flows.ErrUnavailable), errors.As(err, &ne), errors.Is(err, context.DeadlineExceeded):
		return store.StateUnreachable
	case errors.As(err, &ge) && ge.Status >= 500:
		return store.StateUnreachable
	}
	return store.StateUnreachable
}

// lastError records a failure without any secret: the AADSTS code and
// HTTP status when there are some, and the error's one-line text.
func lastError(err error, at timeNow) *store.LastError {
	le := &store.LastError{Message: err.Error(), At: at()}
	var fe *flows.Error
	if errors.As(err, &fe) {
		le.Code, le.HTTPStatus = fe.Code(), fe.Status
	}
	var ge *exchange.GraphError
	if errors.As(err, &ge) {
		le.HTTPStatus = ge.Status
	}
	var ee *exchange.EWSError
	if errors.As(err, &ee) {
		le.HTTPStatus = ee.Status
	}
	return le
}
