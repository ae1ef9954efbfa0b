// Package m365sim is a simulated Microsoft 365 tenant on loopback: the
// Microsoft identity platform v2 (discovery, JWKS, authorize, token, device
// code, admin consent) with real JSON shapes and AADSTS errors, the part of
// Microsoft Graph v1.0 that app registration, user lookups and mailbox
// delta queries need, Graph beta's sign-in log of every sign-in it
// served (signins.go), EWS sync, a directory of deterministic users with
// deterministic mailboxes, and fault injection with a controllable clock.
//
// Tests start one with Start; `modauth demo` with New. Nothing else in
// modauth imports this package.
package m365sim

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	mrand "math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modauth/modauth/internal/testclock"
)

// Options configure a simulator.
type Options struct {
	Seed   uint64 // users and IDs derive from it; 0 means 1
	Users  int    // generated users beside the named personas
	Domain string // verified domain; default contoso.com
	TLS    bool   // serve HTTPS with a self-signed certificate
	// Clock is the tenant's time. nil: with New, the wall clock; with
	// Start, a clock standing at the tests' start instant (testclock).
	Clock *Clock

	// DeviceInterval is the polling interval the device-code endpoint
	// announces; default 5s as on the real service.
	DeviceInterval time.Duration
	// RotationGrace is how long a refresh token stays valid after it has
	// been used and replaced; default 24h.
	RotationGrace time.Duration
	// PlainOIDC makes the simulator a standards-only OpenID provider at
	// {URL}/oidc (plainoidc.go).
	PlainOIDC bool
}

// Sim is a running simulated tenant.
type Sim struct {
	URL    string // base URL, the "authority host"
	Clock  *Clock
	Tenant *Tenant // the default tenant
	App    *App    // the demo app registration
	// AdminApp is Microsoft Graph Command Line Tools, the first-party
	// public client an admin signs in with to call Graph.
	AdminApp *App

	srv  *httptest.Server
	key  *rsa.PrivateKey
	kid  string
	opts Options

	idMu sync.Mutex // guards rng apart from mu, so handlers holding mu can draw IDs
	rng  *mrand.Rand

	mu       sync.Mutex
	tenants  []*Tenant
	codes    map[string]*authCode
	devices  map[string]*deviceGrant // by device_code
	refresh  map[string]*refreshGrant
	faults   []*fault
	latency  time.Duration
	mfa      map[string]time.Time // user OID -> MFA required since
	blockDev bool                 // Conditional Access blocks device code
	requests map[string]int       // path -> count, for tests
	// replays counts refresh tokens redeemed again after a rotation
	// replaced them: within RotationGrace the service allows it, but a
	// client that does it has lost a token or raced another client.
	replays int
	// appPolicy: app ID -> the user OIDs an application access policy
	// lets it reach
	appPolicy map[string]map[string]bool
	// signIns is the sign-in log (signins.go), oldest first.
	signIns []signInRecord
	// plainIssuerOverride is the issuer plain discovery names, if not its own.
	plainIssuerOverride string
	signInSeq           int64
	dupSignIns          bool
	// reportCalls: tenant ID + app ID -> when the sign-in and report
	// endpoints last answered it, for their throttle
	reportCalls map[string][]time.Time
	// assertionIDs: the jti of every client assertion taken -> its exp,
	// so that a replayed assertion is refused while it is valid
	assertionIDs map[string]time.Time

	mail mailState // mailboxes and EWS settings, under a lock of their own

	sentMu sync.Mutex
	sent   []SentMail // what sendMail took

	mailOnce sync.Once // the IMAP, POP and SMTP servers start on first use
	mailSrv  *MailServers
	mailErr  error
}

// Start runs a simulator for the length of a test. Unless opts name a
// clock, its clock stands at the tests' start instant until the test
// advances it: the store, engine and interface of the test take their time
// from it (sim.Clock.Now), never from the wall clock.
func Start(t testing.TB, opts Options) *Sim {
	t.Helper()
	if opts.Clock == nil {
		opts.Clock = NewClockAt(testclock.Start(t))
	}
	s, err := New(opts)
	if err != nil {
		t.Fatalf("m365sim: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// New starts a simulator on 127.0.0.1 with a random port.
func New(opts Options) (*Sim, error) {
	if opts.Seed == 0 {
		opts.Seed = 1
	}
	if opts.Domain == "" {
		opts.Domain = "contoso.com"
	}
	if opts.Clock == nil {
		opts.Clock = NewClock()
	}
	if opts.DeviceInterval == 0 {
		opts.DeviceInterval = 5 * time.Second
	}
	if opts.RotationGrace == 0 {
		opts.RotationGrace = 24 * time.Hour
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("generate signing key: %w", err)
	}
	s := &Sim{
		Clock:        opts.Clock,
		key:          key,
		opts:         opts,
		rng:          mrand.New(mrand.NewPCG(opts.Seed, opts.Seed^0x5eed)),
		codes:        map[string]*authCode{},
		assertionIDs: map[string]time.Time{},
		devices:      map[string]*deviceGrant{},
		refresh:      map[string]*refreshGrant{},
		mfa:          map[string]time.Time{},
		requests:     map[string]int{},

		reportCalls: map[string][]time.Time{},
	}
	s.mail.born = opts.Clock.Now()
	s.kid = base64.RawURLEncoding.EncodeToString(key.PublicKey.N.Bytes()[:12])
	s.Tenant = s.newTenant(opts.Domain, opts.Users)
	s.App = s.RegisterApp(s.Tenant, AppSpec{
		DisplayName:          "modauth demo (production)",
		PublicRedirectURIs:   []string{"http://localhost", "https://login.microsoftonline.com/common/oauth2/nativeclient"},
		WebRedirectURIs:      []string{"https://crm.example.com/oauth/callback"},
		FallbackPublicClient: true,
		Required:             []string{"IMAP.AccessAsUser.All", "POP.AccessAsUser.All", "SMTP.Send", "EWS.AccessAsUser.All", "offline_access", "openid", "profile", "User.Read"},
	})
	s.AdminApp = s.addAdminApp(s.Tenant)

	s.srv = httptest.NewUnstartedServer(s.routes())
	if opts.TLS {
		s.srv.StartTLS()
	} else {
		s.srv.Start()
	}
	s.URL = s.srv.URL
	return s, nil
}

// Close stops the server, and the mail servers if they run.
func (s *Sim) Close() {
	s.srv.Close()
	if s.mailSrv != nil {
		s.mailSrv.Close()
	}
}

// HTTPClient returns a client that trusts the simulator (needed with TLS).
func (s *Sim) HTTPClient() *http.Client { return s.srv.Client() }

// CertificatePEM is the simulator's TLS certificate, for a client in
// another process to trust; nil when it serves plain HTTP.
func (s *Sim) CertificatePEM() []byte {
	if s.srv.Certificate() == nil {
		return nil
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.srv.Certificate().Raw})
}

// RefreshReplays reports how many times a refresh token was redeemed
// after a rotation had already replaced it (within RotationGrace, or
// refused after it): two clients redeeming one token, or a client that
// lost the token it was given.
func (s *Sim) RefreshReplays() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.replays
}

// Requests reports how many requests reached paths ending in suffix.
func (s *Sim) Requests(suffix string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for p, c := range s.requests {
		if strings.HasSuffix(p, suffix) {
			n += c
		}
	}
	return n
}

func (s *Sim) newTenant(domain string, n int) *Tenant {
	onMS := strings.SplitN(domain, ".", 2)[0] + ".onmicrosoft.com"
	t := &Tenant{
		ID:      guid(s.rng),
		Domains: []string{domain, onMS},
		roles:   map[string]map[string]*roleGrant{},
	}
	t.Users = makeUsers(s.rng, domain, onMS, n)
	t.indexUsers()
	t.resources = firstPartyResources(s.rng)
	s.tenants = append(s.tenants, t)
	return t
}

// tenant resolves a path segment, GUID or verified domain.
//
// "organizations" and "common" are the multi-tenant aliases: a person
// signing in there lands in their home tenant, which here is the default one.
func (s *Sim) tenant(idOrDomain string) *Tenant {
	if multiTenant(idOrDomain) {
		return s.Tenant
	}
	for _, t := range s.tenants {
		if strings.EqualFold(t.ID, idOrDomain) || t.hasDomain(idOrDomain) {
			return t
		}
	}
	return nil
}

// newGUID draws a GUID from the simulator's seeded source.
func (s *Sim) newGUID() string {
	s.idMu.Lock()
	defer s.idMu.Unlock()
	return guid(s.rng)
}

// randomToken returns an opaque URL-safe token of n random bytes. Codes and
// tokens come from crypto/rand: they guard access, and tests never need to
// predict them.
func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func multiTenant(alias string) bool {
	return strings.EqualFold(alias, "organizations") || strings.EqualFold(alias, "common")
}
