package monitor

import (
	"context"
	"net/http"
	"time"

	"github.com/modauth/modauth/conn"
	"github.com/modauth/modauth/store"
)

// profileConn is a profile's live connection: conn.Conn on an HTTP client
// bound to the tenant's request slots, with the access tokens in memory.
// Access tokens are never stored: only refresh tokens are, sealed.
type profileConn struct {
	*conn.Conn
	prof    store.Profile
	updated time.Time
}

// conn returns the profile's connection, made anew when the profile or its
// secret changed. It reads the secret and discovers the tenant's
// endpoints at once, so that a profile that cannot connect fails once,
// not once per user.
func (e *Engine) conn(ctx context.Context, p store.Profile) (*profileConn, error) {
	e.mu.Lock()
	c, ok := e.conns[p.ID]
	e.mu.Unlock()
	if ok && c.updated.Equal(p.Updated) {
		return c, nil
	}
	hc := *e.opts.HTTPClient
	hc.Transport = &limitTransport{next: keepAlive(hc.Transport, e.opts.Concurrency), slots: e.tenantSlots(conn.Tenant(p)), stats: &e.Stats}
	cn := conn.New(p, conn.Deps{
		DB: e.db, HTTP: &hc, Now: e.opts.Now, Sleep: e.opts.Sleep, Logger: e.opts.Logger, MailTLS: e.opts.MailTLS,
		TokenRequested: func() { e.Stats.TokenRequests.Add(1) },
	})
	if _, err := cn.Secret(); err != nil && !isNotFound(err) {
		return nil, err
	}
	if !p.OnPremises { // on-premises EWS takes Basic: no identity platform involved
		if _, err := cn.Identity(ctx); err != nil {
			return nil, err
		}
	}
	c = &profileConn{Conn: cn, prof: p, updated: p.Updated}
	e.mu.Lock()
	e.conns[p.ID] = c
	e.mu.Unlock()
	return c, nil
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
