package conn

import (
	"context"
	"errors"
	"fmt"

	"github.com/modauth/modauth/exchange"
	"github.com/modauth/modauth/flows"
	"github.com/modauth/modauth/store"
)

// monitorApp is the identity of the profile's read-only monitoring app,
// set up once.
type monitorApp struct {
	secret store.ClientSecret
	err    error // reading the secret
	read   bool
	fc     *flows.Client
}

// monitorSecret is the monitoring app's stored secret, read once.
func (c *Conn) monitorSecret() (store.ClientSecret, error) {
	c.setup.Lock()
	defer c.setup.Unlock()
	return c.monitorSecretLocked()
}

func (c *Conn) monitorSecretLocked() (store.ClientSecret, error) {
	m := &c.monitor
	if !m.read {
		m.read = true
		switch {
		case c.prof.Monitor == nil:
			m.err = fmt.Errorf("profile %q has no monitoring app: %w", c.prof.ID, store.ErrNotFound)
		case c.d.DB == nil:
			m.err = fmt.Errorf("monitoring app's secret of profile %q: %w", c.prof.ID, store.ErrNotFound)
		default:
			m.secret, m.err = c.d.DB.MonitorSecret(c.prof.ID)
		}
	}
	return m.secret, m.err
}

// monitorIdentity is the identity-platform client of the monitoring app,
// in the profile's tenant and cloud.
func (c *Conn) monitorIdentity(ctx context.Context) (*flows.Client, error) {
	c.setup.Lock()
	defer c.setup.Unlock()
	if c.monitor.fc != nil {
		return c.monitor.fc, nil
	}
	cs, err := c.monitorSecretLocked()
	if err != nil {
		return nil, err
	}
	fc, err := c.identity(ctx, c.prof.Monitor.ClientID, c.Tenant(), cs.Value)
	if err != nil {
		return nil, err
	}
	c.monitor.fc = fc
	return fc, nil
}

// monitorToken is the monitoring app's app-only token for a resource,
// cached apart from the product app's.
func (c *Conn) monitorToken(ctx context.Context, resource string) (store.Secret, error) {
	return c.clientToken(ctx, "monitor|"+resource, resource, c.monitorIdentity)
}

// MonitorGraph is Graph on the monitoring app's client-credentials token:
// it reads the product app's credentials, sign-in logs and users, which
// the product's own app may not. ok is false when the profile has no
// monitoring app or its secret is not stored.
func (c *Conn) MonitorGraph() (g *exchange.Graph, ok bool) {
	if c.prof.Monitor == nil || c.prof.Monitor.ClientID == "" || c.prof.OnPremises {
		return nil, false
	}
	if _, err := c.monitorSecret(); err != nil {
		return nil, false
	}
	return c.Graph(func(ctx context.Context) (store.Secret, error) { return c.monitorToken(ctx, c.hosts.GraphResource) }), true
}

// Visibility is what modauth can see of the product from outside.
type Visibility struct {
	// MonitorApp: the profile's monitoring app and its secret are stored.
	MonitorApp bool
	// Why is one line for screens: what is seen, or what is not and why.
	Why string
}

// Sees says what modauth can see of the product's app: everything its
// monitoring app reads, or, without one, only the dates entered.
func (c *Conn) Sees() Visibility {
	if c.prof.OnPremises {
		return Visibility{Why: "on-premises: no Entra app to watch; the service account's password has no expiry modauth can read"}
	}
	if _, ok := c.MonitorGraph(); ok {
		return Visibility{MonitorApp: true, Why: "monitoring app: the product app's secret and certificate expiry are read from Entra"}
	}
	why := "no monitoring app: secret expiry is the date entered; product sign-ins are not read"
	if c.prof.Monitor != nil {
		_, err := c.monitorSecret()
		if errors.Is(err, store.ErrNotFound) {
			why = "the monitoring app's secret is not stored: secret expiry is the date entered; product sign-ins are not read"
		} else {
			why = "the monitoring app's secret does not open: secret expiry is the date entered; product sign-ins are not read"
		}
	}
	return Visibility{Why: why}
}
