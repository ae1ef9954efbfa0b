package conn

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/modauth/modauth/flows"
	"github.com/modauth/modauth/store"
)

// Access tokens live only in the connection's memory: only refresh tokens
// are stored, sealed.

// Audience is the resource a protocol's token is asked for, in the
// profile's cloud: Graph's resource for Graph; the Exchange resource for
// EWS and for every app-only Exchange token; the mail resource for
// delegated IMAP, POP and SMTP.
func (c *Conn) Audience(proto store.Protocol) string {
	switch proto {
	case store.Graph:
		return c.hosts.GraphResource
	case store.EWS:
		return c.hosts.ExchangeResource
	case store.IMAP, store.POP, store.SMTP:
		if c.prof.Model == store.AppOnly {
			return c.hosts.ExchangeResource
		}
		return c.hosts.MailResource
	}
	return ""
}

// Audiences lists the audiences of the profile's protocols, once each, in
// the order of the protocols.
func (c *Conn) Audiences() []string {
	var out []string
	for _, proto := range c.prof.Protocols {
		if a := c.Audience(proto); a != "" && !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out
}

// oidc are the OpenID scopes: they name no resource.
var oidc = []string{"openid", "profile", "email", "offline_access"}

// Scopes picks the profile's consented scopes on one audience. Graph's
// may be written without their resource.
func (c *Conn) Scopes(audience string) []string {
	prefix := strings.ToLower(strings.TrimSuffix(audience, "/")) + "/"
	var out []string
	for _, sc := range c.prof.Scopes {
		l := strings.ToLower(sc)
		switch {
		case strings.HasPrefix(l, prefix):
			out = append(out, sc)
		case audience == c.hosts.GraphResource && !strings.Contains(sc, "/") && !slices.Contains(oidc, l):
			out = append(out, sc)
		}
	}
	return out
}

func (c *Conn) cachedToken(key string) (store.Secret, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t, ok := c.cache[key]
	if !ok || t.expiry.Sub(c.d.Now()) < refreshMargin {
		return "", false
	}
	return t.token, true
}

func (c *Conn) keep(key string, t *flows.Token) {
	c.mu.Lock()
	c.cache[key] = cached{t.AccessToken, t.Expiry}
	c.mu.Unlock()
}

func (c *Conn) counted() {
	if c.d.TokenRequested != nil {
		c.d.TokenRequested()
	}
}

// AppToken returns an app-only token for a resource (an audience of
// Audience), asked once and again only when it is about to expire.
func (c *Conn) AppToken(ctx context.Context, resource string) (store.Secret, error) {
	return c.clientToken(ctx, "app|"+resource, resource, c.Identity)
}

// clientToken is a client-credentials token for resource from the app
// identity gives, cached under key.
func (c *Conn) clientToken(ctx context.Context, key, resource string, identity func(context.Context) (*flows.Client, error)) (store.Secret, error) {
	if t, ok := c.cachedToken(key); ok {
		return reveal(ctx, t), nil
	}
	defer c.requests.lock(key)()
	if t, ok := c.cachedToken(key); ok {
		return reveal(ctx, t), nil
	}
	fc, err := identity(ctx)
	if err != nil {
		return "", err
	}
	c.counted()
	t, err := fc.ClientCredentials(ctx, resource)
	if err != nil {
		return "", err
	}
	c.keep(key, t)
	return reveal(ctx, t.AccessToken), nil
}

// ProveSecret proves a client secret before it is stored or handed over:
// it must get an app-only Graph token.
func (c *Conn) ProveSecret(ctx context.Context, s store.Secret) error {
	_, err := c.WithSecret(s).AppToken(ctx, c.hosts.GraphResource)
	return err
}

// ProveCertificate proves a certificate before it is stored or handed
// over, as ProveSecret does a secret.
func (c *Conn) ProveCertificate(ctx context.Context, cert *flows.ClientCertificate) error {
	_, err := c.WithCertificate(cert).AppToken(ctx, c.hosts.GraphResource)
	return err
}

func userKey(user, audience string) string { return "user|" + user + "|" + audience }

// Renew makes sure a user has a fresh access token for an audience, from
// the sign-in stored. When it had to refresh, it returns the rotated
// sign-in, which the caller stores before the access token is used (the
// monitor stores a chunk's rotations in one transaction); nil when the
// token it has is still fresh. UserToken then hands the access token out.
func (c *Conn) Renew(ctx context.Context, user string, stored store.Token, audience string) (*store.Token, error) {
	key := userKey(user, audience)
	if _, ok := c.cachedToken(key); ok {
		return nil, nil
	}
	defer c.requests.lock("user|" + user)()
	if _, ok := c.cachedToken(key); ok {
		return nil, nil
	}
	t, rotated, err := c.refresh(ctx, stored, audience)
	if err != nil {
		return nil, err
	}
	c.keep(key, t)
	return rotated, nil
}

// UserToken returns a user's access token for an audience: the one in
// memory, or a new one from their stored sign-in, whose rotated refresh
// token is stored before the access token is handed out.
func (c *Conn) UserToken(ctx context.Context, u store.User, audience string) (store.Secret, error) {
	u = c.signer(u)
	key := userKey(u.Key, audience)
	if t, ok := c.cachedToken(key); ok {
		return reveal(ctx, t), nil
	}
	defer c.requests.lock("user|" + u.Key)()
	if t, ok := c.cachedToken(key); ok {
		return reveal(ctx, t), nil
	}
	if c.d.DB == nil {
		return "", &Problem{Msg: "no store to read the sign-in from", Fix: "Run modauth with its data directory."}
	}
	stored, err := c.d.DB.Token(c.prof.ID, u.Key)
	if errors.Is(err, store.ErrNotFound) {
		return "", &Problem{Msg: "no sign-in is stored for " + cmp.Or(u.Account, u.Key), Fix: "Have the user sign in at the consent step (device code or browser), or send them the consent link.",
			Err: flows.ErrSignInNeeded}
	}
	if err != nil {
		return "", err
	}
	t, rotated, err := c.refresh(ctx, stored, audience)
	if err != nil {
		return "", err
	}
	if err := c.d.DB.PutToken(c.prof.ID, u.Key, *rotated); err != nil {
		return "", fmt.Errorf("store the renewed sign-in: %w", err)
	}
	c.keep(key, t)
	return t.AccessToken, nil
}

// refresh redeems a stored sign-in for an access token to an audience,
// with the profile's scopes on it.
func (c *Conn) refresh(ctx context.Context, stored store.Token, audience string) (*flows.Token, *store.Token, error) {
	scopes := c.Scopes(audience)
	if len(scopes) == 0 {
		return nil, nil, &Problem{Msg: fmt.Sprintf("the profile %s has no %s scopes", c.prof.ID, audience),
			Fix: "Go back to the consent step: the sign-in must ask for the scopes of every protocol."}
	}
	fc, err := c.Identity(ctx)
	if err != nil {
		return nil, nil, err
	}
	hide(ctx, stored.RefreshToken)
	c.counted()
	t, err := fc.Refresh(ctx, stored, scopes...)
	if err != nil {
		return nil, nil, &scopeError{err: err, scopes: scopes}
	}
	hide(ctx, t.AccessToken, t.RefreshToken)
	rotated := t.Stored()
	rotated.Scopes = stored.Scopes // what the user consented to, not just this resource
	return t, &rotated, nil
}

// scopeError is a failed refresh with the scopes it asked for, so that a
// missing consent can be named.
type scopeError struct {
	err    error
	scopes []string
}

func (e *scopeError) Error() string { return e.err.Error() }
func (e *scopeError) Unwrap() error { return e.err }

// keyedMutex is a mutex per key, kept only while someone holds or waits
// for it: a sweep over 100,000 users keeps no lock per user.
type keyedMutex struct {
	mu sync.Mutex
	m  map[string]*keyedEntry
}

type keyedEntry struct {
	sync.Mutex
	n int
}

// lock locks key and returns its unlock.
func (k *keyedMutex) lock(key string) func() {
	k.mu.Lock()
	if k.m == nil {
		k.m = map[string]*keyedEntry{}
	}
	e, ok := k.m[key]
	if !ok {
		e = &keyedEntry{}
		k.m[key] = e
	}
	e.n++
	k.mu.Unlock()
	e.Lock()
	return func() {
		e.Unlock()
		k.mu.Lock()
		if e.n--; e.n == 0 {
			delete(k.m, key)
		}
		k.mu.Unlock()
	}
}

// A probe collects the secrets it handles, so that none of them reaches
// a line on screen should a server echo one. The collector rides in the
// context; without one (a sweep) nothing is collected.
type collectorKey struct{}

type collector struct {
	mu      sync.Mutex
	secrets []string
}

func withCollector(ctx context.Context) (context.Context, *collector) {
	col := &collector{}
	return context.WithValue(ctx, collectorKey{}, col), col
}

func hide(ctx context.Context, vs ...store.Secret) {
	col, ok := ctx.Value(collectorKey{}).(*collector)
	if !ok {
		return
	}
	col.mu.Lock()
	defer col.mu.Unlock()
	for _, v := range vs {
		if !v.IsZero() && !slices.Contains(col.secrets, v.Reveal()) {
			col.secrets = append(col.secrets, v.Reveal())
		}
	}
}

// reveal hands a token out, noting it for the probe's redaction.
func reveal(ctx context.Context, t store.Secret) store.Secret {
	hide(ctx, t)
	return t
}

// redact takes every collected secret out of s.
func (col *collector) redact(s string) string {
	col.mu.Lock()
	defer col.mu.Unlock()
	for _, v := range col.secrets {
		s = strings.ReplaceAll(s, v, "[redacted]")
	}
	return s
}

// signer is whose sign-in reaches u's mailbox: u's own, or with the
// service-account model the service account's, kept under
// store.ServiceAccountKey or under the user the account is. Once found
// with a sign-in it is kept: the store is not read again per token.
func (c *Conn) signer(u store.User) store.User {
	sa := c.prof.ServiceAccount
	if c.prof.Model != store.ServiceAccount || c.d.DB == nil || sa == "" {
		return u
	}
	c.mu.Lock()
	known := c.saSigner
	c.mu.Unlock()
	if known != nil {
		return *known
	}
	s := c.findSigner(u, sa)
	if has, _ := c.d.DB.TokenMetaOf(c.prof.ID, []string{s.Key}); len(has) > 0 {
		c.mu.Lock()
		c.saSigner = &s
		c.mu.Unlock()
	}
	return s
}

// findSigner looks the service account's sign-in up: under its own key
// (without unsealing it), else the user the account is.
func (c *Conn) findSigner(u store.User, sa string) store.User {
	own := store.User{Key: store.ServiceAccountKey, Account: sa, UPN: sa}
	if has, _ := c.d.DB.TokenMetaOf(c.prof.ID, []string{own.Key}); len(has) > 0 {
		return own
	}
	if strings.EqualFold(u.UPN, sa) || strings.EqualFold(u.Account, sa) {
		return u
	}
	users, _ := c.d.DB.Users(c.prof.ID)
	for _, o := range users {
		if strings.EqualFold(o.UPN, sa) || (o.UPN == "" && strings.EqualFold(o.Account, sa)) {
			return o
		}
	}
	return own
}
