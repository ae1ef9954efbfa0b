package monitor

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/modauth/modauth/exchange"
	"github.com/modauth/modauth/flows"
	"github.com/modauth/modauth/store"
)

// refreshMargin: an access token is renewed only when less than this is
// left, so a sweep asks for as few tokens as it can.
const refreshMargin = 5 * time.Minute

// Token audiences per protocol.
const (
	audOutlook = "https://outlook.office.com"    // IMAP, POP, SMTP
	audEWS     = "https://outlook.office365.com" // EWS, and app-only Exchange
)

// conn is a profile's live connection: its flows client, HTTP client bound
// to the tenant's request slots, and the access tokens in memory. Access
// tokens are never stored: only refresh tokens are, sealed.
type conn struct {
	e       *Engine
	prof    store.Profile
	hosts   store.Hosts
	secret  store.ClientSecret
	http    *http.Client
	flows   *flows.Client
	updated time.Time

	mu    sync.Mutex
	cache map[string]cached
}

type cached struct {
	token  store.Secret
	expiry time.Time
}

// conn returns the profile's connection, made anew when the profile or its
// secret changed.
func (e *Engine) conn(ctx context.Context, p store.Profile) (*conn, error) {
	e.mu.Lock()
	c, ok := e.conns[p.ID]
	e.mu.Unlock()
	if ok && c.updated.Equal(p.Updated) {
		return c, nil
	}
	secret, err := e.db.ClientSecret(p.ID)
	if err != nil && !isNotFound(err) {
		return nil, err
	}
	hosts := p.Hosts.WithDefaults()
	hc := *e.opts.HTTPClient
	hc.Transport = &limitTransport{next: keepAlive(hc.Transport, e.opts.Concurrency), slots: e.tenantSlots(tenantOf(p)), stats: &e.Stats}
	var fc *flows.Client
	if !p.OnPremises { // on-premises EWS takes Basic: no identity platform involved
		fc, err = flows.New(ctx, flows.Config{
			Authority: hosts.Authority, Tenant: tenantOf(p), ClientID: p.ClientID, ClientSecret: secret.Value,
			HTTPClient: &hc, Now: e.opts.Now, Sleep: e.opts.Sleep, Logger: e.opts.Logger,
		})
		if err != nil {
			return nil, err
		}
	}
	c = &conn{e: e, prof: p, hosts: hosts, secret: secret, http: &hc, flows: fc, updated: p.Updated, cache: map[string]cached{}}
	e.mu.Lock()
	e.conns[p.ID] = c
	e.mu.Unlock()
	return c, nil
}

func tenantOf(p store.Profile) string {
	if p.TenantID != "" {
		return p.TenantID
	}
	return p.TenantDomain
}

func (c *conn) cachedToken(key string) (store.Secret, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t, ok := c.cache[key]
	if !ok || t.expiry.Sub(c.e.opts.Now()) < refreshMargin {
		return "", false
	}
	return t.token, true
}

func (c *conn) keep(key string, t *flows.Token) {
	c.mu.Lock()
	c.cache[key] = cached{t.AccessToken, t.Expiry}
	c.mu.Unlock()
}

// userToken makes sure a user has a fresh access token for audience. When
// it had to refresh, it returns the rotated token, which the caller
// stores before the access token is used.
func (c *conn) userToken(ctx context.Context, userKey string, stored store.Token, audience string) (*store.Token, error) {
	key := userKey + "|" + audience
	if _, ok := c.cachedToken(key); ok {
		return nil, nil
	}
	scopes := c.scopesFor(audience)
	if len(scopes) == 0 {
		return nil, fmt.Errorf("profile %s has no %s scopes: run the consent step of the wizard", c.prof.ID, audience)
	}
	c.e.Stats.TokenRequests.Add(1)
	t, err := c.flows.Refresh(ctx, stored, scopes...)
	if err != nil {
		return nil, err
	}
	c.keep(key, t)
	rotated := t.Stored()
	rotated.Scopes = stored.Scopes // what the user consented to, not just this resource
	return &rotated, nil
}

// accessToken returns the access token userToken made sure of.
func (c *conn) accessToken(userKey, audience string) (store.Secret, error) {
	if t, ok := c.cachedToken(userKey + "|" + audience); ok {
		return t, nil
	}
	return "", fmt.Errorf("no access token for %s", audience)
}

// appToken returns an app-only token for resource, one per tenant and
// resource, asked again only when it is about to expire.
func (c *conn) appToken(ctx context.Context, resource string) (store.Secret, error) {
	key := "app|" + resource
	if t, ok := c.cachedToken(key); ok {
		return t, nil
	}
	c.mu.Lock() // one request per resource, not one per waiting user
	defer c.mu.Unlock()
	if t, ok := c.cache[key]; ok && t.expiry.Sub(c.e.opts.Now()) >= refreshMargin {
		return t.token, nil
	}
	c.e.Stats.TokenRequests.Add(1)
	t, err := c.flows.ClientCredentials(ctx, resource)
	if err != nil {
		return "", err
	}
	c.cache[key] = cached{t.AccessToken, t.Expiry}
	return t.AccessToken, nil
}

// scopesFor picks the profile's consented scopes on one audience.
func (c *conn) scopesFor(audience string) []string {
	var out []string
	for _, s := range c.prof.Scopes {
		if strings.HasPrefix(strings.ToLower(s), audience+"/") {
			out = append(out, s)
		}
	}
	return out
}

// graph returns a Graph client whose token comes from tokenFn.
func (c *conn) graph(tokenFn exchange.TokenFunc) *exchange.Graph {
	return &exchange.Graph{Host: c.hosts.Graph, HTTP: c.http, Token: tokenFn, Sleep: c.e.opts.Sleep}
}

// limitTransport bounds the requests in flight to a tenant and counts
// throttled answers.
type limitTransport struct {
	next  http.RoundTripper
	slots chan struct{}
	stats *Stats
}

func (t *limitTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	select {
	case t.slots <- struct{}{}:
	case <-r.Context().Done():
		return nil, r.Context().Err()
	}
	defer func() { <-t.slots }()
	next := t.next
	if next == nil {
		next = http.DefaultTransport
	}
	resp, err := next.RoundTrip(r)
	if err == nil && resp.StatusCode == http.StatusTooManyRequests {
		t.stats.Throttled.Add(1)
	}
	return resp, err
}

// keepAlive keeps as many idle connections per host as requests may be in
// flight: with net/http's default of two, a busy sweep opens and closes
// connections until the machine runs out of ports.
func keepAlive(rt http.RoundTripper, perHost int) http.RoundTripper {
	if rt == nil {
		rt = http.DefaultTransport
	}
	t, ok := rt.(*http.Transport)
	if !ok {
		return rt
	}
	t = t.Clone()
	t.MaxIdleConnsPerHost = max(t.MaxIdleConnsPerHost, 2*perHost)
	return t
}
