package monitor

import (
	"context"
	"errors"
	"net"
	"net/http"

	"github.com/modauth/modauth/conn"
	"github.com/modauth/modauth/exchange"
	"github.com/modauth/modauth/flows"
	"github.com/modauth/modauth/store"
)

// The state model. Each user of a profile is in exactly one state, the
// one its last job ended in; each state says one thing and has one fix
// (a job's last error may carry a sharper one, from the connection layer):
//
//	never-synced            no job has run for the user yet: the next sweep runs it
//	ok                      the last job synced every folder of every protocol
//	sign-in-needed          a delegated user with no working sign-in: skipped or
//	                        not yet done at the consent step, revoked, 90 days
//	                        unused, MFA or Conditional Access
//	consent-needed          a permission or its consent is missing (AADSTS65001,
//	                        a Graph 403 for rights, EWS ErrorAccessDenied)
//	secret-expired          the app's client secret expired or is wrong
//	upn-invalid             no Entra user has the account as UPN, mail or alias
//	mailbox-not-found       the user has no Exchange Online mailbox
//	mail-auth-refused       IMAP, POP or SMTP refused the token at AUTH
//	mailbox-access-denied   the token was taken but the mailbox was not: no
//	                        FullAccess or SendAs, or user= names another mailbox
//	smtp-auth-disabled      SMTP AUTH is off for the tenant or the mailbox
//	ews-blocked             EWS blocked for this app in Exchange Online: not in
//	                        EwsAllowedAppIDs from 1 October 2026, and every
//	                        app from 1 April 2027 (never on-premises)
//	blocked-by-policy       another Exchange access policy blocks the app (an
//	                        application access policy, a CAS mailbox setting)
//	auth-method-not-offered the server does not offer the sign-in modauth uses
//	                        (on-premises EWS with only Negotiate/NTLM)
//	proxy-login-page        a proxy's forms login answered instead of EWS
//	unexpected-answer       a server answered, but not as modauth knows: an
//	                        unknown EWS code, an answer that is not EWS
//	throttled               Microsoft asked to wait; the job tries again after
//	unreachable             Microsoft could not be reached; the last data stays
//	damaged                 the user's record, job or token in the database does
//	                        not decode: doctor restores it, or import the user again
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

// States are every state, worst first: the order of summaries and sorts.
var States = []store.JobState{
	store.StateDamaged, store.StateSecretExpired, store.StateSignInNeeded, store.StateConsentNeeded,
	store.StateEWSBlocked, store.StateBlockedByPolicy, store.StateSMTPAuthDisabled, store.StateMailRefused, store.StateMailboxDenied,
	store.StateAuthNotOffered, store.StateProxyLoginPage, store.StateUnexpected, store.StateUPNInvalid, store.StateNoMailbox,
	store.StateUnreachable, store.StateThrottled, store.StateNeverSynced, store.StateOK,
}

// NeedsPerson reports a failing state that lasts until a person acts:
// not a secret (worse: every user stops) and not the waits that heal.
func NeedsPerson(s store.JobState) bool {
	return Failing(s) && s != store.StateSecretExpired && s != store.StateThrottled && s != store.StateUnreachable
}

// Fixes says, per state, what gets a user going again.
var Fixes = map[store.JobState]string{
	store.StateOK:               "",
	store.StateNeverSynced:      "modauth has not run this user's job yet: the next sweep runs it (y syncs now).",
	store.StateConsentNeeded:    "Consent is missing: grant admin consent for the app, or have the user accept the permissions at sign-in.",
	store.StateSignInNeeded:     "The user signs in (again): at the consent step (device code or browser), or with the consent link (l). A sign-in lapses when revoked, unused for 90 days, or refused by MFA or Conditional Access.",
	store.StateSecretExpired:    "The client secret expired or is wrong: rotate the secret (modauth secret rotate) and store the new value.",
	store.StateUPNInvalid:       "No Entra ID user has this account as UPN, mail or alias: correct the user's Exchange account in the product.",
	store.StateNoMailbox:        "The user has no Exchange Online mailbox: assign an Exchange licence, or remove the user from the product's sync.",
	store.StateMailRefused:      "The mail server refused the token: check the token's audience and scope for the protocol, that user= is the mailbox's primary SMTP address, and that the protocol is on for the mailbox (Set-CASMailbox).",
	store.StateMailboxDenied:    "Exchange took the token but not the mailbox: give the signed-in account or the app's service principal FullAccess (or SendAs to send) on it, and check that user= is its primary SMTP address.",
	store.StateSMTPAuthDisabled: "SMTP AUTH is off for the tenant or the mailbox: Set-CASMailbox -Identity <mailbox> -SmtpClientAuthenticationDisabled $false (or Set-TransportConfig for the organization).",
	store.StateEWSBlocked: "EWS blocked for this app in Exchange Online: add the app's client ID to EwsAllowedAppIDs, keeping the IDs already listed " +
		"(Get-OrganizationConfig | fl Ews*, then Set-OrganizationConfig -EwsEnabled $true -EwsAllowedAppIDs \"<client id>,<ids already listed>\"). " +
		"That works only until 1 April 2027, when EWS in Exchange Online stops for every app: move the product to Microsoft Graph.",
	store.StateBlockedByPolicy: "An Exchange access policy blocks the app: add it to EwsAllowedAppIDs (Set-OrganizationConfig), or to the application access policy or RBAC for Applications scope that covers the mailbox.",
	store.StateAuthNotOffered:  "The server does not offer the sign-in modauth uses: on Exchange Server, turn on Basic authentication for EWS (Set-WebServicesVirtualDirectory -BasicAuthentication $true) or use NTLM.",
	store.StateProxyLoginPage:  "A proxy with a forms login answers instead of EWS: publish /EWS/Exchange.asmx without forms pre-authentication.",
	store.StateUnexpected:      "A server answered, but not as Exchange does: the last error says what came back; check the profile's EWS or Graph address and what sits in front of it.",
	store.StateThrottled:       "Microsoft is throttling this mailbox or tenant: modauth waits as told and tries again.",
	store.StateUnreachable:     "Microsoft could not be reached: check the network and proxy of this server; modauth keeps the last good data.",
	store.StateDamaged:         "This user's data in the database is damaged: run `modauth doctor` to check it and restore the last backup, or import the user again.",
}

// classify maps a job's failure to the one state the user is in.
func classify(err error) store.JobState {
	var (
		ge *exchange.GraphError
		ee *exchange.EWSError
		ne net.Error
	)
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
	case errors.Is(err, exchange.ErrEWSBlocked):
		return store.StateEWSBlocked
	case errors.Is(err, exchange.ErrAccessPolicy):
		return store.StateBlockedByPolicy
	case errors.Is(err, exchange.ErrAuthMethodNotOffered):
		return store.StateAuthNotOffered
	case errors.Is(err, exchange.ErrLoginPage):
		return store.StateProxyLoginPage
	case errors.Is(err, exchange.ErrSMTPAuthDisabled):
		return store.StateSMTPAuthDisabled
	case errors.Is(err, exchange.ErrMailboxAccessDenied):
		return store.StateMailboxDenied
	case errors.Is(err, exchange.ErrMailAuthFailed):
		// The mail server refused the token; its fix says what to check.
		return store.StateMailRefused
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
	case errors.As(err, &ee) && ee.Status == http.StatusUnauthorized:
		// The token or the service account's password was refused.
		return store.StateSignInNeeded
	case errors.Is(err, flows.ErrUnavailable), errors.As(err, &ne), errors.Is(err, context.DeadlineExceeded):
		return store.StateUnreachable
	case errors.As(err, &ge) && ge.Status >= 500, errors.As(err, &ee) && ee.Code == "" && ee.Status >= 500:
		return store.StateUnreachable
	case errors.Is(err, exchange.ErrBadAnswer), errors.As(err, &ee), errors.As(err, &ge):
		// An answer came, but not one modauth knows: not the network.
		return store.StateUnexpected
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
	var f *conn.Failure
	if errors.As(err, &f) {
		le.Meaning, le.Fix, le.PowerShell = f.Meaning, f.Fix, f.PowerShell
	}
	return le
}

// FixFor is what gets a user going again: the fix the connection layer
// found for the job's last failure, or else its state's.
func FixFor(j store.Job) string {
	if j.LastError != nil && j.LastError.Fix != "" && Failing(j.State) {
		return j.LastError.Fix
	}
	return Fixes[j.State]
}
