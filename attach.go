package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/modauth/modauth/service"
	"github.com/modauth/modauth/store"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// attachToService makes each command the service runs (service.Commands)
// run in the service when one owns the data directory: bbolt lets one
// process hold the database, and on a server the monitor always runs.
// Without a service, or in the service itself, the command runs here.
func attachToService(root *cobra.Command, io streams, data *dataDirFlag) {
	var walk func(*cobra.Command)
	walk = func(cmd *cobra.Command) {
		for _, sub := range cmd.Commands() {
			walk(sub)
		}
		local := cmd.RunE
		if local == nil || !service.Allowed(commandPath(cmd)) {
			return
		}
		cmd.RunE = func(cmd *cobra.Command, args []string) error {
			if data.shared != nil {
				return local(cmd, args)
			}
			c, ok := service.Attach(cmd.Context(), data.dir)
			if !ok {
				return local(cmd, args)
			}
			return forward(cmd, args, io, c)
		}
	}
	walk(root)
}

// commandPath is the command's words after "modauth".
func commandPath(cmd *cobra.Command) []string {
	return strings.Fields(cmd.CommandPath())[1:]
}

// forward runs the command in the service and ends as the command would
// have: its output on the streams, its error or exit code.
func forward(cmd *cobra.Command, args []string, io streams, c *service.Client) error {
	req, err := runRequest(cmd, args, io.In)
	if err != nil {
		return err
	}
	code, err := c.Run(cmd.Context(), req, io.Out, io.Err)
	switch {
	case err != nil:
		return err
	case code != 0:
		return &exitStatus{code: code}
	}
	return nil
}

// runRequest is the command line as the service takes it: the root's own
// flags (--data-dir: the service's is the one) left out, with the working
// directory relative file names are found in, and standard input when
// `users import` reads it ("-").
func runRequest(cmd *cobra.Command, args []string, stdin io.Reader) (service.RunRequest, error) {
	req := service.RunRequest{Command: commandPath(cmd)}
	cmd.Flags().Visit(func(f *pflag.Flag) {
		if cmd.Root().PersistentFlags().Lookup(f.Name) == nil {
			req.Args = append(req.Args, "--"+f.Name+"="+f.Value.String())
		}
	})
	req.Args = append(append(req.Args, "--"), args...)
	wd, err := os.Getwd()
	if err != nil {
		return req, fmt.Errorf("find the working directory: %w", err)
	}
	req.Dir = wd
	if strings.Join(req.Command, " ") == "users import" && slices.Contains(args, "-") {
		in, err := io.ReadAll(io.LimitReader(stdin, service.MaxStdin+1))
		if err != nil {
			return req, fmt.Errorf("read standard input: %w", err)
		}
		if len(in) > service.MaxStdin {
			return req, fmt.Errorf("standard input is over %d MiB: give the file's name instead", service.MaxStdin>>20)
		}
		req.Stdin = in
	}
	return req, nil
}

// serviceRunner runs the commands of clients in the service: the same
// command tree as the command line, on the service's open database, so
// the output and exit code are those the command gives without a
// service.
func serviceRunner(db *store.DB, on *dataDirFlag, now streams) service.RunFunc {
	return func(ctx context.Context, req service.RunRequest, stdout, stderr io.Writer) (int, string) {
		data := &dataDirFlag{now: now.Now, shared: db}
		io := streams{In: bytes.NewReader(req.Stdin), Out: stdout, Err: stderr, Now: now.Now, Dir: req.Dir}
		root := newRootCmdOn(io, data)
		// The command's words, then the service's --data-dir (for messages:
		// the database is the lent one whatever a client sends), then the
		// client's flags and, after "--", its arguments.
		args := append(append(append(append([]string{}, req.Command...), "--data-dir", on.dir), on.etcdArgs()...), req.Args...)
		root.SetArgs(args)
		err := root.ExecuteContext(ctx)
		return exitCode(err), errorMessage(err)
	}
}
