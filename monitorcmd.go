package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/modauth/modauth/conn"
	"github.com/modauth/modauth/exchange"
	"github.com/modauth/modauth/monitor"
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
	ready       func(addr string)
}

func newMonitorCmd(io streams, data *dataDirFlag) *cobra.Command {
	opts := &monitorOptions{IO: io, Data: data}
	cmd := &cobra.Command{
		Use:   "monitor",
		Short: "Run the sync engine headless, for systemd or cron",
		Long: `Sweeps every user of every profile: keeps tokens valid, syncs, and records
each user's state. With --metrics-addr it serves Prometheus metrics: secret
expiry per profile, last success per user, users per state, token requests
and throttling.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runMonitor(cmd.Context(), opts) },
	}
	cmd.Flags().BoolVar(&opts.Once, "once", false, "run one sweep and exit (for cron)")
	cmd.Flags().DurationVar(&opts.Interval, "interval", 15*time.Minute, "time between sweeps")
	cmd.Flags().StringVar(&opts.MetricsAddr, "metrics-addr", "", "serve Prometheus metrics on this address, e.g. 127.0.0.1:9464")
	cmd.Flags().IntVar(&opts.Concurrency, "concurrency", 16, "requests in flight per tenant")
	return cmd
}

func runMonitor(ctx context.Context, opts *monitorOptions) error {
	db, err := opts.Data.open()
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := selectProfiles(db, ""); err != nil {
		return fmt.Errorf("nothing to monitor: %w", err)
	}
	logger := slog.New(slog.NewTextHandler(opts.IO.Err, &slog.HandlerOptions{Level: slog.LevelInfo}))
	eng := monitor.New(db, monitor.Options{Interval: opts.Interval, Concurrency: opts.Concurrency, Logger: logger, HTTPClient: opts.HTTPClient, Now: opts.IO.Now})

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
	sweep := func() error {
		sum, err := eng.Sweep(ctx)
		if err != nil {
			return err
		}
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
			return nil
		case <-time.After(opts.Interval):
		}
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
