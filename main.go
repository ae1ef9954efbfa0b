// Command modauth moves a business application's Microsoft Exchange
// connection from Basic Auth to OAuth 2.0 on Microsoft Entra ID, and keeps
// it alive afterwards.
//
// main.go only wires: it parses flags, builds the parts and maps errors to
// exit codes in one place (exitCode).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/modauth/modauth/appreg"
	"github.com/modauth/modauth/service"
	"github.com/modauth/modauth/store"
	"github.com/modauth/modauth/tui"
	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3".
var version = ""

// streams are where a command reads and writes: data to Out, prose to Err.
// Now is the clock its decisions read: the wall clock here, the
// simulator's in tests.
type streams struct {
	In       io.Reader
	Out, Err io.Writer
	Now      func() time.Time
	// Accessible: the person reads the terminal with a screen reader
	// (--accessible or ACCESSIBLE=1), so forms are asked line by line. A
	// pointer: every command's copy of the streams sees the flag.
	Accessible *bool
	// Dir is where relative file names given on the command line are
	// found: the client's working directory when the command runs in the
	// service for it; empty, the process's own.
	Dir string
}

// file is the file a name given on the command line means.
func (s streams) file(name string) string {
	if s.Dir == "" || filepath.IsAbs(name) {
		return name
	}
	return filepath.Join(s.Dir, name)
}

func main() {
	ctx, stop := signalContext()
	err := newRootCmd(streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr, Now: time.Now}).ExecuteContext(ctx)
	stop()
	if msg := errorMessage(err); msg != "" {
		fmt.Fprintln(os.Stderr, "modauth:", msg)
	}
	os.Exit(exitCode(err))
}

// signalContext ends on SIGINT or SIGTERM: a command stops as Ctrl-C
// asks, and the monitor finishes its work in flight and closes the
// database, as systemd's stop asks.
func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

// errorMessage is what the command line prints of err: nothing when the
// command printed its own result and chose its exit code.
func errorMessage(err error) string {
	var es *exitStatus
	if err == nil || errors.As(err, &es) {
		return ""
	}
	return err.Error()
}

// errUsage marks a command line that cannot be run as given.
var errUsage = errors.New("usage")

// exitStatus ends a command with a chosen exit code after it printed its
// own result, as the Nagios check does.
type exitStatus struct{ code int }

func (e *exitStatus) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// exitTryLater (EX_TEMPFAIL): the old client secret is still needed;
// not a failure, a reason for a cron job to try again later.
const exitTryLater = 75

// exitCode is the one place errors become exit codes.
func exitCode(err error) int {
	var es *exitStatus
	var remote *service.RunError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &es):
		return es.code
	case errors.As(err, &remote): // the service mapped it, here, already
		return remote.Code
	case errors.Is(err, errUsage), errors.Is(err, store.ErrNoDatabase):
		return 2
	case errors.Is(err, context.Canceled):
		return 130
	case errors.Is(err, appreg.ErrStillInUse):
		return exitTryLater
	default:
		return 1
	}
}

func newRootCmd(io streams) *cobra.Command {
	return newRootCmdOn(io, &dataDirFlag{now: io.Now})
}

// newRootCmdOn is the command tree on the data directory data: the
// service's runs lend it their open database.
func newRootCmdOn(io streams, data *dataDirFlag) *cobra.Command {
	io.Accessible = new(bool)
	root := &cobra.Command{
		Use:           "modauth",
		Short:         "Move an application's Exchange connection to OAuth 2.0 on Microsoft Entra ID",
		Version:       buildVersion(),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.Args = cobra.NoArgs
	root.RunE = func(cmd *cobra.Command, _ []string) error {
		if c, ok := service.Attach(cmd.Context(), data.dir); ok {
			return attachTerminal(cmd.Context(), io, c) // the service holds the data directory
		}
		db, err := data.create()
		if err != nil {
			return err
		}
		defer db.Close()
		// While the interface holds the database, the headless commands
		// run in it, as they would in the service.
		defer serveCommands(db, data, io)()
		return runTUI(cmd.Context(), io, tui.Options{DB: db, Hosts: store.DefaultHosts, Owner: data.interfaceOwner()})
	}
	root.SetIn(io.In)
	root.SetOut(io.Out)
	root.SetErr(io.Err)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return fmt.Errorf("%w: %w", errUsage, err)
	})
	root.PersistentFlags().StringVar(&data.dir, "data-dir", defaultDataDir(), "where the database and its key file live (env MODAUTH_DATA_DIR)")
	addEtcdFlags(root, data)
	root.PersistentFlags().BoolVar(io.Accessible, "accessible", os.Getenv("ACCESSIBLE") != "", "ask forms line by line, for screen readers (env ACCESSIBLE)")
	root.AddCommand(newDemoCmd(io, data), newCheckCmd(io, data), newReportCmd(io, data), newUsersCmd(io, data, readerGraph(nil, io.Now)), newMonitorCmd(io, data), newSecretCmd(io, data, appGraph(nil, io.Now)), newDoctorCmd(io, data), newStoreCmd(io, data))
	attachToService(root, io, data)
	return root
}

// buildVersion is the -ldflags version, else the module version or VCS
// revision Go recorded in the binary.
func buildVersion() string {
	if version != "" {
		return version
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			return "devel-" + s.Value[:12]
		}
	}
	return "devel"
}
