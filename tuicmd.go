package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/modauth/modauth/tui"
	"github.com/pkg/browser"
)

// isTerminal reports whether f is a terminal (a character device).
func isTerminal(v any) bool {
	f, ok := v.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// errNoTerminal: the interface needs a terminal to draw on.
var errNoTerminal = errors.New("modauth needs a terminal for its setup and dashboard: run it in one, or use `modauth monitor`, `modauth check` and `modauth report` headless")

// runTUI opens the interface on opts.DB with the caller's options. It logs
// to modauth.log next to the database: the screen belongs to the
// interface.
func runTUI(ctx context.Context, io streams, opts tui.Options) error {
	if !isTerminal(io.In) || !isTerminal(io.Out) {
		return errNoTerminal
	}
	logFile, err := os.OpenFile(filepath.Join(opts.DB.Dir(), "modauth.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("open the log: %w", err)
	}
	defer logFile.Close()
	opts.Logger = slog.New(slog.NewTextHandler(logFile, &slog.HandlerOptions{Level: slog.LevelDebug}))
	opts.Now, opts.OpenURL, opts.Accessible = io.Now, openURL, io.Accessible != nil && *io.Accessible
	return tui.Run(ctx, opts)
}

// errNoBrowserHere: the screen shows the link instead.
var errNoBrowserHere = errors.New("no browser here")

// openURL opens a browser where there is one; over SSH there is none, and
// the screen shows the link instead.
func openURL(url string) error {
	if os.Getenv("SSH_CONNECTION") != "" || (os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" && os.Getenv("BROWSER") == "" && !isDesktopOS()) {
		return errNoBrowserHere
	}
	browser.Stdout, browser.Stderr = nil, nil
	return browser.OpenURL(url)
}
