package store

import (
	"cmp"
	"time"
)

// AccessModel is how a profile reaches the mailboxes.
type AccessModel string

const (
	// Delegated: each user signs in once and has a refresh token.
	Delegated AccessModel = "delegated"
	// ServiceAccount: one account signs in and impersonates each mailbox.
	ServiceAccount AccessModel = "service-account"
	// AppOnly: client credentials; no user signs in.
	AppOnly AccessModel = "app-only"
)

// Protocol is a way of talking to Exchange.
type Protocol string

const (
	EWS   Protocol = "ews"
	Graph Protocol = "graph"
	IMAP  Protocol = "imap"
	POP   Protocol = "pop"
	SMTP  Protocol = "smtp"
)

// Hosts are the endpoints a profile talks to, and the resources its
// tokens are asked for. Empty fields mean the defaults of the profile's
// cloud (see Clouds and WithDefaults); national clouds and the simulator
// only change these values, never the code path.
type Hosts struct {
	Authority string `json:"authority,omitempty"` // e.g. https://login.microsoftonline.com
	Graph     string `json:"graph,omitempty"`     // e.g. https://graph.microsoft.com
	// GraphResource is the App ID URI Graph tokens are asked for; the same
	// as Graph in every cloud, but not for the simulator, which serves
	// Graph on its own address.
	GraphResource string `json:"graphResource,omitempty"`
	// ExchangeResource is the App ID URI of Office 365 Exchange Online in
	// the cloud: the audience of EWS tokens and of every app-only
	// Exchange token (microsoft.md §2.1, §9.8).
	ExchangeResource string `json:"exchangeResource,omitempty"`
	// MailResource is the audience of delegated IMAP, POP and SMTP tokens:
	// https://outlook.office.com in the global cloud (microsoft.md §2.2),
	// the Exchange resource in the national ones (§9.8).
	MailResource string `json:"mailResource,omitempty"`
	EWS          string `json:"ews,omitempty"`  // e.g. https://outlook.office365.com/EWS/Exchange.asmx
	IMAP         string `json:"imap,omitempty"` // host:port
	POP          string `json:"pop,omitempty"`  // host:port
	SMTP         string `json:"smtp,omitempty"` // host:port
	// Autodiscover is where on-premises Autodiscover is asked instead of
	// the addresses the mailbox's domain gives (a known server, the demo).
	Autodiscover string `json:"autodiscover,omitempty"`
	// TrustedCert is the SHA-256 fingerprint (hex) of the one certificate
	// an on-premises server may present although this machine does not
	// trust it: opted into for that certificate alone, never "skip verify".
	TrustedCert string `json:"trustedCert,omitempty"`
}

// DefaultHosts are the public-cloud endpoints.
var DefaultHosts = Hosts{
	Authority:        "https://login.microsoftonline.com",
	Graph:            "https://graph.microsoft.com",
	GraphResource:    "https://graph.microsoft.com",
	ExchangeResource: "https://outlook.office365.com",
	MailResource:     "https://outlook.office.com",
	EWS:              "https://outlook.office365.com/EWS/Exchange.asmx",
	IMAP:             "outlook.office365.com:993",
	POP:              "outlook.office365.com:995",
	SMTP:             "smtp.office365.com:587",
}

// WithDefaults fills empty fields from the cloud the hosts belong to (see
// CloudOf), or from DefaultHosts for any other address, such as the
// simulator's. A profile stored before a field existed gets its cloud's
// value, not the public cloud's.
func (h Hosts) WithDefaults() Hosts {
	d := DefaultHosts
	if cl, ok := CloudOf(h); ok {
		d = cl.Hosts
	}
	return Hosts{
		Authority: cmp.Or(h.Authority, d.Authority),
		Graph:     cmp.Or(h.Graph, d.Graph),
		// A national cloud's Graph host is its resource too.
		GraphResource:    cmp.Or(h.GraphResource, h.Graph, d.GraphResource),
		ExchangeResource: cmp.Or(h.ExchangeResource, d.ExchangeResource),
		MailResource:     cmp.Or(h.MailResource, d.MailResource),
		EWS:              cmp.Or(h.EWS, d.EWS),
		IMAP:             cmp.Or(h.IMAP, d.IMAP),
		POP:              cmp.Or(h.POP, d.POP),
		SMTP:             cmp.Or(h.SMTP, d.SMTP),
		Autodiscover:     h.Autodiscover,
		TrustedCert:      h.TrustedCert,
	}
}

// ExpirySource says where a client secret's expiry date came from.
type ExpirySource string

const (
	ExpiryUnknown ExpirySource = "unknown"
	ExpiryGraph   ExpirySource = "graph"   // read from passwordCredentials
	ExpiryEntered ExpirySource = "entered" // typed in by a person
)

// Profile is one customer environment's connection, e.g. acme-production.
type Profile struct {
	ID           string `json:"id"`
	Customer     string `json:"customer"`
	Environment  string `json:"environment"` // production, acceptance
	Preset       string `json:"preset,omitempty"`
	TenantID     string `json:"tenantId,omitempty"`     // GUID
	TenantDomain string `json:"tenantDomain,omitempty"` // verified domain
	ClientID     string `json:"clientId,omitempty"`
	// ServicePrincipalID is the enterprise application's object ID, which
	// Exchange's New-ServicePrincipal wants; known once modauth registered
	// the app or read it through Graph.
	ServicePrincipalID string      `json:"servicePrincipalId,omitempty"`
	Model              AccessModel `json:"model"`
	Protocols          []Protocol  `json:"protocols,omitempty"`
	Flow               string      `json:"flow,omitempty"` // device-code, auth-code, client-credentials
	RedirectURI        string      `json:"redirectUri,omitempty"`
	Hosts              Hosts       `json:"hosts"`
	Scopes             []string    `json:"scopes,omitempty"`
	// Folders are what a Graph profile syncs: calendar, contacts, tasks.
	Folders    []string `json:"folders,omitempty"`
	OnPremises bool     `json:"onPremises,omitempty"`
	// ServiceAccount signs in to on-premises EWS with Basic authentication
	// (its password is the profile's sealed client secret) or, online, is
	// the account that signs in for a service-account profile.
	ServiceAccount string `json:"serviceAccount,omitempty"`

	// The client secret itself is sealed in its own record (see
	// DB.SetClientSecret); the profile keeps only what may be shown.
	SecretKeyID        string       `json:"secretKeyId,omitempty"`
	SecretHint         string       `json:"secretHint,omitempty"`
	SecretExpiry       time.Time    `json:"secretExpiry,omitzero"`
	SecretExpirySource ExpirySource `json:"secretExpirySource,omitempty"`
	// SecretCreated: modauth made the secret (registration, rotation),
	// so the person has not seen its value yet and may, once (see
	// DB.MarkSecretShown). A secret the person typed in is never shown.
	SecretCreated bool `json:"secretCreated,omitempty"`
	// SecretShownKeyID is the secret whose value was shown, and
	// SecretShown when: the hand-off sheet shows a value once.
	SecretShownKeyID string    `json:"secretShownKeyId,omitempty"`
	SecretShown      time.Time `json:"secretShown,omitzero"`

	// Certificate is what may be shown of the profile's certificate
	// credential (sealed in its own record, see DB.SetClientCertificate);
	// nil when there is none.
	Certificate *CertificateInfo `json:"certificate,omitempty"`
	// Credential is what the product's app signs in with for app-only
	// tokens: its client secret (the zero value) or its certificate.
	Credential Credential `json:"credential,omitempty"`

	// Monitor is the optional read-only monitoring app modauth reads the
	// product app's credentials and sign-ins with; nil when there is none.
	Monitor *MonitorApp `json:"monitor,omitempty"`

	WizardStep string    `json:"wizardStep,omitempty"` // last completed wizard step
	Created    time.Time `json:"created,omitzero"`
	Updated    time.Time `json:"updated,omitzero"`
}

// Credential is the kind of credential an app proves itself with.
type Credential string

const (
	CredentialSecret      Credential = ""
	CredentialCertificate Credential = "certificate"
)

// UsesCertificate reports whether the app signs in with its certificate.
func (p Profile) UsesCertificate() bool { return p.Credential == CredentialCertificate }

// CredentialExpiry is when the app's credential stops working, and what
// it is ("certificate" or "secret"): the certificate's NotAfter, else the
// client secret's expiry. The time is zero when it is not known.
func (p Profile) CredentialExpiry() (time.Time, string) {
	if p.UsesCertificate() {
		if p.Certificate == nil {
			return time.Time{}, "certificate"
		}
		return p.Certificate.NotAfter, "certificate"
	}
	return p.SecretExpiry, "secret"
}

// MonitorApp is a profile's read-only monitoring app: a second app
// registration with application permissions to read (never write) the
// directory, so the product's own app never gets directory-wide rights.
// Its secret is sealed in its own record (see DB.SetMonitorSecret); the
// profile keeps only what may be shown of it.
type MonitorApp struct {
	ClientID           string    `json:"clientId"`
	ServicePrincipalID string    `json:"servicePrincipalId,omitempty"`
	SecretKeyID        string    `json:"secretKeyId,omitempty"`
	SecretHint         string    `json:"secretHint,omitempty"`
	SecretExpiry       time.Time `json:"secretExpiry,omitzero"`
}

// CertificateInfo is what a profile shows of its certificate credential.
type CertificateInfo struct {
	KeyID      string    `json:"keyId,omitempty"` // the keyCredential's keyId in Entra
	Thumbprint string    `json:"thumbprint"`      // SHA-1, hex, as the portal shows it
	NotAfter   time.Time `json:"notAfter"`
}

// ClientCertificate is a profile's certificate credential: the public
// certificate (DER) uploaded to the app and its private key (PKCS#8 DER),
// a Secret so that it never prints itself.
type ClientCertificate struct {
	KeyID      string
	Thumbprint string
	NotAfter   time.Time
	CertDER    []byte
	KeyPKCS8   Secret
}

// ClientSecret is a profile's client secret with what Entra knows of it.
type ClientSecret struct {
	Value        Secret
	KeyID        string // the Secret ID shown in the portal; not the value
	Expiry       time.Time
	ExpirySource ExpirySource
	// Created: modauth made it (registration, rotation); its value may be
	// shown once. False for a secret the person typed in.
	Created bool
}

// SecretShowable reports whether the value of p's client secret may still
// be shown: modauth made it and it has not been shown.
func (p Profile) SecretShowable() bool {
	return p.SecretCreated && !p.SecretWasShown()
}

// SecretWasShown reports whether the value of p's current client secret
// was shown once already.
func (p Profile) SecretWasShown() bool {
	return !p.SecretShown.IsZero() && p.SecretShownKeyID == p.SecretKeyID
}

// MappingStatus is how a product user's Exchange account resolved.
type MappingStatus string

const (
	MappingUnresolved MappingStatus = ""
	MappingOK         MappingStatus = "ok"
	MappingMismatch   MappingStatus = "mismatch" // account is an alias, not the UPN
	MappingNotFound   MappingStatus = "not-found"
	MappingDisabled   MappingStatus = "disabled"
	MappingNoMailbox  MappingStatus = "no-mailbox"
)

// ConsentStatus is where a user stands in signing in.
type ConsentStatus string

const (
	ConsentNone    ConsentStatus = ""
	ConsentPending ConsentStatus = "pending"
	ConsentDone    ConsentStatus = "done"
	ConsentWrong   ConsentStatus = "wrong-account"
)

// User is one user of the product and their Exchange identity.
type User struct {
	Key         string        `json:"key"`     // the product's own user key
	Name        string        `json:"name"`    // display name in the product
	Account     string        `json:"account"` // the Exchange account as entered
	UPN         string        `json:"upn,omitempty"`
	PrimarySMTP string        `json:"primarySmtp,omitempty"`
	ObjectID    string        `json:"objectId,omitempty"`
	ResolvedBy  string        `json:"resolvedBy,omitempty"` // upn, mail, proxyAddresses
	Mapping     MappingStatus `json:"mapping,omitempty"`
	Consent     ConsentStatus `json:"consent,omitempty"`
	SignedIn    *Identity     `json:"signedIn,omitempty"` // who actually signed in
	// ProductSyncID is the product's own sync-id of the user, from its
	// export; SyncIDImported says the export had that column, so an empty
	// one means the product never synced the user.
	ProductSyncID  string `json:"productSyncId,omitempty"`
	SyncIDImported bool   `json:"syncIdImported,omitempty"`
}

// Identity is who signed in, from the id_token.
type Identity struct {
	ObjectID          string `json:"oid"`
	TenantID          string `json:"tid"`
	PreferredUsername string `json:"preferredUsername"`
	Name              string `json:"name,omitempty"`
}

// Token is a user's stored token state. RefreshToken is sealed at rest.
type Token struct {
	RefreshToken Secret    `json:"-"`
	AccessExpiry time.Time `json:"accessExpiry,omitzero"`
	Issued       time.Time `json:"issued,omitzero"`
	Refreshed    time.Time `json:"refreshed,omitzero"`
	Scopes       []string  `json:"scopes,omitempty"`
	ViaDevice    bool      `json:"viaDevice,omitempty"`    // obtained by device code (protocol-tracked by CA)
	Confidential bool      `json:"confidential,omitempty"` // redeemed with the client secret; refreshes need it
}

// ServiceAccountKey is the user key a service account's sign-in is kept
// under when the account is not one of the profile's users.
const ServiceAccountKey = "service-account"

// JobState is the one state a user's sync is in.
type JobState string

const (
	StateNeverSynced   JobState = "never-synced"
	StateOK            JobState = "ok"
	StateConsentNeeded JobState = "consent-needed"
	StateSignInNeeded  JobState = "sign-in-needed"
	StateSecretExpired JobState = "secret-expired"
	StateUPNInvalid    JobState = "upn-invalid"
	StateNoMailbox     JobState = "mailbox-not-found"
	StateThrottled     JobState = "throttled"
	StateUnreachable   JobState = "unreachable"
	// StateDamaged: the user's record, job or token in the database is
	// damaged; the other users go on.
	StateDamaged JobState = "damaged"
	// The mail servers' and Exchange's own refusals, apart from consent:
	// each has another fix.
	StateMailRefused      JobState = "mail-auth-refused"     // IMAP/POP/SMTP refused the token
	StateMailboxDenied    JobState = "mailbox-access-denied" // token taken, mailbox or SendAs refused
	StateSMTPAuthDisabled JobState = "smtp-auth-disabled"    // SMTP AUTH off for the tenant or mailbox
	StateBlockedByPolicy  JobState = "blocked-by-policy"     // an Exchange access policy blocks the app
	StateEWSBlocked       JobState = "ews-blocked"           // Exchange Online blocks EWS for the app (from 1 October 2026)
	StateAuthNotOffered   JobState = "auth-method-not-offered"
	StateProxyLoginPage   JobState = "proxy-login-page"  // a proxy's forms login answered instead of EWS
	StateUnexpected       JobState = "unexpected-answer" // an answer modauth does not understand
)

// LastError is the last failure of a job, without any secret.
type LastError struct {
	Code       int       `json:"code,omitempty"` // AADSTS code, or 0
	HTTPStatus int       `json:"httpStatus,omitempty"`
	Message    string    `json:"message"`
	At         time.Time `json:"at"`
	// What the failure means (the AADSTS code's or Exchange's answer's
	// meaning), what to do about it, and the Exchange PowerShell that does
	// it, where the connection layer knew them: they say more than the
	// state's general fix.
	Meaning    string   `json:"meaning,omitempty"`
	Fix        string   `json:"fix,omitempty"`
	PowerShell []string `json:"powerShell,omitempty"`
}

// Job is a user's sync job.
type Job struct {
	State       JobState          `json:"state"`
	LastRun     time.Time         `json:"lastRun,omitzero"`
	LastSuccess time.Time         `json:"lastSuccess,omitzero"`
	NextRun     time.Time         `json:"nextRun,omitzero"`
	Checkpoints map[string]string `json:"checkpoints,omitempty"` // folder -> deltaLink or SyncState
	Counts      map[string]int    `json:"counts,omitempty"`      // folder -> items
	Failures    int               `json:"failures,omitempty"`    // consecutive
	LastError   *LastError        `json:"lastError,omitempty"`
}

// Item is one synced item's sync-id: its Exchange ID and change key.
type Item struct {
	ID           string    `json:"-"` // the key in the bucket
	ChangeKey    string    `json:"changeKey"`
	LastModified time.Time `json:"lastModified,omitzero"`
}

// Event is one entry of the append-only event log.
type Event struct {
	Seq     uint64    `json:"seq"`
	At      time.Time `json:"at"`
	Profile string    `json:"profile,omitempty"`
	User    string    `json:"user,omitempty"`
	Kind    string    `json:"kind"` // e.g. sync, token, consent, secret
	State   JobState  `json:"state,omitempty"`
	Message string    `json:"message"`
}
