// Package conn turns a profile into a working connection: the identity
// client of its app in its tenant and cloud, app-only tokens per resource
// and user tokens per audience (one cache, on the injected clock), the
// Graph, EWS, IMAP, POP and SMTP clients, proof of a new client secret,
// and Probe, the connection test with the permissions the profile's plan
// grants. The wizard, the monitor and the CLI all connect through it:
// nothing above it computes a tenant or an audience, or calls flows.New.
package conn

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/modauth/modauth/appreg"
	"github.com/modauth/modauth/flows"
	"github.com/modauth/modauth/store"
)

// Deps are what a connection works with. Zero values take defaults.
type Deps struct {
	// DB holds the profile's client secret and the users' sign-ins; nil
	// when there is no store (then no secret and no sign-in is known).
	DB *store.DB
	// HTTP is the client for every request; default 30 s timeout.
	HTTP *http.Client
	// Now is the clock token lifetimes are read on; default time.Now.
	Now func() time.Time
	// Sleep waits (Retry-After, device-code polling); tests advance a
	// simulated clock instead.
	Sleep  func(ctx context.Context, d time.Duration) error
	Logger *slog.Logger
	// MailTLS verifies IMAP, POP and SMTP servers; nil: the trust of the
	// HTTP client's transport where it has one (a proxy's or the demo
	// simulator's certificate), else the system roots.
	MailTLS *tls.Config
	// TokenRequested is called once per token request sent (refresh or
	// client credentials), for metrics; may be nil.
	TokenRequested func()
}

// refreshMargin: an access token is renewed only when less than this is
// left, so a sweep asks for as few tokens as it can.
const refreshMargin = 5 * time.Minute

// Conn is one profile's connection. It is safe for concurrent use; make
// one per profile and keep it while the profile stays the same, so that
// its tokens are asked for once.
type Conn struct {
	prof  store.Profile
	hosts store.Hosts
	d     Deps

	setup      sync.Mutex // guards secret, secretErr, secretRead, fc, monitor
	secret     store.ClientSecret
	secretErr  error
	secretRead bool
	// cert is the certificate the app signs in with, when the profile
	// uses one: loaded from the store, or one to prove.
	cert    *flows.ClientCertificate
	fc      *flows.Client
	monitor monitorApp // the read-only monitoring app's identity

	planOnce sync.Once
	plan     *appreg.Plan // nil when the profile makes no plan

	mu    sync.Mutex // guards cache and saSigner
	cache map[string]cached
	// saSigner is the service account's user record once its sign-in was
	// found: every mapped user's mailbox is opened with it.
	saSigner *store.User
	// requests holds one token request per key at a time: concurrent
	// callers wait for it instead of asking again, and a user's refresh
	// never starts from a refresh token another one just replaced.
	requests keyedMutex
}

type cached struct {
	token  store.Secret
	expiry time.Time
}

// New returns the connection of a profile. It sends nothing yet.
func New(p store.Profile, d Deps) *Conn {
	if d.HTTP == nil {
		d.HTTP = &http.Client{Timeout: 30 * time.Second}
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.MailTLS == nil {
		d.MailTLS = mailTLSOf(d.HTTP)
	}
	return &Conn{prof: p, hosts: p.Hosts.WithDefaults(), d: d, cache: map[string]cached{}}
}

// WithSecret is the same connection with a client secret that is not (yet)
// stored: one typed in, or a new one to prove. It shares no token.
func (c *Conn) WithSecret(s store.Secret) *Conn {
	n := New(c.prof, c.d)
	n.secret, n.secretRead = store.ClientSecret{Value: s}, true
	return n
}

// WithCertificate is the same connection signing in with a certificate
// that is not (yet) the profile's: a new one to prove. It shares no
// token.
func (c *Conn) WithCertificate(cert *flows.ClientCertificate) *Conn {
	p := c.prof
	p.Credential = store.CredentialCertificate
	n := New(p, c.d)
	n.cert = cert
	return n
}

// Profile is the profile the connection was made for.
func (c *Conn) Profile() store.Profile { return c.prof }

// Hosts are the profile's hosts and audiences, with its cloud's defaults.
func (c *Conn) Hosts() store.Hosts { return c.hosts }

// Tenant is where the profile's app lives: its tenant ID, else its
// verified domain.
func (c *Conn) Tenant() string { return Tenant(c.prof) }

// Tenant is where a profile's app lives: its tenant ID, else its domain.
func Tenant(p store.Profile) string {
	if p.TenantID != "" {
		return p.TenantID
	}
	return p.TenantDomain
}

// Serves reports whether the connection is the one for p: the same
// cloud, tenant and app.
func (c *Conn) Serves(p store.Profile) bool {
	return p.Hosts.WithDefaults().Authority == c.hosts.Authority && Tenant(p) == c.Tenant() && p.ClientID == c.prof.ClientID
}

// ErrNoIDs: the profile has no tenant or client ID yet.
var ErrNoIDs = errors.New("the profile has no tenant or client ID yet: enter them at the IDs step")

// Secret is the profile's stored client secret, read once. With no secret
// stored it returns store.ErrNotFound.
func (c *Conn) Secret() (store.ClientSecret, error) {
	c.setup.Lock()
	defer c.setup.Unlock()
	return c.secretLocked()
}

func (c *Conn) secretLocked() (store.ClientSecret, error) {
	if !c.secretRead {
		c.secretRead = true
		if c.d.DB == nil {
			c.secretErr = fmt.Errorf("client secret of profile %q: %w", c.prof.ID, store.ErrNotFound)
		} else {
			c.secret, c.secretErr = c.d.DB.ClientSecret(c.prof.ID)
		}
	}
	return c.secret, c.secretErr
}

// SaveSecret stores a new record of the client secret (a new expiry read
// from Graph, say) and uses it from now on.
func (c *Conn) SaveSecret(cs store.ClientSecret) error {
	if c.d.DB == nil {
		return errors.New("no store to keep the client secret in")
	}
	if err := c.d.DB.SetClientSecret(c.prof.ID, cs); err != nil {
		return err
	}
	c.setup.Lock()
	c.secret, c.secretErr, c.secretRead = cs, nil, true
	c.setup.Unlock()
	return nil
}

// Identity is the identity-platform client of the profile's app, with
// its stored client secret when there is one (sent only by confidential
// grants). Discovery runs once; a failure is tried again next call.
func (c *Conn) Identity(ctx context.Context) (*flows.Client, error) {
	c.setup.Lock()
	defer c.setup.Unlock()
	if c.fc != nil {
		return c.fc, nil
	}
	if c.prof.OnPremises {
		return nil, &Problem{Msg: "an on-premises profile has no tokens", Fix: "On-premises Exchange is reached by EWS only, with the service account: choose that protocol in step 1."}
	}
	if c.prof.ClientID == "" || c.Tenant() == "" {
		return nil, ErrNoIDs
	}
	cs, err := c.secretLocked()
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	cert, err := c.certificateLocked()
	if err != nil {
		return nil, err
	}
	fc, err := flows.New(ctx, c.config(c.prof.ClientID, Tenant(c.prof), cs.Value, cert))
	if err != nil {
		return nil, err
	}
	c.fc = fc
	return fc, nil
}

// certificateLocked is the certificate the app signs in with: nil for a
// profile that uses its client secret.
func (c *Conn) certificateLocked() (*flows.ClientCertificate, error) {
	if c.cert != nil || !c.prof.UsesCertificate() {
		return c.cert, nil
	}
	if c.d.DB == nil {
		return nil, fmt.Errorf("certificate of profile %q: %w", c.prof.ID, store.ErrNotFound)
	}
	sc, err := c.d.DB.ClientCertificate(c.prof.ID)
	if err != nil {
		return nil, fmt.Errorf("%w: make one at the register step, or with 'modauth secret rotate'", err)
	}
	c.cert, err = flows.CertificateFromStore(sc)
	return c.cert, err
}

// identity discovers the endpoints of an app in a tenant of the cloud.
func (c *Conn) identity(ctx context.Context, clientID, tenant string, secret store.Secret) (*flows.Client, error) {
	if tenant == "" {
		return nil, ErrNoIDs
	}
	return flows.New(ctx, c.config(clientID, tenant, secret, nil))
}

// config is the identity client's configuration for an app in a tenant
// of the profile's cloud.
func (c *Conn) config(clientID, tenant string, secret store.Secret, cert *flows.ClientCertificate) flows.Config {
	return flows.Config{
		Authority: c.hosts.Authority, Tenant: tenant, ClientID: clientID, ClientSecret: secret, Certificate: cert,
		HTTPClient: c.d.HTTP, Now: c.d.Now, Sleep: c.d.Sleep, Logger: c.d.Logger,
	}
}

// Plan is the registration plan of the profile, rebuilt from what it
// stores; nil when the profile makes none (no preset, no protocols).
func (c *Conn) Plan() *appreg.Plan {
	c.planOnce.Do(func() { c.plan, _ = Plan(c.prof) })
	return c.plan
}

// Plan rebuilds the registration plan of a stored profile, in its cloud.
func Plan(p store.Profile) (*appreg.Plan, error) {
	sc := appreg.Scenario{
		Preset: p.Preset, Product: p.Customer, Environment: p.Environment, Model: p.Model,
		Protocols: p.Protocols, OnPremises: p.OnPremises, RedirectURI: p.RedirectURI, Hosts: p.Hosts,
	}
	if pre, ok := appreg.PresetByID(p.Preset); ok {
		sc.NativeRedirectURIs, sc.DeviceCode = pre.Scenario.NativeRedirectURIs, pre.Scenario.DeviceCode
		sc.ProductSecret = pre.Scenario.ProductSecret
		if pre.Product != "Generic" {
			sc.Product = pre.Product
		}
		sc.Data = pre.Scenario.Data
	}
	sc.Certificate = p.UsesCertificate()
	// modauth's own sign-ins use device code where a browser is missing.
	sc.DeviceCode = sc.DeviceCode || p.Model != store.AppOnly
	for _, f := range p.Folders {
		if d := appreg.Data(f); !slices.Contains(sc.Data, d) {
			sc.Data = append(sc.Data, d)
		}
	}
	return appreg.NewPlan(sc)
}

// mailTLSOf is the trust of an HTTP client's transport, for mail servers.
func mailTLSOf(hc *http.Client) *tls.Config {
	t, ok := hc.Transport.(*http.Transport)
	if !ok || t.TLSClientConfig == nil {
		return nil
	}
	cfg := t.TLSClientConfig.Clone()
	cfg.ServerName, cfg.NextProtos = "", nil
	return cfg
}
