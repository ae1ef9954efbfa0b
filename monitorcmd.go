package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/modauth/modauth/conn"
	"github.com/modauth/modauth/exchange"
	"github.com/modauth/modauth/monitor"
	"github.com/modauth/modauth/service"
	"github.com/modauth/modauth/store"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"
)

type monitorOptions struct {
	IO          streams
	Data        *dataDirFlag
	Once        bool
	Interval    time.Duration
	MetricsAddr string
	Concurrency int
	HTTPClient  *http.Client // tests: the simulator's
	// Reload asks for the profiles to be re-read (SIGHUP).
	Reload      <-chan os.Signal
	SystemdUnit bool
	// LeaseTTL is how long the other monitors on etcd wait for this
	// one's tenants when it dies.
	LeaseTTL time.Duration
	ready    func(addr string)
}

func newMonitorCmd(io streams, data *dataDirFlag) *cobra.Command {
	opts := &monitorOptions{IO: io, Data: data}
	cmd := &cobra.Command{
		Use:   "monitor",
		Short: "Run the sync engine headless, for systemd or cron",
		Long: `Sweeps every user of every profile: keeps tokens valid, syncs, and records
each user's state. It is the service owning the data directory: check,
report, users, secret and doctor run in it through the socket modauth.sock
there while it runs. SIGTERM or SIGINT stop it cleanly; SIGHUP re-reads the
profiles with a sweep at once. With --metrics-addr it serves Prometheus metrics: secret
expiry per profile, last success per user, users per state, token requests
and throttling.

With --etcd (or MODAUTH_ETCD) the store is in etcd and several monitors
share its tenants: each sweeps the tenants it holds by a lease, and when one
dies the others take its tenants within --lease-ttl. Every monitor's data
directory needs the same modauth.key.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.SystemdUnit {
				return printSystemdUnit(opts)
			}
			hup := make(chan os.Signal, 1)
			signal.Notify(hup, syscall.SIGHUP)
			defer signal.Stop(hup)
			opts.Reload = hup
			return runMonitor(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.Once, "once", false, "run one sweep and exit (for cron)")
	cmd.Flags().DurationVar(&opts.Interval, "interval", defaultInterval, "time between sweeps")
	cmd.Flags().StringVar(&opts.MetricsAddr, "metrics-addr", "", "serve Prometheus metrics on this address, e.g. 127.0.0.1:9464")
	cmd.Flags().IntVar(&opts.Concurrency, "concurrency", 16, "requests in flight per tenant")
	cmd.Flags().DurationVar(&opts.LeaseTTL, "lease-ttl", 10*time.Second, "with --etcd: how long the other monitors wait before they take a dead monitor's tenants")
	cmd.Flags().BoolVar(&opts.SystemdUnit, "systemd-unit", false, "print a hardened systemd unit that runs this monitor, and exit")
	return cmd
}

func runMonitor(ctx context.Context, opts *monitorOptions) error {
	db, err := opts.Data.open()
	if errors.Is(err, store.ErrLocked) {
		if c, ok := service.Attach(ctx, opts.Data.dir); ok {
			if st, err := c.Status(ctx); err == nil {
				return fmt.Errorf("%w (pid %d) in %s: stop it first; the other commands use it by themselves", service.ErrRunning, st.PID, opts.Data.dir)
			}
		}
	}
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := selectProfiles(db, ""); err != nil {
		return fmt.Errorf("nothing to monitor: %w", err)
	}
	logger := slog.New(slog.NewTextHandler(opts.IO.Err, &slog.HandlerOptions{Level: slog.LevelInfo}))
	member, err := joinCluster(ctx, db, opts, logger)
	if err != nil {
		return err
	}
	defer member.Close()
	eng := monitor.New(db, monitor.Options{Interval: opts.Interval, Concurrency: opts.Concurrency, Logger: logger, HTTPClient: opts.HTTPClient, Now: opts.IO.Now, Owner: member.owner()})

	if opts.MetricsAddr != "" {
		ln, err := net.Listen("tcp", opts.MetricsAddr)
		if err != nil {
			return fmt.Errorf("serve metrics: %w", err)
		}
		reg := prometheus.NewRegistry()
		reg.MustRegister(&metrics{db: db, eng: eng, now: opts.IO.Now})
		srv := &http.Server{Handler: promhttp.HandlerFor(reg, promhttp.HandlerOpts{}), ReadHeaderTimeout: 10 * time.Second}
		go srv.Serve(ln)
		defer srv.Close()
		logger.Info("serving metrics", "addr", ln.Addr().String())
		if opts.ready != nil {
			opts.ready(ln.Addr().String())
		}
	}
	// The service: while this process holds the database, the other
	// commands run in it, through the socket.
	srv, err := serve(db, eng, opts, logger)
	if err != nil {
		return err
	}
	defer stopServing(srv, logger)

	sweep := func() error {
		sum, err := eng.Sweep(ctx)
		if err != nil {
			return err
		}
		srv.Swept(opts.IO.Now())
		logger.Info("sweep done", "profiles", sum.Profiles, "users", sum.Users, "ok", sum.States[store.StateOK],
			"failing", sum.Failing(), "ran", sum.Jobs(), "duration", sum.Duration.Round(time.Millisecond))
		return nil
	}
	if opts.Once {
		return sweep()
	}
	for {
		if err := sweep(); err != nil && ctx.Err() == nil {
			logger.Error("sweep failed", "err", err)
		}
		select {
		case <-ctx.Done():
			logger.Info("stopping")
			return nil
		case <-opts.Reload:
			// A sweep reads every profile from the store: so a sweep now
			// is what re-reading them means.
			logger.Info("profiles re-read on SIGHUP: sweeping now")
		case <-member.claimed():
			logger.Info("tenants claimed from the cluster: sweeping now")
		case <-member.lost():
			return errSessionLost
		case <-time.After(opts.Interval):
		}
	}
}

// serve starts the service's socket API in the data directory.
func serve(db *store.DB, eng *monitor.Engine, opts *monitorOptions, logger *slog.Logger) (*service.Server, error) {
	ln, err := service.Listen(context.Background(), opts.Data.dir)
	if err != nil {
		return nil, err
	}
	srv := &service.Server{DataDir: opts.Data.dir, Engine: eng, Run: serviceRunner(db, opts.Data, opts.IO), Logger: logger, Started: opts.IO.Now()}
	srv.Terminal = serviceTerminal(db, eng, srv, opts, logger)
	go func() {
		if err := srv.Serve(ln); err != nil {
			logger.Error("service stopped", "err", err)
		}
	}()
	logger.Info("serving the local API", "socket", service.SocketPath(opts.Data.dir))
	return srv, nil
}

// stopTimeout bounds how long the commands clients run may take to end
// after a SIGTERM; systemd waits TimeoutStopSec (30s) for it all.
const stopTimeout = 5 * time.Second

// stopServing ends the clients' commands and removes the socket, before
// the database closes.
func stopServing(srv *service.Server, logger *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), stopTimeout)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		logger.Error("stop the local API", "err", err)
	}
}

// readerGraph is Graph for reading the directory: on the monitoring app's
// token when the profile has one (its User.Read.All, so the product's own
// app needs no directory-wide rights), else as appGraph.
func readerGraph(hc *http.Client, now func() time.Time) graphFactory {
	app := appGraph(hc, now)
	return func(ctx context.Context, db *store.DB, p store.Profile) (*exchange.Graph, error) {
		if g, ok := conn.New(p, conn.Deps{DB: db, HTTP: hc, Now: now}).MonitorGraph(); ok {
			return g, nil
		}
		return app(ctx, db, p)
	}
}

// appGraph is a Graph client on the profile's app-only token: what
// headless commands use, since no person is there to sign in. now is the
// clock the token's expiry is read on.
func appGraph(hc *http.Client, now func() time.Time) graphFactory {
	return func(ctx context.Context, db *store.DB, p store.Profile) (*exchange.Graph, error) {
		cn := conn.New(p, conn.Deps{DB: db, HTTP: hc, Now: now})
		if _, err := cn.Secret(); errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("profile %s has no client secret: this needs the app's secret and its User.Read.All application permission (or resolve users in the wizard, where an admin signs in)", p.ID)
		} else if err != nil {
			return nil, err
		}
		if _, err := cn.Identity(ctx); err != nil {
			return nil, err
		}
		return cn.AppGraph(), nil
	}
}

// defaultInterval is the time between sweeps.
const defaultInterval = 15 * time.Minute
