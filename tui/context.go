// Package tui is modauth's terminal interface: the setup wizard and, later,
// the dashboard. Only the root model returns a tea.View; screens render
// strings into the fixed frame: header, body, error slot, help bar.
package tui

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"path/filepath"
	"time"

	"github.com/modauth/modauth/conn"
	"github.com/modauth/modauth/exchange"
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
	// ExportDir is where exports and saved files go; "" puts them next to
	// the database.
	ExportDir string
	// Throwaway is a data directory deleted when the program ends (the
	// demo's): leaving asks first and says so.
	Throwaway string
}

// savePath is where a file the person saves or exports goes.
func (o Options) savePath(name string) string {
	dir := o.ExportDir
	if dir == "" && o.DB != nil {
		dir = filepath.Dir(o.DB.Path())
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
	ctx        context.Context
}

// errorLines is the height of the error slot: room for an error and the
// start of its fix.
const errorLines = 2

// bodyHeight is the room a screen has: the frame takes a header line, a
// blank line, the error slot and the help bar.
func (c *Context) bodyHeight() int { return max(c.Height-3-errorLines-1, 5) }

// errNoBrowser is what OpenURL answers where no browser can be started.
var errNoBrowser = errors.New("no browser can be opened here")

// now reads the injected clock.
func (c *Context) now() time.Time { return c.Now() }

// conn is the connection of a profile on the interface's store, HTTP
// client, clock and log. Its waits go through Sleep as it is when a wait
// starts: tests replace it while a sign-in polls.
func (c *Context) conn(p store.Profile) *conn.Conn {
	d := conn.Deps{DB: c.DB, HTTP: c.HTTPClient, Now: c.Now, Logger: c.Logger}
	if c.Sleep != nil {
		d.Sleep = func(ctx context.Context, wait time.Duration) error { return c.Sleep(ctx, wait) }
	}
	return conn.New(p, d)
}
