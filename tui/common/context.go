// Package common is what every screen of the interface shares: the
// Context (size, styles, options, the profile), the keys, the messages a
// screen sends to the frame, text helpers, the huh form wrapper, the
// yes/no question, the task helper and the contract of a component and
// of a wizard step.
package common

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net/http"
	"path/filepath"
	"time"

	"github.com/modauth/modauth/conn"
	"github.com/modauth/modauth/exchange"
	"github.com/modauth/modauth/monitor"
	"github.com/modauth/modauth/store"
)

// Options wire the interface to the rest of modauth.
type Options struct {
	DB *store.DB
	// Hosts are the defaults for a new profile: the public cloud, or the
	// simulator in demo mode.
	Hosts      store.Hosts
	HTTPClient *http.Client
	// Now is the clock every countdown and expiry check reads: time.Now
	// in the program, the simulator's clock in tests. It is required, so
	// that no test falls back to the wall clock unnoticed.
	Now func() time.Time
	// Sleep waits between device-code polls; tests advance a clock.
	Sleep func(ctx context.Context, d time.Duration) error
	// OpenURL opens a link in a browser; it fails when there is none (SSH).
	OpenURL func(url string) error
	Logger  *slog.Logger
	// Demo describes the simulated tenant in demo mode, shown in the header.
	Demo string
	// NoAltScreen keeps the frame in the normal buffer (tests).
	NoAltScreen bool
	// Accessible asks every form line by line (huh's accessible mode) for
	// screen readers, instead of drawing it in the frame.
	Accessible bool
	// MailTLS verifies the IMAP, POP and SMTP servers; nil: the system
	// roots. The demo trusts the simulator's.
	MailTLS *tls.Config
	// ExportDir is where exports and saved files go; "" puts them next to
	// the database.
	ExportDir string
	// Throwaway is a data directory deleted when the program ends (the
	// demo's): leaving asks first and says so.
	Throwaway string
	// Service is set when the interface runs inside `modauth monitor` for
	// a client attached over its socket.
	Service *Hosted
	// Owner limits the sweeps of the interface's own engine, when it has
	// one: on a store the monitors share in etcd it is monitor.Onlooker,
	// so that the interface never redeems the tokens they redeem.
	Owner monitor.Owner
}

// Hosted is the service an attached interface runs in: its engine sweeps
// on the service's schedule, and the dashboard follows it (its changes,
// its sweeps, its actions) instead of running an engine of its own.
type Hosted struct {
	Engine *monitor.Engine
	// LastSweep is when the service's last sweep ended; zero before one.
	LastSweep func() time.Time
	// Resize carries the client terminal's new sizes.
	Resize <-chan [2]int
}

// SavePath is where a file the person saves or exports goes.
func (o Options) SavePath(name string) string {
	dir := o.ExportDir
	if dir == "" && o.DB != nil {
		dir = o.DB.Dir()
	}
	return filepath.Join(cmp.Or(dir, "."), name)
}

// Context is what every screen shares: size, styles, options and the
// profile being set up. Screens get a pointer and never copy it.
type Context struct {
	Options
	Width, Height int
	Dark          bool
	Styles        Styles
	Profile       store.Profile
	// AdminGraph is Graph on the token of the admin who signed in to
	// register the app, kept for the session: the users step resolves
	// accounts with it when the profile has no app-only access.
	AdminGraph *exchange.Graph
	Ctx        context.Context
}

// ErrorLines is the height of the error slot: room for an error and the
// start of its fix.
const ErrorLines = 2

// BodyHeight is the room a screen has: the frame takes a header line, a
// blank line, the error slot and the help bar.
func (c *Context) BodyHeight() int { return max(c.Height-3-ErrorLines-1, 5) }

// ErrNoBrowser is what OpenURL answers where no browser can be started.
var ErrNoBrowser = errors.New("no browser can be opened here")

// Conn is the connection of a profile on the interface's store, HTTP
// client, clock and log. Its waits go through Sleep as it is when a wait
// starts: tests replace it while a sign-in polls.
func (c *Context) Conn(p store.Profile) *conn.Conn {
	d := conn.Deps{DB: c.DB, HTTP: c.HTTPClient, Now: c.Now, Logger: c.Logger, MailTLS: c.MailTLS}
	if c.Sleep != nil {
		d.Sleep = func(ctx context.Context, wait time.Duration) error { return c.Sleep(ctx, wait) }
	}
	return conn.New(p, d)
}
